// The lifecycle of one execution environment as ONE state value: live, doomed (it will not take
// another invoke), crashed (its runtime or container exited on its own), engine lost, or
// stopping. Each event moves it on; what shutdown does and what REPORT may still measure are
// read from the state, never from a set of flags that could disagree. Pure.

/** Why an environment shuts down, as Lambda names it in the SHUTDOWN event. */
export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

export type LifecycleState =
  /** Init or invokes going on; the environment may be reused. */
  | { phase: 'live' }
  /** Its runtime still runs, but it takes no further invoke (a timeout, a failed init). */
  | { phase: 'doomed'; cause: 'timeout' | 'failure' }
  /** The runtime (and perhaps its whole container) exited by itself. */
  | { phase: 'crashed'; cause: 'timeout' | 'failure'; runtimeExit: number; containerExited: boolean }
  /** The engine went away: nothing about the container is known any more. */
  | { phase: 'engine-lost' }
  /** Shutdown began (with the reason the extensions are told). */
  | { phase: 'stopping'; reason: ShutdownReason; runtimeExited: boolean; containerExited: boolean };

export interface StopPlan {
  reason: ShutdownReason;
  /** The container may still run something: the shutdown sequence applies. */
  containerRunning: boolean;
  /** The runtime process still runs: it gets SIGTERM. */
  runtimeRunning: boolean;
}

export class Lifecycle {
  private current: LifecycleState = { phase: 'live' };

  get state(): LifecycleState {
    return this.current;
  }

  /** Takes invokes. */
  get alive(): boolean {
    return this.current.phase === 'live';
  }

  /** The processes are gone: the container's measurements stopped with them. */
  get processesGone(): boolean {
    const s = this.current;
    if (s.phase === 'crashed') return true;
    if (s.phase === 'stopping') return s.runtimeExited || s.containerExited;
    return false;
  }

  /** Why the environment would shut down now if nobody says otherwise. */
  get cause(): ShutdownReason | undefined {
    const s = this.current;
    return s.phase === 'doomed' || s.phase === 'crashed' ? s.cause : undefined;
  }

  /** The environment will take no further invoke (its runtime still runs). */
  doom(cause: 'timeout' | 'failure'): void {
    if (this.current.phase === 'live') this.current = { phase: 'doomed', cause };
  }

  /**
   * The runtime exited (the init shell said so) or the whole container did (the engine said
   * so). True when this fails what is in flight (init, the invoke): not during a shutdown.
   */
  exited(code: number, what: 'runtime' | 'container'): boolean {
    const s = this.current;
    if (s.phase === 'stopping') {
      this.current = {
        ...s,
        runtimeExited: true,
        containerExited: s.containerExited || what === 'container',
      };
      return false;
    }
    if (s.phase === 'engine-lost') return true;
    this.current = {
      phase: 'crashed',
      cause: s.phase === 'live' ? 'failure' : s.cause,
      runtimeExit: s.phase === 'crashed' ? s.runtimeExit : code,
      containerExited: what === 'container' || (s.phase === 'crashed' && s.containerExited),
    };
    return true;
  }

  /** The engine's wait for the container broke. */
  engineLost(): void {
    if (this.current.phase !== 'stopping') this.current = { phase: 'engine-lost' };
  }

  /**
   * Shutdown begins. The environment's own cause (a crash, a timeout) wins over the reason the
   * caller asks for: a runtime that crashed between invokes is shut down with `failure` even
   * when the run simply ends, as Lambda tells its extensions.
   */
  beginStop(requested?: ShutdownReason): StopPlan {
    const s = this.current;
    const reason = this.cause ?? requested ?? 'spindown';
    const containerExited = (s.phase === 'crashed' || s.phase === 'stopping') && s.containerExited;
    const runtimeExited = s.phase === 'crashed' || (s.phase === 'stopping' && s.runtimeExited);
    this.current = { phase: 'stopping', reason, runtimeExited, containerExited };
    return { reason, containerRunning: !containerExited, runtimeRunning: !runtimeExited };
  }
}
