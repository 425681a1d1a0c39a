// A project of several functions: the config's `functions`, each function's own view of the
// project's settings, which functions a command acts on, and one build record per function.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { oneFunction, projectFunctions, selectFunctions } from '../src/config/functions.js';
import { makeConfig, validateConfig, type ConfigInput } from '../src/config/schema.js';
import { BUILD_RECORD, type BuiltVariant, readBuildRecord, recordBuild } from '../src/project/build-record.js';
import { tmpDir } from './support/tmp.js';

const ext = (name: string) => ({
  name,
  version: 1,
  sha256: 'a'.repeat(64),
  dir: `.lambda-image/layers/${name}`,
  size: 1,
  files: 1,
});

const shop: ConfigInput = {
  name: 'shop',
  tag: 'v3',
  go: { module: 'example.com/shop', version: '1.23' },
  memorySize: 256,
  timeout: 10,
  extensions: [ext('telemetry'), ext('secrets')],
  deploy: {
    repository: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop',
    functionName: 'shop-fn',
    devFunctionName: 'shop-dev',
    region: 'eu-west-1',
    environment: { STAGE: 'prod', SHARED: 'project' },
  },
  functions: {
    orders: { main: './cmd/orders', memorySize: 1024, environment: { SHARED: 'orders' }, extensions: ['telemetry'] },
    users: { main: 'cmd/users', image: 'team/users', deploy: { functionName: 'users-prod', region: 'us-east-1' } },
    payments: { main: './cmd/payments', extensions: [] },
  },
};

describe('functions in lambda-image.json', () => {
  it('gives each function the project settings with its own over them', () => {
    const [orders, users, payments] = projectFunctions(makeConfig(shop));
    expect(orders!.name).toBe('orders');
    expect(orders!.config.name).toBe('orders');
    expect(orders!.config.tag).toBe('v3');
    expect(orders!.config.go!.main).toBe('./cmd/orders');
    expect(orders!.config.memorySize).toBe(1024);
    expect(orders!.config.timeout).toBe(10);
    expect(orders!.config.extensions.map((e) => e.name)).toEqual(['telemetry']);
    expect(orders!.config.deploy).toMatchObject({
      repository: shop.deploy!.repository,
      functionName: 'orders',
      region: 'eu-west-1',
      environment: { STAGE: 'prod', SHARED: 'orders' },
    });
    // The project's Lambda names belong to no one function.
    expect(orders!.config.deploy!.devFunctionName).toBeUndefined();
    expect(orders!.config.functions).toBeUndefined();

    expect(users!.config.name).toBe('team/users');
    expect(users!.config.memorySize).toBe(256);
    expect(users!.config.extensions.map((e) => e.name)).toEqual(['telemetry', 'secrets']);
    expect(users!.config.deploy).toMatchObject({ functionName: 'users-prod', region: 'us-east-1' });
    expect(payments!.config.extensions).toEqual([]);
  });

  it('keeps a one-function project as it was', () => {
    const { functions: _f, ...one } = shop;
    const config = makeConfig(one);
    const all = projectFunctions(config);
    expect(all).toHaveLength(1);
    expect(all[0]!.recordKey).toBeUndefined(); // its state at the top of builds.json, as always
    expect(all[0]!.config).toBe(config);
    expect(oneFunction(config, undefined, 'invoke').name).toBe('shop');
    expect(() => selectFunctions(config, ['orders'])).toThrow(/this project has one function, shop/);
  });

  it('selects the named functions, refuses unknown ones, and asks when invoke has several', () => {
    const config = makeConfig(shop);
    expect(selectFunctions(config, undefined).map((f) => f.name)).toEqual(['orders', 'users', 'payments']);
    expect(selectFunctions(config, ['payments', 'orders', 'payments']).map((f) => f.name)).toEqual([
      'payments',
      'orders',
    ]);
    expect(() => selectFunctions(config, ['order'])).toThrow(
      'no function named "order" in lambda-image.json (its functions: orders, users, payments)',
    );
    expect(() => oneFunction(config, undefined, 'invoke')).toThrow(/3 functions \(orders, users, payments\)/);
  });

  it.each([
    [{ Orders: { main: '.' } }, 'functions.Orders'],
    [{ orders: { main: '../x' } }, 'functions.orders.main'],
    [{ orders: { main: '.', memorySize: 64 } }, 'functions.orders.memorySize'],
    [{ orders: { main: '.', timeout: '30' } }, 'functions.orders.timeout: must be a number, written without quotes'],
    [{ orders: { main: '.', cpu: 2 } }, 'functions.orders.cpu: is not a known setting'],
    [{ orders: { main: '.', extensions: ['nope'] } }, 'functions.orders.extensions: "nope" is not one of'],
    [{ a: { main: '.', image: 'same' }, b: { main: '.', image: 'same' } }, 'is already the image of function a'],
    [{ orders: { main: '.', environment: { AWS_REGION: 'x' } } }, 'functions.orders.environment'],
    [{}, 'functions: must list at least one function'],
  ])('refuses %j', (functions, message) => {
    const r = validateConfig({ ...shop, functions });
    expect(r.errors.join('\n')).toContain(message);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a function named %s by name, never drops it', (name) => {
    // As read from lambda-image.json: JSON.parse makes even __proto__ an own key.
    const raw = JSON.parse(`{"functions":{"orders":{"main":"."},"${name}":{"main":"./cmd/x"}}}`) as object;
    const r = validateConfig({ ...shop, ...raw });
    expect(r.config).toBeUndefined();
    expect(r.errors.join('\n')).toContain(`functions.${name}: "${name}" cannot name a function`);
  });
});

describe('build record per function', () => {
  const built = (variant: 'aws' | 'alpine', image: string, hex: string): BuiltVariant => ({
    variant,
    image,
    id: `sha256:${hex.repeat(64)}`,
    arch: 'x86_64',
    builtAt: '2026-11-27T00:00:00.000Z',
  });

  it('keeps each function apart, and the one-function record where it was', async () => {
    const dir = tmpDir('lambda-image-fnrecord-');
    await recordBuild(dir, [built('aws', 'orders:v3', 'a')], 'orders');
    await recordBuild(dir, [built('alpine', 'users:v3', 'b')], 'users');
    await recordBuild(dir, [built('alpine', 'orders:v3-alpine', 'c')], 'orders');
    expect((await readBuildRecord(dir, 'orders'))!.latest).toEqual(['alpine']);
    expect((await readBuildRecord(dir, 'orders'))!.variants.aws!.image).toBe('orders:v3');
    expect((await readBuildRecord(dir, 'users'))!.variants.alpine!.id).toBe(`sha256:${'b'.repeat(64)}`);
    expect(await readBuildRecord(dir, 'payments')).toBeUndefined();
    expect(await readBuildRecord(dir, '__proto__')).toBeUndefined();
    expect((await readBuildRecord(dir))!.latest).toEqual([]);
    const file = JSON.parse(readFileSync(path.join(dir, BUILD_RECORD), 'utf8'));
    expect(Object.keys(file.functions)).toEqual(['orders', 'users']);
  });
});
