import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import {
  abortableSleep,
  type HealthCheck,
  hostHint,
  isAbortError,
  LifeboatError,
  type NotificationEvent,
  type Notifier,
  parseOptions,
  redact,
  registerSecret,
  TOOL_VERSION,
} from '@lifeboat/core';
import nodemailer, {
  type NodemailerError,
  type SendMailOptions,
  type Transporter,
} from 'nodemailer';
import {
  type ResolvedSmtpNotifierOptions,
  type SmtpNotifierOptions,
  smtpNotifierOptionsSchema,
} from './options.js';
import { type AttachmentPlan, formatBytes, renderMessage } from './render.js';
import { backoffDelay, classifySmtpError, type Failure, reasonOf } from './smtp-errors.js';

/** How each event is named in error messages ("the failure e-mail could not be sent"). */
const KIND_NAMES = {
  'backup:succeeded': 'success',
  'backup:failed': 'failure',
  'health:alert': 'health alert',
  test: 'test',
} as const satisfies Record<NotificationEvent['kind'], string>;

export function smtpNotifier(input: SmtpNotifierOptions) {
  const options: ResolvedSmtpNotifierOptions = parseOptions(
    smtpNotifierOptionsSchema,
    input,
    'smtp',
  );
  const server = `${options.host}:${options.port}`;
  registerSecret(options.pass);
  // The password can leak in encoded forms too (AUTH PLAIN and LOGIN send base64), so those are
  // hidden as well wherever an SMTP error is turned into text.
  const secrets = options.pass
    ? [
        options.pass,
        Buffer.from(options.pass).toString('base64'),
        Buffer.from(`\u0000${options.user ?? ''}\u0000${options.pass}`).toString('base64'),
      ]
    : [];
  const clean = (text: string) => redact(text, secrets);

  let transporter: Transporter | undefined;
  // Lazy: constructing the notifier (at config time, in `lifeboat --help`) never touches the network.
  const transport = (): Transporter =>
    (transporter ??= nodemailer.createTransport({
      host: options.host,
      port: options.port,
      secure: options.secure,
      requireTLS: options.requireTLS,
      ignoreTLS: options.ignoreTLS,
      tls: options.tls,
      auth: options.user ? { user: options.user, pass: options.pass } : undefined,
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      socketTimeout: options.timeoutMs,
      // Messages are built from our own text only; never let content pull in files or URLs.
      disableFileAccess: true,
      disableUrlAccess: true,
    }));

  // The cause keeps nodemailer's fields for debugging, minus anything secret, since hosts log
  // causes too (util.inspect shows them).
  const sanitizedCause = (error: unknown): Error => {
    const e = (error ?? {}) as NodemailerError;
    const copy = new Error(clean(error instanceof Error ? error.message : String(error)));
    copy.name = e.name ?? 'Error';
    Object.assign(copy, {
      ...(e.code ? { code: e.code } : {}),
      ...(e.responseCode ? { responseCode: e.responseCode } : {}),
      ...(e.response ? { response: clean(e.response) } : {}),
      ...(e.command ? { command: clean(e.command) } : {}),
    });
    return copy;
  };

  const aborted = (signal: AbortSignal | undefined, what: string) =>
    new LifeboatError('ABORTED', `The ${what} e-mail was not sent: the operation was aborted`, {
      cause: signal?.reason,
    });

  const planAttachment = (event: NotificationEvent): AttachmentPlan => {
    if (event.kind !== 'backup:succeeded') return { attach: false, reason: 'not a backup' };
    if (!options.attachArchive)
      return { attach: false, reason: 'attaching the archive is turned off (attachArchive)' };
    if (!event.attachment)
      return { attach: false, reason: 'the archive was not offered for attaching' };
    if (event.result.bytes > options.attachMaxBytes) {
      return {
        attach: false,
        reason: `the archive (${formatBytes(event.result.bytes)}) is larger than the attachment limit of ${formatBytes(options.attachMaxBytes)} (attachMaxBytes)`,
      };
    }
    return { attach: true };
  };

  /** Builds one attempt's message; the attachment stream is opened anew, a stream reads only once. */
  const compose = async (
    event: NotificationEvent,
  ): Promise<{ mail: SendMailOptions; stream?: Readable }> => {
    let plan = planAttachment(event);
    let stream: Readable | undefined;
    if (plan.attach && event.kind === 'backup:succeeded' && event.attachment) {
      try {
        stream = await event.attachment();
      } catch (error) {
        // The report matters more than the file: send it without, and say why.
        plan = {
          attach: false,
          reason: `the archive could not be read (${clean(reasonOf(error))})`,
        };
      }
    }
    const message = renderMessage(event, {
      subjectPrefix: options.subjectPrefix,
      attachment: plan,
      hostname: hostname(),
      toolVersion: TOOL_VERSION,
    });
    const mail: SendMailOptions = {
      from: options.from,
      to: options.to,
      subject: clean(message.subject),
      text: clean(message.text),
      html: clean(message.html),
      ...(stream && event.kind === 'backup:succeeded'
        ? { attachments: [{ filename: event.result.file, content: stream }] }
        : {}),
    };
    return { mail, ...(stream ? { stream } : {}) };
  };

  const notifyFailed = (error: unknown, failure: Failure, attempts: number, what: string) => {
    const e = (error ?? {}) as NodemailerError;
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    return new LifeboatError(
      'NOTIFY_FAILED',
      clean(
        `The ${what} e-mail could not be sent through ${server}: ${reasonOf(error, options.timeoutMs)}${tries}. ${failure.hint}`,
      ),
      {
        cause: sanitizedCause(error),
        retryable: failure.retryable,
        hint: failure.hint,
        details: {
          server,
          attempts,
          kind: failure.kind,
          ...(e.code ? { smtpError: e.code } : {}),
          ...(e.responseCode ? { responseCode: e.responseCode } : {}),
        },
      },
    );
  };

  return {
    id: 'smtp' as const,

    describe: () =>
      clean(`smtp ${server}${options.secure ? ' (TLS)' : ''} to ${options.to.join(', ')}`),

    async notify(
      event: NotificationEvent,
      notifyOptions: { signal?: AbortSignal } = {},
    ): Promise<void> {
      const { signal } = notifyOptions;
      const what = KIND_NAMES[event.kind];
      for (let attempt = 1; ; attempt++) {
        if (signal?.aborted) throw aborted(signal, what);
        const { mail, stream } = await compose(event);
        try {
          const info = await transport().sendMail({ ...mail, ...(signal ? { signal } : {}) });
          if (info.rejected && info.rejected.length > 0) {
            // Some recipients got it: sending again would duplicate theirs, so this is not retried.
            throw new LifeboatError(
              'NOTIFY_FAILED',
              clean(
                `The ${what} e-mail was sent through ${server} but refused for ${info.rejected.join(', ')}. Check ${hostHint('smtp:to', 'to')}.`,
              ),
              { retryable: false, details: { server, attempts: attempt, rejected: info.rejected } },
            );
          }
          return;
        } catch (error) {
          if (error instanceof LifeboatError) throw error;
          if (
            signal?.aborted ||
            isAbortError(error) ||
            (error as NodemailerError).code === 'EABORT'
          ) {
            throw aborted(signal, what);
          }
          const failure = classifySmtpError(error);
          if (!failure.retryable || attempt >= options.retries)
            throw notifyFailed(error, failure, attempt, what);
          try {
            await abortableSleep(backoffDelay(attempt, options.retryDelayMs), signal);
          } catch {
            throw aborted(signal, what);
          }
        } finally {
          // A failed attempt may leave the archive stream half read: release the file or socket.
          if (stream && !stream.destroyed) stream.destroy();
        }
      }
    },

    // One name whatever the outcome, also when getting ready fails (core's fallback).
    healthName: 'mail',
    async health(): Promise<HealthCheck[]> {
      try {
        await transport().verify();
        return [
          {
            name: 'mail',
            status: 'ok',
            message: `The mail server ${server} accepts connections${options.user ? ' and the login' : ''}`,
            details: { server },
          },
        ];
      } catch (error) {
        const failure = classifySmtpError(error);
        // A warning, not critical: backups still run and are stored; only the alerts are at risk.
        return [
          {
            name: 'mail',
            status: 'warning',
            message: clean(
              `The mail server ${server} cannot be used: ${reasonOf(error, options.timeoutMs)}. ${failure.hint}`,
            ),
            details: {
              server,
              kind: failure.kind,
              ...((error as NodemailerError)?.code
                ? { smtpError: (error as NodemailerError).code }
                : {}),
            },
          },
        ];
      }
    },

    async close(): Promise<void> {
      transporter?.close();
      transporter = undefined;
    },
  } satisfies Notifier;
}

export type SmtpNotifier = ReturnType<typeof smtpNotifier>;
