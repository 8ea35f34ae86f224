import {
  type BackupResult,
  type HealthCheck,
  hostHint,
  type NotificationEvent,
} from '@lifeboat/core';

/**
 * Turns a notification event into a subject, a plain-text body and an HTML body. Pure functions
 * (no I/O, no clock) so that every message can be checked without a mail server.
 */

/** What became of the archive attachment, said in the body so nobody hunts for a missing file. */
export type AttachmentPlan = { attach: true } | { attach: false; reason: string };

/** Verification data a host may add to the result; `BackupResult` itself has none yet. */
export interface VerificationSummary {
  ok: boolean;
  deep?: boolean;
  problems?: { code: string; message: string }[];
}

export interface RenderContext {
  subjectPrefix: string;
  /** Only used for `backup:succeeded`. */
  attachment?: AttachmentPlan;
  /** Which machine sent it: several hosts often report to the same mailbox. */
  hostname?: string;
  toolVersion?: string;
}

export interface RenderedMessage {
  subject: string;
  text: string;
  html: string;
}

const number = new Intl.NumberFormat('en-US');

export function escapeHtml(value: unknown): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h} h ${m} min` : `${m} min ${s} s`;
}

// A subject is one header line: a CR/LF from an error message must not start a new header.
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ').trim();

export function renderMessage(event: NotificationEvent, ctx: RenderContext): RenderedMessage {
  const doc = buildDocument(event, ctx);
  const prefix = ctx.subjectPrefix ? `${ctx.subjectPrefix} ` : '';
  const footer = `Sent by Lifeboat${ctx.toolVersion ? ` ${ctx.toolVersion}` : ''}${ctx.hostname ? ` on ${ctx.hostname}` : ''}.`;
  return {
    subject: oneLine(prefix + doc.subject),
    text: toText(doc, footer),
    html: toHtml(doc, footer),
  };
}

/* ------------------------------------------------------------- document model */

// Each message is built once as a small document, then printed twice (text and HTML), so the
// two bodies can never disagree.
type Block =
  | { kind: 'fields'; rows: [string, string][] }
  | { kind: 'table'; title: string; head: string[]; rows: string[][]; align?: ('left' | 'right')[] }
  | { kind: 'list'; title: string; items: string[] }
  | { kind: 'para'; text: string };

interface Doc {
  subject: string;
  heading: string;
  tone: 'ok' | 'warning' | 'critical' | 'info';
  blocks: Block[];
}

function buildDocument(event: NotificationEvent, ctx: RenderContext): Doc {
  switch (event.kind) {
    case 'backup:succeeded':
      return successDoc(
        event.result,
        ctx.attachment ?? { attach: false, reason: 'attaching is turned off' },
      );
    case 'backup:failed':
      return {
        subject: `FAILURE: backup failed (${event.error.code})`,
        heading: 'Backup FAILED',
        tone: 'critical',
        blocks: [
          {
            kind: 'fields',
            rows: [
              ['Error code', event.error.code],
              ['Error', event.error.message],
              ['What to do', event.error.hint],
              ['Failed at', event.at.toISOString()],
              ['Storage', event.storage],
            ],
          },
          { kind: 'para', text: 'No new archive was stored. The previous archives are untouched.' },
        ],
      };
    case 'health:alert': {
      const { report } = event;
      const bad = report.checks.filter((c) => c.status !== 'ok');
      return {
        subject: `HEALTH ${report.status}: ${bad.length} of ${report.checks.length} checks need attention`,
        heading: `Health ${report.status}`,
        tone:
          report.status === 'CRITICAL'
            ? 'critical'
            : report.status === 'WARNING'
              ? 'warning'
              : 'ok',
        blocks: [
          {
            kind: 'fields',
            rows: [
              ['Status', report.status],
              ['Checked at', report.checkedAt],
            ],
          },
          {
            kind: 'table',
            title: 'Checks',
            head: ['Check', 'Status', 'Message'],
            rows: report.checks.map((c: HealthCheck) => [
              c.name,
              c.status.toUpperCase(),
              c.message,
            ]),
          },
        ],
      };
    }
    case 'test':
      return {
        subject: 'TEST: notification test message',
        heading: 'Test message',
        tone: 'info',
        blocks: [
          {
            kind: 'para',
            text: 'This is a test message from Lifeboat. If you can read it, backup notifications reach this mailbox.',
          },
          { kind: 'fields', rows: [['Sent at', event.at.toISOString()]] },
        ],
      };
  }
}

function successDoc(result: BackupResult, attachment: AttachmentPlan): Doc {
  const verification = (result as BackupResult & { verification?: VerificationSummary })
    .verification;
  const totalRows = result.tables.reduce((sum, t) => sum + t.rows, 0);
  const fields: [string, string][] = [
    ['Archive', result.file],
    ['Size', `${formatBytes(result.bytes)} (${number.format(result.bytes)} bytes)`],
    ['Duration', formatDuration(result.durationMs)],
    ['Created at', result.createdAt],
    ['Stored in', result.storage],
    ['Encrypted', result.encrypted ? 'yes' : 'NO (archive is not encrypted)'],
    ['Tables', `${number.format(result.tables.length)} (${number.format(totalRows)} rows)`],
    ['Files', number.format(result.files)],
    ['SHA-256', result.sha256],
  ];
  if (verification) {
    const how = verification.deep ? 'deep' : 'quick';
    const problems = verification.problems?.length ?? 0;
    fields.push([
      'Verification',
      verification.ok
        ? `passed (${how})`
        : `FAILED (${how}, ${problems} problem${problems === 1 ? '' : 's'})`,
    ]);
  }
  if (result.pruned.length > 0)
    fields.push(['Old archives removed', number.format(result.pruned.length)]);
  fields.push([
    'Attachment',
    attachment.attach ? `${result.file} is attached` : `not attached: ${attachment.reason}`,
  ]);

  const blocks: Block[] = [{ kind: 'fields', rows: fields }];
  if (result.tables.length > 0) {
    blocks.push({
      kind: 'table',
      title: 'Tables',
      head: ['Table', 'Rows'],
      rows: result.tables.map((t) => [t.name, number.format(t.rows)]),
      align: ['left', 'right'],
    });
  }
  if (verification && !verification.ok && verification.problems?.length) {
    blocks.push({
      kind: 'list',
      title: 'Verification problems',
      items: verification.problems.map((p) => `${p.code}: ${p.message}`),
    });
  }
  if (result.incomplete?.length) {
    blocks.push({
      kind: 'list',
      title: `Not in this backup (${hostHint('engine:allowIncomplete', 'allowIncomplete')} is set)`,
      items: result.incomplete.map((o) => `${o.kind} ${o.name}: ${o.reason}`),
    });
  }
  if (result.warnings.length > 0) {
    blocks.push({
      kind: 'list',
      title: 'Warnings',
      items: result.warnings.map((w) => `${w.code}: ${w.message}`),
    });
  }
  if (result.pruned.length > 0)
    blocks.push({ kind: 'list', title: 'Removed by retention', items: result.pruned });

  const failedCheck = verification && !verification.ok;
  return {
    subject: `SUCCESS: backup ${result.file} (${formatBytes(result.bytes)})${result.incomplete?.length ? `, INCOMPLETE: ${result.incomplete.length} object(s) left out` : ''}${failedCheck ? ', verification FAILED' : ''}`,
    heading: 'Backup succeeded',
    tone: failedCheck || result.warnings.length > 0 ? 'warning' : 'ok',
    blocks,
  };
}

/* ------------------------------------------------------------------- printers */

function toText(doc: Doc, footer: string): string {
  const out: string[] = [doc.heading, '='.repeat(doc.heading.length), ''];
  for (const block of doc.blocks) {
    if (block.kind === 'fields') {
      const width = Math.max(...block.rows.map(([k]) => k.length)) + 1;
      for (const [k, v] of block.rows) out.push(`${`${k}:`.padEnd(width)} ${v}`);
    } else if (block.kind === 'table') {
      out.push(block.title, '-'.repeat(block.title.length));
      const widths = block.head.map((h, i) =>
        Math.max(h.length, ...block.rows.map((r) => (r[i] ?? '').length)),
      );
      const line = (cells: string[]) =>
        cells
          .map((c, i) =>
            block.align?.[i] === 'right' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!),
          )
          .join('  ')
          .trimEnd();
      out.push(line(block.head), ...block.rows.map(line));
    } else if (block.kind === 'list') {
      out.push(block.title, '-'.repeat(block.title.length), ...block.items.map((i) => `- ${i}`));
    } else {
      out.push(block.text);
    }
    out.push('');
  }
  out.push('-- ', footer, '');
  return out.join('\n');
}

const colors = { ok: '#1a7f37', warning: '#9a6700', critical: '#cf222e', info: '#0969da' } as const;
const cell = 'padding:4px 10px;border:1px solid #d0d7de;text-align:left;vertical-align:top';

function toHtml(doc: Doc, footer: string): string {
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>${escapeHtml(doc.subject)}</title></head>`,
    '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;font-size:14px;color:#1f2328">',
    `<h2 style="color:${colors[doc.tone]}">${escapeHtml(doc.heading)}</h2>`,
  ];
  for (const block of doc.blocks) {
    if (block.kind === 'fields') {
      parts.push('<table style="border-collapse:collapse">');
      for (const [k, v] of block.rows) {
        parts.push(
          `<tr><th style="${cell};background:#f6f8fa">${escapeHtml(k)}</th><td style="${cell}">${escapeHtml(v)}</td></tr>`,
        );
      }
      parts.push('</table>');
    } else if (block.kind === 'table') {
      const td = (c: string, i: number, tag: 'td' | 'th') =>
        `<${tag} style="${cell}${block.align?.[i] === 'right' ? ';text-align:right' : ''}">${escapeHtml(c)}</${tag}>`;
      parts.push(
        `<h3>${escapeHtml(block.title)}</h3>`,
        '<table style="border-collapse:collapse">',
        `<thead><tr>${block.head.map((h, i) => td(h, i, 'th')).join('')}</tr></thead><tbody>`,
        ...block.rows.map((r) => `<tr>${r.map((c, i) => td(c, i, 'td')).join('')}</tr>`),
        '</tbody></table>',
      );
    } else if (block.kind === 'list') {
      parts.push(
        `<h3>${escapeHtml(block.title)}</h3>`,
        `<ul>${block.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`,
      );
    } else {
      parts.push(`<p>${escapeHtml(block.text)}</p>`);
    }
  }
  parts.push(
    `<hr><p style="color:#656d76;font-size:12px">${escapeHtml(footer)}</p>`,
    '</body></html>',
    '',
  );
  return parts.join('\n');
}
