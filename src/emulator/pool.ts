// Warm execution environments behind a queue: up to `size` sandboxes, one invoke at a time
// each, a new (cold) one when none is free and the limit allows, replacements after a
// timeout or crash. Serves `invoke --repeat/--concurrency` and `start`.
import { randomUUID } from 'node:crypto';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { type ImageFacts, type InvokeOutcome, Sandbox, type SandboxOptions } from './sandbox.js';

export interface PoolInvoke extends InvokeOutcome {
  cold: boolean;
  /** Set when init failed: no invoke reached the function. */
  initError?: { errorType: string; initMs: number };
}

export interface PoolHooks {
  onStart?(requestId: string): void;
  /** After the invoke, with its memory reading done (`await outcome.maxMemoryMb` is immediate). */
  onDone?(outcome: PoolInvoke, maxMemoryMb?: number): void;
}

export class SandboxPool {
  private idle: Sandbox[] = [];
  private all = new Set<Sandbox>();
  private starting = 0;
  private waiters: Array<(s: Sandbox | undefined) => void> = [];
  private closed = false;
  private reports = new Set<Promise<void>>();
  private stopping = new Set<Promise<void>>();
  private lastReport = new WeakMap<Sandbox, Promise<void>>();

  constructor(
    private readonly engine: Engine,
    private readonly facts: ImageFacts,
    private readonly opts: SandboxOptions & { timeoutSec: number },
    private readonly size: number,
    private readonly hooks: PoolHooks = {},
  ) {}

  async invoke(payload: Buffer, extra: { clientContext?: string } = {}): Promise<PoolInvoke> {
    const { sandbox, cold } = await this.acquire();
    if (cold) {
      const init = await sandbox.waitForInit();
      if (!init.ok) {
        this.release(sandbox);
        const outcome: PoolInvoke = {
          requestId: '',
          result: { kind: 'error', errorType: init.errorType, body: init.body },
          durationMs: 0,
          timedOut: false,
          maxMemoryMb: Promise.resolve(undefined),
          cold,
          initError: { errorType: init.errorType, initMs: init.initMs },
        };
        this.hooks.onDone?.(outcome);
        return outcome;
      }
    }
    const requestId = randomUUID();
    this.hooks.onStart?.(requestId);
    const outcome: PoolInvoke = { ...(await sandbox.invoke(payload, this.opts.timeoutSec, { ...extra, requestId })), cold };
    // Platform lines follow the answer once the memory reading is in; the caller does not wait.
    // Chained per environment, so its lines keep the order of its invokes.
    const previous = this.lastReport.get(sandbox) ?? Promise.resolve();
    const reported = Promise.all([outcome.maxMemoryMb, previous]).then(([mb]) => this.hooks.onDone?.(outcome, mb));
    this.lastReport.set(sandbox, reported);
    this.reports.add(reported);
    void reported.finally(() => this.reports.delete(reported));
    // A dead environment is read before it is removed; a live one serves the next invoke at once.
    if (sandbox.alive) this.release(sandbox);
    else void reported.finally(() => this.release(sandbox));
    return outcome;
  }

  private async acquire(): Promise<{ sandbox: Sandbox; cold: boolean }> {
    if (this.closed) throw new LambdaImageError('CONTAINER_FAILED', 'the function was stopped before this invoke could run', { hint: 'start it again' });
    // An idle environment whose runtime died between invokes is replaced, not handed out.
    for (let warm = this.idle.pop(); warm; warm = this.idle.pop()) {
      if (warm.alive) return { sandbox: warm, cold: false };
      this.release(warm);
    }
    if (this.all.size + this.starting < this.size) {
      this.starting++;
      try {
        const sandbox = await Sandbox.start(this.engine, this.facts, this.opts);
        this.all.add(sandbox);
        return { sandbox, cold: true };
      } finally {
        this.starting--;
      }
    }
    const next = await new Promise<Sandbox | undefined>((resolve) => this.waiters.push(resolve));
    return next ? { sandbox: next, cold: false } : this.acquire();
  }

  private release(sandbox: Sandbox): void {
    if (!sandbox.alive || this.closed) {
      // A timed-out, crashed or failed environment is replaced by a cold one on demand.
      this.all.delete(sandbox);
      const stopping = sandbox.stop(sandbox.alive ? 'SPINDOWN' : 'FAILURE').finally(() => this.stopping.delete(stopping));
      this.stopping.add(stopping);
      this.waiters.shift()?.(undefined);
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(sandbox);
    else this.idle.push(sandbox);
  }

  /** Stops every environment: SHUTDOWN to extensions first, then the containers go. */
  /** Resolves when every finished invoke's platform lines have been handed out. */
  async settled(): Promise<void> {
    await Promise.all(this.reports);
  }

  async close(): Promise<void> {
    await this.settled();
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
    const all = [...this.all];
    this.all.clear();
    this.idle = [];
    await Promise.all([...all.map((s) => s.stop('SPINDOWN')), ...this.stopping]);
  }
}
