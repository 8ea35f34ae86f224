import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { LifeboatError, registerSecret } from '@lifeboat/core';

/**
 * libpq's SSL settings, as every PostgreSQL tool reads them: a connection string's `sslmode`,
 * `sslrootcert`, `sslcert`, `sslkey`, `sslcrl`, `sslpassword`, `ssl_min_protocol_version` and
 * `ssl_max_protocol_version`, else `PGSSLMODE`, `PGSSLROOTCERT`, `PGSSLCERT`, `PGSSLKEY`,
 * `PGSSLCRL`, `PGSSLMINPROTOCOLVERSION`, `PGSSLMAXPROTOCOLVERSION`, else the files libpq looks
 * for in `~/.postgresql/` (root.crt, root.crl, postgresql.crt, postgresql.key). `pg` reads
 * PGSSLMODE only, treats require as verify-full and reads no certificate file.
 */
export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const MODES: readonly SslMode[] = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
];

/** How the connection uses TLS, and what messages name when it fails. */
export interface SslPolicy {
  mode: SslMode;
  /** Passed to `pg` when TLS is tried; absent for disable. */
  options?: ConnectionOptions;
  /** Whether the server's certificate is checked (chain; `hostname` too for verify-full). */
  verify: 'none' | 'chain' | 'full';
  /** The root certificates used, as the user named them: `PGSSLROOTCERT (/etc/ca.pem)`. */
  rootCert?: string;
  /** Where the mode came from: `PGSSLMODE`, `sslmode in the connection string`, or libpq's default. */
  modeFrom: string;
}

type Params = Record<string, string | undefined>;

const PARAMS = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  sslcrl: 'PGSSLCRL',
  ssl_min_protocol_version: 'PGSSLMINPROTOCOLVERSION',
  ssl_max_protocol_version: 'PGSSLMAXPROTOCOLVERSION',
} as const;
type Param = keyof typeof PARAMS | 'sslpassword';

/** The URL parameters this module reads (the rest of a URL goes to `pg` as before). */
export const SSL_URL_PARAMS: readonly string[] = [
  ...Object.keys(PARAMS),
  'sslpassword',
  'uselibpqcompat',
];

const TLS_VERSIONS: Record<string, ConnectionOptions['minVersion']> = {
  TLSv1: 'TLSv1',
  'TLSv1.1': 'TLSv1.1',
  'TLSv1.2': 'TLSv1.2',
  'TLSv1.3': 'TLSv1.3',
};

/** The trusted roots of the system, for sslrootcert=system (libpq: OpenSSL's default store). */
function systemRoots(env: NodeJS.ProcessEnv): string[] | undefined {
  // node:tls is loaded only here and by pg once a server accepts SSL: loading it costs every
  // command 3-9 ms of start-up (issue 16), and most connections to a local server use none.
  const tls = createRequire(import.meta.url)('node:tls') as {
    getCACertificates?: (kind: string) => string[];
  };
  const fromNode = tls.getCACertificates;
  if (fromNode) return fromNode('system');
  for (const file of [
    env.SSL_CERT_FILE,
    '/etc/ssl/certs/ca-certificates.crt',
    '/etc/pki/tls/certs/ca-bundle.crt',
    '/etc/ssl/cert.pem',
  ]) {
    if (file && existsSync(file)) return [readFileSync(file, 'utf8')];
  }
  return undefined; // Node's own roots
}

/**
 * Resolves libpq's SSL behaviour from a connection string's parameters (`url`), the environment
 * and the files in `~/.postgresql/`. Relative paths are the process's, as libpq reads them.
 */
export function resolveSsl(
  url: Params,
  env: NodeJS.ProcessEnv = process.env,
  home: string = homedir(),
): SslPolicy {
  const from = (name: Param): { value: string; label: string } | undefined => {
    const inUrl = url[name];
    if (inUrl !== undefined && inUrl !== '')
      return { value: inUrl, label: `${name} in the connection string` };
    if (name === 'sslpassword') return undefined;
    const variable = PARAMS[name];
    const inEnv = env[variable];
    if (inEnv !== undefined && inEnv !== '') return { value: inEnv, label: variable };
    return undefined;
  };
  const invalid = (label: string, message: string) =>
    new LifeboatError('CONFIG_INVALID', `${label}: ${message}`, {
      hint: 'Fix the SSL setting named above (libpq reads the same names).',
    });

  const rootSetting = from('sslrootcert');
  const system = rootSetting?.value === 'system';
  const modeSetting = from('sslmode');
  let mode: SslMode;
  let modeFrom: string;
  if (modeSetting) {
    // `no-verify` is pg's own word for require without a certificate check.
    const value = modeSetting.value === 'no-verify' ? 'require' : modeSetting.value;
    if (!(MODES as readonly string[]).includes(value)) {
      throw invalid(
        modeSetting.label,
        `"${modeSetting.value}" is not an SSL mode; expected ${MODES.join(', ')}`,
      );
    }
    mode = value as SslMode;
    modeFrom = `${modeSetting.label}=${modeSetting.value}`;
  } else if (url.ssl === 'true' || url.ssl === '1') {
    // pg's `ssl=true`: TLS with the certificate checked against the trusted roots.
    mode = 'verify-full';
    modeFrom = 'ssl=true in the connection string';
  } else if (url.ssl === 'false' || url.ssl === '0') {
    mode = 'disable';
    modeFrom = 'ssl=false in the connection string';
  } else {
    mode = system ? 'verify-full' : 'prefer';
    modeFrom = system ? `${rootSetting!.label}=system` : "libpq's default (prefer)";
  }
  if (system && mode !== 'verify-full') {
    throw invalid(
      modeSetting?.label ?? 'sslmode',
      `weak sslmode "${mode}" may not be used with ${rootSetting!.label}=system (use "verify-full")`,
    );
  }
  if (mode === 'disable') return { mode, verify: 'none', modeFrom };

  const options: ConnectionOptions = {};
  const postgresql = join(home, '.postgresql');
  let verify: SslPolicy['verify'] = 'none';
  let rootCert: string | undefined;
  if (system) {
    const roots = systemRoots(env);
    if (roots) options.ca = roots;
    verify = 'full';
    rootCert = `${rootSetting!.label}=system`;
  } else {
    const path = rootSetting ? resolve(rootSetting.value) : join(postgresql, 'root.crt');
    const label = rootSetting ? `${rootSetting.label} (${path})` : path;
    if (existsSync(path)) {
      options.ca = readFileSync(path, 'utf8');
      // As libpq: a root certificate, once there, is used even by require and prefer.
      verify = mode === 'verify-full' ? 'full' : 'chain';
      rootCert = label;
      const crl = from('sslcrl');
      const crlPath = crl ? resolve(crl.value) : join(postgresql, 'root.crl');
      if (existsSync(crlPath)) options.crl = readFileSync(crlPath, 'utf8');
    } else if (mode === 'verify-ca' || mode === 'verify-full') {
      throw new LifeboatError(
        'CONFIG_INVALID',
        `${modeFrom} checks the server's certificate, but the root certificate file ${label} does not exist`,
        {
          hint: `Set PGSSLROOTCERT (or sslrootcert in the URL) to the CA certificate that signed the server's, use the system's trusted roots with sslrootcert=system, or choose sslmode=require to encrypt without checking the certificate.`,
        },
      );
    }
  }
  if (verify === 'none') options.rejectUnauthorized = false;
  else {
    options.rejectUnauthorized = true;
    // verify-ca: the chain only, whatever names the certificate holds.
    if (verify === 'chain') options.checkServerIdentity = () => undefined;
  }

  // A client certificate, when its file is there (sslcert, else ~/.postgresql/postgresql.crt).
  const certSetting = from('sslcert');
  const certPath = certSetting ? resolve(certSetting.value) : join(postgresql, 'postgresql.crt');
  if (existsSync(certPath)) {
    const keySetting = from('sslkey');
    const keyPath = keySetting ? resolve(keySetting.value) : join(postgresql, 'postgresql.key');
    const keyLabel = keySetting ? `${keySetting.label} (${keyPath})` : keyPath;
    if (!existsSync(keyPath)) {
      throw invalid(
        keySetting?.label ?? certSetting?.label ?? 'sslkey',
        `certificate ${certPath} is present, but not the private key file ${keyLabel}`,
      );
    }
    const st = statSync(keyPath);
    const uid = process.getuid?.();
    // libpq refuses a key others can read: 0600 or less if the user's, 0640 if root's.
    if ((st.uid === uid && (st.mode & 0o077) !== 0) || (st.uid === 0 && (st.mode & 0o037) !== 0)) {
      throw invalid(
        keySetting?.label ?? 'sslkey',
        `private key file ${keyPath} has group or world access; it must have permissions u=rw (0600) or less if owned by the current user, or u=rw,g=r (0640) or less if owned by root`,
      );
    }
    options.cert = readFileSync(certPath, 'utf8');
    options.key = readFileSync(keyPath, 'utf8');
    const password = from('sslpassword');
    if (password) {
      registerSecret(password.value);
      options.passphrase = password.value;
    }
  }

  for (const [param, key] of [
    ['ssl_min_protocol_version', 'minVersion'],
    ['ssl_max_protocol_version', 'maxVersion'],
  ] as const) {
    const setting = from(param);
    if (!setting) continue;
    const version = TLS_VERSIONS[setting.value];
    if (!version) {
      throw invalid(
        setting.label,
        `"${setting.value}" is not a TLS version; expected ${Object.keys(TLS_VERSIONS).join(', ')}`,
      );
    }
    options[key] = version;
  }
  return { mode, options, verify, modeFrom, ...(rootCert ? { rootCert } : {}) };
}

/** Errors of a TLS handshake whose cause is the server's certificate. */
const CERTIFICATE_CODES = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null
    ? (error as { code?: unknown }).code?.toString()
    : undefined;

/** The server answered `N` to the SSL request. */
export const isSslRefused = (error: unknown): boolean =>
  error instanceof Error && /does not support SSL/i.test(error.message);

/** A failure of the TLS layer itself (handshake, certificate), not of the server or network. */
export function isTlsFailure(error: unknown): boolean {
  const code = codeOf(error);
  if (code && (CERTIFICATE_CODES.has(code) || /^ERR_(SSL|TLS)_/.test(code))) return true;
  return (
    error instanceof Error &&
    /error establishing an SSL connection|certificate|SSL routines/i.test(error.message)
  );
}

/**
 * DATABASE_TLS_FAILED for a refused SSL request or a failed handshake: says which setting asked
 * for TLS and which root certificate the server's was checked against.
 */
export function tlsError(error: unknown, policy: SslPolicy, where: string): LifeboatError {
  const code = codeOf(error);
  const reason = error instanceof Error ? error.message : String(error);
  if (isSslRefused(error)) {
    return new LifeboatError(
      'DATABASE_TLS_FAILED',
      `The server (${where}) does not accept SSL connections, which ${policy.modeFrom} requires`,
      {
        cause: error,
        hint: 'Turn ssl on in the server, or choose sslmode=prefer (or disable) to connect without SSL.',
      },
    );
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new LifeboatError(
      'DATABASE_TLS_FAILED',
      `The server's certificate (${where}) is not for the host name connected to (${policy.modeFrom} checks it): ${reason}`,
      {
        cause: error,
        hint: 'Connect by a name the certificate holds (its subjectAltName or CN), or choose sslmode=verify-ca to check the signature only.',
      },
    );
  }
  if (code && CERTIFICATE_CODES.has(code)) {
    const against = policy.rootCert ?? "Node's trusted roots";
    return new LifeboatError(
      'DATABASE_TLS_FAILED',
      `The server's certificate (${where}) could not be verified against ${against} (${policy.modeFrom}): ${reason} (${code})`,
      {
        cause: error,
        hint: `Point ${policy.rootCert?.startsWith('sslrootcert') ? 'sslrootcert' : 'PGSSLROOTCERT'} at the CA certificate that signed the server's certificate, or choose sslmode=require to encrypt without checking it.`,
      },
    );
  }
  return new LifeboatError(
    'DATABASE_TLS_FAILED',
    `The SSL connection to the server (${where}) failed (${policy.modeFrom}): ${reason}${code ? ` (${code})` : ''}`,
    { cause: error, hint: 'Check the SSL settings of the server and of the connection.' },
  );
}
