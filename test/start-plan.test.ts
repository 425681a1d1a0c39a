// start's one plan (pure) and what a re-plan under --watch sees change; invoke and start run
// the image the latest build recorded, as push ships.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProjectState, resolveFunctionSettings } from '../src/app/invoke.js';
import { planStart, type StartFlags, settingsChanged } from '../src/app/start-plan.js';
import { recordBuild } from '../src/project/build-record.js';
import { tmpDir } from './support/tmp.js';

function project(extra: Record<string, unknown> = {}): string {
  const dir = tmpDir();
  writeFileSync(
    path.join(dir, 'lambda-image.json'),
    JSON.stringify({ name: 'hello', tag: 'dev', go: { module: 'example.com/hello', version: '1.23' }, ...extra }),
  );
  return dir;
}

const flags = (dir: string, more: Partial<StartFlags> = {}): StartFlags => ({
  function: { dir },
  port: 9000,
  host: '127.0.0.1',
  httpPorts: [],
  ...more,
});

describe('planStart', () => {
  it('a one-function project is a list of one, with its HTTP front from url in the config', async () => {
    const dir = project({ memorySize: 256, url: { invokeMode: 'RESPONSE_STREAM', cors: { allowOrigins: ['*'] } } });
    const plan = planStart(flags(dir, { httpPorts: ['8080'] }), await loadProjectState({ dir }));
    expect(plan.functions.map((f) => [f.name, f.image, f.memoryMb])).toEqual([['hello', 'hello:dev', 256]]);
    expect(plan.functions[0]!.http).toEqual({
      front: 'url',
      invokeMode: 'RESPONSE_STREAM',
      cors: { allowOrigins: ['*'] },
    });
    // A shared port serves every function: one added under --watch joins it.
    expect(plan.httpPorts).toEqual([{ port: 8080 }]);
    expect(plan.invokeApi).toEqual({ host: '127.0.0.1', port: 9000 });
  });

  it('a re-plan sees memorySize and url.cors edited', async () => {
    const dir = project({ memorySize: 128 });
    const before = planStart(flags(dir, { httpPorts: ['8080'] }), await loadProjectState({ dir })).functions[0]!;
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'hello',
        tag: 'dev',
        go: { module: 'example.com/hello', version: '1.23' },
        memorySize: 256,
        url: { cors: { allowOrigins: ['https://a.example'] } },
      }),
    );
    const after = planStart(flags(dir, { httpPorts: ['8080'] }), await loadProjectState({ dir })).functions[0]!;
    expect(after.memoryMb).toBe(256);
    expect(settingsChanged(before, after)).toEqual(['memorySize', 'url.cors']);
  });

  it('refuses --watch with --image, and --invoke-mode without --http-port', async () => {
    const dir = project();
    const state = await loadProjectState({ dir });
    expect(() => planStart(flags(dir, { invokeMode: 'BUFFERED' }), state)).toThrow(/need --http-port/);
    expect(() =>
      planStart(
        { ...flags(dir), function: { dir, image: 'x:1' }, watch: { build: {}, prewarm: false, json: false } },
        state,
      ),
    ).toThrow(/cannot serve --image/);
  });
});

describe('the build record', () => {
  it('build --tag my:1 && invoke runs my:1 in a one-function project (as push ships it)', async () => {
    const dir = project();
    mkdirSync(path.join(dir, '.lambda-image'));
    await recordBuild(dir, [
      {
        variant: 'aws',
        image: 'my:1',
        id: `sha256:${'b'.repeat(64)}`,
        arch: 'x86_64',
        builtAt: new Date().toISOString(),
      },
    ]);
    expect((await resolveFunctionSettings({ dir })).image).toBe('my:1');
    expect(planStart(flags(dir), await loadProjectState({ dir })).functions[0]!.image).toBe('my:1');
  });

  it('without a record it is <name>:<tag>, as before', async () => {
    expect((await resolveFunctionSettings({ dir: project() })).image).toBe('hello:dev');
  });
});
