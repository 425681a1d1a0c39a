// Running a project of several functions locally, without containers: the Invoke API and HTTP
// front routing of `start` over real HTTP on 127.0.0.1 (pool stand-ins that answer with their
// function's name), each function's settings from its config view, and the CLI's checks.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveFunctionSettings, resolveStartSettings } from '../src/app/invoke.js';
import { type FrontFunction, type FrontServer, startFront } from '../src/serve/invoke-api.js';
import type { PoolInvoke } from '../src/emulator/pool.js';
import { parseFunctionTarget, routeFunction, routePrefixed } from '../src/serve/function-target.js';
import { recordBuild } from '../src/project/build-record.js';
import { runCliInProcess as runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

describe('which function a path names', () => {
  const names = ['orders', 'users', 'payments'];
  it.each([
    ['orders', 'orders'],
    ['users:$LATEST', 'users'],
    ['123456789012:function:payments', 'payments'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:orders', 'orders'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:orders:$LATEST', 'orders'],
    ['arn:aws-cn:lambda:cn-north-1:123456789012:function:users', 'users'],
  ])('%s reaches %s', (target, name) => {
    expect(routeFunction(target, names)).toBe(name);
  });

  it.each([
    ['nope', 'a name no function has'],
    ['function', "the emulator's own name, with several functions served"],
    ['orders:v2', 'a version that does not run locally'],
    ['arn:aws:lambda:eu-west-1:123456789012:function:orders:live', 'an alias'],
    ['orders/../users', 'not a function name'],
    ['', 'nothing'],
  ])('%s reaches nothing (%s)', (target) => {
    expect(routeFunction(target, names)).toBeUndefined();
  });

  it("`function` is the one function when only one is served (the RIE's path), and a Qualifier query counts", () => {
    expect(routeFunction('function', ['orders'])).toBe('orders');
    expect(routeFunction('orders', names, 'v3')).toBeUndefined();
    expect(routeFunction('orders', names, '$LATEST')).toBe('orders');
  });

  it('a served name given as an ARN (--function-name) is reached by its name too', () => {
    expect(routeFunction('orders', ['arn:aws:lambda:us-east-1:123456789012:function:orders'])).toBe(
      'arn:aws:lambda:us-east-1:123456789012:function:orders',
    );
    expect(parseFunctionTarget('arn:aws:lambda:us-east-1:123456789012:function:orders:7')).toEqual({
      name: 'orders',
      qualifier: '7',
    });
  });

  it.each([
    ['/orders/items/1?x=1', { name: 'orders', target: '/items/1?x=1' }],
    ['/users', { name: 'users', target: '/' }],
    ['/users?x=1', { name: 'users', target: '/?x=1' }],
    ['/payments/', { name: 'payments', target: '/' }],
    ['http://localhost:8080/orders/a', { name: 'orders', target: '/a' }],
  ])('the shared HTTP front sends %s to %j', (target, routed) => {
    expect(routePrefixed(target, names)).toEqual(routed);
  });

  it.each(['/', '/ordersx/a', '/nope/a', '*', '/%E0%A4%A'])('the shared HTTP front sends %s nowhere', (target) => {
    expect(routePrefixed(target, names)).toBeUndefined();
  });
});

/** A function whose pool answers at once with its name and what it was given; counts its drains. */
function fakeFunction(name: string) {
  const seen: string[] = [];
  let drains = 0;
  const pool: FrontFunction['pool'] = {
    concurrency: 1,
    async invoke(payload) {
      seen.push(payload.toString());
      return {
        requestId: `${name}-req`,
        traceId: 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
        result: {
          kind: 'response',
          body: Buffer.from(JSON.stringify({ function: name, event: JSON.parse(payload.toString()) })),
        },
        durationMs: 1,
        timedOut: false,
        cold: false,
        maxMemoryMb: Promise.resolve(10),
        log: Promise.resolve(''),
      } as PoolInvoke;
    },
    drain() {
      drains++;
    },
  };
  const fn: FrontFunction = { name, timeoutSec: 3, pool };
  return { fn, seen, drains: () => drains };
}

describe('start serving several functions (real HTTP, stand-in pools)', () => {
  let front: FrontServer | undefined;
  afterEach(async () => {
    await front?.close();
    front = undefined;
  });
  const post = (port: number, p: string, body = '{"a":1}', headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${port}${p}`, { method: 'POST', body, headers });
  const invokePath = (name: string) => `/2015-03-31/functions/${encodeURIComponent(name)}/invocations`;

  it('the Invoke API routes by name, partial and full ARN; an unknown name is 404 ResourceNotFoundException', async () => {
    const fns = ['orders', 'users', 'payments'].map(fakeFunction);
    front = await startFront(
      fns.map((f) => f.fn),
      0,
    );
    for (const [target, name] of [
      ['orders', 'orders'],
      ['arn:aws:lambda:us-east-1:123456789012:function:users', 'users'],
      ['123456789012:function:payments', 'payments'],
    ]) {
      const res = await post(front.port, invokePath(target!));
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ function: name, event: { a: 1 } });
    }
    // InvokeWithResponseStream and Event invokes route the same way.
    const streamed = await post(front.port, '/2021-11-15/functions/users/response-streaming-invocations');
    expect(streamed.status).toBe(200);
    expect(Buffer.from(await streamed.arrayBuffer()).toString('latin1')).toContain('"function":"users"');
    const event = await post(front.port, invokePath('payments'), '{"b":2}', { 'X-Amz-Invocation-Type': 'Event' });
    expect(event.status).toBe(202);
    await expect.poll(() => fns[2]!.seen).toContain('{"b":2}');
    expect(fns[0]!.seen).toEqual(['{"a":1}']);
    expect(fns[1]!.seen).toEqual(['{"a":1}', '{"a":1}']);

    for (const target of ['nope', 'function', 'orders:v2']) {
      const res = await post(front.port, invokePath(target));
      expect(res.status).toBe(404);
      expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
      const body = (await res.json()) as { Type: string; message: string };
      expect(body.Type).toBe('User');
      expect(body.message).toContain(`Function not found: ${target}`);
      expect(body.message).toContain('orders, users, payments');
    }
    // A version or alias, in the path or as ?Qualifier=: named in the 404, which says only $LATEST runs here.
    for (const [p, named] of [
      [`${invokePath('orders')}?Qualifier=live`, 'orders:live'],
      [invokePath('orders:7'), 'orders:7'],
      [`${invokePath('arn:aws:lambda:us-east-1:123456789012:function:users')}?Qualifier=prod`, 'users:prod'],
    ] as const) {
      const res = await post(front.port, p);
      expect(res.status).toBe(404);
      expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
      expect(((await res.json()) as { message: string }).message).toBe(
        `Function not found: ${named} (only $LATEST runs locally; this server runs orders, users, payments)`,
      );
    }
    await front.close();
    front = undefined;
    // Shutdown drains every function's pool.
    expect(fns.map((f) => f.drains() > 0)).toEqual([true, true, true]);
  });

  it("HTTP front: request headers past the real front's 10,240 bytes are refused (431), never dropped; those under it all arrive", async () => {
    const f = fakeFunction('solo');
    front = await startFront(f.fn, 0, { http: [{ port: 0, front: 'url', invokeMode: 'BUFFERED' }] });
    const port = front.httpPorts[0]!.port;
    // Raw, as a client may send them: count headers of three-character names, no value.
    const send = (count: number) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const names = Array.from({ length: count }, (_, i) => i.toString(36).padStart(3, '0'));
        const socket = net.connect(port, '127.0.0.1', () =>
          socket.end(`GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n${names.map((n) => `${n}:\r\n`).join('')}\r\n`),
        );
        let raw = '';
        socket.on('data', (c: Buffer) => (raw += c.toString()));
        socket.on('error', reject);
        socket.on('close', () => {
          const [head = '', ...rest] = raw.split('\r\n\r\n');
          const body = rest.join('\r\n\r\n');
          // A chunked body: its one chunk between the size line and the end.
          const json = body.slice(body.indexOf('{'), body.lastIndexOf('}') + 1);
          resolve({ status: Number(head.split(' ')[1]), body: json });
        });
      });
    // 2,100 headers of 6 bytes: within Node's own 16 KB, so before this the front dropped those past Node's 2,000.
    const refused = await send(2100);
    expect(refused.status).toBe(431);
    expect(f.seen).toEqual([]);
    const kept = await send(600);
    expect(kept.status).toBe(200);
    const event = (JSON.parse(kept.body) as { event: { headers: Record<string, string> } }).event;
    expect(Object.keys(event.headers).filter((h) => /^[0-9a-z]{3}$/.test(h))).toHaveLength(600);
  });

  it('one function keeps the emulator path and its own name', async () => {
    const f = fakeFunction('solo');
    front = await startFront(f.fn, 0);
    for (const target of ['function', 'solo']) expect((await post(front.port, invokePath(target))).status).toBe(200);
    expect((await post(front.port, invokePath('other'))).status).toBe(404);
  });

  it('HTTP fronts: one port serves each function under /<name> (prefix stripped), another port one function on every path', async () => {
    const fns = ['orders', 'users', 'payments'].map(fakeFunction);
    front = await startFront(
      fns.map((f) => f.fn),
      0,
      {
        http: [
          { port: 0, front: 'url', invokeMode: 'BUFFERED' },
          { port: 0, front: 'url', invokeMode: 'BUFFERED', functions: ['payments'] },
        ],
      },
    );
    expect(front.httpPorts.map((h) => [h.functions, h.prefixed])).toEqual([
      [['orders', 'users', 'payments'], true],
      [['payments'], false],
    ]);
    const [shared, own] = front.httpPorts.map((h) => h.port);
    const get = async (port: number, p: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: res.status, body: await res.json() };
    };
    const orders = await get(shared!, '/orders/items/42?tag=a');
    expect(orders.status).toBe(200);
    expect(orders.body.function).toBe('orders');
    expect(orders.body.event).toMatchObject({ rawPath: '/items/42', rawQueryString: 'tag=a' });
    expect(orders.body.event.requestContext.http.path).toBe('/items/42');
    const users = await get(shared!, '/users');
    expect(users.body).toMatchObject({ function: 'users', event: { rawPath: '/' } });
    // Each function's own URL id (its domain name), as each has its own function URL.
    expect(users.body.event.requestContext.domainName).not.toBe(orders.body.event.requestContext.domainName);
    const nowhere = await get(shared!, '/nope/a');
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.message).toContain('/orders/, /users/, /payments/');
    const payments = await get(own!, '/orders/x');
    expect(payments.body).toMatchObject({ function: 'payments', event: { rawPath: '/orders/x' } });
  });
});

/** A project of three functions with settings of their own over the project's. */
function multiProject(): string {
  const dir = tmpDir();
  writeFileSync(
    path.join(dir, 'lambda-image.json'),
    JSON.stringify({
      name: 'shop',
      tag: 'dev',
      go: { module: 'example.com/shop', version: '1.23' },
      timeout: 10,
      memorySize: 256,
      deploy: { environment: { STAGE: 'project', REGION_NAME: 'north' } },
      functions: {
        orders: { main: './cmd/orders', memorySize: 512, timeout: 20, environment: { STAGE: 'orders-stage' } },
        users: { main: './cmd/users', image: 'shop-users', ephemeralStorage: 1024 },
        payments: { main: './cmd/payments', deploy: { environment: { STAGE: 'payments-deploy' } } },
      },
    }),
  );
  return dir;
}

describe("each function's settings (its config view)", () => {
  it('start: memory, timeout, storage, environment and image per function; --env wins over the config', async () => {
    const dir = multiProject();
    mkdirSync(path.join(dir, '.lambda-image'));
    // users' latest build made this image (its record): that is what runs.
    await recordBuild(
      dir,
      [
        {
          variant: 'aws',
          image: 'shop-users:built-by-build',
          id: `sha256:${'a'.repeat(64)}`,
          arch: 'x86_64',
          builtAt: new Date().toISOString(),
        },
      ],
      'users',
    );
    const plans = await resolveStartSettings({ dir, env: { REGION_NAME: 'cli' } });
    expect(
      plans.map((p) => ({
        name: p.name,
        image: p.image,
        t: p.timeoutSec,
        m: p.memoryMb,
        e: p.ephemeralMb,
        env: p.env,
      })),
    ).toEqual([
      {
        name: 'orders',
        image: 'orders:dev',
        t: 20,
        m: 512,
        e: 512,
        env: { STAGE: 'orders-stage', REGION_NAME: 'cli' },
      },
      {
        name: 'users',
        image: 'shop-users:built-by-build',
        t: 10,
        m: 256,
        e: 1024,
        env: { STAGE: 'project', REGION_NAME: 'cli' },
      },
      {
        name: 'payments',
        image: 'payments:dev',
        t: 10,
        m: 256,
        e: 512,
        env: { STAGE: 'payments-deploy', REGION_NAME: 'cli' },
      },
    ]);
    const named = await resolveStartSettings({ dir, functions: ['payments', 'orders'] });
    expect(named.map((p) => p.name)).toEqual(['payments', 'orders']);
  });

  it('invoke runs the named one; a project of several asks for one, naming them; start refuses one --function-name for several', async () => {
    const dir = multiProject();
    const users = await resolveFunctionSettings({ dir, functions: ['users'], memoryMb: 1024 });
    expect([users.name, users.image, users.memoryMb]).toEqual(['users', 'shop-users:dev', 1024]);
    await expect(resolveFunctionSettings({ dir })).rejects.toThrow(/3 functions \(orders, users, payments\)/);
    await expect(resolveFunctionSettings({ dir, functions: ['nope'] })).rejects.toThrow(
      /no function named "nope".*orders, users, payments/,
    );
    await expect(resolveStartSettings({ dir, functionName: 'x' })).rejects.toThrow(
      /--function-name names one function/,
    );
    await expect(resolveFunctionSettings({ dir, image: 'x:1', functions: ['users'] })).rejects.toThrow(
      /give one of --image and --function/,
    );
  });

  it('a one-function project runs as before, with its deploy.environment', async () => {
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'solo',
        tag: 't',
        go: { module: 'example.com/solo', version: '1.23' },
        memorySize: 512,
        deploy: { environment: { STAGE: 'prod' } },
      }),
    );
    const plan = await resolveFunctionSettings({ dir, env: { OTHER: '1' } });
    expect([plan.name, plan.image, plan.memoryMb, plan.env]).toEqual([
      'solo',
      'solo:t',
      512,
      { STAGE: 'prod', OTHER: '1' },
    ]);
    expect((await resolveStartSettings({ dir })).map((p) => p.name)).toEqual(['solo']);
  });
});

describe('the CLI with a project of several functions', () => {
  it('invoke without --function: exit 2, listing the functions, before any engine is asked', async () => {
    const dir = multiProject();
    const r = await runCli(['invoke', dir], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('this project has 3 functions (orders, users, payments)');
    expect(r.stderr).toContain('--function orders');
  });

  it.each([
    [['--http-port', 'nope=8081'], 'no function named "nope" is served'],
    [['--http-port', '8080', '--http-port', '8081'], 'give one port for every function'],
    [['--http-port', 'orders=8081', '--http-port', 'users=8081'], 'ask for the same port'],
    [['--http-port', 'orders=9000'], 'is also the --port'],
    [['--function', 'nope'], 'no function named "nope"'],
    // --image would serve that image alone, dropping the project's functions without a word.
    [
      ['--image', 'shop-orders:latest'],
      '--image serves one image, and this project has 3 functions (orders, users, payments)',
    ],
  ])('start %j: exit 2 (%s)', async (args, message) => {
    const dir = multiProject();
    const r = await runCli(['start', dir, ...args], { env: { DOCKER_HOST: 'unix:///nonexistent.sock' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(message);
  });
});
