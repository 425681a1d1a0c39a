// Engine failures are never read as absence: a container the engine will not remove, an
// /opt/extensions the engine cannot list, an image inspect that fails. Real engine behind a
// proxy that refuses chosen calls the way an engine does.
import Docker from 'dockerode';
import { afterEach, describe, expect, it } from 'vitest';
import { containerClient } from '../src/docker/containers.js';
import { hasImageFor } from '../src/docker/pull.js';
import { listImageExtensions } from '../src/emulator/function-image.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from './support/cli.js';
import { docker, dockerEnv, engineSocketPath, standin, uniqueRepo } from './support/docker.js';
import { tmpDir } from './support/tmp.js';
import { refusingProxy, type FakeEngine } from './support/fake-engine.js';

const viaProxy = (engine: FakeEngine) => {
  const url = new URL(engine.dockerHost.replace(/^tcp:/, 'http:'));
  return new Docker({ host: url.hostname, port: Number(url.port) });
};

describe.skipIf(!dockerEnv.available)('engine failures are not absence', () => {
  let engine: FakeEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  it('a container the engine keeps refusing to remove is reported, not given up on silently', async () => {
    engine = await refusingProxy(
      (call) =>
        call.startsWith('DELETE /containers/')
          ? { status: 500, message: 'driver failed to remove root filesystem' }
          : undefined,
      engineSocketPath(),
    );
    const handle = containerClient(viaProxy(engine)).get('edges-never-removed');
    await expect(handle.remove()).rejects.toThrow(
      /the engine did not remove container edges-never- after 10 tries: .*driver failed to remove root filesystem/,
    );
    expect(engine.calls.filter((c) => c.startsWith('DELETE /containers/'))).toHaveLength(10);
  });

  it('an engine error while listing /opt/extensions fails instead of reading as "no extensions"', async () => {
    const image = dockerEnv.refs!.x86_64.alpine;
    engine = await refusingProxy(
      (call) =>
        /^(GET|HEAD) \/containers\/[^/]+\/archive$/.test(call) ? { status: 500, message: 'storage error' } : undefined,
      engineSocketPath(),
    );
    const containers = containerClient(viaProxy(engine));
    await expect(listImageExtensions(containers, image)).rejects.toThrow(`cannot list /opt/extensions in ${image}`);
    // The probe container is still removed, and a real "no such folder" still means none.
    expect(engine.calls.some((c) => c.startsWith('DELETE /containers/'))).toBe(true);
    expect(await listImageExtensions(containerClient(docker), image)).toEqual([]);
  });

  it('an image inspect the engine fails is an error before a build, not "missing, pull it"', async () => {
    const image = dockerEnv.refs!.x86_64.alpine;
    engine = await refusingProxy(
      (call) => (call.startsWith('GET /images/') ? { status: 500, message: 'layer store locked' } : undefined),
      engineSocketPath(),
    );
    await expect(hasImageFor(viaProxy(engine), image, 'linux/amd64')).rejects.toThrow(
      `the engine failed to inspect ${image}`,
    );
    expect(await hasImageFor(docker, 'lambda-image-test/edges-no-such-image:none', 'linux/amd64')).toBe(false);
    expect(await hasImageFor(docker, image, 'linux/amd64')).toBe(true);
  });
});

describe.skipIf(!dockerEnv.available)('build names the secrets a .dockerignore lets in', () => {
  const repo = uniqueRepo('edges-secrets');

  it('warns once, naming .env and the fix; the generated .dockerignore keeps it out silently', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(path.join(dir, '.env'), 'TOKEN=not-for-images\n');
    const init = await runCli(
      ['init', '--runtime', 'provided', '--binary', 'bootstrap', '--base', 'alpine', '--name', repo],
      {
        cwd: dir,
      },
    );
    expect(init.code, init.stderr).toBe(0);
    const quiet = await runCli(['build', dir, ...standin('x86_64')]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('like a secret');
    expect(quiet.stderr).toContain('build context: 1 files'); // bootstrap alone: .env stayed out

    writeFileSync(path.join(dir, '.dockerignore'), '*.md\n');
    const warned = await runCli(['build', dir, ...standin('x86_64')]);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toContain(
      "warning: .env looks like a secret and enters the build context (the builder stage and BuildKit's cache keep them): add it to .dockerignore",
    );
    expect(warned.stderr.match(/looks like a secret/g)).toHaveLength(1);
  });
});
