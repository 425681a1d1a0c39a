// push and deploy plans for a project of several functions (pure: no engine, no AWS): each
// function from its own config view, the project's repository shared with <function>-<tag>
// tags, its own repository and Lambda function when it says so, --function selecting, and
// the flags that name one image or function refused for several. Plus the one-function
// project, planned exactly as before.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planDeploys } from '../src/app/deploy.js';
import { planPushes } from '../src/app/push.js';
import { recordBuild, type BuiltVariant } from '../src/project/build-record.js';
import { runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

const ROLE = 'arn:aws:iam::123456789012:role/shop-exec';
const id = (c: string) => `sha256:${c.repeat(64)}`;
const built = (image: string, c: string): BuiltVariant => ({
  variant: 'aws',
  image,
  id: id(c),
  arch: 'x86_64',
  builtAt: '2026-11-27T01:00:00.000Z',
});

/** A project of three functions, each with a recorded build (orders a, users b, payments c). */
async function shop(extra: object = {}): Promise<string> {
  const dir = tmpDir('multiship-plan-');
  writeFileSync(
    path.join(dir, 'lambda-image.json'),
    JSON.stringify({
      name: 'shop',
      tag: 'latest',
      go: { module: 'example.com/shop', version: '1.23' },
      memorySize: 256,
      deploy: { repository: 'shop', region: 'eu-west-1', role: ROLE, environment: { STAGE: 'dev' } },
      functions: {
        orders: { main: './cmd/orders', memorySize: 1024 },
        users: { main: './cmd/users', deploy: { functionName: 'users-prod' } },
        payments: { main: './cmd/payments', deploy: { repository: 'payments-images' }, environment: { PSP: 'x' } },
      },
      ...extra,
    }),
  );
  await recordBuild(dir, [built('orders:latest', 'a')], 'orders');
  await recordBuild(dir, [built('users:latest', 'b')], 'users');
  await recordBuild(dir, [built('payments:latest', 'c')], 'payments');
  return dir;
}

describe('push plans for a project of several functions', () => {
  it('one plan per function, in the config order, each shipping its own recorded image', async () => {
    const plans = await planPushes(await shop(), {});
    expect(plans.map((p) => [p.function, p.local.lookup, p.repository, p.tagPrefix])).toEqual([
      ['orders', id('a'), 'shop', 'orders-'],
      ['users', id('b'), 'shop', 'users-'],
      // Its own repository: plain tags, as a one-function project has.
      ['payments', id('c'), 'payments-images', undefined],
    ]);
    expect(plans.every((p) => p.region === 'eu-west-1')).toBe(true);
  });

  it('--repository puts every function in that one repository, each tag starting with its name', async () => {
    const plans = await planPushes(await shop(), { repository: 'elsewhere', tag: 'v3' });
    expect(plans.map((p) => [p.repository, p.tagPrefix, p.tag])).toEqual([
      ['elsewhere', 'orders-', 'v3'],
      ['elsewhere', 'users-', 'v3'],
      ['elsewhere', 'payments-', 'v3'],
    ]);
  });

  it('--function selects (in the order given); an unknown one is an error listing the known ones', async () => {
    const dir = await shop();
    expect((await planPushes(dir, { functions: ['users', 'orders'] })).map((p) => p.function)).toEqual([
      'users',
      'orders',
    ]);
    await expect(planPushes(dir, { functions: ['nope'] })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'no function named "nope" in lambda-image.json (its functions: orders, users, payments)',
    });
  });

  it('--image names one image: refused for several functions, taken for one', async () => {
    const dir = await shop();
    await expect(planPushes(dir, { image: 'other:1' })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining('--image names one function'),
      hint: 'name the function it is for: --function orders --image ...',
    });
    const [plan] = await planPushes(dir, { image: 'other:1', functions: ['users'] });
    expect(plan!.local.lookup).toBe('other:1');
  });

  it('a tag that would grow too long with the function name is refused before anything is asked', async () => {
    await expect(planPushes(await shop(), { tag: 'x'.repeat(125) })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: expect.stringContaining(`makes orders's tag orders-${'x'.repeat(125)}`),
    });
  });

  it('a function with no recorded build ships its own name:tag, as before builds were recorded', async () => {
    const dir = tmpDir('multiship-plan-');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'shop',
        go: { module: 'example.com/shop', version: '1.23' },
        functions: { orders: { main: './cmd/orders' } },
      }),
    );
    // No record: as before records existed, the function's own name:tag is what ships.
    const [plan] = await planPushes(dir, {});
    expect(plan!.local).toMatchObject({ lookup: 'orders:latest', ref: 'orders:latest' });
  });
});

describe('deploy plans for a project of several functions', () => {
  it('each function to the Lambda function of its own name (or its deploy.functionName), with its own settings', async () => {
    const plans = await planDeploys(await shop(), {});
    expect(
      plans.map((p) => [p.function, p.functionName, p.role, p.settings.memorySize, p.settings.environment]),
    ).toEqual([
      ['orders', 'orders', ROLE, 1024, { STAGE: 'dev' }],
      ['users', 'users-prod', ROLE, 256, { STAGE: 'dev' }],
      ['payments', 'payments', ROLE, 256, { STAGE: 'dev', PSP: 'x' }],
    ]);
    expect(plans.every((p) => p.skipUnchanged)).toBe(true);
    expect((await planDeploys(await shop(), { force: true })).some((p) => p.skipUnchanged)).toBe(false);
  });

  it('--function-name and --image-uri name one function: refused for several, taken with --function', async () => {
    const dir = await shop();
    for (const opts of [{ functionName: 'x' }, { imageUri: 'r.example/x:1' }])
      await expect(planDeploys(dir, opts)).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: expect.stringContaining('and this command would ship 3 functions (orders, users, payments)'),
      });
    const [plan] = await planDeploys(dir, { functionName: 'orders-blue', functions: ['orders'] });
    expect(plan).toMatchObject({ function: 'orders', functionName: 'orders-blue' });
  });

  it('a one-function project is a list of one: named by the project, no prefix, its record at the top, unchanged skipped', async () => {
    const dir = tmpDir('multiship-plan-');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'orders',
        runtime: 'provided',
        binary: 'bootstrap',
        deploy: { repository: 'orders', functionName: 'orders-fn', region: 'eu-west-1' },
      }),
    );
    mkdirSync(path.join(dir, '.lambda-image'));
    await recordBuild(dir, [built('orders:latest', 'd')]);
    const [plan, ...more] = await planDeploys(dir, {});
    expect(more).toEqual([]);
    expect(plan).toMatchObject({ functionName: 'orders-fn', function: 'orders', skipUnchanged: true });
    expect((await planDeploys(dir, { force: true }))[0]!.skipUnchanged).toBe(false);
    expect(plan!.push!.tagPrefix).toBeUndefined();
    expect(plan!.push!.local.lookup).toBe(id('d'));
    // Its one function may be named by its name, and only by it.
    expect((await planDeploys(dir, { functions: ['orders'] })).length).toBe(1);
    await expect(planDeploys(dir, { functions: ['users'] })).rejects.toMatchObject({
      message: 'no function named "users": this project has one function, orders',
    });
  });
});

describe('the CLI', () => {
  const offline = (dir: string) => ({
    DOCKER_HOST: `unix://${dir}/no-engine.sock`,
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
  });

  it.each([['push'], ['deploy']])(
    '%s --function nope: exit 2 with the functions to choose from, nothing asked',
    async (command) => {
      const dir = await shop();
      const r = await runCli([command, dir, '--function', 'nope'], { env: offline(dir) });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(
        'error: no function named "nope" in lambda-image.json (its functions: orders, users, payments)',
      );
      expect(r.stderr).toContain('hint: use one of: --function orders, --function users, --function payments');
      expect(r.stderr).not.toMatch(/Docker engine|AWS/);
    },
  );
});
