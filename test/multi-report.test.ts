// The build report of a project of several functions: an image with no previous build is
// `new` (not `changed`), and the summary line counts new and changed images apart.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProject, planBuild } from '../src/app/build.js';
import { compareImages, formatComparison } from '../src/cli/format.js';
import type { Engine } from '../src/docker/engine.js';
import { runCli } from './support/cli.js';
import { fixtureCopy } from './support/tmp.js';

/** An engine whose image IDs the test sets per tag (default: one ID for all). */
function engine(ids: Map<string, string>): Engine {
  return {
    buildkit: true,
    platform: 'linux/amd64',
    docker: {
      buildImage: async (context: NodeJS.ReadableStream) => {
        for await (const _ of context);
        return Readable.from([`${JSON.stringify({ stream: 'done' })}\n`]);
      },
      getImage: (ref: string) => ({
        inspect: async () => ({
          Id: ids.get(ref) ?? `sha256:${'1'.repeat(64)}`,
          Os: 'linux',
          Architecture: 'amd64',
          Size: 100,
          RootFS: { Layers: ['a'] },
          // As a reproducible build leaves it (config time fixed): nothing to rewrite.
          Created: '1970-01-01T00:00:00Z',
        }),
        history: async () => [{ CreatedBy: 'COPY /out/x /var/runtime/bootstrap', Size: 100 }],
      }),
    },
  } as unknown as Engine;
}

const statusOf = (report: string, fn: string) =>
  report
    .split('\n')
    .find((l) => l.startsWith(`${fn} `))
    ?.trim()
    .split(/\s+/)
    .at(-1);

describe('the build report: new, changed, unchanged', () => {
  it('a first build says new; later ones changed or unchanged; a function added later is new', async () => {
    const dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    const ids = new Map<string, string>();
    const build = async () => {
      const plan = await planBuild(dir, { registryAuth: async () => undefined });
      return formatComparison(compareImages((await buildProject(engine(ids), plan)).images), true);
    };

    const first = await build();
    expect(statusOf(first, 'orders')).toBe('new');
    expect(first.split('\n').at(-1)).toBe('5 new images (no previous build)');

    ids.set('orders:latest', `sha256:${'2'.repeat(64)}`);
    const second = await build();
    expect(statusOf(second, 'orders')).toBe('changed');
    expect(statusOf(second, 'users')).toBe('unchanged');
    expect(second.split('\n').at(-1)).toBe('1 of 5 images changed since the previous build');

    mkdirSync(path.join(dir, 'cmd/refunds'));
    writeFileSync(path.join(dir, 'cmd/refunds/main.go'), 'package main\n\nfunc main() {}\n');
    const config = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    config.functions.refunds = { main: './cmd/refunds' };
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify(config));
    const third = await build();
    expect(statusOf(third, 'refunds')).toBe('new');
    expect(third.split('\n').at(-1)).toBe('0 of 5 images changed since the previous build, 1 new');
  });
});
