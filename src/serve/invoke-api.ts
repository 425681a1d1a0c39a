// `start`: a local HTTP front for warm environments. It answers the emulator's endpoint
// (POST /2015-03-31/functions/function/invocations, so the seed's curl commands work) and
// Lambda's Invoke API path (so `aws lambda invoke --endpoint-url` and the SDKs work), with the
// Invoke API's validation and errors, and shuts down without dropping an accepted request.
// It serves one function or several: the Invoke API routes by the name in the path, each
// function has its own pool and its own bound on what waits for it.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLambdaImageError } from '../errors.js';
import { readCappedBody } from '../util/http-body.js';
import { invokeComplete, MAX_CHUNK_BYTES, payloadChunk } from './event-stream.js';
import { parseFunctionTarget, routeFunction, routePrefixed } from './function-target.js';
import { type FrontFunction, type HttpFrontSettings, httpEventHandler, sendFrontFailure } from './http-front.js';
import type { ResponseSink } from '../emulator/lambda-api.js';
import {
  EVENT_DRAIN_MS,
  LOG_RESULT_BYTES,
  MAX_ASYNC_PAYLOAD_BYTES,
  MAX_FRONT_HEADER_BYTES,
  MAX_PAYLOAD_BYTES,
  MAX_WAITING_REQUESTS,
  WAITING_PAYLOAD_BUDGET,
} from '../emulator/limits.js';
import { PoolClosedError, type PoolInvoke, TenantIdRequiredError } from '../emulator/pool.js';

export type { FrontFunction } from './http-front.js';

export interface FrontServer {
  port: number;
  /** The (first) HTTP front's port (`--http-port`), when one was asked for. */
  httpPort?: number;
  /** Every HTTP front: its port, the functions it serves, and whether they are under `/<name>` prefixes. */
  httpPorts: Array<{ port: number; functions: string[]; prefixed: boolean }>;
  /**
   * Stops accepting, lets running invokes finish and answers the ones still waiting for an
   * environment with 503, runs the accepted Event invokes (within `eventDeadlineMs`), then
   * closes every connection. Resolves when each accepted request has had its answer, with
   * how many accepted Event invokes never ran (the deadline passed first).
   */
  close(opts?: { eventDeadlineMs?: number }): Promise<{ eventsNotRun: number }>;
  /** Accepted Event invokes not finished yet (to name them when a second Ctrl-C cuts the wait short). */
  eventsPending(): number;
  /**
   * Serves this set of functions from now on (`start --watch` after a config edit): a function
   * given again by name gets its new settings (timeout, HTTP front mode and CORS) for the next
   * request; a new one is served (on the Invoke API and on the HTTP ports that serve every
   * function); one left out is no longer routed (its requests in progress finish). Requests in
   * flight keep what they started with.
   */
  setFunctions(functions: readonly FrontFunction[]): void;
}

export interface FrontOptions {
  host?: string;
  /** An invoke failed because the engine went away: `start` cannot go on. */
  onFatal?(err: Error): void;
  /** Also serve plain HTTP as a function URL or API Gateway front on these ports (`--http-port`). */
  http?: HttpListen | readonly HttpListen[];
  /** Hears why the HTTP front answered with its failure response (a malformed answer, a bad header). */
  onNote?(line: string): void;
}

/**
 * One HTTP front's port. It serves `functions` (default: every function of the front): one
 * function gets every path; several are each reached under `/<name>`, the prefix stripped from
 * the path the function sees. A function's own `http` settings win over the ones given here.
 */
export interface HttpListen extends Partial<HttpFrontSettings> {
  port: number;
  functions?: readonly string[];
}

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'];
/** InvokeWithResponseStream has no asynchronous mode. */
const STREAM_INVOCATION_TYPES = ['RequestResponse', 'DryRun'];
const LOG_TYPES = ['None', 'Tail'];

/** Lambda's error shape: x-amzn-ErrorType names the exception, the body carries the message. */
function errorJson(
  res: http.ServerResponse,
  status: number,
  type: string,
  message: string,
  extra: http.OutgoingHttpHeaders = {},
  fields: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'x-amzn-ErrorType': type,
    'x-amzn-RequestId': randomUUID(),
    ...extra,
  });
  // Service-side validation errors carry only a message; request errors are the caller's ("User").
  res.end(JSON.stringify(type === 'ValidationException' ? { message } : { ...fields, Type: 'User', message }));
}

/** The answer to an invoke that arrives, or was waiting, while `start` stops: it did not run. */
function shuttingDown(res: http.ServerResponse): void {
  errorJson(res, 503, 'ServiceUnavailableException', 'lambda-image start is shutting down; this invoke did not run', {
    Connection: 'close',
  });
}

/** Lambda's throttle: a function at its reserved concurrency answers 429 with this body and a Retry-After. */
/** The request line and headers, in bytes as sent (name, ": ", value, CRLF each). */
function headerBytes(req: http.IncomingMessage): number {
  let n = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12;
  for (let i = 0; i < req.rawHeaders.length; i += 2) n += req.rawHeaders[i]!.length + req.rawHeaders[i + 1]!.length + 4;
  return n;
}

function headersTooLarge(res: http.ServerResponse): void {
  res.writeHead(431, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message: 'Request Header Fields Too Large' }));
}

function throttled(res: http.ServerResponse): void {
  errorJson(
    res,
    429,
    'TooManyRequestsException',
    'Rate Exceeded.',
    { 'Retry-After': '1' },
    { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' },
  );
}

/** Lambda's wording for a value outside an enum (a ValidationException). */
const enumProblem = (value: string, field: string, allowed: string[]) =>
  `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy enum value set: [${allowed.join(', ')}]`;

/** The last `max` bytes of a log, base64, as X-Amz-Log-Result. */
export function logResult(log: string, max = LOG_RESULT_BYTES): string {
  const bytes = Buffer.from(log, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - max)).toString('base64');
}

export async function startFront(
  functions: FrontFunction | readonly FrontFunction[],
  port: number,
  opts: FrontOptions = {},
): Promise<FrontServer> {
  let fns = Array.isArray(functions) ? (functions as readonly FrontFunction[]) : [functions as FrontFunction];
  let byName = new Map(fns.map((fn) => [fn.name, { fn, admit: admission(fn.pool.concurrency) }]));
  if (!fns.length || byName.size !== fns.length) throw new Error('startFront: give each function once, by its name');
  let names = [...byName.keys()];
  /** Every HTTP port's routing, made again when the functions change. */
  const routings: Array<() => void> = [];
  const background = new Set<Promise<unknown>>();
  /** Requests accepted and not yet answered: shutdown waits for each. */
  const pending = new Set<Promise<void>>();
  let draining = false;
  /** Accepted Event invokes that never ran because `start` stopped first. */
  let eventsNotRun = 0;

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
    let target: string;
    try {
      target = decodeURIComponent(m[1]!);
    } catch {
      target = m[1]!;
    }
    const routed = routeFunction(target, names, url.searchParams.get('Qualifier') ?? undefined);
    const served = routed === undefined ? undefined : byName.get(routed);
    if (!served) {
      req.resume();
      // A version or alias (in the path, or as ?Qualifier=) is named as such: only $LATEST runs here.
      const parsed = parseFunctionTarget(target);
      const qualifier = parsed?.qualifier ?? url.searchParams.get('Qualifier') ?? undefined;
      const other = parsed !== undefined && qualifier !== undefined && qualifier !== '$LATEST';
      return errorJson(
        res,
        404,
        'ResourceNotFoundException',
        other
          ? `Function not found: ${parsed.name}:${qualifier} (only $LATEST runs locally; this server runs ${names.join(', ')})`
          : `Function not found: ${target} (this server runs ${names.join(', ')})`,
      );
    }
    const { fn, admit } = served;
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
    // A place in the queue before the body is read: a flood of large requests is refused, not held.
    const declared = declaredBytes(req);
    const fits = declared === undefined || declared <= MAX_PAYLOAD_BYTES;
    const place = fits && !draining ? admit(declared ?? MAX_PAYLOAD_BYTES) : undefined;
    if (fits && !draining && !place) {
      req.resume();
      return throttled(res);
    }
    const handover = { taken: false };
    try {
      const { body, size } = await readCappedBody(req, MAX_PAYLOAD_BYTES);
      if (body) place?.resize(body.length);
      await answer(fn, req, res, body, size, place, streaming, handover);
    } finally {
      if (!handover.taken) place?.release();
    }
  };

  /** Answers one invoke whose body is read; an Event invoke takes over its place in the queue (`handover`). */
  const answer = async (
    fn: FrontFunction,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer | undefined,
    size: number,
    place: Place | undefined,
    streaming: boolean,
    handover: { taken: boolean },
  ): Promise<void> => {
    if (draining) return shuttingDown(res);
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
    if (type === 'Event' && body.length > MAX_ASYNC_PAYLOAD_BYTES)
      return errorJson(
        res,
        413,
        'RequestEntityTooLargeException',
        `${body.length} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_PAYLOAD_BYTES} bytes)`,
      );
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
      // The SDK's TenantId: the runtime sees it as Lambda-Runtime-Aws-Tenant-Id, in environments of its own.
      tenantId: header(req, 'x-amz-tenant-id'),
      background: type === 'Event',
    };
    // Tenant isolation: Lambda refuses an invoke without a tenant id before running anything.
    if (fn.pool.tenantIsolation && !extra.tenantId) {
      const refused = new TenantIdRequiredError(fn.name);
      return errorJson(res, 400, TenantIdRequiredError.errorType, refused.message);
    }
    if (streaming) return invokeWithResponseStream(fn, res, extra, payload, logType === 'Tail');
    const run = fn.pool.invoke(payload, extra);
    if (type === 'Event') {
      // Asynchronous: accepted now, run in the background (also when `start` is stopping: see close).
      const p = run
        .catch((err: unknown) => {
          if (err instanceof PoolClosedError) eventsNotRun++;
          fatal(err);
        })
        .finally(() => {
          background.delete(p);
          place?.release();
        });
      background.add(p);
      res.writeHead(202, { 'x-amzn-RequestId': randomUUID() });
      handover.taken = true;
      return void res.end();
    }
    let o: Awaited<typeof run>;
    try {
      o = await run;
    } catch (err) {
      fatal(err);
      if (err instanceof PoolClosedError) return shuttingDown(res);
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
    if (isEngineLost(err)) return opts.onFatal?.(err as Error);
    // An environment that could not be made (the engine refused its container, ...): the
    // caller got a 500 (or the front's failure answer); the person running `start` hears why.
    if (!(err instanceof PoolClosedError)) {
      const hint = (err as { hint?: string }).hint;
      opts.onNote?.(`invoke failed: ${(err as Error).message}${hint ? ` (${hint})` : ''}`);
    }
  };

  /**
   * InvokeWithResponseStream: 200 and an event stream of PayloadChunk events as the function
   * writes, then InvokeComplete (ErrorCode/ErrorDetails on a failure, LogResult with Tail).
   */
  const invokeWithResponseStream = async (
    fn: FrontFunction,
    res: http.ServerResponse,
    extra: { clientContext?: string; traceId?: string; tenantId?: string },
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
      if (err instanceof PoolClosedError) return shuttingDown(res);
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
  const httpPorts: FrontServer['httpPorts'] = [];
  const listens = opts.http === undefined ? [] : Array.isArray(opts.http) ? opts.http : [opts.http as HttpListen];
  try {
    for (const spec of listens as readonly HttpListen[]) {
      for (const name of spec.functions ?? [])
        if (!byName.has(name)) throw new Error(`startFront: no function ${name} to serve over HTTP`);
      let bound = 0;
      let listed: string[] = [];
      let prefixed = false;
      let handlers = new Map<string, { handle: ReturnType<typeof httpEventHandler>; settings: HttpFrontSettings }>();
      /** Each function's handler on this port: its own settings, event and identity (made again by setFunctions). */
      const route = () => {
        listed = [...new Set(spec.functions ?? names)].filter((name) => byName.has(name));
        prefixed = spec.functions === undefined ? names.length > 1 : listed.length > 1;
        handlers = new Map(
          listed.map((name) => {
            const { fn } = byName.get(name)!;
            const settings: HttpFrontSettings = fn.http ?? {
              front: spec.front ?? 'url',
              invokeMode: spec.invokeMode ?? 'BUFFERED',
              cors: spec.cors,
            };
            // With several functions served, a note says whose answer it was.
            const note =
              opts.onNote && (fns.length > 1 ? (line: string) => opts.onNote!(`${name}: ${line}`) : opts.onNote);
            const handle = httpEventHandler(fn, settings, { port: () => bound, draining: () => draining, fatal, note });
            return [name, { handle, settings }] as const;
          }),
        );
      };
      route();
      routings.push(route);
      const front = http.createServer((req, res) => {
        const target = req.url ?? '/';
        // The real fronts refuse headers past their size limit; Node would drop those past its count.
        if (headerBytes(req) > MAX_FRONT_HEADER_BYTES) {
          req.resume();
          return headersTooLarge(res);
        }
        const routed = !listed.length
          ? undefined
          : prefixed
            ? routePrefixed(target, listed)
            : { name: listed[0]!, target };
        if (!routed) {
          req.resume();
          return notServed(res, target, listed);
        }
        const route = routed;
        const { admit } = byName.get(route.name)!;
        const { handle, settings } = handlers.get(route.name)!;
        // The same bound as the Invoke API's: what waits for an environment is limited, past it 429.
        const place = draining
          ? undefined
          : admit(Math.min(declaredBytes(req) ?? MAX_PAYLOAD_BYTES, MAX_PAYLOAD_BYTES));
        if (!draining && !place) {
          req.resume();
          return throttled(res);
        }
        const answered = handle(req, res, route.target)
          .catch(() => {
            // The front's own failure answer (status, reason and body), never a bare 500.
            if (res.headersSent) res.destroy();
            else sendFrontFailure(res, settings.front);
          })
          .finally(() => {
            place?.release();
            pending.delete(answered);
          });
        pending.add(answered);
      });
      // Every header is read (none dropped past Node's count); their size is bounded above.
      front.maxHeadersCount = 0;
      await listen(front, spec.port, opts.host);
      servers.push(front);
      bound = (front.address() as AddressInfo).port;
      httpPorts.push({
        port: bound,
        get functions() {
          return listed;
        },
        get prefixed() {
          return prefixed;
        },
      });
    }
  } catch (err) {
    for (const s of servers) s.close();
    throw err;
  }
  return {
    port: (server.address() as AddressInfo).port,
    httpPort: httpPorts[0]?.port,
    httpPorts,
    eventsPending: () => background.size,
    setFunctions(next) {
      if (!next.length || new Set(next.map((fn) => fn.name)).size !== next.length)
        throw new Error('startFront: give each function once, by its name');
      const kept = byName;
      byName = new Map(
        next.map((fn) => [fn.name, { fn, admit: kept.get(fn.name)?.admit ?? admission(fn.pool.concurrency) }]),
      );
      fns = next;
      names = [...byName.keys()];
      for (const route of routings) route();
    },
    async close(closeOpts = {}) {
      draining = true;
      const closed = Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
      for (const s of servers) s.closeIdleConnections();
      // Invokes still queued for an environment fail now (answered 503); running ones finish.
      // Accepted Event invokes were promised a run: they keep their place (bounded, below).
      for (const fn of fns) fn.pool.drain({ keepBackground: true });
      // Every accepted request gets its answer; requests that arrive meanwhile on an open
      // connection are answered 503 the same way. Bounded: running invokes end within the
      // function's timeout; a client still sending its body after that is cut off.
      const longest = Math.max(...fns.map((fn) => fn.timeoutSec));
      const end = Date.now() + (longest + 10) * 1000;
      while (pending.size && Date.now() < end) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([Promise.all([...pending]), new Promise((r) => (timer = setTimeout(r, end - Date.now())))]);
        clearTimeout(timer);
      }
      const eventsEnd = Date.now() + (closeOpts.eventDeadlineMs ?? Math.max(EVENT_DRAIN_MS, (longest + 10) * 1000));
      while (background.size && Date.now() < eventsEnd) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all([...background]),
          new Promise((r) => (timer = setTimeout(r, eventsEnd - Date.now()))),
        ]);
        clearTimeout(timer);
      }
      // Past the deadline: those still waiting will not run (counted), the running ones finish.
      for (const fn of fns) fn.pool.drain();
      await Promise.all(background);
      for (const s of servers) s.closeAllConnections();
      await closed;
      return { eventsNotRun };
    },
  };
}

/**
 * The bound on what waits for one function's environments (see MAX_WAITING_REQUESTS): a
 * function's place-taker, which says there is none when the caller must answer 429.
 */
function admission(concurrency: number): (bytes: number) => Place | undefined {
  const held = { requests: 0, bytes: 0 };
  const byteBudget = WAITING_PAYLOAD_BUDGET + concurrency * MAX_PAYLOAD_BYTES;
  return (bytes) => {
    if (held.requests >= concurrency + MAX_WAITING_REQUESTS || held.bytes + bytes > byteBudget) return undefined;
    held.requests++;
    held.bytes += bytes;
    let reserved = bytes;
    let released = false;
    return {
      // The reservation shrinks to the body's real size once it is read.
      resize(actual) {
        held.bytes += actual - reserved;
        reserved = actual;
      },
      release() {
        if (released) return;
        released = true;
        held.requests--;
        held.bytes -= reserved;
      },
    };
  };
}

/** A shared HTTP front's answer to a path under no served function's prefix. */
function notServed(res: http.ServerResponse, target: string, names: readonly string[]): void {
  const body = JSON.stringify({
    message: `no function at ${target}: this port serves ${names.map((n) => `/${n}/`).join(', ')}`,
  });
  res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The Content-Length a request declares, when it declares a usable one. */
function declaredBytes(req: http.IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** A request's place among those accepted (see admit in startFront). */
interface Place {
  resize(bytes: number): void;
  release(): void;
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
