// A hand-edited functions.<name>.main is checked when a build is planned (before any engine
// work), as init's discovery checks a folder, and the error names the function it belongs to.
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { fixtureCopy } from './support/tmp.js';

const NO_ENGINE = { env: { DOCKER_HOST: 'tcp://127.0.0.1:9' } };

async function project(edit: (functions: Record<string, Record<string, unknown>>) => void): Promise<string> {
  const dir = fixtureCopy('go-multi');
  expect((await runCli(['init', dir])).code).toBe(0);
  const file = path.join(dir, 'lambda-image.json');
  const config = JSON.parse(readFileSync(file, 'utf8'));
  edit(config.functions);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return dir;
}

describe("a function's main, checked at plan time", () => {
  it('a main that does not exist is exit 3 naming the function, its main and the fix, before the engine', async () => {
    const dir = await project((f) => {
      f.orders!.main = './cmd/nope';
    });
    const r = await runCli(['build', dir, '--function', 'orders'], NO_ENGINE);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^error: functions\.orders\.main: \.\/cmd\/nope does not exist$/m);
    expect(r.stderr).toMatch(
      /hint: set functions\.orders\.main in lambda-image\.json to the folder of its main package/,
    );
    // Building every function stops on it too, and blames orders (not the function built first).
    const all = await runCli(['build', dir], NO_ENGINE);
    expect(all.code).toBe(3);
    expect(all.stderr).toMatch(/error: functions\.orders\.main: /);
  });

  it('a main that is a link to a folder outside the project is refused by name, before the engine', async () => {
    const outside = fixtureCopy('go-multi');
    const dir = await project((f) => {
      f.orders!.main = './cmd/linked';
    });
    symlinkSync(path.join(outside, 'cmd/orders'), path.join(dir, 'cmd/linked'));
    const r = await runCli(['build', dir, '--function', 'orders'], NO_ENGINE);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/^error: functions\.orders\.main: \.\/cmd\/linked is a link to .*, outside the project/m);
  });

  it('a library package, or one whose files the build leaves out, is not a main', async () => {
    const lib = await project((f) => {
      f.orders!.main = './internal/shop';
    });
    const r = await runCli(['build', lib, '--function', 'orders'], NO_ENGINE);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /error: functions\.orders\.main: no "package main" in \.\/internal\/shop \(it is package shop\)/,
    );

    const tagged = await project(() => {});
    const main = path.join(tagged, 'cmd/users/main.go');
    writeFileSync(main, `//go:build tools\n\n${readFileSync(main, 'utf8')}`);
    const t = await runCli(['build', tagged, '--function', 'users'], NO_ENGINE);
    expect(t.code).toBe(3);
    expect(t.stderr).toMatch(
      /error: functions\.users\.main: \.\/cmd\/users: build constraints exclude all its Go files/,
    );
  });

  it('a function entry without main says the setting is required, not unknown', async () => {
    const dir = await project((f) => {
      f.orders = { memorySize: 512 };
    });
    const r = await runCli(['build', dir], NO_ENGINE);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /functions\.orders\.main: is required: the folder of the function's main package, such as "\.\/cmd\/orders"/,
    );
    expect(r.stderr).not.toMatch(/not a known setting/);
  });
});
