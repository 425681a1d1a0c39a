// The machine's limits (issue 15), run by bench/run.mjs with its context: a function that
// writes 60 MB without a single newline, through `lambda-image invoke`, measured as the CLI's
// peak resident memory and wall time. Lines are cut at 256 KB as they arrive, so memory stays
// flat and time linear (before: the whole flood was held and rescanned per chunk).
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const FLOOD_MB = 60;

export default async function run(ctx) {
  const { cli, build, row, say, work, root, repo, median } = ctx;
  const dir = path.join(work, 'io-fn');
  cpSync(path.join(root, 'fixtures', 'go-test-function'), dir, { recursive: true });
  cli(['init', dir, '--base', 'alpine', '--name', 'bench-io']);
  const image = `${repo}:io-fn`;
  build(dir, ['--tag', image]);
  const bin = path.join(root, 'bin', 'lambda-image');
  const probe = path.join(root, 'bench', 'rss-probe.mjs');
  const rssFile = path.join(work, 'io-rss');
  const rss = [];
  const ms = [];
  for (let i = 0; i < 3; i++) {
    rmSync(rssFile, { force: true });
    const t = process.hrtime.bigint();
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        probe,
        bin,
        'invoke',
        '--image',
        image,
        '--timeout',
        '120',
        '--data',
        `{"action":"flood","mb":${FLOOD_MB}}`,
      ],
      { env: { ...process.env, CI: 'true', LAMBDA_IMAGE_RSS_OUT: rssFile }, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (r.status !== 0) throw new Error(`the ${FLOOD_MB} MB flood invoke failed (${r.status})`);
    rss.push(Number(readFileSync(rssFile, 'utf8')) / 1024);
  }
  say(`flood: ${rss.map((x) => x.toFixed(0)).join(', ')} MB peak; ${ms.map((x) => x.toFixed(0)).join(', ')} ms`);
  const peak = median(rss);
  row(
    `invoke of a ${FLOOD_MB} MB newline-free flood: CLI peak RSS (median of 3)`,
    `${peak.toFixed(0)} MB`,
    '<= 200 MB',
    peak <= 200,
    'before the 256 KB cut: 923 MB (issue 15); >558 MB here, unfinished at 300 s',
  );
  row(
    `invoke of a ${FLOOD_MB} MB newline-free flood: wall time (median of 3)`,
    `${(median(ms) / 1000).toFixed(1)} s`,
    '-',
    true,
    'before: 51 s in issue 15, >300 s here (quadratic rescans)',
  );
}
