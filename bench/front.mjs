// Benchmarks of the HTTP fronts and response streaming (issue 17), run by bench/run.mjs with its
// context: warm request overhead through the function URL front against the Invoke API path
// (same function, same event, one `start`), time from the function writing a streamed chunk to
// the client reading it, and the CLI's peak memory while a 50 MB stream passes through it.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/** `lambda-image start --http-port 0` (optionally under the RSS probe): ports and a stop function. */
async function startFront(ctx, image, extra = [], rssFile) {
  const pre = rssFile ? ['--import', path.join(ctx.root, 'bench', 'rss-probe.mjs')] : [];
  const args = [...pre, path.join(ctx.root, 'bin', 'lambda-image'), 'start', '--image', image];
  const child = spawn(process.execPath, [...args, '--port', '0', '--http-port', '0', '--timeout', '60', ...extra], {
    env: { ...process.env, CI: 'true', ...(rssFile ? { LAMBDA_IMAGE_RSS_OUT: rssFile } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const closed = new Promise((r) => child.on('close', r));
  const ports = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`start did not serve within 60 s: ${stderr}`)), 60_000);
    child.stdout.on('data', () => {
      const all = [...stdout.matchAll(/on http:\/\/127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]));
      if (all.length === 2) {
        clearTimeout(timer);
        resolve(all);
      }
    });
    void closed.then(() => reject(new Error(`start exited: ${stderr}`)));
  });
  return {
    invokePort: ports[0],
    httpPort: ports[1],
    async stop() {
      child.kill('SIGINT');
      await closed;
    },
  };
}

/** One request on a keep-alive agent; `onData(chunk, atMs)` sees each piece as it arrives. */
function request(agent, port, method, target, body, onData) {
  return new Promise((resolve, reject) => {
    const t = process.hrtime.bigint();
    const req = http.request({ host: '127.0.0.1', port, path: target, method, agent }, (res) => {
      let bytes = 0;
      res.on('data', (c) => {
        bytes += c.length;
        onData?.(c, performance.timeOrigin + performance.now());
      });
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: Number(process.hrtime.bigint() - t) / 1e6 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export default async function run(ctx) {
  const dir = path.join(ctx.work, 'front-fn');
  cpSync(path.join(ctx.root, 'fixtures', 'go-http-function'), dir, { recursive: true });
  ctx.cli(['init', dir, '--base', 'alpine', '--name', 'bench-front', '--force']);
  const image = `${ctx.repo}:front-fn`;
  ctx.build(dir, ['--tag', image]);

  // 1. Warm overhead: the same event (a function URL GET, which the function echoes back) sent
  //    to the Invoke API as JSON and to the URL front as the HTTP request itself, interleaved.
  {
    ctx.say('front: warm requests, function URL front vs Invoke API');
    const s = await startFront(ctx, image);
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const target = '/items/42?quiet=1&x=1';
      const event = JSON.parse(
        ctx.cli([
          'events',
          'function-url',
          '--set',
          'rawQueryString=quiet=1&x=1',
          '--set',
          'queryStringParameters.quiet="1"',
        ]),
      );
      const payload = JSON.stringify(event);
      const invoke = [];
      const front = [];
      for (let i = 0; i < 20; i++) {
        await request(agent, s.invokePort, 'POST', '/2015-03-31/functions/function/invocations', payload);
        await request(agent, s.httpPort, 'GET', target);
      }
      for (let i = 0; i < 200; i++) {
        invoke.push(
          (await request(agent, s.invokePort, 'POST', '/2015-03-31/functions/function/invocations', payload)).ms,
        );
        front.push((await request(agent, s.httpPort, 'GET', target)).ms);
      }
      agent.destroy();
      const ratio = ctx.median(front) / ctx.median(invoke);
      ctx.row('front: warm request via Invoke API (median of 200)', `${ctx.median(invoke).toFixed(2)} ms`, '-', true);
      ctx.row(
        'front: warm request via function URL front (median of 200)',
        `${ctx.median(front).toFixed(2)} ms (${ratio.toFixed(2)}x)`,
        '<= 1.2x the Invoke API',
        ratio <= 1.2,
      );
    } finally {
      await s.stop();
    }
  }

  // 2. Time to first streamed byte: the function stamps each chunk with the time it wrote it
  //    (the container shares the host's clock); the client notes when it read it.
  {
    ctx.say('front: streamed chunks, function write to client read');
    const s = await startFront(ctx, image, ['--invoke-mode', 'RESPONSE_STREAM']);
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const lags = [];
      for (let round = 0; round < 6; round++) {
        let text = '';
        const arrivals = [];
        await request(
          agent,
          s.httpPort,
          'GET',
          '/?mode=stream&stamp=1&quiet=1&chunks=10&delay=30',
          undefined,
          (c, at) => {
            text += c;
            for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
              const m = /^chunk \d+ (\d+)$/.exec(text.slice(0, nl));
              if (m) arrivals.push(at - Number(BigInt(m[1]) / 1000n) / 1000);
              text = text.slice(nl + 1);
            }
          },
        );
        if (round > 0) lags.push(...arrivals); // the first round includes the cold start
      }
      agent.destroy();
      const lag = ctx.median(lags);
      ctx.row(
        `front: streamed chunk, function write to client read (median of ${lags.length})`,
        `${lag.toFixed(2)} ms`,
        '<= 20 ms',
        lag <= 20,
      );
    } finally {
      await s.stop();
    }
  }

  // 3. A 50 MB stream through the URL front: the CLI's peak RSS against a run that streams 1 KB.
  {
    ctx.say('front: 50 MB stream, peak memory of lambda-image');
    const peak = async (bytes) => {
      const rssFile = path.join(mkdtempSync(path.join(ctx.work, 'rss-')), 'rss');
      const s = await startFront(ctx, image, ['--invoke-mode', 'RESPONSE_STREAM'], rssFile);
      let got;
      try {
        got = await request(undefined, s.httpPort, 'GET', `/?mode=stream&quiet=1&bytes=${bytes}`);
      } finally {
        await s.stop();
      }
      if (got.bytes !== bytes) throw new Error(`the stream delivered ${got.bytes} of ${bytes} bytes`);
      return Number(readFileSync(rssFile, 'utf8')) / 1024;
    };
    const small = await peak(1024);
    const big = await peak(50 * 1024 * 1024);
    const bigger = await peak(200 * 1024 * 1024);
    const growth = big - small;
    ctx.row('front: peak RSS of start, 1 KB stream', `${small.toFixed(0)} MB`, '-', true);
    ctx.row(
      'front: peak RSS of start, 50 MB stream',
      `${big.toFixed(0)} MB (+${growth.toFixed(1)} MB)`,
      '< 30 MB growth',
      growth < 30,
    );
    // Flat means it does not grow with the stream: four times the bytes, about the same peak
    // (what 50 MB adds over 1 KB is garbage the collector has not taken back yet, not the stream).
    ctx.row(
      'front: peak RSS of start, 200 MB stream',
      `${bigger.toFixed(0)} MB (+${(bigger - big).toFixed(1)} MB over 50 MB)`,
      '< 10 MB over 50 MB',
      bigger - big < 10,
    );
  }
}
