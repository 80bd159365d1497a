// Spans for what a run writes to and reads from a destination, when the process exports traces:
// the destination's kind and the bytes moved, never its location or credentials.
import { Transform, pipeline, type Readable } from 'node:stream';
import { failSpan, inSpan, startSpan } from '../infra/tracing.js';
import type { DirectFile, StorageDriver, StoredFile } from './driver.js';

/** The driver with its put and get traced; the other calls go straight through. */
export function tracedDriver(driver: StorageDriver): StorageDriver {
  const attributes = { 'coffre.destination.kind': driver.kind };
  return {
    kind: driver.kind,
    description: driver.description,
    stat: (key) => driver.stat(key),
    delete: (key) => driver.delete(key),
    list: (prefix) => driver.list(prefix),
    checkWritable: () => driver.checkWritable(),
    ...(driver.usage ? { usage: () => driver.usage!() } : {}),
    ...(driver.removeStaleTemporaries ? { removeStaleTemporaries: (olderThanMs: number) => driver.removeStaleTemporaries!(olderThanMs) } : {}),
    ...(driver.openFile ? { openFile: (key: string) => tracedFile(driver, key, attributes) } : {}),
    ...(driver.openStoredFile ? { openStoredFile: (key: string) => tracedStoredFile(driver, key, attributes) } : {}),
    put: (key, body, options) =>
      inSpan('storage put', attributes, async (span) => {
        const stored = await driver.put(key, body, options);
        span.setAttribute('coffre.storage.bytes', stored.sizeBytes);
        return stored;
      }),
    get: async (key, range) => {
      const span = startSpan('storage get', { ...attributes, ...(range ? { 'coffre.storage.range_start': range.start } : {}) });
      if (!span) return driver.get(key, range);
      let source: Readable;
      try {
        source = await driver.get(key, range);
      } catch (error) {
        failSpan(span, error);
        span.end();
        throw error;
      }
      // The span lasts as long as the reader reads: it ends with the stream, with the bytes that went through.
      let bytes = 0;
      const counter = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      pipeline(source, counter, (error) => {
        span.setAttribute('coffre.storage.bytes', bytes);
        if (error) failSpan(span, error);
        span.end();
      });
      return counter;
    },
  };
}

/**
 * A file written in place of a put (processes write it, coffre publishes it) is traced as the put it
 * stands for: one `storage put` span from its opening to its publication, with the bytes published.
 */
async function tracedFile(driver: StorageDriver, key: string, attributes: Record<string, string>): Promise<DirectFile> {
  const { span, opened: file } = await openInSpan('storage put', attributes, () => driver.openFile!(key));
  if (!span) return file;
  return {
    handle: file.handle,
    writeFailure: (message) => file.writeFailure(message),
    async publish() {
      try {
        const { size } = await file.handle.stat();
        await file.publish();
        span.setAttribute('coffre.storage.bytes', size);
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
    async discard() {
      await file.discard();
      if (span.isRecording()) {
        failSpan(span, new Error('the write was abandoned'));
        span.end();
      }
    },
  };
}

/** A stored file read in place of a get is traced as that get: from its opening to its closing, with its size. */
async function tracedStoredFile(driver: StorageDriver, key: string, attributes: Record<string, string>): Promise<StoredFile> {
  const { span, opened: file } = await openInSpan('storage get', attributes, () => driver.openStoredFile!(key));
  if (!span) return file;
  return {
    handle: file.handle,
    async close() {
      const size = await file.handle.stat().then((info) => info.size, () => null);
      if (size !== null) span.setAttribute('coffre.storage.bytes', size);
      await file.close();
      span.end();
    },
  };
}

/** Starts a span (when tracing) and opens something in it; a failed opening ends the span failed. */
async function openInSpan<T>(name: string, attributes: Record<string, string>, open: () => Promise<T>): Promise<{ span: ReturnType<typeof startSpan>; opened: T }> {
  const span = startSpan(name, attributes);
  try {
    return { span, opened: await open() };
  } catch (error) {
    if (span) {
      failSpan(span, error);
      span.end();
    }
    throw error;
  }
}
