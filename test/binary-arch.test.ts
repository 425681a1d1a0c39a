// Issue 9 (10): a prebuilt --binary for the wrong architecture is refused at init and at build,
// not first noticed when the function runs. Test binaries are ELF headers written here and a
// tiny Go program cross-compiled for each architecture (never the host's own binaries).
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProject, planBuild } from '../src/app/build.js';
import type { Engine } from '../src/docker/engine.js';
import { runCliInProcess as runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

/** init run from inside the project, so --binary (a typed path) is relative to it. */
const initIn = (dir: string, args: string[]) => runCli(['init', dir, ...args], { cwd: dir });

/** A minimal 64-bit little-endian ELF executable header for a machine (0x3e x86-64, 0xb7 AArch64). */
function elfHeader(machine: number, elfClass: 1 | 2 = 2): Buffer {
  const b = Buffer.alloc(64);
  b.write('\x7fELF', 0, 'latin1');
  b[4] = elfClass;
  b[5] = 1; // little-endian
  b[6] = 1;
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  return b;
}

function project(binary: Buffer): string {
  const dir = tmpDir();
  writeFileSync(path.join(dir, 'bootstrap'), binary, { mode: 0o755 });
  return dir;
}

describe('init checks the binary against --arch', () => {
  it('refuses an arm64 binary for an x86_64 image, naming both and the fix', async () => {
    const dir = project(elfHeader(0xb7));
    const r = await runCli([
      'init',
      dir,
      '--runtime',
      'provided',
      '--binary',
      path.join(dir, 'bootstrap'),
      '--name',
      'fn',
    ]);
    expect(r.code).toBe(13);
    expect(r.stderr).toMatch(/error: binary bootstrap is built for AArch64, but the image is x86_64 \(x86-64\)/);
    expect(r.stderr).toMatch(/hint: use --arch arm64/);
    expect(readFileSync(path.join(dir, 'bootstrap')).length).toBe(64);
    expect(() => readFileSync(path.join(dir, 'lambda-image.json'))).toThrow();
  });

  it('refuses an x86_64 binary for an arm64 image, and a 32-bit one for either', async () => {
    const x86 = project(elfHeader(0x3e));
    expect(
      (
        await runCli([
          'init',
          x86,
          '--runtime',
          'provided',
          '--binary',
          path.join(x86, 'bootstrap'),
          '--arch',
          'arm64',
          '--name',
          'fn',
        ])
      ).code,
    ).toBe(13);
    const i386 = project(elfHeader(0x03, 1));
    const r = await runCli([
      'init',
      i386,
      '--runtime',
      'provided',
      '--binary',
      path.join(i386, 'bootstrap'),
      '--name',
      'fn',
    ]);
    expect(r.code).toBe(13);
    expect(r.stderr).toMatch(/32-bit|machine 0x3/);
  });

  it('accepts matching binaries and scripts', async () => {
    expect(
      (
        await initIn(project(elfHeader(0xb7)), [
          '--runtime',
          'provided',
          '--binary',
          'bootstrap',
          '--arch',
          'arm64',
          '--name',
          'fn',
        ])
      ).code,
    ).toBe(0);
    expect(
      (await initIn(project(elfHeader(0x3e)), ['--runtime', 'provided', '--binary', 'bootstrap', '--name', 'fn'])).code,
    ).toBe(0);
    expect(
      (
        await initIn(project(Buffer.from('#!/bin/sh\necho hi\n')), [
          '--runtime',
          'provided',
          '--binary',
          'bootstrap',
          '--name',
          'fn',
        ])
      ).code,
    ).toBe(0);
  });

  it('reads real Go binaries cross-compiled for each architecture', async () => {
    const src = tmpDir();
    writeFileSync(path.join(src, 'go.mod'), 'module example.com/tiny\n\ngo 1.19\n');
    writeFileSync(path.join(src, 'main.go'), 'package main\n\nfunc main() {}\n');
    for (const [goarch, arch, other] of [
      ['arm64', 'arm64', 'x86_64'],
      ['amd64', 'x86_64', 'arm64'],
    ] as const) {
      const dir = tmpDir();
      execFileSync('go', ['build', '-o', path.join(dir, 'bootstrap'), '.'], {
        cwd: src,
        env: { ...process.env, GOOS: 'linux', GOARCH: goarch, CGO_ENABLED: '0', GOFLAGS: '', GOTOOLCHAIN: 'local' },
      });
      expect(
        (
          await runCli([
            'init',
            dir,
            '--runtime',
            'provided',
            '--binary',
            path.join(dir, 'bootstrap'),
            '--arch',
            other,
            '--name',
            'fn',
          ])
        ).code,
      ).toBe(13);
      expect(
        (
          await runCli([
            'init',
            dir,
            '--runtime',
            'provided',
            '--binary',
            path.join(dir, 'bootstrap'),
            '--arch',
            arch,
            '--name',
            'fn',
          ])
        ).code,
      ).toBe(0);
    }
  }, 120_000); // two real Go cross-compiles: the one unit test given longer than the project's 30 s
});

describe('build checks the binary against the architecture it builds for', () => {
  // An engine that must never be reached: the check comes before any engine call.
  const engine = {
    buildkit: true,
    platform: 'linux/amd64',
    docker: new Proxy({}, { get: () => () => Promise.reject(new Error('the engine was called')) }),
  } as unknown as Engine;

  it('refuses a binary replaced after init by one for another architecture', async () => {
    const dir = project(elfHeader(0x3e));
    expect(
      (await runCli(['init', dir, '--runtime', 'provided', '--binary', path.join(dir, 'bootstrap'), '--name', 'fn']))
        .code,
    ).toBe(0);
    writeFileSync(path.join(dir, 'bootstrap'), elfHeader(0xb7), { mode: 0o755 });
    await expect(planBuild(dir).then((plan) => buildProject(engine, plan))).rejects.toMatchObject({
      code: 'PLATFORM_MISMATCH',
      message: expect.stringMatching(/built for AArch64, but the image is x86_64/),
    });
  });

  it('refuses --arch arm64 for an x86_64 binary', async () => {
    const dir = project(elfHeader(0x3e));
    expect(
      (await runCli(['init', dir, '--runtime', 'provided', '--binary', path.join(dir, 'bootstrap'), '--name', 'fn']))
        .code,
    ).toBe(0);
    await expect(planBuild(dir, { arch: 'arm64' }).then((plan) => buildProject(engine, plan))).rejects.toMatchObject({
      code: 'PLATFORM_MISMATCH',
    });
  });

  it('goes on to the engine when the binary matches', async () => {
    const dir = project(elfHeader(0x3e));
    expect(
      (await runCli(['init', dir, '--runtime', 'provided', '--binary', path.join(dir, 'bootstrap'), '--name', 'fn']))
        .code,
    ).toBe(0);
    const reached = {
      ...engine,
      docker: {
        buildImage: async () => Readable.from([JSON.stringify({ errorDetail: { message: 'stop here' } }) + '\n']),
      },
    } as unknown as Engine;
    await expect(planBuild(dir).then((plan) => buildProject(reached, plan))).rejects.toMatchObject({
      code: 'BUILD_FAILED',
    });
  });
});
