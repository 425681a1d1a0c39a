// `lambda-image start`: flags → planStart → startSession → print. Ctrl-C / SIGTERM are a
// normal stop: drain, then stop the environments; a second one stops at once.
import { loadProjectState } from '../app/invoke.js';
import type { LocalFunction } from '../app/invoke.js';
import { type Session, startSession } from '../app/start.js';
import { planStart, type StartFlags, type StartPlan } from '../app/start-plan.js';
import { type CompileMode, type InvokeMode, PORT_RULE } from '../app/inputs.js';
import { connectEngine } from '../docker/engine.js';
import { EXIT_CODES, LambdaImageError, withCleanupFailure } from '../errors.js';
import type { VariantName } from '../app/inputs.js';
import { createUi } from '../ui.js';
import { wholeNumberFlag } from './args.js';
import { type BuildGroupCliOptions, buildOptionsFrom, givenBuildFlag } from './build-options.js';
import { type FunctionCliOptions, functionOptions } from './invoke.js';
import { onInterrupt } from './interrupt.js';
import { watchPrinter } from './watch-lines.js';
import { printable } from '../util/printable.js';
import { isIP } from 'node:net';

type HttpFront = 'url' | 'http-api' | 'rest-api';

const FRONT_NAMES: Record<HttpFront, string> = {
  url: 'function URL',
  'http-api': 'API Gateway HTTP API',
  'rest-api': 'API Gateway REST API',
};

export interface StartCliOptions extends FunctionCliOptions, BuildGroupCliOptions {
  port?: string;
  host?: string;
  /** `--http-port <port>` or `<function>=<port>` (repeatable). */
  httpPort?: string[];
  httpEvent?: HttpFront;
  invokeMode?: InvokeMode;
  watch?: boolean;
  prewarm?: boolean;
  json?: boolean;
  variant?: string;
  compile?: CompileMode;
}

/** start's flags, each checked as the config key it overrides is (planStart adds the project). */
function startFlags(dir: string, opts: StartCliOptions): StartFlags {
  const port = wholeNumberFlag(opts.port ?? '9000', '--port', PORT_RULE, 9000);
  const host = opts.host ?? '127.0.0.1';
  if (!isIP(host) && host !== 'localhost')
    throw new LambdaImageError('INVALID_INPUT', `--host ${host} is not an IP address`, {
      hint: 'for example --host 0.0.0.0 (every interface) or --host 127.0.0.1',
    });
  const watchOnly = [
    ...(opts.prewarm !== undefined ? ['--prewarm'] : []),
    ...(opts.json !== undefined ? ['--json'] : []),
    ...(opts.variant !== undefined ? ['--variant'] : []),
    ...(opts.compile !== undefined ? ['--compile'] : []),
    ...(givenBuildFlag(opts) ? [givenBuildFlag(opts)!] : []),
  ];
  if (!opts.watch && watchOnly.length)
    throw new LambdaImageError('INVALID_INPUT', `${watchOnly[0]} goes with --watch`, {
      hint: `add --watch (start --watch ${watchOnly[0]} ...), or leave ${watchOnly[0]} out`,
    });
  return {
    function: functionOptions(dir, opts),
    port,
    host,
    httpPorts: opts.httpPort ?? [],
    httpEvent: opts.httpEvent,
    invokeMode: opts.invokeMode,
    ...(opts.watch
      ? {
          watch: {
            // commander checked --variant against the variant names.
            build: { ...(opts.variant ? { variants: [opts.variant as VariantName] } : {}), ...buildOptionsFrom(opts) },
            prewarm: opts.prewarm ?? false,
            json: opts.json ?? false,
            builder: opts.builder,
            compile: opts.compile ?? 'builder',
          },
        }
      : {}),
  };
}

export async function runStart(dir: string, opts: StartCliOptions): Promise<void> {
  const ui = createUi();
  const flags = startFlags(dir, opts);
  if (flags.watch && flags.function.image !== undefined)
    throw new LambdaImageError('INVALID_INPUT', '--watch rebuilds the project: it cannot serve --image', {
      hint: 'run start --watch in the project folder (or give its path), without --image',
    });
  // Under --watch the first build makes the images; their record is read again after it.
  const plan = planStart(flags, await loadProjectState(flags.function)); // bad input fails here, before any engine is asked
  const engine = await connectEngine(plan.watch ? { builder: plan.watch.builder } : {});
  const emit = watchPrinter(plan.watch?.json ?? false);
  const width = Math.max(...plan.functions.map((p) => p.name.length));
  // Ctrl-C during the first build stops it (its packed context removed) and ends start: exit 130.
  const starting = new AbortController();
  const offStarting = onInterrupt(() => starting.abort());
  let session: Session;
  try {
    session = await startSession(
      plan,
      engine,
      {
        linesFor: (name) => {
          const prefix = plan.functions.length > 1 ? `${name.padEnd(width)} | ` : '';
          // A function's output reaches the terminal escaped (no screen clearing, clipboard writes, forged REPORT lines) unless --raw.
          return (line) => process.stderr.write(`${prefix}${opts.raw ? line : printable(line)}\n`);
        },
        onEvent: emit,
        onNote: (line) => ui.warn(line),
      },
      { signal: starting.signal },
    );
  } catch (err) {
    if (!starting.signal.aborted) throw err;
    throw new LambdaImageError('INTERRUPTED', 'interrupted: the first build was stopped, nothing is served', {
      hint: 'start again (what was cached stays cached)',
      cause: err,
    });
  } finally {
    offStarting();
  }
  let failure: unknown;
  try {
    // With --json, stdout carries the watch's events only.
    announce(plan.watch?.json ? { ...ui, out: ui.info } : ui, session.functions(), plan, session);
    let stop!: () => void;
    const signalled = new Promise<undefined>((resolve) => (stop = () => resolve(undefined)));
    // A second Ctrl-C while draining stops at once, naming the accepted Event invokes it drops.
    const off = onInterrupt(stop, () => {
      const dropped = session.front.eventsPending();
      if (dropped) ui.warn(`${eventsNotRunText(dropped)} (stopped at once)`);
      void session.closePools().finally(() => process.exit(EXIT_CODES.INTERRUPTED));
    });
    try {
      await session.watch();
      if (plan.watch) ui.info('watching the project: a change rebuilds it and swaps the environments to the new image');
      const lost = await Promise.race([signalled, session.lost]);
      // A build in progress is stopped first (the engine cancels it; nothing is tagged).
      await session.stopWatching();
      const events = session.front.eventsPending();
      ui.info(
        lost
          ? 'the Docker engine went away: answering the requests in progress, then stopping'
          : events
            ? `stopping: answering the requests in progress and running the ${events} accepted Event invoke${events === 1 ? '' : 's'} first (Ctrl-C again stops at once)`
            : 'stopping: answering the requests in progress first',
      );
      const { eventsNotRun } = await session.front.close();
      if (eventsNotRun) ui.warn(eventsNotRunText(eventsNotRun));
      if (lost) failure = lost;
    } finally {
      off();
    }
  } catch (err) {
    failure = err;
  }
  try {
    await session.closePools();
  } catch (err) {
    failure = withCleanupFailure(failure, err);
  }
  if (failure !== undefined) throw failure;
}

/** What `start` serves and where, and how to call it. A one-function start says what it always said. */
function announce(
  ui: ReturnType<typeof createUi>,
  fns: readonly LocalFunction[],
  plan: StartPlan,
  session: Session,
): void {
  const { front } = session;
  const host = plan.invokeApi.host;
  const shown = host.includes(':') ? `[${host}]` : host;
  const base = `http://${shown}:${front.port}`;
  const as = (name: string) => {
    const s = plan.functions.find((f) => f.name === name)!.http!;
    return `as a ${FRONT_NAMES[s.front]}${s.front === 'url' ? ` (${s.invokeMode})` : ''}`;
  };
  if (fns.length === 1) {
    const fn = fns[0]!;
    ui.out(`serving ${fn.name} (${fn.facts.image}) on ${base}`);
    for (const h of front.httpPorts) ui.out(`serving ${fn.name} ${as(fn.name)} on http://${shown}:${h.port}`);
    ui.info(`  curl -d '{}' ${base}/2015-03-31/functions/function/invocations`);
    ui.info(`  aws lambda invoke --endpoint-url ${base} --function-name ${fn.name} out.json`);
    if (front.httpPort !== undefined) ui.info(`  curl -i 'http://${shown}:${front.httpPort}/any/path?x=1'`);
  } else {
    ui.out(`serving ${fns.length} functions on ${base}, each at /2015-03-31/functions/<name>/invocations:`);
    for (const fn of fns) ui.out(`  ${fn.name} (${fn.facts.image})`);
    for (const h of front.httpPorts)
      for (const name of h.functions)
        ui.out(
          `serving ${name} ${as(name)} on http://${shown}:${h.port}${h.prefixed ? `/${name}/ (the prefix is not part of rawPath)` : ''}`,
        );
    const first = fns[0]!.name;
    ui.info(`  curl -d '{}' ${base}/2015-03-31/functions/${first}/invocations`);
    ui.info(`  aws lambda invoke --endpoint-url ${base} --function-name ${first} out.json`);
    const h = front.httpPorts[0];
    if (h) ui.info(`  curl -i 'http://${shown}:${h.port}${h.prefixed ? `/${h.functions[0]}` : ''}/any/path?x=1'`);
  }
  ui.info('Ctrl-C stops it (extensions get SHUTDOWN first).');
}

function eventsNotRunText(n: number): string {
  return `${n} accepted Event invoke${n === 1 ? ' was' : 's were'} not run`;
}
