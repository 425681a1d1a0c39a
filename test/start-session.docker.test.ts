// `start` as one session against the real engine: a config edit under --watch --http-port
// (memorySize, url.cors) is in force after the update, with no request dropped; Ctrl-C in the
// first build stops it, removes its packed context and exits 130.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import { removeContainersAndImages, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy } from './support/tmp.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const contexts = () => new Set(readdirSync(os.tmpdir()).filter((n) => n.startsWith('lambda-image-context-')));

describe('start --watch as one session', () => {
  const repo = uniqueRepo('session');
  afterAll(async () => {
    await removeContainersAndImages(repo);
  });

  it('a config edit (memorySize 128→256, url.cors) is in force after the update, no request dropped', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo])).code).toBe(0);
    const run = await startCliUntil(
      ['start', dir, '--watch', '--port', '0', '--http-port', '0', ...standin()],
      /watching the project/,
    );
    try {
      // The serving lines are results: on stdout (buffered until read).
      let stdout = '';
      run.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !/as a function URL/.test(stdout)) await sleep(50);
      const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
      const http = Number(/as a function URL \(BUFFERED\) on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
      expect(port, stdout).toBeGreaterThan(0);
      expect(http, stdout).toBeGreaterThan(0);
      const answers: Array<{ status: number; cors: string | null }> = [];
      let stopped = false;
      const client = (async () => {
        for (let i = 0; i < 20_000 && !stopped; i++) {
          try {
            const res = await fetch(`http://127.0.0.1:${http}/x`, { headers: { Origin: 'https://a.example' } });
            await res.text();
            answers.push({ status: res.status, cors: res.headers.get('access-control-allow-origin') });
          } catch {
            answers.push({ status: 0, cors: null });
          }
        }
      })();
      while (!answers.length) await sleep(50);
      // The REPORT line follows the answer.
      const reported = Date.now() + 10_000;
      while (Date.now() < reported && !/Memory Size: 128 MB/.test(run.stderr())) await sleep(50);
      expect(run.stderr()).toMatch(/Memory Size: 128 MB/);
      const file = path.join(dir, 'lambda-image.json');
      const config = JSON.parse(readFileSync(file, 'utf8'));
      writeFileSync(
        file,
        JSON.stringify(
          { ...config, memorySize: 256, url: { ...config.url, cors: { allowOrigins: ['https://a.example'] } } },
          null,
          2,
        ),
      );
      const end = Date.now() + 90_000;
      while (Date.now() < end && !/swapped .* with the new memorySize, url\.cors/.test(run.stderr())) await sleep(100);
      expect(run.stderr()).toMatch(/swapped .* with the new memorySize, url\.cors/);
      const swappedAt = answers.length;
      const until = Date.now() + 30_000;
      while (Date.now() < until && !answers.slice(swappedAt).some((a) => a.cors === 'https://a.example'))
        await sleep(50);
      await sleep(500);
      stopped = true;
      await client;
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      expect(answers.slice(swappedAt).some((a) => a.cors === 'https://a.example')).toBe(true);
      const later = Date.now() + 10_000;
      while (Date.now() < later && !/Memory Size: 256 MB/.test(run.stderr())) await sleep(50);
      expect(run.stderr()).toMatch(/Memory Size: 256 MB/);
    } finally {
      run.child.kill('SIGINT');
      await run.exited;
    }
  });

  it('Ctrl-C during the first build stops it, removes its packed context, says so and exits 130', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir, '--base', 'alpine', '--name', `${repo}-first`])).code).toBe(0);
    const before = contexts();
    const run = await startCliUntil(
      ['start', dir, '--watch', '--port', '0', '--no-cache', ...standin()],
      /building the project before serving it/,
    );
    await sleep(1500);
    run.child.kill('SIGINT');
    const code = await run.exited;
    expect(code).toBe(130);
    expect(run.stderr()).toMatch(/interrupted: the first build was stopped/);
    const left = [...contexts()].filter((n) => !before.has(n));
    expect(left).toEqual([]);
  });

  it('a function added to `functions` answers (not 404), and the watch line says it was added', async () => {
    const dir = fixtureCopy('go-multi');
    const file = path.join(dir, 'lambda-image.json');
    const config = (fns: string[]) =>
      JSON.stringify({
        version: 1,
        name: 'shop',
        tag: 'session',
        base: 'alpine',
        go: { module: 'example.com/shop', version: '1.23' },
        functions: Object.fromEntries(fns.map((fn) => [fn, { main: `./cmd/${fn}`, image: `${repo}-${fn}` }])),
      });
    writeFileSync(file, config(['orders']));
    const run = await startCliUntil(['start', dir, '--watch', '--port', '0', ...standin()], /watching the project/);
    let stdout = '';
    run.child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    const status = async (port: number, fn: string) =>
      (await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: '{}' }))
        .status;
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !/on http:\/\/127\.0\.0\.1:(\d+)/.test(stdout)) await sleep(50);
      const port = Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
      expect(port, stdout).toBeGreaterThan(0);
      expect(await status(port, 'orders')).toBe(200);
      expect(await status(port, 'users')).toBe(404);

      writeFileSync(file, config(['orders', 'users']));
      const added = Date.now() + 120_000;
      while (Date.now() < added && !/users added to functions, built in .*now served/.test(run.stderr()))
        await sleep(100);
      expect(run.stderr()).toMatch(/watch: .*users added to functions, built in .*now served/);
      expect(await status(port, 'users')).toBe(200);
      expect(await status(port, 'orders')).toBe(200);
    } finally {
      run.child.kill('SIGINT');
      await run.exited;
      await removeContainersAndImages(`${repo}-orders`);
      await removeContainersAndImages(`${repo}-users`);
    }
  }, 600_000);
});
