// Reproducible layers against the real engine: two cold (--no-cache) builds of two copies of
// one project, made at different times (different file mtimes), give the same layers, on
// BuildKit and on the classic builder, and the same image ID; SOURCE_DATE_EPOCH changes the
// function's layer and the config's times.
import { cpSync, readFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILD_RECORD } from '../src/project/build-record.js';
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

  async function build(
    dir: string,
    builder: string,
    tag: string,
    env: NodeJS.ProcessEnv = {},
  ): Promise<{ id: string; layers: string[]; created: string; recorded: string }> {
    const init = await runCli(['init', dir, '--base', 'alpine']);
    expect(init.code, init.stderr).toBe(0);
    const built = await runCli(['build', dir, '--no-cache', '--tag', `${repo}:${tag}`, ...standin()], {
      env: { ...env, LAMBDA_IMAGE_BUILDER: builder },
    });
    expect(built.code, built.stderr).toBe(0);
    const info = await docker.getImage(`${repo}:${tag}`).inspect();
    const record = JSON.parse(readFileSync(path.join(dir, BUILD_RECORD), 'utf8'));
    return { id: info.Id, layers: info.RootFS.Layers ?? [], created: info.Created, recorded: JSON.stringify(record) };
  }

  it.each(['buildkit', 'classic'])(
    '%s: two cold builds of copies with other file times give the same layers and image ID',
    async (builder) => {
      const a = await build(project(1_000_000_000), builder, `${builder}-a`);
      const b = await build(project(1_700_000_000), builder, `${builder}-b`);
      expect(b.layers).toEqual(a.layers);
      expect(b.id).toBe(a.id);
      expect(a.created).toBe('1970-01-01T00:00:00Z');
      // The build record (what push and deploy ship) names the final image.
      expect(a.recorded).toContain(a.id);
      const c = await build(project(1_700_000_000), builder, `${builder}-c`, { SOURCE_DATE_EPOCH: '1700000000' });
      expect(c.layers.slice(0, -1)).toEqual(a.layers.slice(0, -1));
      expect(c.layers.at(-1)).not.toBe(a.layers.at(-1));
      expect(c.created).toBe('2023-11-14T22:13:20Z');
      expect(c.id).not.toBe(a.id);
    },
    480_000,
  );
});
