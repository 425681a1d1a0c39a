#!/usr/bin/env node
// `npm run bench`: measures lambda-image against its targets and prints one table of ratios,
// all measured in this run. Builds use stand-in bases when the real ones are not available
// (this is said in the output); ratios, not absolute sizes, are what the targets are about.
import { execFileSync, spawn as spawnChild, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { buildStandinRie, ensureStandins, standinBuildArgs } from '../scripts/standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin', 'lambda-image');
const say = (s) => process.stderr.write(`bench: ${s}\n`);
// `npm run bench -- [names...] [--check]`: --check exits non-zero when a target is missed.
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = args.filter((a) => a !== '--check');
const want = (name) => only.length === 0 || only.includes(name);
const rows = [];
const row = (benchmark, measured, target, ok, note = '') => rows.push({ benchmark, measured, target, ok, note });

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
function timeMs(fn) {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}
function cli(args, opts = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, CI: 'true' },
    ...opts,
  });
  if (r.status !== 0) throw new Error(`lambda-image ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}
const work = mkdtempSync(path.join(os.tmpdir(), 'lambda-image-bench-'));
function project(name, initArgs = ['--base', 'alpine', '--rie']) {
  const dir = path.join(work, name);
  cpSync(path.join(root, 'fixtures', 'go-hello'), dir, { recursive: true });
  cli(['init', dir, ...initArgs, '--name', 'bench']);
  return dir;
}

// 1. Start-up: --help and init --dry-run, median of 11 runs each.
if (want('startup')) {
  const dir = path.join(work, 'startup');
  cpSync(path.join(root, 'fixtures', 'go-hello'), dir, { recursive: true });
  const bare = [];
  for (let i = 0; i < 11; i++) bare.push(timeMs(() => spawnSync(process.execPath, ['-e', '0'])));
  row(
    'start-up: bare node -e 0 (median of 11, baseline)',
    `${median(bare).toFixed(0)} ms`,
    '-',
    true,
    'the floor on this machine',
  );
  for (const [label, args, target] of [
    ['--help', ['--help'], 150],
    ['init --dry-run', ['init', dir, '--dry-run'], 300],
  ]) {
    const times = [];
    for (let i = 0; i < 11; i++) times.push(timeMs(() => cli(args)));
    const m = median(times);
    row(`start-up: lambda-image ${label} (median of 11)`, `${m.toFixed(0)} ms`, `<= ${target} ms`, m <= target);
  }
}

const loopParts = ['loop', 'loop-build', 'loop-invoke', 'loop-startup'];
const needsDocker = [
  'size',
  'rebuild',
  'arm64',
  'context',
  'emulator',
  'go',
  'sandbox',
  'ship',
  'ship-multi',
  'front',
  'io',
  'multi',
  'watch',
  'repro',
  ...loopParts,
].some(want);
let docker,
  refs,
  rie,
  standinNote = '';
if (needsDocker) {
  docker = new Docker();
  await docker.ping();
  refs = await ensureStandins(docker, ['x86_64', 'arm64'], '1.23', say);
  rie = { x86_64: await buildStandinRie('x86_64'), arm64: await buildStandinRie('arm64') };
  standinNote = 'stand-in bases';
}
const repo = `lambda-image-bench-${process.pid}`;
function build(dir, args, arch = 'x86_64', env = undefined) {
  const t = process.hrtime.bigint();
  const out = JSON.parse(cli(['build', dir, '--json', ...standinBuildArgs(refs[arch]), ...args], env ? { env } : {}));
  return { ...out, ms: Number(process.hrtime.bigint() - t) / 1e6 };
}
async function fileSizeInImage(image, file) {
  const c = await docker.createContainer({ Image: image, Cmd: ['x'], Entrypoint: [''] });
  try {
    // The archive of one file is a tar: its size is in the first header.
    const archive = await c.getArchive({ path: file });
    const chunks = [];
    for await (const chunk of archive) {
      chunks.push(chunk);
      if (Buffer.concat(chunks).length >= 512) break;
    }
    return parseInt(Buffer.concat(chunks).subarray(124, 136).toString().trim(), 8);
  } finally {
    await c.remove({ force: true });
  }
}
async function baseSize(ref) {
  return (await docker.getImage(ref).inspect()).Size;
}

try {
  // 2. Size overhead per variant, and the seed's own recipe on the same bases.
  if (want('size')) {
    const dir = project('size');
    const out = build(dir, ['--tag', `${repo}:size`, '--variants', 'aws,alpine,alpine-rie', '--rie-from', rie.x86_64]);
    const rieBytes = statSync(rie.x86_64).size;
    const entryBytes = statSync(path.join(dir, 'entry.sh')).size;
    for (const image of out.images) {
      const binary = await fileSizeInImage(image.tag, '/var/runtime/bootstrap');
      const carried = binary + (image.variant === 'alpine-rie' ? rieBytes + entryBytes : 0);
      const ratio = (image.size - (await baseSize(image.baseImage))) / carried;
      row(
        `size overhead ${image.variant}: (image - base) / (binary + RIE + entry.sh)`,
        ratio.toFixed(4),
        '<= 1.02',
        ratio <= 1.02,
        standinNote,
      );
    }
    // The seed's recipe: plain go build, ADD of the emulator then RUN chmod (stored twice).
    const seedDir = path.join(work, 'seed');
    cpSync(path.join(root, 'fixtures', 'go-hello'), seedDir, { recursive: true });
    cpSync(rie.x86_64, path.join(seedDir, 'aws-lambda-rie'));
    execFileSync('chmod', ['600', path.join(seedDir, 'aws-lambda-rie')]); // what ADD <url> gives
    cpSync(path.join(dir, 'entry.sh'), path.join(seedDir, 'entry.sh'));
    execFileSync('chmod', ['644', path.join(seedDir, 'entry.sh')]);
    writeFileSync(
      path.join(seedDir, 'Dockerfile'),
      [
        `FROM ${refs.x86_64.golang} as build`,
        'WORKDIR /src',
        'ADD go.mod ./',
        'RUN go mod download',
        'ADD . .',
        // The same compiler flags as lambda-image's build, so the difference measured below
        // is the recipe's (the emulator stored twice), not the linker's.
        'RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -tags lambda.norpc -o /main',
        `FROM ${refs.x86_64.alpine}`,
        'COPY --from=build /main /main',
        'ADD aws-lambda-rie /usr/bin/aws-lambda-rie',
        'RUN chmod 755 /usr/bin/aws-lambda-rie',
        'COPY entry.sh /',
        'RUN chmod 755 /entry.sh',
        'ENTRYPOINT [ "/entry.sh" ]',
        'CMD [ "/main" ]',
      ].join('\n') + '\n',
    );
    execFileSync('docker', ['build', '-q', '-t', `${repo}:seed`, seedDir], {
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
      stdio: 'pipe',
    });
    const seedSize = (await docker.getImage(`${repo}:seed`).inspect()).Size;
    const ours = out.images.find((i) => i.variant === 'alpine-rie');
    const saved = seedSize - ours.size;
    row(
      'alpine+RIE: seed recipe size - ours, in emulator sizes',
      (saved / rieBytes).toFixed(2),
      '>= 1.00',
      saved >= rieBytes,
      `${standinNote}; same compiler flags; seed ${seedSize} B, ours ${ours.size} B`,
    );
    // The emulator's own layers, read from each image's history: the seed's ADD + RUN chmod against our one COPY.
    const seedHistory = await docker.getImage(`${repo}:seed`).history();
    const seedRie = seedHistory.filter((h) => /aws-lambda-rie/.test(h.CreatedBy)).reduce((n, h) => n + h.Size, 0);
    row(
      'alpine+RIE: emulator bytes stored, seed recipe / ours',
      (seedRie / ours.breakdown.rie).toFixed(2),
      '>= 1.90',
      seedRie / ours.breakdown.rie >= 1.9,
      `${seedRie} B / ${ours.breakdown.rie} B`,
    );
  }

  // 3. Rebuild after a one-line change / cold build.
  if (want('rebuild')) {
    const dir = project('rebuild', ['--base', 'alpine']);
    const cold = build(dir, ['--tag', `${repo}:rebuild`, '--no-cache']);
    const main = path.join(dir, 'main.go');
    writeFileSync(
      main,
      readFileSync(main, 'utf8').replace('"Hello AWS Lambda"', JSON.stringify(`Hello again ${Date.now()}`)),
    ); // unique: the build cache outlives runs
    const warm = build(dir, ['--tag', `${repo}:rebuild`]);
    const ratio = warm.ms / cold.ms;
    row(
      'rebuild after one-line change / cold build',
      ratio.toFixed(2),
      '<= 0.35',
      ratio <= 0.35,
      `${(warm.ms / 1000).toFixed(1)} s / ${(cold.ms / 1000).toFixed(1)} s`,
    );
  }

  // 4. arm64 build / x86_64 build (both cold) on this machine.
  if (want('arm64')) {
    const x86 = project('x86', ['--base', 'alpine']);
    const arm = project('arm', ['--base', 'alpine', '--arch', 'arm64']);
    const a = build(x86, ['--tag', `${repo}:x86`, '--no-cache']);
    const b = build(arm, ['--tag', `${repo}:arm`, '--no-cache'], 'arm64');
    const ratio = b.ms / a.ms;
    row(
      `arm64 build / x86_64 build on ${os.arch()}`,
      ratio.toFixed(2),
      '<= 1.3',
      ratio <= 1.3,
      `${(b.ms / 1000).toFixed(1)} s / ${(a.ms / 1000).toFixed(1)} s`,
    );
  }

  // 5. Context bytes sent / non-ignored bytes; build time with a 1 GB ignored folder / without.
  if (want('context')) {
    // The bare example first: two small files, where tar headers weigh the most.
    const bare = build(project('context-bare', ['--base', 'alpine']), ['--tag', `${repo}:ctx-bare`]).context[0];
    row(
      'context bytes sent / non-ignored file bytes (bare example)',
      (bare.sentBytes / bare.fileBytes).toFixed(2),
      '-',
      true,
      `${bare.files} files, ${bare.fileBytes} B; tar headers and padding dominate`,
    );
    const dir = project('context', ['--base', 'alpine']);
    // A realistic project carries more than two tiny files: a 4 MiB asset next to the code.
    writeFileSync(path.join(dir, 'asset.bin'), Buffer.alloc(4 * 1024 * 1024, 7));
    const first = build(dir, ['--tag', `${repo}:ctx`]);
    const ctx = first.context[0];
    const ratio = ctx.sentBytes / ctx.fileBytes;
    row(
      'context bytes sent / non-ignored file bytes',
      ratio.toFixed(4),
      '<= 1.05',
      ratio <= 1.05,
      `${ctx.files} files, ${ctx.fileBytes} B`,
    );
    const absent = [];
    const present = [];
    for (let i = 0; i < 5; i++) absent.push(build(dir, ['--tag', `${repo}:ctx`]).ms);
    const big = path.join(dir, 'node_modules');
    mkdirSync(big);
    for (let i = 0; i < 16; i++) writeFileSync(path.join(big, `blob-${i}.bin`), Buffer.alloc(64 * 1024 * 1024, i));
    for (let i = 0; i < 5; i++) present.push(build(dir, ['--tag', `${repo}:ctx`]).ms);
    const r = median(present) / median(absent);
    row(
      'build time with 1 GiB ignored folder / without (median of 5)',
      r.toFixed(2),
      '<= 1.1',
      r <= 1.1,
      `${median(present).toFixed(0)} ms / ${median(absent).toFixed(0)} ms`,
    );
  }

  // 6. Adding a 50 MB layer through a local Lambda API: peak memory, and time against unzip.
  if (want('extension')) {
    const { createServer } = await import('node:http');
    const { createHash, randomBytes } = await import('node:crypto');
    const src = path.join(work, 'layer-src');
    mkdirSync(path.join(src, 'extensions'), { recursive: true });
    for (let i = 0; i < 10; i++)
      writeFileSync(path.join(src, i === 0 ? 'extensions/big-ext' : `lib-${i}.bin`), randomBytes(5 * 1024 * 1024));
    const zipFile = path.join(work, 'layer.zip');
    execFileSync('zip', ['-q', '-r', zipFile, '.'], { cwd: src });
    const zip = readFileSync(zipFile);
    const arn = 'arn:aws:lambda:us-east-1:123456789012:layer:big-ext:1';
    // The same REST shape as GetLayerVersionByArn (see test/support/lambda-api.ts for the full one).
    const server = createServer((req, res) => {
      if (req.url.startsWith('/2018-10-31/layers')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({
            Content: {
              Location: `http://127.0.0.1:${server.address().port}/zip?X-Amz-Signature=x`,
              CodeSha256: createHash('sha256').update(zip).digest('base64'),
              CodeSize: zip.length,
            },
            LayerVersionArn: arn,
            Version: 1,
            CompatibleArchitectures: ['x86_64'],
          }),
        );
      } else {
        res.writeHead(200, { 'Content-Length': zip.length });
        res.end(zip);
      }
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const env = {
      ...process.env,
      CI: 'true',
      AWS_ENDPOINT_URL_LAMBDA: `http://127.0.0.1:${server.address().port}`,
      AWS_ACCESS_KEY_ID: 'x',
      AWS_SECRET_ACCESS_KEY: 'y',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    };
    const runAdd = (dir, cacheDir, extraEnv = {}) =>
      new Promise((resolve, reject) => {
        const t = process.hrtime.bigint();
        const rssFile = path.join(work, `rss-${process.hrtime.bigint()}`);
        const child = spawnChild(
          process.execPath,
          ['--import', path.join(root, 'bench', 'rss-probe.mjs'), bin, 'add-extension', arn, dir],
          {
            env: { ...env, LAMBDA_IMAGE_CACHE_DIR: cacheDir, LAMBDA_IMAGE_RSS_OUT: rssFile, ...extraEnv },
          },
        );
        let err = '';
        child.stderr.on('data', (d) => (err += d));
        child.on('close', (code) => {
          if (code !== 0) return reject(new Error(`add-extension failed: ${err}`));
          resolve({
            ms: Number(process.hrtime.bigint() - t) / 1e6,
            peakMb: Number(readFileSync(rssFile, 'utf8')) / 1024,
          });
        });
      });
    const { unzipSafely } = await import('../dist/layers/unzip.js');
    const full = [];
    const cached = [];
    const inProcess = [];
    const unz = [];
    try {
      for (let i = 0; i < 3; i++) {
        const cacheDir = path.join(work, `cache-${i}`);
        full.push(await runAdd(project(`ext-${i}`, ['--base', 'aws']), cacheDir));
        // Same layer into another project: the verified zip comes from the cache, no network.
        cached.push(
          await runAdd(project(`ext-cached-${i}`, ['--base', 'aws']), cacheDir, {
            AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:1',
          }),
        );
        const t = process.hrtime.bigint();
        await unzipSafely(zipFile, path.join(work, `ours-${i}`));
        inProcess.push(Number(process.hrtime.bigint() - t) / 1e6);
        unz.push(timeMs(() => execFileSync('unzip', ['-q', '-o', zipFile, '-d', path.join(work, `unzip-${i}`)])));
      }
    } finally {
      server.close();
    }
    const mb = (xs) => Math.max(...xs.map((x) => x.peakMb));
    const size = `${(zip.length / 1e6).toFixed(0)} MB`;
    row(
      `add-extension by ARN of a ${size} layer: peak memory (max RSS)`,
      `${mb(full).toFixed(0)} MB`,
      '< 100 MB',
      mb(full) < 100,
      'whole CLI process, AWS SDK included',
    );
    row(
      `add-extension from the cache (no SDK loaded): peak memory`,
      `${mb(cached).toFixed(0)} MB`,
      '< 100 MB',
      mb(cached) < 100,
    );
    const u = median(unz);
    const r1 = median(inProcess) / u;
    row(
      'safe unpack of the same zip / unzip(1) (median of 3)',
      r1.toFixed(2),
      '<= 1.5',
      r1 <= 1.5,
      `${median(inProcess).toFixed(0)} ms / ${u.toFixed(0)} ms`,
    );
    const r2 = median(cached.map((x) => x.ms)) / u;
    row(
      '  whole CLI from the cache (start-up, unpack, checks, render) / unzip(1)',
      r2.toFixed(2),
      '-',
      true,
      `${median(cached.map((x) => x.ms)).toFixed(0)} ms`,
    );
    const r3 = median(full.map((x) => x.ms)) / u;
    row(
      '  whole CLI by ARN (SDK, download, verify, unpack) / unzip(1)',
      r3.toFixed(2),
      '-',
      true,
      `${median(full.map((x) => x.ms)).toFixed(0)} ms`,
    );
  }

  // 7. The emulator: warm overhead, throughput at concurrency 4, a cold start broken down.
  if (want('emulator')) {
    const dir = path.join(work, 'fn');
    cpSync(path.join(root, 'fixtures', 'go-test-function'), dir, { recursive: true });
    cli(['init', dir, '--base', 'alpine', '--name', 'bench-fn']);
    const image = `${repo}:fn`;
    build(dir, ['--tag', image]);
    const { connectEngine } = await import('../dist/docker/engine.js');
    const { prepareFunction, resolveFunctionSettings } = await import('../dist/app/invoke.js');
    const { Sandbox } = await import('../dist/emulator/sandbox.js');
    const { inspectFunctionImage } = await import('../dist/emulator/function-image.js');
    const { containerClient } = await import('../dist/docker/containers.js');
    const engine = await connectEngine();
    const quiet = { QUIET: '1' };
    const hooks = { onPlatformLine: () => {}, onOutput: () => {} };

    const one = await prepareFunction(
      engine,
      await resolveFunctionSettings({ image, env: quiet, timeoutSec: 10 }),
      hooks,
    );
    const overheads = [];
    try {
      for (let i = 0; i < 50; i++) await one.pool.invoke(Buffer.from('{}')); // warm up
      for (let i = 0; i < 300; i++) {
        const t = process.hrtime.bigint();
        const o = await one.pool.invoke(Buffer.from('{}'));
        const wall = Number(process.hrtime.bigint() - t) / 1e6;
        overheads.push(wall - JSON.parse(o.result.body.toString()).handlerMicros / 1000);
      }
    } finally {
      await one.pool.close();
    }
    const p50 = median(overheads);
    row(
      'warm invoke overhead beyond the handler (p50 of 300)',
      `${p50.toFixed(2)} ms`,
      '<= 2 ms',
      p50 <= 2,
      "client wall time minus the handler's own time",
    );

    const four = await prepareFunction(
      engine,
      await resolveFunctionSettings({ image, env: quiet, concurrency: 4, timeoutSec: 10 }),
      hooks,
    );
    try {
      await Promise.all(Array.from({ length: 40 }, () => four.pool.invoke(Buffer.from('{}'))));
      const n = 2000;
      const t = process.hrtime.bigint();
      let next = 0;
      const worker = async () => {
        while (next++ < n) await four.pool.invoke(Buffer.from('{}'));
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const rate = n / (Number(process.hrtime.bigint() - t) / 1e9);
      row('no-op throughput at concurrency 4 (2000 invokes)', `${rate.toFixed(0)} /s`, '>= 500 /s', rate >= 500);
    } finally {
      await four.pool.close();
    }

    const containers = containerClient(engine.docker);
    const facts = await inspectFunctionImage(containers, image);
    const parts = { start: [], init: [], first: [] };
    for (let i = 0; i < 5; i++) {
      let t = process.hrtime.bigint();
      const sandbox = await Sandbox.start(engine, containers, facts, {
        identity: {
          functionName: 'bench',
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:bench',
          version: '$LATEST',
          handler: 'bootstrap',
        },
        memoryMb: 128,
        ephemeralMb: 512,
        isolated: true,
        region: 'us-east-1',
        env: quiet,
        session: `bench-${process.pid}`,
        onOutput: () => {},
      });
      parts.start.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await sandbox.waitForInit();
      parts.init.push(Number(process.hrtime.bigint() - t) / 1e6);
      t = process.hrtime.bigint();
      await sandbox.invoke(Buffer.from('{}'), 10);
      parts.first.push(Number(process.hrtime.bigint() - t) / 1e6);
      await sandbox.stop();
    }
    row('cold start: container create + start (median of 5)', `${median(parts.start).toFixed(0)} ms`, '-', true);
    row('cold start: init (runtime ready for events)', `${median(parts.init).toFixed(0)} ms`, '-', true);
    row('cold start: first invoke', `${median(parts.first).toFixed(1)} ms`, '-', true);
  }

  // Benchmarks of other areas, one module each: `export default async function run(ctx)`.
  for (const name of ['loop', 'go', 'sandbox', 'ship', 'ship-multi', 'front', 'io', 'multi', 'watch', 'repro']) {
    if (!(name === 'loop' ? loopParts.some(want) : want(name))) continue;
    const file = path.join(root, 'bench', `${name}.mjs`);
    if (!existsSync(file)) continue;
    const { default: run } = await import(file);
    await run({
      cli,
      build,
      project,
      row,
      say,
      work,
      root,
      refs,
      rie,
      docker,
      repo,
      median,
      timeMs,
      standinNote,
      want,
    });
  }
} finally {
  if (docker) {
    for (const img of await docker.listImages()) {
      for (const tag of img.RepoTags ?? [])
        if (tag.startsWith(`${repo}:`))
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => {});
    }
  }
  rmSync(work, { recursive: true, force: true });
}

const header = ['benchmark', 'measured', 'target', 'met', 'note'];
const table = rows.map((r) => [r.benchmark, r.measured, r.target, r.ok ? 'yes' : 'NO', r.note]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => String(t[i]).length)));
const line = (cells) =>
  cells
    .map((c, i) => String(c).padEnd(widths[i]))
    .join('  ')
    .trimEnd();
console.log(line(header));
for (const t of table) console.log(line(t));
const missed = rows.filter((r) => !r.ok);
if (check && missed.length) {
  console.error(`bench: ${missed.length} target(s) missed: ${missed.map((r) => r.benchmark.trim()).join('; ')}`);
  process.exit(1);
}
