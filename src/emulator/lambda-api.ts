// The Lambda Runtime API (2018-06-01) and Extensions API (2020-01-01) for one execution
// environment, served on the host. The function's runtime and its extensions, in a container,
// talk to it exactly as they talk to Lambda. One invoke at a time per environment, as on Lambda.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Lambda's synchronous payload limit, each way. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

export interface FunctionIdentity {
  functionName: string;
  functionArn: string;
  version: string;
  handler: string;
}

export interface InvokeRequest {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
}

export type InvokeResult =
  | { kind: 'response'; body: Buffer; contentType?: string }
  | { kind: 'error'; body: Buffer; errorType: string };

export interface InitOutcome {
  ok: boolean;
  errorType?: string;
  body?: Buffer;
}

interface Extension {
  id: string;
  name: string;
  events: Set<string>;
  waiter?: http.ServerResponse;
  queue: object[];
}

interface Current {
  request: InvokeRequest;
  resolve: (r: InvokeResult) => void;
  runtimeDone: boolean;
  result?: InvokeResult;
  /** Extensions that have the INVOKE event and have not asked for the next one yet. */
  busyExtensions: Set<string>;
}

const json = (res: http.ServerResponse, status: number, body: object, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

export class LambdaApiServer {
  private server = http.createServer((req, res) => void this.route(req, res));
  private runtimeWaiter?: http.ServerResponse;
  private runtimeReady = false;
  private initResolvers: Array<(o: InitOutcome) => void> = [];
  private initOutcome?: InitOutcome;
  private extensions = new Map<string, Extension>();
  private readyExtensions = new Set<string>();
  private current?: Current;
  private queued?: { request: InvokeRequest; resolve: (r: InvokeResult) => void };
  /** Request ids that finished: a late post for them is a state error (403), not an unknown id (400). */
  private finished = new Set<string>();
  private shutdownWaiters: Array<() => void> = [];
  port = 0;

  constructor(
    private readonly identity: FunctionIdentity,
    /** How many extension processes will start and must register before init completes. */
    private readonly expectedExtensions: number,
  ) {}

  async listen(host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, host, resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  /** Resolves when the runtime and every extension are ready, or when init failed. */
  waitForInit(): Promise<InitOutcome> {
    if (this.initOutcome) return Promise.resolve(this.initOutcome);
    return new Promise((resolve) => this.initResolvers.push(resolve));
  }

  /** Ends init with an error from outside (the process died, init took too long). */
  failInit(errorType: string, message: string): void {
    this.finishInit({ ok: false, errorType, body: Buffer.from(JSON.stringify({ errorType, errorMessage: message })) });
  }

  /** Names of the extensions that have registered so far. */
  registeredExtensions(): string[] {
    return [...this.extensions.values()].map((e) => e.name);
  }

  /** Hands an event to the runtime; resolves with its response or error once extensions are done too. */
  invoke(request: InvokeRequest): Promise<InvokeResult> {
    if (this.current || this.queued) throw new Error('this environment is busy: one invoke at a time');
    return new Promise((resolve) => {
      this.queued = { request, resolve };
      this.dispatch();
    });
  }

  /** The runtime went away mid-invoke (crash, exit, kill): the invoke ends with this error. */
  abortInvoke(result: InvokeResult): void {
    const current = this.current;
    if (!current) {
      if (this.queued) {
        const q = this.queued;
        this.queued = undefined;
        q.resolve(result);
      }
      return;
    }
    this.current = undefined;
    this.finished.add(current.request.requestId);
    current.resolve(result);
  }

  /** Sends SHUTDOWN to the extensions that asked for it; resolves when they are idle again or the budget ends. */
  async shutdown(reason: 'SPINDOWN' | 'TIMEOUT' | 'FAILURE', budgetMs: number): Promise<void> {
    const subscribed = [...this.extensions.values()].filter((e) => e.events.has('SHUTDOWN'));
    if (!subscribed.length) return;
    const deadlineMs = Date.now() + budgetMs;
    const pending = new Set(subscribed.map((e) => e.id));
    const done = new Promise<void>((resolve) => {
      const check = () => {
        for (const id of [...pending]) if (this.extensions.get(id)?.waiter && !this.extensions.get(id)!.queue.length) pending.delete(id);
        if (!pending.size) resolve();
      };
      this.shutdownWaiters.push(check);
    });
    for (const e of subscribed) {
      // Extensions still busy with an event get SHUTDOWN as soon as they ask again.
      this.send(e, { eventType: 'SHUTDOWN', shutdownReason: reason, deadlineMs });
      pending.add(e.id);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, budgetMs)))]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private finishInit(outcome: InitOutcome): void {
    if (this.initOutcome) return;
    this.initOutcome = outcome;
    for (const r of this.initResolvers.splice(0)) r(outcome);
  }

  private checkInitDone(): void {
    if (this.initOutcome) return;
    if (this.runtimeReady && this.readyExtensions.size >= this.expectedExtensions) this.finishInit({ ok: true });
  }

  /** Delivers a queued invoke once init is done and the runtime is waiting. */
  private dispatch(): void {
    if (!this.queued || !this.runtimeWaiter || this.initOutcome?.ok !== true || this.current) return;
    const { request, resolve } = this.queued;
    this.queued = undefined;
    const res = this.runtimeWaiter;
    this.runtimeWaiter = undefined;
    const busy = new Set<string>();
    for (const e of this.extensions.values()) {
      if (!e.events.has('INVOKE')) continue;
      busy.add(e.id);
      this.send(e, {
        eventType: 'INVOKE',
        deadlineMs: request.deadlineMs,
        requestId: request.requestId,
        invokedFunctionArn: this.identity.functionArn,
        tracing: { type: 'X-Amzn-Trace-Id', value: request.traceId },
      });
    }
    this.current = { request, resolve, runtimeDone: false, busyExtensions: busy };
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': request.requestId,
      'Lambda-Runtime-Deadline-Ms': String(request.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': this.identity.functionArn,
      'Lambda-Runtime-Trace-Id': request.traceId,
    };
    if (request.clientContext) headers['Lambda-Runtime-Client-Context'] = request.clientContext;
    if (request.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = request.cognitoIdentity;
    res.writeHead(200, headers);
    res.end(request.payload);
  }

  private maybeComplete(): void {
    const c = this.current;
    if (!c || !c.runtimeDone || c.busyExtensions.size) return;
    this.current = undefined;
    this.finished.add(c.request.requestId);
    c.resolve(c.result!);
  }

  private send(e: Extension, event: object): void {
    if (e.waiter) {
      const res = e.waiter;
      e.waiter = undefined;
      json(res, 200, event, { 'Lambda-Extension-Event-Identifier': randomUUID() });
    } else {
      e.queue.push(event);
    }
  }

  private async route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://lambda');
    const p = url.pathname;
    try {
      if (p === '/2018-06-01/runtime/invocation/next' && req.method === 'GET') return this.runtimeNext(res);
      const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(p);
      if (m && req.method === 'POST') return await this.runtimePost(req, res, decodeURIComponent(m[1]!), m[2] as 'response' | 'error');
      if (p === '/2018-06-01/runtime/init/error' && req.method === 'POST') return await this.initError(req, res, 'runtime');
      if (p === '/2020-01-01/extension/register' && req.method === 'POST') return await this.register(req, res);
      if (p === '/2020-01-01/extension/event/next' && req.method === 'GET') return this.extensionNext(req, res);
      if (p === '/2020-01-01/extension/init/error' && req.method === 'POST') return await this.initError(req, res, 'extension');
      if (p === '/2020-01-01/extension/exit/error' && req.method === 'POST') {
        await readBody(req, MAX_PAYLOAD_BYTES);
        return json(res, 202, { status: 'OK' });
      }
      json(res, 404, { errorMessage: `unknown path ${p}`, errorType: 'InvalidRequest' });
    } catch (err) {
      json(res, 500, { errorMessage: (err as Error).message, errorType: 'ServiceException' });
    }
  }

  private runtimeNext(res: http.ServerResponse): void {
    if (this.current && !this.current.runtimeDone) {
      // Asking for the next event before answering the current one is a state error on Lambda.
      return json(res, 403, { errorMessage: 'Invalid state transition', errorType: 'InvalidStateTransition' });
    }
    this.runtimeWaiter = res;
    res.on('close', () => {
      if (this.runtimeWaiter === res && !res.writableEnded) this.runtimeWaiter = undefined;
    });
    if (!this.runtimeReady) {
      this.runtimeReady = true;
      this.checkInitDone();
    }
    this.dispatch();
  }

  private async runtimePost(req: http.IncomingMessage, res: http.ServerResponse, id: string, kind: 'response' | 'error'): Promise<void> {
    const c = this.current;
    if (!c || c.request.requestId !== id || c.runtimeDone) {
      await readBody(req, MAX_PAYLOAD_BYTES).catch(() => undefined);
      if (this.finished.has(id) || (c && c.request.requestId === id)) {
        return json(res, 403, { errorMessage: 'Invalid state transition', errorType: 'InvalidStateTransition' });
      }
      return json(res, 400, { errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
    }
    const body = await readBody(req, MAX_PAYLOAD_BYTES);
    c.runtimeDone = true;
    if (body === undefined) {
      json(res, 413, { errorMessage: `Exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`, errorType: 'RequestEntityTooLarge' });
      c.result = {
        kind: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        body: Buffer.from(JSON.stringify({ errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_PAYLOAD_BYTES} bytes).`, errorType: 'Function.ResponseSizeTooLarge' })),
      };
    } else if (kind === 'response') {
      json(res, 202, { status: 'OK' });
      c.result = { kind: 'response', body, contentType: req.headers['content-type'] };
    } else {
      json(res, 202, { status: 'OK' });
      c.result = { kind: 'error', body, errorType: errorTypeOf(req, body) ?? 'Unhandled' };
    }
    this.maybeComplete();
  }

  private async initError(req: http.IncomingMessage, res: http.ServerResponse, who: 'runtime' | 'extension'): Promise<void> {
    const body = (await readBody(req, MAX_PAYLOAD_BYTES)) ?? Buffer.from('{}');
    if (who === 'extension') {
      const header = req.headers['lambda-extension-function-error-type'];
      const errorType = typeof header === 'string' ? header : 'Extension.InitError';
      json(res, 202, { status: 'OK' });
      this.failInit(errorType, `extension init error: ${errorType}`);
      return;
    }
    json(res, 202, { status: 'OK' });
    this.finishInit({ ok: false, errorType: errorTypeOf(req, body) ?? 'Runtime.InitError', body });
  }

  private async register(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const name = req.headers['lambda-extension-name'];
    const body = (await readBody(req, 64 * 1024)) ?? Buffer.from('{}');
    let events: string[] = [];
    try {
      events = (JSON.parse(body.toString() || '{}') as { events?: string[] }).events ?? [];
    } catch {
      return json(res, 400, { errorMessage: 'invalid JSON body', errorType: 'InvalidRequest' });
    }
    if (typeof name !== 'string' || !name) {
      return json(res, 400, { errorMessage: 'missing Lambda-Extension-Name header', errorType: 'InvalidRequest' });
    }
    if (this.initOutcome) return json(res, 403, { errorMessage: 'register is only allowed during init', errorType: 'InvalidStateTransition' });
    const bad = events.filter((e) => e !== 'INVOKE' && e !== 'SHUTDOWN');
    if (bad.length) return json(res, 400, { errorMessage: `unknown events: ${bad.join(', ')}`, errorType: 'InvalidRequest' });
    const id = randomUUID();
    this.extensions.set(id, { id, name, events: new Set(events), queue: [] });
    json(res, 200, { functionName: this.identity.functionName, functionVersion: this.identity.version, handler: this.identity.handler }, { 'Lambda-Extension-Identifier': id });
  }

  private extensionNext(req: http.IncomingMessage, res: http.ServerResponse): void {
    const id = req.headers['lambda-extension-identifier'];
    const e = typeof id === 'string' ? this.extensions.get(id) : undefined;
    if (!e) return json(res, 403, { errorMessage: 'unknown Lambda-Extension-Identifier', errorType: 'Extension.InvalidIdentifier' });
    e.waiter = res;
    if (!this.readyExtensions.has(e.id)) {
      this.readyExtensions.add(e.id);
      this.checkInitDone();
      this.dispatch();
    }
    if (this.current?.busyExtensions.delete(e.id)) this.maybeComplete();
    const queued = e.queue.shift();
    if (queued) {
      e.waiter = undefined;
      json(res, 200, queued, { 'Lambda-Extension-Event-Identifier': randomUUID() });
    }
    for (const w of this.shutdownWaiters) w();
  }
}

function errorTypeOf(req: http.IncomingMessage, body: Buffer): string | undefined {
  const header = req.headers['lambda-runtime-function-error-type'];
  if (typeof header === 'string' && header) return header;
  try {
    const parsed = JSON.parse(body.toString()) as { errorType?: unknown };
    return typeof parsed.errorType === 'string' ? parsed.errorType : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a request body up to a limit; undefined when it is larger (the rest is drained). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) over = true;
      else chunks.push(c);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
