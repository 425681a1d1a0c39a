// `start`: a local HTTP front for warm environments. It answers the emulator's endpoint
// (POST /2015-03-31/functions/function/invocations, so the seed's curl commands work) and
// Lambda's Invoke API path (so `aws lambda invoke --endpoint-url` and the SDKs work), with the
// Invoke API's validation and errors, and shuts down without dropping an accepted request.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLambdaImageError } from '../errors.js';
import { readCappedBody } from '../util/http-body.js';
import { invokeComplete, MAX_CHUNK_BYTES, payloadChunk } from '../fronts/event-stream.js';
import { type FrontFunction, type HttpFrontSettings, httpEventHandler } from './http-event-front.js';
import { MAX_PAYLOAD_BYTES, type ResponseSink } from './lambda-api.js';
import { PoolClosedError, type PoolInvoke } from './pool.js';

export type { FrontFunction } from './http-event-front.js';

export interface FrontServer {
  port: number;
  /** The HTTP front's port (`--http-port`), when one was asked for. */
  httpPort?: number;
  /**
   * Stops accepting, lets running invokes finish and answers the ones still waiting for an
   * environment with 503, then closes every connection. Resolves when each accepted request
   * has had its answer.
   */
  close(): Promise<void>;
}

export interface FrontOptions {
  host?: string;
  /** An invoke failed because the engine went away: `start` cannot go on. */
  onFatal?(err: Error): void;
  /** Also serve plain HTTP as a function URL or API Gateway front on this port (`--http-port`). */
  http?: { port: number } & HttpFrontSettings;
}

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'];
/** InvokeWithResponseStream has no asynchronous mode. */
const STREAM_INVOCATION_TYPES = ['RequestResponse', 'DryRun'];
const LOG_TYPES = ['None', 'Tail'];
/** X-Amz-Log-Result carries the end of the invoke's log, at most this many bytes (as Lambda). */
export const LOG_RESULT_BYTES = 4096;

/** Lambda's error shape: x-amzn-ErrorType names the exception, the body carries the message. */
function errorJson(
  res: http.ServerResponse,
  status: number,
  type: string,
  message: string,
  extra: http.OutgoingHttpHeaders = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': randomUUID(),
    ...extra,
  });
  // Service-side validation errors carry only a message; request errors are the caller's ("User").
  res.end(JSON.stringify(type === 'ValidationException' ? { message } : { Type: 'User', message }));
}

/** Lambda's wording for a value outside an enum (a ValidationException). */
const enumProblem = (value: string, field: string, allowed: string[]) =>
  `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`;

/** The last `max` bytes of a log, base64, as X-Amz-Log-Result. */
export function logResult(log: string, max = LOG_RESULT_BYTES): string {
  const bytes = Buffer.from(log, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - max)).toString('base64');
}

export async function startFront(fn: FrontFunction, port: number, opts: FrontOptions = {}): Promise<FrontServer> {
  const background = new Set<Promise<unknown>>();
  /** Requests accepted and not yet answered: shutdown waits for each. */
  const pending = new Set<Promise<void>>();
  let draining = false;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://local');
    const m =
      /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname) ??
      /^\/2021-11-15\/functions\/([^/]+)\/response-streaming-invocations$/.exec(url.pathname);
    const streaming = url.pathname.startsWith('/2021-11-15/');
    if (!m) {
      req.resume();
      return errorJson(res, 404, 'UnknownOperationException', `unknown path ${url.pathname}`);
    }
    const target = decodeURIComponent(m[1]!);
    if (target !== 'function' && target !== fn.name && !target.endsWith(`:function:${fn.name}`)) {
      req.resume();
      return errorJson(
        res,
        404,
        'ResourceNotFoundException',
        `Function not found: ${target} (this server runs ${fn.name})`,
      );
    }
    // Invoke is a POST on either path; a GET from a browser or a stray PUT must not run the function.
    if (req.method !== 'POST') {
      req.resume();
      return errorJson(
        res,
        405,
        'MethodNotAllowedException',
        `${req.method} is not allowed on ${url.pathname}: invoke with POST`,
        { Allow: 'POST' },
      );
    }
    const { body, size } = await readCappedBody(req, MAX_PAYLOAD_BYTES);
    if (draining)
      return errorJson(
        res,
        503,
        'ServiceUnavailableException',
        'lambda-image start is shutting down; this invoke did not run',
        { Connection: 'close' },
      );
    if (body === undefined) {
      return errorJson(
        res,
        413,
        'RequestEntityTooLargeException',
        `${size} byte payload is too large for the InvokeFunction operation (limit ${MAX_PAYLOAD_BYTES} bytes)`,
      );
    }
    const type = header(req, 'x-amz-invocation-type') ?? 'RequestResponse';
    const types = streaming ? STREAM_INVOCATION_TYPES : INVOCATION_TYPES;
    if (!types.includes(type))
      return errorJson(res, 400, 'ValidationException', enumProblem(type, 'invocationType', types));
    const logType = header(req, 'x-amz-log-type') ?? 'None';
    if (!LOG_TYPES.includes(logType))
      return errorJson(res, 400, 'ValidationException', enumProblem(logType, 'logType', LOG_TYPES));
    // Lambda parses the payload before anything runs; an empty one is the empty event.
    const payload = body.length ? body : Buffer.from('{}');
    if (body.length) {
      try {
        JSON.parse(body.toString('utf8'));
      } catch (err) {
        return errorJson(
          res,
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: Could not parse payload into json: ${(err as Error).message}`,
        );
      }
    }
    if (type === 'DryRun') {
      res.writeHead(204, { 'x-amzn-RequestId': randomUUID() });
      return void res.end();
    }
    const clientContext = header(req, 'x-amz-client-context');
    const extra = {
      clientContext: clientContext === undefined ? undefined : Buffer.from(clientContext, 'base64').toString(),
      traceId: header(req, 'x-amzn-trace-id'),
    };
    if (streaming) return invokeWithResponseStream(res, extra, payload, logType === 'Tail');
    const run = fn.pool.invoke(payload, extra);
    if (type === 'Event') {
      // Asynchronous: accepted now, run in the background.
      const p = run.catch((err: unknown) => fatal(err)).finally(() => background.delete(p));
      background.add(p);
      res.writeHead(202, { 'x-amzn-RequestId': randomUUID() });
      return void res.end();
    }
    let o: Awaited<typeof run>;
    try {
      o = await run;
    } catch (err) {
      fatal(err);
      if (err instanceof PoolClosedError)
        return errorJson(
          res,
          503,
          'ServiceUnavailableException',
          'lambda-image start is shutting down; this invoke did not run',
          { Connection: 'close' },
        );
      return errorJson(res, 500, 'ServiceException', (err as Error).message);
    }
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': o.result.kind === 'response' ? (o.result.contentType ?? 'application/json') : 'application/json',
      'X-Amz-Executed-Version': '$LATEST',
      'x-amzn-RequestId': o.requestId || randomUUID(),
    };
    if (o.result.kind === 'error') headers['X-Amz-Function-Error'] = 'Unhandled';
    // The log is complete once its REPORT line is out (right after the memory reading).
    if (logType === 'Tail') headers['X-Amz-Log-Result'] = logResult(await o.log);
    if (draining) headers.Connection = 'close';
    res.writeHead(200, headers);
    res.end(o.result.body);
  };

  const fatal = (err: unknown) => {
    if (isEngineLost(err)) opts.onFatal?.(err as Error);
  };

  /**
   * InvokeWithResponseStream: 200 and an event stream of PayloadChunk events as the function
   * writes, then InvokeComplete (ErrorCode/ErrorDetails on a failure, LogResult with Tail).
   */
  const invokeWithResponseStream = async (
    res: http.ServerResponse,
    extra: { clientContext?: string; traceId?: string },
    payload: Buffer,
    tail: boolean,
  ): Promise<void> => {
    const head = (requestId: string) => {
      if (res.headersSent) return;
      res.writeHead(200, {
        'Content-Type': 'application/vnd.amazon.eventstream',
        'X-Amz-Executed-Version': '$LATEST',
        'x-amzn-RequestId': requestId || randomUUID(),
      });
      res.flushHeaders();
    };
    const send = (chunk: Buffer): Promise<void> | undefined => {
      let ok = true;
      for (let at = 0; at < chunk.length; at += MAX_CHUNK_BYTES)
        ok = res.write(payloadChunk(chunk.subarray(at, at + MAX_CHUNK_BYTES)));
      if (ok || res.destroyed) return undefined;
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    };
    const stream: ResponseSink = { begin: (_type, requestId) => head(requestId), write: send };
    let o: PoolInvoke;
    try {
      o = await fn.pool.invoke(payload, { ...extra, stream });
    } catch (err) {
      fatal(err);
      if (res.headersSent) return void res.destroy();
      if (err instanceof PoolClosedError)
        return errorJson(
          res,
          503,
          'ServiceUnavailableException',
          'lambda-image start is shutting down; this invoke did not run',
          {
            Connection: 'close',
          },
        );
      return errorJson(res, 500, 'ServiceException', (err as Error).message);
    }
    head(o.requestId);
    const done: { ErrorCode?: string; ErrorDetails?: string; LogResult?: string } = {};
    if (o.result.kind === 'error') {
      done.ErrorCode = o.result.errorType;
      done.ErrorDetails = o.result.body.toString('utf8');
    } else if (!o.result.streamed && o.result.body.length) await send(o.result.body);
    if (tail) done.LogResult = logResult(await o.log);
    res.end(invokeComplete(done));
  };

  const server = http.createServer((req, res) => {
    const answered = handle(req, res)
      .catch((err: unknown) => errorJson(res, 500, 'ServiceException', (err as Error).message))
      .finally(() => pending.delete(answered));
    pending.add(answered);
  });
  const servers = [server];
  await listen(server, port, opts.host);
  let httpPort: number | undefined;
  if (opts.http) {
    const handleHttp = httpEventHandler(fn, opts.http, {
      port: () => httpPort ?? 0,
      draining: () => draining,
      fatal,
    });
    const front = http.createServer((req, res) => {
      const answered = handleHttp(req, res)
        .catch(() => {
          if (res.headersSent) res.destroy();
          else res.writeHead(500).end();
        })
        .finally(() => pending.delete(answered));
      pending.add(answered);
    });
    try {
      await listen(front, opts.http.port, opts.host);
    } catch (err) {
      server.close();
      throw err;
    }
    servers.push(front);
    httpPort = (front.address() as AddressInfo).port;
  }
  return {
    port: (server.address() as AddressInfo).port,
    httpPort,
    async close() {
      draining = true;
      const closed = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const s of servers) s.closeIdleConnections();
      // Invokes still queued for an environment fail now (answered 503); running ones finish.
      fn.pool.drain();
      // Every accepted request gets its answer; requests that arrive meanwhile on an open
      // connection are answered 503 the same way. Bounded: running invokes end within the
      // function's timeout; a client still sending its body after that is cut off.
      const end = Date.now() + (fn.timeoutSec + 10) * 1000;
      while (pending.size && Date.now() < end) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all([...pending]), new Promise((r) => (timer = setTimeout(r, end - Date.now())))]);
        clearTimeout(timer);
      }
      await Promise.all(background);
      for (const s of servers) s.closeAllConnections();
      await closed;
    },
  };
}

function listen(server: http.Server, port: number, host = '127.0.0.1'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

function isEngineLost(err: unknown): boolean {
  return isLambdaImageError(err) && err.code === 'ENGINE_UNREACHABLE';
}
