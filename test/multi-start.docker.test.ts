// A project of several functions run locally on a real engine: fixtures/go-multi's orders,
// users and payments (one build, an image each; a test extension given to orders only),
// served at once by one `start` (the Invoke API routing by name, an HTTP front per function or
// by /<name> prefix, a pool and settings per function, log lines named by function, SHUTDOWN
// to every environment) and invoked one by one with --function.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_LABEL } from '../src/emulator/sandbox.js';
import { BIN, runCli } from './support/cli.js';
import { docker, dockerEnv, removeContainersAndImages, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

const FUNCTIONS = ['orders', 'users', 'payments'] as const;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe.skipIf(!dockerEnv.available)('a project of several functions, run locally (real engine)', () => {
  const repo = uniqueRepo('multistart');
  const image = (fn: string) => `${repo}-${fn}`;
  let dir: string;

  beforeAll(async () => {
    dir = fixtureCopy('go-multi');
    // The project of several, each function with settings of its own over the project's.
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'shop',
        tag: 'ms',
        go: { module: 'example.com/shop', version: '1.23' },
        memorySize: 128,
        deploy: { environment: { STAGE: 'project-stage' } },
        functions: {
          orders: {
            main: './cmd/orders',
            image: image('orders'),
            memorySize: 256,
            environment: { STAGE: 'orders-stage' },
          },
          users: { main: './cmd/users', image: image('users'), environment: { STAGE: 'users-stage' } },
          payments: { main: './cmd/payments', image: image('payments') },
        },
      }),
    );
    // The test extension (compiled on the host, static), given to orders only.
    const extBin = path.join(tmpDir(), 'test-ext');
    execFileSync('go', ['build', '-o', extBin, '.'], {
      cwd: fixtureCopy('go-extension'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    });
    const zip = path.join(tmpDir(), 'test-ext.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'extensions/', mode: 0o040755 },
        { name: 'extensions/test-ext', data: readFileSync(extBin), mode: 0o100755 },
      ]),
    );
    const added = await runCli(['add-extension', '--from-zip', zip, dir, '--function', 'orders']);
    expect(added.code, added.stderr).toBe(0);
    // One build of the project: an image per function, each recorded.
    const b = await runCli(['build', dir, ...standin()]);
    expect(b.code, b.stderr).toBe(0);
  });

  /** Containers made by invoke/start in THIS file: other processes run invokes on the engine at the same time. */
  const ours = async () =>
    (await docker.listContainers({ all: true, filters: { label: [SESSION_LABEL] } })).filter((c) =>
      c.Image.startsWith(repo),
    );
  afterAll(async () => {
    expect((await ours()).map((c) => `${c.Image} ${c.Status}`)).toEqual([]);
    for (const fn of FUNCTIONS) await removeContainersAndImages(image(fn));
  });

  it('invoke --function runs that function with its settings; without it, exit 2 naming them', async () => {
    const none = await runCli(['invoke', dir]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('orders, users, payments');
    const users = await runCli(['invoke', dir, '--function', 'users', '--data', '{"id":7}']);
    expect(users.code, users.stderr).toBe(0);
    expect(JSON.parse(users.stdout)).toMatchObject({ function: 'users', stage: 'users-stage', event: { id: 7 } });
    expect(users.stderr).toMatch(/REPORT RequestId: .*Memory Size: 128 MB/);
    // --env wins over the configured environment; orders has its own memory size.
    const orders = await runCli(['invoke', dir, '--function', 'orders', '--env', 'STAGE=from-cli']);
    expect(orders.code, orders.stderr).toBe(0);
    expect(JSON.parse(orders.stdout)).toMatchObject({ function: 'orders', stage: 'from-cli' });
    expect(orders.stderr).toMatch(/REPORT RequestId: .*Memory Size: 256 MB/);
  });

  it('start with a function whose image was never built: exit 11 naming the function; the others leave nothing behind', async () => {
    const copy = path.join(tmpDir(), 'shop');
    cpSync(dir, copy, { recursive: true });
    const configFile = path.join(copy, 'lambda-image.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    config.functions.inventory = { main: './cmd/inventory', image: image('inventory') };
    writeFileSync(configFile, JSON.stringify(config));
    const r = await runCli(['start', copy, '--port', String(await freePort())]);
    expect(r.code, r.stderr).toBe(11);
    expect(r.stderr).toContain(`function inventory: image ${image('inventory')}:ms is not on the engine`);
    expect(r.stderr).toContain('lambda-image build --function inventory');
    // The hint serves the built ones by name, never --image (which would drop the project's functions).
    const built = Object.keys(config.functions).filter((f) => f !== 'inventory');
    expect(r.stderr).toContain(
      `or serve the built ones: lambda-image start ${built.map((f) => `--function ${f}`).join(' ')}`,
    );
    expect(r.stderr).not.toContain('--image');
    expect(await ours()).toEqual([]);
  });

  it('start serves every function: Invoke API by name and ARN, 404 for others, HTTP fronts per port and by prefix, lines named by function', async () => {
    const [port, shared, own] = [await freePort(), await freePort(), await freePort()];
    const child = spawn(
      BIN,
      ['start', dir, '--port', String(port), '--http-port', String(shared), '--http-port', `payments=${own}`],
      { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await expect.poll(() => stderr, { timeout: 60_000, interval: 100 }).toContain('Ctrl-C stops it');
      // Start-up says where each function is.
      expect(stdout).toContain(`serving 3 functions on http://127.0.0.1:${port}`);
      expect(stdout).toContain(`serving orders as a function URL (BUFFERED) on http://127.0.0.1:${shared}/orders/`);
      expect(stdout).toContain(`serving payments as a function URL (BUFFERED) on http://127.0.0.1:${own}`);

      const invoke = async (name: string, body = '{}') => {
        const res = await fetch(
          `http://127.0.0.1:${port}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`,
          {
            method: 'POST',
            body,
          },
        );
        return { status: res.status, type: res.headers.get('x-amzn-errortype'), body: await res.json() };
      };
      const answers = await Promise.all([
        invoke('orders', '{"n":1}'),
        invoke('arn:aws:lambda:us-east-1:123456789012:function:users', '{"n":2}'),
        invoke('123456789012:function:payments', '{"n":3}'),
      ]);
      expect(answers.map((a) => [a.status, a.body.function, a.body.stage, a.body.event.n])).toEqual([
        [200, 'orders', 'orders-stage', 1],
        [200, 'users', 'users-stage', 2],
        [200, 'payments', 'project-stage', 3],
      ]);
      for (const name of ['inventory', 'function']) {
        const missing = await invoke(name);
        expect([missing.status, missing.type, missing.body.Type]).toEqual([404, 'ResourceNotFoundException', 'User']);
      }

      // The HTTP fronts: /<name> on the shared port (stripped from rawPath), every path on payments' own.
      const viaShared = await (await fetch(`http://127.0.0.1:${shared}/users/profile/9?x=1`)).json();
      expect(viaShared).toMatchObject({ function: 'users', event: { rawPath: '/profile/9', rawQueryString: 'x=1' } });
      const viaOwn = await (await fetch(`http://127.0.0.1:${own}/charge`, { method: 'POST', body: 'hi' })).json();
      expect(viaOwn).toMatchObject({ function: 'payments', stage: 'project-stage', event: { rawPath: '/charge' } });
      expect((await fetch(`http://127.0.0.1:${shared}/inventory/x`)).status).toBe(404);

      // Each line on the terminal says which function it is from; each has its own memory size.
      const lines = stderr.split('\n');
      for (const fn of FUNCTIONS) {
        const prefix = new RegExp(`^${fn}\\s*\\| `);
        expect(lines.some((l) => prefix.test(l) && l.includes(`${fn} cold start`))).toBe(true);
        expect(lines.filter((l) => prefix.test(l) && /REPORT RequestId/.test(l)).length).toBeGreaterThan(0);
      }
      expect(lines.some((l) => /^orders\s*\| REPORT .*Memory Size: 256 MB/.test(l))).toBe(true);
      expect(lines.some((l) => /^users\s*\| REPORT .*Memory Size: 128 MB/.test(l))).toBe(true);
      expect(lines.some((l) => /^users\s*\| .*orders cold start/.test(l))).toBe(false);
      // Only orders' image holds the extension given to it.
      expect(lines.some((l) => /^orders\s*\| \[test-ext\] registered test-ext for orders/.test(l))).toBe(true);
      expect(lines.filter((l) => l.includes('[test-ext]') && !/^orders\s*\| /.test(l))).toEqual([]);
    } finally {
      child.kill('SIGINT');
    }
    // Ctrl-C drains every function's pool (extensions get SHUTDOWN) and removes every container.
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/^orders\s*\| \[test-ext\] SHUTDOWN spindown/m);
    expect(await ours()).toEqual([]);
  });
});
