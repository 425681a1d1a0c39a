// The one capped request-body reader for the local HTTP servers (Runtime, Extensions and
// Invoke APIs): keeps at most `limit` bytes, but always drains the request so the
// connection stays usable, and says how large the body really was.
import type http from 'node:http';

export interface CappedBody {
  /** The body, or undefined when it was larger than the limit. */
  body: Buffer | undefined;
  /** The full size that arrived, also when over the limit (for messages that name it). */
  size: number;
}

export function readCappedBody(req: http.IncomingMessage, limit: number): Promise<CappedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
    });
    req.on('end', () => resolve({ body: size > limit ? undefined : Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}
