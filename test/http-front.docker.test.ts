// `start --http-port` and `invoke --http` against a real engine, with the clients users have:
// real curl for the function URL, HTTP API and REST API fronts (events checked field by field,
// answers mapped, 502s, CORS preflight without an invoke, streaming with the prelude and a cut
// transfer on a mid-stream error), and the AWS SDK's InvokeWithResponseStreamCommand. The
// function is fixtures/go-http-function, which posts every answer as aws-lambda-go does.
import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import { dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy } from './support/tmp.js';

interface Curl {
  code: number;
  status: number;
  headers: Array<[string, string]>;
  body: string;
}

/** curl -si, its answer parsed (the last header block: curl prints one per response). */
function curl(args: string[]): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-si', '--max-time', '30', ...args], { encoding: 'latin1' }, (err, stdout) => {
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      const split = stdout.indexOf('\r\n\r\n');
      const head = split < 0 ? stdout : stdout.slice(0, split);
      const lines = head.split('\r\n');
      const status = Number(/^HTTP\/[\d.]+ (\d+)/.exec(lines[0] ?? '')?.[1] ?? 0);
      const headers = lines.slice(1).map((l) => {
        const at = l.indexOf(':');
        return [l.slice(0, at).toLowerCase(), l.slice(at + 1).trim()] as [string, string];
      });
      resolve({ code, status, headers, body: split < 0 ? '' : stdout.slice(split + 4) });
    });
  });
}
const header = (c: Curl, name: string) => c.headers.filter(([k]) => k === name).map(([, v]) => v);

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** `start` with an HTTP front; stops it (Ctrl-C) when the test file ends. */
async function startFronted(args: string[]) {
  const [port, httpPort] = [await freePort(), await freePort()];
  const started = await startCliUntil(
    ['start', ...args, '--port', String(port), '--http-port', String(httpPort), '--timeout', '2'],
    /Ctrl-C stops it/,
  );
  const stop = async () => {
    started.child.kill('SIGINT');
    return started.exited;
  };
  return { port, base: `http://127.0.0.1:${httpPort}`, stderr: started.stderr, stop };
}

describe.skipIf(!dockerEnv.available)('HTTP fronts and response streaming on a real engine', () => {
  const repo = uniqueRepo('http-front');
  let dir: string;
  const stops: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    dir = fixtureCopy('go-http-function');
    expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo, '--force'])).code).toBe(0);
    const b = await runCli(['build', dir, ...standin()]);
    expect(b.code, b.stderr).toBe(0);
    // The function URL's CORS, as deploy --url would configure it.
    const configFile = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    config.url = {
      cors: {
        allowOrigins: ['https://app.example.com'],
        allowMethods: ['GET', 'POST'],
        allowHeaders: ['x-custom'],
        exposeHeaders: ['x-fixture'],
        maxAge: 300,
      },
    };
    writeFileSync(configFile, JSON.stringify(config, null, 2));
  });
  afterAll(async () => {
    for (const stop of stops) expect(await stop()).toBe(0);
  });

  it('function URL (BUFFERED): the payload 2.0 event, mapped answers, 502s, CORS without an invoke', async () => {
    const s = await startFronted([dir]);
    stops.push(s.stop);
    const echo = await curl([
      '-X',
      'POST',
      '-H',
      'Content-Type: application/json',
      '-H',
      'X-Multi: one',
      '-H',
      'X-Multi: two',
      '-H',
      'Origin: https://app.example.com',
      '-b',
      'c1=v1; c2=v2',
      '-d',
      '{"hello":"world"}',
      `${s.base}/my/path?parameter1=value1&parameter1=value2&parameter2=value`,
    ]);
    expect(echo.status).toBe(200);
    expect(header(echo, 'x-fixture')).toEqual(['echo']);
    expect(header(echo, 'set-cookie')).toEqual(['a=1; Path=/', 'b=2']);
    // CORS from config on the answer; the URL's settings replace the function's own.
    expect(header(echo, 'access-control-allow-origin')).toEqual(['https://app.example.com']);
    expect(header(echo, 'access-control-expose-headers')).toEqual(['x-fixture']);
    const event = JSON.parse(echo.body);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/my/path',
      rawQueryString: 'parameter1=value1&parameter1=value2&parameter2=value',
      cookies: ['c1=v1', 'c2=v2'],
      queryStringParameters: { parameter1: 'value1,value2', parameter2: 'value' },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      requestContext: {
        routeKey: '$default',
        stage: '$default',
        http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.requestContext.domainName).toBe(`${event.requestContext.apiId}.lambda-url.us-east-1.on.aws`);
    expect(event.requestContext.http.userAgent).toMatch(/^curl\//);
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    // One id for a function URL request: the event's, the response's and the invocation's.
    const [rid] = header(echo, 'x-amzn-requestid');
    expect(rid).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.requestContext.requestId).toBe(rid);
    expect(s.stderr()).toContain(`START RequestId: ${rid} `);
    // The headers the real URL adds: its domain over HTTPS on 443, a trace id, the TLS session.
    expect(event.headers).toMatchObject({
      host: event.requestContext.domainName,
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-forwarded-for': '127.0.0.1',
      'x-amzn-tls-version': 'TLSv1.3',
      'x-amzn-tls-cipher-suite': 'TLS_AES_128_GCM_SHA256',
    });
    expect(event.headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);

    // A form post arrives base64-encoded; plain JSON without statusCode is a 200 application/json.
    const form = JSON.parse((await curl(['-d', 'a=1&b=2', `${s.base}/form`])).body);
    expect(form).toMatchObject({ isBase64Encoded: true, body: Buffer.from('a=1&b=2').toString('base64') });
    const plain = await curl([`${s.base}/?mode=plain`]);
    expect(plain.status).toBe(200);
    expect(header(plain, 'content-type')).toEqual(['application/json']);
    expect(JSON.parse(plain.body).rawQueryString).toBe('mode=plain');
    const binary = await curl([`${s.base}/?mode=binary`]);
    expect([...Buffer.from(binary.body, 'latin1')]).toEqual([0, 1, 2, 255]);

    // A function error, a malformed answer and a timeout: 502 and the URL's body, not a stack.
    for (const q of ['mode=error', 'mode=malformed', 'mode=sleep&ms=5000']) {
      const failed = await curl([`${s.base}/?${q}`]);
      expect(failed.status, q).toBe(502);
      expect(failed.body, q).toBe('Internal Server Error');
    }

    // A preflight is answered by the URL: the function never sees it (no new START line).
    const starts = (s.stderr().match(/^START RequestId/gm) ?? []).length;
    const pre = await curl([
      '-X',
      'OPTIONS',
      '-H',
      'Origin: https://app.example.com',
      '-H',
      'Access-Control-Request-Method: POST',
      `${s.base}/anything`,
    ]);
    expect(pre.status).toBe(200);
    expect(header(pre, 'access-control-allow-methods')).toEqual(['GET,POST']);
    expect(header(pre, 'access-control-max-age')).toEqual(['300']);
    expect((s.stderr().match(/^START RequestId/gm) ?? []).length).toBe(starts);
    // HTTP-front invokes log as any invoke does.
    expect(s.stderr()).toMatch(/^REPORT RequestId: [0-9a-f-]{36}\tDuration: /m);
  });

  it('function URL (RESPONSE_STREAM): the prelude status and headers, bytes before the end, a cut transfer on error', async () => {
    const s = await startFronted([dir, '--invoke-mode', 'RESPONSE_STREAM']);
    stops.push(s.stop);
    // curl -N prints each chunk as it arrives: "chunk 0" is out while the function still sleeps (within --timeout 2).
    const child = spawn('curl', ['-sN', '-D', '-', `${s.base}/?mode=stream&prelude=1&chunks=3&delay=700`]);
    let out = '';
    const early = await new Promise<string>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('chunk 0')) resolve(out);
      });
    });
    expect(early).not.toContain('chunk 1');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(out).toMatch(/^HTTP\/1\.1 201 /);
    expect(out).toMatch(/^x-streamed: yes\r$/m);
    expect(out).toMatch(/^set-cookie: s=1; Path=\/\r$/im);
    expect(out.slice(out.indexOf('\r\n\r\n') + 4)).toBe('chunk 0\nchunk 1\nchunk 2\n');

    // A prelude header that cannot be sent, and an error before the first body byte: the URL's
    // 502, and the invoke ends as usual (no "Task timed out", the next request is warm).
    for (const q of ['mode=stream&prelude=1&badheader=1&chunks=1', 'mode=stream&chunks=0&fail=1']) {
      const bad = await curl([`${s.base}/?${q}`]);
      expect(bad.status, q).toBe(502);
      expect(bad.body, q).toBe('Internal Server Error');
      expect(header(bad, 'inj'), q).toEqual([]);
      // The 502 before the first byte still names the invocation.
      const [rid] = header(bad, 'x-amzn-requestid');
      expect(rid, q).toMatch(/^[0-9a-f-]{36}$/);
      expect(s.stderr(), q).toContain(`START RequestId: ${rid} `);
    }
    expect(s.stderr()).not.toMatch(/Task timed out/);
    expect(s.stderr()).toMatch(
      /warning: GET \/\?mode=stream&prelude=1&badheader=1&chunks=1: 502: the prelude has header "x-a"/,
    );

    // The streaming mode header is optional; a mid-stream error ends the transfer unfinished (curl: 18).
    const broken = await curl([`${s.base}/?mode=stream&header=1&chunks=2&fail=1`]);
    expect(broken.status).toBe(200);
    expect(broken.body).toBe('chunk 0\nchunk 1\n');
    expect(broken.code).toBe(18);

    // The Invoke endpoint serves InvokeWithResponseStream to the AWS SDK.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
    const { LambdaClient, InvokeWithResponseStreamCommand } = await import('@aws-sdk/client-lambda');
    const client = new LambdaClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${s.port}`,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    const read = async (payload: object) => {
      const r = await client.send(
        new InvokeWithResponseStreamCommand({
          FunctionName: 'function',
          Payload: JSON.stringify(payload),
          LogType: 'Tail',
        }),
      );
      let text = '';
      let done: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } | undefined;
      for await (const e of r.EventStream!) {
        if (e.PayloadChunk?.Payload) text += Buffer.from(e.PayloadChunk.Payload).toString();
        if (e.InvokeComplete) done = e.InvokeComplete;
      }
      return { status: r.StatusCode, text, done };
    };
    const ok = await read({ mode: 'stream', chunks: '3' });
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('chunk 0\nchunk 1\nchunk 2\n');
    expect(ok.done?.ErrorCode).toBeUndefined();
    expect(Buffer.from(ok.done!.LogResult!, 'base64').toString()).toMatch(/writing chunk 2[\s\S]*REPORT RequestId/);
    const failed = await read({ mode: 'stream', chunks: '1', fail: '1' });
    expect(failed.text).toBe('chunk 0\n');
    expect(failed.done).toMatchObject({ ErrorCode: 'errorString' });
    expect(JSON.parse(failed.done!.ErrorDetails!)).toEqual({
      errorMessage: 'stream broke on purpose',
      errorType: 'errorString',
    });
    client.destroy();
  });

  it("REST API and HTTP API fronts: payload 1.0 and 2.0 events, and each front's error answer", async () => {
    const rest = await startFronted([dir, '--http-event', 'rest-api']);
    stops.push(rest.stop);
    const r = await curl(['-H', 'X-A: 1', '-H', 'X-A: 2', `${rest.base}/items/42?tag=a&tag=b`]);
    expect(r.status).toBe(200);
    expect(header(r, 'x-multi')).toEqual(['a', 'b']);
    const e = JSON.parse(r.body);
    expect(e).toMatchObject({
      resource: '/{proxy+}',
      path: '/items/42',
      httpMethod: 'GET',
      queryStringParameters: { tag: 'b' },
      multiValueQueryStringParameters: { tag: ['a', 'b'] },
      pathParameters: { proxy: 'items/42' },
      body: null,
      requestContext: { resourcePath: '/{proxy+}', httpMethod: 'GET', stage: 'Prod', path: '/Prod/items/42' },
    });
    expect(e.multiValueHeaders['X-A']).toEqual(['1', '2']);
    expect(e.headers['X-A']).toBe('2');
    const bad = await curl([`${rest.base}/?mode=plain`]);
    expect(bad.status).toBe(502);
    expect(JSON.parse(bad.body)).toEqual({ message: 'Internal server error' });
    // API Gateway's request id in the event and x-amzn-RequestId; the invocation has its own.
    expect(header(r, 'x-amzn-requestid')).toEqual([e.requestContext.requestId]);
    expect(rest.stderr()).not.toContain(`START RequestId: ${e.requestContext.requestId}`);
    expect(e.headers).toMatchObject({
      Host: e.requestContext.domainName,
      'X-Forwarded-Proto': 'https',
      'X-Forwarded-Port': '443',
    });
    expect(e.headers['X-Amzn-Trace-Id']).toMatch(/^Root=1-/);

    // Without binaryMediaTypes (a new REST API): a binary body arrives as text, a base64 answer stays base64 text.
    const raw = path.join(dir, 'li-fronts-body.bin');
    writeFileSync(raw, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]));
    const octet = ['-H', 'Content-Type: application/octet-stream', '--data-binary', `@${raw}`];
    // curl's output is read as latin1: the event's JSON is UTF-8.
    const asText = JSON.parse(Buffer.from((await curl([...octet, `${rest.base}/up`])).body, 'latin1').toString());
    expect(asText).toMatchObject({ isBase64Encoded: false, body: '\ufffdPNG\ufffd' });
    const b64 = await curl(['-H', 'Accept: application/octet-stream', `${rest.base}/?mode=binary`]);
    expect(b64.body).toBe('AAEC/w==');

    // With them: a listed Content-Type arrives base64; a base64 answer is bytes when the first Accept type is listed.
    const configFile = path.join(dir, 'lambda-image.json');
    const saved = readFileSync(configFile, 'utf8');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...JSON.parse(saved),
        restApi: { binaryMediaTypes: ['application/octet-stream', 'image/*'] },
        url: { domain: 'api.example.test' },
      }),
    );
    const binRest = await startFronted([dir, '--http-event', 'rest-api']).finally(() =>
      writeFileSync(configFile, saved),
    );
    stops.push(binRest.stop);
    const asB64 = JSON.parse((await curl([...octet, `${binRest.base}/up`])).body);
    expect(asB64).toMatchObject({
      isBase64Encoded: true,
      body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]).toString('base64'),
    });
    expect(asB64.headers.Host).toBe('api.example.test');
    expect(asB64.requestContext).toMatchObject({ domainName: 'api.example.test', domainPrefix: 'api' });
    const json = JSON.parse(
      (await curl(['-H', 'Content-Type: application/json', '-d', '{"a":1}', `${binRest.base}/up`])).body,
    );
    expect(json).toMatchObject({ isBase64Encoded: false, body: '{"a":1}' });
    const bytes = await curl(['-H', 'Accept: image/png, text/html', `${binRest.base}/?mode=binary`]);
    expect([...Buffer.from(bytes.body, 'latin1')]).toEqual([0, 1, 2, 255]);
    const notFirst = await curl(['-H', 'Accept: text/html, image/png', `${binRest.base}/?mode=binary`]);
    expect(notFirst.body).toBe('AAEC/w==');

    const httpApi = await startFronted([dir, '--http-event', 'http-api']);
    stops.push(httpApi.stop);
    const hr = await curl([`${httpApi.base}/a/b`]);
    const h = JSON.parse(hr.body);
    expect(h).toMatchObject({ routeKey: 'ANY /{proxy+}', pathParameters: { proxy: 'a/b' } });
    // API Gateway's own request id, in the event and its apigw-requestid header; Lambda's invocation has another.
    expect(header(hr, 'apigw-requestid')).toEqual([h.requestContext.requestId]);
    expect(httpApi.stderr()).not.toContain(`START RequestId: ${h.requestContext.requestId}`);
    expect(h.headers).toMatchObject({
      host: h.requestContext.domainName,
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
    });
    expect(h.headers['x-amzn-trace-id']).toMatch(/^Root=1-/);
    expect(h.headers['x-amzn-tls-version']).toBeUndefined();
    const err = await curl([`${httpApi.base}/?mode=error`]);
    expect(err.status).toBe(500);
    expect(JSON.parse(err.body)).toEqual({ message: 'Internal Server Error' });
  });

  it("invoke --http builds the same event one-shot and shows the front's answer", async () => {
    const r = await runCli([
      'invoke',
      dir,
      '--http',
      'PUT /things/7?x=1',
      '-H',
      'Content-Type: application/json',
      '-d',
      '{"n":1}',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout);
    expect(JSON.parse(answer.body)).toMatchObject({
      rawPath: '/things/7',
      rawQueryString: 'x=1',
      body: '{"n":1}',
      requestContext: { http: { method: 'PUT' } },
    });
    expect(r.stderr).toMatch(/^HTTP\/1\.1 200 OK\ncontent-type: application\/json\nx-fixture: echo\n/m);
  });
});
