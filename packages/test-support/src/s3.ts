import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';

/**
 * A real S3 API server for the tests: s3rver (files in a temp folder) behind a small HTTP proxy.
 * The proxy adds what s3rver 3.7 lacks, the way S3 does it, so those code paths run against a
 * real server too:
 * - ListMultipartUploads (GET ?uploads) and AbortMultipartUpload (DELETE ?uploadId), read from
 *   and applied to s3rver's own upload folder;
 * - optionally `If-None-Match: *` on PutObject / CompleteMultipartUpload (412 when the key
 *   exists), serialized per key so it is race-free like S3's;
 * - ListObjectsV2 pagination (s3rver's continuation tokens need DES, which Node 18+ lacks);
 * - fault injection: a hook can answer a request with an S3 error, or cut the connection.
 * The storage can also be pointed at s3rver directly (`directEndpoint`), without any of this.
 */

export const ACCESS_KEY = 'S3RVER';
/** s3rver does not verify SigV4 signatures: any secret works with its access key. */
export const SECRET_KEY = `lifeboat-test-secret-${randomBytes(6).toString('hex')}`;

export type Fault = { status: number; code: string; message?: string } | 'reset';

export interface TestS3 {
  bucket: string;
  /** Through the proxy. */
  endpoint: string;
  /** s3rver itself. */
  directEndpoint: string;
  directory: string;
  /** Requests the proxy saw: `METHOD path?query`. */
  requests: string[];
  /** Called for every request through the proxy; a returned fault is answered instead. */
  fault: ((req: IncomingMessage) => Fault | undefined) | undefined;
  /** Unfinished multipart uploads on s3rver's disk: `{ uploadId, key, parts }`. */
  uploads(): Promise<{ uploadId: string; key: string; parts: number }[]>;
  /** Stops s3rver at once (open connections are cut), like a crashed server. */
  kill(): Promise<void>;
  /** Starts s3rver again on the same port and folder. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

const xmlError = (res: ServerResponse, status: number, code: string, message = code) => {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>test</RequestId></Error>`;
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
};

const drain = (req: IncomingMessage) =>
  new Promise<void>((resolve) => {
    req.on('data', () => {});
    req.on('end', resolve);
    req.on('error', () => resolve());
    req.on('close', resolve);
  });

export async function startS3(
  options: { conditionalWrites?: boolean; bucket?: string } = {},
): Promise<TestS3> {
  const bucket = options.bucket ?? 'lifeboat-test';
  const directory = await mkdtemp(join(tmpdir(), 'lifeboat-s3rver-'));
  const uploadsRoot = join(directory, bucket, '._S3rver_uploads');
  let port = 0;
  let server: S3rver | undefined;
  const sockets = new Set<Socket>();

  const startServer = async () => {
    server = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      vhostBuckets: false,
      configureBuckets: [{ name: bucket, configs: [] }],
    });
    const address = (await server.run()) as AddressInfo;
    port = address.port;
    server.httpServer.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
  };
  await startServer();

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer) =>
    new Promise<number>((resolve) => {
      const upstream = http.request(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (response) => {
          res.writeHead(response.statusCode ?? 502, response.headers);
          response.pipe(res);
          response.on('end', () => resolve(response.statusCode ?? 502));
          response.on('error', () => resolve(502));
        },
      );
      upstream.on('error', () => {
        // s3rver is down: cut the client's connection, as a dead server would.
        res.socket?.destroy();
        resolve(502);
      });
      if (body) upstream.end(body);
      else req.pipe(upstream);
    });

  const objectExists = (path: string) =>
    new Promise<boolean>((resolve) => {
      const head = http.request({ host: '127.0.0.1', port, method: 'HEAD', path }, (r) => {
        r.resume();
        resolve(r.statusCode === 200);
      });
      head.on('error', () => resolve(false));
      head.end();
    });

  const locks = new Map<string, Promise<unknown>>();
  const withKeyLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = locks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    locks.set(
      key,
      next.catch(() => {}),
    );
    return next;
  };

  const listUploads = async () => {
    let ids: string[] = [];
    try {
      ids = await readdir(uploadsRoot);
    } catch {
      return [];
    }
    const out: { uploadId: string; key: string; parts: number; initiated: Date }[] = [];
    for (const uploadId of ids) {
      try {
        const key = await readFile(join(uploadsRoot, uploadId, 'key'), 'utf8');
        const files = await readdir(join(uploadsRoot, uploadId));
        const { birthtime, mtime } = await stat(join(uploadsRoot, uploadId));
        out.push({
          uploadId,
          key,
          parts: files.filter((f) => /^\d+$/.test(f)).length,
          initiated: birthtime.getTime() > 0 ? birthtime : mtime,
        });
      } catch {
        // Completed or aborted meanwhile.
      }
    }
    return out;
  };

  const requests: string[] = [];
  const state: TestS3 = {
    bucket,
    endpoint: '',
    directEndpoint: '',
    directory,
    requests,
    fault: undefined,
    uploads: async () =>
      (await listUploads()).map(({ uploadId, key, parts }) => ({ uploadId, key, parts })),
    kill: async () => {
      if (!server) return;
      const closing = server.close();
      for (const socket of sockets) socket.destroy();
      await closing;
      server = undefined;
    },
    restart: startServer,
    close: async () => {
      await state.kill();
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        proxy.closeAllConnections();
      });
      await rm(directory, { recursive: true, force: true });
    },
  };

  const proxy = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const fault = state.fault?.(req);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault) {
      await drain(req);
      xmlError(res, fault.status, fault.code, fault.message);
      return;
    }
    // ListMultipartUploads
    if (req.method === 'GET' && url.searchParams.has('uploads') && key === '') {
      await drain(req);
      const prefix = url.searchParams.get('prefix') ?? '';
      const uploads = (await listUploads())
        .filter((u) => u.key.startsWith(prefix))
        .sort((a, b) => a.key.localeCompare(b.key));
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult><Bucket>${bucketName}</Bucket><Prefix>${prefix}</Prefix><IsTruncated>false</IsTruncated>${uploads
        .map(
          (u) =>
            `<Upload><Key>${u.key}</Key><UploadId>${u.uploadId}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
        )
        .join('')}</ListMultipartUploadsResult>`;
      res.writeHead(200, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(xml),
      });
      res.end(xml);
      return;
    }
    // AbortMultipartUpload
    if (req.method === 'DELETE' && url.searchParams.has('uploadId')) {
      await drain(req);
      const uploadId = url.searchParams.get('uploadId') ?? '';
      if (
        !/^[0-9a-f]+$/.test(uploadId) ||
        !(await listUploads()).some((u) => u.uploadId === uploadId)
      ) {
        xmlError(res, 404, 'NoSuchUpload', 'The specified upload does not exist.');
        return;
      }
      await rm(join(uploadsRoot, uploadId), { recursive: true, force: true });
      res.writeHead(204);
      res.end();
      return;
    }
    // ListObjectsV2 pages: s3rver makes its continuation tokens with DES, which OpenSSL 3 (Node
    // 18+) refuses, so the proxy pages the full listing itself (start-after = the token).
    if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') {
      await drain(req);
      const maxKeys = Number(url.searchParams.get('max-keys') ?? 1000);
      const token = url.searchParams.get('continuation-token');
      const upstream = new URLSearchParams({ 'list-type': '2', 'max-keys': '1000' });
      for (const name of ['prefix', 'delimiter']) {
        const value = url.searchParams.get(name);
        if (value !== null) upstream.set(name, value);
      }
      if (token) upstream.set('start-after', Buffer.from(token, 'base64url').toString('utf8'));
      const full = await new Promise<{ status: number; body: string }>((resolve) => {
        const r = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'GET',
            path: `/${bucketName}/?${upstream}`,
            headers: { ...req.headers },
          },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (c: Buffer) => chunks.push(c));
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 502,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
          },
        );
        r.on('error', () => resolve({ status: 502, body: '' }));
        r.end();
      });
      if (full.status !== 200) {
        res.writeHead(full.status, { 'content-type': 'application/xml' });
        res.end(full.body);
        return;
      }
      const contents = full.body.match(/<Contents>[\s\S]*?<\/Contents>/g) ?? [];
      const page = contents.slice(0, maxKeys);
      const truncated = contents.length > maxKeys;
      const lastKey = page.length ? /<Key>([\s\S]*?)<\/Key>/.exec(page[page.length - 1]!)![1]! : '';
      const body = full.body
        .replace(/<Contents>[\s\S]*<\/Contents>/, page.join(''))
        .replace(
          /<IsTruncated>\w+<\/IsTruncated>/,
          `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${Buffer.from(lastKey).toString('base64url')}</NextContinuationToken>` : ''}`,
        )
        .replace(/<KeyCount>\d+<\/KeyCount>/, `<KeyCount>${page.length}</KeyCount>`);
      res.writeHead(200, {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
      return;
    }
    // Conditional writes: PutObject and CompleteMultipartUpload with If-None-Match: *
    const conditional =
      options.conditionalWrites &&
      req.headers['if-none-match'] === '*' &&
      ((req.method === 'PUT' && !url.searchParams.has('uploadId')) ||
        (req.method === 'POST' && url.searchParams.has('uploadId')));
    if (conditional) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      await withKeyLock(`${bucketName}/${key}`, async () => {
        if (await objectExists(url.pathname)) {
          xmlError(
            res,
            412,
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
          return;
        }
        await forward(req, res, Buffer.concat(chunks));
      });
      return;
    }
    await forward(req, res);
  });
  proxy.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  state.endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  state.directEndpoint = `http://127.0.0.1:${port}`;
  return state;
}

/** s3rver in a child process: `{ endpoint, bucket, stop }`. */
export async function startS3Process(bucket = 'lifeboat-test') {
  const directory = await mkdtemp(join(tmpdir(), 'lifeboat-s3rver-'));
  const script = fileURLToPath(new URL('./s3rver-process.cjs', import.meta.url));
  const child = spawn(process.execPath, [script, directory, bucket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    child.once('exit', (code) => reject(new Error(`s3rver exited with ${code}`)));
  });
  return {
    bucket,
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
