import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LifeboatError, registerSecret } from '@lifeboat/core';
import {
  isSecretSetting,
  SETTINGS,
  type SettingKey,
  type Settings,
  settingKeys,
} from './settings.js';

type Raw = Partial<Record<SettingKey, unknown>>;

const readSecretFile = (path: string, name: string): string => {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: error,
      },
    );
  }
};

/**
 * libpq's variables, read when none of DATABASE_URL / POSTGRES_* is set (as every PostgreSQL tool
 * reads them). PGSSLMODE, PGSSLROOTCERT and friends are read by plugin-postgres's libpq-ssl.ts,
 * PGPASSFILE by the driver.
 */
const LIBPQ: Partial<Record<SettingKey, string>> = {
  postgresHost: 'PGHOST',
  postgresPort: 'PGPORT',
  postgresUser: 'PGUSER',
  postgresPassword: 'PGPASSWORD',
  postgresDb: 'PGDATABASE',
};
const POSTGRES_KEYS: SettingKey[] = [
  'databaseUrl',
  'postgresHost',
  'postgresPort',
  'postgresUser',
  'postgresPassword',
  'postgresDb',
];

/** Which environment variable gave each setting (POSTGRES_PORT, or PGPORT through libpq's names). */
export type SettingLabels = Partial<Record<SettingKey, string>>;

/**
 * Reads every setting from the environment; `NAME_FILE` holds a path to the value (relative to
 * `cwd`). `labels`, when given, is filled with the variable each value came from.
 */
export function fromEnv(env: NodeJS.ProcessEnv, labels: SettingLabels = {}, cwd?: string): Raw {
  const raw: Raw = {};
  for (const key of settingKeys) {
    const name = SETTINGS[key].env;
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && direct !== '') {
      raw[key] = direct;
      labels[key] = name;
    } else if (file) {
      raw[key] = readSecretFile(cwd ? resolve(cwd, file) : file, `${name}_FILE`);
      labels[key] = `${name}_FILE`;
    }
  }
  if (!POSTGRES_KEYS.some((k) => raw[k] !== undefined)) {
    for (const [key, name] of Object.entries(LIBPQ) as [SettingKey, string][]) {
      const value = env[name];
      if (value === undefined || value === '') continue;
      raw[key] = value;
      labels[key] = name;
    }
  }
  return raw;
}

/** Reads a JSON config file; unknown keys are errors that name the key and the closest known one. */
export function fromFile(path: string): Raw {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LifeboatError(
      'CONFIG_INVALID',
      code
        ? `--config: cannot read ${path} (${code})`
        : `--config: ${path} is not valid JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    throw new LifeboatError('CONFIG_INVALID', `--config: ${path} must hold a JSON object`);
  }
  const raw: Raw = {};
  const unknown: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === '$schema') continue;
    if (!(key in SETTINGS)) {
      const byEnv = settingKeys.find((k) => SETTINGS[k].env === key);
      const near = byEnv ?? closest(key);
      unknown.push(`unknown setting "${key}"${near ? `; did you mean "${near}"?` : ''}`);
      continue;
    }
    raw[key as SettingKey] = value;
  }
  if (unknown.length > 0) problemsOf.set(raw, unknown);
  return raw;
}

/** Problems found while reading a layer, reported with the values' own (all at once). */
const problemsOf = new WeakMap<Raw, string[]>();

function closest(key: string): SettingKey | undefined {
  const lower = key.toLowerCase();
  let best: SettingKey | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const k of settingKeys) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestScore) {
      bestScore = d;
      best = k;
    }
  }
  return bestScore <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

export interface ResolveOptions {
  /** What the user set, per layer: `BACKUP_RETENTION_DAYS`, `--jobs`, the config file's path. */
  labels?: { env?: SettingLabels; flags?: SettingLabels; file?: string };
  /** Settings whose bad value is a warning and left unset, not an error (retention for `list`). */
  lenient?: readonly SettingKey[];
  /** Called with each ignored lenient problem. */
  onIgnored?: (message: string) => void;
}

/** Connection strings: only their password is a secret, the rest names the database. */
const URL_SETTINGS = ['databaseUrl', 'targetDatabaseUrl'] as const satisfies SettingKey[];

/** Flags win over the environment, which wins over the config file. Every value is validated. */
export function resolveSettings(
  layers: { file?: Raw; env?: Raw; flags?: Raw },
  options: ResolveOptions = {},
): Settings {
  const merged: Raw = { ...layers.file, ...layers.env, ...layers.flags };
  const settings: Record<string, unknown> = {};
  const fileName = options.labels?.file ?? 'the config file';
  const unknown = layers.file ? problemsOf.get(layers.file) : undefined;
  const problems: string[] = unknown?.length ? [`${fileName}: ${unknown.join('; ')}`] : [];
  const labelOf = (key: SettingKey): string => {
    if (layers.flags?.[key] !== undefined) return options.labels?.flags?.[key] ?? `--${key}`;
    if (layers.env?.[key] !== undefined) return options.labels?.env?.[key] ?? SETTINGS[key].env;
    return `"${key}" in ${fileName}`;
  };
  for (const key of settingKeys) {
    const value = merged[key];
    if (value === undefined) continue;
    const parsed = SETTINGS[key].schema.safeParse(value);
    if (!parsed.success) {
      // Named as the user set it; a secret value is never echoed back.
      const label = labelOf(key);
      const message = (parsed.error.issues[0]?.message ?? 'invalid value').replaceAll(
        SETTINGS[key].env,
        label,
      );
      const shown = isSecretSetting(key) ? '' : ` (got ${JSON.stringify(value)})`;
      const problem = `${message.includes(label) ? '' : `${label}: `}${message}${shown}`;
      if (options.lenient?.includes(key)) options.onIgnored?.(problem);
      else problems.push(problem);
      continue;
    }
    settings[key] = parsed.data;
    // A connection string's password is registered below: the rest of it (user, host,
    // database) is what messages must still name.
    if (
      isSecretSetting(key) &&
      !(URL_SETTINGS as readonly SettingKey[]).includes(key) &&
      typeof parsed.data === 'string'
    )
      registerSecret(parsed.data);
  }
  const s = settings as Settings;
  for (const key of URL_SETTINGS) {
    const value = s[key];
    if (!value) continue;
    try {
      const url = new URL(value);
      if (url.password) registerSecret(decodeURIComponent(url.password));
    } catch {
      problems.push(
        `${labelOf(key)}: not a valid URL (expected postgres://user:password@host:5432/db)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `Invalid settings:${problems.length > 1 ? `\n    ${problems.join('\n    ')}` : ` ${problems[0]}`}`,
      { hint: 'Fix the settings named above; `lifeboat --help` lists them all.' },
    );
  }
  return s;
}

/** Settings that name files or folders: relative paths are the user's, not the process's. */
export function resolvePaths(s: Settings, cwd: string): Settings {
  const at = (p: string) => resolve(cwd, p);
  // `?name` marks an optional file; the mark stays in front of the resolved path.
  const optional = (p: string) => (p.startsWith('?') ? `?${at(p.slice(1))}` : at(p));
  return {
    ...s,
    ...(s.backupDir ? { backupDir: at(s.backupDir) } : {}),
    ...(s.sslDir ? { sslDir: optional(s.sslDir) } : {}),
    ...(s.logFile ? { logFile: at(s.logFile) } : {}),
    ...(s.metricsFile ? { metricsFile: at(s.metricsFile) } : {}),
    ...(s.backupFilter ? { backupFilter: at(s.backupFilter) } : {}),
    ...(s.encryptionIdentityFile ? { encryptionIdentityFile: at(s.encryptionIdentityFile) } : {}),
    ...(s.configFiles ? { configFiles: s.configFiles.map(optional) } : {}),
  };
}
