// Issue 9 (2): no value from the config or the command line can add a Dockerfile instruction.
// Each class of value is checked against what it is (image reference, handler name, path in the
// project, Go module path, URL), and the render layer refuses control characters on its own.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, makeConfig } from '../src/config/schema.js';
import { renderVariantFiles } from '../src/render/render.js';
import { specFromConfig, type RenderSpec } from '../src/render/variant.js';
import { runCli } from './support/cli.js';
import { parseStages } from './support/dockerfile.js';
import { fixtureCopy } from './support/tmp.js';

const INJECTED = '\nRUN touch /pwned\n';
const base = {
  name: 'fn',
  runtime: 'go',
  base: 'alpine',
  rie: true,
  go: { module: 'example.com/fn', version: '1.23', main: '.' },
};
const ext = { name: 'ext', version: 1, sha256: 'a'.repeat(64), dir: '.lambda-image/layers/ext-1', size: 1, files: 1 };

/** Renders every variant of a config, or returns the config's validation errors. */
function renderConfig(raw: unknown): { errors: string[]; dockerfiles: string[] } {
  const parsed = parseConfig(JSON.stringify(raw));
  if (parsed.errors.length) return { errors: parsed.errors, dockerfiles: [] };
  try {
    const dockerfiles = (['aws', 'alpine', 'alpine-rie'] as const).map(
      (v) =>
        renderVariantFiles(
          specFromConfig(parsed.config!, { variant: { base: v === 'aws' ? 'aws' : 'alpine', rie: v === 'alpine-rie' } })
            .spec,
        ).Dockerfile,
    );
    return { errors: [], dockerfiles };
  } catch (err) {
    return { errors: [(err as Error).message], dockerfiles: [] };
  }
}

const cases: Array<[string, unknown, RegExp]> = [
  ['handler with a newline', { ...base, handler: `bootstrap${INJECTED}` }, /^handler: .*newline/],
  ['handler that closes the JSON of CMD', { ...base, handler: 'x"]\nRUN touch /pwned\nCMD ["x' }, /^handler: /],
  ['handler with a quote', { ...base, handler: 'x"]' }, /^handler: .*quote/],
  ['baseImage with a newline', { ...base, baseImage: `alpine:3.22${INJECTED}` }, /^baseImage: /],
  ['builderImage with a newline', { ...base, builderImage: `golang:1.23${INJECTED}` }, /^builderImage: /],
  ['go.main with a newline', { ...base, go: { ...base.go, main: `cmd${INJECTED}` } }, /^go\.main: .*newline/],
  ['go.main with a space', { ...base, go: { ...base.go, main: 'cmd x' } }, /^go\.main: /],
  ['go.module with a newline', { ...base, go: { ...base.go, module: `example.com/fn${INJECTED}` } }, /^go\.module: /],
  [
    'go.env value with a newline',
    { ...base, go: { ...base.go, env: { GOPROXY: `https://proxy${INJECTED}` } } },
    /^go\.env\.GOPROXY: /,
  ],
  [
    'an unknown go.env setting',
    { ...base, go: { ...base.go, env: { PATH: '/x' } } },
    /^go\.env\.PATH: is not a known setting/,
  ],
  [
    'binary with a newline',
    { ...base, runtime: 'provided', go: undefined, binary: `bootstrap${INJECTED}` },
    /^binary: .*newline/,
  ],
  [
    'extensions[].dir with a newline',
    { ...base, extensions: [{ ...ext, dir: `.lambda-image/layers/ext-1${INJECTED}` }] },
    /^extensions\.0\.dir: /,
  ],
  [
    'extensions[].arn with a newline',
    { ...base, extensions: [{ ...ext, arn: `arn:aws:lambda:x${INJECTED}` }] },
    /^extensions\.0\.arn: /,
  ],
  ['rieFrom (a path) with a newline', { ...base, rieFrom: `rie${INJECTED}` }, /^rieFrom: /],
  ['rieFrom (a URL) with a newline', { ...base, rieFrom: `https://example.com/rie${INJECTED}` }, /^rieFrom: /],
  ['rieFrom (a URL) with a space', { ...base, rieFrom: 'https://example.com/rie /etc/passwd' }, /^rieFrom: /],
];

describe('config values cannot add Dockerfile instructions', () => {
  it.each(cases)('%s is refused with the field named', (_label, raw, pattern) => {
    const { errors, dockerfiles } = renderConfig(raw);
    for (const d of dockerfiles) expect(d).not.toContain('/pwned');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join('\n')).toMatch(pattern);
  });

  it('accepts ordinary values, and quotes the handler as JSON in CMD', () => {
    const { errors, dockerfiles } = renderConfig({
      ...base,
      handler: 'my.handler::v2$x',
      go: { ...base.go, main: 'cmd/fn-1', env: { GOPROXY: 'https://proxy.corp/,direct', GOFLAGS: '-mod=mod' } },
    });
    expect(errors).toEqual([]);
    const aws = parseStages(dockerfiles[0]!);
    expect(aws.at(-1)!.instructions.find((i) => i.keyword === 'CMD')!.args).toBe('["my.handler::v2$x"]');
  });
});

describe('the render layer refuses control characters whatever path they came by', () => {
  const config = makeConfig({
    name: 'fn',
    runtime: 'go',
    base: 'alpine',
    rie: true,
    go: { module: 'example.com/fn', version: '1.23', main: '.' },
  });
  const good = specFromConfig(config).spec;
  const tampered: Array<[string, Partial<RenderSpec>]> = [
    ['baseImage', { baseImage: `alpine${INJECTED}` }],
    ['builderImage', { builderImage: `golang${INJECTED}` }],
    ['goMain', { goMain: `./cmd${INJECTED}` }],
    ['layerDirs', { layerDirs: [`.lambda-image/layers/x${INJECTED}`] }],
    ['rie url', { rie: { kind: 'url', url: `https://example.com/rie${INJECTED}` } }],
    ['rie context path', { rie: { kind: 'context', path: `rie${INJECTED}` } }],
    ['a carriage return', { baseImage: 'alpine\rRUN touch /pwned' }],
  ];
  it.each(tampered)('%s', (_label, change) => {
    expect(() => renderVariantFiles({ ...good, ...change })).toThrow(/refusing to write .* into a Dockerfile/);
  });

  it('handler: JSON-quoted into CMD, so a line break stays inside the string', () => {
    const { Dockerfile } = renderVariantFiles({
      ...good,
      base: 'aws',
      rie: undefined,
      handler: `bootstrap${INJECTED}`,
    });
    expect(Dockerfile.split('\n').filter((l) => l.startsWith('RUN touch'))).toEqual([]);
    expect(Dockerfile).toContain('CMD ["bootstrap\\nRUN touch /pwned\\n"]');
  });
});

describe('command-line values cannot add Dockerfile instructions', () => {
  it('init --base-image with a newline', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base-image', `alpine:3.22${INJECTED}`, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('/pwned');
    expect(r.stderr).toMatch(/error: .*baseImage/);
  });

  it('init --builder-image with a newline', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--builder-image', `golang:1.23${INJECTED}`, '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stdout).not.toContain('/pwned');
  });

  it('init keeps no injected rieFrom from an earlier config, even with --force', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir, '--base', 'alpine', '--rie'])).code).toBe(0);
    const file = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.rieFrom = `rie${INJECTED}`;
    writeFileSync(file, JSON.stringify(config));
    const r = await runCli(['init', dir, '--base', 'alpine', '--rie', '--force']);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).not.toContain('/pwned');
    expect(r.stdout).not.toContain('/pwned');
  });

  it('a hand-written config with an injected handler is refused before anything is written', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir])).code).toBe(0);
    const file = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.handler = `bootstrap${INJECTED}`;
    writeFileSync(file, JSON.stringify(config));
    const before = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const r = await runCli(['extensions', 'list', dir]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/handler: must be a Lambda handler name \(it contains a newline\)/);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(before);
  });
});
