// The watch's fast path against the real engine: after a Go edit, the long-lived builder
// compiles and the fast image (the last full build with the binary replaced) is, file by file
// and in its config, what a full build of the same source gives; a broken edit fails with the
// compiler's lines; the same binary makes no new image; the build record never names it.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevLoop, type DevLoop } from '../src/app/dev-loop.js';
import { connectEngine, type Engine } from '../src/docker/engine.js';
import { DEV_IMAGE_LABEL } from '../src/docker/fast-image.js';
import { runCli } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy } from './support/tmp.js';

interface FileFacts {
  type: string;
  uid: number;
  gid: number;
  mode: number;
  sha256: string;
  linkname?: string;
}

/** Every path of an image's file system with its owner, mode and content (an export of a created container). */
async function filesOf(image: string): Promise<Map<string, FileFacts>> {
  const c = await docker.createContainer({ Image: image });
  try {
    const files = new Map<string, FileFacts>();
    const extract = tarStream.extract();
    extract.on('entry', (h, stream, next) => {
      const hash = createHash('sha256');
      stream.on('data', (d) => hash.update(d as Buffer));
      stream.on('end', () => {
        files.set(h.name.replace(/\/$/, ''), {
          type: h.type ?? 'file',
          uid: h.uid ?? 0,
          gid: h.gid ?? 0,
          mode: h.mode ?? 0,
          sha256: hash.digest('hex'),
          ...(h.linkname ? { linkname: h.linkname } : {}),
        });
        next();
      });
    });
    const tar = (await c.export()) as unknown as Readable;
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve);
      extract.on('error', reject);
      tar.pipe(extract);
    });
    return files;
  } finally {
    await c.remove({ force: true });
  }
}

/** Every part of an image's config an environment of it takes (what the engine merges into a container's), and its platform. */
async function configOf(image: string) {
  const { Config, Os, Architecture, Variant } = (await docker.getImage(image).inspect()) as Awaited<
    ReturnType<ReturnType<typeof docker.getImage>['inspect']>
  > & { Variant?: string };
  const { [DEV_IMAGE_LABEL]: _dev, ...labels } = Config.Labels ?? {};
  const c = Config as typeof Config & { Shell?: string[]; StopSignal?: string; Healthcheck?: unknown };
  return {
    Entrypoint: c.Entrypoint,
    Cmd: c.Cmd,
    Env: c.Env,
    User: c.User,
    WorkingDir: c.WorkingDir,
    ExposedPorts: c.ExposedPorts ?? null,
    Volumes: c.Volumes ?? null,
    StopSignal: c.StopSignal ?? null,
    Healthcheck: c.Healthcheck ?? null,
    OnBuild: c.OnBuild ?? null,
    Shell: c.Shell ?? null,
    Labels: labels,
    Os,
    Architecture,
    Variant: Variant ?? null,
  };
}

const refs = () => dockerEnv.refs!.x86_64;
const editMessage = (dir: string, text: string) => {
  const main = path.join(dir, 'main.go');
  writeFileSync(main, readFileSync(main, 'utf8').replace(/Message: "[^"]*"/, `Message: ${JSON.stringify(text)}`));
};
const noFull = async () => {
  throw new Error('a Go edit took the full build');
};

describe.skipIf(!dockerEnv.available)('watch dev loop (fast image)', () => {
  const repo = uniqueRepo('fastloop');
  const volumePrefix = `li-fastloop-${process.pid}`;
  let dir: string;
  let engine: Engine;
  let loop: DevLoop;
  let firstId: string;

  beforeAll(async () => {
    dir = fixtureCopy('go-hello');
    const init = await runCli(['init', dir, '--base', 'alpine', '--name', repo]);
    expect(init.code, init.stderr).toBe(0);
    const built = await runCli(['build', dir, '--json', ...standin()]);
    expect(built.code, built.stderr).toBe(0);
    firstId = (await docker.getImage(`${repo}:latest`).inspect()).Id;
    engine = await connectEngine();
    loop = await startDevLoop(engine, {
      dir,
      build: { baseImages: { alpine: refs().alpine }, builderImage: refs().golang },
      compile: 'builder',
      serving: { [repo]: firstId },
      volumePrefix,
    });
  }, 240_000);

  afterAll(async () => {
    await loop?.stop();
    // The builder's removal may still be under way: a few tries (bounded), then give up.
    for (const v of [
      'go-mod',
      `go-build-${refs()
        .golang.toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')}`,
    ])
      for (let i = 0; i < 20; i++) {
        const gone = await docker
          .getVolume(`${volumePrefix}-${v}`)
          .remove()
          .then(
            () => true,
            (err: { statusCode?: number }) => err.statusCode === 404,
          );
        if (gone) break;
        await new Promise((r) => setTimeout(r, 250));
      }
  });

  it('makes, from a Go edit, the image a full build of the same source makes: same files, owners, modes, content and config', async () => {
    editMessage(dir, 'fast path one');
    const fast = await loop.rebuild(['main.go'], new AbortController().signal, noFull);
    const image = fast.images[0]!;
    expect(image.changed).toBe(true);
    expect(image.id).not.toBe(firstId);
    expect(image.tag).toBe(`${repo}:latest-watch`);

    // The full build of the very same source, as `build` makes it.
    const full = await runCli(['build', dir, '--tag', `${repo}:full`, ...standin()]);
    expect(full.code, full.stderr).toBe(0);
    const [a, b] = await Promise.all([filesOf(image.id), filesOf(`${repo}:full`)]);
    expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
    for (const [p, facts] of b) expect({ path: p, ...a.get(p) }).toEqual({ path: p, ...facts });
    expect(await configOf(image.id)).toEqual(await configOf(`${repo}:full`));

    // Marked as what it is, and never what build/push ship: the build record names the full build only.
    const { Config } = await docker.getImage(image.id).inspect();
    expect(Config.Labels?.[DEV_IMAGE_LABEL]).toBe('watch');
    const record = readFileSync(path.join(dir, '.lambda-image', 'builds.json'), 'utf8');
    expect(record).not.toContain(image.id);
  }, 240_000);

  it('answers with the new code when the fast image runs', async () => {
    editMessage(dir, 'fast path answers');
    const { images } = await loop.rebuild(['main.go'], new AbortController().signal, noFull);
    const out = await runCli(['invoke', '--image', images[0]!.id, '--data', '{}']);
    expect(out.code, out.stderr).toBe(0);
    expect(JSON.parse(out.stdout).message).toBe('fast path answers');
  }, 120_000);

  it('keeps the image served when the binary is the same bytes, and fails with the compiler lines on a broken edit', async () => {
    const before = await loop.rebuild(['main.go'], new AbortController().signal, noFull);
    const main = path.join(dir, 'main.go');
    // Saved again unchanged (go's build ID hashes the sources, so even a comment changes the binary).
    writeFileSync(main, readFileSync(main, 'utf8'));
    const same = await loop.rebuild(['main.go'], new AbortController().signal, noFull);
    expect(same.images[0]).toMatchObject({ id: before.images[0]!.id, changed: false });

    writeFileSync(main, `${readFileSync(main, 'utf8')}\nfunc broken( {\n`);
    const err = await loop.rebuild(['main.go'], new AbortController().signal, noFull).catch((e) => e);
    expect(err.code).toBe('BUILD_FAILED');
    expect(err.message).toBe('build failed at go build');
    expect(err.details.join('\n')).toMatch(/main\.go:\d+/);
  }, 120_000);

  it('takes the full build for a change that is not Go source only', async () => {
    let fullCalls = 0;
    const result = await loop.rebuild(['lambda-image.json'], new AbortController().signal, async () => {
      fullCalls++;
      return { images: [{ function: repo, tag: `${repo}:latest`, id: firstId, changed: false }] };
    });
    expect(fullCalls).toBe(1);
    expect(result.images[0]!.id).toBe(firstId);
  });
});

// A project of several functions (fixtures/go-multi: shared internal/ packages, a vendored
// module) takes the fast path too: only the functions the change concerns are compiled, each
// its own main alone, and each fast image is file by file what the full build of it gives.
describe.skipIf(!dockerEnv.available)('watch dev loop (fast image), a project of several functions', () => {
  const repo = uniqueRepo('fastmulti');
  const volumePrefix = `li-fast2-multi-${process.pid}`;
  const FUNCTIONS = ['inventory', 'notify', 'orders', 'payments', 'users'];
  let dir: string;
  let engine: Engine;
  let loop: DevLoop;
  let first: Record<string, string>;

  const buildIds = async (args: string[] = []) => {
    const r = await runCli(['build', dir, '--json', ...standin(), ...args]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { images: Array<{ function: string; id: string }> };
    return Object.fromEntries(out.images.map((i) => [i.function, i.id]));
  };

  beforeAll(async () => {
    dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    const configFile = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    for (const fn of FUNCTIONS) config.functions[fn].image = `${repo}/${fn}`;
    writeFileSync(configFile, JSON.stringify(config));
    first = await buildIds();
    engine = await connectEngine();
    loop = await startDevLoop(engine, {
      dir,
      build: { baseImages: { alpine: refs().alpine }, builderImage: refs().golang },
      compile: 'builder',
      serving: first,
      volumePrefix,
    });
  }, 600_000);

  afterAll(async () => {
    await loop?.stop();
    for (const v of [
      'go-mod',
      `go-build-${refs()
        .golang.toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')}`,
    ])
      for (let i = 0; i < 20; i++) {
        const gone = await docker
          .getVolume(`${volumePrefix}-${v}`)
          .remove()
          .then(
            () => true,
            (err: { statusCode?: number }) => err.statusCode === 404,
          );
        if (gone) break;
        await new Promise((r) => setTimeout(r, 250));
      }
  });

  it('compiles only the changed functions, swaps each, and each fast image is the full build of it', async () => {
    const edit = (fn: string) => {
      const file = path.join(dir, 'cmd', fn, 'main.go');
      const version = `fast-${fn}-${Date.now().toString(36)}`;
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(/const version = "[^"]*"/, `const version = "${version}"`),
      );
      return version;
    };
    const versions = { orders: edit('orders'), users: edit('users') };
    const fast = await loop.rebuild(['cmd/orders/main.go', 'cmd/users/main.go'], new AbortController().signal, noFull, [
      'orders',
      'users',
    ]);
    expect(fast.images.map((i) => i.function).sort()).toEqual(['orders', 'users']);
    for (const i of fast.images) {
      expect(i.changed).toBe(true);
      expect(i.id).not.toBe(first[i.function]);
      expect(i.tag).toBe(`${repo}/${i.function}:latest-watch`);
    }

    const full = await buildIds();
    // Each edited function's fast image is, file by file, the full build's of it.
    for (const i of fast.images) {
      const [a, b] = await Promise.all([filesOf(i.id), filesOf(full[i.function]!)]);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [p, facts] of b)
        expect({ fn: i.function, path: p, ...a.get(p) }).toEqual({ fn: i.function, path: p, ...facts });
      expect(await configOf(i.id)).toEqual(await configOf(full[i.function]!));
      const out = await runCli(['invoke', '--image', i.id, '--data', '{}']);
      expect(out.code, out.stderr).toBe(0);
      expect(JSON.parse(out.stdout)).toMatchObject({
        function: i.function,
        version: versions[i.function as 'orders' | 'users'],
      });
    }
  }, 600_000);
});
