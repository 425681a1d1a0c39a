// add-extension by ARN under pressure: several runs sharing one layer cache at once, and
// Ctrl-C in the middle of a download (no partial file kept, nothing added).
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import { FakeLambdaApi } from './support/lambda-api.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

const arnFor = (name: string) => `arn:aws:lambda:us-east-1:123456789012:layer:${name}:1`;
const zipFor = (name: string, pad = 0) =>
  makeZip([{ name: `extensions/${name}`, data: `#!/bin/sh\necho ${name}\n${'#'.repeat(pad)}\n`, mode: 0o100755 }]);

describe('add-extension by ARN, at the same time and interrupted', () => {
  let api: FakeLambdaApi;
  beforeAll(async () => {
    api = await new FakeLambdaApi().start();
  });
  afterAll(() => api.close());

  async function project() {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir])).code).toBe(0);
    return dir;
  }

  it('four runs sharing one cache: every layer is in the cache index', async () => {
    const cache = tmpDir('lambda-image-cache-');
    const names = ['one', 'two', 'three', 'four'];
    for (const n of names) api.add({ arn: arnFor(n), zip: zipFor(n) });
    const dirs = await Promise.all(names.map(() => project()));
    const results = await Promise.all(
      names.map((n, i) => runCli(['add-extension', arnFor(n), dirs[i]!], { env: api.env(cache) })),
    );
    for (const r of results) expect(r.stderr + `exit ${r.code}`).toMatch(/exit 0$/);
    const index = JSON.parse(readFileSync(path.join(cache, 'layers/index.json'), 'utf8'));
    expect(Object.keys(index).sort()).toEqual(names.map(arnFor).sort());
  });

  it('Ctrl-C during a download: exit 130, no partial file in the cache, nothing added', async () => {
    const cache = tmpDir('lambda-image-cache-');
    const arn = arnFor('stalled');
    api.add({ arn, zip: zipFor('stalled', 200_000), stallAt: 50_000 });
    const dir = await project();
    const before = readFileSync(path.join(dir, 'lambda-image.json'), 'utf8');
    // Bytes have arrived, and the rest never will.
    const run = await startCliUntil(['add-extension', arn, dir], /downloading: \d+%/, api.env(cache));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toMatch(/error: interrupted: nothing was added/);
    expect(run.stderr()).not.toContain(api.signature);
    expect(readdirSync(path.join(cache, 'layers')).filter((f) => f.includes('.part') || f.endsWith('.zip'))).toEqual(
      [],
    );
    expect(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).sort()).toEqual(['.dockerignore', 'Dockerfile', 'go.mod', 'lambda-image.json', 'main.go']);
  });
});
