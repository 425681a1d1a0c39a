// push and deploy a project of several functions (fixtures/go-multi) against REAL parts: the
// engine builds each function's image, Debian's docker-registry stores them, and the ECR /
// Lambda control planes of our own making answer the real AWS SDK. What a user notices:
// every function deployed from one repository under <function>-<tag> tags; after a one-line
// change in one function, its image alone has new layers to send and its Lambda function
// alone is updated, the others reported unchanged; --function selects; the first failure
// stops the command and says what was done.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBuildRecord } from '../src/project/build-record.js';
import { REPO_ROOT, runCli, type CliResult } from './support/cli.js';
import { docker, dockerEnv, removeContainersAndImages, uniqueRepo } from './support/docker.js';
import { FakeEcr, FakeLambda, fakeAwsEnv } from './support/fake-aws.mjs';
import { importPlainImage } from './support/plain-image.mjs';
import { TestRegistry } from './support/registry.mjs';
import { tmpDir } from './support/tmp.js';

const ROLE = 'arn:aws:iam::123456789012:role/shop-exec';
const FUNCTIONS = ['orders', 'users', 'payments'] as const;

interface PushJson {
  function: string;
  tag: string;
  digest: string;
  imageUri: string;
  layersPushed: number;
  layersExisting: number;
  unchanged: boolean;
}
interface DeployJson {
  function: string;
  functionName: string;
  action: 'created' | 'updated' | 'unchanged';
  digest: string;
  resolvedImageUri: string;
  push?: PushJson;
}

describe.skipIf(!dockerEnv.available)('push and deploy a project of several functions', () => {
  const repo = uniqueRepo('multiship');
  const registry = new TestRegistry([{ username: 'AWS', password: `pw-${Date.now().toString(36)}` }]);
  let ecr: FakeEcr;
  let lambda: FakeLambda;
  let project: string;
  let env: NodeJS.ProcessEnv;
  const base = `${repo}:base`;

  const cli = (args: string[]): Promise<CliResult> => runCli(args, { env });
  const image = (fn: string) => `${repo}-${fn}`;
  const config = {
    version: 1,
    name: 'shop',
    tag: 'latest',
    runtime: 'go',
    base: 'aws',
    go: { module: 'example.com/shop', version: '1.23' },
    // The final stages stand on an imported image: everything built on a stand-in is refused by push.
    baseImage: base,
    builderImage: dockerEnv.refs?.x86_64.golang,
    deploy: { region: 'eu-west-1', repository: 'shop', role: ROLE, environment: { STAGE: 'dev' } },
    functions: Object.fromEntries(FUNCTIONS.map((f) => [f, { main: `./cmd/${f}`, image: image(f) }])),
  };

  /** `build` of the project: every function's image in one build, recorded per function. */
  async function buildFunctions(): Promise<Record<string, string>> {
    const built = await cli(['build', project]);
    expect(built.code, built.stderr).toBe(0);
    const ids: Record<string, string> = {};
    for (const fn of FUNCTIONS) ids[fn] = (await readBuildRecord(project, fn))!.variants.aws!.id;
    return ids;
  }

  beforeAll(async () => {
    await registry.start();
    ecr = await new FakeEcr(registry).start();
    lambda = await new FakeLambda(registry).start();
    env = { ...fakeAwsEnv(ecr, lambda), DOCKER_CONFIG: tmpDir('multiship-docker-config-') };
    await importPlainImage(docker, repo, 'base', `base ${Date.now()}`);
    project = path.join(tmpDir('multiship-shop-'), 'shop');
    cpSync(path.join(REPO_ROOT, 'fixtures', 'go-multi'), project, { recursive: true });
    writeFileSync(path.join(project, 'lambda-image.json'), JSON.stringify(config, null, 2));
  });

  afterAll(async () => {
    for (const fn of FUNCTIONS) await removeContainersAndImages(image(fn));
    await lambda?.close();
    await ecr?.close();
    await registry.stop();
  });

  it('deploys every function from one repository, then after a change to one updates that one alone', async () => {
    const first = await buildFunctions();
    const created = await cli(['deploy', project, '--create-repository', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const c = JSON.parse(created.stdout) as { functions: DeployJson[]; summary: Record<string, number> };
    expect(c.functions.map((f) => [f.function, f.functionName, f.action])).toEqual([
      ['orders', 'orders', 'created'],
      ['users', 'users', 'created'],
      ['payments', 'payments', 'created'],
    ]);
    expect(c.summary).toEqual({ functions: 3, created: 3, updated: 0, unchanged: 0 });
    // One repository for the project, created once; each function's tag starts with its name.
    expect([...ecr.repositories.keys()]).toEqual(['shop']);
    expect(ecr.requests.filter((r) => r === 'CreateRepository')).toHaveLength(1);
    for (const f of c.functions) {
      expect(f.push!.tag).toBe(`${f.function}-img-${first[f.function]!.slice(7, 19)}`);
      expect(f.resolvedImageUri).toBe(`${registry.host}/shop@${f.digest}`);
      expect(lambda.functions.get(f.function)!.environment).toEqual({ STAGE: 'dev' });
    }
    expect(new Set(c.functions.map((f) => f.digest)).size).toBe(3);

    // Nothing changed: every function is reported unchanged, and Lambda is not asked to update.
    lambda.requests = [];
    const again = await cli(['deploy', project]);
    expect(again.code, again.stderr).toBe(0);
    for (const f of c.functions)
      expect(again.stdout).toContain(`${f.function}: unchanged (${f.digest.slice(0, 19)}… already deployed)`);
    expect(again.stderr).toContain('deployed 3 functions: 0 created, 0 updated, 3 unchanged');
    expect(lambda.requests.filter((r) => /^Update/.test(r))).toEqual([]);

    // A one-line change in one function's own package.
    const main = path.join(project, 'cmd', 'orders', 'main.go');
    writeFileSync(main, readFileSync(main, 'utf8').replace('const version = "v1"', 'const version = "v2"'));
    const second = await buildFunctions();
    expect(FUNCTIONS.filter((f) => second[f] !== first[f])).toEqual(['orders']);

    // push: only the changed function has a layer to send; the others are all in the registry.
    const pushed = await cli(['push', project, '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const p = (JSON.parse(pushed.stdout) as { functions: PushJson[] }).functions;
    const byName = Object.fromEntries(p.map((x) => [x.function, x]));
    expect(byName.orders!.layersPushed).toBe(1); // the function binary
    expect(byName.orders!.layersExisting).toBeGreaterThan(0); // the base, shared
    expect(byName.orders!.unchanged).toBe(false);
    // The others: every layer there, and their tags already named these very images.
    for (const fn of ['users', 'payments']) {
      // The registry's config digest for the tag is the local image ID: no engine push at all.
      expect(byName[fn]!.layersPushed).toBe(0);
      expect(byName[fn]!.pushed).toBe(false);
      expect(byName[fn]!.unchanged).toBe(true);
    }
    expect((JSON.parse(pushed.stdout) as { summary: { unchanged: number } }).summary.unchanged).toBe(2);
    const human = await cli(['push', project, '--function', 'users']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^users \S+@sha256:[0-9a-f]{64} \(unchanged\)$/m);
    expect(human.stderr).toContain(
      'pushed 1 function: 0 with new layers, 1 unchanged (the tag already held the image)',
    );

    lambda.requests = [];
    const updated = await cli(['deploy', project, '--json']);
    expect(updated.code, updated.stderr).toBe(0);
    const u = JSON.parse(updated.stdout) as { functions: DeployJson[]; summary: Record<string, number> };
    expect(u.functions.map((f) => [f.function, f.action])).toEqual([
      ['orders', 'updated'],
      ['users', 'unchanged'],
      ['payments', 'unchanged'],
    ]);
    expect(u.summary).toEqual({ functions: 3, created: 0, updated: 1, unchanged: 2 });
    expect(lambda.requests.filter((r) => r === 'UpdateFunctionCode')).toHaveLength(1);
    expect(lambda.functions.get('orders')!.resolvedImageUri).toBe(`${registry.host}/shop@${u.functions[0]!.digest}`);
    expect(u.functions[0]!.digest).not.toBe(c.functions[0]!.digest);
    expect(u.functions[1]!.digest).toBe(c.functions[1]!.digest);
  });

  it('--function selects; changed settings alone update the configuration; --force updates the code anyway; an unknown name is exit 2', async () => {
    if (!lambda.functions.has('users')) {
      await buildFunctions();
      expect((await cli(['deploy', project, '--create-repository'])).code).toBe(0);
    }
    // Its settings changed, its image did not: the configuration alone is updated.
    const file = path.join(project, 'lambda-image.json');
    const saved = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      JSON.stringify({
        ...config,
        functions: {
          ...config.functions,
          users: { ...config.functions.users, memorySize: 512, ephemeralStorage: 2048 },
        },
      }),
    );
    try {
      lambda.requests = [];
      const settings = await cli(['deploy', project, '--function', 'users', '--json']);
      expect(settings.code, settings.stderr).toBe(0);
      const s = (JSON.parse(settings.stdout) as { functions: Array<DeployJson & { configurationUpdated: boolean }> })
        .functions[0]!;
      expect([s.action, s.configurationUpdated]).toEqual(['updated', true]);
      expect(lambda.functions.get('users')!.memorySize).toBe(512);
      // Its /tmp size goes to Lambda too (the size invoke and start give it).
      expect(lambda.functions.get('users')!.ephemeralStorage).toBe(2048);
      expect(lambda.requests.filter((r) => /^Update/.test(r))).toEqual(['UpdateFunctionConfiguration']);
    } finally {
      writeFileSync(file, saved);
    }

    lambda.requests = [];
    const one = await cli(['deploy', project, '--function', 'users', '--force', '--json']);
    expect(one.code, one.stderr).toBe(0);
    const o = JSON.parse(one.stdout) as { functions: DeployJson[] };
    expect(o.functions.map((f) => [f.function, f.action])).toEqual([['users', 'updated']]);
    expect(lambda.requests.filter((r) => r === 'UpdateFunctionCode')).toHaveLength(1);

    const unknown = await cli(['deploy', project, '--function', 'shipping']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(
      'error: no function named "shipping" in lambda-image.json (its functions: orders, users, payments)',
    );
  });

  it('a function never built stops the command before anything is sent to a registry or Lambda', async () => {
    const file = path.join(project, 'lambda-image.json');
    const saved = readFileSync(file, 'utf8');
    const functions = { inventory: { main: './cmd/inventory', image: image('inventory') }, ...config.functions };
    writeFileSync(file, JSON.stringify({ ...config, functions }));
    try {
      lambda.requests = [];
      ecr.requests = [];
      for (const command of ['push', 'deploy']) {
        const r = await cli([command, project]);
        expect(r.code, r.stderr).toBe(11);
        expect(r.stderr).toContain(`error: inventory: image ${image('inventory')}:latest is not on the engine`);
        expect(r.stderr).toContain('  nothing was pushed or deployed');
      }
      expect(lambda.requests).toEqual([]);
      expect(ecr.requests).toEqual([]);
    } finally {
      writeFileSync(file, saved);
    }
  });

  it('stops at the first function that fails, naming it, what was done and what was not tried', async () => {
    if (!lambda.functions.has('orders')) {
      await buildFunctions();
      expect((await cli(['deploy', project, '--create-repository'])).code).toBe(0);
    }
    lambda.requests = [];
    // Every function updated (--force): orders is, users' update ends Failed, payments is never tried.
    lambda.failUpdateOf.set('users', 'Lambda does not have permission to access the ECR image.');
    const r = await cli(['deploy', project, '--force']);
    expect(r.code, r.stderr).toBe(36);
    expect(r.stdout).toMatch(/^orders: updated /m);
    expect(r.stderr).toMatch(/error: users: .*ended Failed: Lambda does not have permission to access the ECR image\./);
    expect(r.stderr).toContain('  done: orders (updated)');
    expect(r.stderr).toContain('  not done: users (failed), payments (not tried)');
    expect(lambda.requests.filter((x) => x === 'UpdateFunctionCode')).toHaveLength(2);
    expect(lambda.failUpdateOf.size).toBe(0);
  });

  it('deploy --dev (the ci github workflow on dev) sends each function to its dev target; with --function-name it is refused', async () => {
    if (!lambda.functions.has('users')) await buildFunctions();
    const file = path.join(project, 'lambda-image.json');
    const saved = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      JSON.stringify({
        ...config,
        functions: {
          ...config.functions,
          users: { ...config.functions.users, deploy: { devFunctionName: 'users-staging' } },
        },
      }),
    );
    try {
      const r = await cli(['deploy', project, '--dev', '--create-repository', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const d = JSON.parse(r.stdout) as { functions: DeployJson[] };
      expect(d.functions.map((f) => [f.function, f.functionName, f.action])).toEqual([
        ['orders', 'orders-dev', 'created'],
        ['users', 'users-staging', 'created'],
        ['payments', 'payments-dev', 'created'],
      ]);
      for (const name of ['orders-dev', 'users-staging', 'payments-dev']) expect(lambda.functions.has(name)).toBe(true);
      const both = await cli(['deploy', project, '--dev', '--function', 'orders', '--function-name', 'x']);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain('error: --dev and --function-name both name the function to deploy to');
    } finally {
      writeFileSync(file, saved);
    }
  });
});
