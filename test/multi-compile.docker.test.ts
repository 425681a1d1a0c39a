// All functions of a project compile in one go build: when one does not compile, a build of
// another (`--function a`) fails too, and the error names the function whose package failed and
// how to build the others. Real engine, stand-in bases.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { tmpDir } from './support/tmp.js';

describe.skipIf(!dockerEnv.available)('a function that does not compile (real engine)', () => {
  const repo = uniqueRepo('compile');

  it('build --function a names function b, whose package failed, and the fix', async () => {
    const dir = path.join(tmpDir(), 'nested');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'go.mod'), 'module example.com/nested\n\ngo 1.23\n');
    for (const d of ['cmd/a', 'cmd/b']) {
      mkdirSync(path.join(dir, d), { recursive: true });
      writeFileSync(path.join(dir, d, 'main.go'), 'package main\n\nfunc main() {}\n');
    }
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    const file = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    // Both images under the test's repository (removed after the file): <repo>:a-<n>, <repo>:b-<n>.
    config.functions.a.image = repo;
    config.functions.b.image = `${repo}-b`;
    writeFileSync(file, JSON.stringify(config));
    writeFileSync(path.join(dir, 'cmd/b/main.go'), 'package main\n\nfunc main() {}\n\nsyntax error\n');

    const r = await runCli(['build', dir, '--function', 'a', ...standin()]);
    expect(r.code).toBe(12);
    expect(r.stderr).toMatch(/\(function a\): the Go build of every function failed on function b \(\.\/cmd\/b\)/);
    expect(r.stderr).toMatch(/cmd\/b\/main\.go:5:1: syntax error/);
    expect(r.stderr).toMatch(
      /hint: all functions compile in one go build: fix the error shown above, or remove b from "functions" in lambda-image\.json to build the others/,
    );
  });
});
