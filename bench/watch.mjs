// `start --watch` (issue 19), run by bench/run.mjs with its context: over 10 scripted
// one-line edits of the bundled example (fixtures/go-hello, as `npm run demo` builds it),
// the median time from the file write to the first answer from the new code, while a client
// sends requests without pause (none may fail); beside it, the bare rebuild after the same
// kind of edit (`lambda-image build`) and the cold build (`--no-cache`), measured in this run.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const EDITS = 10;
const INVOKE = '/2015-03-31/functions/function/invocations';

export default async function run(ctx) {
  const { cli, project, row, say, root, refs, repo, median, timeMs, standinNote, want } = ctx;
  if (!want('watch')) return;
  const bin = path.join(root, 'bin', 'lambda-image');
  const standin = ['--base-image', `aws=${refs.x86_64.aws}`, '--builder-image', refs.x86_64.golang];
  const dir = project('watch', []);
  const config = path.join(dir, 'lambda-image.json');
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), name: repo, tag: 'watch' }));
  const main = path.join(dir, 'main.go');
  const edit = (text) =>
    writeFileSync(main, readFileSync(main, 'utf8').replace(/Message: "[^"]*"/, `Message: ${JSON.stringify(text)}`));
  const ms = (x) => `${x.toFixed(0)} ms`;
  const stamp = () => `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`; // the build cache outlives runs

  say('watch: cold build (--no-cache), then bare rebuilds after a one-line edit');
  const cold = timeMs(() => cli(['build', dir, '--no-cache', ...standin]));
  const bare = [];
  for (let i = 0; i < 5; i++) {
    edit(`bare ${stamp()}`);
    bare.push(timeMs(() => cli(['build', dir, ...standin])));
  }

  for (const prewarm of [false, true]) {
    const label = prewarm ? 'start --watch --prewarm' : 'start --watch';
    say(`watch: ${label}, ${EDITS} edits under a continuous request loop`);
    const child = spawn(
      process.execPath,
      [bin, 'start', dir, '--watch', '--json', '--port', '0', ...standin, ...(prewarm ? ['--prewarm'] : [])],
      { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((resolve) => child.on('close', resolve));
    const events = [];
    let buffered = '';
    child.stdout.on('data', (d) => {
      buffered += d;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        events.push({ ...JSON.parse(buffered.slice(0, i)), seenAt: performance.now() });
        buffered = buffered.slice(i + 1);
      }
    });
    try {
      const ready = await until(
        () => events.find((e) => e.type === 'ready'),
        120_000,
        () => stderr,
      );
      const url = `http://127.0.0.1:${ready.port}${INVOKE}`;
      // The client: one request after another, without pause, each answer timed as it arrives.
      let stop = false;
      let sent = 0;
      let failed = 0;
      const answers = []; // [time, message]
      const loop = (async () => {
        for (let i = 0; i < 1_000_000 && !stop; i++) {
          sent++;
          try {
            const res = await fetch(url, { method: 'POST', body: '{}' });
            const body = await res.json();
            if (res.status !== 200 || typeof body.message !== 'string') failed++;
            else answers.push([performance.now(), body.message]);
          } catch {
            failed++;
          }
        }
      })();
      const toNew = [];
      const builds = [];
      const toStart = []; // write -> rebuild-start event
      const toSwap = []; // write -> swap event
      try {
        for (let i = 0; i < EDITS; i++) {
          const text = `watch ${stamp()}`;
          const from = events.length;
          const written = performance.now();
          edit(text);
          const seen = await until(
            () => answers.find(([t, m]) => t >= written && m === text),
            60_000,
            () => stderr,
          );
          toNew.push(seen[0] - written);
          const swap = await until(
            () => events.slice(from).find((e) => e.type === 'swap'),
            60_000,
            () => stderr,
          );
          builds.push(swap.buildMs);
          toSwap.push(swap.seenAt - written);
          toStart.push(events.slice(from).find((e) => e.type === 'rebuild-start').seenAt - written);
          const bad = events.slice(from).find((e) => e.type === 'rebuild-failed');
          if (bad) throw new Error(`watch: a rebuild failed: ${bad.error}`);
        }
      } finally {
        stop = true;
        await loop;
      }
      const m = median(toNew);
      // What the loop adds to its build: noticing the change, the quiet moment, the swap, the cold start.
      const beyond = median(toNew.map((t, i) => t - builds[i]));
      row(
        `watch: ${label}, file write to first answer from the new code (median of ${EDITS})`,
        ms(m),
        prewarm ? '-' : '<= 3000 ms',
        prewarm || m <= 3000,
        `rebuild starts at ${ms(median(toStart))}, its build ${ms(median(builds))}, swapped at ${ms(median(toSwap))} (+${ms(beyond)} beyond the build); bare rebuild ${ms(median(bare))}; cold build ${ms(cold)}${standinNote ? `; ${standinNote}` : ''}`,
      );
      row(
        `watch: ${label}, failed requests under a continuous loop`,
        String(failed),
        '0',
        failed === 0,
        `${sent} requests over ${EDITS} edits`,
      );
    } finally {
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }
}

/** Polls (bounded) until fn returns a value. */
async function until(fn, ms, context) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`watch: nothing within ${ms} ms\n${context().slice(-2000)}`);
}
