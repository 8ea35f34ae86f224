import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createEngine } from '@lifeboat/core';
import { s3Storage } from '@lifeboat/storage-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A real HTTP server that accepts every request and never answers it (a hung endpoint). */
let server: http.Server;
const sockets = new Set<Socket>();
let requests = 0;
beforeAll(async () => {
  server = http.createServer(() => {
    requests++;
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('an S3 endpoint that never answers', () => {
  it('health answers CRITICAL within its check timeout, and the engine closes', async () => {
    const { port } = server.address() as AddressInfo;
    const engine = createEngine({
      storage: s3Storage({
        bucket: 'backups',
        endpoint: `http://127.0.0.1:${port}`,
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'never-shown-secret',
        // The SDK's own limits would take minutes here (idle socket × attempts).
        requestTimeoutMs: 120_000,
      }),
      health: { maxAgeHours: 25, minFreeBytes: 0, checkTimeoutMs: 1500 },
    });
    const began = performance.now();
    const report = await engine.health();
    expect(performance.now() - began).toBeLessThan(20_000);
    expect(requests).toBeGreaterThan(0);
    expect(report.status).toBe('CRITICAL');
    const storage = report.checks.find((c) => c.name === 'storage')!;
    expect(storage).toMatchObject({
      status: 'critical',
      message: 'STORAGE_TIMEOUT: the storage check did not answer within 1.5 s',
    });
    expect(JSON.stringify(report)).not.toContain('never-shown-secret');
    await engine.close();
  }, 40_000);
});
