import { audit } from '@lifeboat/core';
import { monitoringEndpoints } from '@lifeboat/preset-env';
import type { CommandContext } from '../context.js';
import { table } from '../io.js';

export async function auditCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  const s = ctx.settings;
  const secrets = [
    s.postgresPassword,
    s.smtpPass,
    s.awsSecretAccessKey,
    s.databaseUrl,
    s.webhookSecret,
    s.webhookUrl,
    s.heartbeatUrl,
  ].filter((x): x is string => Boolean(x));
  const findings = await audit(engine.context, {
    ...(!s.s3Bucket ? { localDir: engine.context.storage.describe() } : {}),
    ...(s.logFile ? { logFiles: [s.logFile] } : {}),
    secrets,
    endpoints: monitoringEndpoints(s),
  });
  const count = findings.filter((f) => f.status === 'finding').length;
  ctx.io.result(
    { ok: count === 0, findings },
    () =>
      `${count === 0 ? 'no findings' : `${count} finding(s)`}\n${table(
        ['CHECK', 'RESULT', 'MESSAGE', 'FIX'],
        findings.map((f) => [
          f.check,
          f.status === 'ok' ? 'OK' : 'FINDING',
          f.message,
          f.fix ?? '',
        ]),
      )}`,
  );
  return count === 0 ? 0 : 1;
}
