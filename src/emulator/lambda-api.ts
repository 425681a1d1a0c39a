// The HTTP side of the Lambda Runtime API (2018-06-01) and Extensions API (2020-01-01) for one
// execution environment: routes each request to the state machine (lambda-state.ts) and writes
// its answer. The function's runtime and its extensions talk to it exactly as to Lambda.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readCappedBody } from '../util/http-body.js';
import {
  LambdaState,
  type FunctionIdentity,
  type Outcome,
  type Refusal,
  type ResponseSink,
  type Waiter,
} from './lambda-state.js';
import {
  MAX_PAYLOAD_BYTES,
  MAX_RESPONSE_BYTES,
  MAX_RUNTIME_API_CONNECTIONS,
  MAX_STREAMED_RESPONSE_BYTES,
  RUNTIME_API_IDLE_MS,
} from './limits.js';
import { TelemetryHub } from './telemetry.js';
import { chunkReleaser } from '../util/memory.js';

export type {
  ResponseSink,
  FunctionIdentity,
  InitOutcome,
  InvokeRequest,
  InvokeResult,
} from './lambda-state.js';

const header = (req: http.IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return typeof v === 'string' && v ? v : undefined;
};

/** What the router writes back: status, JSON body (object), text or raw bytes, headers. */
interface Answer {
  status: number;
  body: object | Buffer | string;
  headers?: Record<string, string>;
}

/** Lambda's status code and errorType for each refusal of the state machine. */
const REFUSALS: Record<Refusal, { status: number; errorType: string }> = {
  'invalid-state': { status: 403, errorType: 'InvalidStateTransition' },
  'unknown-request': { status: 400, errorType: 'InvalidRequestID' },
  'too-large': { status: 413, errorType: 'RequestEntityTooLarge' },
  'invalid-request': { status: 400, errorType: 'InvalidRequest' },
  'unknown-extension': { status: 403, errorType: 'Extension.InvalidIdentifier' },
  'shutdown-not-supported': { status: 403, errorType: 'ShutdownEventNotSupportedForInternalExtension' },
  // The RIE's LMI router renders Runtime.InvokeTimeout as 410 {"errorType":"InvokeTimeout"}.
  'invoke-timeout': { status: 410, errorType: 'InvokeTimeout' },
};

/** The HTTP answer to one outcome of the state machine. */
export function answerFor(o: Outcome): Answer {
  switch (o.kind) {
    case 'accepted':
      return { status: 202, body: { status: 'OK' } };
    case 'event':
      return { status: 200, body: o.body, headers: o.headers };
    case 'registered':
      return { status: 200, body: o.info, headers: { 'Lambda-Extension-Identifier': o.id } };
    case 'refused': {
      const { status, errorType } = REFUSALS[o.refusal];
      return { status, body: { errorMessage: o.message, errorType } };
    }
  }
}

function write(res: http.ServerResponse, a: Answer): void {
  if (typeof a.body === 'string') {
    res.writeHead(a.status, { 'Content-Type': 'text/plain' });
    res.end(a.body);
  } else if (Buffer.isBuffer(a.body)) {
    res.writeHead(a.status, a.headers);
    res.end(a.body);
  } else {
    res.writeHead(a.status, { 'Content-Type': 'application/json', ...a.headers });
    res.end(JSON.stringify(a.body));
  }
}

const reply = (res: http.ServerResponse, o: Outcome) => write(res, answerFor(o));

export interface LambdaApiOptions {
  /** Where Telemetry/Logs API subscribers get their events (a hub that delivers nowhere when absent). */
  telemetry?: TelemetryHub;
  /**
   * Which peers may talk to the API: the server listens on a bridge address that every
   * container of the engine (and the host's other interfaces) may reach, so only the
   * environment's own address is let through. Refused peers get their connection closed.
   */
  allowPeer?: (address: string) => boolean | Promise<boolean>;
}

export class LambdaApiServer {
  readonly state: LambdaState;
  readonly telemetry: TelemetryHub;
  private server = http.createServer(
    // An idle connection (no request headers) is closed, checked every second.
    { headersTimeout: RUNTIME_API_IDLE_MS, connectionsCheckingInterval: 1000 },
    (req, res) => void this.route(req, res),
  );
  private open = 0;
  port = 0;

  constructor(
    identity: FunctionIdentity,
    /** The /opt/extensions programs that must register before init completes. */
    externalExtensions: string[],
    private readonly opts: LambdaApiOptions = {},
  ) {
    this.state = new LambdaState(identity, externalExtensions);
    this.telemetry = opts.telemetry ?? new TelemetryHub(async (host, port) => ({ host, port }));
    // The peer is checked at accept, and the connections one environment holds are bounded,
    // so idle sockets from elsewhere (or a flood from the function) cannot take the port offline.
    this.server.on('connection', (socket) => {
      if (this.open >= MAX_RUNTIME_API_CONNECTIONS) return void socket.destroy();
      this.open++;
      socket.once('close', () => this.open--);
      const allow = this.opts.allowPeer;
      if (!allow) return;
      void Promise.resolve(allow(socket.remoteAddress ?? '')).then(
        (ok) => ok || socket.destroy(),
        () => socket.destroy(),
      );
    });
  }

  async listen(host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, host, resolve);
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  // The environment's side, as before the split: callers use the server as the environment's API.
  waitForInit: LambdaState['waitForInit'] = (...a) => this.state.waitForInit(...a);
  failInit: LambdaState['failInit'] = (...a) => this.state.failInit(...a);
  registeredExtensions: LambdaState['registeredExtensions'] = (...a) => this.state.registeredExtensions(...a);
  invoke: LambdaState['invoke'] = (...a) => this.state.invoke(...a);
  abortInvoke: LambdaState['abortInvoke'] = (...a) => this.state.abortInvoke(...a);
  shutdown: LambdaState['shutdown'] = (...a) => this.state.shutdown(...a);

  /**
   * POST /runtime/invocation/{id}/response|error. A response goes to the caller's sink as it
   * arrives when the caller streams (200 MB), else it is buffered (6 MB). Runtimes stream with
   * chunked encoding, with or without Lambda-Runtime-Function-Response-Mode: streaming
   * (aws-lambda-go sends every answer chunked, without the header), and report a mid-stream
   * error in the trailers Lambda-Runtime-Function-Error-Type/-Body (base64 JSON), empty on success.
   */
  private async result(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    id: string,
    kind: 'response' | 'error',
  ): Promise<void> {
    const s = this.state;
    const contentType = header(req, 'content-type');
    const invocationId = header(req, 'lambda-runtime-invocation-id');
    let sink: ResponseSink | undefined;
    if (kind === 'response') {
      const start = s.runtimeResponseStart(id, contentType, invocationId);
      if ('kind' in start) {
        req.resume();
        return reply(res, start);
      }
      sink = start.sink;
    }
    const limit = sink ? MAX_STREAMED_RESPONSE_BYTES : MAX_RESPONSE_BYTES;
    const held: Buffer[] = [];
    let size = 0;
    /** The caller streamed and its sink failed: nothing more is kept or forwarded. */
    let streamedOut = false;
    // A streamed answer passes through in chunks: free the spent ones as it goes (util/memory.ts).
    const release = chunkReleaser();
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > limit) continue; // drained, not kept: the result says how large it was
        if (sink) {
          // A caller that cannot take the bytes must not leave the runtime's POST unanswered:
          // the rest is drained and the invoke ends as the runtime says.
          try {
            await sink.write(chunk);
            release(chunk.length);
          } catch {
            sink = undefined;
            streamedOut = true;
          }
        } else if (!streamedOut) held.push(chunk);
      }
    } catch {
      return; // the runtime went away mid-response: the sandbox ends the invoke
    }
    const trailerType = req.trailers['lambda-runtime-function-error-type'];
    const base = { size, contentType, streamed: sink !== undefined || streamedOut, limit, invocationId };
    if (size > limit) return reply(res, s.runtimeResult(id, kind, { ...base, body: undefined }));
    if (trailerType) {
      const encoded = req.trailers['lambda-runtime-function-error-body'];
      const body = encoded
        ? Buffer.from(encoded, 'base64')
        : Buffer.from(JSON.stringify({ errorMessage: '', errorType: trailerType }));
      return reply(res, s.runtimeResult(id, 'error', { ...base, body, errorTypeHeader: trailerType }));
    }
    const body = sink || streamedOut ? Buffer.alloc(0) : Buffer.concat(held);
    return reply(
      res,
      s.runtimeResult(id, kind, { ...base, body, errorTypeHeader: header(req, 'lambda-runtime-function-error-type') }),
    );
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.opts.allowPeer && !(await this.opts.allowPeer(req.socket.remoteAddress ?? ''))) {
      req.socket.destroy();
      return;
    }
    const p = new URL(req.url ?? '/', 'http://lambda').pathname.replace(/\/$/, '');
    const s = this.state;
    try {
      if (p === '/2018-06-01/runtime/invocation/next' && req.method === 'GET') {
        const waiter: Waiter = { answer: (o) => reply(res, o) };
        res.on('close', () => {
          if (!res.writableEnded) s.dropRuntimeWaiter(waiter);
        });
        const refused = s.runtimeNext(waiter);
        if (refused) reply(res, refused);
        return;
      }
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(p);
      if (m && req.method === 'POST')
        return await this.result(req, res, decodeURIComponent(m[1]!), m[2] as 'response' | 'error');
      if (p === '/2018-06-01/runtime/init/error' && req.method === 'POST') {
        const { body } = await readCappedBody(req, MAX_PAYLOAD_BYTES);
        return reply(
          res,
          s.runtimeInitError(body ?? Buffer.from('{}'), header(req, 'lambda-runtime-function-error-type')),
        );
      }
      if (p === '/2020-01-01/extension/register' && req.method === 'POST') {
        const { body } = await readCappedBody(req, 64 * 1024);
        const registered = s.register(header(req, 'lambda-extension-name'), body ?? Buffer.from('{}'));
        if (registered.kind === 'registered')
          this.telemetry.platform('platform.extension', {
            name: registered.name,
            state: 'Ready',
            events: registered.events,
          });
        return reply(res, registered);
      }
      if (p === '/2020-01-01/extension/event/next' && req.method === 'GET') {
        const answered = s.extensionNext(header(req, 'lambda-extension-identifier'), { answer: (o) => reply(res, o) });
        if (answered) reply(res, answered);
        return;
      }
      if (p === '/2020-01-01/extension/init/error' && req.method === 'POST') {
        await readCappedBody(req, MAX_PAYLOAD_BYTES);
        return reply(res, s.extensionInitError(header(req, 'lambda-extension-function-error-type')));
      }
      if (p === '/2020-01-01/extension/exit/error' && req.method === 'POST') {
        await readCappedBody(req, MAX_PAYLOAD_BYTES);
        return reply(res, { kind: 'accepted' });
      }
      if ((p === '/2022-07-01/telemetry' || p === '/2020-08-15/logs') && req.method === 'PUT') {
        const { body } = await readCappedBody(req, 64 * 1024);
        const id = header(req, 'lambda-extension-identifier');
        const name = s.extensionName(id);
        if (!name)
          return reply(res, {
            kind: 'refused',
            refusal: 'unknown-extension',
            message: 'unknown Lambda-Extension-Identifier',
          });
        return write(
          res,
          this.telemetry.subscribe(p.startsWith('/2022') ? 'telemetry' : 'logs', id!, name, body ?? Buffer.from('')),
        );
      }
      write(res, { status: 404, body: { errorMessage: `unknown path ${p}`, errorType: 'InvalidRequest' } });
    } catch (err) {
      write(res, { status: 500, body: { errorMessage: (err as Error).message, errorType: 'ServiceException' } });
    }
  }
}
