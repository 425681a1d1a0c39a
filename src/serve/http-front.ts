// `start --http-port`: plain HTTP requests turned into the event of a function URL, an HTTP API
// or a REST API, and the function's answer into the response that front gives, through the same
// warm pool as the Invoke API. A RESPONSE_STREAM function URL forwards the bytes as they come.
// The events and mappings are pure (src/fronts); this is the HTTP side.
import { createHash, randomUUID } from 'node:crypto';
import http from 'node:http';
import { traceIdFor } from '../emulator/trace-id.js';
import { buildHttpEvent, type FrontIdentity, type HttpFront } from './http-events.js';
import {
  type CorsSettings,
  corsPreflight,
  frontFailure,
  frontTooLarge,
  type HttpAnswer,
  INTEGRATION_RESPONSE_TYPE,
  mapFunctionAnswer,
  headerProblem,
  PreludeReader,
  withCorsHeaders,
} from './http-responses.js';
import { readCappedBody } from '../util/http-body.js';
import type { ResponseSink } from '../emulator/lambda-api.js';
import { MAX_PAYLOAD_BYTES } from '../emulator/limits.js';
import { PoolClosedError, type PoolInvoke, type SandboxPool } from '../emulator/pool.js';

/** What the front needs of the function it serves (app/invoke's LocalFunction is one). */
export interface FrontFunction {
  name: string;
  timeoutSec: number;
  /** AWS_REGION of the function: the HTTP fronts' domain names carry it. */
  region?: string;
  pool: Pick<SandboxPool, 'invoke' | 'drain' | 'concurrency'> & Partial<Pick<SandboxPool, 'tenantIsolation'>>;
  /** Its own HTTP front settings (its function URL's mode and CORS), over those of the port serving it. */
  http?: HttpFrontSettings;
}

/** A function URL's invoke mode (config url.invokeMode). */
export type InvokeMode = 'BUFFERED' | 'RESPONSE_STREAM';

export interface HttpFrontSettings {
  front: HttpFront;
  /** Function URLs only: RESPONSE_STREAM forwards the function's bytes as it writes them. */
  invokeMode: InvokeMode;
  /** Function URLs only: the URL's CORS configuration (config `url.cors`). */
  cors?: CorsSettings;
  /**
   * The request header whose value is the invoke's tenant id (config `url.tenantIdHeader`), as an
   * API Gateway integration maps a client header to X-Amz-Tenant-Id; absent: no tenant id.
   */
  tenantIdHeader?: string;
  /** The domain the front's events name (host, requestContext.domainName): config url.domain. */
  domain?: string;
  /** REST APIs only: the API's binaryMediaTypes (config restApi.binaryMediaTypes). */
  binaryMediaTypes?: readonly string[];
}

/** A URL id as Lambda's look (32 lower-case letters and digits), stable for a function name. */
export function localUrlId(name: string, length = 32): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const digest = createHash('sha256').update(`lambda-image:${name}`).digest();
  return Array.from(digest.subarray(0, length), (b) => alphabet[b % alphabet.length]).join('');
}

/** The ids a front puts in its events for this function. */
export function frontIdentity(
  fn: Pick<FrontFunction, 'name'> & { region?: string },
  front: HttpFront,
  settings: Pick<HttpFrontSettings, 'domain' | 'binaryMediaTypes'> = {},
): FrontIdentity {
  return {
    region: fn.region ?? 'us-east-1',
    accountId: '000000000000',
    apiId: front === 'url' ? localUrlId(fn.name) : localUrlId(fn.name, 10),
    ...(settings.domain ? { domainName: settings.domain } : {}),
    ...(front === 'rest-api' && settings.binaryMediaTypes ? { binaryMediaTypes: settings.binaryMediaTypes } : {}),
  };
}

/** Raw header pairs of a request, in order. */
export function headerPairs(req: http.IncomingMessage): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) out.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return out;
}

/** Headers the front sets itself, whatever the function said. */
const OWN = /^(content-length|transfer-encoding|connection|keep-alive)$/i;

/**
 * Header pairs as they go on the wire: a value beyond Latin-1 leaves as its UTF-8 bytes (Node
 * would refuse it). Names and values were checked by the mapping (headerProblem).
 */
const wire = (headers: Array<[string, string]>) =>
  headers.flatMap(([k, v]) => [k, /[^\u0000-\u00ff]/.test(v) ? Buffer.from(v, 'utf8').toString('latin1') : v]);

/** The status line with its own reason phrase, whatever an earlier failed writeHead left behind. */
const reason = (status: number) => http.STATUS_CODES[status] ?? '';

/** No body on a 1xx, 204 or 304 answer, nor on the answer to a HEAD. */
const bodiless = (status: number, method?: string) =>
  method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200);

function send(
  res: http.ServerResponse,
  a: HttpAnswer,
  extra: Array<[string, string]> = [],
  front: HttpFront = 'url',
): void {
  if (res.headersSent) return void res.destroy();
  const none = bodiless(a.status, res.req?.method);
  const noLength = a.status === 204 || a.status === 304 || (a.status >= 100 && a.status < 200);
  const headers: Array<[string, string]> = [...a.headers.filter(([k]) => !OWN.test(k)), ...extra];
  if (!noLength) headers.push(['Content-Length', String(a.body.length)]);
  try {
    res.writeHead(a.status, reason(a.status), wire(headers));
  } catch {
    // Checked before (headerProblem), so only a header Node still refuses: the front's failure, never half an answer.
    if (res.headersSent) return void res.destroy();
    const f = frontFailure(front);
    res.writeHead(f.status, reason(f.status), wire([...f.headers, ['Content-Length', String(f.body.length)]]));
    return void res.end(f.body);
  }
  res.end(none ? undefined : a.body);
}

/** The front's failure answer, for an error nothing else answered (http-front's last resort). */
export function sendFrontFailure(res: http.ServerResponse, front: HttpFront): void {
  send(res, frontFailure(front), [], front);
}

/** The request handler of the HTTP front. `fatal` hears of invoke failures that end `start`. */
export function httpEventHandler(
  fn: FrontFunction,
  settings: HttpFrontSettings,
  opts: {
    port: () => number;
    draining: () => boolean;
    fatal(err: unknown): void;
    /** Hears why the front answered with its failure response (a malformed answer, a bad header). */
    note?(line: string): void;
  },
): (req: http.IncomingMessage, res: http.ServerResponse, target?: string) => Promise<void> {
  const { front } = settings;
  const cors = front === 'url' ? settings.cors : undefined;
  const identity = frontIdentity(fn, front, settings);
  const streaming = front === 'url' && settings.invokeMode === 'RESPONSE_STREAM';

  // `target`: the path the function sees (a shared front strips the function's /<name> prefix).
  return async (req, res, target = req.url ?? '/') => {
    const time = new Date();
    const { body } = await readCappedBody(req, MAX_PAYLOAD_BYTES);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    // A function URL's request id is the invocation's (START/END/REPORT, Lambda-Runtime-Aws-Request-Id);
    // API Gateway's is its own, and Lambda's invocation gets another.
    const requestId = randomUUID();
    const traceId = traceIdFor(header('x-amzn-trace-id'));
    const own: Array<[string, string]> = [[front === 'http-api' ? 'Apigw-Requestid' : 'x-amzn-RequestId', requestId]];
    if (opts.draining()) return send(res, unavailable(front), [...own, ['Connection', 'close']]);
    if (body === undefined) return send(res, frontTooLarge(front), own);
    const preflight = corsPreflight(cors, req.method ?? 'GET', header);
    if (preflight) return send(res, preflight, own);
    const event = buildHttpEvent(
      front,
      {
        method: req.method ?? 'GET',
        target,
        headers: headerPairs(req),
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        protocol: `HTTP/${req.httpVersion}`,
        time,
        requestId,
        localPort: opts.port(),
        traceId,
      },
      identity,
    );
    const payload = Buffer.from(JSON.stringify(event));
    // The event, with a base64 body, must fit Lambda's synchronous payload limit too.
    if (payload.length > MAX_PAYLOAD_BYTES) return send(res, frontTooLarge(front), own);
    const invokeIds = { ...(front === 'url' ? { requestId } : {}), ...(traceId ? { traceId } : {}) };
    const answerHeaders = (h: Array<[string, string]>) => [...withCorsHeaders(cors, origin, h), ...own];
    const tenantId = settings.tenantIdHeader ? header(settings.tenantIdHeader.toLowerCase()) || undefined : undefined;
    if (fn.pool.tenantIsolation && !tenantId) {
      // Lambda refuses the integration's invoke (InvalidParameterValueException): the front's failure answer.
      opts.note?.(
        `${req.method} ${target}: tenant isolation and no tenant id ${settings.tenantIdHeader ? `(no ${settings.tenantIdHeader} header)` : '(set url.tenantIdHeader)'}: Lambda refuses the invoke`,
      );
      const refused = frontFailure(front);
      return send(res, { ...refused, headers: answerHeaders(refused.headers) }, [], front);
    }
    if (!streaming) {
      const o = await invokeOr503(fn, payload, { ...invokeIds, tenantId }, opts.fatal);
      if (!o) return send(res, unavailable(front), own);
      const a = failed(o)
        ? frontFailure(front)
        : mapFunctionAnswer(front, o.result.body, {
            accept: header('accept'),
            binaryMediaTypes: identity.binaryMediaTypes,
          });
      if (a.problem) opts.note?.(`${req.method} ${target}: ${a.status}: ${a.problem}`);
      return send(res, { ...a, headers: answerHeaders(a.headers) }, [], front);
    }
    const stream = new StreamedAnswer(res, answerHeaders, (problem) =>
      opts.note?.(`${req.method} ${target}: 502: ${problem}`),
    );
    const o = await invokeOr503(fn, payload, { ...invokeIds, stream: stream.sink, tenantId }, opts.fatal);
    stream.finish(o);
  };
}

const failed = (o: PoolInvoke) => o.initError !== undefined || o.result.kind === 'error';

function unavailable(front: HttpFront): HttpAnswer {
  const a = frontFailure(front);
  return { ...a, status: 503, body: front === 'url' ? Buffer.from('Service Unavailable') : a.body };
}

async function invokeOr503(
  fn: FrontFunction,
  payload: Buffer,
  extra: { stream?: ResponseSink; tenantId?: string; requestId?: string; traceId?: string },
  fatal: (err: unknown) => void,
): Promise<PoolInvoke | undefined> {
  try {
    return await fn.pool.invoke(payload, extra);
  } catch (err) {
    fatal(err);
    if (err instanceof PoolClosedError) return undefined;
    throw err;
  }
}

/**
 * One RESPONSE_STREAM answer: the status line and headers (the integration prelude's, when the
 * function sends one) are held until the first body byte, so an error before it is still the
 * URL's 502; then every chunk goes out as it arrives, with backpressure, and a mid-stream error
 * cuts the connection instead of ending the body cleanly, as Lambda does. Nothing here throws
 * into the Runtime API: a prelude or header that cannot be sent makes the answer a 502.
 */
class StreamedAnswer {
  private started = false;
  private prelude?: PreludeReader;
  /** Status and headers not sent yet: they leave with the first body byte or at the end. */
  private head?: { status: number; headers: Array<[string, string]> };
  private broken?: string;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly headers: (h: Array<[string, string]>) => Array<[string, string]>,
    private readonly note: (problem: string) => void,
  ) {}

  readonly sink: ResponseSink = {
    begin: (contentType) => {
      if (contentType === INTEGRATION_RESPONSE_TYPE) this.prelude = new PreludeReader();
      else this.head = { status: 200, headers: [['Content-Type', contentType ?? 'application/octet-stream']] };
    },
    write: (chunk) => {
      if (this.broken !== undefined || this.res.destroyed) return undefined;
      let bytes = chunk;
      if (this.prelude) {
        let read: ReturnType<PreludeReader['push']>;
        try {
          read = this.prelude.push(chunk);
        } catch (err) {
          // not a prelude that can be sent: the answer is the front's 502 once the invoke ends
          this.broken = (err as Error).message;
          return undefined;
        }
        if (!read) return undefined;
        this.prelude = undefined;
        this.head = read.prelude;
        bytes = read.rest;
      }
      if (!bytes.length) return undefined;
      if (!this.started && !this.open()) return undefined;
      if (this.res.write(bytes)) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          this.res.off('drain', done);
          this.res.off('close', done);
          resolve();
        };
        this.res.on('drain', done);
        this.res.on('close', done);
      });
    },
  };

  /** Sends the held status line and headers; false (and the answer broken) when they cannot be sent. */
  private open(): boolean {
    const { status, headers } = this.head ?? { status: 200, headers: [] };
    const own = this.headers(headers.filter(([k]) => !OWN.test(k)));
    const problem = headerProblem(own);
    if (problem) {
      this.broken = problem;
      return false;
    }
    try {
      this.res.writeHead(status, reason(status), wire(own));
    } catch (err) {
      this.broken = (err as Error).message;
      return false;
    }
    this.started = true;
    return true;
  }

  finish(o: PoolInvoke | undefined) {
    const res = this.res;
    if (!o) {
      send(res, unavailable('url'));
      return;
    }
    if (!this.started) {
      if (this.broken !== undefined) this.note(this.broken);
      else if (this.prelude && !failed(o)) this.note('the stream ended before its prelude did (8 NUL bytes)');
      if (failed(o) || this.broken !== undefined || this.prelude) {
        // The 502 before the first byte still names the request, as the real front's does.
        send(
          res,
          frontFailure('url'),
          this.headers([]).filter(([k]) => /^x-amzn-requestid$/i.test(k)),
        );
        return;
      }
      // Streamed without a body byte: the held status and headers, and an empty body.
      if (this.head) {
        send(res, { ...this.head, headers: this.headers(this.head.headers), body: Buffer.alloc(0) });
        return;
      }
      // A response that was not streamed (the runtime answered in one piece): its bytes as they are.
      send(res, {
        status: 200,
        headers: this.headers([
          [
            'Content-Type',
            o.result.kind === 'response' ? (o.result.contentType ?? 'application/json') : 'application/json',
          ],
        ]),
        body: o.result.body,
      });
      return;
    }
    // Headers are out: an error can only be told by not ending the body (the client sees a cut transfer).
    if (failed(o)) res.destroy();
    else res.end();
  }
}
