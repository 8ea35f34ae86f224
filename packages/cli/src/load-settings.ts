import { readFileSync } from 'node:fs';
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

/** Reads every setting from the environment; `NAME_FILE` holds a path to the value. */
export function fromEnv(env: NodeJS.ProcessEnv): Raw {
  const raw: Raw = {};
  for (const key of settingKeys) {
    const name = SETTINGS[key].env;
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && direct !== '') raw[key] = direct;
    else if (file) raw[key] = readSecretFile(file, `${name}_FILE`);
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
  for (const [key, value] of Object.entries(json)) {
    if (key === '$schema') continue;
    if (!(key in SETTINGS)) {
      const byEnv = settingKeys.find((k) => SETTINGS[k].env === key);
      const near = byEnv ?? closest(key);
      throw new LifeboatError(
        'CONFIG_INVALID',
        `--config: unknown setting "${key}" in ${path}${near ? `; did you mean "${near}"?` : ''}`,
      );
    }
    raw[key as SettingKey] = value;
  }
  return raw;
}

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

/** Flags win over the environment, which wins over the config file. Every value is validated. */
export function resolveSettings(layers: { file?: Raw; env?: Raw; flags?: Raw }): Settings {
  const merged: Raw = { ...layers.file, ...layers.env, ...layers.flags };
  const settings: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const key of settingKeys) {
    const value = merged[key];
    if (value === undefined) continue;
    const parsed = SETTINGS[key].schema.safeParse(value);
    if (!parsed.success) {
      // Never echo a secret value back.
      const shown = isSecretSetting(key) ? '' : ` (got ${JSON.stringify(value)})`;
      problems.push(
        `${SETTINGS[key].env} / "${key}": ${parsed.error.issues[0]?.message ?? 'invalid'}${shown}`,
      );
      continue;
    }
    settings[key] = parsed.data;
    if (isSecretSetting(key) && typeof parsed.data === 'string') registerSecret(parsed.data);
  }
  if (problems.length > 0) {
    throw new LifeboatError('CONFIG_INVALID', `Invalid settings: ${problems.join('; ')}`);
  }
  const s = settings as Settings;
  if (s.databaseUrl) {
    try {
      const url = new URL(s.databaseUrl);
      if (url.password) registerSecret(decodeURIComponent(url.password));
    } catch {
      throw new LifeboatError(
        'CONFIG_INVALID',
        'Invalid settings: DATABASE_URL / "databaseUrl": not a valid URL (expected postgres://user:password@host:5432/db)',
      );
    }
  }
  return s;
}
