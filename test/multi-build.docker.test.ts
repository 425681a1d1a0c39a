// A project of several functions against a real engine: init finds the five functions of
// fixtures/go-multi (shared internal/ packages, a vendored module), one of them gets a layer
// with an extension, and one build makes an image per function from one Dockerfile.
// Stand-in bases (no registry is reachable here).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import {
  containerLogs,
  docker,
  dockerEnv,
  standin,
  startContainer,
  stopAndRemove,
  uniqueRepo,
} from './support/docker.js';
import { FakeLambdaApi } from './support/lambda-api.js';
import { TestRuntimeApi } from './support/runtime-api.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

const FUNCTIONS = ['inventory', 'notify', 'orders', 'payments', 'users'];

interface BuildJson {
  images: Array<{
    function: string;
    variant: string;
    tag: string;
    id: string;
    changed: boolean;
    breakdown: { extensions: number; binary: number };
  }>;
  steps: Record<string, Array<{ name: string; cached: boolean }>>;
}

async function buildJson(dir: string, args: string[] = []): Promise<BuildJson> {
  const r = await runCli(['build', dir, '--json', ...standin(), ...args]);
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as BuildJson;
}

const idsOf = (b: BuildJson) => Object.fromEntries(b.images.map((i) => [i.function, i.id]));

/** Gives the one-line edit of a function's own package (unique: the build cache outlives runs). */
function editFunction(dir: string, name: string): string {
  const file = path.join(dir, 'cmd', name, 'main.go');
  const version = `v2-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const text = readFileSync(file, 'utf8').replace(/const version = "[^"]*"/, `const version = "${version}"`);
  writeFileSync(file, text);
  return version;
}

/** Runs a command in a fresh container of the image (entrypoint replaced) and returns its output. */
async function runIn(image: string, repo: string, script: string): Promise<string> {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [script],
    Labels: { 'org.lambda-image.test-repo': repo },
  });
  try {
    await container.start();
    await container.wait();
    return (await containerLogs(container.id)).trim();
  } finally {
    await container.remove({ force: true });
  }
}

describe.skipIf(!dockerEnv.available)('a project of several functions (real engine)', () => {
  const repo = uniqueRepo('multi');
  let api: FakeLambdaApi;
  let dir: string;
  let initOut: string;
  let built: BuildJson;

  afterAll(async () => {
    await api?.close();
    // Each function's image is <repo>/<function>: uniqueRepo removes <repo>:* only.
    for (const img of await docker.listImages())
      for (const tag of img.RepoTags ?? [])
        if (tag.startsWith(`${repo}/`))
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => {});
  });

  beforeAll(async () => {
    api = await new FakeLambdaApi().start();
    dir = fixtureCopy('go-multi');
    const init = await runCli(['init', dir, '--base', 'alpine']);
    expect(init.code, init.stderr).toBe(0);
    initOut = init.stdout;

    // A layer whose extension only orders carries (a static x86-64 executable stands in for it).
    const arn = 'arn:aws:lambda:us-east-1:123456789012:layer:audit-ext:1';
    api.add({
      arn,
      architectures: ['x86_64'],
      zip: makeZip([
        { name: 'extensions/', mode: 0o040755 },
        { name: 'extensions/audit-ext', data: readFileSync('/bin/busybox'), mode: 0o100755 },
      ]),
    });
    const added = await runCli(['add-extension', arn, dir, '--function', 'orders'], { env: api.env(tmpDir()) });
    expect(added.code, added.stderr).toBe(0);
    const file = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    for (const name of FUNCTIONS) config.functions[name].image = `${repo}/${name}`;
    writeFileSync(file, JSON.stringify(config, null, 2));

    built = await buildJson(dir);
  });

  it('init found the five functions of the module', () => {
    for (const name of FUNCTIONS) expect(initOut).toMatch(new RegExp(`^\\s+${name}\\s+\\./cmd/${name}$`, 'm'));
  });

  it('builds one image per function, each running its own binary (shared packages, vendored module)', async () => {
    expect(built.images.map((i) => [i.function, i.tag])).toEqual(FUNCTIONS.map((n) => [n, `${repo}/${n}:latest`]));
    expect(new Set(built.images.map((i) => i.id)).size).toBe(FUNCTIONS.length);
    for (const image of built.images) {
      const runtime = await new TestRuntimeApi().start();
      const container = await startContainer(image.tag, repo, {
        Env: [`AWS_LAMBDA_RUNTIME_API=${runtime.address}`, 'STAGE=test'],
        HostConfig: { NetworkMode: 'host' },
      });
      try {
        const answer = await runtime.invoke({ id: 7 });
        expect(answer.kind).toBe('response');
        expect(JSON.parse(answer.body)).toMatchObject({
          function: image.function,
          version: 'v1',
          stage: 'test',
          event: { id: 7 },
        });
        expect(JSON.parse(answer.body).greeting).toBeTruthy();
      } finally {
        await stopAndRemove(container);
        await runtime.close();
      }
    }
  });

  it('only the function given the extension has /opt/extensions', async () => {
    for (const image of built.images) {
      const out = await runIn(image.tag, repo, 'ls /opt/extensions 2>/dev/null || echo none');
      expect(out, image.function).toBe(image.function === 'orders' ? 'audit-ext' : 'none');
      expect(image.breakdown.extensions > 0, image.function).toBe(image.function === 'orders');
    }
  });

  it('later functions reuse the shared builder stage: one Go build for all', () => {
    for (const name of FUNCTIONS.slice(1)) {
      const goBuild = built.steps[`${name}/alpine`]!.filter((s) => s.name.includes('go build'));
      expect(goBuild.length, name).toBeGreaterThan(0);
      expect(
        goBuild.every((s) => s.cached),
        name,
      ).toBe(true);
    }
  });

  it('--function builds only that function, and records only its build', async () => {
    const before = JSON.parse(readFileSync(path.join(dir, '.lambda-image/builds.json'), 'utf8'));
    const one = await buildJson(dir, ['--function', 'users']);
    expect(one.images.map((i) => i.function)).toEqual(['users']);
    const after = JSON.parse(readFileSync(path.join(dir, '.lambda-image/builds.json'), 'utf8'));
    for (const name of FUNCTIONS) {
      if (name === 'users')
        expect(after.functions.users.variants.alpine.builtAt).not.toBe(before.functions.users.variants.alpine.builtAt);
      else expect(after.functions[name]).toEqual(before.functions[name]);
    }
  });

  it('an unknown --function is exit 2 naming the functions there are', async () => {
    const r = await runCli(['build', dir, '--function', 'refunds', ...standin()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('its functions: inventory, notify, orders, payments, users');
  });

  it.each([['buildkit'], ['classic']])(
    '%s: after a one-line change in one function, rebuilding all changes exactly that image ID',
    async (builder) => {
      const first = await buildJson(dir, ['--builder', builder]);
      const edited = builder === 'buildkit' ? 'orders' : 'payments';
      const version = editFunction(dir, edited);
      const second = await buildJson(dir, ['--builder', builder]);
      const a = idsOf(first);
      const b = idsOf(second);
      expect(FUNCTIONS.filter((n) => a[n] !== b[n])).toEqual([edited]);
      expect(second.images.filter((i) => i.changed).map((i) => i.function)).toEqual([edited]);
      // And the changed image runs the new code.
      const runtime = await new TestRuntimeApi().start();
      const container = await startContainer(second.images.find((i) => i.function === edited)!.tag, repo, {
        Env: [`AWS_LAMBDA_RUNTIME_API=${runtime.address}`],
        HostConfig: { NetworkMode: 'host' },
      });
      try {
        expect(JSON.parse((await runtime.invoke({})).body)).toMatchObject({ function: edited, version });
      } finally {
        await stopAndRemove(container);
        await runtime.close();
      }
    },
  );
});

describe.skipIf(!dockerEnv.available)('Ctrl-C during the build of several functions', () => {
  const repo = uniqueRepo('multiint');
  afterAll(async () => {
    for (const img of await docker.listImages())
      for (const tag of img.RepoTags ?? [])
        if (tag.startsWith(`${repo}/`))
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => {});
  });

  it('stops the build with exit 130 and removes the packed build context', async () => {
    const dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    const configFile = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    for (const fn of FUNCTIONS) config.functions[fn].image = `${repo}/${fn}`;
    writeFileSync(configFile, JSON.stringify(config));
    editFunction(dir, 'orders'); // not in the build cache: the Go build takes a while
    const tmp = tmpDir('lambda-image-multiint-tmp-');
    const run = await startCliUntil(['build', dir, ...standin()], /building /, { TMPDIR: tmp });
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toContain('interrupted: the build was stopped');
    expect(readdirSync(tmp).filter((f) => f.startsWith('lambda-image-context-'))).toEqual([]);
  }, 180_000);
});
