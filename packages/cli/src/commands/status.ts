import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration, table } from '../io.js';

export async function statusCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  const s = await engine.status();
  for (const u of s.archives.untrusted)
    if (u.code === 'ARCHIVE_IN_FUTURE') ctx.io.warn(u.code, u.message);
  ctx.io.result(s, () => {
    const lines = [
      s.lastSuccess
        ? `last success: ${s.lastSuccess.id ?? ''} at ${s.lastSuccess.at} (${s.lastSuccess.ageHours} h ago, ${formatBytes(s.lastSuccess.bytes ?? 0)}, ${formatDuration(s.lastSuccess.durationMs)})`
        : 'last success: never',
      ...(s.lastSuccess?.incomplete
        ? [
            ctx.io.out.yellow(
              `incomplete:   BACKUP_INCOMPLETE, ${s.lastSuccess.incomplete} object(s) left out${s.lastSuccess.leftOut ? `: ${s.lastSuccess.leftOut.join(', ')}` : ''}`,
            ),
          ]
        : []),
      s.lastFailure
        ? `last failure: ${s.lastFailure.at} ${s.lastFailure.code ?? ''} ${s.lastFailure.message ?? ''}`
        : 'last failure: none',
      s.lastVerify
        ? `last verify:  ${s.lastVerify.id ?? ''} at ${s.lastVerify.at}: ${s.lastVerify.ok ? 'OK' : 'PROBLEMS'}${s.lastVerify.deep ? ' (deep)' : ''}`
        : 'last verify:  never (run `lifeboat verify random --deep`)',
      `drill:        ${s.drill.status === 'ok' ? s.drill.message : s.drill.status === 'critical' ? ctx.io.out.red(s.drill.message) : ctx.io.out.yellow(s.drill.message)}`,
      ...(s.lockedInARow > 0
        ? [
            `lock:         ${s.lockedInARow} backup(s) in a row refused because the lock is held${s.lockedInARow >= 3 ? ' (LOCKED_RUNS: no backup is being made)' : ''}`,
          ]
        : []),
      `archives:     ${s.archives.count}, ${formatBytes(s.archives.totalBytes)}`,
      ...s.archives.untrusted.map((u) => `not counted:  ${u.file} ${u.code}`),
      `success rate: ${s.successRate.rate === null ? 'no runs' : `${Math.round(s.successRate.rate * 100)}% of ${s.successRate.runs} run(s)`} in ${s.successRate.days} days`,
      ...(s.notificationFailures.length
        ? [
            `notification failures: ${s.notificationFailures.length} (last: ${s.notificationFailures[0]!.notifier} ${s.notificationFailures[0]!.error ?? ''})`,
          ]
        : []),
      '',
      table(
        ['STARTED', 'KIND', 'OUTCOME', 'DURATION', 'SIZE', 'ID'],
        s.recentRuns.map((r) => [
          r.startedAt.replace('T', ' ').slice(0, 19),
          r.kind,
          r.ok
            ? ctx.io.out.green('ok')
            : r.cancelled
              ? ctx.io.out.yellow('cancelled')
              : ctx.io.out.red(`FAILED ${r.error?.code ?? ''}`),
          formatDuration(r.durationMs),
          r.bytes !== undefined ? formatBytes(r.bytes) : '',
          r.id ?? '',
        ]),
      ),
    ];
    return lines.join('\n');
  });
  return 0;
}
