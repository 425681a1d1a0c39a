// The state machine behind the Runtime and Extensions APIs of one execution environment:
// init (runtime and extensions ready), the invoke in flight and the one queued, extension
// registrations and their event queues, shutdown. No HTTP here: each method returns a typed
// outcome, and lambda-api.ts routes requests to these methods and turns the outcomes into
// status codes and bodies (cargo-lambda's runtime router/state split).
import { randomUUID } from 'node:crypto';
import { MAX_RESPONSE_BYTES } from './limits.js';

export interface FunctionIdentity {
  functionName: string;
  functionArn: string;
  version: string;
  handler: string;
}

const accountOf = (arn: string) => arn.split(':')[4] ?? '000000000000';

export interface InvokeRequest {
  requestId: string;
  payload: Buffer;
  deadlineMs: number;
  traceId: string;
  clientContext?: string;
  cognitoIdentity?: string;
  /** The invoke's tenant (X-Amz-Tenant-Id, the SDK's TenantId): Lambda-Runtime-Aws-Tenant-Id on /next. */
  tenantId?: string;
  /**
   * The caller takes a streamed response as it comes (a RESPONSE_STREAM function URL,
   * InvokeWithResponseStream). Without it a streamed response is buffered, 6 MB at most.
   */
  stream?: ResponseSink;
}

/** Where the bytes of a response go while the function writes them, for a caller that streams. */
export interface ResponseSink {
  /** The runtime began its response (before its first byte): its content type, the invoke's request id. */
  begin(contentType: string | undefined, requestId: string): void;
  /** One piece of the body; the runtime's next bytes are read when the promise resolves (backpressure). */
  write(chunk: Buffer): Promise<void> | undefined;
}

export type InvokeResult =
  | { kind: 'response'; body: Buffer; contentType?: string; streamed?: boolean; streamedBytes?: number }
  | { kind: 'error'; body: Buffer; errorType: string; streamed?: boolean; streamedBytes?: number };

export interface InitOutcome {
  ok: boolean;
  errorType?: string;
  body?: Buffer;
}

/** Why a request was refused; the router maps each to Lambda's status code and errorType. */
export type Refusal =
  /** The call comes in the wrong state (a second /next before answering, a late result, register after init). */
  | 'invalid-state'
  /** A result for a request id this environment never handed out. */
  | 'unknown-request'
  /** A response over the sandbox's limit. */
  | 'too-large'
  /** A malformed request (body, headers, event names). */
  | 'invalid-request'
  /** A Lambda-Extension-Identifier that no registration gave out. */
  | 'unknown-extension'
  /** An internal extension asked for SHUTDOWN. */
  | 'shutdown-not-supported'
  /**
   * A result whose echoed Lambda-Runtime-Invocation-Id is not the invoke now running: a
   * handler that timed out and kept going answering an invoke that reuses its request id.
   */
  | 'invoke-timeout';

/** What one API call comes to. The router writes it; nothing here knows HTTP. */
export type Outcome =
  /** Taken (202 on Lambda). */
  | { kind: 'accepted' }
  /** An event handed to a waiting runtime or extension: its body and headers. */
  | { kind: 'event'; body: Buffer | object; headers: Record<string, string> }
  /** An extension's registration. */
  | {
      kind: 'registered';
      id: string;
      name: string;
      events: string[];
      info: { functionName: string; functionVersion: string; handler: string; accountId: string };
    }
  | { kind: 'refused'; refusal: Refusal; message: string };

/** A long-poll request held open until there is something to answer (runtime or extension /next). */
export interface Waiter {
  answer(o: Outcome): void;
}

/** Finished request ids remembered (a late post for one is a state error): the most recent ones, not all. */
export const FINISHED_REMEMBERED = 64;

interface Extension {
  id: string;
  name: string;
  /** An /opt/extensions program (external), or a registration from inside the runtime's process (internal). */
  external: boolean;
  events: Set<string>;
  waiter?: Waiter;
  queue: object[];
}

interface Current {
  request: InvokeRequest;
  /** The per-invoke nonce sent as Lambda-Runtime-Invocation-Id on /next. */
  invocationId: string;
  resolve: (r: InvokeResult) => void;
  runtimeDone: boolean;
  result?: InvokeResult;
  /** Extensions that have the INVOKE event and have not asked for the next one yet. */
  busyExtensions: Set<string>;
}

const accepted: Outcome = { kind: 'accepted' };
const stateError: Outcome = { kind: 'refused', refusal: 'invalid-state', message: 'Invalid state transition' };
const refused = (refusal: Refusal, message: string): Outcome => ({ kind: 'refused', refusal, message });
const extensionEvent = (event: object): Outcome => ({
  kind: 'event',
  body: event,
  headers: { 'Lambda-Extension-Event-Identifier': randomUUID() },
});

export class LambdaState {
  private runtimeWaiter?: Waiter;
  private runtimeReady = false;
  private initResolvers: Array<(o: InitOutcome) => void> = [];
  private initOutcome?: InitOutcome;
  private extensions = new Map<string, Extension>();
  private readyExtensions = new Set<string>();
  private current?: Current;
  private queued?: { request: InvokeRequest; resolve: (r: InvokeResult) => void };
  /** Recent request ids that finished: a late post for them is a state error, not an unknown id. Bounded. */
  private finished = new Set<string>();
  private shutdownWaiters: Array<() => void> = [];
  /** Resolved when the runtime asks for its next event with no invoke in flight (ready again). */
  private readyWaiters: Array<() => void> = [];

  constructor(
    private readonly identity: FunctionIdentity,
    /** The /opt/extensions programs that will start and must register before init completes. */
    private readonly externalNames: string[],
  ) {}

  // ---- the environment's side: sandbox and pool drive these ----

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

  /** Which kinds of extension registered: Lambda sends the runtime SIGTERM at shutdown when any did. */
  registered(): { internal: number; external: number } {
    const all = [...this.extensions.values()];
    return { internal: all.filter((e) => !e.external).length, external: all.filter((e) => e.external).length };
  }

  /** The name of a registered extension, by its Lambda-Extension-Identifier. */
  extensionName(id: string | undefined): string | undefined {
    return id ? this.extensions.get(id)?.name : undefined;
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
    this.remember(current.request.requestId);
    current.resolve(result);
  }

  /** Sends SHUTDOWN to the extensions that asked for it; resolves when they are idle again or the budget ends. */
  async shutdown(reason: string, budgetMs: number): Promise<void> {
    const subscribed = [...this.extensions.values()].filter((e) => e.events.has('SHUTDOWN'));
    if (!subscribed.length) return;
    const deadlineMs = Date.now() + budgetMs;
    const pending = new Set(subscribed.map((e) => e.id));
    const done = new Promise<void>((resolve) => {
      const check = () => {
        for (const id of [...pending])
          if (this.extensions.get(id)?.waiter && !this.extensions.get(id)!.queue.length) pending.delete(id);
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
    this.shutdownWaiters = [];
  }

  // ---- the API's side: the router calls these per request ----

  /** GET /runtime/invocation/next: held until an event exists, or refused in the wrong state. */
  runtimeNext(waiter: Waiter): Outcome | undefined {
    // Asking for the next event before answering the current one is a state error on Lambda.
    if (this.current && !this.current.runtimeDone) return stateError;
    // So is a second /next while one is already waiting: the first keeps its place (one
    // runtime loop per environment; AWS_LAMBDA_MAX_CONCURRENCY, aws-lambda-go's several-loop
    // mode for managed instances, is never set here).
    if (this.runtimeWaiter && this.runtimeWaiter !== waiter)
      return refused(
        'invalid-state',
        'Invalid state transition: a /next request is already waiting for the next event',
      );
    this.runtimeWaiter = waiter;
    if (!this.current) for (const r of this.readyWaiters.splice(0)) r();
    if (!this.runtimeReady) {
      this.runtimeReady = true;
      this.checkInitDone();
    }
    this.dispatch();
    return undefined;
  }

  /**
   * Resolves once the runtime has asked for its next event after its last invoke: only then
   * may the environment take another invoke (a runtime that answers and exits, as
   * aws-lambda-go does after a panic, never asks, and its environment is replaced).
   */
  runtimeWaiting(): Promise<void> {
    if (this.runtimeWaiter && !this.current) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** The connection of the runtime's held /next request closed before it was answered. */
  dropRuntimeWaiter(waiter: Waiter): void {
    if (this.runtimeWaiter === waiter) this.runtimeWaiter = undefined;
  }

  /**
   * POST /runtime/invocation/{id}/response|error. `body` is undefined when it was over the
   * limit (`size` says how large it was).
   */
  runtimeResult(
    id: string,
    kind: 'response' | 'error',
    post: {
      body: Buffer | undefined;
      size: number;
      contentType?: string;
      errorTypeHeader?: string;
      /** The response went to the caller's sink as it came (`body` is then empty, or the error). */
      streamed?: boolean;
      /** The size limit that applied (default MAX_RESPONSE_BYTES, the buffered one). */
      limit?: number;
      /** The Lambda-Runtime-Invocation-Id the runtime echoed, if it did. */
      invocationId?: string;
    },
  ): Outcome {
    const c = this.current;
    const wrong = this.checkResultId(id, post.invocationId);
    if (wrong || !c) return wrong ?? stateError;
    c.runtimeDone = true;
    let answer: Outcome = accepted;
    const streamed = { streamed: post.streamed, streamedBytes: streamedBytes(post) };
    if (post.body === undefined) {
      const message = `Response payload size (${post.size} bytes) exceeded maximum allowed payload size (${post.limit ?? MAX_RESPONSE_BYTES} bytes).`;
      answer = refused('too-large', message);
      c.result = {
        kind: 'error',
        errorType: 'Function.ResponseSizeTooLarge',
        body: Buffer.from(JSON.stringify({ errorMessage: message, errorType: 'Function.ResponseSizeTooLarge' })),
        ...streamed,
      };
    } else if (kind === 'response') {
      c.result = { kind: 'response', body: post.body, contentType: post.contentType, ...streamed };
    } else {
      c.result = {
        kind: 'error',
        body: post.body,
        errorType: errorTypeOf(post.errorTypeHeader, post.body) ?? 'Unhandled',
        ...streamed,
      };
    }
    this.maybeComplete();
    return answer;
  }

  /** Why a result for this request id is refused now (unknown id, or a second answer), if it is. */
  private checkResultId(id: string, invocationId?: string): Outcome | undefined {
    const c = this.current;
    // An absent echo is accepted (runtime clients before July 2026, aws-lambda-go today).
    if (invocationId !== undefined && c?.request.requestId === id && invocationId !== c.invocationId)
      return refused('invoke-timeout', 'Invoke timeout');
    if (!c || c.request.requestId !== id || c.runtimeDone) {
      if (this.finished.has(id) || (c && c.request.requestId === id)) return stateError;
      return refused('unknown-request', 'Invalid request ID');
    }
    return undefined;
  }

  /**
   * A POST /runtime/invocation/{id}/response begins: the caller's sink when it takes a stream
   * (undefined: buffer it), or the refusal for a wrong id. The result follows with runtimeResult.
   */
  runtimeResponseStart(
    id: string,
    contentType: string | undefined,
    invocationId?: string,
  ): { sink?: ResponseSink } | Outcome {
    const wrong = this.checkResultId(id, invocationId);
    if (wrong) return wrong;
    const { stream: sink, requestId } = this.current!.request;
    sink?.begin(contentType, requestId);
    return { sink };
  }

  /** POST /runtime/init/error. */
  runtimeInitError(body: Buffer, errorTypeHeader?: string): Outcome {
    // After init, an init error is the wrong state (as the RIE answers it), not a silent no-op.
    if (this.initOutcome) return stateError;
    this.finishInit({ ok: false, errorType: errorTypeOf(errorTypeHeader, body) ?? 'Runtime.InitError', body });
    return accepted;
  }

  /** POST /extension/init/error. */
  extensionInitError(errorTypeHeader?: string): Outcome {
    if (this.initOutcome) return stateError;
    const errorType = errorTypeHeader || 'Extension.InitError';
    this.failInit(errorType, `extension init error: ${errorType}`);
    return accepted;
  }

  /** POST /extension/register. */
  register(name: string | undefined, body: Buffer): Outcome {
    let events: string[] = [];
    try {
      events = (JSON.parse(body.toString() || '{}') as { events?: string[] }).events ?? [];
    } catch {
      return refused('invalid-request', 'invalid JSON body');
    }
    if (!name) return refused('invalid-request', 'missing Lambda-Extension-Name header');
    if (this.initOutcome) return refused('invalid-state', 'register is only allowed during init');
    const bad = events.filter((e) => e !== 'INVOKE' && e !== 'SHUTDOWN');
    if (bad.length) return refused('invalid-request', `unknown events: ${bad.join(', ')}`);
    const external =
      this.externalNames.includes(name) && ![...this.extensions.values()].some((e) => e.external && e.name === name);
    // Internal extensions live and die with the runtime: Lambda refuses SHUTDOWN for them.
    if (!external && events.includes('SHUTDOWN'))
      return refused('shutdown-not-supported', 'SHUTDOWN is not supported for internal extensions');
    const id = randomUUID();
    this.extensions.set(id, { id, name, external, events: new Set(events), queue: [] });
    return {
      kind: 'registered',
      id,
      name,
      events,
      info: {
        functionName: this.identity.functionName,
        functionVersion: this.identity.version,
        handler: this.identity.handler,
        accountId: accountOf(this.identity.functionArn),
      },
    };
  }

  /** GET /extension/event/next: held until an event exists. */
  extensionNext(id: string | undefined, waiter: Waiter): Outcome | undefined {
    const e = id ? this.extensions.get(id) : undefined;
    if (!e) return refused('unknown-extension', 'unknown Lambda-Extension-Identifier');
    e.waiter = waiter;
    if (!this.readyExtensions.has(e.id)) {
      this.readyExtensions.add(e.id);
      this.checkInitDone();
      this.dispatch();
    }
    if (this.current?.busyExtensions.delete(e.id)) this.maybeComplete();
    const queued = e.queue.shift();
    let answer: Outcome | undefined;
    if (queued) {
      e.waiter = undefined;
      answer = extensionEvent(queued);
    }
    for (const w of this.shutdownWaiters) w();
    return answer;
  }

  private finishInit(outcome: InitOutcome): void {
    if (this.initOutcome) return;
    this.initOutcome = outcome;
    for (const r of this.initResolvers.splice(0)) r(outcome);
  }

  private checkInitDone(): void {
    if (this.initOutcome) return;
    // Every registered extension (internal ones too) has asked for its first event, and every
    // /opt/extensions program has registered.
    const all = [...this.extensions.values()];
    const externalReady = all.filter((e) => e.external && this.readyExtensions.has(e.id)).length;
    if (
      this.runtimeReady &&
      externalReady >= this.externalNames.length &&
      all.every((e) => this.readyExtensions.has(e.id))
    )
      this.finishInit({ ok: true });
  }

  /** Delivers a queued invoke once init is done and the runtime is waiting. */
  private dispatch(): void {
    if (!this.queued || !this.runtimeWaiter || this.initOutcome?.ok !== true || this.current) return;
    const { request, resolve } = this.queued;
    this.queued = undefined;
    const waiter = this.runtimeWaiter;
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
    const invocationId = randomUUID();
    this.current = { request, invocationId, resolve, runtimeDone: false, busyExtensions: busy };
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': request.requestId,
      'Lambda-Runtime-Deadline-Ms': String(request.deadlineMs),
      'Lambda-Runtime-Invoked-Function-Arn': this.identity.functionArn,
      'Lambda-Runtime-Trace-Id': request.traceId,
      'Lambda-Runtime-Invocation-Id': invocationId,
    };
    if (request.clientContext) headers['Lambda-Runtime-Client-Context'] = request.clientContext;
    if (request.cognitoIdentity) headers['Lambda-Runtime-Cognito-Identity'] = request.cognitoIdentity;
    if (request.tenantId) headers['Lambda-Runtime-Aws-Tenant-Id'] = request.tenantId;
    waiter.answer({ kind: 'event', body: request.payload, headers });
  }

  private maybeComplete(): void {
    const c = this.current;
    if (!c?.runtimeDone || c.busyExtensions.size) return;
    this.current = undefined;
    this.remember(c.request.requestId);
    c.resolve(c.result!);
  }

  private remember(requestId: string): void {
    this.finished.add(requestId);
    // A Set iterates in insertion order: the first one is the oldest.
    if (this.finished.size > FINISHED_REMEMBERED) this.finished.delete(this.finished.values().next().value!);
  }

  private send(e: Extension, event: object): void {
    if (e.waiter) {
      const w = e.waiter;
      e.waiter = undefined;
      w.answer(extensionEvent(event));
    } else {
      e.queue.push(event);
    }
  }
}

/** Bytes that reached a streaming caller (telemetry's producedBytes): what arrived, up to the limit. */
const streamedBytes = (post: { streamed?: boolean; size: number; limit?: number }) =>
  post.streamed ? Math.min(post.size, post.limit ?? post.size) : undefined;

function errorTypeOf(header: string | undefined, body: Buffer): string | undefined {
  if (header) return header;
  try {
    const parsed = JSON.parse(body.toString()) as { errorType?: unknown };
    return typeof parsed.errorType === 'string' ? parsed.errorType : undefined;
  } catch {
    return undefined;
  }
}
