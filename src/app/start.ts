// `start` as one session: from its plan (start-plan.ts) it owns the pools of every function,
// the servers (src/serve/), the watcher of --watch and the one shutdown (drain, then the
// accepted Event invokes). A rebuild calls `update` for each function, which applies its new
// image and/or its new settings, and adds or removes a function.
import { performance } from 'node:perf_hooks';
import { containerClient } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { inspectFunctionImage } from '../emulator/function-image.js';
import { LambdaImageError } from '../errors.js';
import { type FrontServer, startFront } from '../serve/invoke-api.js';
import type { BuildResult } from './build.js';
import {
  type LocalFunction,
  loadProjectState,
  type PlatformHooks,
  prepareFunction,
  prepareFunctions,
} from './invoke.js';
import { type FunctionPlan, planStart, type StartPlan, settingsChanged } from './start-plan.js';
import { buildForWatch, type WatchEvent, watchProject, type WatchSession } from './watch.js';

export interface SessionHooks {
  /** Platform lines and the function's output, per function. */
  linesFor(name: string): (line: string) => void;
  /** The watch's events (rebuilds, swaps, settings, functions added or removed). */
  onEvent(event: WatchEvent): void;
  /** Why an HTTP front answered with its failure response. */
  onNote(line: string): void;
}

/** One function served: its pool and the plan it runs by now. */
interface Served {
  fn: LocalFunction;
  plan: FunctionPlan;
  /** The image ID it serves (under --watch: what the last build made). */
  id?: string;
}

export interface Session {
  front: FrontServer;
  /** The functions served now, in plan order. */
  functions(): LocalFunction[];
  /** Resolves when the engine went away (start cannot go on). */
  lost: Promise<Error>;
  /** Starts the watch (--watch): emits `ready` with --json. */
  watch(): Promise<void>;
  /** Applies one function's new plan (and image, when rebuilt): see the module comment. */
  update(
    name: string,
    plan: FunctionPlan | undefined,
    built?: { image: string; id: string },
    files?: string[],
    buildMs?: number,
  ): Promise<WatchEvent>;
  /** Stops the watch; a build in progress is aborted. */
  stopWatching(): Promise<void>;
  /** Stops every environment (each pool on its own); throws the first failure. */
  closePools(): Promise<void>;
}

/** The first build of --watch (the project as it is now), aborted by `signal` (its packed context removed). */
async function firstBuild(
  engine: Engine,
  plan: StartPlan,
  hooks: SessionHooks,
  signal?: AbortSignal,
): Promise<BuildResult> {
  const began = performance.now();
  hooks.onEvent({ type: 'rebuild-start', files: [], functions: [] });
  const result = await buildForWatch(engine, plan.dir, plan.watch!.build, {
    signal,
    onWarning: (message) => hooks.onEvent({ type: 'warning', message }),
  });
  hooks.onEvent({
    type: 'rebuild-done',
    files: [],
    functions: [...new Set(result.images.map((i) => i.function))],
    ms: Math.round(performance.now() - began),
    images: result.images.map((i) => ({ function: i.function, image: i.tag, id: i.id, changed: i.changed })),
  });
  return result;
}

/** The plan's function a built image is (one-function projects build under the project's name). */
function builtFor(plan: StartPlan, fn: string): FunctionPlan | undefined {
  return plan.functions.find((f) => (f.config?.functions ? f.name === fn : true));
}

export async function startSession(
  first: StartPlan,
  engine: Engine,
  hooks: SessionHooks,
  opts: { signal?: AbortSignal } = {},
): Promise<Session> {
  let plan = first;
  let engineLost!: (err: Error) => void;
  const lost = new Promise<Error>((resolve) => (engineLost = resolve));
  const platform = (name: string): PlatformHooks => {
    const write = hooks.linesFor(name);
    return { onPlatformLine: write, onOutput: write, onEngineLost: engineLost };
  };
  // --watch serves the project as it is now: built first (a failing build ends here, exit 12).
  const ids = new Map<string, string>();
  let serving: Record<string, string> = {};
  if (plan.watch) {
    const result = await firstBuild(engine, plan, hooks, opts.signal);
    serving = Object.fromEntries(result.images.map((i) => [i.function, i.id]));
    // Planned again: the build recorded its images, which the functions now run.
    plan = planStart(plan.flags, await loadProjectState(plan.flags.function));
    for (const i of result.images) {
      const p = builtFor(plan, i.function);
      if (p) ids.set(p.name, i.id);
    }
  }
  const served = new Map<string, Served>();
  const fns = await prepareFunctions(engine, plan.functions, (p) => platform(p.name));
  for (const [i, p] of plan.functions.entries()) served.set(p.name, { fn: fns[i]!, plan: p, id: ids.get(p.name) });
  const frontFunctions = () => [...served.values()].map(({ fn, plan: p }) => ({ ...fn, http: p.http }));
  let front: FrontServer;
  const { host, port } = plan.invokeApi;
  try {
    front = await startFront(frontFunctions(), port, {
      onFatal: engineLost,
      host,
      http: plan.httpPorts,
      onNote: hooks.onNote,
    });
  } catch (err) {
    await Promise.allSettled(fns.map((fn) => fn.pool.close()));
    const ports = plan.httpPorts.map((l) => l.port).join(', ');
    throw new LambdaImageError(
      'INVALID_INPUT',
      `cannot listen on ${host}:${port}${ports ? ` and ${ports}` : ''} (${(err as NodeJS.ErrnoException).code})`,
      { hint: ports ? 'pick other --port / --http-port values' : 'pick another --port' },
    );
  }
  const containers = containerClient(engine.docker);
  const prewarm = () => (plan.watch?.prewarm ? Math.max(...[...served.values()].map((s) => s.fn.pool.concurrency)) : 0);
  const retiring = new Set<Promise<void>>();
  let watching: WatchSession | undefined;

  const session: Session = {
    front,
    functions: () => [...served.values()].map((s) => s.fn),
    lost,
    async update(name, next, built, files = [], buildMs = 0) {
      const live = served.get(name);
      if (!next) {
        // Left out of `functions`: no longer routed; its invokes in progress finish, then it stops.
        if (!live) return { type: 'warning', message: `${name} is not served` };
        served.delete(name);
        front.setFunctions(frontFunctions());
        live.fn.pool.drain({ keepBackground: true });
        const closing = live.fn.pool.close().catch(() => undefined);
        retiring.add(closing);
        void closing.finally(() => retiring.delete(closing));
        return { type: 'function-removed', function: name, files };
      }
      const image = built?.id ?? next.image;
      if (!live) {
        const fn = await prepareFunction(engine, { ...next, image }, platform(name));
        served.set(name, { fn, plan: next, id: built?.id });
        front.setFunctions(frontFunctions());
        return {
          type: 'function-added',
          function: name,
          files,
          buildMs,
          image: built?.image ?? next.image,
          id: built?.id ?? fn.facts.image,
        };
      }
      const settings = settingsChanged(live.plan, next);
      const newImage = built !== undefined && built.id !== live.id;
      // Memory, storage, timeout and environment are the environment's own: new environments take them.
      const poolSettings = settings.some((s) => !s.startsWith('url.'));
      if (!newImage && !settings.length)
        return {
          type: 'unchanged',
          function: name,
          files,
          buildMs,
          image: built?.image ?? next.image,
          id: live.id ?? '',
        };
      live.plan = next;
      if (!newImage && !poolSettings) {
        // Only the HTTP front's part (CORS, invoke mode): the next request has it, nothing restarts.
        front.setFunctions(frontFunctions());
        return { type: 'settings', function: name, files, settings };
      }
      // The new image by ID: a later build moving the tag never changes what this pool runs.
      // Its extensions come from the config and the base image only: unless the config
      // changed, they are those of the image served now (listing them costs a container).
      const facts = newImage
        ? await inspectFunctionImage(containers, built.id, {
            extensions: files.includes('lambda-image.json') ? undefined : live.fn.pool.image.extensions,
          })
        : live.fn.pool.image;
      const swapped = await live.fn.pool.swap(facts, {
        prewarm: prewarm(),
        settings: {
          memoryMb: next.memoryMb,
          ephemeralMb: next.ephemeralMb,
          timeoutSec: next.timeoutSec,
          env: next.env,
        },
      });
      if (built) live.id = built.id;
      live.fn = { ...live.fn, facts, timeoutSec: next.timeoutSec, memoryMb: next.memoryMb };
      front.setFunctions(frontFunctions());
      return {
        type: 'swap',
        function: name,
        files,
        buildMs,
        image: built?.image ?? next.image,
        id: built?.id ?? live.id ?? facts.image,
        ...(settings.length ? { settings } : {}),
        prewarmedInitMs: swapped.prewarmed.map(Math.round),
        retiredIdle: swapped.retiredIdle,
        retiringBusy: swapped.retiringBusy,
      };
    },
    async watch() {
      if (!plan.watch) return;
      watching = await watchProject(engine, {
        dir: plan.dir,
        build: plan.watch.build,
        compile: plan.watch.compile,
        serving,
        onEvent: hooks.onEvent,
        session: {
          replan: async () => (plan = planStart(plan.flags, await loadProjectState(plan.flags.function))),
          served: () => [...served.keys()],
          update: (name, next, built, files, buildMs) => session.update(name, next, built, files, buildMs),
        },
      });
      if (plan.watch.json) hooks.onEvent({ type: 'ready', port: front.port, httpPort: front.httpPort });
    },
    async stopWatching() {
      await watching?.stop();
    },
    async closePools() {
      let failure: unknown;
      // Every function's environments stop (extensions get SHUTDOWN), each pool on its own.
      const closed = await Promise.allSettled([...[...served.values()].map((s) => s.fn.pool.close()), ...retiring]);
      for (const c of closed) if (c.status === 'rejected' && failure === undefined) failure = c.reason;
      if (failure !== undefined) throw failure;
    },
  };
  return session;
}
