// Response streaming without an engine: the Runtime API taking chunked responses with
// aws-lambda-go's trailers (buffered or handed to a streaming caller as they arrive), a
// RESPONSE_STREAM function URL forwarding bytes before the function is done, and
// InvokeWithResponseStream's event stream as the AWS SDK reads it. Real HTTP on 127.0.0.1.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaApiServer, type InvokeRequest, type ResponseSink } from '../src/emulator/lambda-api.js';
import { type FrontFunction, type FrontServer, startFront } from '../src/serve/invoke-api.js';
import type { PoolInvoke } from '../src/emulator/pool.js';

const identity = {
  functionName: 'fn',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
  version: '$LATEST',
  handler: 'bootstrap',
};
const request = (id: string, stream?: ResponseSink): InvokeRequest => ({
  requestId: id,
  payload: Buffer.from('{}'),
  deadlineMs: Date.now() + 3000,
  traceId: 'Root=1-abc',
  stream,
});

const ERROR_TYPE = 'Lambda-Runtime-Function-Error-Type';
const ERROR_BODY = 'Lambda-Runtime-Function-Error-Body';

/** A POST as aws-lambda-go sends it: chunked, the error trailers declared; the test writes the chunks. */
function chunkedPost(port: number, path: string, headers: Record<string, string> = {}) {
  const req = http.request({
    host: '127.0.0.1',
    port,
    path,
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', Trailer: `${ERROR_TYPE}, ${ERROR_BODY}`, ...headers },
  });
  const answered = new Promise<number>((resolve, reject) => {
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
  });
  return {
    write: (s: string) => new Promise<void>((r) => req.write(s, () => r())),
    end: (trailers: Record<string, string> = { [ERROR_TYPE]: '', [ERROR_BODY]: '' }) => {
      req.addTrailers(trailers);
      req.end();
      return answered;
    },
  };
}

/** A sink that records what reached it and lets the test wait for bytes. */
function recordingSink() {
  const got: string[] = [];
  let began: string | undefined;
  const watchers: Array<() => void> = [];
  const sink: ResponseSink = {
    begin: (type) => {
      began = type ?? '';
    },
    write: (chunk) => {
      got.push(chunk.toString());
      watchers.splice(0).forEach((w) => w());
      return undefined;
    },
  };
  const received = async (text: string) => {
    for (let i = 0; i < 1000 && !got.join('').includes(text); i++) await new Promise<void>((r) => watchers.push(r));
  };
  return { sink, got, began: () => began, received };
}

describe('Runtime API: streamed responses', () => {
  let server: LambdaApiServer;
  afterEach(() => server?.close());
  const start = async () => {
    server = new LambdaApiServer(identity, []);
    const port = await server.listen();
    const next = () => fetch(`http://127.0.0.1:${port}/2018-06-01/runtime/invocation/next`);
    return { port, next };
  };

  it('buffers a chunked response with empty trailers as a success, for a caller that does not stream', async () => {
    const { port, next } = await start();
    const got = next();
    await server.waitForInit();
    const result = server.invoke(request('r1'));
    await got;
    const post = chunkedPost(port, '/2018-06-01/runtime/invocation/r1/response');
    await post.write('{"a":');
    await post.write('1}');
    expect(await post.end()).toBe(202);
    expect(await result).toMatchObject({ kind: 'response', body: Buffer.from('{"a":1}') });
  });

  it('hands chunks to a streaming caller as they arrive, with or without the streaming mode header', async () => {
    for (const headers of [{}, { 'Lambda-Runtime-Function-Response-Mode': 'streaming' }]) {
      const { port, next } = await start();
      const got = next();
      await server.waitForInit();
      const rec = recordingSink();
      let done = false;
      const result = server.invoke(request('s1', rec.sink)).finally(() => (done = true));
      await got;
      const post = chunkedPost(port, '/2018-06-01/runtime/invocation/s1/response', {
        ...headers,
        'Content-Type': 'text/plain',
      });
      await post.write('first ');
      await rec.received('first ');
      // The first bytes are with the caller while the function is still writing.
      expect(done).toBe(false);
      expect(rec.began()).toBe('text/plain');
      await post.write('second');
      expect(await post.end()).toBe(202);
      expect(rec.got.join('')).toBe('first second');
      expect(await result).toMatchObject({ kind: 'response', streamed: true, streamedBytes: 12 });
      await server.close();
    }
  });

  it('ends the invoke with the error the trailers name, after the bytes already sent', async () => {
    const { port, next } = await start();
    const got = next();
    await server.waitForInit();
    const rec = recordingSink();
    const result = server.invoke(request('e1', rec.sink));
    await got;
    const post = chunkedPost(port, '/2018-06-01/runtime/invocation/e1/response');
    await post.write('partial');
    const errorBody = JSON.stringify({ errorMessage: 'broke', errorType: 'errorString' });
    expect(
      await post.end({ [ERROR_TYPE]: 'errorString', [ERROR_BODY]: Buffer.from(errorBody).toString('base64') }),
    ).toBe(202);
    expect(rec.got.join('')).toBe('partial');
    const r = await result;
    expect(r).toMatchObject({ kind: 'error', errorType: 'errorString', streamed: true });
    expect(JSON.parse(r.body.toString())).toEqual({ errorMessage: 'broke', errorType: 'errorString' });
  });
});

describe('Runtime API: a caller that cannot take the stream', () => {
  let server: LambdaApiServer | undefined;
  afterEach(() => server?.close());

  it("still answers the runtime's POST and ends the invoke as the runtime says", async () => {
    server = new LambdaApiServer(identity, []);
    const port = await server.listen();
    const got = fetch(`http://127.0.0.1:${port}/2018-06-01/runtime/invocation/next`);
    await server.waitForInit();
    const sink: ResponseSink = {
      begin: () => undefined,
      write: () => {
        throw new Error('the caller refused the bytes');
      },
    };
    const result = server.invoke(request('t1', sink));
    await got;
    const post = chunkedPost(port, '/2018-06-01/runtime/invocation/t1/response');
    await post.write('one');
    await post.write('two');
    expect(await post.end()).toBe(202);
    expect(await result).toMatchObject({ kind: 'response', streamed: true });
  });
});

/** A pool whose one invoke the test drives through the sink it was given. */
function streamingFunction() {
  let sink: ResponseSink | undefined;
  let finish!: (r: Partial<PoolInvoke>) => void;
  let arrived!: () => void;
  const reached = new Promise<void>((r) => (arrived = r));
  const payloads: string[] = [];
  const pool = {
    invoke(payload: Buffer, extra: { stream?: ResponseSink } = {}): Promise<PoolInvoke> {
      payloads.push(payload.toString());
      sink = extra.stream;
      arrived();
      return new Promise((resolve) => {
        finish = (r) =>
          resolve({
            requestId: 'req-1',
            traceId: 'Root=1-x',
            result: { kind: 'response', body: Buffer.alloc(0), streamed: true },
            durationMs: 1,
            timedOut: false,
            cold: false,
            maxMemoryMb: Promise.resolve(10),
            log: Promise.resolve('START RequestId: req-1\nEND RequestId: req-1\nREPORT RequestId: req-1\n'),
            ...r,
          } as PoolInvoke);
      });
    },
    drain() {},
  };
  const fn: FrontFunction = { name: 'my-fn', timeoutSec: 3, pool };
  return { fn, sink: () => sink!, finish: (r: Partial<PoolInvoke> = {}) => finish(r), reached, payloads };
}

describe('RESPONSE_STREAM function URL', () => {
  let front: FrontServer | undefined;
  afterEach(async () => {
    await front?.close();
    front = undefined;
  });

  const get = (path: string) =>
    new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({ host: '127.0.0.1', port: front!.httpPort, path }, resolve).on('error', reject),
    );

  it('sends the prelude status and headers, then each chunk before the function is done', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0, { http: { port: 0, front: 'url', invokeMode: 'RESPONSE_STREAM' } });
    const response = get('/stream?x=1');
    await f.reached;
    expect(JSON.parse(f.payloads[0]!)).toMatchObject({ rawPath: '/stream', rawQueryString: 'x=1' });
    f.sink().begin('application/vnd.awslambda.http-integration-response', 'req-1');
    const prelude = JSON.stringify({ statusCode: 201, headers: { 'x-streamed': 'yes' }, cookies: ['s=1'] });
    await f.sink().write(Buffer.concat([Buffer.from(prelude), Buffer.alloc(8), Buffer.from('one ')]));
    const res = await response;
    expect(res.statusCode).toBe(201);
    expect(res.headers['x-streamed']).toBe('yes');
    expect(res.headers['set-cookie']).toEqual(['s=1']);
    const first = await new Promise<string>((r) => res.once('data', (d: Buffer) => r(d.toString())));
    expect(first).toBe('one '); // the function has not finished: this came as it was written
    await f.sink().write(Buffer.from('two'));
    let rest = '';
    res.on('data', (d: Buffer) => (rest += d));
    const ended = new Promise<void>((r) => res.on('end', r));
    f.finish();
    await ended;
    expect(rest).toBe('two');
  });

  it('cuts the response when the function fails mid-stream, instead of ending it cleanly', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0, { http: { port: 0, front: 'url', invokeMode: 'RESPONSE_STREAM' } });
    const response = get('/');
    await f.reached;
    f.sink().begin('text/plain', 'req-1');
    await f.sink().write(Buffer.from('partial'));
    const res = await response;
    expect(res.statusCode).toBe(200);
    const outcome = new Promise<string>((resolve) => {
      res.on('end', () => resolve('ended'));
      res.on('error', () => resolve('aborted'));
      res.on('aborted', () => resolve('aborted'));
    });
    res.resume();
    f.finish({ result: { kind: 'error', errorType: 'errorString', body: Buffer.from('{}'), streamed: true } });
    expect(await outcome).toBe('aborted');
  });

  it('answers 502 when the function fails before streaming, as the URL does', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0, { http: { port: 0, front: 'url', invokeMode: 'RESPONSE_STREAM' } });
    const response = fetch(`http://127.0.0.1:${front.httpPort}/`);
    await f.reached;
    f.finish({ result: { kind: 'error', errorType: 'Sandbox.Timedout', body: Buffer.from('{}') } });
    const res = await response;
    expect(res.status).toBe(502);
    expect(await res.text()).toBe('Internal Server Error');
  });
});

describe('HTTP front answers that cannot be sent as the function gave them', () => {
  let front: FrontServer | undefined;
  afterEach(async () => {
    await front?.close();
    front = undefined;
  });

  /** GET through the HTTP front: status, reason phrase, headers and body, or how the transfer ended. */
  const request = (path: string, method = 'GET') =>
    new Promise<{ status: number; reason: string; headers: http.IncomingHttpHeaders; body: string; ended: string }>(
      (resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: front!.httpPort, path, method }, (res) => {
          let body = '';
          res.setEncoding('latin1');
          res.on('data', (d: string) => (body += d));
          const done = (ended: string) => () =>
            resolve({ status: res.statusCode!, reason: res.statusMessage!, headers: res.headers, body, ended });
          res.on('end', done('ended'));
          res.on('aborted', done('aborted'));
          res.on('error', done('aborted'));
        });
        req.on('error', reject);
        req.end();
      },
    );

  const badPreludes: Array<Record<string, unknown>> = [
    { headers: { 'x-a': '1\r\nInj: 2' } },
    { headers: { 'bad name': '1' } },
    { cookies: ['a=1\r\nInj: 2'] },
  ];

  it('RESPONSE_STREAM: a prelude with a header that cannot be sent is a 502, and the invoke ends normally', async () => {
    for (const extra of badPreludes) {
      const notes: string[] = [];
      const f = streamingFunction();
      front = await startFront(f.fn, 0, {
        http: { port: 0, front: 'url', invokeMode: 'RESPONSE_STREAM' },
        onNote: (l) => notes.push(l),
      });
      const answer = request('/s');
      await f.reached;
      f.sink().begin('application/vnd.awslambda.http-integration-response', 'req-1');
      const prelude = Buffer.from(JSON.stringify({ statusCode: 200, ...extra }));
      // The Runtime API awaits the sink: it must neither throw nor hang.
      await f.sink().write(Buffer.concat([prelude, Buffer.alloc(8), Buffer.from('body')]));
      await f.sink().write(Buffer.from('more'));
      f.finish();
      const r = await answer;
      expect(r.status, JSON.stringify(extra)).toBe(502);
      expect(r.reason).toBe('Bad Gateway');
      expect(r.body).toBe('Internal Server Error');
      expect(r.headers.inj).toBeUndefined();
      expect(notes.join('\n')).toMatch(/GET \/s: 502: the prelude has (a )?header/);
      await front.close();
      front = undefined;
    }
  });

  it('RESPONSE_STREAM: an error before the first body byte is a 502, not a 200 cut short', async () => {
    for (const begin of ['text/plain', 'application/vnd.awslambda.http-integration-response']) {
      const f = streamingFunction();
      front = await startFront(f.fn, 0, { http: { port: 0, front: 'url', invokeMode: 'RESPONSE_STREAM' } });
      const answer = request('/s');
      await f.reached;
      f.sink().begin(begin, 'req-1');
      if (begin !== 'text/plain')
        await f.sink().write(Buffer.concat([Buffer.from('{"statusCode":201}'), Buffer.alloc(8)]));
      f.finish({ result: { kind: 'error', errorType: 'errorString', body: Buffer.from('{}'), streamed: true } });
      const r = await answer;
      expect(r.status, begin).toBe(502);
      expect(r).toMatchObject({ body: 'Internal Server Error', ended: 'ended' });
      await front.close();
      front = undefined;
    }
  });

  it('RESPONSE_STREAM: a stream that ends without a body byte is its status and headers with an empty body', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0, { http: { port: 0, front: 'url', invokeMode: 'RESPONSE_STREAM' } });
    const answer = request('/s');
    await f.reached;
    f.sink().begin('application/vnd.awslambda.http-integration-response', 'req-1');
    await f.sink().write(Buffer.concat([Buffer.from('{"statusCode":201,"headers":{"x-k":"v"}}'), Buffer.alloc(8)]));
    f.finish();
    const r = await answer;
    expect(r).toMatchObject({ status: 201, body: '', ended: 'ended' });
    expect(r.headers['x-k']).toBe('v');
  });

  it('buffered: a 204 or 304 has no body and no Content-Length, whatever the function put in it', async () => {
    for (const status of [204, 304]) {
      const f = streamingFunction();
      front = await startFront(f.fn, 0, { http: { port: 0, front: 'url', invokeMode: 'BUFFERED' } });
      // Over a raw socket: a client library would hide a body sent against the rules.
      const net = await import('node:net');
      const sock = net.connect(front.httpPort!, '127.0.0.1');
      sock.write('GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
      let raw = '';
      sock.on('data', (d) => (raw += d));
      const closed = new Promise((r) => sock.on('close', r));
      await f.reached;
      f.finish({
        result: {
          kind: 'response',
          body: Buffer.from(JSON.stringify({ statusCode: status, body: 'not for a ' + status })),
        },
      });
      await closed;
      expect(raw).toMatch(new RegExp(`^HTTP/1.1 ${status} `));
      expect(raw.toLowerCase()).not.toContain('content-length');
      expect(raw).not.toContain('not for a');
      await front.close();
      front = undefined;
    }
  });

  it("buffered fronts: a header that cannot be sent is the front's failure answer with its reason and body", async () => {
    const answers = [
      { headers: { 'x-c': 'a\r\nb' } },
      { headers: { 'bad name': '1' } },
      { headers: { 'n\u00e4me': '1' } },
      { cookies: ['a=1\r\nInj: 2'] },
    ];
    const expected = {
      url: { status: 502, reason: 'Bad Gateway', body: 'Internal Server Error' },
      'http-api': { status: 500, reason: 'Internal Server Error', body: '{"message":"Internal Server Error"}' },
      'rest-api': { status: 502, reason: 'Bad Gateway', body: '{"message":"Internal server error"}' },
    } as const;
    for (const kind of ['url', 'http-api', 'rest-api'] as const) {
      for (const a of answers) {
        if (kind === 'rest-api' && a.cookies) continue; // not a key of payload 1.0: malformed anyway
        const notes: string[] = [];
        const f = streamingFunction();
        front = await startFront(f.fn, 0, {
          http: { port: 0, front: kind, invokeMode: 'BUFFERED' },
          onNote: (l) => notes.push(l),
        });
        const answer = request('/b');
        await f.reached;
        f.finish({
          result: { kind: 'response', body: Buffer.from(JSON.stringify({ statusCode: 200, body: 'x', ...a })) },
        });
        const r = await answer;
        expect(r, `${kind} ${JSON.stringify(a)}`).toMatchObject({ ...expected[kind], ended: 'ended' });
        expect(notes.join('\n')).toMatch(/GET \/b: 50\d: the function's answer has/);
        await front.close();
        front = undefined;
      }
    }
  });
});

describe('InvokeWithResponseStream', () => {
  let front: FrontServer | undefined;
  afterEach(async () => {
    await front?.close();
    front = undefined;
  });

  const client = async () => {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const { LambdaClient } = await import('@aws-sdk/client-lambda');
    return new LambdaClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${front!.port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
  };

  it('streams PayloadChunk events as the function writes, then InvokeComplete, as the AWS SDK reads them', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0);
    const { InvokeWithResponseStreamCommand } = await import('@aws-sdk/client-lambda');
    const c = await client();
    const sent = c.send(
      new InvokeWithResponseStreamCommand({ FunctionName: 'my-fn', Payload: Buffer.from('{"a":1}'), LogType: 'Tail' }),
    );
    await f.reached;
    expect(f.payloads[0]).toBe('{"a":1}');
    f.sink().begin('application/octet-stream', 'req-1');
    await f.sink().write(Buffer.from('hello '));
    const out = await sent;
    expect(out.StatusCode).toBe(200);
    expect(out.ExecutedVersion).toBe('$LATEST');
    const it = out.EventStream![Symbol.asyncIterator]();
    const first = await it.next();
    expect(Buffer.from(first.value.PayloadChunk.Payload).toString()).toBe('hello '); // before the function ended
    await f.sink().write(Buffer.alloc(100_000, 'x'));
    f.finish();
    let bytes = 0;
    let complete: Record<string, unknown> | undefined;
    for (let e = await it.next(); !e.done; e = await it.next()) {
      if (e.value.PayloadChunk) bytes += e.value.PayloadChunk.Payload.length;
      if (e.value.InvokeComplete) complete = e.value.InvokeComplete;
    }
    expect(bytes).toBe(100_000);
    expect(complete?.ErrorCode).toBeUndefined();
    expect(Buffer.from(complete!.LogResult as string, 'base64').toString()).toContain('REPORT RequestId: req-1');
  });

  it('reports a function error in InvokeComplete', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0);
    const { InvokeWithResponseStreamCommand } = await import('@aws-sdk/client-lambda');
    const sent = (await client()).send(new InvokeWithResponseStreamCommand({ FunctionName: 'my-fn' }));
    await f.reached;
    const body = '{"errorMessage":"broke","errorType":"errorString"}';
    f.finish({ result: { kind: 'error', errorType: 'errorString', body: Buffer.from(body) } });
    const events = [];
    for await (const e of (await sent).EventStream!) events.push(e);
    expect(events).toEqual([{ InvokeComplete: { ErrorCode: 'errorString', ErrorDetails: body } }]);
  });

  it('refuses the Event invocation type, which streaming does not have', async () => {
    const f = streamingFunction();
    front = await startFront(f.fn, 0);
    const res = await fetch(
      `http://127.0.0.1:${front.port}/2021-11-15/functions/my-fn/response-streaming-invocations`,
      {
        method: 'POST',
        headers: { 'X-Amz-Invocation-Type': 'Event' },
        body: '{}',
      },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException');
    expect(f.payloads).toEqual([]);
  });
});
