import { connect, type Socket } from 'node:net';
import { LifeboatError } from '@lifeboat/core';

/** An SSLRequest: length 8, code 80877103. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 4, 210, 22, 47]);

/**
 * sslmode=prefer as libpq does it: one TCP connection asks for SSL and, refused ('N'), goes on
 * without on the same socket. pg alone closes a refused socket and connects again: a second
 * backend and round trip at every command's first connection (issue 16). Accepted ('S'), the
 * socket is handed to pg as if pg had asked itself, and pg starts TLS on it.
 */
export async function probeSsl(
  host: string,
  port: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<{ socket: Socket; accepted: boolean }> {
  const socket = connect({ host, port });
  socket.setNoDelay(true);
  try {
    const answer = await new Promise<Buffer>((resolve, reject) => {
      const fail = (error: unknown) => {
        cleanup();
        reject(error);
      };
      const stop = () => fail(new LifeboatError('ABORTED', undefined, { cause: signal?.reason }));
      const timer =
        timeoutMs > 0 ? setTimeout(() => fail(new Error('timeout expired')), timeoutMs) : undefined;
      const onData = (data: Buffer) => {
        cleanup();
        resolve(data);
      };
      const onClose = () => fail(new Error('Connection terminated unexpectedly'));
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', stop);
        socket.off('data', onData).off('error', fail).off('close', onClose);
      };
      if (signal?.aborted) return stop();
      signal?.addEventListener('abort', stop, { once: true });
      socket.on('data', onData).on('error', fail).on('close', onClose);
      socket.once('connect', () => socket.write(SSL_REQUEST));
    });
    socket.pause();
    // One byte, nothing after it: the server waits for the startup packet or the TLS hello.
    if (answer.length !== 1 || (answer[0] !== 0x4e && answer[0] !== 0x53))
      throw new Error('There was an error establishing an SSL connection');
    return { socket: handOver(socket, answer[0] === 0x53), accepted: answer[0] === 0x53 };
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/**
 * The connected socket as pg's `stream`: pg's `connect()` on it only reports it connected, and
 * after an 'S' the SSLRequest pg then writes is answered from the one already received.
 */
function handOver(socket: Socket, accepted: boolean): Socket {
  const s = socket as unknown as { connect: () => Socket };
  s.connect = () => {
    process.nextTick(() => {
      socket.resume();
      socket.emit('connect');
    });
    return socket;
  };
  if (accepted) {
    const w = socket as unknown as { write: (...args: unknown[]) => boolean };
    const write = w.write.bind(socket);
    w.write = (chunk: unknown, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk) && chunk.equals(SSL_REQUEST)) {
        w.write = write;
        process.nextTick(() => socket.emit('data', Buffer.from('S')));
        return true;
      }
      return write(chunk, ...rest);
    };
  }
  return socket;
}
