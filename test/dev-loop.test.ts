// The watch's compile is the Dockerfile's: the rendered build stage runs exactly the command
// goCompileFor describes (for each builder, vendored or not, each architecture), and the
// fast path only takes edits that change nothing but the binary.
import { describe, expect, it } from 'vitest';
import { onlyGoSources } from '../src/app/dev-loop.js';
import { makeConfig } from '../src/config/schema.js';
import { goCompileFor, goCompileLine } from '../src/render/go-compile.js';
import { renderVariantFiles } from '../src/render/render.js';
import { specFromConfig } from '../src/render/variant.js';

const config = makeConfig({
  name: 'fn',
  runtime: 'go',
  base: 'alpine',
  go: { module: 'example.com/fn', version: '1.23', main: './cmd/fn' },
});

describe('watch compile', () => {
  for (const builder of ['buildkit', 'classic'] as const)
    for (const goVendor of [false, true])
      for (const arch of ['x86_64', 'arm64'] as const)
        it(`is the Dockerfile's go build (${builder}, vendor ${goVendor}, ${arch})`, () => {
          const { spec } = specFromConfig(config, { builder, goVendor, arch });
          const compile = goCompileFor(spec, { GOFLAGS: '-mod=mod', OTHER: 'x' })!;
          const { Dockerfile } = renderVariantFiles(spec);
          const line = Dockerfile.replace(/ *\\\n\s*/g, ' ');
          expect(line).toContain(`CGO_ENABLED=0 GOOS=linux GOARCH=$TARGETARCH ${goCompileLine(compile)}`);
          expect(compile.env).toMatchObject({
            CGO_ENABLED: '0',
            GOOS: 'linux',
            GOARCH: arch === 'arm64' ? 'arm64' : 'amd64',
            GOFLAGS: '-mod=mod',
          });
          // Only the module settings are ARGs of the Go stages.
          expect(compile.env.OTHER).toBeUndefined();
        });

  it("compiles one function of a project of several alone, with the flags of the stage's go build of them all", () => {
    const multi = makeConfig({
      name: 'shop',
      runtime: 'go',
      base: 'alpine',
      go: { module: 'example.com/shop', version: '1.23', main: '.' },
      functions: { orders: { main: './cmd/orders' }, users: { main: './cmd/users' } },
    });
    const { spec } = specFromConfig(multi, { builder: 'buildkit' });
    const orders = goCompileFor(spec, {}, 'orders')!;
    expect(orders.main).toBe('./cmd/orders');
    expect(goCompileFor(spec, {}, 'users')!.main).toBe('./cmd/users');
    expect(goCompileFor(spec, {}, 'nobody')).toBeUndefined();
    const line = renderVariantFiles(spec).Dockerfile.replace(/ *\\\n\s*/g, ' ');
    // The Dockerfile's one go build of every main, with the same flags as the compile of one.
    expect(line).toContain(
      `${orders.args.join(' ').replace('-ldflags=-s -w', '-ldflags="-s -w"')} -o /out/ ./cmd/orders ./cmd/users`,
    );
  });

  it('takes Go sources and module files only', () => {
    expect(onlyGoSources(['main.go', 'internal/x/y.go', 'go.mod', 'go.sum', 'vendor/modules.txt'])).toBe(true);
    expect(onlyGoSources(['main.go', 'lambda-image.json'])).toBe(false);
    expect(onlyGoSources(['static/index.html'])).toBe(false);
    expect(onlyGoSources([])).toBe(false);
  });
});
