import {
  type NotificationEvent,
  type NotifyCategory,
  notificationCategory,
  redact,
  redactDeep,
  TOOL_VERSION,
} from '@lifeboat/core';
import type { WebhookPreset } from './options.js';

const bytes = (n: number) => {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  for (; v >= 1024 && i < units.length - 1; i++) v /= 1024;
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
};

/** The message in words: one title line and a few detail lines, secrets removed. */
export interface Message {
  category: NotifyCategory | 'test';
  title: string;
  lines: string[];
}

export function describeEvent(event: NotificationEvent, host: string): Message {
  const category = notificationCategory(event) ?? 'test';
  switch (event.kind) {
    case 'backup:succeeded': {
      const r = event.result;
      const rows = r.tables.reduce((n, t) => n + t.rows, 0);
      return {
        category,
        title: `Backup stored on ${host}: ${r.file} (${bytes(r.bytes)}) in ${(r.durationMs / 1000).toFixed(1)} s${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''}`,
        lines: [
          ...(r.tables.length ? [`${r.tables.length} table(s), ${rows} row(s)`] : []),
          ...(r.files ? [`${r.files} config file(s)`] : []),
          `storage: ${r.storage}${r.encrypted ? ' (encrypted)' : ''}`,
          ...r.warnings.map((w) => `warning ${w.code}: ${w.message}`),
        ],
      };
    }
    case 'backup:failed':
      return {
        category,
        title: `Backup FAILED on ${host}: ${event.error.code}`,
        lines: [
          event.error.message,
          ...(event.error.hint ? [`What to do: ${event.error.hint}`] : []),
          `storage: ${event.storage}`,
        ],
      };
    case 'health:alert':
      return {
        category,
        title: `Backup health ${event.report.status} on ${host}`,
        lines: event.report.checks
          .filter((c) => c.status !== 'ok')
          .map((c) => `${c.name} ${c.status.toUpperCase()}: ${c.message}`),
      };
    case 'test':
      return {
        category,
        title: `Lifeboat test message from ${host}`,
        lines: ['Webhook notifications work.'],
      };
  }
}

/** Lifeboat's own JSON: the event with its data, for receivers that act on it. */
function jsonBody(event: NotificationEvent, message: Message, host: string) {
  const data =
    event.kind === 'backup:succeeded'
      ? { backup: event.result }
      : event.kind === 'backup:failed'
        ? { error: event.error, storage: event.storage }
        : event.kind === 'health:alert'
          ? { health: event.report }
          : {};
  return {
    event: event.kind,
    category: message.category,
    at: new Date().toISOString(),
    host,
    tool: { name: 'lifeboat', version: TOOL_VERSION },
    title: message.title,
    text: message.lines.join('\n'),
    ...data,
  };
}

const EMOJI = { failure: '🔴', warning: '🟠', success: '🟢', test: '🔵' } as const;
const COLOR = { failure: 0xd32f2f, warning: 0xf57c00, success: 0x388e3c, test: 0x1976d2 } as const;
// ntfy priorities: 5 urgent, 4 high, 3 default, 2 low.
const NTFY = {
  failure: { priority: '5', tags: 'rotating_light' },
  warning: { priority: '4', tags: 'warning' },
  success: { priority: '3', tags: 'white_check_mark' },
  test: { priority: '2', tags: 'test_tube' },
} as const;

export interface RenderedRequest {
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

/** The request body (and the preset's own headers) for one event; every string is redacted. */
export function renderRequest(
  event: NotificationEvent,
  preset: WebhookPreset,
  host: string,
): RenderedRequest {
  const raw = describeEvent(event, host);
  const message: Message = {
    category: raw.category,
    title: redact(raw.title),
    lines: raw.lines.map((l) => redact(l)),
  };
  const json = (value: unknown) => ({
    body: JSON.stringify(redactDeep(value)),
    contentType: 'application/json',
    headers: {},
  });
  switch (preset) {
    case 'json':
      return json(jsonBody(event, message, host));
    case 'slack':
      // Incoming webhooks take `text` (mrkdwn); the first line is bold.
      return json({
        text: `${EMOJI[message.category]} *${message.title}*${message.lines.length ? `\n${message.lines.join('\n')}` : ''}`,
      });
    case 'discord':
      // `content` is limited to 2000 characters; the embed carries the colour.
      return json({
        username: 'Lifeboat',
        content: `${EMOJI[message.category]} **${message.title}**`.slice(0, 2000),
        embeds: message.lines.length
          ? [
              {
                description: message.lines.join('\n').slice(0, 4000),
                color: COLOR[message.category],
              },
            ]
          : [],
      });
    case 'teams':
      // An Adaptive Card, what Teams' Workflows webhooks (and the older connectors) accept.
      return json({
        type: 'message',
        attachments: [
          {
            contentType: 'application/vnd.microsoft.card.adaptive',
            contentUrl: null,
            content: {
              $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
              type: 'AdaptiveCard',
              version: '1.4',
              body: [
                {
                  type: 'TextBlock',
                  text: `${EMOJI[message.category]} ${message.title}`,
                  weight: 'Bolder',
                  wrap: true,
                  color:
                    message.category === 'failure'
                      ? 'Attention'
                      : message.category === 'warning'
                        ? 'Warning'
                        : 'Good',
                },
                ...message.lines.map((line) => ({ type: 'TextBlock', text: line, wrap: true })),
              ],
            },
          },
        ],
      });
    case 'ntfy':
      // ntfy publishes the body as the message; title, priority and tags go in headers
      // (header values must be Latin-1: the title is sent RFC 2047-encoded when it is not).
      return {
        body: message.lines.join('\n') || message.title,
        contentType: 'text/plain; charset=utf-8',
        headers: {
          title: /^[\x20-\x7e]*$/.test(message.title)
            ? message.title
            : `=?UTF-8?B?${Buffer.from(message.title).toString('base64')}?=`,
          priority: NTFY[message.category].priority,
          tags: NTFY[message.category].tags,
        },
      };
  }
}
