// The whole path: a layer added by ARN (local Lambda API server) is in the built image under
// /opt, with its extension executable in /opt/extensions. Real engine, stand-in bases.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { containerLogs, docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { FakeLambdaApi } from './support/lambda-api.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

describe.skipIf(!dockerEnv.available)('add-extension, then build (real engine)', () => {
  const repo = uniqueRepo('ext');
  let api: FakeLambdaApi;
  beforeAll(async () => {
    api = await new FakeLambdaApi().start();
  });
  afterAll(() => api?.close());

  it.each(['aws', 'alpine'])('puts the layer under /opt in the %s image', async (base) => {
    const arn = `arn:aws:lambda:us-east-1:123456789012:layer:demo-ext-${base}:3`;
    // A static x86-64 executable stands in for an extension binary here; what matters is where it lands.
    api.add({
      arn,
      architectures: ['x86_64'],
      zip: makeZip([
        { name: 'extensions/', mode: 0o040755 },
        { name: 'extensions/demo-ext', data: readFileSync('/bin/busybox'), mode: 0o100755 },
        { name: 'demo-ext/config.yaml', data: 'level: info\n' },
      ]),
    });
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir, '--base', base])).code).toBe(0);
    const added = await runCli(['add-extension', arn, dir], { env: api.env(tmpDir()) });
    expect(added.code).toBe(0);
    const tag = `${repo}:${base}`;
    const built = await runCli(['build', dir, '--tag', tag, '--json', ...standin()]);
    expect(built.code).toBe(0);
    const report = JSON.parse(built.stdout);
    expect(report.images[0].breakdown.extensions).toBeGreaterThanOrEqual(readFileSync('/bin/busybox').length);

    const container = await docker.createContainer({
      Image: tag,
      Entrypoint: ['/bin/sh', '-c'],
      Cmd: ['ls -ln /opt/extensions/demo-ext && test -x /opt/extensions/demo-ext && cat /opt/demo-ext/config.yaml'],
      Labels: { 'org.lambda-image.test-repo': repo },
    });
    try {
      await container.start();
      const status = await container.wait();
      // The container has exited: its output is complete.
      const logs = await containerLogs(container.id);
      expect(status.StatusCode, logs).toBe(0);
      expect(logs).toMatch(/^-rwxr-xr-x\s.*\/opt\/extensions\/demo-ext$/m);
      expect(logs).toContain('level: info');
    } finally {
      await container.remove({ force: true });
    }
  });
});
