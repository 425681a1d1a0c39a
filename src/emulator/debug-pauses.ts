// When is the function held by the debugger? Read from delve's JSON-RPC traffic (one JSON
// message a line, as Go's jsonrpc codec writes them): a Command request that resumes
// (continue, next, step, stepOut, ...) means running; the reply to it, or a halt, means paused.
// Paused time is summed so the invoke's timeout counts running time only. Pure (clock passed in).

const RESUMING = new Set(['continue', 'next', 'step', 'stepOut', 'stepInstruction', 'reverseNext', 'rewind']);

export class DebugPauses {
  private pausedSince?: number;
  private total = 0;
  private readonly resumeIds = new Set<unknown>();

  /** `waiting`: the process starts stopped (--debug-wait), so the time until the first continue is paused. */
  constructor(
    private readonly now: () => number,
    waiting: boolean,
  ) {
    if (waiting) this.pausedSince = now();
  }

  get paused(): boolean {
    return this.pausedSince !== undefined;
  }

  /** Paused milliseconds so far (the current pause included). */
  pausedMs(): number {
    return this.total + (this.pausedSince !== undefined ? this.now() - this.pausedSince : 0);
  }

  /** One message from the client to delve. */
  fromClient(line: string): void {
    const msg = parse(line);
    if (msg?.method !== 'RPCServer.Command') return;
    const name = (msg.params as Array<{ name?: string }> | undefined)?.[0]?.name;
    if (name && RESUMING.has(name)) {
      this.resumeIds.add(msg.id);
      this.resume();
    } else if (name === 'halt') this.pause();
  }

  /** One message from delve to the client: the reply to a resuming command comes when the process stops again. */
  fromDelve(line: string): void {
    const msg = parse(line);
    if (!msg || !this.resumeIds.delete(msg.id)) return;
    const state = (msg.result as { State?: { exited?: boolean } } | undefined)?.State;
    if (!state?.exited) this.pause();
  }

  private pause(): void {
    this.pausedSince ??= this.now();
  }

  private resume(): void {
    if (this.pausedSince === undefined) return;
    this.total += this.now() - this.pausedSince;
    this.pausedSince = undefined;
  }
}

function parse(line: string): { method?: string; params?: unknown; id?: unknown; result?: unknown } | undefined {
  try {
    const v = JSON.parse(line) as unknown;
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves once `ms` of running (not paused) time have passed since the call: the invoke's
 * timeout under a debugger. Checks every `stepMs`; `cancel()` stops it (the invoke answered).
 */
export function runningTimeout(
  pauses: Pick<DebugPauses, 'pausedMs'>,
  ms: number,
  stepMs = 50,
): { done: Promise<'timeout'>; cancel(): void } {
  const start = Date.now();
  const pausedAtStart = pauses.pausedMs();
  let timer: NodeJS.Timeout | undefined;
  const done = new Promise<'timeout'>((resolve) => {
    const check = () => {
      const running = Date.now() - start - (pauses.pausedMs() - pausedAtStart);
      if (running >= ms) resolve('timeout');
      else timer = setTimeout(check, Math.min(stepMs, ms - running));
    };
    check();
  });
  return { done, cancel: () => clearTimeout(timer) };
}
