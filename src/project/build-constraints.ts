// Go build constraints, as the go command applies them to the build lambda-image runs
// (GOOS=linux, GOARCH per arch, CGO_ENABLED=0, -tags lambda.norpc): which .go files of a
// folder take part. Pure: no Go toolchain, nothing is run.
import type { Arch } from '../config/schema.js';

const KNOWN_OS = new Set(
  'aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris wasip1 windows zos'.split(
    ' ',
  ),
);
const KNOWN_ARCH = new Set(
  '386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm'.split(
    ' ',
  ),
);

/** What Lambda's Go build satisfies. `go1.1` ... `go1.N` come from the Go version built with. */
export interface BuildTarget {
  goos: 'linux';
  goarch: 'amd64' | 'arm64';
  tags: Set<string>;
}

/** The build of a function for `arch` with Go `goVersion` (1.23 or 1.23.4): linux, unix, gc, the arch, go1.x, lambda.norpc; no cgo. */
export function lambdaTarget(arch: Arch, goVersion = '1.23'): BuildTarget {
  const goarch = arch === 'arm64' ? 'arm64' : 'amd64';
  const minor = Number(/^1\.(\d+)/.exec(goVersion)?.[1] ?? '23');
  const tags = new Set(['linux', 'unix', 'gc', goarch, 'lambda.norpc']);
  for (let i = 1; i <= Math.min(minor, 999); i++) tags.add(`go1.${i}`);
  return { goos: 'linux', goarch, tags };
}

/** The target in words, for messages: `linux/amd64, CGO_ENABLED=0`. */
export const describeTarget = (t: BuildTarget): string => `${t.goos}/${t.goarch}, CGO_ENABLED=0`;

/** A file name's _GOOS, _GOARCH or _GOOS_GOARCH suffix matches the target (none: it does). */
export function fileNameMatches(fileName: string, t: BuildTarget): boolean {
  let name = fileName.split('.')[0]!;
  const i = name.indexOf('_');
  if (i < 0) return true;
  name = name.slice(i);
  const l = name.split('_');
  if (l.length >= 2 && l.at(-1) === 'test') l.pop();
  const n = l.length;
  if (n >= 2 && KNOWN_OS.has(l[n - 2]!) && KNOWN_ARCH.has(l[n - 1]!))
    return osMatches(l[n - 2]!, t) && l[n - 1] === t.goarch;
  if (n >= 1 && KNOWN_OS.has(l[n - 1]!)) return osMatches(l[n - 1]!, t);
  if (n >= 1 && KNOWN_ARCH.has(l[n - 1]!)) return l[n - 1] === t.goarch;
  return true;
}

// GOOS=linux also satisfies no other GOOS name (android implies linux, not the reverse).
const osMatches = (os: string, t: BuildTarget): boolean => os === t.goos;

/**
 * The constraint lines of a file's header (before the package clause): `//go:build <expr>`,
 * or, without it, the old `// +build` lines (all must hold).
 */
export function headerConstraints(src: string): { goBuild?: string; plusBuild: string[] } {
  const plusBuild: string[] = [];
  let goBuild: string | undefined;
  let inBlock = false;
  for (const raw of src.split('\n')) {
    const line = raw.trim();
    if (inBlock) {
      if (line.includes('*/')) inBlock = false;
      continue;
    }
    if (line === '') continue;
    if (line.startsWith('/*')) {
      inBlock = !line.includes('*/', 2);
      continue;
    }
    if (!line.startsWith('//')) break;
    const goMatch = /^\/\/go:build(?:\s+(.*))?$/.exec(line);
    if (goMatch && goBuild === undefined) goBuild = (goMatch[1] ?? '').trim();
    const plus = /^\/\/\s*\+build(?:\s+(.*))?$/.exec(line);
    if (plus) plusBuild.push((plus[1] ?? '').trim());
  }
  return { goBuild, plusBuild };
}

/** Whether a file's constraint lines hold for the target. A malformed expression counts as not matching, as go does. */
export function constraintsHold(src: string, t: BuildTarget): boolean {
  const { goBuild, plusBuild } = headerConstraints(src);
  if (goBuild !== undefined) {
    try {
      return evalGoBuild(goBuild, t.tags);
    } catch {
      return false;
    }
  }
  return plusBuild.every((line) => evalPlusBuild(line, t.tags));
}

/** A file that imports "C" needs cgo, which CGO_ENABLED=0 leaves out. */
export function importsC(src: string): boolean {
  const code = src.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
  return /^\s*import\s+(?:\(\s*[^)]*?)?"C"/m.test(code);
}

/** Whether a non-test .go file takes part in the target's build: name suffix, constraints, cgo. */
export function goFileIncluded(fileName: string, src: string, t: BuildTarget): boolean {
  if (fileName.startsWith('.') || fileName.startsWith('_')) return false;
  return fileNameMatches(fileName, t) && constraintsHold(src, t) && !importsC(src);
}

/** `// +build a,b !c`: space-separated alternatives, each a comma-joined conjunction of (possibly !) tags. */
export function evalPlusBuild(line: string, tags: Set<string>): boolean {
  const alternatives = line.split(/\s+/).filter(Boolean);
  if (!alternatives.length) return true;
  return alternatives.some((alt) =>
    alt.split(',').every((term) => {
      const neg = term.startsWith('!');
      const tag = neg ? term.slice(1) : term;
      if (!/^[A-Za-z0-9_.]+$/.test(tag) || tag.startsWith('!')) return false;
      return tags.has(tag) !== neg;
    }),
  );
}

/**
 * `//go:build` expression: tags joined by `&&`, `||`, `!` and parentheses (Go's precedence:
 * ! over && over ||). Throws on a malformed expression.
 */
export function evalGoBuild(expr: string, tags: Set<string>): boolean {
  const tokens = expr.match(/&&|\|\||!|\(|\)|[A-Za-z0-9_.]+|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (): never => {
    throw new Error(`malformed //go:build expression: ${expr}`);
  };
  // Bounded: each call consumes at least one token or throws; depth is capped.
  const or = (depth: number): boolean => {
    if (depth > 100) fail();
    let v = and(depth);
    while (peek() === '||') {
      pos++;
      v = and(depth) || v;
    }
    return v;
  };
  const and = (depth: number): boolean => {
    let v = not(depth);
    while (peek() === '&&') {
      pos++;
      v = not(depth) && v;
    }
    return v;
  };
  const not = (depth: number): boolean => {
    if (depth > 100) fail();
    const tok = tokens[pos++];
    if (tok === '!') return !not(depth + 1);
    if (tok === '(') {
      const v = or(depth + 1);
      if (tokens[pos++] !== ')') fail();
      return v;
    }
    if (tok === undefined || !/^[A-Za-z0-9_.]+$/.test(tok)) fail();
    return tags.has(tok!);
  };
  const v = or(0);
  if (pos !== tokens.length) fail();
  return v;
}
