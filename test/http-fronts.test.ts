// The HTTP fronts' events and response mappings without an engine: field values checked
// against the examples in AWS's documentation (function URL payload 2.0, HTTP API payload
// 2.0, REST API proxy payload 1.0), the answers each front gives for good, malformed and failed
// responses, function URL CORS, the streaming prelude, and `invoke --http` request lines.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { httpRequestBody, httpStatusLine } from '../src/app/invoke-payload.js';
import { tmpDir } from './support/tmp.js';
import {
  buildHttpEvent,
  clfTime,
  type FrontIdentity,
  type HttpRequestFacts,
  parseHttpRequestLine,
} from '../src/serve/http-events.js';
import {
  corsPreflight,
  frontFailure,
  headerProblem,
  mapFunctionAnswer,
  PreludeReader,
  withCorsHeaders,
} from '../src/serve/http-responses.js';

const id: FrontIdentity = { region: 'us-west-2', accountId: '123456789012', apiId: 'abcdefg' };

/** The request behind AWS's documented payload 2.0 example. */
const docRequest = (over: Partial<HttpRequestFacts> = {}): HttpRequestFacts => ({
  method: 'POST',
  target: '/my/path?parameter1=value1&parameter1=value2&parameter2=value',
  headers: [
    ['Header1', 'value1'],
    ['Header2', 'value1'],
    ['header2', 'value2'],
    ['Cookie', 'cookie1; cookie2'],
    ['User-Agent', 'agent'],
    ['Content-Type', 'text/plain'],
  ],
  body: Buffer.from('Hello from client!'),
  sourceIp: '123.123.123.123',
  protocol: 'HTTP/1.1',
  time: new Date(1583349317135),
  requestId: 'id',
  ...over,
});

describe('function URL events (payload 2.0)', () => {
  it('match the documented example field for field', () => {
    const e = buildHttpEvent('url', docRequest(), id) as Record<string, any>;
    expect(e.version).toBe('2.0');
    expect(e.routeKey).toBe('$default');
    expect(e.rawPath).toBe('/my/path');
    expect(e.rawQueryString).toBe('parameter1=value1&parameter1=value2&parameter2=value');
    expect(e.cookies).toEqual(['cookie1', 'cookie2']);
    expect(e.headers).toMatchObject({ header1: 'value1', header2: 'value1,value2', 'content-type': 'text/plain' });
    expect(e.headers.cookie).toBeUndefined();
    expect(e.queryStringParameters).toEqual({ parameter1: 'value1,value2', parameter2: 'value' });
    expect(e.requestContext).toMatchObject({
      apiId: 'abcdefg',
      domainName: 'abcdefg.lambda-url.us-west-2.on.aws',
      domainPrefix: 'abcdefg',
      http: { method: 'POST', path: '/my/path', protocol: 'HTTP/1.1', sourceIp: '123.123.123.123', userAgent: 'agent' },
      requestId: 'id',
      routeKey: '$default',
      stage: '$default',
      time: '04/Mar/2020:19:15:17 +0000',
      timeEpoch: 1583349317135,
    });
    expect(e.body).toBe('Hello from client!');
    expect(e.isBase64Encoded).toBe(false);
    expect(e.pathParameters).toBeUndefined();
  });

  it('base64-encode bodies that are not text (a form post, bytes) and leave out what was not sent', () => {
    const form = buildHttpEvent(
      'url',
      docRequest({ headers: [['Content-Type', 'application/x-www-form-urlencoded']], body: Buffer.from('a=1&b=2') }),
      id,
    );
    expect(form).toMatchObject({ body: Buffer.from('a=1&b=2').toString('base64'), isBase64Encoded: true });
    const bare = buildHttpEvent('url', docRequest({ target: '/', headers: [], body: Buffer.alloc(0) }), id);
    expect(bare).not.toHaveProperty('cookies');
    expect(bare).not.toHaveProperty('queryStringParameters');
    expect(bare).not.toHaveProperty('body');
    expect(bare).toMatchObject({ rawPath: '/', rawQueryString: '', isBase64Encoded: false });
    const json = buildHttpEvent(
      'url',
      docRequest({ headers: [['content-type', 'application/json; charset=utf-8']], body: Buffer.from('{"a":1}') }),
      id,
    );
    expect(json).toMatchObject({ body: '{"a":1}', isBase64Encoded: false });
  });

  it('keep the raw path and query, and decode them in the parsed fields', () => {
    const e = buildHttpEvent('url', docRequest({ target: '/a%20b/c?q=x%2By&q=z+w' }), id) as Record<string, any>;
    expect(e.rawPath).toBe('/a%20b/c');
    expect(e.rawQueryString).toBe('q=x%2By&q=z+w');
    expect(e.requestContext.http.path).toBe('/a b/c');
    expect(e.queryStringParameters).toEqual({ q: 'x+y,z w' });
  });
});

describe('HTTP API events (payload 2.0, route ANY /{proxy+})', () => {
  it('carry the route key, the proxy path parameter and the execute-api domain', () => {
    const e = buildHttpEvent('http-api', docRequest(), id) as Record<string, any>;
    expect(e.routeKey).toBe('ANY /{proxy+}');
    expect(e.pathParameters).toEqual({ proxy: 'my/path' });
    expect(e.requestContext).toMatchObject({
      accountId: '123456789012',
      domainName: 'abcdefg.execute-api.us-west-2.amazonaws.com',
      routeKey: 'ANY /{proxy+}',
      stage: '$default',
    });
    expect(e.cookies).toEqual(['cookie1', 'cookie2']);
  });
});

describe('REST API events (payload 1.0, resource /{proxy+})', () => {
  it('match the documented example: last values and multi-value maps, the stage in the context path', () => {
    const e = buildHttpEvent('rest-api', docRequest({ method: 'GET' }), { ...id, stage: 'prod' }) as Record<
      string,
      any
    >;
    expect(e.resource).toBe('/{proxy+}');
    expect(e.path).toBe('/my/path');
    expect(e.httpMethod).toBe('GET');
    expect(e.headers).toMatchObject({ Header1: 'value1', Header2: 'value1', header2: 'value2' });
    expect(e.multiValueHeaders).toMatchObject({ Header1: ['value1'], Cookie: ['cookie1; cookie2'] });
    expect(e.queryStringParameters).toEqual({ parameter1: 'value2', parameter2: 'value' });
    expect(e.multiValueQueryStringParameters).toEqual({ parameter1: ['value1', 'value2'], parameter2: ['value'] });
    expect(e.pathParameters).toEqual({ proxy: 'my/path' });
    expect(e.stageVariables).toBeNull();
    expect(e.requestContext).toMatchObject({
      accountId: '123456789012',
      apiId: 'abcdefg',
      httpMethod: 'GET',
      path: '/prod/my/path',
      protocol: 'HTTP/1.1',
      requestTime: '04/Mar/2020:19:15:17 +0000',
      requestTimeEpoch: 1583349317135,
      resourcePath: '/{proxy+}',
      stage: 'prod',
      identity: { sourceIp: '123.123.123.123', userAgent: 'agent' },
    });
    expect(e.body).toBe('Hello from client!');
    expect(e.isBase64Encoded).toBe(false);
  });

  it('use null for what was not sent', () => {
    const e = buildHttpEvent('rest-api', docRequest({ target: '/', headers: [], body: Buffer.alloc(0) }), id);
    expect(e).toMatchObject({
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: null,
      body: null,
    });
  });

  it('format times as API Gateway does', () => {
    expect(clfTime(new Date(Date.UTC(2020, 2, 12, 9, 3, 8)))).toBe('12/Mar/2020:09:03:08 +0000');
  });
});

const text = (a: { body: Buffer }) => a.body.toString();

describe('responses, as each front maps them', () => {
  it('payload 2.0: statusCode, headers, cookies, base64 bodies', () => {
    const a = mapFunctionAnswer(
      'url',
      Buffer.from(
        JSON.stringify({
          statusCode: 201,
          headers: { 'content-type': 'text/plain', 'x-a': 1 },
          cookies: ['a=1', 'b=2; Path=/'],
          body: Buffer.from([0, 255]).toString('base64'),
          isBase64Encoded: true,
        }),
      ),
    );
    expect(a.status).toBe(201);
    expect(a.headers).toEqual([
      ['content-type', 'text/plain'],
      ['x-a', '1'],
      ['Set-Cookie', 'a=1'],
      ['Set-Cookie', 'b=2; Path=/'],
    ]);
    expect([...a.body]).toEqual([0, 255]);
  });

  it('payload 2.0: valid JSON without statusCode is a 200 application/json body as it came', () => {
    for (const front of ['url', 'http-api'] as const) {
      const a = mapFunctionAnswer(front, Buffer.from('{"message":"hi"}'));
      expect(a.status).toBe(200);
      expect(a.headers).toEqual([['Content-Type', 'application/json']]);
      expect(text(a)).toBe('{"message":"hi"}');
      expect(text(mapFunctionAnswer(front, Buffer.from('"just a string"')))).toBe('"just a string"');
    }
  });

  it('a malformed answer or a failed function: 502 for URLs and REST APIs, 500 for HTTP APIs, with their bodies', () => {
    const bad = Buffer.from('{"statusCode":"teapot"}');
    expect(mapFunctionAnswer('url', bad)).toMatchObject({ status: 502 });
    expect(text(mapFunctionAnswer('url', Buffer.from('not json')))).toBe('Internal Server Error');
    expect(mapFunctionAnswer('http-api', bad)).toMatchObject({ status: 500 });
    expect(JSON.parse(text(frontFailure('http-api')))).toEqual({ message: 'Internal Server Error' });
    expect(frontFailure('rest-api').status).toBe(502);
    expect(JSON.parse(text(frontFailure('rest-api')))).toEqual({ message: 'Internal server error' });
  });

  it('payload 1.0: only a proxy response object; multiValueHeaders win over headers', () => {
    const ok = mapFunctionAnswer(
      'rest-api',
      Buffer.from(
        JSON.stringify({
          statusCode: 200,
          headers: { 'X-A': 'single', 'X-B': 'b' },
          multiValueHeaders: { 'X-A': ['1', '2'] },
          body: 'hi',
        }),
      ),
    );
    expect(ok.headers).toEqual([
      ['X-B', 'b'],
      ['X-A', '1'],
      ['X-A', '2'],
    ]);
    expect(text(ok)).toBe('hi');
    // Plain JSON is not inferred, and keys a proxy response does not have make it malformed.
    expect(mapFunctionAnswer('rest-api', Buffer.from('{"message":"hi"}')).status).toBe(502);
    expect(mapFunctionAnswer('rest-api', Buffer.from('{"statusCode":200,"cookies":["a=1"]}')).status).toBe(502);
  });
});

describe('fidelity at the edges of a request', () => {
  it('an absolute-form or asterisk target is a path, never a URL or "*"', () => {
    const abs = buildHttpEvent('url', docRequest({ target: 'http://evil.example/abs?x=1' }), id) as Record<string, any>;
    expect(abs).toMatchObject({ rawPath: '/abs', rawQueryString: 'x=1' });
    expect(abs.requestContext.http.path).toBe('/abs');
    expect(buildHttpEvent('url', docRequest({ target: 'http://evil.example' }), id)).toMatchObject({ rawPath: '/' });
    expect(buildHttpEvent('url', docRequest({ target: '*' }), id)).toMatchObject({ rawPath: '/' });
    expect(buildHttpEvent('rest-api', docRequest({ target: 'https://h.example/r/1' }), id)).toMatchObject({
      path: '/r/1',
    });
  });

  it('the root does not match {proxy+}: HTTP APIs send it to $default, REST APIs to the root resource', () => {
    const h = buildHttpEvent('http-api', docRequest({ target: '/?a=1' }), id) as Record<string, any>;
    expect(h.routeKey).toBe('$default');
    expect(h.requestContext.routeKey).toBe('$default');
    expect(h).not.toHaveProperty('pathParameters');
    const r = buildHttpEvent('rest-api', docRequest({ target: '/' }), id) as Record<string, any>;
    expect(r).toMatchObject({ resource: '/', pathParameters: null, requestContext: { resourcePath: '/' } });
  });

  it('a text body that is not valid UTF-8 is base64, as Lambda sends it', () => {
    const body = Buffer.from([0x68, 0x69, 0xff, 0xfe]);
    for (const front of ['url', 'http-api'] as const)
      expect(buildHttpEvent(front, docRequest({ body }), id)).toMatchObject({
        isBase64Encoded: true,
        body: body.toString('base64'),
      });
  });
});

describe('answers whose headers cannot go on the wire', () => {
  // A line break or control character in a value, a name that is not a token (a space, a
  // character beyond ASCII), in headers, multiValueHeaders or cookies: never written, the front's failure instead.
  const bad: Array<Record<string, unknown>> = [
    { headers: { 'x-a': '1\r\nInj: 2' } },
    { headers: { 'bad name': '1' } },
    { headers: { 'n\u00e4me': '1' } },
    { headers: { 'x-e': '\u001b[2J' } },
    { headers: { 'x-z': 'a\u0000b' } },
    { cookies: ['a=1\r\nSet-Cookie: evil=1'] },
  ];
  it('are the failure of each front (502 URL, 500 HTTP API, 502 REST API), with why', () => {
    for (const extra of bad) {
      for (const front of ['url', 'http-api'] as const) {
        const a = mapFunctionAnswer(front, Buffer.from(JSON.stringify({ statusCode: 200, body: 'x', ...extra })));
        expect(a.status, JSON.stringify(extra)).toBe(front === 'url' ? 502 : 500);
        expect(text(a)).toBe(text(frontFailure(front)));
        expect(a.problem).toMatch(/header/);
      }
      if (extra.cookies) continue;
      const rest = mapFunctionAnswer('rest-api', Buffer.from(JSON.stringify({ statusCode: 200, body: 'x', ...extra })));
      expect(rest.status).toBe(502);
      expect(JSON.parse(text(rest))).toEqual({ message: 'Internal server error' });
      const multi = Object.fromEntries(Object.entries(extra.headers as object).map(([k, v]) => [k, [v]]));
      expect(
        mapFunctionAnswer('rest-api', Buffer.from(JSON.stringify({ statusCode: 200, multiValueHeaders: multi })))
          .status,
      ).toBe(502);
    }
    expect(headerProblem([['x-ok', 'tab\there, caf\u00e9, \u65e5\u672c']])).toBeUndefined();
  });

  it('make a streaming prelude fail', () => {
    for (const extra of bad) {
      const prelude = Buffer.from(JSON.stringify({ statusCode: 200, ...extra }));
      expect(() => new PreludeReader().push(Buffer.concat([prelude, Buffer.alloc(8)])), JSON.stringify(extra)).toThrow(
        /header/,
      );
    }
  });
});

describe('invoke --http: the answer line on stderr', () => {
  const outcome = (answer: object) =>
    ({ result: { kind: 'response', body: Buffer.from(JSON.stringify(answer)) } }) as Parameters<
      typeof httpStatusLine
    >[1];

  it("escapes the function's header text and gives the verdict start gives", () => {
    const ok = httpStatusLine(
      'url',
      outcome({ statusCode: 200, headers: { 'x-e': 'caf\u00e9 \u200b' }, cookies: ['k=\u009b31m'], body: '' }),
    );
    expect(ok).toBe('HTTP/1.1 200 OK\nx-e: caf\u00e9 \\u{200b}\nSet-Cookie: k=\\x9b31m');
    for (const headers of [{ 'x-e': '\u001b[2J\u001b]0;pwn\u0007' }, { 'x-c': 'a\r\nb' }, { 'bad name': '1' }]) {
      const line = httpStatusLine('url', outcome({ statusCode: 200, headers, body: '' }));
      expect(line).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
      expect(line.split('\n')).toEqual([
        expect.stringMatching(/^warning: .*header/),
        'HTTP/1.1 502 Bad Gateway',
        'Content-Type: text/plain',
      ]);
    }
    expect(httpStatusLine('http-api', outcome({ statusCode: 200, headers: { 'bad name': '1' } }))).toMatch(
      /^HTTP\/1\.1 500 Internal Server Error$/m,
    );
  });
});

describe('function URL CORS', () => {
  const cors = {
    allowOrigins: ['https://app.example.com'],
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['x-custom'],
    exposeHeaders: ['x-fixture'],
    maxAge: 300,
    allowCredentials: true,
  };
  const headers = (h: Record<string, string>) => (n: string) => h[n];

  it('answers a preflight itself, and only a preflight, only when CORS is configured', () => {
    const pre = corsPreflight(
      cors,
      'OPTIONS',
      headers({ origin: 'https://app.example.com', 'access-control-request-method': 'POST' }),
    );
    expect(pre?.status).toBe(200);
    expect(Object.fromEntries(pre!.headers)).toEqual({
      'Access-Control-Allow-Origin': 'https://app.example.com',
      Vary: 'Origin',
      'Access-Control-Allow-Methods': 'GET,POST',
      'Access-Control-Allow-Headers': 'x-custom',
      'Access-Control-Allow-Credentials': 'true',
      'Access-Control-Max-Age': '300',
    });
    // An origin not on the list gets no CORS headers; plain OPTIONS and unconfigured URLs reach the function.
    const other = corsPreflight(
      cors,
      'OPTIONS',
      headers({ origin: 'https://evil.example', 'access-control-request-method': 'GET' }),
    );
    expect(other?.headers).toEqual([]);
    expect(corsPreflight(cors, 'OPTIONS', headers({}))).toBeUndefined();
    expect(
      corsPreflight(undefined, 'OPTIONS', headers({ origin: 'x', 'access-control-request-method': 'GET' })),
    ).toBeUndefined();
  });

  it("replaces the function's own CORS headers on answers", () => {
    const out = withCorsHeaders(cors, 'https://app.example.com', [
      ['content-type', 'text/plain'],
      ['Access-Control-Allow-Origin', '*'],
    ]);
    expect(out).toEqual([
      ['content-type', 'text/plain'],
      ['Access-Control-Allow-Origin', 'https://app.example.com'],
      ['Vary', 'Origin'],
      ['Access-Control-Allow-Credentials', 'true'],
      ['Access-Control-Expose-Headers', 'x-fixture'],
    ]);
    expect(withCorsHeaders({ allowOrigins: ['*'] }, 'https://a.example', [])).toEqual([
      ['Access-Control-Allow-Origin', '*'],
    ]);
  });
});

describe('the streaming integration prelude', () => {
  it('is read across chunk boundaries: JSON, 8 NUL bytes, then the body', () => {
    const prelude = Buffer.from(JSON.stringify({ statusCode: 418, headers: { 'x-a': 'b' }, cookies: ['c=1'] }));
    const all = Buffer.concat([prelude, Buffer.alloc(8), Buffer.from('body')]);
    const r = new PreludeReader();
    expect(r.push(all.subarray(0, 5))).toBeUndefined();
    expect(r.push(all.subarray(5, prelude.length + 3))).toBeUndefined();
    const done = r.push(all.subarray(prelude.length + 3));
    expect(done?.prelude).toEqual({
      status: 418,
      headers: [
        ['x-a', 'b'],
        ['Set-Cookie', 'c=1'],
      ],
    });
    expect(done?.rest.toString()).toBe('body');
  });

  it('refuses what is not a prelude', () => {
    expect(() => new PreludeReader().push(Buffer.concat([Buffer.from('nope'), Buffer.alloc(8)]))).toThrow(/not JSON/);
    expect(() => new PreludeReader().push(Buffer.alloc(70 * 1024, 'x'))).toThrow(/no prelude delimiter/);
  });
});

describe('invoke --http request lines', () => {
  it('read METHOD /path, -H and -d as curl would send them', () => {
    const r = parseHttpRequestLine('post /items?x=1', ['X-A: 1', 'Content-Type: application/json'], '{"a":1}');
    expect(r.method).toBe('POST');
    expect(r.target).toBe('/items?x=1');
    expect(r.headers).toContainEqual(['X-A', '1']);
    expect(r.headers).toContainEqual(['Content-Length', '7']);
    expect(r.body.toString()).toBe('{"a":1}');
    expect(parseHttpRequestLine('GET http://x.example/a?b=1', [], undefined).target).toBe('/a?b=1');
    expect(parseHttpRequestLine('POST /f', [], 'a=1').headers).toContainEqual([
      'Content-Type',
      'application/x-www-form-urlencoded',
    ]);
  });

  it('name what is wrong', () => {
    expect(() => parseHttpRequestLine('/only-a-path', [], undefined)).toThrow(/METHOD \/path/);
    expect(() => parseHttpRequestLine('GET items', [], undefined)).toThrow(/must start with \//);
    expect(() => parseHttpRequestLine('GET /', ['no colon'], undefined)).toThrow(/Name: value/);
  });
});

describe('invoke --http bodies, as curl reads them', () => {
  it('-d @file drops line breaks, --data-binary @file keeps every byte, @- reads stdin, capped', async () => {
    const dir = tmpDir('frontfix-data-');
    const file = path.join(dir, 'body.bin');
    const bytes = Buffer.from([0, 1, 0x0d, 0x0a, 0xff, 0x80, 0x41, 0x0a]);
    writeFileSync(file, bytes);
    expect([...(await httpRequestBody({ dataBinary: `@${file}` }))!]).toEqual([...bytes]);
    expect([...(await httpRequestBody({ data: `@${file}` }))!]).toEqual([0, 1, 0xff, 0x80, 0x41]);
    expect((await httpRequestBody({ data: 'a=1&b=2' }))!.toString()).toBe('a=1&b=2');
    expect(await httpRequestBody({})).toBeUndefined();
    const stdin = Readable.from([Buffer.from([0xfe, 0x0a]), Buffer.from('z')]);
    expect([...(await httpRequestBody({ dataBinary: '@-' }, stdin))!]).toEqual([0xfe, 0x0a, 0x7a]);
    // The bytes reach the event as they are: a binary body base64, not the text "@file".
    const event = buildHttpEvent(
      'url',
      docRequest({
        ...parseHttpRequestLine(
          'POST /up',
          ['Content-Type: application/octet-stream'],
          (await httpRequestBody({ dataBinary: `@${file}` }))!,
        ),
      }),
      id,
    );
    expect(event).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
    await expect(httpRequestBody({ data: `@${path.join(dir, 'missing')}` })).rejects.toThrow(/cannot read -d file/);
    await expect(httpRequestBody({ data: 'x', dataBinary: 'y' })).rejects.toThrow(/give one of/);
    writeFileSync(file, Buffer.alloc(6 * 1024 * 1024 + 1));
    await expect(httpRequestBody({ dataBinary: `@${file}` })).rejects.toThrow(/larger than 6291456 bytes/);
  });
});

describe('the new flags refuse bad input before any engine is asked', () => {
  it('start, invoke and deploy name the problem and the fix, exit 2', async () => {
    const { runCli } = await import('./support/cli.js');
    const cases: Array<[string[], RegExp]> = [
      [['start', '--image', 'x:y', '--invoke-mode', 'RESPONSE_STREAM'], /--invoke-mode need --http-port/],
      [
        ['start', '--image', 'x:y', '--http-port', '70000'],
        /--http-port "70000" is not a whole number from 0 to 65535/,
      ],
      [['start', '--image', 'x:y', '--http-port', '9000', '--port', '9000'], /is also the --port/],
      [['start', '--image', 'x:y', '--host', 'my host'], /--host my host is not an IP address/],
      [
        ['start', '--image', 'x:y', '--http-port', '0', '--http-event', 'rest-api', '--invoke-mode', 'RESPONSE_STREAM'],
        /RESPONSE_STREAM is a function URL mode/,
      ],
      [['invoke', '--image', 'x:y', '--http', 'items'], /--http: "items" is not METHOD \/path/],
      [['invoke', '--image', 'x:y', '-H', 'A: b'], /go with --http/],
      [['invoke', '--image', 'x:y', '--http', 'GET /', '--event', 'e.json'], /leave out --event/],
      [['deploy', '--url-auth', 'NONE', '--function-name', 'f'], /add --url/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const choice = await runCli(['start', '--image', 'x:y', '--http-port', '0', '--http-event', 'alb']);
    expect(choice.code).not.toBe(0);
    expect(choice.stderr).toMatch(/Allowed choices are url, http-api, rest-api/);
  });
});

describe("REST API binaryMediaTypes: API Gateway's matching", () => {
  it('matches exact types, type/* and */*, ignoring parameters and case; none without a list', async () => {
    const { isBinaryMediaType } = await import('../src/serve/http-events.js');
    expect(isBinaryMediaType('image/png', ['image/png'])).toBe(true);
    expect(isBinaryMediaType('Image/PNG; q=1', ['image/*'])).toBe(true);
    expect(isBinaryMediaType('application/json', ['*/*'])).toBe(true);
    expect(isBinaryMediaType('application/json', ['image/*'])).toBe(false);
    expect(isBinaryMediaType('image/png', [])).toBe(false);
    expect(isBinaryMediaType(undefined, ['*/*'])).toBe(false);
  });

  it('decodes a base64 answer only for a listed first Accept type', async () => {
    const { mapFunctionAnswer } = await import('../src/serve/http-responses.js');
    const answer = Buffer.from(JSON.stringify({ statusCode: 200, body: 'AAEC/w==', isBase64Encoded: true }));
    const types = ['application/octet-stream'];
    expect([
      ...mapFunctionAnswer('rest-api', answer, { accept: 'application/octet-stream', binaryMediaTypes: types }).body,
    ]).toEqual([0, 1, 2, 255]);
    expect(
      mapFunctionAnswer('rest-api', answer, {
        accept: 'text/html, application/octet-stream',
        binaryMediaTypes: types,
      }).body.toString(),
    ).toBe('AAEC/w==');
    expect(mapFunctionAnswer('rest-api', answer).body.toString()).toBe('AAEC/w==');
    // Payload 2.0 fronts always decode.
    expect([...mapFunctionAnswer('url', answer).body]).toEqual([0, 1, 2, 255]);
  });
});
