import { METRICS_CONTENT_TYPE } from '@lifeboat/core';
import type { CommandContext } from '../context.js';

/** The Prometheus text format of the status and history (what METRICS_FILE and /metrics hold). */
export async function metricsCommand(ctx: CommandContext): Promise<number> {
  const engine = await ctx.engine();
  const text = await engine.metrics();
  ctx.io.result({ contentType: METRICS_CONTENT_TYPE, text }, () => text.trimEnd());
  return 0;
}
