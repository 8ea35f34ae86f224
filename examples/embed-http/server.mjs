// A small HTTP backend that embeds Lifeboat: nightly backups inside the process, GET /healthz for
// a liveness probe (200 while the process and its schedule are alive, even before the first
// backup: a probe that follows backup health restart-loops a fresh pod), GET /health from
// engine.health() (backup health, 503 when CRITICAL: alert on it, do not restart on it), GET
// /metrics for Prometheus, GET /backups, POST
// /backups to back up now, HEARTBEAT_URL pinged around every backup, and every engine event
// forwarded to the app's logger.
import { createServer } from 'node:http';
import { metricsHandler, setErrorHints } from '@lifeboat/core';
import {
  buildEngine,
  buildHeartbeat,
  ENV_ERROR_HINTS,
  fromEnv,
  resolveSettings,
} from '@lifeboat/preset-env';

// Errors' hints name the environment variables this server is configured with (S3_ENDPOINT, not
// the storage's `endpoint` option).
setErrorHints(ENV_ERROR_HINTS);

const logger = {
  info: (msg, fields) =>
    process.stdout.write(`${JSON.stringify({ level: 'info', msg, ...fields })}\n`),
  error: (msg, fields) =>
    process.stdout.write(`${JSON.stringify({ level: 'error', msg, ...fields })}\n`),
};

export async function startServer({ port = 0, env = process.env, schedule = '0 2 * * *' } = {}) {
  const settings = resolveSettings({ env: fromEnv(env) });
  const engine = await buildEngine(settings);
  // A dead-man's switch around every scheduled or requested backup (HEARTBEAT_URL).
  const heartbeat = buildHeartbeat(settings);
  heartbeat?.watch(engine.events);
  const metrics = metricsHandler(engine);
  engine.events.on('backup:succeeded', (r) =>
    logger.info('backup stored', { file: r.file, bytes: r.bytes, durationMs: r.durationMs }),
  );
  engine.events.on('backup:failed', (e) => logger.error('backup failed', e.error));
  engine.events.on('notify:failed', (e) =>
    logger.error('notification failed', { notifier: e.notifier, ...e.error }),
  );
  engine.events.on('health:alert', (h) =>
    logger.error('backup health alert', { status: h.status }),
  );
  const nightly = engine.schedule(schedule, { onError: () => {} });

  const json = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = createServer(async (req, res) => {
    try {
      if (req.method === 'GET' && req.url === '/healthz') {
        const next = nightly.nextRun();
        return json(res, next ? 200 : 503, {
          alive: next !== null,
          nextRun: next?.toISOString() ?? null,
          running: nightly.isBusy(),
        });
      }
      if (req.method === 'GET' && req.url === '/health') {
        const report = await engine.health();
        return json(res, report.status === 'CRITICAL' ? 503 : 200, report);
      }
      if (req.method === 'GET' && req.url === '/metrics') return await metrics(req, res);
      if (req.method === 'GET' && req.url === '/backups')
        return json(res, 200, await engine.list());
      if (req.method === 'POST' && req.url === '/backups')
        return json(res, 201, await engine.backup());
      return json(res, 404, { error: 'not found' });
    } catch (error) {
      return json(res, error.code === 'LOCKED' ? 409 : 500, {
        error: { code: error.code, message: error.message },
      });
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    async close() {
      nightly.stop();
      await new Promise((resolve) => server.close(resolve));
      await heartbeat?.settle();
      await engine.close();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { port } = await startServer({ port: Number(process.env.PORT ?? 8080) });
  logger.info('listening', { port });
}
