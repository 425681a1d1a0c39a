// The one capped HTTP body reader, for requests our servers take (Runtime, Extensions and
// Invoke APIs) and for answers we fetch (registries, token services, the RIE): a declared
// Content-Length over the cap is refused before a byte is read, and reading stops at the
// cap, so no peer can make lambda-image hold more than the cap in memory.
import type http from 'node:http';
import { readStreamCapped } from './read-capped.js';

export interface CappedBody {
  /** The body, or undefined when it was larger than the limit. */
  body: Buffer | undefined;
  /** The size that arrived (or was declared), also when over the limit (for messages that name it). */
  size: number;
}

/** The request's declared Content-Length, when it gives a usable one. */
function declaredLength(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d+$/.test(value.trim())) return undefined;
  return Number(value);
}

/**
 * A request body of at most `limit` bytes. Bytes past the limit are discarded as they arrive
 * (the request is still drained, so the connection stays usable for the answer), and a
 * declared Content-Length over the limit answers at once, without waiting for the upload.
 */
export function readCappedBody(req: http.IncomingMessage, limit: number): Promise<CappedBody> {
  const declared = declaredLength(req.headers['content-length']);
  if (declared !== undefined && declared > limit) {
    req.resume(); // discarded as it arrives: never held
    return Promise.resolve({ body: undefined, size: declared });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else chunks.length = 0;
    });
    req.on('end', () => resolve({ body: size > limit ? undefined : Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}

/**
 * A fetched answer's body, or undefined when it is larger than `limit` (by its Content-Length,
 * or as soon as the bytes that arrive pass the limit: the rest is never read). A read that
 * breaks (the request's deadline cut a stalled body, the peer reset) throws as it is.
 */
export async function readResponseCapped(res: Response, limit: number): Promise<Buffer | undefined> {
  const declared = declaredLength(res.headers.get('content-length'));
  if (declared !== undefined && declared > limit) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return Buffer.alloc(0);
  return readStreamCapped(res.body as unknown as AsyncIterable<Uint8Array>, limit);
}
