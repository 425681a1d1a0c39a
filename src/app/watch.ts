// `start --watch`: watch the project, rebuild the variant being served when what it is built
// from changes, and swap the running pool over to the new image while the old one keeps
// serving. One build at a time; a change during a build aborts it and builds again.
import { performance } from 'node:perf_hooks';
import { CONFIG_FILE } from '../config/constants.js';
import { projectFunctions } from '../config/functions.js';
import { loadConfig } from '../config/store.js';
import { BuildAbortedError } from '../docker/builds.js';
import { mayReinclude } from '../docker/build-context.js';
import { readDockerignore, type IgnoreRules } from '../docker/dockerignore.js';
import type { Engine } from '../docker/engine.js';
import { isLambdaImageError, LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { RebuildScheduler, type SchedulerAction } from '../watch/scheduler.js';
import { functionsToRebuild, neverWatchedDir, triggersRebuild } from '../watch/triggers.js';
import { ProjectWatcher } from '../watch/watcher.js';
import { buildProject, planBuild, type BuildOptions, type BuildResult } from './build.js';
import { startDevLoop, type CompileMode } from './dev-loop.js';
import type { FunctionPlan, StartPlan } from './start-plan.js';

/** What `start --watch` reports, one event each (the CLI prints a line, or JSON with --json). */
export type WatchEvent =
  | { type: 'rebuild-start'; files: string[]; functions: string[] }
  | {
      type: 'rebuild-done';
      files: string[];
      functions: string[];
      ms: number;
      /** Each image built: its function, tag, ID, and whether the ID differs from the previous build's. */
      images: Array<{ function: string; image: string; id: string; changed: boolean }>;
    }
  /** The rebuild made the image already served: no swap, no cold start. */
  | { type: 'unchanged'; function: string; files: string[]; buildMs: number; image: string; id: string }
  /** A config edit changed only the function's HTTP front settings (url.cors, url.invokeMode): in force for the next request, nothing restarted. */
  | { type: 'settings'; function: string; files: string[]; settings: string[] }
  /** A function added to `functions` is built and served (on the Invoke API, and on an HTTP port serving every function). */
  | { type: 'function-added'; function: string; files: string[]; buildMs: number; image: string; id: string }
  /** A function taken out of `functions` is no longer served; its invokes in progress finish. */
  | { type: 'function-removed'; function: string; files: string[] }
  | {
      type: 'swap';
      function: string;
      /** The settings a config edit changed (memorySize, timeout, environment, url.cors...): new environments have them. */
      settings?: string[];
      /** The changes built in, and the build's time. */
      files: string[];
      buildMs: number;
      image: string;
      id: string;
      /** Init time of each environment of the new image made ready first (--prewarm). */
      prewarmedInitMs: number[];
      retiredIdle: number;
      retiringBusy: number;
    }
  | {
      type: 'rebuild-failed';
      files: string[];
      functions: string[];
      ms: number;
      error: string;
      /** The failing build step and its last lines, when a build step failed. */
      step?: string;
      lines: string[];
      hint?: string;
    }
  /** A newer change stopped this build; another follows. */
  | { type: 'rebuild-aborted'; files: string[]; ms: number }
  | { type: 'warning'; message: string }
  /** `start` serves (JSON only: tools wait for it). */
  | { type: 'ready'; port: number; httpPort?: number };

/** The image name of a tag (`name:tag`, a registry port kept). */
export function imageNameOf(tag: string): string {
  const colon = tag.lastIndexOf(':');
  return colon > tag.lastIndexOf('/') ? tag.slice(0, colon) : tag;
}

/** What the watch needs of `start`'s session (src/app/start.ts). */
export interface WatchedSession {
  /** Plans `start` again from the config as it is now (bad config: the rebuild fails, the old plan serves). */
  replan(): Promise<StartPlan>;
  /** The functions served now, by name. */
  served(): string[];
  /** Applies a function's new plan and/or image (undefined plan: it was removed); the event says what it did. */
  update(
    name: string,
    plan: FunctionPlan | undefined,
    built: { image: string; id: string } | undefined,
    files: string[],
    buildMs: number,
  ): Promise<WatchEvent>;
}

export interface WatchOptions {
  dir: string;
  /** How each rebuild is built (the variant served, its tag, base/builder images...): as `build` takes it. */
  build: BuildOptions;
  session: WatchedSession;
  /** Quiet time after the last change before a build starts. */
  quietMs?: number;
  /** How a Go edit is compiled (src/app/dev-loop.ts): default the long-lived builder. */
  compile?: CompileMode;
  /** The image ID each built function serves now (the first build's), by the build's function name. */
  serving?: Record<string, string>;
  onEvent(event: WatchEvent): void;
}

export interface WatchSession {
  /** Stops watching; a build in progress is aborted (nothing tagged); resolves when it has stopped. */
  stop(): Promise<void>;
}

/** Builds once, as the watch will (the served image is the project as it is now). */
export async function buildForWatch(
  engine: Engine,
  dir: string,
  build: BuildOptions,
  hooks: { onWarning?(message: string): void; signal?: AbortSignal } = {},
): Promise<BuildResult> {
  const plan = await planBuild(dir, build);
  return buildProject(engine, plan, hooks);
}

const log = debug('watch');

export async function watchProject(engine: Engine, opts: WatchOptions): Promise<WatchSession> {
  const { dir, onEvent } = opts;
  const scheduler = new RebuildScheduler(opts.quietMs ?? 150);
  let rules: IgnoreRules = await readDockerignore(dir);
  let timer: NodeJS.Timeout | undefined;
  let current: { abort: AbortController; done: Promise<void> } | undefined;
  const dev = await startDevLoop(engine, {
    dir,
    build: opts.build,
    compile: opts.compile ?? 'builder',
    serving: opts.serving ?? {},
  });

  const act = (actions: SchedulerAction[]) => {
    for (const a of actions) {
      if (a.kind === 'arm') {
        clearTimeout(timer);
        timer = setTimeout(() => act(scheduler.timerFired()), a.ms);
      } else if (a.kind === 'abort') current?.abort.abort();
      else {
        const abort = new AbortController();
        const done = rebuild(a.files, abort.signal).then((end) => act(scheduler.buildEnded(end)));
        current = { abort, done };
      }
    }
  };

  async function rebuild(files: string[], signal: AbortSignal): Promise<'done' | 'failed' | 'aborted'> {
    const began = performance.now();
    const ms = () => Math.round(performance.now() - began);
    let functions: string[] = [];
    try {
      // The config is read again each time (an edit to it is what triggered this build), and
      // `start` planned again from it: settings, functions added or removed.
      const config = await loadConfig(dir);
      const next = await opts.session.replan();
      const served = opts.session.served();
      const planned = new Map(next.functions.map((f) => [f.name, f]));
      // A one-function project whose name (its image) was changed: this start cannot tell
      // which function it became, so it says so rather than go quiet.
      const lost = served.filter((name) => !planned.has(name));
      if (lost.length && !config.functions)
        throw new LambdaImageError(
          'CONFIG_INVALID',
          `${CONFIG_FILE} no longer names the image this start serves (${lost.join(', ')}): the last good build keeps serving`,
          { hint: 'restart lambda-image start --watch to serve the renamed function, or undo the rename' },
        );
      for (const name of lost) onEvent(await opts.session.update(name, undefined, undefined, files, 0));
      const added = [...planned.keys()].filter((name) => !served.includes(name));
      const all = projectFunctions(config);
      // A project of several rebuilds only the functions served here that the change concerns.
      const concerned = config.functions ? functionsToRebuild(all, files) : all.map((f) => f.name);
      functions = [...new Set([...concerned.filter((f) => planned.has(f) && served.includes(f)), ...added])];
      if (!config.functions) functions = [...planned.keys()];
      if (!functions.length) {
        log(`${files.join(', ')}: no function served here changes`);
        return 'done';
      }
      onEvent({ type: 'rebuild-start', files, functions });
      const result = await dev.rebuild(
        files,
        signal,
        () =>
          buildForWatch(
            engine,
            dir,
            { ...opts.build, ...(config.functions ? { functions } : {}) },
            { signal, onWarning: (message) => onEvent({ type: 'warning', message }) },
          ),
        config.functions ? functions : undefined,
      );
      const buildMs = ms();
      const images = result.images.map((i) => ({ function: i.function, image: i.tag, id: i.id, changed: i.changed }));
      onEvent({ type: 'rebuild-done', files, functions, ms: buildMs, images });
      // Stopped once built (a newer change, Ctrl-C): the newer build, or nothing, is swapped in.
      if (signal.aborted) throw new BuildAbortedError();
      for (const built of images) {
        // One function's project builds under its config name; a project of several by function.
        const fnPlan = config.functions ? planned.get(built.function) : next.functions[0];
        if (!fnPlan) continue;
        onEvent(await opts.session.update(fnPlan.name, fnPlan, built, files, buildMs));
      }
      log(`swapped at ${ms()} ms`);
      return 'done';
    } catch (err) {
      if (err instanceof BuildAbortedError || signal.aborted) {
        onEvent({ type: 'rebuild-aborted', files, ms: ms() });
        return 'aborted';
      }
      onEvent(failureEvent(err, files, functions, ms()));
      return 'failed';
    }
  }

  const watcher = new ProjectWatcher(dir, {
    skipsDir: (rel) => neverWatchedDir(rel) || (rules.ignores(rel) && !mayReinclude(rules, rel)),
    onChange: (rel) => {
      if (rel === '.dockerignore')
        void readDockerignore(dir).then(
          (r) => (rules = r),
          () => undefined,
        );
      if (triggersRebuild(rel, rules.ignores)) act(scheduler.changed([rel]));
    },
    onWarning: (message) => onEvent({ type: 'warning', message }),
  });
  await watcher.start();

  return {
    async stop() {
      watcher.close();
      clearTimeout(timer);
      act(scheduler.stop());
      await current?.done;
      await dev.stop();
    },
  };
}

function failureEvent(err: unknown, files: string[], functions: string[], ms: number): WatchEvent {
  if (!isLambdaImageError(err))
    return { type: 'rebuild-failed', files, functions, ms, error: (err as Error)?.message ?? String(err), lines: [] };
  const step = err.code === 'BUILD_FAILED' ? /^build failed at (.*)$/.exec(err.message)?.[1] : undefined;
  return {
    type: 'rebuild-failed',
    files,
    functions,
    ms,
    error: err.message,
    ...(step ? { step } : {}),
    lines: err.details ?? [],
    hint: err.hint,
  };
}
