// Warm execution environments behind a queue: up to `size` sandboxes, one invoke at a time
// each, a new (cold) one when none is free and the limit allows, replacements after a
// timeout or crash. Serves `invoke --repeat/--concurrency` and `start`; `swap` moves it to
// a new image under running fronts (`start --watch`).
import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import type { FunctionImage } from './function-image.js';
import { RUNTIME_NEXT_GRACE_MS } from './limits.js';
import { planNetwork } from './network.js';
import { NetworkSpares } from './netns.js';
import { type InvokeExtra, type InvokeOutcome, Sandbox, type SandboxOptions } from './sandbox.js';

export interface PoolInvoke extends InvokeOutcome {
  cold: boolean;
  /** Set when init failed: no invoke reached the function. */
  initError?: { errorType: string; initMs: number };
  /**
   * This invoke's log as Lambda keeps it (START, the function's and extensions' lines, END,
   * REPORT), complete once its REPORT is out: what `X-Amz-Log-Type: Tail` returns the end of.
   */
  log: Promise<string>;
}

export interface PoolHooks {
  /** Platform lines before the invoke (START); emitted and kept in the invoke's log. */
  startLines?(requestId: string): string[];
  /**
   * Platform lines after the invoke (END, REPORT, ...), with its memory reading done and the
   * settings of the environment that ran it (a swap may have changed them since); emitted and
   * kept in its log.
   */
  doneLines?(outcome: PoolInvoke, maxMemoryMb: number | undefined, settings: PoolSettings): string[];
  /** Where platform lines go (stderr for the CLI). */
  onPlatformLine?(line: string): void;
}

/** An invoke that never ran because the pool stopped taking invokes (`start` answers it 503). */
export class PoolClosedError extends LambdaImageError {
  constructor() {
    super('CONTAINER_FAILED', 'the function was stopped before this invoke could run', { hint: 'start it again' });
  }
}

/**
 * An invoke without a tenant id of a function with tenant isolation (TenancyConfig PER_TENANT):
 * Lambda refuses it with InvalidParameterValueException (400) before any environment runs.
 */
export class TenantIdRequiredError extends LambdaImageError {
  static readonly errorType = 'InvalidParameterValueException';
  constructor(readonly functionName: string) {
    super(
      'INVALID_INPUT',
      `function ${functionName} has tenant isolation (PER_TENANT): an invoke must name its tenant`,
      {
        hint: 'give --tenant-id <id> (the Invoke API: the X-Amz-Tenant-Id header)',
      },
    );
  }
}

/** Per-invoke log kept for Tail: bounded, the oldest lines go first. */
const LOG_KEEP_BYTES = 64 * 1024;

/**
 * The function's output reaches us through the engine's attach stream, a moment after its
 * answer reached the API: lines that arrive this long after the REPORT still join the log
 * (before END, where the function wrote them), unless the environment's next invoke began.
 */
const LATE_OUTPUT_MS = 50;

class InvokeLog {
  private start: string[] = [];
  private body: string[] = [];
  private done: string[] = [];
  private bytes = 0;
  add(line: string, part: 'start' | 'body' | 'done' = 'body'): void {
    this[part].push(line);
    this.bytes += line.length + 1;
    // Bounded: the oldest output goes first (Tail wants the end).
    while (this.bytes > LOG_KEEP_BYTES && this.body.length > 1) this.bytes -= this.body.shift()!.length + 1;
  }
  text(): string {
    return [...this.start, ...this.body, ...this.done].map((l) => l + '\n').join('');
  }
}

/** The function settings a swap may change: environments started after it get them. */
export interface PoolSettings {
  memoryMb: number;
  ephemeralMb: number;
  timeoutSec: number;
  env: Record<string, string>;
}

/** What a swap did: environments of the new image made ready ahead, old ones retired. */
export interface PoolSwap {
  /** Environments of the new image initialised before the swap (--prewarm), and their init times. */
  prewarmed: number[];
  /** Idle environments of the old image spun down at once. */
  retiredIdle: number;
  /** Old environments still running an invoke: each is spun down when its invoke is done. */
  retiringBusy: number;
}

export class SandboxPool {
  private idle: Sandbox[] = [];
  /** The image new environments start from; `swap` replaces it. */
  private facts: FunctionImage;
  /** Each environment's image generation: one older than the pool's is retired when it comes free. */
  private generation = 0;
  private generations = new WeakMap<Sandbox, number>();
  private all = new Set<Sandbox>();
  private starting = 0;
  /** Invokes waiting for an environment, oldest first; `background` ones are accepted Event invokes. */
  private waiters: Array<{ give: (s: Sandbox | undefined) => void; background: boolean; tenant: string }> = [];
  /**
   * The tenant each environment serves ('' for none): with tenant isolation Lambda never hands
   * an environment to another tenant's invoke, so the pool is keyed by tenant.
   */
  private tenants = new WeakMap<Sandbox, string>();
  private closed = false;
  /** Closed to new invokes, but accepted Event invokes still run (see drain). */
  private keepBackground = false;
  private reports = new Set<Promise<void>>();
  private stopping = new Set<Promise<void>>();
  private lastReport = new WeakMap<Sandbox, Promise<void>>();
  /** Containers the engine could not remove (it went away): close() reports them. */
  private leftBehind: string[] = [];
  private logs = new Map<string, InvokeLog>();
  private sandboxOpts: SandboxOptions;
  /** The settings each environment was started with (memory, timeout: its REPORT and its deadline). */
  private settingsOf = new WeakMap<Sandbox, PoolSettings>();
  /** Network namespaces made ahead, so a cold start does not wait for one (isolated environments only). */
  private readonly spares?: NetworkSpares;

  constructor(
    private readonly engine: Pick<Engine, 'desktop' | 'kind'>,
    private readonly containers: ContainerClient,
    facts: FunctionImage,
    private opts: SandboxOptions & {
      timeoutSec: number;
      /**
       * Make network namespaces ahead of cold starts (default true): for a server, which
       * waits for requests. A one-shot invoke starts its environment at once, and a namespace
       * made at its start costs one container less.
       */
      namespacesAhead?: boolean;
      /** Lambda's TenancyConfig PER_TENANT: every invoke must name its tenant (TenantIdRequiredError). */
      tenantIsolation?: boolean;
    },
    private readonly size: number,
    private readonly hooks: PoolHooks = {},
    /** Spares already being made (prepareFunction starts them while it inspects the image). */
    spares?: NetworkSpares,
  ) {
    this.facts = facts;
    this.sandboxOpts = this.withLogs(opts);
    if (opts.isolated && opts.namespacesAhead !== false) {
      this.spares =
        spares ?? new NetworkSpares(containers, planNetwork(engine, containers, true), facts.image, opts.session);
      this.spares.prepare();
    }
  }

  private withLogs(opts: SandboxOptions): SandboxOptions {
    return {
      ...opts,
      onOutput: (line, requestId) => {
        if (requestId) this.logs.get(requestId)?.add(line);
        opts.onOutput(line, requestId);
      },
    };
  }

  /** The settings new environments start with (the latest swapped in). */
  get settings(): PoolSettings {
    const { memoryMb, ephemeralMb, timeoutSec, env } = this.opts;
    return { memoryMb, ephemeralMb, timeoutSec, env };
  }

  /** Tenant isolation (PER_TENANT): an invoke without a tenant id is refused. */
  get tenantIsolation(): boolean {
    return this.opts.tenantIsolation === true;
  }

  /** How many environments may run at once (--concurrency). */
  get concurrency(): number {
    return this.size;
  }

  private emit(lines: string[], log?: InvokeLog, part: 'start' | 'done' = 'done'): void {
    for (const line of lines) {
      log?.add(line, part);
      this.hooks.onPlatformLine?.(line);
    }
  }

  /** One invoke on a free (or new) environment. `traceId` is the caller's X-Amzn-Trace-Id, if any. */
  async invoke(payload: Buffer, extra: InvokeExtra & { background?: boolean } = {}): Promise<PoolInvoke> {
    if (this.opts.tenantIsolation && !extra.tenantId) throw new TenantIdRequiredError(this.opts.identity.functionName);
    const { sandbox, cold } = await this.acquire(extra.background ?? false, extra.tenantId ?? '');
    if (cold) {
      const init = await sandbox.waitForInit().catch((err: unknown) => this.failed(sandbox, err));
      if (!init.ok) {
        this.release(sandbox);
        const log = new InvokeLog();
        const outcome: PoolInvoke = {
          requestId: '',
          traceId: '',
          log: Promise.resolve(''),
          result: { kind: 'error', errorType: init.errorType, body: init.body },
          durationMs: 0,
          timedOut: false,
          maxMemoryMb: Promise.resolve(undefined),
          cold,
          initError: { errorType: init.errorType, initMs: init.initMs },
        };
        this.emit(this.hooks.doneLines?.(outcome, undefined, this.settingsOf.get(sandbox) ?? this.settings) ?? [], log);
        outcome.log = Promise.resolve(log.text());
        return outcome;
      }
    }
    // The previous invoke's END and REPORT come before this one's START, as in the environment's log on Lambda.
    await this.lastReport.get(sandbox);
    // A function URL's request id is the invocation's: the front names it before the invoke.
    const requestId = extra.requestId || randomUUID();
    const log = new InvokeLog();
    this.logs.set(requestId, log);
    this.emit(this.hooks.startLines?.(requestId) ?? [], log, 'start');
    let reportedLog!: (text: string) => void;
    const logText = new Promise<string>((r) => (reportedLog = r));
    const settings = this.settingsOf.get(sandbox) ?? this.settings;
    const invokeBegan = Date.now();
    const answer = await sandbox.invoke(payload, settings.timeoutSec, { ...extra, requestId }).catch((err: unknown) => {
      this.logs.delete(requestId);
      return this.failed(sandbox, err);
    });
    const outcome: PoolInvoke = { ...answer, cold, log: logText };
    // Platform lines follow the answer once the memory reading is in; the caller does not wait.
    // Chained per environment, so its lines keep the order of its invokes.
    const previous = this.lastReport.get(sandbox) ?? Promise.resolve();
    const reported = Promise.all([outcome.maxMemoryMb, previous]).then(([mb]) => {
      // A last line without a newline ends with the invoke: before its END, not glued to the next one.
      sandbox.flushOutput(requestId);
      this.emit(this.hooks.doneLines?.(outcome, mb, settings) ?? [], log);
      setTimeout(() => {
        sandbox.flushOutput(requestId);
        this.logs.delete(requestId);
        reportedLog(log.text());
      }, LATE_OUTPUT_MS).unref();
    });
    this.lastReport.set(sandbox, reported);
    this.reports.add(reported);
    void reported.finally(() => this.reports.delete(reported));
    // A live environment serves the next invoke once its runtime asked for it (within what was
    // left of this invoke's time); one whose runtime exited instead is read before it is removed.
    const deadline = invokeBegan + settings.timeoutSec * 1000;
    void sandbox.readyForNext(Math.max(RUNTIME_NEXT_GRACE_MS, deadline - Date.now())).then((ready) => {
      if (ready) this.release(sandbox);
      else void reported.finally(() => this.release(sandbox));
    });
    return outcome;
  }

  private async acquire(background: boolean, tenant: string): Promise<{ sandbox: Sandbox; cold: boolean }> {
    if (this.closed && !(background && this.keepBackground)) throw new PoolClosedError();
    // An idle environment of this tenant; one whose runtime died between invokes is replaced, not handed out.
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const warm = this.idle[i]!;
      if (warm.alive && (this.tenants.get(warm) ?? '') !== tenant) continue;
      this.idle.splice(i, 1);
      if (warm.alive) return { sandbox: warm, cold: false };
      this.release(warm);
    }
    // All slots taken, some by idle environments of other tenants: the oldest idle one makes room.
    if (this.all.size + this.starting >= this.size && this.idle.length) this.retire(this.idle.shift()!);
    if (this.all.size + this.starting < this.size) {
      this.starting++;
      try {
        const holder = await this.spares?.take();
        // Another cold start may follow (a free slot): have its namespace ready too.
        if (this.all.size + this.starting < this.size) this.spares?.prepare();
        // The image as it is when this start begins: a swap meanwhile retires it after its invoke.
        const { facts, generation, settings } = this;
        const sandbox = await Sandbox.start(this.engine, this.containers, facts, this.sandboxOpts, holder);
        this.generations.set(sandbox, generation);
        this.settingsOf.set(sandbox, settings);
        this.tenants.set(sandbox, tenant);
        this.all.add(sandbox);
        return { sandbox, cold: true };
      } finally {
        this.starting--;
      }
    }
    const next = await new Promise<Sandbox | undefined>((give) => this.waiters.push({ give, background, tenant }));
    return next ? { sandbox: next, cold: false } : this.acquire(background, tenant);
  }

  /** The environment itself failed (the engine went away): it is stopped, the caller gets the error. */
  private failed(sandbox: Sandbox, err: unknown): never {
    this.release(sandbox);
    throw err;
  }

  private release(sandbox: Sandbox): void {
    // Already let go (close() stopped it while its runtime had not asked for the next event yet).
    if (!this.all.has(sandbox)) return;
    // Closed: environments stop as they come free, unless accepted Event invokes still wait for one.
    // An environment of an image swapped out is spun down once its invoke is done.
    if (!sandbox.alive || this.stale(sandbox) || (this.closed && !this.waiters.length)) {
      // A timed-out, crashed or failed environment is replaced by a cold one on demand.
      this.all.delete(sandbox);
      if (!this.closed) this.spares?.prepare(); // its replacement starts cold: the namespace can be ready
      const stopping = (sandbox.alive ? sandbox.stop('spindown') : sandbox.stop()).finally(() => {
        this.stopping.delete(stopping);
        this.leftBehind.push(...sandbox.leftBehind);
      });
      this.stopping.add(stopping);
      this.waiters.shift()?.give(undefined);
      return;
    }
    const tenant = this.tenants.get(sandbox) ?? '';
    const mine = this.waiters.findIndex((w) => w.tenant === tenant);
    if (mine >= 0) this.waiters.splice(mine, 1)[0]!.give(sandbox);
    // Only other tenants wait: this environment goes, so one of theirs can start in its slot.
    else if (this.waiters.length) this.retire(sandbox);
    else this.idle.push(sandbox);
  }

  /** Spins down a live idle environment to free its slot; the first waiter then tries again. */
  private retire(sandbox: Sandbox): void {
    this.all.delete(sandbox);
    const stopping = sandbox.stop('spindown').finally(() => {
      this.stopping.delete(stopping);
      this.leftBehind.push(...sandbox.leftBehind);
    });
    this.stopping.add(stopping);
    this.waiters.shift()?.give(undefined);
  }

  private stale(sandbox: Sandbox): boolean {
    return (this.generations.get(sandbox) ?? this.generation) < this.generation;
  }

  /** The image new environments start from (the latest swapped in). */
  get image(): FunctionImage {
    return this.facts;
  }

  /**
   * Moves the pool to a new image without dropping anything: new invokes get environments of
   * `facts`; idle environments of the old image get SHUTDOWN (spindown) and go at once; busy
   * ones finish their invoke, then go the same way. With `prewarm` (at most the pool's
   * size), that many environments of the new image are started and initialised first, as
   * provisioned concurrency is, so the first invokes after the swap are not cold starts; if
   * one fails its init, none is kept, the old image keeps serving, and the error is thrown.
   * With `settings` (a config edit under `start --watch`), the new environments also get the
   * new memory, storage, timeout and environment; the old ones finish with theirs.
   */
  async swap(facts: FunctionImage, opts: { prewarm?: number; settings?: PoolSettings } = {}): Promise<PoolSwap> {
    if (this.closed) throw new PoolClosedError();
    const next = opts.settings ? { ...this.opts, ...opts.settings } : this.opts;
    const ready = opts.prewarm
      ? await this.prewarm(facts, Math.min(this.size, Math.max(1, opts.prewarm)), this.withLogs(next))
      : [];
    if (this.closed) {
      await Promise.all(ready.map(({ sandbox }) => sandbox.stop('spindown')));
      throw new PoolClosedError();
    }
    this.opts = next;
    this.sandboxOpts = this.withLogs(next);
    this.facts = facts;
    this.generation++;
    const idle = this.idle.splice(0);
    const retiringBusy = [...this.all].filter((s) => !idle.includes(s)).length;
    for (const sandbox of idle) this.release(sandbox);
    for (const { sandbox } of ready) {
      this.generations.set(sandbox, this.generation);
      this.settingsOf.set(sandbox, this.settings);
      // Initialised ahead for no tenant: what provisioned concurrency serves is an untenanted invoke.
      this.tenants.set(sandbox, '');
      this.all.add(sandbox);
      this.release(sandbox);
    }
    return { prewarmed: ready.map((r) => r.initMs), retiredIdle: idle.length, retiringBusy };
  }

  /** Starts `count` environments of `facts` and waits for their init; all or none (see swap). */
  private async prewarm(
    facts: FunctionImage,
    count: number,
    base: SandboxOptions,
  ): Promise<Array<{ sandbox: Sandbox; initMs: number }>> {
    const opts: SandboxOptions = { ...base, initializationType: 'provisioned-concurrency' };
    const started = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const began = performance.now();
        const sandbox = await Sandbox.start(this.engine, this.containers, facts, opts);
        const init = await sandbox.waitForInit().catch((err: unknown) => ({ ok: false as const, err }));
        return { sandbox, init, initMs: performance.now() - began };
      }),
    );
    const made = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = started.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
    const initFailed = made.find((m) => !m.init.ok);
    if (!failed && !initFailed) return made.map(({ sandbox, initMs }) => ({ sandbox, initMs }));
    await Promise.all(made.map(({ sandbox }) => sandbox.stop(sandbox.alive ? 'spindown' : undefined)));
    for (const { sandbox } of made) this.leftBehind.push(...sandbox.leftBehind);
    if (failed) throw failed.reason;
    const init = initFailed!.init;
    if ('err' in init) throw init.err;
    if (init.ok) throw new Error('unreachable: a successful init counted as failed');
    throw new LambdaImageError(
      'FUNCTION_FAILED',
      `the new image failed its init (${init.errorType}): the old image keeps serving`,
      { details: [init.body.toString('utf8').slice(0, 2000)], hint: 'fix the init error and save again' },
    );
  }

  /** Resolves when what the next cold start can use ahead (a network namespace) is ready. */
  async prepared(): Promise<void> {
    await this.spares?.ready();
  }

  /** Stops every environment: SHUTDOWN to extensions first, then the containers go. */
  /** Resolves when every finished invoke's platform lines have been handed out. */
  async settled(): Promise<void> {
    await Promise.all(this.reports);
  }

  /**
   * Takes no more invokes: those waiting for an environment fail at once (PoolClosedError);
   * running ones finish. With `keepBackground`, accepted Event invokes keep their place and
   * still run (`start` stopping); a later drain() fails those still waiting too.
   */
  drain(opts: { keepBackground?: boolean } = {}): void {
    this.closed = true;
    this.keepBackground = opts.keepBackground ?? false;
    const failing = this.waiters.filter((w) => !(this.keepBackground && w.background));
    this.waiters = this.waiters.filter((w) => !failing.includes(w));
    for (const w of failing) w.give(undefined);
  }

  async close(): Promise<void> {
    await this.settled();
    this.drain();
    const all = [...this.all];
    this.all.clear();
    this.idle = [];
    await Promise.all([...all.map((s) => s.stop('spindown')), ...this.stopping, this.spares?.close()]);
    for (const s of all) this.leftBehind.push(...s.leftBehind);
    this.leftBehind.push(...(this.spares?.leftBehind ?? []));
    if (this.leftBehind.length) {
      const ids = this.leftBehind.splice(0).map((id) => id.slice(0, 12));
      throw new LambdaImageError(
        'ENGINE_UNREACHABLE',
        `the Docker engine could not remove ${ids.length === 1 ? 'container' : 'containers'} ${ids.join(', ')}`,
        {
          hint: `once the engine is back: docker rm -f ${ids.join(' ')}`,
        },
      );
    }
  }
}
