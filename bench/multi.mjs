// Projects of several functions (issue 18): the cold build of fixtures/go-multi's five
// functions against the cold build of one of them as a one-function project, and the rebuild
// of all five after a one-line change in one function's own package against the cold build,
// with how many images changed. Called by bench/run.mjs with its context.
//
// "Cold" as in bench/go.mjs: no layer cache (--no-cache) and an empty Go build cache (the
// stand-in builder under a fresh tag of its own: BuildKit keeps one build cache per builder
// image), so nothing on the shared engine is pruned.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const ROUNDS = 2;
const FUNCTIONS = ['inventory', 'notify', 'orders', 'payments', 'users'];
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export default async function run(ctx) {
  const { cli, build, row, say, work, root, refs, docker, median } = ctx;
  const repo = `lambda-image-bench-multi-${process.pid}`;
  const made = [];
  let n = 0;
  async function coldBuilder() {
    const tag = `cold-${++n}`;
    await docker.getImage(refs.x86_64.golang).tag({ repo: `${repo}/golang`, tag });
    made.push(`${repo}/golang:${tag}`);
    return `${repo}/golang:${tag}`;
  }
  /** A copy of the fixture: its five functions (images <repo>/<function>), or orders alone (--main). */
  function shop(name, one) {
    const dir = path.join(work, name);
    cpSync(path.join(root, 'fixtures', 'go-multi'), dir, { recursive: true });
    cli(['init', dir, '--base', 'alpine', ...(one ? ['--main', path.join(dir, 'cmd', 'orders')] : [])]);
    const file = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    if (one) config.name = `${repo}/one-${name}`;
    else for (const f of FUNCTIONS) config.functions[f].image = `${repo}/${name}-${f}`;
    writeFileSync(file, JSON.stringify(config, null, 2));
    return dir;
  }
  const track = (out) => {
    for (const i of out.images) made.push(i.tag);
    return out;
  };

  try {
    const one = [];
    const all = [];
    const rebuilt = [];
    const changedCounts = [];
    for (let i = 0; i < ROUNDS; i++) {
      say(`multi: round ${i + 1} of ${ROUNDS}`);
      const single = shop(`one-${i}`, true);
      one.push(track(build(single, ['--no-cache', '--builder-image', await coldBuilder()])).ms);

      const dir = shop(`all-${i}`, false);
      const builder = await coldBuilder();
      const cold = track(build(dir, ['--no-cache', '--builder-image', builder]));
      all.push(cold.ms);
      const main = path.join(dir, 'cmd', 'orders', 'main.go');
      // Unique text: the engine's build cache outlives runs, and a change seen before is no change.
      writeFileSync(
        main,
        readFileSync(main, 'utf8').replace('const version = "v1"', `const version = "v2-${Date.now()}-${i}"`),
      );
      const warm = track(build(dir, ['--builder-image', builder]));
      rebuilt.push(warm.ms / cold.ms);
      const before = Object.fromEntries(cold.images.map((im) => [im.function, im.id]));
      changedCounts.push(warm.images.filter((im) => im.id !== before[im.function]).map((im) => im.function));
    }
    const r1 = median(all) / median(one);
    row(
      `multi: cold build of 5 functions / cold build of one (median of ${ROUNDS})`,
      r1.toFixed(2),
      '<= 1.5',
      r1 <= 1.5,
      `${secs(median(all))} / ${secs(median(one))}`,
    );
    const r2 = median(rebuilt);
    row(
      `multi: rebuild of all 5 after a one-line change in one / cold (median of ${ROUNDS})`,
      r2.toFixed(2),
      '<= 0.15',
      r2 <= 0.15,
      'BuildKit, stand-in bases',
    );
    const exact = changedCounts.every((c) => c.length === 1 && c[0] === 'orders');
    row(
      'multi: image IDs changed by that rebuild (each round)',
      changedCounts.map((c) => c.join('+') || 'none').join(', '),
      'orders only',
      exact,
      'the other 4 keep their image ID',
    );
  } finally {
    for (const ref of made)
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => {});
  }
}
