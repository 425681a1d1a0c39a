// Which main packages Lambda's Go build takes (linux, the arch, CGO_ENABLED=0, lambda.norpc):
// build constraints evaluated as the go command does, and discovery that applies them.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  constraintsHold,
  evalGoBuild,
  evalPlusBuild,
  fileNameMatches,
  goFileIncluded,
  lambdaTarget,
} from '../src/project/build-constraints.js';
import { findMainPackages } from '../src/project/main-packages.js';
import { runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

const amd = lambdaTarget('x86_64', '1.23');
const arm = lambdaTarget('arm64', '1.23');

describe('build constraint expressions', () => {
  it('evaluates //go:build with && || ! and parentheses, with Go precedence', () => {
    const t = amd.tags;
    const cases: Array<[string, boolean]> = [
      ['linux', true],
      ['unix && amd64', true],
      ['windows', false],
      ['tools', false],
      ['ignore', false],
      ['cgo', false],
      ['!cgo', true],
      ['gc && lambda.norpc', true],
      ['linux && !arm64', true],
      ['darwin || linux && amd64', true],
      ['(darwin || linux) && arm64', false],
      ['!(windows || darwin)', true],
      ['!!linux', true],
      ['go1.21 && !go1.24', true],
      ['go1.23', true],
      ['go1.24', false],
    ];
    for (const [expr, want] of cases) expect(evalGoBuild(expr, t), expr).toBe(want);
    expect(evalGoBuild('arm64 && linux', arm.tags)).toBe(true);
    for (const bad of ['linux &&', '(linux', 'linux)', 'a b', '&& linux', ''])
      expect(() => evalGoBuild(bad, t), bad).toThrow(/malformed/);
  });

  it('evaluates the old // +build form: spaces are OR, commas AND, lines AND', () => {
    expect(evalPlusBuild('linux,amd64 darwin', amd.tags)).toBe(true);
    expect(evalPlusBuild('linux,arm64', amd.tags)).toBe(false);
    expect(evalPlusBuild('!windows', amd.tags)).toBe(true);
    expect(evalPlusBuild('ignore', amd.tags)).toBe(false);
    expect(constraintsHold('// +build linux\n// +build !cgo\n\npackage main\n', amd)).toBe(true);
    expect(constraintsHold('// +build linux\n// +build cgo\n\npackage main\n', amd)).toBe(false);
    // //go:build wins over // +build when both are there.
    expect(constraintsHold('//go:build linux\n// +build windows\n\npackage main\n', amd)).toBe(true);
    // Only the header counts: a line after the package clause is no constraint.
    expect(constraintsHold('package main\n\n//go:build ignore\n', amd)).toBe(true);
    expect(constraintsHold('// Copyright\n\n/* doc */\n//go:build ignore\n\npackage main\n', amd)).toBe(false);
  });

  it('applies _GOOS / _GOARCH file name suffixes and leaves out files importing "C"', () => {
    expect(fileNameMatches('main_windows.go', amd)).toBe(false);
    expect(fileNameMatches('main_linux.go', amd)).toBe(true);
    expect(fileNameMatches('main_linux_arm64.go', amd)).toBe(false);
    expect(fileNameMatches('main_linux_arm64.go', arm)).toBe(true);
    expect(fileNameMatches('main_amd64.go', amd)).toBe(true);
    expect(fileNameMatches('windows.go', amd)).toBe(true);
    expect(fileNameMatches('my_handler.go', amd)).toBe(true);
    expect(goFileIncluded('main.go', 'package main\n\nimport "C"\n\nfunc main() {}\n', amd)).toBe(false);
    expect(goFileIncluded('main.go', 'package main\n\nimport (\n\t"fmt"\n\t"C"\n)\n', amd)).toBe(false);
    expect(goFileIncluded('main.go', 'package main\n\nimport "fmt"\n\n// "C"\n', amd)).toBe(true);
  });
});

function project(files: Record<string, string>): string {
  const dir = path.join(tmpDir(), 'nested');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'go.mod'), 'module example.com/nested\n\ngo 1.23\n');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  }
  return dir;
}

const MAIN = 'package main\n\nfunc main() {}\n';

describe('discovery applies build constraints', () => {
  const files = {
    'cmd/a/main.go': MAIN,
    'cmd/b/main.go': MAIN,
    'tools/tools.go': `//go:build tools\n\n${MAIN}`,
    'gen/gen.go': `//go:build ignore\n\n${MAIN}`,
    'plat/main.go': `//go:build windows\n\n${MAIN}`,
    'cgo/main.go': 'package main\n\nimport "C"\n\nfunc main() {}\n',
    'win/main_windows.go': MAIN,
    'old/main.go': `// +build ignore\n\n${MAIN}`,
    'armonly/main_arm64.go': MAIN,
    // A library with a //go:build ignore generator beside it is a library, not an error.
    'internal/lib/lib.go': 'package lib\n',
    'internal/lib/gen.go': `//go:build ignore\n\n${MAIN}`,
    // A main whose linux file is taken and whose windows twin is not.
    'cmd/c/main_linux.go': MAIN,
    'cmd/c/main_windows.go': MAIN,
  };

  it('finds only the main packages a linux, CGO_ENABLED=0 build of the arch takes', async () => {
    const dir = project(files);
    const skipped: Array<{ dir: string; reason: string }> = [];
    expect((await findMainPackages(dir, amd, skipped)).map((m) => m.dir)).toEqual(['cmd/a', 'cmd/b', 'cmd/c']);
    expect(skipped.map((s) => s.dir).sort()).toEqual(['armonly', 'cgo', 'gen', 'old', 'plat', 'tools', 'win']);
    expect((await findMainPackages(dir, arm)).map((m) => m.dir)).toEqual(['armonly', 'cmd/a', 'cmd/b', 'cmd/c']);
  });

  it('init lists only those, and says which main packages it left out and why', async () => {
    const dir = project(files);
    const r = await runCli(['init', dir]);
    expect(r.code, r.stderr).toBe(0);
    const config = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    expect(Object.keys(config.functions)).toEqual(['a', 'b', 'c']);
    expect(r.stderr).toMatch(
      /not a function: \.\/tools: build constraints exclude all its Go files from the build for Lambda \(linux\/amd64, CGO_ENABLED=0\)/,
    );
    const named = await runCli([
      'init',
      dir,
      '--force',
      '--function',
      `a=${dir}/cmd/a`,
      '--function',
      `t=${dir}/tools`,
    ]);
    expect(named.code).toBe(2);
    expect(named.stderr).toMatch(/--function t=.*tools: tools: build constraints exclude all its Go files/);
  });
});
