// A project of several functions, decided without a daemon: init finds the module's main
// packages, the one Dockerfile (one Go build for all, a final stage per function) and what
// build asks the engine for (one target per function).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProject, planBuild } from '../src/app/build.js';
import { compareImages, formatComparison } from '../src/cli/format.js';
import { makeConfig, type ConfigInput } from '../src/config/schema.js';
import type { Engine } from '../src/docker/engine.js';
import { findMainPackages } from '../src/project/main-packages.js';
import { goExecName, renderVariantFiles } from '../src/render/render.js';
import { parseVariant, specFromConfig } from '../src/render/variant.js';
import { runCliInProcess as runCli } from './support/cli.js';
import { parseStages } from './support/dockerfile.js';
import { fixtureCopy } from './support/tmp.js';

const FUNCTIONS = ['inventory', 'notify', 'orders', 'payments', 'users'];

function readConfig(dir: string) {
  return JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
}

function writeMain(dir: string, rel: string, pkg = 'main', body = 'func main() {}\n') {
  mkdirSync(path.join(dir, rel), { recursive: true });
  writeFileSync(path.join(dir, rel, 'main.go'), `package ${pkg}\n\n${body}`);
}

describe('init in a module with several main packages', () => {
  it('finds every main package, writes one function each, and prints what it found', async () => {
    const dir = fixtureCopy('go-multi');
    const r = await runCli(['init', dir]);
    expect(r.code, r.stderr).toBe(0);
    for (const name of FUNCTIONS) expect(r.stdout).toMatch(new RegExp(`^\\s+${name}\\s+\\./cmd/${name}$`, 'm'));
    const config = readConfig(dir);
    expect(config.functions).toEqual(Object.fromEntries(FUNCTIONS.map((n) => [n, { main: `./cmd/${n}` }])));
    // The Dockerfile on disk is the project's one Dockerfile: a final stage per function.
    const stages = parseStages(readFileSync(path.join(dir, 'Dockerfile'), 'utf8'));
    expect(stages.map((s) => s.name)).toEqual(['modules', 'build', ...FUNCTIONS.map((n) => `fn-${n}`)]);
  });

  it('skips vendor/, testdata/, _ and . folders, nested modules, and packages without func main', async () => {
    const dir = fixtureCopy('go-multi');
    writeMain(dir, 'vendor/example.com/tool');
    writeMain(dir, 'cmd/orders/testdata/fake');
    writeMain(dir, '_old/legacy');
    writeMain(dir, '.hidden/x');
    writeMain(dir, 'tools/gen');
    writeFileSync(path.join(dir, 'tools/go.mod'), 'module example.com/tools\n\ngo 1.23\n');
    writeMain(dir, 'cmd/helper', 'main', 'func helper() {}\n');
    writeMain(dir, 'internal/lib', 'lib', 'func main() {}\n');
    expect((await findMainPackages(dir)).map((m) => m.dir)).toEqual(FUNCTIONS.map((n) => `cmd/${n}`));
  });

  it('one main package below the root stays a one-function project built from it', async () => {
    const dir = fixtureCopy('go-multi');
    // One function named with --function is a project that lists it.
    const r = await runCli(['init', dir, '--function', 'orders=' + path.join(dir, 'cmd/orders'), '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/found 1 function .*\n\s+orders\s+\.\/cmd\/orders\n/);
    // Without --function: a module whose only main package is cmd/api.
    const single = fixtureCopy('go-hello');
    const main = readFileSync(path.join(single, 'main.go'), 'utf8');
    mkdirSync(path.join(single, 'cmd/api'), { recursive: true });
    writeFileSync(path.join(single, 'cmd/api/main.go'), main);
    writeFileSync(path.join(single, 'main.go'), 'package hello\n');
    const one = await runCli(['init', single]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain('found one main package: ./cmd/api');
    const config = readConfig(single);
    expect(config.functions).toBeUndefined();
    expect(config.go.main).toBe('cmd/api');
  });

  it('a module whose root is its one main package is initialised exactly as before', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toMatch(/found/);
    const config = readConfig(dir);
    expect(config.functions).toBeUndefined();
    expect(config.go.main).toBe('.');
  });

  it('two main packages that would get one name are an error naming both, and the --function fix', async () => {
    const dir = fixtureCopy('go-multi');
    writeMain(dir, 'legacy/Orders');
    const r = await runCli(['init', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: main packages cmd\/orders and legacy\/Orders would both be function "orders"/);
    expect(r.stderr).toMatch(/hint: .*--function orders=cmd\/orders --function orders-2=legacy\/Orders/);
    expect(readFileSync(path.join(dir, 'go.mod'), 'utf8')).toContain('module example.com/shop');
    expect(() => readConfig(dir)).toThrow();
  });

  it('--function <name>=<dir> names the functions (checked: inside the module, a main package)', async () => {
    const dir = fixtureCopy('go-multi');
    const ok = await runCli([
      'init',
      dir,
      '--function',
      `shop-orders=${dir}/cmd/orders`,
      '--function',
      `u=${dir}/cmd/users/`,
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readConfig(dir).functions).toEqual({ 'shop-orders': { main: './cmd/orders' }, u: { main: './cmd/users' } });

    const cases: Array<[string[], RegExp]> = [
      [['--function', `x=${dir}/internal/shop`], /--function x=.*internal\/shop: no "package main" in internal\/shop/],
      [['--function', `x=${dir}/..`], /--function x=.* is outside the project directory/],
      [['--function', `Bad=${dir}/cmd/orders`], /--function Bad=.*: a function name must be/],
      [['--function', `${dir}/cmd/orders`], /is not <name>=<dir>/],
      [['--function', `a=${dir}/cmd/orders`, '--function', `a=${dir}/cmd/users`], /--function a is given twice/],
      [['--function', `a=${dir}/cmd/orders`, '--main', `${dir}/cmd/users`], /--main and --function both/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['init', dir, '--force', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('never overwrites without --force; with --force a function keeps the settings it was given', async () => {
    const dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir])).code).toBe(0);
    const config = readConfig(dir);
    config.functions.orders.memorySize = 512;
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify(config));
    writeMain(dir, 'cmd/refunds');
    const again = await runCli(['init', dir]);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/would overwrite .*lambda-image\.json/);
    const forced = await runCli(['init', dir, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    const next = readConfig(dir);
    expect(Object.keys(next.functions)).toEqual([...FUNCTIONS.slice(0, 4), 'refunds', 'users']);
    expect(next.functions.orders).toEqual({ main: './cmd/orders', memorySize: 512 });
  });
});

const multiConfig: ConfigInput = {
  name: 'shop',
  base: 'alpine',
  go: { module: 'example.com/shop', version: '1.23' },
  extensions: [
    {
      name: 'params-ext',
      version: 2,
      sha256: 'a'.repeat(64),
      dir: '.lambda-image/layers/params-ext-2',
      size: 10,
      files: 2,
    },
  ],
  functions: {
    orders: { main: './cmd/orders' },
    users: { main: 'cmd/users', extensions: [] },
    payments: { main: './cmd/payments', extensions: [] },
  },
};

function renderMulti(builder: 'buildkit' | 'classic', variant = 'alpine', input = multiConfig) {
  return renderVariantFiles(
    specFromConfig(makeConfig(input), { variant: parseVariant(variant), builder, goVendor: true }).spec,
  ).Dockerfile;
}

describe('the Dockerfile of a project of several functions', () => {
  it.each(['buildkit', 'classic'] as const)('snapshot (%s)', (builder) => {
    expect(renderMulti(builder)).toMatchSnapshot();
  });

  it.each(['buildkit', 'classic'] as const)(
    '%s: one go build compiles every function; each final stage has only its binary and its own extensions',
    (builder) => {
      const text = renderMulti(builder);
      const stages = parseStages(text);
      const goBuilds = stages
        .flatMap((s) => s.instructions)
        .filter((i) => i.keyword === 'RUN' && /go build .*-o \/out\//.test(i.args));
      expect(goBuilds).toHaveLength(1);
      expect(goBuilds[0]!.args).toMatch(/-o \/out\/ \.\/cmd\/orders \.\/cmd\/users \.\/cmd\/payments$/);
      for (const name of ['orders', 'users', 'payments']) {
        const stage = stages.find((s) => s.name === `fn-${name}`)!;
        expect(stage.image).toBe('alpine:3.22');
        const copies = stage.instructions.filter((i) => i.keyword === 'COPY');
        expect(copies.find((c) => c.from === 'build')!.args).toBe(`/tree/fn-${name}/ /`);
        expect(text).toContain(`cp /out/${name} /tree/fn-${name}/var/runtime/bootstrap`);
        expect(copies.filter((c) => c.args.endsWith('/opt/')).map((c) => c.args)).toEqual(
          name === 'orders' ? ['.lambda-image/layers/params-ext-2/ /opt/'] : [],
        );
        expect(stage.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
      }
    },
  );

  it('mains whose binaries would share a name are built in a folder each', () => {
    const text = renderMulti('buildkit', 'aws', {
      ...multiConfig,
      functions: { a: { main: './cmd/api' }, b: { main: './v2/api' }, c: { main: './cmd/api' } },
    });
    expect(text).toContain('-o /out/1/ ./cmd/api && \\');
    expect(text).toContain('-o /out/2/ ./v2/api\n');
    const stages = parseStages(text);
    // Each stage copies its tree; the build stage fills each tree from its function's binary.
    const binary = (s: string) => new RegExp(`cp (\\S+) /tree/${s}/var/runtime/bootstrap`).exec(text)?.[1];
    expect(stages.find((x) => x.name === 'fn-a')!.instructions.find((i) => i.from === 'build')!.args).toBe(
      '/tree/fn-a/ /',
    );
    expect([binary('fn-a'), binary('fn-b'), binary('fn-c')]).toEqual(['/out/1/api', '/out/2/api', '/out/1/api']);
  });

  it('names binaries as go build -o <dir>/ does (major version elements skipped)', () => {
    expect(goExecName('example.com/shop', './cmd/orders')).toBe('orders');
    expect(goExecName('example.com/shop/v2', '.')).toBe('shop');
    expect(goExecName('example.com/shop', '.')).toBe('shop');
    expect(goExecName('example.com/shop', './cmd/api/v3')).toBe('api');
    expect(goExecName('example.com/shop', './cmd/v1')).toBe('v1');
  });
});

/**
 * An engine that records each build request and "builds" it: the image ID of a tag is whatever
 * `ids` says (a test changes it to play a changed binary). A tag listed in `fail` fails.
 */
function fakeEngine(
  captured: Array<Record<string, unknown>>,
  ids: Map<string, string>,
  fail = new Set<string>(),
): Engine {
  const image = (ref: string) => ({
    inspect: async () => {
      if (!ids.has(ref)) throw Object.assign(new Error('no such image'), { statusCode: 404 });
      return {
        Id: ids.get(ref),
        Os: 'linux',
        Architecture: 'amd64',
        Size: 100,
        RootFS: { Layers: ['a'] },
        Created: '1970-01-01T00:00:00Z',
      };
    },
    history: async () => [{ CreatedBy: 'COPY /out/x /var/runtime/bootstrap', Size: 100 }],
  });
  return {
    buildkit: true,
    platform: 'linux/amd64',
    docker: {
      buildImage: async (context: NodeJS.ReadableStream, options: Record<string, unknown>) => {
        for await (const _ of context);
        captured.push(options);
        const t = options.t as string;
        if (!ids.has(t)) ids.set(t, `sha256:${'1'.repeat(64)}`);
        const line = fail.has(t) ? { errorDetail: { message: 'recorded' } } : { stream: 'done' };
        return Readable.from([JSON.stringify(line) + '\n']);
      },
      getImage: image,
    },
  } as unknown as Engine;
}

describe('build of a project of several functions (what the engine is asked)', () => {
  async function project() {
    const dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    return dir;
  }

  it('plans one target per selected function, tagged <function>:<tag>', async () => {
    const dir = await project();
    const all = await planBuild(dir);
    expect(all.targets.map((t) => [t.function, t.repo, t.stage])).toEqual(FUNCTIONS.map((n) => [n, n, `fn-${n}`]));
    const some = await planBuild(dir, { functions: ['users', 'orders'], tag: ':v7' });
    expect(some.targets.map((t) => t.function)).toEqual(['users', 'orders']);
    expect(some.tag).toBe('v7');
    const one = await planBuild(dir, { functions: ['orders'], tag: 'registry.example/shop-orders:v1' });
    expect(one.targets.map((t) => t.repo)).toEqual(['registry.example/shop-orders']);
  });

  it('refuses an unknown --function (listing the known ones) and one name:tag for several images', async () => {
    const dir = await project();
    await expect(planBuild(dir, { functions: ['refunds'] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('its functions: inventory, notify, orders, payments, users'),
    });
    await expect(planBuild(dir, { tag: 'shop:v2' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      hint: expect.stringContaining('--tag :v2'),
    });
    await expect(planBuild(dir, { tag: ':bad tag' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('asks for each function as a target of the one Dockerfile; --no-cache only for the first', async () => {
    const dir = await project();
    const captured: Array<Record<string, unknown>> = [];
    const plan = await planBuild(dir, {
      functions: ['orders', 'users'],
      noCache: true,
      registryAuth: async () => undefined,
    });
    const result = await buildProject(fakeEngine(captured, new Map()), plan);
    expect(captured.map((o) => [o.t, o.target, o.nocache])).toEqual([
      ['orders:latest', 'fn-orders', true],
      ['users:latest', 'fn-users', false],
    ]);
    expect(captured[1]!.labels).toEqual({
      'org.lambda-image.variant': 'alpine',
      'org.lambda-image.arch': 'x86_64',
      'org.lambda-image.function': 'users',
    });
    expect(result.images.map((i) => [i.function, i.tag])).toEqual([
      ['orders', 'orders:latest'],
      ['users', 'users:latest'],
    ]);
  });

  it('records each function under its name and says which images changed since the previous build', async () => {
    const dir = await project();
    const ids = new Map<string, string>();
    const build = async (opts: Parameters<typeof planBuild>[1] = {}) =>
      buildProject(fakeEngine([], ids), await planBuild(dir, { registryAuth: async () => undefined, ...opts }));
    const first = await build({ variants: ['alpine', 'aws'] });
    expect(first.images.map((i) => `${i.function}/${i.variant}`)).toEqual(
      ['alpine', 'aws'].flatMap((v) => FUNCTIONS.map((f) => `${f}/${v}`)),
    );
    expect(first.images.every((i) => i.changed)).toBe(true);
    const records = JSON.parse(readFileSync(path.join(dir, '.lambda-image/builds.json'), 'utf8'));
    expect(Object.keys(records.functions)).toEqual(FUNCTIONS);
    expect(records.functions.orders.variants.aws.image).toBe('orders:latest-aws');

    ids.set('orders:latest-aws', `sha256:${'2'.repeat(64)}`);
    const second = await build({ variants: ['alpine', 'aws'] });
    expect(second.images.filter((i) => i.changed).map((i) => `${i.function}/${i.variant}`)).toEqual(['orders/aws']);
  });

  it('a failed function build names the function', async () => {
    const dir = await project();
    const plan = await planBuild(dir, { registryAuth: async () => undefined });
    await expect(buildProject(fakeEngine([], new Map(), new Set(['payments:latest'])), plan)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
      message: expect.stringContaining('(function payments)'),
    });
  });

  it('the CLI: unknown --function is exit 2 with the list, before any engine is asked', async () => {
    const dir = await project();
    const r = await runCli(['build', dir, '--function', 'refunds'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:9' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /no function named "refunds" .*\(its functions: inventory, notify, orders, payments, users\)/,
    );
  });
});

describe('the build report of a project of several functions', () => {
  const image = (fn: string, variant: string, size: number, changed: boolean) => ({
    function: fn,
    variant,
    tag: `${fn}:latest-${variant}`,
    baseImage: 'alpine:3.22',
    baseIsStandin: false,
    id: `sha256:${fn.charCodeAt(0).toString(16).repeat(32).slice(0, 64)}`,
    architecture: 'amd64',
    os: 'linux',
    size,
    layers: 3,
    breakdown: { base: 0, binary: size, rie: 0, extensions: 0, other: 0 },
    changed,
  });

  it('has a row per function and variant, compares variants within a function, and counts changed images', () => {
    const images = [
      image('orders', 'alpine', 1000, true),
      image('orders', 'alpine-rie', 1500, true),
      image('users', 'alpine', 800, false),
      image('users', 'alpine-rie', 1300, false),
    ];
    const rows = compareImages(images);
    expect(rows.map((r) => [r.function, r.variant, r.diffBytes])).toEqual([
      ['orders', 'alpine', 0],
      ['orders', 'alpine-rie', 500],
      ['users', 'alpine', 0],
      ['users', 'alpine-rie', 500],
    ]);
    const text = formatComparison(rows, true).split('\n');
    expect(text[0]).toMatch(/^FUNCTION\s+VARIANT\s+BASE\s+SIZE\s+VS SMALLEST\s+LAYERS\s+IMAGE ID$/);
    expect(text[1]).toMatch(/^orders\s+alpine\s+.*smallest\s+3\s+[0-9a-f]{12}\s+changed$/);
    expect(text[3]).toMatch(/^users\s+alpine\s+.*\s+unchanged$/);
    expect(text.at(-1)).toBe('2 of 4 images changed since the previous build');
    // A one-function report is the variant table it always was.
    expect(formatComparison(compareImages(images.slice(0, 2))).split('\n')[0]).toMatch(/^VARIANT\s+BASE/);
  });
});
