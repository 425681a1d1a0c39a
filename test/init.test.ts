import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess as runCli } from './support/cli.js';
import { fixtureCopy, listFiles, tmpDir } from './support/tmp.js';

/** A failing command: non-zero exit, one "error:" line (plus an optional hint), nothing on stdout. */
function expectCleanFailure(r: { code: number; stdout: string; stderr: string }, code: number, pattern: RegExp) {
  expect(r.code).toBe(code);
  const lines = r.stderr.trim().split('\n');
  const errorLines = lines.filter((l) => l.startsWith('error:'));
  expect(errorLines).toHaveLength(1);
  expect(errorLines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('lambda-image init', () => {
  it('writes Dockerfile, entry.sh, .dockerignore and lambda-image.json for alpine + RIE', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base', 'alpine', '--rie', '--arch', 'arm64']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/created Dockerfile/);
    expect(listFiles(dir)).toEqual([
      '.dockerignore',
      'Dockerfile',
      'entry.sh',
      'go.mod',
      'lambda-image.json',
      'main.go',
    ]);
    expect(statSync(path.join(dir, 'entry.sh')).mode & 0o111).toBe(0o111);
    const config = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    expect(config).toMatchObject({
      name: 'go-hello',
      base: 'alpine',
      rie: true,
      arch: 'arm64',
      go: { module: 'example.com/go-hello', version: '1.23' },
    });
    const dockerfile = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile.split('\n')[0]).toMatch(/^# lambda-image: generated from lambda-image.json/);
    expect(dockerfile).toContain('aws-lambda-rie-arm64');
  });

  it('defaults to the AWS al2023 base with no entry.sh', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir])).code).toBe(0);
    expect(existsSync(path.join(dir, 'entry.sh'))).toBe(false);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain('FROM public.ecr.aws/lambda/provided:al2023');
  });

  it('--dry-run prints the files and writes nothing', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base', 'alpine', '--rie', '--dry-run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('==> Dockerfile (would create)');
    expect(r.stdout).toContain('exec /usr/local/bin/aws-lambda-rie "$@"');
    expect(listFiles(dir)).toEqual(['go.mod', 'main.go']);
  });

  it('packages a prebuilt binary with --runtime provided', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
    const r = await runCli(['init', dir, '--runtime', 'provided', '--binary', 'bootstrap', '--name', 'my-fn'], {
      cwd: dir,
    });
    expect(r.code).toBe(0);
    const dockerfile = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('COPY bootstrap /var/runtime/bootstrap');
    expect(dockerfile).not.toContain('golang');
  });

  it('warns about provided:al2 with the 2026 dates', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base-image', 'public.ecr.aws/lambda/provided:al2']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: .*deprecated.*2026-06-30.*2026-07-31.*2026-08-31/);
  });

  it('re-running with the same options changes nothing; different options need --force', async () => {
    const dir = fixtureCopy('go-hello');
    await runCli(['init', dir]);
    const again = await runCli(['init', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/unchanged Dockerfile/);
    const before = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const conflict = await runCli(['init', dir, '--base', 'alpine']);
    expectCleanFailure(conflict, 4, /would overwrite Dockerfile, lambda-image.json/);
    expect(conflict.stderr).toMatch(/hint: .*--force/);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(before);
    const forced = await runCli(['init', dir, '--base', 'alpine', '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain('FROM alpine:3.22');
  });

  it('never silently overwrites a hand-edited Dockerfile', async () => {
    const dir = fixtureCopy('go-hello');
    await runCli(['init', dir]);
    const file = path.join(dir, 'Dockerfile');
    writeFileSync(file, readFileSync(file, 'utf8') + 'LABEL mine=yes\n');
    const r = await runCli(['init', dir, '--base', 'alpine']);
    expectCleanFailure(r, 4, /Dockerfile \(hand-edited\)/);
    expect(readFileSync(file, 'utf8')).toContain('LABEL mine=yes');
    const forced = await runCli(['init', dir, '--base', 'alpine', '--force']);
    expect(forced.stderr).toMatch(/warning: replacing hand edits in Dockerfile/);
  });

  it('keeps an existing .dockerignore', async () => {
    const dir = fixtureCopy('go-hello');
    writeFileSync(path.join(dir, '.dockerignore'), 'mine\n');
    expect((await runCli(['init', dir])).code).toBe(0);
    expect(readFileSync(path.join(dir, '.dockerignore'), 'utf8')).toBe('mine\n');
  });

  describe('bad input: non-zero exit, one clear line, nothing written', () => {
    const cases: Array<[string, (dir: string) => string[], number, RegExp]> = [
      [
        'unknown --base',
        (d) => ['init', d, '--base', 'ubuntu'],
        2,
        /argument 'ubuntu' is invalid\. Allowed choices are aws, alpine/,
      ],
      [
        'unknown --arch',
        (d) => ['init', d, '--arch', 'amd64'],
        2,
        /argument 'amd64' is invalid\. Allowed choices are x86_64, arm64/,
      ],
      [
        'a missing main package',
        (d) => ['init', d, '--main', `${d}/cmd/nope`],
        2,
        /main package directory cmd\/nope does not exist/,
      ],
      ['a go1.x base', (d) => ['init', d, '--base-image', 'public.ecr.aws/lambda/go:1'], 2, /go1\.x runtime/],
      [
        'an invalid image name',
        (d) => ['init', d, '--name', 'Bad Name'],
        2,
        /invalid name: must be a Docker image name/,
      ],
    ];
    it.each(cases)('%s', async (_label, args, code, pattern) => {
      const dir = fixtureCopy('go-hello');
      const r = await runCli(args(dir));
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(listFiles(dir)).toEqual(['go.mod', 'main.go']);
    });

    it('no go.mod and no --binary', async () => {
      const dir = tmpDir();
      const r = await runCli(['init', dir]);
      expectCleanFailure(r, 2, /no go\.mod in /);
      expect(r.stderr).toMatch(/hint: .*--runtime provided --binary/);
      expect(listFiles(dir)).toEqual([]);
    });

    it('an unparsable go.mod', async () => {
      const dir = tmpDir();
      writeFileSync(path.join(dir, 'go.mod'), 'this is not a go.mod\n');
      writeFileSync(path.join(dir, 'main.go'), 'package main\nfunc main() {}\n');
      expectCleanFailure(await runCli(['init', dir]), 2, /go\.mod has no "module" line/);
      expect(listFiles(dir)).toEqual(['go.mod', 'main.go']);
    });

    it('a directory without package main', async () => {
      const dir = tmpDir();
      writeFileSync(path.join(dir, 'go.mod'), 'module x\n\ngo 1.23\n');
      writeFileSync(path.join(dir, 'lib.go'), 'package lib\n');
      expectCleanFailure(await runCli(['init', dir]), 2, /no "package main" in \./);
      expect(listFiles(dir)).toEqual(['go.mod', 'lib.go']);
    });

    it('a non-executable --binary', async () => {
      const dir = tmpDir();
      writeFileSync(path.join(dir, 'bootstrap'), 'x', { mode: 0o644 });
      expectCleanFailure(
        await runCli(['init', dir, '--runtime', 'provided', '--binary', 'bootstrap'], { cwd: dir }),
        2,
        /not executable/,
      );
      expect(listFiles(dir)).toEqual(['bootstrap']);
    });

    it('an invalid lambda-image.json', async () => {
      const dir = fixtureCopy('go-hello');
      writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify({ name: 'go-hello', base: 'ubuntu' }));
      const r = await runCli(['init', dir]);
      expectCleanFailure(r, 3, /lambda-image\.json is invalid: .*base: /);
      expect(listFiles(dir)).toEqual(['go.mod', 'lambda-image.json', 'main.go']);
    });

    it('a read-only directory', async () => {
      const dir = fixtureCopy('go-hello');
      const asUser = readOnlyFor(dir);
      try {
        const r = await runCli(['init', dir], asUser);
        expectCleanFailure(r, 5, /cannot write .*Dockerfile: EACCES/);
        expect(listFiles(dir)).toEqual(['go.mod', 'main.go']);
      } finally {
        chmodSync(dir, 0o755);
      }
    });
  });
});

/**
 * Makes a directory read-only for the CLI under test. Root ignores permission bits, so as
 * root the CLI runs as nobody (no mount or other capability needed); returns the run options.
 */
function readOnlyFor(dir: string): { uid?: number; gid?: number } {
  chmodSync(dir, 0o555);
  if (process.getuid?.() !== 0) return {};
  chmodSync(path.dirname(dir), 0o755); // the temporary parent, made 0700
  return { uid: 65534, gid: 65534 };
}
