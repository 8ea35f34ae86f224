import { engineConfigSchema } from '@lifeboat/core';
import { smtpNotifierOptionsSchema } from '@lifeboat/notifier-smtp';
import { WEBHOOK_PRESETS, webhookNotifierOptionsSchema } from '@lifeboat/notifier-webhook';
import { MAX_JOBS, postgresOptionsSchema } from '@lifeboat/plugin-postgres';
import { SETTINGS, type SettingKey } from '@lifeboat/preset-env';
import { s3StorageOptionsSchema } from '@lifeboat/storage-s3';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';

// A setting validates its value when it is read (all problems at once, named as the user set
// them), before any plugin is loaded; the plugin's own schema parses the options built from it.
// Both must accept the same values, or a setting passes and the plugin refuses it (or the reverse).
const setting = (key: SettingKey, value: unknown) => SETTINGS[key].schema.safeParse(value).success;
const plugin = (schema: z.ZodType, base: Record<string, unknown>, field: string, value: unknown) =>
  schema.safeParse({ ...base, [field]: value }).success;

const cases: {
  key: SettingKey;
  schema: z.ZodType;
  base: Record<string, unknown>;
  field: string;
  values: unknown[];
}[] = [
  {
    key: 'jobs',
    schema: postgresOptionsSchema,
    base: { database: 'app' },
    field: 'jobs',
    values: [0, 1, 2, MAX_JOBS, MAX_JOBS + 1],
  },
  {
    key: 'postgresPort',
    schema: postgresOptionsSchema,
    base: { database: 'app' },
    field: 'port',
    values: [0, 1, 5432, 65535, 65536],
  },
  {
    key: 'backupGlobals',
    schema: postgresOptionsSchema,
    base: { database: 'app' },
    field: 'globals',
    values: ['roles', 'all-roles', 'everything'],
  },
  {
    key: 'webhookPreset',
    schema: webhookNotifierOptionsSchema,
    base: { url: 'https://hooks.example.com/x' },
    field: 'preset',
    values: [...WEBHOOK_PRESETS, 'mattermost'],
  },
  {
    key: 'webhookSecret',
    schema: webhookNotifierOptionsSchema,
    base: { url: 'https://hooks.example.com/x' },
    field: 'secret',
    values: ['1234567', '12345678', 'a-longer-secret'],
  },
  {
    key: 'smtpPort',
    schema: smtpNotifierOptionsSchema,
    base: { host: 'smtp.example.com', from: 'b@example.com', to: ['ops@example.com'] },
    field: 'port',
    values: [0, 25, 465, 587, 65535, 65536],
  },
  {
    key: 's3Bucket',
    schema: s3StorageOptionsSchema,
    base: {},
    field: 'bucket',
    values: ['my-backups', 'backups.2026', 'a b', 'x/y'],
  },
  {
    key: 's3Prefix',
    schema: s3StorageOptionsSchema,
    base: { bucket: 'b' },
    field: 'prefix',
    values: ['nightly', '/a/b/', 'a//b', 'a/../b'],
  },
  {
    key: 's3Endpoint',
    schema: s3StorageOptionsSchema,
    base: { bucket: 'b' },
    field: 'endpoint',
    values: ['http://127.0.0.1:9000', 'https://s3.example.com', 'minio:9000', 'http://k:s@h:9000'],
  },
  {
    key: 'webhookUrl',
    schema: webhookNotifierOptionsSchema,
    base: {},
    field: 'url',
    values: ['https://hooks.example.com/x', 'ftp://hooks.example.com/x', 'hooks.example.com'],
  },
  // The engine's own options, as core's schema has them.
  {
    key: 'compressionLevel',
    schema: engineConfigSchema,
    base: { storage: { id: 'memory' } },
    field: 'compressionLevel',
    values: [0, 1, 4, 9, 10],
  },
  {
    key: 'backupPrefix',
    schema: engineConfigSchema,
    base: { storage: { id: 'memory' } },
    field: 'prefix',
    values: ['critical_backup', 'nightly.db-1', '-x', 'a b', 'x/y'],
  },
];

describe('each setting accepts what its plugin accepts', () => {
  for (const { key, schema, base, field, values } of cases) {
    it(`${SETTINGS[key].env} and the plugin's ${field}`, () => {
      for (const value of values) {
        // Environment values are text; numbers are compared as the plugin receives them.
        const text = typeof value === 'number' ? String(value) : value;
        expect(setting(key, text), `${SETTINGS[key].env}=${String(value)}`).toBe(
          plugin(schema, base, field, value),
        );
      }
    });
  }
});
