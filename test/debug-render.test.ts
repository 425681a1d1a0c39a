// The debug variant of the Dockerfile (invoke/start --debug): debug flags, the same base and
// extensions, delve from a pinned release or the build context, in the final stage.
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config/schema.js';
import { renderDockerfile } from '../src/render/render.js';
import { DELVE_VERSION, renderDebugDockerfile } from '../src/render/debug.js';
import { parseVariant, specFromConfig } from '../src/render/variant.js';
import { parseStages } from './support/dockerfile.js';

const ext = {
  name: 'params-ext',
  version: 2,
  sha256: 'a'.repeat(64),
  architectures: ['x86_64' as const],
  dir: '.lambda-image/layers/params-ext-2',
  size: 10,
  files: 2,
};
const spec = (variant: string, arch: 'x86_64' | 'arm64' = 'x86_64') =>
  specFromConfig(
    makeConfig({
      name: 'go-hello',
      runtime: 'go',
      go: { module: 'example.com/go-hello', version: '1.23', main: '.' },
      extensions: [ext],
    }),
    { variant: parseVariant(variant), arch },
  ).spec;

describe('debug Dockerfile', () => {
  for (const variant of ['aws', 'alpine']) {
    for (const delve of [
      { kind: 'install' as const, version: DELVE_VERSION },
      { kind: 'context' as const, path: '.lambda-image/debug/dlv' },
    ]) {
      it(`${variant}, delve ${delve.kind}`, () => {
        const s = spec(variant);
        const text = renderDebugDockerfile(s, delve);
        expect(text).toMatchSnapshot();
        expect(text).toContain('-gcflags="all=-N -l"');
        expect(text).not.toContain('-s -w');
        const stages = parseStages(text);
        const final = stages.at(-1)!;
        // Same base, same extensions, the bootstrap and delve in the final stage.
        expect(final.image).toBe(parseStages(renderDockerfile(s)).at(-1)!.image);
        expect(stages.find((st) => st.name === 'delve')).toBeDefined();
        expect(text).toContain('COPY .lambda-image/layers/params-ext-2/ /opt/');
        expect(text.trimEnd().endsWith('COPY --from=delve /out/dlv /usr/local/bin/dlv')).toBe(true);
        if (delve.kind === 'install')
          expect(text).toContain(`go install github.com/go-delve/delve/cmd/dlv@${DELVE_VERSION}`);
        else expect(text).toContain('COPY .lambda-image/debug/dlv /out/dlv');
      });
    }
  }

  it('refuses a provided runtime with the reason', () => {
    const s = specFromConfig(makeConfig({ name: 'rust-fn', runtime: 'provided', binary: 'target/bootstrap' })).spec;
    expect(() => renderDebugDockerfile(s, { kind: 'install', version: DELVE_VERSION })).toThrow(/Go functions/);
  });
});
