import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeConfig, type ConfigInput } from '../src/config/schema.js';
import { dockerfileOrigin, renderEntryScript, renderVariantFiles } from '../src/render/render.js';
import { parseVariant, specFromConfig, VARIANTS } from '../src/render/variant.js';
import { parseStages } from './support/dockerfile.js';

const goConfig: ConfigInput = {
  name: 'go-hello',
  runtime: 'go',
  go: { module: 'example.com/go-hello', version: '1.23', main: '.' },
};
const providedConfig: ConfigInput = { name: 'rust-fn', runtime: 'provided', binary: 'target/bootstrap' };
const ext = {
  name: 'params-ext',
  version: 2,
  sha256: 'a'.repeat(64),
  architectures: ['x86_64' as const],
  dir: '.lambda-image/layers/params-ext-2',
  size: 10,
  files: 2,
};

function render(
  input: ConfigInput,
  variant: string,
  arch: 'x86_64' | 'arm64',
  withExt: boolean,
  builder: 'buildkit' | 'classic' = 'buildkit',
  goVendor = false,
) {
  const config = makeConfig({ ...input, extensions: withExt ? [ext] : [] });
  return renderVariantFiles(specFromConfig(config, { variant: parseVariant(variant), arch, builder, goVendor }).spec);
}

const matrix = [];
for (const [runtime, input] of [
  ['go', goConfig],
  ['provided', providedConfig],
] as const)
  for (const variant of VARIANTS)
    for (const arch of ['x86_64', 'arm64'] as const)
      for (const withExt of [false, true]) matrix.push({ runtime, input, variant, arch, withExt });

describe('rendered Dockerfiles', () => {
  it.each(matrix)('snapshot: $runtime $variant $arch extensions=$withExt', ({ input, variant, arch, withExt }) => {
    expect(render(input, variant, arch, withExt).Dockerfile).toMatchSnapshot();
  });

  it.each([
    ['classic', false],
    ['classic', true],
    ['buildkit', true],
  ] as const)('snapshot: go alpine, %s builder, vendored=%s', (builder, vendored) => {
    expect(render(goConfig, 'alpine', 'x86_64', false, builder, vendored).Dockerfile).toMatchSnapshot();
  });

  it.each(matrix)(
    'semantics (classic builder): $runtime $variant $arch extensions=$withExt',
    ({ runtime, input, variant, arch, withExt }) => {
      const files = render(input, variant, arch, withExt, 'classic');
      const stages = parseStages(files.Dockerfile);
      const final = stages.at(-1)!;
      const finalText = final.instructions.map((i) => `${i.keyword} ${i.args}`).join('\n');

      // Base of the last stage.
      expect(final.image).toBe(variant === 'aws' ? 'public.ecr.aws/lambda/provided:al2023' : 'alpine:3.22');
      expect(final.platform).toBeNull();

      if (runtime === 'go') {
        const modules = stages.find((s) => s.name === 'modules')!;
        expect(modules.image).toBe('golang:1.23-alpine');
        expect(modules.platform).toBe('$BUILDPLATFORM');
        // Classic builders only expand FROM arguments declared globally.
        expect(stages.globals).toEqual(['ARG BUILDPLATFORM=linux/amd64']);
        // go.mod (and go.sum) copied and modules downloaded before any source is copied.
        expect(modules.instructions.map((i) => `${i.keyword} ${i.args}`)).toEqual([
          'ARG GOPROXY GOPRIVATE GONOSUMDB GONOPROXY GOFLAGS GOINSECURE GOSUMDB',
          'WORKDIR /src',
          'COPY go.mod go.sum* ./',
          'RUN go mod download',
        ]);
        const deps = stages.find((s) => s.name === 'deps')!;
        const build = stages.find((s) => s.name === 'build')!;
        expect([deps.image, build.image]).toEqual(['modules', 'modules']);
        // The imported packages are compiled before the sources arrive, with the final build's flags.
        const warm = build.instructions.findIndex(
          (i) => i.keyword === 'RUN' && i.args.includes('$(cat /tmp/deps.txt)'),
        );
        const srcCopy = build.instructions.findIndex((i) => i.keyword === 'COPY' && i.args === '. .');
        const compile = build.instructions.findIndex(
          (i) => i.keyword === 'RUN' && i.args.includes('-o /out/bootstrap'),
        );
        expect(warm).toBeGreaterThanOrEqual(0);
        expect(warm).toBeLessThan(srcCopy);
        expect(srcCopy).toBeLessThan(compile);
        const goBuild = build.instructions[compile]!.args;
        for (const flag of [
          'CGO_ENABLED=0',
          'GOARCH=$TARGETARCH',
          '-trimpath',
          '-ldflags="-s -w"',
          '-tags lambda.norpc',
        ]) {
          expect(goBuild).toContain(flag);
        }
        for (const flag of ['CGO_ENABLED=0', 'GOARCH=$TARGETARCH', '-trimpath', '-tags lambda.norpc']) {
          expect(build.instructions[warm]!.args).toContain(flag);
          expect(deps.instructions.find((i) => i.keyword === 'RUN')!.args).toContain(
            flag.replace('-trimpath', 'go list'),
          );
        }
        // The binary reaches the final stage inside a tree of fixed times, copied whole onto /.
        expect(finalText).toContain('COPY /tree/bootstrap/ /');
        expect(final.instructions.find((i) => i.args === '/tree/bootstrap/ /' && i.keyword === 'COPY')!.from).toBe(
          'build',
        );
        const tree = build.instructions.find((i) => i.keyword === 'RUN' && i.args.includes('/tree/bootstrap'))!.args;
        expect(tree).toContain('cp /out/bootstrap /tree/bootstrap/var/runtime/bootstrap');
        expect(tree).toContain('touch -h -d "@$SOURCE_DATE_EPOCH"');
        expect(tree).toContain('chown -R 0:0 /tree');
        expect(build.instructions.map((i) => `${i.keyword} ${i.args}`)).toContain('ARG SOURCE_DATE_EPOCH=0');
      } else {
        expect(stages.some((s) => s.name === 'build')).toBe(false);
        expect(stages.globals).toEqual(variant === 'alpine-rie' ? ['ARG BUILDPLATFORM=linux/amd64'] : []);
        expect(finalText).toContain('COPY target/bootstrap /var/runtime/bootstrap');
      }

      // The last stage holds only what runs: no RUN (so no compiler, package manager or cache).
      expect(final.instructions.filter((i) => i.keyword === 'RUN')).toEqual([]);
      expect(finalText).not.toMatch(/go\.mod|COPY \. /);

      if (variant === 'aws') {
        expect(final.instructions.filter((i) => i.keyword === 'ENTRYPOINT')).toEqual([]);
        expect(final.instructions.find((i) => i.keyword === 'CMD')!.args).toBe('["bootstrap"]');
        expect(files['entry.sh']).toBeUndefined();
      } else if (variant === 'alpine-rie') {
        expect(final.instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args).toBe('["/entry.sh"]');
        expect(final.instructions.find((i) => i.keyword === 'CMD')!.args).toBe('["/var/runtime/bootstrap"]');
        const rie = stages.find((s) => s.name === 'rie')!;
        const add = rie.instructions.find((i) => i.keyword === 'ADD')!.args;
        const asset = arch === 'arm64' ? 'aws-lambda-rie-arm64' : 'aws-lambda-rie';
        expect(add).toMatch(new RegExp(`/releases/download/v\\d+\\.\\d+/${asset} /aws-lambda-rie$`));
        expect(add).not.toContain('latest');
        // Exactly one copy of the emulator in the final image, from the stage that made it executable.
        const rieCopies = final.instructions.filter((i) => i.args.includes('aws-lambda-rie'));
        expect(rieCopies).toHaveLength(1);
        expect(rieCopies[0]!.from).toBe('rie');
        // entry.sh starts the emulator from where the Dockerfile puts it.
        const rieTarget = rieCopies[0]!.args.trim().split(/\s+/).pop()!;
        expect(files['entry.sh']).toContain(`exec ${rieTarget} "$@"`);
        expect(
          final.instructions.some((i) => i.keyword === 'COPY' && /entry\.sh \/entry\.sh$/.test(i.args.trim())),
        ).toBe(true);
      } else {
        expect(final.instructions.find((i) => i.keyword === 'ENTRYPOINT')!.args).toBe('["/var/runtime/bootstrap"]');
        expect(finalText).not.toContain('aws-lambda-rie');
        expect(files['entry.sh']).toBeUndefined();
      }

      const layerCopies = final.instructions.filter((i) => i.keyword === 'COPY' && i.args.endsWith('/opt/'));
      expect(layerCopies).toHaveLength(withExt ? 1 : 0);
      if (withExt) expect(layerCopies[0]!.args).toBe('.lambda-image/layers/params-ext-2/ /opt/');
    },
  );

  it('BuildKit: Go module and build caches in cache mounts, no precompile stage', () => {
    const text = render(goConfig, 'alpine', 'x86_64', false).Dockerfile;
    const stages = parseStages(text);
    expect(stages.map((s) => s.name)).toEqual(['modules', 'build', null]);
    const modules = stages[0]!.instructions.map((i) => `${i.keyword} ${i.args}`);
    expect(modules).toContain('ENV GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build');
    expect(text).toContain('RUN --mount=type=cache,id=lambda-image-go-mod,target=/go/pkg/mod go mod download\n');
    const build = stages[1]!.instructions;
    expect(build.map((i) => i.keyword)).toEqual(['ARG', 'ARG', 'COPY', 'RUN', 'ARG', 'RUN']);
    const compile = text.slice(text.indexOf('FROM modules AS build'), text.indexOf('-o /out/bootstrap'));
    expect(compile).toContain('RUN --mount=type=cache,id=lambda-image-go-mod,target=/go/pkg/mod \\\n');
    expect(compile).toContain(
      '--mount=type=cache,id=lambda-image-go-build-golang-1.23-alpine,target=/root/.cache/go-build \\\n',
    );
    expect(compile).not.toContain('-mod=vendor');
  });

  it.each(['buildkit', 'classic'] as const)(
    'vendored (%s): vendor/ copied with go.mod, no download, -mod=vendor on every go command',
    (builder) => {
      const text = render(goConfig, 'alpine', 'x86_64', false, builder, true).Dockerfile;
      const stages = parseStages(text);
      const modules = stages.find((s) => s.name === 'modules')!.instructions.map((i) => `${i.keyword} ${i.args}`);
      expect(modules.slice(-2)).toEqual(['COPY go.mod go.sum* ./', 'COPY vendor/ vendor/']);
      expect(text).not.toContain('go mod download');
      const goCommands = stages
        .flatMap((s) => s.instructions)
        .filter((i) => i.keyword === 'RUN' && /go (build|list)/.test(i.args));
      expect(goCommands.length).toBe(builder === 'classic' ? 3 : 1);
      for (const c of goCommands) expect(c.args).toContain('-mod=vendor');
    },
  );

  it('declares the module settings in every Go stage and never in the final one', () => {
    for (const builder of ['buildkit', 'classic'] as const) {
      const stages = parseStages(render(goConfig, 'aws', 'x86_64', false, builder).Dockerfile);
      for (const stage of stages.slice(0, -1)) {
        expect(stage.instructions.find((i) => i.keyword === 'ARG' && i.args.includes('GOPROXY'))!.args).toBe(
          'GOPROXY GOPRIVATE GONOSUMDB GONOPROXY GOFLAGS GOINSECURE GOSUMDB',
        );
      }
      expect(stages.at(-1)!.instructions.some((i) => /GOPROXY|GOFLAGS/.test(i.args))).toBe(false);
    }
  });

  it('copies several layers to /opt in a single instruction', () => {
    const config = makeConfig({
      ...goConfig,
      extensions: [ext, { ...ext, name: 'other', dir: '.lambda-image/layers/other-1' }],
    });
    const { Dockerfile } = renderVariantFiles(specFromConfig(config).spec);
    const copies = parseStages(Dockerfile)
      .at(-1)!
      .instructions.filter((i) => i.args.endsWith('/opt/'));
    expect(copies.map((c) => c.args)).toEqual([
      '.lambda-image/layers/params-ext-2/ .lambda-image/layers/other-1/ /opt/',
    ]);
  });

  it('copies the emulator from the build context when given a local file, with no download stage', () => {
    const config = makeConfig({ ...goConfig, base: 'alpine', rie: true });
    const { Dockerfile } = renderVariantFiles(
      specFromConfig(config, { rie: { kind: 'context', path: '.lambda-image/rie/aws-lambda-rie' } }).spec,
    );
    const stages = parseStages(Dockerfile);
    expect(stages.map((s) => s.name)).toEqual(['modules', 'build', null]);
    expect(stages.at(-1)!.instructions.filter((i) => i.args.includes('aws-lambda-rie'))).toEqual([
      { keyword: 'COPY', args: '.lambda-image/rie/aws-lambda-rie /usr/local/bin/aws-lambda-rie', from: null },
    ]);
  });

  it('uses a --base-image override for the final stage', () => {
    const config = makeConfig({
      ...goConfig,
      base: 'alpine',
      baseImage: 'mirror.example/alpine@sha256:' + 'b'.repeat(64),
    });
    const { Dockerfile } = renderVariantFiles(specFromConfig(config).spec);
    expect(parseStages(Dockerfile).at(-1)!.image).toBe('mirror.example/alpine@sha256:' + 'b'.repeat(64));
  });

  it('warns about provided:al2 with its 2026 dates and refuses go1.x', () => {
    const al2 = makeConfig({ ...goConfig, baseImage: 'public.ecr.aws/lambda/provided:al2' });
    const { warnings } = specFromConfig(al2);
    expect(warnings.join('\n')).toMatch(/deprecated.*2026-06-30.*2026-07-31.*2026-08-31/);
    const go1 = makeConfig({ ...goConfig, baseImage: 'public.ecr.aws/lambda/go:1' });
    expect(() => specFromConfig(go1)).toThrow(/go1\.x/);
  });

  it('detects hand edits of a generated Dockerfile', () => {
    const { Dockerfile } = render(goConfig, 'aws', 'x86_64', false);
    expect(dockerfileOrigin(Dockerfile)).toBe('generated');
    expect(dockerfileOrigin(Dockerfile.replace('CMD ["bootstrap"]', 'CMD ["other"]'))).toBe('hand-edited');
    expect(dockerfileOrigin('FROM alpine\n')).toBe('foreign');
  });
});

describe('entry.sh', () => {
  it('is POSIX sh and clean under shellcheck', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'entry-'));
    try {
      const file = path.join(dir, 'entry.sh');
      writeFileSync(file, renderEntryScript());
      // Throws (and fails the test) on any finding.
      execFileSync('shellcheck', ['--shell=sh', '--severity=style', file], { stdio: 'pipe' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs the emulator when AWS_LAMBDA_RUNTIME_API is empty and the command itself otherwise', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'entry-'));
    try {
      // Run the real script with the emulator path swapped for a recorder.
      const script = renderEntryScript().replace('/usr/local/bin/aws-lambda-rie', `${dir}/rie`);
      writeFileSync(path.join(dir, 'entry.sh'), script, { mode: 0o755 });
      writeFileSync(path.join(dir, 'rie'), '#!/bin/sh\necho "rie $*"\n', { mode: 0o755 });
      const run = (api: string) =>
        execFileSync('sh', [path.join(dir, 'entry.sh'), 'echo', 'direct'], {
          env: { PATH: process.env.PATH, AWS_LAMBDA_RUNTIME_API: api },
        })
          .toString()
          .trim();
      expect(run('')).toBe('rie echo direct');
      expect(run('127.0.0.1:9001')).toBe('direct');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
