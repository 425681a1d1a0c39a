// The registry client against a hostile or odd registry (real HTTP on 127.0.0.1): answers
// larger than the cap are cut off as they arrive, a body that stalls after its headers meets
// a deadline, `null` manifests and non-JSON token answers are one-line errors with their exit
// codes, and a registry that leaves sizes out gives "unknown", never NaN.
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushResult } from '../src/app/push.js';
import { pushJson } from '../src/cli/push.js';
import { isLambdaImageError } from '../src/errors.js';
import { MEDIA_TYPES } from '../src/registry/manifest.js';
import { MAX_REGISTRY_BODY, RegistryClient } from '../src/registry/registry-client.js';
import { verifyRemoteImage } from '../src/registry/verify.js';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const configBlob = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux' }));
/** A manifest whose descriptors carry no sizes, as some registries and proxies serve them. */
const sizeless = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.dockerManifest,
    config: { digest: sha(configBlob) },
    layers: [{ digest: 'sha256:' + 'd'.repeat(64) }],
  }),
);

/** Bytes each endless answer had written when its reader went away. */
const sent: Record<string, number> = {};

async function endless(res: http.ServerResponse, name: string, headers: http.OutgoingHttpHeaders) {
  res.writeHead(200, { 'Content-Type': MEDIA_TYPES.dockerManifest, ...headers });
  sent[name] = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  // Bounded: at most 200 MB, far past the 16 MB cap; stops when the reader hangs up.
  for (let i = 0; i < 3200 && !res.destroyed; i++) {
    if (!res.write(chunk)) await new Promise((r) => (res.once('drain', r), res.once('close', r)));
    sent[name] += chunk.length;
  }
  res.end();
}

let server: http.Server;
let host: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const url = req.url ?? '';
    const port = (server.address() as AddressInfo).port;
    if (url.startsWith('/token'))
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('<html>oops');
    if (url.startsWith('/v2/auth/')) {
      if (req.headers.authorization) return void res.writeHead(200).end('{}');
      return void res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token"` }).end();
    }
    if (url === '/v2/null/manifests/v1') return void res.writeHead(200).end('null');
    if (url === '/v2/sizeless/manifests/v1')
      return void res.writeHead(200, { 'Content-Type': MEDIA_TYPES.dockerManifest }).end(sizeless);
    if (url === `/v2/sizeless/blobs/${sha(configBlob)}`) return void res.writeHead(200).end(configBlob);
    if (url === '/v2/stall/manifests/v1') {
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.dockerManifest, 'Content-Length': '1000' });
      return void res.write('{"schemaVersion":'); // and nothing more
    }
    if (url === '/v2/declared/manifests/v1')
      return void endless(res, 'declared', { 'Content-Length': String(3 * 2 ** 30) });
    if (url === '/v2/chunked/manifests/v1') return void endless(res, 'chunked', {});
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** The error a call ends with: one of ours, with its code and message. */
async function failure(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLambdaImageError(err), String(err)).toBe(true);
  return err as { code: string; message: string; exitCode: number };
}

describe('the registry client at the limits', () => {
  it('stops reading an answer at the 16 MB cap, whether its Content-Length says 3 GB or it just keeps coming', async () => {
    for (const name of ['declared', 'chunked']) {
      const err = await failure(new RegistryClient(host, undefined).getManifest(name, 'v1'));
      expect(err.code).toBe('PUSH_FAILED');
      expect(err.message).toContain(`more than ${MAX_REGISTRY_BODY} bytes`);
      // Give the server's loop a moment to see the hang-up, then compare what it managed to send.
      await new Promise((r) => setTimeout(r, 200));
      expect(sent[name], name).toBeLessThan(MAX_REGISTRY_BODY * 2);
    }
  });

  it('a body that stalls after the headers fails at the deadline with one line (exit 30)', async () => {
    const err = await failure(new RegistryClient(host, undefined, { timeoutMs: 500 }).getManifest('stall', 'v1'));
    expect(err.code).toBe('PUSH_FAILED');
    expect(err.exitCode).toBe(30);
    expect(err.message).toBe(`${host} stopped sending its answer (nothing more within 0.5 s)`);
  });

  it('a `null` manifest is MANIFEST_REJECTED (exit 31), not a TypeError', async () => {
    const err = await failure(verifyRemoteImage(host, 'null', 'v1', undefined));
    expect(err.code).toBe('MANIFEST_REJECTED');
    expect(err.exitCode).toBe(31);
    expect(err.message).toContain('not a JSON manifest');
  });

  it('a token answer that is not JSON is REGISTRY_AUTH_FAILED (exit 32)', async () => {
    const err = await failure(new RegistryClient(host, undefined).getManifest('auth/fn', 'v1'));
    expect(err.code).toBe('REGISTRY_AUTH_FAILED');
    expect(err.exitCode).toBe(32);
    expect(err.message).toBe(`the token service of ${host} answered something that is not JSON`);
  });

  it('a manifest without sizes: the size is unknown and left out of --json, never NaN or null', async () => {
    const image = await verifyRemoteImage(host, 'sizeless', 'v1', undefined);
    expect(image.compressedSize).toBeUndefined();
    const json = JSON.stringify(pushJson({ ...image, tag: 'v1', imageUri: 'x', source: 'y' } as PushResult));
    expect(json).not.toContain('compressedSize');
    expect(json).not.toContain('null');
  });

  it('names an image by digest as repo@sha256:..., never repo:sha256:...', async () => {
    const digest = 'sha256:' + 'e'.repeat(64);
    const err = await failure(verifyRemoteImage(host, 'missing', digest, undefined));
    expect(err.code).toBe('IMAGE_NOT_FOUND');
    expect(err.message).toBe(`${host}/missing@${digest} is not in the registry`);
  });
});
