import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

/** What the test server saw for one delivered message. */
export interface Received {
  mail: ParsedMail;
  secure: boolean;
  user: unknown;
  mailFrom: string | undefined;
  rcptTo: string[];
}

export interface ServerHooks {
  /** Return an error to refuse a recipient; `n` counts RCPT commands from 1. */
  rcpt?: (address: string, n: number) => Error | undefined;
  /** Return an error to refuse the message after DATA; `n` counts DATA commands from 1. */
  data?: (n: number) => Error | undefined;
}

export interface TestServer {
  port: number;
  received: Received[];
  counts: { connections: number; rcpt: number; data: number; auth: number };
  authMethods: string[];
  close(): Promise<void>;
}

/** An error smtp-server turns into the reply `code message`. */
export function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

/**
 * Starts a real smtp-server on a random port of 127.0.0.1. Every message is parsed with
 * mailparser so tests check what a mail client would show, not what we meant to send.
 */
export async function startSmtpServer(
  options: SMTPServerOptions = {},
  hooks: ServerHooks = {},
): Promise<TestServer> {
  const received: Received[] = [];
  const counts = { connections: 0, rcpt: 0, data: 0, auth: 0 };
  const authMethods: string[] = [];
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    // Plain tests stay plain: the client would otherwise upgrade to smtp-server's built-in cert.
    hideSTARTTLS: !(options.key || options.secure),
    closeTimeout: 200,
    onConnect(_session, callback) {
      counts.connections++;
      callback();
    },
    onRcptTo(address, _session, callback) {
      counts.rcpt++;
      callback(hooks.rcpt?.(address.address, counts.rcpt) ?? null);
    },
    onData(stream, session, callback) {
      counts.data++;
      const n = counts.data;
      // Read the whole message before answering, as smtp-server requires.
      simpleParser(stream)
        .then((mail) => {
          const refusal = hooks.data?.(n);
          if (refusal) return callback(refusal);
          received.push({
            mail,
            secure: session.secure,
            user: session.user,
            mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
            rcptTo: session.envelope.rcptTo.map((r) => r.address),
          });
          callback();
        })
        .catch((error: Error) => callback(error));
    },
    ...options,
    ...(options.onAuth
      ? {
          onAuth(auth, session, callback) {
            counts.auth++;
            authMethods.push(auth.method);
            options.onAuth!(auth, session, callback);
          },
        }
      : {}),
  } satisfies SMTPServerOptions);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    received,
    counts,
    authMethods,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port on which nothing listens: bind, read the number, close. */
export { freePort } from './ports.js';

/** A TCP server that accepts and hangs up at once, counting attempts: a crashing mail server. */
export async function startDroppingServer(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A TCP server that accepts and never says a word: a hung mail server, for the timeouts. */
export async function startSilentServer(): Promise<{
  port: number;
  connections: () => number;
  close(): Promise<void>;
}> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    connections: () => connections,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fresh self-signed certificate for localhost / 127.0.0.1, made with openssl in a temp dir. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-smtp-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Text of an address header as mailparser gives it (one object or a list). */
export function addresses(field: ParsedMail['to']): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => v.address ?? ''));
}
