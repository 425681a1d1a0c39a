// Reproducible layers against the real engine: two cold (--no-cache) builds of two copies of
// one project, made at different times (different file mtimes), give the same layers, on
// BuildKit and on the classic builder; SOURCE_DATE_EPOCH changes the function's layer.
import { cpSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { tmpDir } from './support/tmp.js';

describe.skipIf(!dockerEnv.available)('reproducible layers', () => {
  const repo = uniqueRepo('repro');

  function project(when: number): string {
    const dir = path.join(tmpDir('repro-'), 'fn');
    cpSync(path.join(REPO_ROOT, 'fixtures', 'go-hello'), dir, { recursive: true });
    for (const f of ['go.mod', 'main.go']) utimesSync(path.join(dir, f), when, when);
    return dir;
  }

  async function layers(dir: string, builder: string, tag: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
    const init = await runCli(['init', dir, '--base', 'alpine']);
    expect(init.code, init.stderr).toBe(0);
    const built = await runCli(['build', dir, '--no-cache', '--tag', `${repo}:${tag}`, ...standin()], {
      env: { ...env, LAMBDA_IMAGE_BUILDER: builder },
    });
    expect(built.code, built.stderr).toBe(0);
    return (await docker.getImage(`${repo}:${tag}`).inspect()).RootFS.Layers ?? [];
  }

  it.each(['buildkit', 'classic'])(
    '%s: two cold builds of copies with other file times give the same layers',
    async (builder) => {
      const a = await layers(project(1_000_000_000), builder, `${builder}-a`);
      const b = await layers(project(1_700_000_000), builder, `${builder}-b`);
      expect(b).toEqual(a);
      const c = await layers(project(1_700_000_000), builder, `${builder}-c`, { SOURCE_DATE_EPOCH: '1700000000' });
      expect(c.slice(0, -1)).toEqual(a.slice(0, -1));
      expect(c.at(-1)).not.toBe(a.at(-1));
    },
    240_000,
  );
});
