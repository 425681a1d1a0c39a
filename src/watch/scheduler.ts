// When `start --watch` builds (pure): changes are gathered for a quiet moment (debounce), one
// build runs at a time, and a change during a build aborts it and starts again with every
// change not yet in a finished build (last change wins). The driver (src/app/watch.ts) owns
// the timer and the build; this decides what to do next.

export type SchedulerAction =
  /** (Re)start the quiet-moment timer; call timerFired() when it ends. */
  | { kind: 'arm'; ms: number }
  /** Abort the build in progress; call buildEnded('aborted') when it has stopped. */
  | { kind: 'abort' }
  /** Start a build of the current files; `files` are the changes it takes in. */
  | { kind: 'build'; files: string[] };

export type BuildEnd = 'done' | 'failed' | 'aborted';

export class RebuildScheduler {
  /** Changes no build has taken in yet. */
  private pending = new Set<string>();
  /** Changes the build in progress took in (back to pending if it is aborted). */
  private inBuild: string[] = [];
  private building = false;
  private aborting = false;
  private timerArmed = false;
  private stopped = false;

  constructor(private readonly quietMs: number) {}

  /** Files changed (project-relative, already filtered by what triggers a rebuild). */
  changed(files: Iterable<string>): SchedulerAction[] {
    if (this.stopped) return [];
    let any = false;
    for (const f of files) {
      this.pending.add(f);
      any = true;
    }
    if (!any) return [];
    const actions: SchedulerAction[] = [];
    if (this.building && !this.aborting) {
      this.aborting = true;
      actions.push({ kind: 'abort' });
    }
    this.timerArmed = true;
    actions.push({ kind: 'arm', ms: this.quietMs });
    return actions;
  }

  timerFired(): SchedulerAction[] {
    this.timerArmed = false;
    return this.next();
  }

  buildEnded(end: BuildEnd): SchedulerAction[] {
    if (end === 'aborted') for (const f of this.inBuild) this.pending.add(f);
    this.inBuild = [];
    this.building = false;
    this.aborting = false;
    // Still inside a quiet moment: the timer starts the next build.
    return this.timerArmed ? [] : this.next();
  }

  /** No more builds; the one in progress, if any, is to be aborted. */
  stop(): SchedulerAction[] {
    this.stopped = true;
    if (!this.building || this.aborting) return [];
    this.aborting = true;
    return [{ kind: 'abort' }];
  }

  get busy(): boolean {
    return this.building;
  }

  private next(): SchedulerAction[] {
    if (this.stopped || this.building || !this.pending.size) return [];
    this.inBuild = [...this.pending].sort();
    this.pending.clear();
    this.building = true;
    return [{ kind: 'build', files: this.inBuild }];
  }
}
