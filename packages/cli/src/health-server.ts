import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HealthReport, LifeboatError, redactDeep, toLifeboatError } from '@lifeboat/core';

export interface HealthEndpoints {
  /** Liveness: whether the scheduler is alive, with what it knows of its runs. */
  live(): { alive: boolean } & Record<string, unknown>;
  /** Backup health: the health command's report. */
  health(): Promise<HealthReport>;
  /** Prometheus text (core's metricsHandler). */
  metrics(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(redactDeep(body))}\n`);
};

/**
 * `run --health-port`: GET /healthz is liveness (200 while the process and its scheduler are
 * alive, however stale the backups: a liveness probe that fails on stale backups restarts the
 * container forever), /health the backup health (200 OK or WARNING, 503 CRITICAL), /metrics the
 * Prometheus text. Unauthenticated and read-only: bind it where only probes and scrapers reach.
 */
export async function startHealthServer(
  endpoints: HealthEndpoints,
  options: { port: number; host: string },
): Promise<HealthServer> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' });
        return res.end();
      }
      if (path === '/healthz') {
        const live = endpoints.live();
        return json(res, live.alive ? 200 : 503, live);
      }
      if (path === '/health') {
        const report = await endpoints.health();
        return json(res, report.status === 'CRITICAL' ? 503 : 200, report);
      }
      if (path === '/metrics') return await endpoints.metrics(req, res);
      return json(res, 404, { error: 'not found: try /healthz, /health or /metrics' });
    } catch (error) {
      // A health check that throws is itself a critical answer, never a hung probe.
      const e = toLifeboatError(error);
      if (!res.headersSent)
        json(res, 503, { status: 'CRITICAL', error: { code: e.code, message: e.message } });
      else res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new LifeboatError(
          'CONFIG_INVALID',
          `HEALTH_PORT ${options.port} on ${options.host} cannot be used: ${error.code ?? error.message}`,
          { cause: error, hint: 'Choose a free port (HEALTH_PORT, --health-port), or 0 for any.' },
        ),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of a scraper must not hold the shutdown.
        server.closeAllConnections();
      }),
  };
}
