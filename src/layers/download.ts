// Streaming a layer zip to disk while hashing it, then verifying size and SHA-256. A failed
// or mismatched download leaves no file behind. The URL is presigned: it is never printed.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LambdaImageError } from '../errors.js';
import { chunkReleaser } from '../util/memory.js';

export interface DownloadOptions {
  expectedSize: number;
  expectedSha256: string;
  onProgress?: (received: number, total: number) => void;
  /** Give up when no byte arrives for this long. */
  stallMs?: number;
  /** Stops the download (Ctrl-C); the partial file is removed like any failed download. */
  signal?: AbortSignal;
}

/** A URL as it may be shown: scheme, host and path, without the query string that signs it. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(layer download URL)';
  }
}

export async function downloadVerified(url: string, dest: string, opts: DownloadOptions): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const part = `${dest}.part-${randomBytes(4).toString('hex')}`;
  const hash = createHash('sha256');
  let received = 0;
  const controller = new AbortController();
  let stallTimer: NodeJS.Timeout | undefined;
  const stallMs = opts.stallMs ?? 30_000;
  const armStall = () => {
    clearTimeout(stallTimer);
    stallTimer = setTimeout(() => controller.abort(new Error(`no data for ${stallMs / 1000} s`)), stallMs);
  };
  const onAbort = () => controller.abort(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();
  try {
    armStall();
    let res: IncomingMessage;
    try {
      res = await get(url, controller.signal);
    } catch (err) {
      throw new LambdaImageError(
        'DOWNLOAD_FAILED',
        `cannot download the layer from ${redactUrl(url)}: ${causeText(err)}`,
        {
          hint: 'check your network; the download link expires 10 minutes after it is issued, so simply run the command again',
        },
      );
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new LambdaImageError(
        'DOWNLOAD_FAILED',
        `the layer download from ${redactUrl(url)} answered HTTP ${res.statusCode}`,
        {
          hint:
            res.statusCode === 403
              ? 'the download link has probably expired (10 minutes); run the command again'
              : 'run the command again later',
        },
      );
    }
    const release = chunkReleaser();
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        armStall();
        received += chunk.length;
        if (received > opts.expectedSize) {
          done(
            new LambdaImageError(
              'CHECKSUM_MISMATCH',
              `the layer download is larger than the ${opts.expectedSize} bytes AWS announced`,
            ),
          );
          return;
        }
        hash.update(chunk);
        opts.onProgress?.(received, opts.expectedSize);
        release(chunk.length);
        done(null, chunk);
      },
    });
    try {
      await pipeline(res, meter, createWriteStream(part, { mode: 0o600 }));
    } catch (err) {
      if (err instanceof LambdaImageError) throw err;
      throw new LambdaImageError(
        'DOWNLOAD_FAILED',
        `the layer download from ${redactUrl(url)} broke off after ${received} bytes: ${causeText(err)}`,
        {
          hint: 'run the command again',
        },
      );
    }
    if (received !== opts.expectedSize) {
      throw new LambdaImageError(
        'CHECKSUM_MISMATCH',
        `the layer download has ${received} bytes, AWS announced ${opts.expectedSize}`,
        {
          hint: 'the download was cut short or altered; run the command again',
        },
      );
    }
    const actual = hash.digest('hex');
    if (actual !== opts.expectedSha256) {
      throw new LambdaImageError(
        'CHECKSUM_MISMATCH',
        `the layer download's SHA-256 is ${actual}, AWS announced ${opts.expectedSha256}`,
        {
          hint: 'the download was altered in transit or the layer changed; run the command again, and report it if it persists',
        },
      );
    }
    await fs.rename(part, dest);
  } finally {
    clearTimeout(stallTimer);
    opts.signal?.removeEventListener('abort', onAbort);
    await fs.rm(part, { force: true });
  }
}

/** SHA-256 (hex) and size of a file, streamed. */
export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  // One buffer, read into again and again: a read stream's new chunk per read is garbage that
  // piles up outside the heap (see util/memory.ts).
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  const handle = await fs.open(file, 'r');
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), size };
}

/** GET with node:http(s): streams with back-pressure and little buffering (fetch holds far more). */
function get(url: string, signal: AbortSignal, redirects = 3): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const request = (u.protocol === 'https:' ? https.get : http.get)(u, { signal }, (res) => {
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location && redirects > 0) {
        res.resume();
        get(new URL(location, u).toString(), signal, redirects - 1).then(resolve, reject);
        return;
      }
      resolve(res);
    });
    request.on('error', reject);
  });
}

function causeText(err: unknown): string {
  // Codes only: a message could quote the URL, and its query string is a credential.
  const e = err as { code?: string; cause?: { code?: string } };
  return e.code ?? e.cause?.code ?? 'connection failed';
}
