import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLifeboatError } from '@lifeboat/core';
import {
  fromEnv,
  resolveSettings,
  SETTINGS,
  type SettingKey,
  settingKeys,
} from '@lifeboat/preset-env';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

/**
 * Every CLI setting, with values it must refuse and the expected form the message must name.
 * A setting added to settings.ts without a row here fails the first test.
 * `env` values come from the environment (strings); `file` values from a JSON config file.
 */
const WHOLE = /whole number/;
const TEXT = /must be text|must not be empty/;
const LIST = /comma list/;
const BOOL = /true or false/;
const INVALID: Record<SettingKey, { env?: string[]; file?: unknown[]; form: RegExp }> = {
  databaseUrl: {
    env: ['not a url'],
    file: ['', 5],
    form: /postgres:\/\/user:password@host:5432\/db|must be text|must not be empty/,
  },
  targetDatabaseUrl: {
    env: ['not a url'],
    file: ['', 5],
    form: /postgres:\/\/user:password@host:5432\/db|must be text|must not be empty/,
  },
  postgresHost: { file: ['', 42], form: TEXT },
  postgresPort: {
    env: ['five', '-1', '0', '70000', '54.3'],
    file: [true, -5],
    form: /whole number|port number from 1 to 65535/,
  },
  postgresUser: { file: ['', {}], form: TEXT },
  postgresPassword: { file: [123, null], form: TEXT },
  postgresDb: { file: ['', []], form: TEXT },
  backupDir: { file: ['', false], form: TEXT },
  backupPrefix: {
    env: ['../etc', 'a b', '-x', 'x/y', 'tab\there'],
    file: ['', 7],
    form: /letters, digits|must be text|must not be empty/,
  },
  backupTables: { file: [42, { a: 1 }, [1, 2]], form: LIST },
  compressionLevel: {
    env: ['0', '10', 'fast', '4.5'],
    file: [0, 12, 'x'],
    form: /digit from 1 to 9|from 1 to 9/,
  },
  backupExcludeTables: { file: [true, [null]], form: LIST },
  backupSchemas: { file: [1, [true]], form: LIST },
  backupExcludeSchemas: { file: [false], form: LIST },
  backupExcludeTableData: { file: [{ a: 1 }], form: LIST },
  backupFilter: { file: ['', 3], form: TEXT },
  backupGlobals: {
    env: ['everyone', 'true'],
    file: [true, 'roles,all-roles'],
    form: /must be roles \(the roles/,
  },
  configFiles: { file: [1], form: LIST },
  sslDir: { file: ['', 1], form: TEXT },
  jobs: { env: ['0', '33', 'two', '1.5'], file: [0, 40, 'x'], form: /whole number|from 1 to 32/ },
  memoryLimit: {
    env: ['lots', '16MiB', '64 parsecs'],
    file: [1024, true, '1KiB'],
    form: /a size such as 64MiB|at least 48MiB/,
  },
  retentionDays: {
    env: ['thirty', '-3', '1.5', '7d', '0'],
    file: [-1, 2.5, 'x', 0],
    form: /whole number|1 or more/,
  },
  keepLast: { env: ['many'], file: [-1], form: WHOLE },
  keepDaily: { env: ['7 days'], file: [1.5], form: WHOLE },
  keepWeekly: { env: ['-1'], file: [false], form: WHOLE },
  keepMonthly: { env: ['12months'], file: ['twelve'], form: WHOLE },
  smtpHost: { file: ['', 25], form: TEXT },
  smtpPort: { env: ['smtp', '99999', '0'], file: [-25], form: /whole number|port number/ },
  smtpUser: { file: [5], form: TEXT },
  smtpPass: { file: [5], form: TEXT },
  smtpFrom: { env: ['backups', 'a'], file: [''], form: /e-mail address|must not be empty/ },
  smtpSecure: { env: ['maybe', 'TRUE!', '2'], file: [3], form: BOOL },
  smtpRequireTls: { env: ['maybe', 'TRUE!', '2'], file: [3], form: BOOL },
  allowIncomplete: { env: ['maybe', 'sometimes'], file: ['y', 2], form: BOOL },
  adminEmail: { file: [7], form: LIST },
  s3Bucket: { file: [''], form: TEXT },
  s3Prefix: { file: [1], form: TEXT },
  s3Region: { file: [''], form: TEXT },
  s3Endpoint: {
    env: ['minio:9000', 'not a url'],
    file: [''],
    form: /must be a URL such as|must not be empty/,
  },
  s3ForcePathStyle: { env: ['sometimes'], file: ['y'], form: BOOL },
  awsAccessKeyId: { file: ['', 1], form: TEXT },
  awsSecretAccessKey: { file: ['', 1], form: TEXT },
  encryptionRecipients: { file: [1], form: LIST },
  encryptionIdentityFile: { file: [''], form: TEXT },
  healthMaxAgeHours: { env: ['a day', '0', '-1'], file: [0], form: /number/ },
  healthMinFreeBytes: { env: ['1GB', '1e9'], file: [-1], form: WHOLE },
  healthMaxDrillAgeDays: { env: ['a month', '0', '-1'], file: [0], form: /number/ },
  logFile: { file: [''], form: TEXT },
  logRetentionDays: { env: ['forever'], file: [-1], form: WHOLE },
  logFormat: { env: ['JSON', 'text'], file: [1, ''], form: /"plain" .* or "json"/ },
  heartbeatUrl: {
    env: ['hc-ping.com/abc', 'ftp://hc.example/9f8e7d6c'],
    file: [1, ''],
    form: /http\(s\) URL such as|must be a URL/,
  },
  heartbeatStyle: { env: ['kuma', 'cronitor'], file: [1], form: /healthchecks or uptime-kuma/ },
  webhookUrl: {
    env: ['hooks.slack.com/services/T1/B2/x', 'mailto:ops@example.com'],
    file: [false],
    form: /http\(s\) URL such as|must be a URL/,
  },
  webhookSecret: { env: ['short'], file: [12345678], form: /at least 8 characters|must be text/ },
  webhookPreset: {
    env: ['teams2', 'irc'],
    file: [true],
    form: /json, slack, discord, teams or ntfy/,
  },
  notifyOn: {
    env: ['failures', 'error,success', ','],
    file: [3],
    form: /takes failure, warning and success|at least one of|comma list/,
  },
  smtpNotifyOn: { env: ['always'], file: [[]], form: /takes failure|at least one of|comma list/ },
  webhookNotifyOn: { env: ['fail'], file: [{}], form: /takes failure|at least one of|comma list/ },
  metricsFile: { file: ['', 1], form: TEXT },
  schedule: {
    env: ['daily', '61 * * * *', '* * * *'],
    file: [2, ''],
    form: /cron expression such as "0 2 \* \* \*"|must be text|must not be empty/,
  },
  healthPort: { env: ['http', '70000', '-1'], file: [1.5], form: /whole number|from 0 to 65535/ },
  healthHost: { file: ['', 1], form: TEXT },
};

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    expect(isLifeboatError(error, 'CONFIG_INVALID'), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected CONFIG_INVALID');
};

describe('every invalid setting is refused naming the variable and the expected form', () => {
  it('has a row for every setting in settings.ts', () => {
    expect(Object.keys(INVALID).sort()).toEqual([...settingKeys].sort());
  });

  const cases = settingKeys.flatMap((key) => [
    ...(INVALID[key].env ?? []).map((value) => ({ key, via: 'env' as const, value })),
    ...(INVALID[key].file ?? []).map((value) => ({ key, via: 'file' as const, value })),
  ]);
  it.each(cases)('$key from $via: $value', ({ key, via, value }) => {
    const name = SETTINGS[key].env;
    const message = refusal(() =>
      resolveSettings(
        via === 'env' ? { env: fromEnv({ [name]: value as string }) } : { file: { [key]: value } },
      ),
    );
    // Named as the user set it: the variable, or the key in the config file.
    expect(message).toContain(via === 'env' ? name : `"${key}"`);
    expect(message).toMatch(INVALID[key].form);
    // Secrets are never echoed back; other values are, so the user sees what was read.
    const secret = 'secret' in SETTINGS[key];
    if (secret && typeof value === 'string' && value.length >= 4)
      expect(message).not.toContain(value);
    if (!secret && typeof value === 'string' && value !== '')
      expect(message).toContain(JSON.stringify(value));
  });

  it('reports every invalid setting at once', () => {
    const message = refusal(() =>
      resolveSettings({
        env: fromEnv({ BACKUP_RETENTION_DAYS: 'x', SMTP_PORT: 'y', SMTP_SECURE: 'z' }),
      }),
    );
    for (const name of ['BACKUP_RETENTION_DAYS', 'SMTP_PORT', 'SMTP_SECURE'])
      expect(message).toContain(name);
  });

  it('valid values of the same settings are accepted', () => {
    const s = resolveSettings({
      env: fromEnv({
        POSTGRES_PORT: '5432',
        SMTP_SECURE: 'yes',
        BACKUP_TABLES: 'users, shop.orders',
        HEALTH_MAX_AGE_HOURS: '1.5',
        S3_ENDPOINT: 'http://127.0.0.1:9000',
        SMTP_FROM: 'b@example.com',
        BACKUP_PREFIX: 'nightly.db-1',
      }),
    });
    expect(s).toMatchObject({
      postgresPort: 5432,
      smtpSecure: true,
      backupTables: ['users', 'shop.orders'],
      healthMaxAgeHours: 1.5,
      backupPrefix: 'nightly.db-1',
    });
  });
});

describe('a DATABASE_URL with a password is never echoed back', () => {
  const password = 'Url-Pa55word-never-shown';
  const bad = [
    `postgres://app:${password}@db:notaport/app`,
    `postgres://app:${password}@[::1/app`,
    `app:${password}@db/app`,
    `postgres://app:${encodeURIComponent(`${password}%`)}@db:5432/app`,
  ];
  it.each(bad)('in the error for %s', (url) => {
    let message = '';
    try {
      resolveSettings({ env: fromEnv({ DATABASE_URL: url }) });
    } catch (error) {
      message = (error as Error).message;
    }
    if (message) {
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('postgres://user:password@host:5432/db');
    }
    expect(message).not.toContain(password);
  });

  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'lifeboat-cfg-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('nor by the CLI, from the environment, a _FILE or a config file (with and without --json)', async () => {
    const urlFile = join(work, 'url');
    await writeFile(urlFile, `postgres://app:${password}@db:notaport/app\n`);
    const config = join(work, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ databaseUrl: `postgres://app:${password}@db:port/x`, retentionDays: 'x' }),
    );
    const runs = [
      await runCli(['list'], {
        DATABASE_URL: `postgres://app:${password}@db:notaport/app`,
        BACKUP_DIR: work,
      }),
      await runCli(['backup', '--json'], { DATABASE_URL_FILE: urlFile, BACKUP_DIR: work }),
      await runCli(['--config', config, 'status', '--json'], {}),
      await runCli(['health'], {
        DATABASE_URL: `postgres://app:${password}@db:notaport/app`,
        BACKUP_DIR: work,
        BACKUP_RETENTION_DAYS: 'soon',
      }),
    ];
    for (const [i, r] of runs.entries()) {
      // Bad settings are usage errors: exit 2, and 3 (UNKNOWN) for health, as Nagios plugins do.
      expect(r.code).toBe(i === 3 ? 3 : 2);
      expect(r.stderr).toContain('CONFIG_INVALID');
      expect(`${r.stdout}${r.stderr}`).not.toContain(password);
    }
    expect(runs[0]!.stderr).toContain('DATABASE_URL');
    expect(JSON.parse(runs[1]!.stdout).error.code).toBe('CONFIG_INVALID');
    expect(runs[3]!.stderr).toContain('BACKUP_RETENTION_DAYS');
  });
});
