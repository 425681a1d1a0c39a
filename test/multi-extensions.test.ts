// Extensions in a project of several functions: add-extension --function gives a layer (fetched
// by ARN from a local server speaking Lambda's REST protocol) to one function only, writing the
// lists the others need so they do not gain it; extensions list/remove --function.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliInProcess as runCli } from './support/cli.js';
import { FakeLambdaApi } from './support/lambda-api.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { fakeElf, makeZip } from './support/zip.js';

const arnFor = (name: string, version = 1) => `arn:aws:lambda:us-east-1:123456789012:layer:${name}:${version}`;
const layerZip = (name: string) =>
  makeZip([
    { name: 'extensions/', mode: 0o040755 },
    { name: `extensions/${name}`, data: fakeElf('x86-64'), mode: 0o100755 },
  ]);

describe('extensions of a project of several functions', () => {
  let api: FakeLambdaApi;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    api = await new FakeLambdaApi().start();
    env = api.env(tmpDir('lambda-image-cache-'));
    for (const name of ['telemetry', 'secrets'])
      api.add({ arn: arnFor(name), zip: layerZip(name), architectures: ['x86_64'] });
  });
  afterAll(() => api.close());

  function project(functions: Record<string, object> = {}): string {
    const dir = fixtureCopy('go-multi');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'shop',
        go: { module: 'example.com/shop', version: '1.23' },
        functions: {
          orders: { main: './cmd/orders' },
          users: { main: './cmd/users' },
          payments: { main: './cmd/payments' },
          ...functions,
        },
      }),
    );
    return dir;
  }
  const config = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
  const names = async (dir: string, fn: string) => {
    const r = await runCli(['extensions', 'list', dir, '--function', fn, '--json']);
    expect(r.code, r.stderr).toBe(0);
    return (JSON.parse(r.stdout) as Array<{ name: string }>).map((e) => e.name);
  };

  it('add-extension --function: only that function holds the layer; the others get the lists they need, and it says so', async () => {
    const dir = project();
    const r = await runCli(['add-extension', arnFor('telemetry'), dir, '--function', 'users'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('added telemetry version 1 to users');
    expect(r.stdout).toContain('wrote the extensions list of orders, payments');
    const c = config(dir);
    expect(c.extensions.map((e: { name: string }) => e.name)).toEqual(['telemetry']);
    expect(c.functions.orders.extensions).toEqual([]);
    expect(c.functions.payments.extensions).toEqual([]);
    expect(c.functions.users.extensions).toBeUndefined(); // it holds every layer, this one included
    expect(await names(dir, 'users')).toEqual(['telemetry']);
    expect(await names(dir, 'orders')).toEqual([]);

    // A second layer for orders: users, which held every layer, keeps the one it had.
    const second = await runCli(['add-extension', arnFor('secrets'), dir, '--function', 'orders'], { env });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('wrote the extensions list of users');
    expect(await names(dir, 'orders')).toEqual(['secrets']);
    expect(await names(dir, 'users')).toEqual(['telemetry']);
    expect(await names(dir, 'payments')).toEqual([]);

    // A layer the project has already: payments is given it, nothing is fetched again.
    const fetched = api.requests.length;
    const again = await runCli(['add-extension', arnFor('telemetry'), dir, '--function', 'payments'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('gave telemetry version 1 (already in the project) to payments');
    expect(api.requests.length).toBe(fetched);
    expect(await names(dir, 'payments')).toEqual(['telemetry']);

    // The project's list says which functions hold each layer.
    const list = await runCli(['extensions', 'list', dir]);
    expect(list.stdout).toMatch(/FUNCTIONS/);
    expect(list.stdout).toMatch(/telemetry .* users,payments/);
    expect(list.stdout).toMatch(/secrets .* orders/);

    // remove --function: out of that function only while another holds it; the last one takes it out of the project.
    const fromUsers = await runCli(['extensions', 'remove', 'telemetry', dir, '--function', 'users']);
    expect(fromUsers.code, fromUsers.stderr).toBe(0);
    expect(fromUsers.stdout).toContain('from users; the other functions keep it');
    expect(await names(dir, 'users')).toEqual([]);
    expect(await names(dir, 'payments')).toEqual(['telemetry']);
    expect(existsSync(path.join(dir, '.lambda-image/layers/telemetry-1'))).toBe(true);
    const last = await runCli(['extensions', 'remove', 'telemetry', dir, '--function', 'payments']);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stdout).toContain('payments was the last function holding it');
    expect(existsSync(path.join(dir, '.lambda-image/layers/telemetry-1'))).toBe(false);
    expect(config(dir).extensions.map((e: { name: string }) => e.name)).toEqual(['secrets']);
    expect(config(dir).functions.payments.extensions).toEqual([]);
    const notHeld = await runCli(['extensions', 'remove', 'secrets', dir, '--function', 'payments']);
    expect(notHeld.code).toBe(2);
    expect(notHeld.stderr).toContain('it is in the images of: orders');
  });

  it('--function is repeatable: add-extension gives the layer to every function named, remove takes it from each, list refuses two', async () => {
    const dir = project();
    const r = await runCli(
      ['add-extension', arnFor('telemetry'), dir, '--function', 'orders', '--function', 'payments'],
      { env },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('added telemetry version 1 to orders, payments');
    expect(r.stdout).toContain('wrote the extensions list of users');
    expect(await names(dir, 'orders')).toEqual(['telemetry']);
    expect(await names(dir, 'payments')).toEqual(['telemetry']);
    expect(await names(dir, 'users')).toEqual([]);

    // A layer the project has: given to both named, in one run.
    const given = await runCli(
      ['add-extension', arnFor('telemetry'), dir, '--function', 'users', '--function', 'orders'],
      { env },
    );
    expect(given.code, given.stderr).toBe(0);
    expect(given.stdout).toContain('gave telemetry version 1 (already in the project) to users, orders');
    expect(await names(dir, 'users')).toEqual(['telemetry']);

    // list shows one function's layers: two are refused, naming both and the fix.
    const list = await runCli(['extensions', 'list', dir, '--function', 'orders', '--function', 'users']);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain('--function was given 2 times (orders, users)');
    expect(list.stderr).toContain('hint: give --function once');

    // remove from two: both lose it, the third keeps it; one not holding it refuses the whole run.
    const refused = await runCli([
      'extensions',
      'remove',
      'telemetry',
      dir,
      '--function',
      'orders',
      '--function',
      'nope',
    ]);
    expect(refused.code).toBe(2);
    expect(await names(dir, 'orders')).toEqual(['telemetry']);
    const removed = await runCli([
      'extensions',
      'remove',
      'telemetry',
      dir,
      '--function',
      'orders',
      '--function',
      'users',
    ]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('from orders, users; the other functions keep it');
    expect(await names(dir, 'orders')).toEqual([]);
    expect(await names(dir, 'users')).toEqual([]);
    expect(await names(dir, 'payments')).toEqual(['telemetry']);
  });

  it('an unknown --function is exit 2 naming the functions, before AWS is asked', async () => {
    const dir = project();
    const before = api.requests.length;
    const r = await runCli(['add-extension', arnFor('telemetry'), dir, '--function', 'nope'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('orders, users, payments');
    expect(api.requests.length).toBe(before);
    expect(config(dir).extensions ?? []).toEqual([]);
  });

  it('add-extension without --function: every function without a list gets it; one with its own list is named', async () => {
    const dir = project({ orders: { main: './cmd/orders', extensions: [] } });
    const r = await runCli(['add-extension', arnFor('secrets'), dir], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'orders lists its own extensions and does not get secrets: add it with --function orders',
    );
    expect(await names(dir, 'users')).toEqual(['secrets']);
    expect(await names(dir, 'orders')).toEqual([]);
    // Removing it from the project takes it out of every list too (the config stays valid).
    const given = await runCli(['add-extension', arnFor('secrets'), dir, '--function', 'orders'], { env });
    expect(given.code, given.stderr).toBe(0);
    const removed = await runCli(['extensions', 'remove', 'secrets', dir]);
    expect(removed.code, removed.stderr).toBe(0);
    expect(config(dir).functions.orders.extensions).toEqual([]);
    expect((await runCli(['extensions', 'list', dir])).code).toBe(0);
  });
});
