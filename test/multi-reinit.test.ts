// `init --force` on a project that lists functions: a function whose main package is found
// again keeps its name and settings (matched by main folder), new mains are added, and the
// ones whose main is gone are dropped with a word.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { fixtureCopy } from './support/tmp.js';

const readConfig = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));

describe('init --force on a project of several functions', () => {
  it('keeps user-named functions and their settings by main folder, adds new ones, says which it dropped', async () => {
    const dir = fixtureCopy('go-multi');
    const first = await runCli([
      'init',
      dir,
      '--function',
      `order-svc=${dir}/cmd/orders`,
      '--function',
      `users=${dir}/cmd/users`,
      '--function',
      `pay=${dir}/cmd/payments`,
    ]);
    expect(first.code, first.stderr).toBe(0);
    const config = readConfig(dir);
    config.functions['order-svc'].memorySize = 1024;
    config.functions['order-svc'].deploy = { functionName: 'prod-orders' };
    config.functions.users.environment = { TABLE: 'users' };
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify(config, null, 2));
    rmSync(path.join(dir, 'cmd/payments'), { recursive: true });
    mkdirSync(path.join(dir, 'cmd/refunds'));
    writeFileSync(path.join(dir, 'cmd/refunds/main.go'), 'package main\n\nfunc main() {}\n');

    const r = await runCli(['init', dir, '--force']);
    expect(r.code, r.stderr).toBe(0);
    const next = readConfig(dir);
    expect(next.functions).toEqual({
      inventory: { main: './cmd/inventory' },
      notify: { main: './cmd/notify' },
      'order-svc': { main: './cmd/orders', memorySize: 1024, deploy: { functionName: 'prod-orders' } },
      refunds: { main: './cmd/refunds' },
      users: { main: './cmd/users', environment: { TABLE: 'users' } },
    });
    expect(r.stdout).toMatch(/^\s+order-svc\s+\.\/cmd\/orders$/m);
    expect(r.stdout).toMatch(/^\s+refunds\s+\.\/cmd\/refunds\s+\(new\)$/m);
    expect(r.stderr).toMatch(/dropped function pay \(\.\/cmd\/payments\): no main package there any more/);
  });

  it('a new main whose found name a kept function holds gets the next free name', async () => {
    const dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir])).code).toBe(0);
    const config = readConfig(dir);
    // The user moved "orders" to a folder of its own; cmd/orders is now another function.
    config.functions.orders.main = './legacy/orders-v1';
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify(config, null, 2));
    mkdirSync(path.join(dir, 'legacy/orders-v1'), { recursive: true });
    writeFileSync(path.join(dir, 'legacy/orders-v1/main.go'), 'package main\n\nfunc main() {}\n');
    const r = await runCli(['init', dir, '--force']);
    expect(r.code, r.stderr).toBe(0);
    const fns = readConfig(dir).functions;
    expect(fns.orders).toEqual({ main: './legacy/orders-v1' });
    expect(fns['orders-2']).toEqual({ main: './cmd/orders' });
  });
});
