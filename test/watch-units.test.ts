// start --watch without an engine: which changes trigger a rebuild, which functions a change
// concerns, the debounce/abort schedule, and the folder watcher on a real file system.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeConfig } from '../src/config/schema.js';
import { projectFunctions } from '../src/config/functions.js';
import { readDockerignore } from '../src/docker/dockerignore.js';
import { RebuildScheduler } from '../src/watch/scheduler.js';
import { functionsToRebuild, isEditorTempFile, triggersRebuild } from '../src/watch/triggers.js';
import { ProjectWatcher } from '../src/watch/watcher.js';
import { watchLines } from '../src/cli/watch-lines.js';
import { tmpDir } from './support/tmp.js';

describe('what triggers a rebuild', () => {
  const none = () => false;

  it('editor temp files, .git, node_modules and .lambda-image never do; sources do', () => {
    for (const temp of [
      '.main.go.swp',
      'cmd/.x.go.swx',
      '4913',
      'main.go~',
      '.#main.go',
      '#main.go#',
      'main.go.tmp',
      'sedAb12Cd',
      'main.go___jb_tmp___',
      '.goutputstream-XYZ123',
    ])
      expect([temp, isEditorTempFile(temp), triggersRebuild(temp, none)]).toEqual([temp, true, false]);
    for (const own of ['.git/index', '.lambda-image/builds.json', 'node_modules/x/index.js', 'a/.git/HEAD'])
      expect([own, triggersRebuild(own, none)]).toEqual([own, false]);
    for (const src of ['main.go', 'internal/shop/shop.go', 'go.mod', 'vendor/modules.txt', 'sed.go'])
      expect([src, triggersRebuild(src, none)]).toEqual([src, true]);
  });

  it("honours the project's .dockerignore, except for the config, the Dockerfile and .dockerignore itself", async () => {
    const dir = tmpDir('lambda-image-watch-');
    writeFileSync(path.join(dir, '.dockerignore'), '*.md\ndocs\nlambda-image.json\nDockerfile\n.dockerignore\n');
    const rules = await readDockerignore(dir);
    expect(triggersRebuild('README.md', rules.ignores)).toBe(false);
    expect(triggersRebuild('docs/a.go', rules.ignores)).toBe(false);
    expect(triggersRebuild('main.go', rules.ignores)).toBe(true);
    for (const always of ['lambda-image.json', 'Dockerfile', '.dockerignore'])
      expect([always, triggersRebuild(always, rules.ignores)]).toEqual([always, true]);
  });
});

describe('which functions a change concerns', () => {
  const config = makeConfig({
    name: 'shop',
    go: { module: 'example.com/shop', version: '1.23' },
    functions: {
      orders: { main: './cmd/orders' },
      users: { main: './cmd/users' },
      payments: { main: './cmd/payments' },
    },
  });
  const fns = projectFunctions(config);

  it("a file in a function's own main package folder: that function only", () => {
    expect(functionsToRebuild(fns, ['cmd/orders/main.go'])).toEqual(['orders']);
    expect(functionsToRebuild(fns, ['cmd/payments/main.go', 'cmd/orders/handler.go'])).toEqual(['orders', 'payments']);
  });

  it('shared code, subfolders, go.mod, vendor/, the config and the Dockerfile: every function', () => {
    const all = ['orders', 'users', 'payments'];
    for (const shared of [
      'internal/shop/shop.go',
      'cmd/orders/sub/x.go',
      'go.mod',
      'go.sum',
      'vendor/example.com/greeting/g.go',
      'lambda-image.json',
      'Dockerfile',
      '.dockerignore',
      'main.go',
    ])
      expect([shared, functionsToRebuild(fns, ['cmd/users/main.go', shared])]).toEqual([shared, all]);
  });

  it('a one-function project: every change is its own', () => {
    const one = projectFunctions(makeConfig({ name: 'hello', go: { module: 'example.com/hello', version: '1.23' } }));
    expect(functionsToRebuild(one, ['main.go'])).toEqual(['hello']);
    expect(functionsToRebuild(one, ['internal/x.go'])).toEqual(['hello']);
  });
});

describe('the rebuild schedule', () => {
  it('waits for a quiet moment, then builds every change once', () => {
    const s = new RebuildScheduler(100);
    expect(s.changed(['a.go'])).toEqual([{ kind: 'arm', ms: 100 }]);
    expect(s.changed(['b.go', 'a.go'])).toEqual([{ kind: 'arm', ms: 100 }]);
    expect(s.timerFired()).toEqual([{ kind: 'build', files: ['a.go', 'b.go'] }]);
    expect(s.buildEnded('done')).toEqual([]);
    expect(s.timerFired()).toEqual([]); // nothing left
  });

  it('a change during a build aborts it, and the next build takes in both changes (last change wins)', () => {
    const s = new RebuildScheduler(100);
    s.changed(['a.go']);
    expect(s.timerFired()).toEqual([{ kind: 'build', files: ['a.go'] }]);
    expect(s.changed(['b.go'])).toEqual([{ kind: 'abort' }, { kind: 'arm', ms: 100 }]);
    expect(s.changed(['c.go'])).toEqual([{ kind: 'arm', ms: 100 }]); // one abort is enough
    // The aborted build ends while the quiet moment runs: the timer starts the next build.
    expect(s.buildEnded('aborted')).toEqual([]);
    expect(s.timerFired()).toEqual([{ kind: 'build', files: ['a.go', 'b.go', 'c.go'] }]);
  });

  it('a quiet moment that ends during the abort builds once the aborted build has stopped', () => {
    const s = new RebuildScheduler(100);
    s.changed(['a.go']);
    s.timerFired();
    s.changed(['b.go']);
    expect(s.timerFired()).toEqual([]); // still building (being aborted)
    expect(s.buildEnded('aborted')).toEqual([{ kind: 'build', files: ['a.go', 'b.go'] }]);
  });

  it('a failed build waits for the next change', () => {
    const s = new RebuildScheduler(100);
    s.changed(['a.go']);
    s.timerFired();
    expect(s.buildEnded('failed')).toEqual([]);
    expect(s.timerFired()).toEqual([]);
    s.changed(['a.go']);
    expect(s.timerFired()).toEqual([{ kind: 'build', files: ['a.go'] }]);
  });

  it('stop aborts the build in progress and starts no other', () => {
    const s = new RebuildScheduler(100);
    s.changed(['a.go']);
    s.timerFired();
    s.changed(['b.go']);
    expect(s.stop()).toEqual([]); // already aborting
    expect(s.buildEnded('aborted')).toEqual([]);
    expect(s.changed(['c.go'])).toEqual([]);
    const t = new RebuildScheduler(100);
    t.changed(['a.go']);
    t.timerFired();
    expect(t.stop()).toEqual([{ kind: 'abort' }]);
  });
});

describe('the folder watcher', () => {
  it('reports changed files, new folders and their files, and never walks skipped folders', async () => {
    const dir = tmpDir('lambda-image-watch-');
    mkdirSync(path.join(dir, 'internal'));
    mkdirSync(path.join(dir, 'node_modules', 'x'), { recursive: true });
    writeFileSync(path.join(dir, 'main.go'), 'package main\n');
    const seen = new Set<string>();
    const watcher = new ProjectWatcher(dir, {
      skipsDir: (rel) => rel.split('/')[0] === 'node_modules',
      onChange: (rel) => seen.add(rel),
    });
    await watcher.start();
    try {
      const until = async (rel: string) => {
        for (let i = 0; i < 100 && !seen.has(rel); i++) await new Promise((r) => setTimeout(r, 20));
        return seen.has(rel);
      };
      writeFileSync(path.join(dir, 'main.go'), 'package main // 2\n');
      expect(await until('main.go')).toBe(true);
      writeFileSync(path.join(dir, 'internal', 'a.go'), 'package internal\n');
      expect(await until('internal/a.go')).toBe(true);
      // A folder made (or moved in) after the start is watched, and its files reported.
      const staging = tmpDir('lambda-image-watch-');
      mkdirSync(path.join(staging, 'pkg', 'deep'), { recursive: true });
      writeFileSync(path.join(staging, 'pkg', 'deep', 'b.go'), 'package deep\n');
      renameSync(path.join(staging, 'pkg'), path.join(dir, 'pkg'));
      expect(await until('pkg/deep/b.go')).toBe(true);
      writeFileSync(path.join(dir, 'pkg', 'deep', 'c.go'), 'package deep\n');
      expect(await until('pkg/deep/c.go')).toBe(true);
      rmSync(path.join(dir, 'pkg'), { recursive: true });
      writeFileSync(path.join(dir, 'node_modules', 'x', 'i.js'), '1');
      writeFileSync(path.join(dir, 'main.go'), 'package main // 3\n');
      seen.delete('main.go');
      expect(await until('main.go')).toBe(true);
      expect([...seen].filter((r) => r.startsWith('node_modules/x'))).toEqual([]);
    } finally {
      watcher.close();
    }
  });
});

describe('the terminal lines', () => {
  it('one line per rebuild: what changed, the build time and the swap; a failure names its step and keeps the old image', () => {
    expect(
      watchLines({
        type: 'swap',
        function: 'hello',
        files: ['main.go'],
        buildMs: 2140,
        image: 'hello:latest',
        id: `sha256:${'ab'.repeat(32)}`,
        prewarmedInitMs: [],
        retiredIdle: 1,
        retiringBusy: 0,
      }),
    ).toEqual([
      'watch: main.go changed: rebuilt in 2.1 s, swapped hello to hello:latest (abababababab): the next invoke is a cold start; 1 idle old environment spun down',
    ]);
    const failed = watchLines({
      type: 'rebuild-failed',
      files: ['main.go'],
      functions: ['hello'],
      ms: 900,
      error: 'build failed at [builder 6/6] RUN go build',
      step: '[builder 6/6] RUN go build',
      lines: ['./main.go:3:1: syntax error'],
    });
    expect(failed[0]).toBe(
      'watch: rebuild failed after 0.9 s (main.go changed): build failed at [builder 6/6] RUN go build',
    );
    expect(failed).toContain('  ./main.go:3:1: syntax error');
    expect(failed.at(-1)).toMatch(/old image keeps serving/);
  });
});
