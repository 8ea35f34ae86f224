import { LifeboatError } from '@lifeboat/core';
import type { CommandContext } from '../context.js';
import { formatBytes, formatDuration, table } from '../io.js';

export async function reportCommand(
  ctx: CommandContext,
  options: { days: string },
): Promise<number> {
  const days = Number(options.days);
  if (!Number.isInteger(days) || days < 1 || days > 3660) {
    throw new LifeboatError(
      'CONFIG_INVALID',
      `--days must be a whole number from 1 to 3660, not "${options.days}"`,
    );
  }
  const engine = await ctx.engine();
  const trends = await engine.report({ days });
  ctx.io.result(trends, () =>
    table(
      ['DAY', 'RUNS', 'SUCCESS', 'AVG DURATION', 'MAX DURATION', 'AVG SIZE'],
      trends.map((d) => [
        d.day,
        d.runs,
        d.successRate === null ? '-' : `${Math.round(d.successRate * 100)}%`,
        d.avgDurationMs === null ? '-' : formatDuration(d.avgDurationMs),
        d.maxDurationMs === null ? '-' : formatDuration(d.maxDurationMs),
        d.avgBytes === null ? '-' : formatBytes(d.avgBytes),
      ]),
    ),
  );
  return 0;
}
