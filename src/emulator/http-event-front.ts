// `start --http-port`: plain HTTP requests turned into the event of a function URL, an HTTP API
// or a REST API, and the function's answer into the response that front gives, through the same
// warm pool as the Invoke API. A RESPONSE_STREAM function URL forwards the bytes as they come.
// The events and mappings are pure (src/fronts); this is the HTTP side.
import { createHash, randomUUID } from 'node:crypto';
import type http from 'node:http';
import { buildHttpEvent, type FrontIdentity, type HttpFront } from '../fronts/http-events.js';
import {
  type CorsSettings,
  corsPreflight,
  frontFailure,
  frontTooLarge,
  type HttpAnswer,
  INTEGRATION_RESPONSE_TYPE,
  mapFunctionAnswer,
  PreludeReader,
  withCorsHeaders,
} from '../fronts/http-responses.js';
import { readCappedBody } from '../util/http-body.js';
import { MAX_PAYLOAD_BYTES, type ResponseSink } from './lambda-api.js';
import { PoolClosedError, type PoolInvoke, type SandboxPool } from './pool.js';

/** What the front needs of the function it serves (app/invoke's LocalFunction is one). */
export interface FrontFunction {
  name: string;
  timeoutSec: number;
  /** AWS_REGION of the function: the HTTP fronts' domain names carry it. */
  region?: string;
  pool: Pick<SandboxPool, 'invoke' | 'drain' | 'concurrency'>;
}

/** A function URL's invoke mode (config url.invokeMode). */
export type InvokeMode = 'BUFFERED' | 'RESPONSE_STREAM';

export interface HttpFrontSettings {
  front: HttpFront;
  /** Function URLs only: RESPONSE_STREAM forwards the function's bytes as it writes them. */
  invokeMode: InvokeMode;
  /** Function URLs only: the URL's CORS configuration (config `url.cors`). */
  cors?: CorsSettings;
}

/** A URL id as Lambda's look (32 lower-case letters and digits), stable for a function name. */
export function localUrlId(name: string, length = 32): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const digest = createHash('sha256').update(`lambda-image:${name}`).digest();
  return Array.from(digest.subarray(0, length), (b) => alphabet[b % alphabet.length]).join('');
}

/** The ids a front puts in its events for this function. */
export function frontIdentity(fn: Pick<FrontFunction, 'name'> & { region?: string }, front: HttpFront): FrontIdentity {
  return {
    region: fn.region ?? 'us-east-1',
    accountId: '000000000000',
    apiId: front === 'url' ? localUrlId(fn.name) : localUrlId(fn.name, 10),
  };
}

/** Raw header pairs of a request, in order. */
export function headerPairs(req: http.IncomingMessage): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) out.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  return out;
}

const flat = (headers: Array<[string, string]>) => headers.flat();
/** Headers the front sets itself, whatever the function said. */
const OWN = /^(content-length|transfer-encoding|connection|keep-alive)$/i;

function send(res: http.ServerResponse, a: HttpAnswer, extra: Array<[string, string]> = []): void {
  if (res.headersSent) return void res.destroy();
  const headers = [...a.headers.filter(([k]) => !OWN.test(k)), ...extra, ['Content-Length', String(a.body.length)]];
  res.writeHead(a.status, flat(headers as Array<[string, string]>));
  res.end(a.body);
}

/** The request handler of the HTTP front. `fatal` hears of invoke failures that end `start`. */
export function httpEventHandler(
  fn: FrontFunction,
  settings: HttpFrontSettings,
  opts: { port: () => number; draining: () => boolean; fatal(err: unknown): void },
): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  const { front } = settings;
  const cors = front === 'url' ? settings.cors : undefined;
  const identity = frontIdentity(fn, front);
  const streaming = front === 'url' && settings.invokeMode === 'RESPONSE_STREAM';

  return async (req, res) => {
    const time = new Date();
    const { body } = await readCappedBody(req, MAX_PAYLOAD_BYTES);
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined;
    const requestId = randomUUID();
    const own: Array<[string, string]> = [[front === 'http-api' ? 'Apigw-Requestid' : 'x-amzn-RequestId', requestId]];
    if (opts.draining()) return send(res, unavailable(front), [...own, ['Connection', 'close']]);
    if (body === undefined) return send(res, frontTooLarge(front), own);
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    const preflight = corsPreflight(cors, req.method ?? 'GET', header);
    if (preflight) return send(res, preflight, own);
    const event = buildHttpEvent(
      front,
      {
        method: req.method ?? 'GET',
        target: req.url ?? '/',
        headers: headerPairs(req),
        body,
        sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
        protocol: `HTTP/${req.httpVersion}`,
        time,
        requestId,
        localPort: opts.port(),
      },
      identity,
    );
    const payload = Buffer.from(JSON.stringify(event));
    // The event, with a base64 body, must fit Lambda's synchronous payload limit too.
    if (payload.length > MAX_PAYLOAD_BYTES) return send(res, frontTooLarge(front), own);
    const answerHeaders = (h: Array<[string, string]>) => [...withCorsHeaders(cors, origin, h), ...own];
    if (!streaming) {
      const o = await invokeOr503(fn, payload, {}, opts.fatal);
      if (!o) return send(res, unavailable(front), own);
      const a = failed(o) ? frontFailure(front) : mapFunctionAnswer(front, o.result.body);
      return send(res, { ...a, headers: answerHeaders(a.headers) });
    }
    const stream = new StreamedAnswer(res, answerHeaders);
    const o = await invokeOr503(fn, payload, { stream: stream.sink }, opts.fatal);
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
  extra: { stream?: ResponseSink },
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
 * One RESPONSE_STREAM answer: the status line goes out when the function's stream begins (after
 * the integration prelude, when it sends one), every chunk as it arrives with backpressure, and a
 * mid-stream error cuts the connection instead of ending the body cleanly, as Lambda does.
 */
class StreamedAnswer {
  private started = false;
  private prelude?: PreludeReader;
  private broken = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly headers: (h: Array<[string, string]>) => Array<[string, string]>,
  ) {}

  readonly sink: ResponseSink = {
    begin: (contentType) => {
      if (contentType === INTEGRATION_RESPONSE_TYPE) this.prelude = new PreludeReader();
      else this.start(200, [['Content-Type', contentType ?? 'application/octet-stream']]);
    },
    write: (chunk) => {
      if (this.broken || this.res.destroyed) return undefined;
      let bytes = chunk;
      if (this.prelude) {
        let read: ReturnType<PreludeReader['push']>;
        try {
          read = this.prelude.push(chunk);
        } catch {
          this.broken = true; // not a prelude: the answer is the front's 502 once the invoke ends
          return undefined;
        }
        if (!read) return undefined;
        this.prelude = undefined;
        this.start(read.prelude.status, read.prelude.headers);
        bytes = read.rest;
        if (!bytes.length) return undefined;
      }
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

  private start(status: number, headers: Array<[string, string]>): void {
    this.started = true;
    const own = headers.filter(([k]) => !OWN.test(k));
    this.res.writeHead(status, flat(this.headers(own)));
    // The status line and headers leave now, not with the first body bytes.
    this.res.flushHeaders();
  }

  finish(o: PoolInvoke | undefined): void {
    const res = this.res;
    if (!o) {
      send(res, unavailable('url'));
      return;
    }
    if (!this.started) {
      if (failed(o) || this.broken || this.prelude) {
        send(res, frontFailure('url'));
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
