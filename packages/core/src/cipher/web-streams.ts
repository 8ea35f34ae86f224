import { Readable } from 'node:stream';

/**
 * Bridges between Node streams and web streams with real backpressure: the web side pulls one
 * chunk at a time from the Node side, and the Node side pulls from the web side only when its
 * consumer reads. (`Readable.toWeb` in Node 20 sizes its queue in chunks, not bytes: with the
 * default high-water mark it may buffer thousands of chunks ahead. This bridge buffers none.)
 */

/** A web ReadableStream that reads `input` on demand. Cancelling it destroys `input`. */
export function nodeToWeb(
  input: Readable,
  onError: (error: unknown) => void,
): ReadableStream<Uint8Array> {
  const iterator = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(typeof value === 'string' ? Buffer.from(value) : value);
        } catch (error) {
          onError(error);
          controller.error(error);
        }
      },
      async cancel() {
        await iterator.return?.();
        input.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Runs `input` through an async web-stream transformation (`transform` resolves to the output
 * stream) and returns the output as a Node Readable. Errors of `input` come out unchanged; any
 * other error is passed through `mapError`. Destroying the output stops the input.
 */
export function throughWeb(
  input: Readable,
  transform: (web: ReadableStream<Uint8Array>) => Promise<ReadableStream<Uint8Array>>,
  mapError: (error: unknown) => Error,
  onChunk?: (chunk: Uint8Array) => void,
): Readable {
  const inputErrors = new Set<unknown>();
  const web = nodeToWeb(input, (error) => inputErrors.add(error));
  let started: Promise<ReadableStream<Uint8Array>> | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const output = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      void (async () => {
        try {
          started ??= transform(web);
          reader ??= (await started).getReader();
          const { done, value } = await reader.read();
          if (done) {
            this.push(null);
            return;
          }
          onChunk?.(value);
          this.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
        } catch (error) {
          this.destroy(inputErrors.has(error) ? (error as Error) : mapError(error));
        }
      })();
    },
    destroy(error, callback) {
      const stop = reader ? reader.cancel(error ?? undefined) : Promise.resolve();
      stop.catch(() => {});
      input.destroy();
      callback(error);
    },
  });
  return output;
}
