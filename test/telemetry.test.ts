// The Telemetry/Logs API hub at the protocol level: subscription validation, Lambda's
// buffering (maxItems, timeoutMs), init events kept for subscribers that arrive during init,
// and a destination that is down (real HTTP servers on 127.0.0.1, no containers).
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaApiServer } from '../src/emulator/lambda-api.js';
import { DELIVERY_TIMEOUT_MS, TelemetryHub } from '../src/emulator/telemetry.js';

interface Batch {
  type: string;
  record: unknown;
}

async function subscriber(): Promise<{
  port: number;
  batches: Batch[][];
  next(): Promise<Batch[]>;
  close(): Promise<void>;
}> {
  const batches: Batch[][] = [];
  const waiting: Array<(b: Batch[]) => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const batch = JSON.parse(Buffer.concat(chunks).toString()) as Batch[];
      batches.push(batch);
      res.end();
      waiting.shift()?.(batch);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    batches,
    next: () => new Promise((r) => waiting.push(r)),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const local = async (host: string, port: number) => ({
  host: host === 'sandbox.localdomain' ? '127.0.0.1' : host,
  port,
});
const body = (o: object) => Buffer.from(JSON.stringify(o));

describe('Telemetry API hub', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('refuses bad subscriptions with 400 and a reason', () => {
    const hub = new TelemetryHub(local);
    const sub = (o: object) => hub.subscribe('telemetry', 'id', 'ext', body(o));
    const dest = { protocol: 'HTTP', URI: 'http://sandbox.localdomain:4243/' };
    expect(sub({ schemaVersion: '1999-01-01', types: ['platform'], destination: dest })).toMatchObject({
      status: 400,
      body: { errorMessage: expect.stringMatching(/schemaVersion/) },
    });
    expect(sub({ schemaVersion: '2022-12-13', types: ['nope'], destination: dest }).status).toBe(400);
    expect(
      sub({ schemaVersion: '2022-12-13', types: ['platform'], buffering: { timeoutMs: 5 }, destination: dest }),
    ).toMatchObject({
      status: 400,
      body: { errorMessage: expect.stringMatching(/timeoutMs must be an integer from 25 to 30000/) },
    });
    expect(sub({ schemaVersion: '2022-12-13', types: ['platform'], destination: { protocol: 'UDP' } }).status).toBe(
      400,
    );
    expect(sub({ schemaVersion: '2022-12-13', types: ['platform'], destination: dest })).toEqual({
      status: 200,
      body: 'OK',
    });
  });

  it('delivers init events to a subscriber that arrives during init, batched by maxItems, only the subscribed types', async () => {
    const s = await subscriber();
    closers.push(s.close);
    const hub = new TelemetryHub(local);
    closers.push(() => hub.close());
    hub.platform('platform.initStart', { initializationType: 'on-demand', phase: 'init' });
    const first = s.next();
    hub.subscribe(
      'telemetry',
      'id',
      'ext',
      body({
        schemaVersion: '2022-12-13',
        types: ['platform'],
        buffering: { maxItems: 25, timeoutMs: 30000 },
        destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${s.port}/` },
      }),
    );
    hub.endInit();
    for (let i = 0; i < 30; i++) hub.line('function', `line ${i}`); // not subscribed
    for (let i = 0; i < 23; i++) hub.platform('platform.start', { requestId: `r${i}`, version: '$LATEST' });
    // initStart + telemetrySubscription + 23 starts = 25 = maxItems: sent without waiting for timeoutMs.
    const batch = await first;
    expect(batch).toHaveLength(25);
    expect(batch.map((e) => e.type).slice(0, 3)).toEqual([
      'platform.initStart',
      'platform.telemetrySubscription',
      'platform.start',
    ]);
    expect(batch.every((e) => e.type.startsWith('platform.'))).toBe(true);
    expect((batch[0] as { time?: string } & Batch).time).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('sends what is buffered after timeoutMs, and on flush', async () => {
    const s = await subscriber();
    closers.push(s.close);
    const hub = new TelemetryHub(local);
    closers.push(() => hub.close());
    hub.endInit();
    hub.subscribe(
      'logs',
      'id',
      'ext',
      body({
        types: ['function'],
        buffering: { timeoutMs: 25 },
        destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${s.port}/` },
      }),
    );
    const timed = s.next();
    hub.line('function', 'hello');
    expect(await timed).toEqual([{ time: expect.any(String), type: 'function', record: 'hello' }]);
    hub.line('function', 'bye');
    await hub.flush();
    expect(s.batches.at(-1)).toEqual([{ time: expect.any(String), type: 'function', record: 'bye' }]);
  });

  it('a destination that accepts and never answers costs the caller nothing and the flush the delivery timeout, no more', async () => {
    // Accepts, reads the request, never answers: the hub must give up on its own at DELIVERY_TIMEOUT_MS.
    const sockets = new Set<net.Socket>();
    const closed: Promise<void>[] = [];
    const server = net.createServer((socket) => {
      sockets.add(socket);
      closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
      socket.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as AddressInfo).port;
    const hub = new TelemetryHub(local);
    closers.push(() => hub.close());
    hub.endInit();
    hub.subscribe(
      'telemetry',
      'id',
      'ext',
      body({
        schemaVersion: '2022-12-13',
        types: ['function'],
        destination: { protocol: 'HTTP', URI: `http://sandbox.localdomain:${port}/` },
      }),
    );
    const t0 = performance.now();
    for (let i = 0; i < 100; i++) hub.line('function', `x${i}`);
    expect(performance.now() - t0).toBeLessThan(DELIVERY_TIMEOUT_MS); // nothing waits on delivery
    const f0 = performance.now();
    await hub.flush(); // the batch is sent, never answered, then dropped
    const flushMs = performance.now() - f0;
    expect(sockets.size).toBe(1); // the delivery did reach the destination
    expect(flushMs).toBeGreaterThanOrEqual(DELIVERY_TIMEOUT_MS - 50); // it waited for the answer up to the bound...
    expect(flushMs).toBeLessThan(DELIVERY_TIMEOUT_MS * 5); // ...and gave up there: no hang
    await Promise.all(closed); // the hub closed its end: no connection left behind
  });
});

describe('Telemetry destinations (the trust boundary)', () => {
  let server: LambdaApiServer | undefined;
  afterEach(async () => server?.close());

  it('delivers only to the environment itself: other hosts and a null body are refused with 400 at subscription', async () => {
    server = new LambdaApiServer(
      {
        functionName: 'fn',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
        version: '$LATEST',
        handler: 'h',
      },
      ['ext'],
    );
    const port = await server.listen();
    const api = `http://127.0.0.1:${port}`;
    const reg = await fetch(`${api}/2020-01-01/extension/register`, {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': 'ext' },
      body: '{"events":[]}',
    });
    const id = reg.headers.get('lambda-extension-identifier')!;
    const subscribe = (body: string) =>
      fetch(`${api}/2022-07-01/telemetry`, { method: 'PUT', headers: { 'Lambda-Extension-Identifier': id }, body });
    const to = (uri: string) =>
      JSON.stringify({ schemaVersion: '2022-12-13', types: ['platform'], destination: { protocol: 'HTTP', URI: uri } });
    for (const uri of [
      'http://0.0.0.0:4243/',
      'http://127.0.0.1:4243/',
      'http://127.1.2.3:4243/',
      'http://localhost:4243/',
      'http://[::1]:4243/',
      'http://10.0.0.1:4243/',
      'http://169.254.169.254/latest/meta-data/',
      'http://example.com:4243/',
      'http://sandbox.localdomain.example.com:4243/',
    ]) {
      const res = await subscribe(to(uri));
      expect(res.status, uri).toBe(400);
      expect(await res.json(), uri).toMatchObject({
        errorType: 'ValidationError',
        errorMessage: expect.stringMatching(/sandbox\.localdomain/),
      });
    }
    const portZero = await subscribe(to('http://sandbox.localdomain:0/'));
    expect(portZero.status).toBe(400);
    expect(await portZero.json()).toMatchObject({ errorMessage: expect.stringMatching(/port/) });
    for (const body of ['null', '[]', '"x"', '3']) {
      const res = await subscribe(body);
      expect(res.status, body).toBe(400);
      expect(await res.json()).toMatchObject({ errorType: 'ValidationError' });
    }
    for (const uri of ['http://sandbox.localdomain:4243/', 'http://sandbox:4243/telemetry']) {
      const res = await subscribe(to(uri));
      expect(res.status, uri).toBe(200);
    }
  });
});

describe('Telemetry fidelity (what AWS sample extensions and aws-lambda-go read)', () => {
  const closers: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('platform.extension and the subscription events are sent; each subscriber gets the shapes of its schemaVersion', async () => {
    const hub = new TelemetryHub(local);
    const server = new LambdaApiServer(
      {
        functionName: 'fn',
        functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
        version: '$LATEST',
        handler: 'h',
      },
      ['old', 'new', 'logs'],
      { telemetry: hub },
    );
    closers.push(() => server.close());
    const api = `http://127.0.0.1:${await server.listen()}`;
    const subscribers = { old: await subscriber(), new: await subscriber(), logs: await subscriber() };
    for (const s of Object.values(subscribers)) closers.push(s.close);
    const register = async (name: string, events: string[]) =>
      (
        await fetch(`${api}/2020-01-01/extension/register`, {
          method: 'POST',
          headers: { 'Lambda-Extension-Name': name },
          body: JSON.stringify({ events }),
        })
      ).headers.get('lambda-extension-identifier')!;
    const subscribe = async (id: string, path: string, body: object) =>
      (
        await fetch(`${api}${path}`, {
          method: 'PUT',
          headers: { 'Lambda-Extension-Identifier': id },
          body: JSON.stringify(body),
        })
      ).status;
    const dest = (port: number) => ({ protocol: 'HTTP', URI: `http://sandbox.localdomain:${port}/` });
    const types = ['platform'];
    const old = await register('old', ['INVOKE']);
    expect(
      await subscribe(old, '/2022-07-01/telemetry', {
        schemaVersion: '2022-07-01',
        types,
        destination: dest(subscribers.old.port),
      }),
    ).toBe(200);
    const newer = await register('new', ['INVOKE', 'SHUTDOWN']);
    expect(
      await subscribe(newer, '/2022-07-01/telemetry', {
        schemaVersion: '2025-01-29',
        types,
        destination: dest(subscribers.new.port),
      }),
    ).toBe(200);
    const logs = await register('logs', []);
    expect(await subscribe(logs, '/2020-08-15/logs', { types, destination: dest(subscribers.logs.port) })).toBe(200);
    const initStart = {
      initializationType: 'on-demand',
      phase: 'init',
      runtimeVersion: 'img:1',
      runtimeVersionArn: 'arn:aws:lambda:us-east-1::runtime:abc',
      functionName: 'fn',
      functionVersion: '$LATEST',
      instanceId: 'i-1',
      instanceMaxMemory: 134217728,
    };
    hub.platform('platform.initStart', initStart);
    const spans = [{ name: 'responseLatency', start: '2026-01-01T00:00:00.000Z', durationMs: 1 }];
    hub.endInit();
    hub.platform('platform.runtimeDone', { requestId: 'r', status: 'success', spans });
    await hub.flush();
    const events = (s: { batches: Batch[][] }) => s.batches.flat();
    const of = (s: { batches: Batch[][] }, type: string) => events(s).filter((e) => e.type === type);
    for (const s of [subscribers.old, subscribers.new])
      expect(of(s, 'platform.extension').map((e) => e.record)).toEqual([
        { name: 'old', state: 'Ready', events: ['INVOKE'] },
        { name: 'new', state: 'Ready', events: ['INVOKE', 'SHUTDOWN'] },
        { name: 'logs', state: 'Ready', events: [] },
      ]);
    expect(of(subscribers.new, 'platform.telemetrySubscription').map((e) => e.record)).toContainEqual({
      name: 'new',
      state: 'Subscribed',
      types,
    });
    expect(of(subscribers.new, 'platform.logsSubscription').map((e) => e.record)).toEqual([
      { name: 'logs', state: 'Subscribed', types },
    ]);
    expect(of(subscribers.logs, 'platform.logsSubscription')).toHaveLength(1);
    // 2025-01-29: every initStart field, spans kept; 2022-07-01: initializationType and phase, no spans.
    expect(of(subscribers.new, 'platform.initStart')[0]!.record).toEqual(initStart);
    expect(of(subscribers.new, 'platform.runtimeDone')[0]!.record).toMatchObject({ spans });
    expect(of(subscribers.old, 'platform.initStart')[0]!.record).toEqual({
      initializationType: 'on-demand',
      phase: 'init',
    });
    expect(of(subscribers.old, 'platform.runtimeDone')[0]!.record).toEqual({ requestId: 'r', status: 'success' });
  });
});
