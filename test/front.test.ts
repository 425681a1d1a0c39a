// `start`'s HTTP front without containers: real HTTP on 127.0.0.1 and the AWS SDK against a
// pool stand-in whose invokes the test completes itself. Validation as the Invoke API does
// it, Tail and trace ids handed through, and a shutdown that answers every accepted request.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LOG_RESULT_BYTES, MAX_PAYLOAD_BYTES } from '../src/emulator/limits.js';
import { logResult, startFront, type FrontFunction, type FrontServer } from '../src/serve/invoke-api.js';
import { PoolClosedError, type PoolInvoke } from '../src/emulator/pool.js';
import { LambdaImageError } from '../src/errors.js';

interface Call {
  payload: string;
  extra: { clientContext?: string; traceId?: string; background?: boolean };
  finish(result?: Partial<PoolInvoke>): void;
  fail(err: Error): void;
}

/** A pool whose invokes wait until the test finishes them; drain() fails the waiting ones as the real pool does. */
function fakeFunction(opts: { queueLimit?: number } = {}) {
  const calls: Call[] = [];
  const running: Call[] = [];
  const waiting: Call[] = [];
  let drained = false;
  let keepBackground = false;
  /** Invokes that never ran: the pool failed them with PoolClosedError. */
  const dropped: Call[] = [];
  const arrived: Array<() => void> = [];
  // Typed against the pool's own interface: a change to invoke or drain breaks this stand-in at compile time.
  const pool: FrontFunction['pool'] = {
    concurrency: opts.queueLimit ?? 64,
    invoke(payload, extra = {}) {
      if (drained && !(keepBackground && extra.background)) return Promise.reject(new PoolClosedError());
      return new Promise<PoolInvoke>((resolve, reject) => {
        const call: Call = {
          payload: payload.toString(),
          extra,
          finish: (result = {}) => {
            for (const list of [running, waiting]) if (list.includes(call)) list.splice(list.indexOf(call), 1);
            resolve({
              requestId: `req-${calls.indexOf(call)}`,
              traceId: extra.traceId ?? 'Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0',
              result: { kind: 'response', body: Buffer.from(`{"n":${calls.indexOf(call)}}`) },
              durationMs: 1,
              timedOut: false,
              cold: false,
              maxMemoryMb: Promise.resolve(10),
              log: Promise.resolve(`START RequestId: req-${calls.indexOf(call)}\nEND\nREPORT\n`),
              ...result,
            } as PoolInvoke);
          },
          fail: (err) => {
            if (err instanceof PoolClosedError) dropped.push(call);
            reject(err);
          },
        };
        calls.push(call);
        (running.length < (opts.queueLimit ?? Infinity) ? running : waiting).push(call);
        arrived.shift()?.();
      });
    },
    drain(o: { keepBackground?: boolean } = {}) {
      drained = true;
      keepBackground = o.keepBackground ?? false;
      const failing = waiting.filter((c) => !(keepBackground && c.extra.background));
      for (const c of failing) {
        waiting.splice(waiting.indexOf(c), 1);
        c.fail(new PoolClosedError());
      }
    },
  };
  const fn: FrontFunction = { name: 'my-fn', timeoutSec: 3, pool };
  /** Resolves once `n` invokes have reached the pool. */
  const reached = async (n: number) => {
    while (calls.length < n) await new Promise<void>((r) => arrived.push(r));
  };
  return { fn, calls, running, waiting, reached, dropped };
}

describe('start: the Invoke API front', () => {
  let front: FrontServer | undefined;
  afterEach(async () => {
    await front?.close();
    front = undefined;
  });
  const url = (name = 'function') => `http://127.0.0.1:${front!.port}/2015-03-31/functions/${name}/invocations`;

  it('answers 405 (Allow: POST) to GET and PUT on both paths; the function never runs', async () => {
    const f = fakeFunction();
    front = await startFront(f.fn, 0);
    for (const name of ['function', 'my-fn']) {
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const res = await fetch(url(name), { method, body: method === 'GET' ? undefined : '{}' });
        expect(res.status, `${method} ${name}`).toBe(405);
        expect(res.headers.get('allow')).toBe('POST');
        expect(res.headers.get('x-amzn-errortype')).toBe('MethodNotAllowedException');
      }
    }
    expect(f.calls).toHaveLength(0);
  });

  it('refuses invalid JSON with 400 InvalidRequestContentException, as the SDK sees it', async () => {
    const f = fakeFunction();
    front = await startFront(f.fn, 0);
    const res = await fetch(url(), { method: 'POST', body: '{"a":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(await res.json()).toMatchObject({
      Type: 'User',
      message: expect.stringMatching(/^Could not parse request body into json: /),
    });

    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const client = new LambdaClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${front.port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    try {
      await expect(
        client.send(new InvokeCommand({ FunctionName: 'my-fn', Payload: Buffer.from('not json') })),
      ).rejects.toMatchObject({
        name: 'InvalidRequestContentException',
        $metadata: { httpStatusCode: 400 },
      });
      // An unknown invocation type is a validation error; DryRun validates and runs nothing (204).
      await expect(
        client.send(
          new InvokeCommand({
            FunctionName: 'my-fn',
            InvocationType: 'Sometimes' as 'Event',
            Payload: Buffer.from('{}'),
          }),
        ),
      ).rejects.toMatchObject({
        name: 'ValidationException',
        message: expect.stringContaining("Value 'Sometimes' at 'invocationType'"),
      });
      const dry = await client.send(
        new InvokeCommand({ FunctionName: 'my-fn', InvocationType: 'DryRun', Payload: Buffer.from('{}') }),
      );
      expect(dry.StatusCode).toBe(204);
      await expect(
        client.send(new InvokeCommand({ FunctionName: 'my-fn', LogType: 'All' as 'Tail' })),
      ).rejects.toMatchObject({ name: 'ValidationException' });
    } finally {
      client.destroy();
    }
    expect(f.calls).toHaveLength(0);
  });

  it('hands X-Amzn-Trace-Id to the invoke, and Tail returns the end of its log as X-Amz-Log-Result', async () => {
    const f = fakeFunction();
    front = await startFront(f.fn, 0);
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const answer = fetch(url(), {
      method: 'POST',
      body: '{"x":1}',
      headers: { 'X-Amzn-Trace-Id': trace, 'X-Amz-Log-Type': 'Tail' },
    });
    await f.reached(1);
    expect(f.calls[0]!.extra.traceId).toBe(trace);
    const log = 'A'.repeat(10_000) + 'START RequestId: req-0\nthe last lines\nREPORT RequestId: req-0\n';
    f.calls[0]!.finish({ log: Promise.resolve(log) });
    const res = await answer;
    expect(res.status).toBe(200);
    const tail = Buffer.from(res.headers.get('x-amz-log-result')!, 'base64');
    expect(tail.length).toBe(LOG_RESULT_BYTES);
    expect(tail.toString()).toMatch(/the last lines\nREPORT RequestId: req-0\n$/);
    // Without Tail, no log header.
    const plain = fetch(url(), { method: 'POST', body: '{}' });
    await f.reached(2);
    f.calls[1]!.finish();
    expect((await plain).headers.get('x-amz-log-result')).toBeNull();
  });

  it('logResult keeps the last 4 KB (bytes, not characters)', () => {
    expect(Buffer.from(logResult('short'), 'base64').toString()).toBe('short');
    expect(Buffer.from(logResult('é'.repeat(3000)), 'base64').length).toBe(4096);
  });

  it('on shutdown: stops accepting, finishes running invokes, answers queued ones 503, then closes', async () => {
    const f = fakeFunction({ queueLimit: 2 });
    front = await startFront(f.fn, 0);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const answers = Array.from({ length: 20 }, (_, i) => post(url(), `{"i":${i}}`, agent));
    await f.reached(20);
    expect(f.running).toHaveLength(2);
    const target = url();
    const closing = front.close();
    front = undefined;
    // New connections are refused once shutdown starts; the accepted ones are all answered.
    expect(
      await fetch(target, { method: 'POST', body: '{}' }).then(
        () => 'answered',
        () => 'refused',
      ),
    ).toBe('refused');
    [...f.running].forEach((c) => c.finish());
    await closing;
    const results = await Promise.all(answers);
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    const refused = results.filter((r) => r.status === 503);
    expect(refused).toHaveLength(18);
    expect(JSON.parse(refused[0]!.body)).toMatchObject({ message: expect.stringContaining('shutting down') });
    agent.destroy();
  });

  it("bounds what waits: past the payload budget it answers 429 TooManyRequestsException as Lambda's throttle does", async () => {
    const f = fakeFunction({ queueLimit: 1 });
    front = await startFront(f.fn, 0);
    const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    // Eleven payloads just under 6 MB: one running, ten waiting, within the budget.
    const big = `{"pad":"${'x'.repeat(MAX_PAYLOAD_BYTES - 200_000)}"}`;
    const accepted = Array.from({ length: 11 }, () => post(url(), big, agent));
    await f.reached(11);
    const res = await fetch(url(), { method: 'POST', body: big });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
      Type: 'User',
      message: 'Rate Exceeded.',
    });
    expect(f.calls).toHaveLength(11); // the throttled one never reached the function
    // As the SDK sees it.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
    const client = new LambdaClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${front.port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    await expect(
      client.send(new InvokeCommand({ FunctionName: 'my-fn', Payload: Buffer.from(big) })),
    ).rejects.toMatchObject({
      name: 'TooManyRequestsException',
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    client.destroy();
    // A place comes free when an invoke is answered.
    f.calls[0]!.finish();
    const after = post(url(), '{"small":true}', agent);
    await f.reached(12);
    f.calls[11]!.finish();
    await front.close();
    front = undefined;
    const statuses = (await Promise.all([...accepted, after])).map((r) => r.status).sort();
    expect(statuses.filter((x) => x === 200)).toHaveLength(2);
    expect(statuses.filter((x) => x === 503)).toHaveLength(10);
    agent.destroy();
  }, 60_000);

  it('on shutdown, accepted Event invokes still run (none dropped), and close says none was left out', async () => {
    const f = fakeFunction({ queueLimit: 1 });
    front = await startFront(f.fn, 0);
    for (let i = 0; i < 10; i++) {
      const res = await fetch(url(), {
        method: 'POST',
        body: `{"i":${i}}`,
        headers: { 'X-Amz-Invocation-Type': 'Event' },
      });
      expect(res.status).toBe(202);
    }
    await f.reached(10);
    const closing = front.close();
    front = undefined;
    // The pool runs them one after another; here the test finishes each.
    for (const c of f.calls) c.finish();
    expect(await closing).toEqual({ eventsNotRun: 0 });
    expect(f.dropped).toEqual([]);
  });

  it('an Event payload over 1 MB is refused with 413 as Lambda refuses it; the same payload runs synchronously', async () => {
    const f = fakeFunction();
    front = await startFront(f.fn, 0);
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024) });
    const refused = await fetch(url(), { method: 'POST', body: big, headers: { 'X-Amz-Invocation-Type': 'Event' } });
    expect(refused.status).toBe(413);
    expect(await refused.json()).toMatchObject({
      Type: 'User',
      message: expect.stringMatching(/too large for the Event invocation type \(limit 1048576 bytes\)/),
    });
    expect(f.calls).toHaveLength(0);
    const sync = fetch(url(), { method: 'POST', body: big });
    await f.reached(1);
    f.calls[0]!.finish();
    expect((await sync).status).toBe(200);
  });

  it('past the Event deadline, the ones that never ran are counted, not dropped silently', async () => {
    const f = fakeFunction({ queueLimit: 1 });
    front = await startFront(f.fn, 0);
    for (let i = 0; i < 10; i++)
      await fetch(url(), { method: 'POST', body: '{}', headers: { 'X-Amz-Invocation-Type': 'Event' } });
    await f.reached(10);
    const closing = front.close({ eventDeadlineMs: 100 });
    front = undefined;
    f.running[0]!.finish(); // the one running finishes; nine still wait when the deadline passes
    expect(await closing).toEqual({ eventsNotRun: 9 });
    expect(f.dropped).toHaveLength(9);
  });

  it('an invoke failing because the engine went away answers 500 and reports it (start then stops)', async () => {
    const f = fakeFunction();
    const fatal: Error[] = [];
    front = await startFront(f.fn, 0, { onFatal: (e) => fatal.push(e) });
    const answer = fetch(url(), { method: 'POST', body: '{}' });
    await f.reached(1);
    f.calls[0]!.fail(
      new LambdaImageError(
        'ENGINE_UNREACHABLE',
        'lost the Docker engine at unix:///x.sock (ECONNRESET on POST /containers/abc/wait)',
      ),
    );
    const res = await answer;
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('lost the Docker engine') });
    expect(fatal.map((e) => e.message)).toEqual([
      'lost the Docker engine at unix:///x.sock (ECONNRESET on POST /containers/abc/wait)',
    ]);
  });
});

function post(target: string, body: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(target, { method: 'POST', agent }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
