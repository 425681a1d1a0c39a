// Function names of a project of several: each must be a valid Docker repository path
// component (it names the image) and a Lambda function name; init derives such names.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/schema.js';
import { runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

function module(mains: string[]): string {
  const dir = path.join(tmpDir(), 'names');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'go.mod'), 'module example.com/names\n\ngo 1.23\n');
  for (const m of mains) {
    mkdirSync(path.join(dir, m), { recursive: true });
    writeFileSync(path.join(dir, m, 'main.go'), 'package main\n\nfunc main() {}\n');
  }
  return dir;
}

const withFunction = (name: string) =>
  JSON.stringify({
    name: 'names',
    go: { module: 'example.com/names', version: '1.23' },
    functions: { [name]: { main: './cmd/a' }, other: { main: './cmd/b' } },
  });

describe('function names', () => {
  it('a hand-written key Docker would refuse is a config error naming it and the rule', () => {
    for (const bad of ['orders_', 'a___b', '_orders', 'orders-', 'x.y', 'Orders', 'a'.repeat(65)]) {
      const r = parseConfig(withFunction(bad));
      expect(r.errors, bad).toEqual([
        `functions.${bad}: a function name must be at most 64 lower case letters and digits, joined by -, _ or __ (no - or _ at either end, no ___)`,
      ]);
    }
    for (const good of ['orders', 'a_b', 'a__b', 'a---b', 'v2', 'a'.repeat(64)])
      expect(parseConfig(withFunction(good)).errors, good).toEqual([]);
  });

  it('init derives names Docker and Lambda take, and names cmd/tool/v2 `tool` as go build does', async () => {
    const dir = module(['cmd/orders_', 'cmd/a___b', 'cmd/x.y', 'cmd/tool/v2', 'cmd/-Lead--x-']);
    const r = await runCli(['init', dir]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    expect(config.functions).toEqual({
      'a-b': { main: './cmd/a___b' },
      'lead--x': { main: './cmd/-Lead--x-' },
      orders: { main: './cmd/orders_' },
      tool: { main: './cmd/tool/v2' },
      'x-y': { main: './cmd/x.y' },
    });
  });

  it('--function with a name Docker would refuse is exit 2 before anything is written', async () => {
    const dir = module(['cmd/orders', 'cmd/users']);
    const r = await runCli(['init', dir, '--function', `orders_=${dir}/cmd/orders`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--function orders_=.*: a function name must be .*no - or _ at either end/);
  });
});
