// `start`: a local HTTP front for warm environments. It answers the emulator's endpoint
// (POST /2015-03-31/functions/function/invocations, so the seed's curl commands work) and
// Lambda's Invoke API path (so `aws lambda invoke --endpoint-url` and the SDKs work), with the
// Invoke API's validation and errors, and shuts down without dropping an accepted request.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isLambdaImageError } from '../errors.js';
import { readCappedBody } from '../util/http-body.js';
import { MAX_PAYLOAD_BYTES } from './lambda-api.js';
import { PoolClosedError, type SandboxPool } from './pool.js';

/** What the front needs of the function it serves (app/invoke's LocalFunction is one). */
export interface FrontFunction {
  name: string;
  timeoutSec: number;
  pool: Pick<SandboxPool, 'invoke' | 'drain'>;
}

export interface FrontServer {
  port: number;
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
}

const INVOCATION_TYPES = ['RequestResponse', 'Event', 'DryRun'];
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
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
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
    if (!INVOCATION_TYPES.includes(type))
      return errorJson(res, 400, 'ValidationException', enumProblem(type, 'invocationType', INVOCATION_TYPES));
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
    const run = fn.pool.invoke(payload, {
      clientContext: clientContext === undefined ? undefined : Buffer.from(clientContext, 'base64').toString(),
      traceId: header(req, 'x-amzn-trace-id'),
    });
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

  const server = http.createServer((req, res) => {
    const answered = handle(req, res)
      .catch((err: unknown) => errorJson(res, 500, 'ServiceException', (err as Error).message))
      .finally(() => pending.delete(answered));
    pending.add(answered);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, opts.host ?? '127.0.0.1', resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      draining = true;
      const closed = new Promise((r) => server.close(r));
      server.closeIdleConnections();
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
      server.closeAllConnections();
      await closed;
    },
  };
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
}

function isEngineLost(err: unknown): boolean {
  return isLambdaImageError(err) && err.code === 'ENGINE_UNREACHABLE';
}
