import { hostHint } from '@lifeboat/core';
import { z } from 'zod';
import { portField } from './fields.js';

/** 10 MiB: most mail servers refuse messages of 20-25 MB, and base64 adds a third on top. */
export const DEFAULT_ATTACH_MAX_BYTES = 10 * 1024 * 1024;

// Loose on purpose: "Ops <ops@example.com>" is a valid recipient too; the server has the last word.
const address = z
  .string()
  .trim()
  .refine((v) => /^[^\s@,;]+@[^\s@,;]+$|^[^<>]*<[^\s@<>]+@[^\s@<>]+>$/.test(v), {
    message: 'must be an e-mail address like ops@example.com',
  });

// A comma list as well: a host passing the raw string (the CLI's ADMIN_EMAIL) needs no split.
const recipients = z
  .union([z.string(), z.array(z.string())])
  .transform((v) =>
    (Array.isArray(v) ? v : [v])
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(address).min(1, {
      error: () => `at least one recipient is needed (${hostHint('smtp:to', 'to')})`,
    }),
  );

// Only the TLS settings that make sense for a mail client: a private CA, a self-signed server
// in tests, SNI and a floor on the protocol. Everything else stays nodemailer's default.
const tlsSchema = z
  .object({
    rejectUnauthorized: z.boolean().optional(),
    servername: z.string().min(1).optional(),
    ca: z.union([z.string(), z.array(z.string())]).optional(),
    minVersion: z.enum(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']).optional(),
  })
  .strict();

export const smtpNotifierOptionsSchema = z
  .object({
    host: z
      .string()
      .trim()
      .min(1, { error: () => `the SMTP host is required (${hostHint('smtp:host', 'host')})` }),
    /** 587 by default, 465 when `secure` is set. */
    port: portField.optional(),
    /** TLS from the first byte (SMTPS). Defaults to true on port 465, else STARTTLS is used when offered. */
    secure: z.boolean().optional(),
    user: z.string().min(1).optional(),
    pass: z.string().min(1).optional(),
    from: address,
    to: recipients,
    /**
     * Fail unless the connection is encrypted (SMTPS, or STARTTLS), so credentials and reports
     * never cross the network in clear. On by default when a user is set.
     */
    requireTLS: z.boolean().optional(),
    /** Never upgrade, even when the server offers STARTTLS (broken servers only). */
    ignoreTLS: z.boolean().default(false),
    tls: tlsSchema.optional(),
    attachArchive: z.boolean().default(false),
    attachMaxBytes: z.number().int().nonnegative().default(DEFAULT_ATTACH_MAX_BYTES),
    /** Attempts in all, the first one included. */
    retries: z.number().int().min(1).max(20).default(3),
    /** First backoff delay; doubles on every attempt, with jitter. */
    retryDelayMs: z.number().int().nonnegative().default(1000),
    /** Limit for connecting, the greeting and any silence of the server, per attempt. */
    timeoutMs: z.number().int().positive().default(30_000),
    subjectPrefix: z.string().default('[Lifeboat]'),
  })
  .strict()
  .superRefine((o, ctx) => {
    // Half a login is always a mistake: it would fail at 2 a.m., not now.
    if (o.pass !== undefined && o.user === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['user'],
        message: `a password was given without a user (${hostHint('smtp:user', 'user')})`,
      });
    }
    if (o.user !== undefined && o.pass === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['pass'],
        message: `a user was given without a password (${hostHint('smtp:pass', 'pass')})`,
      });
    }
    if (o.requireTLS && o.ignoreTLS) {
      ctx.addIssue({
        code: 'custom',
        path: ['ignoreTLS'],
        message: 'requireTLS and ignoreTLS exclude each other',
      });
    }
  })
  .transform((o) => {
    // The two defaults depend on each other: port 465 means implicit TLS, and implicit TLS
    // without a port means 465 (what every provider documents, and what nodemailer does).
    const secure = o.secure ?? o.port === 465;
    const port = o.port ?? (secure ? 465 : 587);
    const requireTLS = o.requireTLS ?? (o.user !== undefined && !o.ignoreTLS);
    return { ...o, secure, port, requireTLS };
  });

export type SmtpNotifierOptions = z.input<typeof smtpNotifierOptionsSchema>;
export type ResolvedSmtpNotifierOptions = z.output<typeof smtpNotifierOptionsSchema>;
