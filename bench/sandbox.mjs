// Benchmarks of the execution environment (issue 11), run by bench/run.mjs with its context:
// warm invoke overhead and throughput through `start`'s HTTP endpoint (a real CLI process, a
// real HTTP client), and the cold start with the sandbox settings against the same cold start
// with them off (LAMBDA_IMAGE_SANDBOX=off: plain containers on the host network, as before).
import { spawn } from 'node:child_process';
import { cpSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** `lambda-image start` as a user runs it; resolves with its port and a stop function (Ctrl-C). */
async function startServer(ctx, args, env = {}) {
  const child = spawn(process.execPath, [path.join(ctx.root, 'bin', 'lambda-image'), 'start', '--port', '0', ...args], {
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise((r) => child.on('close', r));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start did not serve within 60 s: ${stderr}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void closed.then(() => reject(new Error(`start exited: ${stderr}`)));
  });
  return {
    port,
    async stop() {
      child.kill('SIGINT');
      await closed;
    },
  };
}

/** One POST on a keep-alive agent; resolves with the body and the client's wall time in ms. */
function post(agent, port, body) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = http.request(
      { host: '127.0.0.1', port, path: '/2015-03-31/functions/function/invocations', method: 'POST', agent },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            body: Buffer.concat(chunks).toString(),
            ms: Number(process.hrtime.bigint() - t) / 1e6,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export default async function run(ctx) {
  const dir = path.join(ctx.work, 'sandbox-fn');
  cpSync(path.join(ctx.root, 'fixtures', 'go-test-function'), dir, { recursive: true });
  ctx.cli(['init', dir, '--base', 'alpine', '--name', 'bench-sandbox', '--force']);
  const image = `${ctx.repo}:sandbox-fn`;
  ctx.build(dir, ['--tag', image]);
  const quiet = ['--env', 'QUIET=1', '--timeout', '10'];

  // 1. Warm overhead through start's endpoint: client wall time minus the handler's own time,
  //    with the sandbox settings (the target) and without them (for reference).
  for (const isolated of [true, false]) {
    ctx.say(`sandbox: warm invokes through start (settings ${isolated ? 'on' : 'off'})`);
    const server = await startServer(
      ctx,
      ['--image', image, ...quiet],
      isolated ? {} : { LAMBDA_IMAGE_SANDBOX: 'off' },
    );
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const overheads = [];
    try {
      for (let i = 0; i < 50; i++) await post(agent, server.port, '{}'); // warm up (the first is cold)
      for (let i = 0; i < 300; i++) {
        const r = await post(agent, server.port, '{}');
        if (r.status !== 200) throw new Error(`invoke answered ${r.status}: ${r.body}`);
        overheads.push(r.ms - JSON.parse(r.body).handlerMicros / 1000);
      }
    } finally {
      agent.destroy();
      await server.stop();
    }
    const p50 = median(overheads);
    if (isolated)
      ctx.row(
        "sandbox: warm invoke overhead through start's HTTP endpoint (p50 of 300)",
        `${p50.toFixed(2)} ms`,
        '<= 2 ms',
        p50 <= 2,
        "HTTP client wall time minus the handler's time; uid 993, read-only root, own network namespace",
      );
    else
      ctx.row(
        'sandbox: the same without the sandbox settings (reference)',
        `${p50.toFixed(2)} ms`,
        '-',
        true,
        'LAMBDA_IMAGE_SANDBOX=off: host network',
      );
  }

  // 2. Throughput through start at concurrency 4, a no-op handler.
  {
    ctx.say('sandbox: throughput through start at concurrency 4');
    const server = await startServer(ctx, ['--image', image, '--concurrency', '4', ...quiet]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      // Warm all four environments (cold starts are not what this measures).
      await Promise.all(Array.from({ length: 40 }, () => post(agent, server.port, '{}')));
      const n = 2000;
      let next = 0;
      let failed = 0;
      const t = process.hrtime.bigint();
      const worker = async () => {
        while (next++ < n) if ((await post(agent, server.port, '{}')).status !== 200) failed++;
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      const rate = n / (Number(process.hrtime.bigint() - t) / 1e9);
      ctx.row(
        'sandbox: no-op throughput through start at concurrency 4 (2000 invokes)',
        `${rate.toFixed(0)} /s`,
        '>= 500 /s',
        rate >= 500 && failed === 0,
        failed ? `${failed} failed` : 'HTTP client in this process, 4 connections',
      );
    } finally {
      agent.destroy();
      await server.stop();
    }
  }

  // 3. Cold starts, with the sandbox settings and without them (LAMBDA_IMAGE_SANDBOX=off: plain
  //    containers on the host network, the previous behaviour), alternated in one process:
  //    (a) a cold start as `start` serves it: environment, init, first answer; with the settings
  //        the network namespace is ready by then (made ahead, src/emulator/netns.ts);
  //    (b) a one-shot `invoke`: image inspection too, and the namespace made on the way.
  {
    ctx.say('sandbox: cold starts with and without the sandbox settings');
    const { connectEngine } = await import('../dist/docker/engine.js');
    const { prepareFunction, resolveFunctionSettings } = await import('../dist/app/invoke.js');
    const engine = await connectEngine();
    const hooks = { onPlatformLine: () => {}, onOutput: () => {} };
    const cold = async (isolated, oneShot) => {
      const before = process.env.LAMBDA_IMAGE_SANDBOX;
      process.env.LAMBDA_IMAGE_SANDBOX = isolated ? 'on' : 'off';
      let t = process.hrtime.bigint();
      const fn = await prepareFunction(
        engine,
        await resolveFunctionSettings({ image, env: { QUIET: '1' }, timeoutSec: 10 }),
        hooks,
      );
      if (before === undefined) delete process.env.LAMBDA_IMAGE_SANDBOX;
      else process.env.LAMBDA_IMAGE_SANDBOX = before;
      try {
        if (!oneShot) {
          await fn.pool.prepared();
          t = process.hrtime.bigint();
        }
        const o = await fn.pool.invoke(Buffer.from('{}'));
        if (o.result.kind !== 'response' || !o.cold) throw new Error(`cold invoke failed: ${o.result.body}`);
        return Number(process.hrtime.bigint() - t) / 1e6;
      } finally {
        await fn.pool.close();
      }
    };
    for (const oneShot of [false, true]) {
      await cold(true, oneShot);
      await cold(false, oneShot); // one of each first: image and engine caches warm
      const on = [];
      const off = [];
      for (let i = 0; i < 9; i++) {
        on.push(await cold(true, oneShot));
        off.push(await cold(false, oneShot));
      }
      const ratio = median(on) / median(off);
      const what = oneShot
        ? 'one-shot invoke (inspect + namespace + environment + init + answer)'
        : 'cold start in start (environment + init + first answer)';
      ctx.row(
        `sandbox: ${what}, settings on / off (medians of 9)`,
        ratio.toFixed(2),
        oneShot ? '-' : '<= 1.20',
        oneShot ? true : ratio <= 1.2,
        `${median(on).toFixed(0)} ms vs ${median(off).toFixed(0)} ms`,
      );
    }
  }
}
