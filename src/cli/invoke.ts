// `lambda-image invoke`, `start` and `events`: wiring and output only.
import {
  type FunctionOptions,
  invokeRepeatedly,
  logLevelNote,
  prepareFunction,
  resolveFunctionSettings,
  type LocalFunction,
} from '../app/invoke.js';
import {
  EPHEMERAL_STORAGE_RULE,
  functionNameProblem,
  MEMORY_RULE,
  regionProblem,
  setOwn,
  TIMEOUT_RULE,
} from '../app/inputs.js';
import {
  eventExample,
  type HttpFront,
  httpStatusLine,
  invokePayload,
  listEventExamples,
} from '../app/invoke-payload.js';
import { connectEngine } from '../docker/engine.js';
import { planBuild } from '../app/build.js';
import {
  attachFacts,
  buildDebugImage,
  type DebugAttachFacts,
  debugJson,
  debugPortFlag,
  golandSettings,
  vscodeLaunch,
} from '../app/debug-launch.js';
import { type BuildGroupCliOptions, buildOptionsFrom, givenBuildFlag } from './build-options.js';
import { EXIT_CODES, LambdaImageError, withCleanupFailure } from '../errors.js';
import { checkedFlag, parsePairs, positiveInt, typedPath, wholeNumberFlag } from './args.js';
import { formatTable } from './format.js';
import { createUi } from '../ui.js';
import { onInterrupt } from './interrupt.js';
import { printable, printableLines } from '../util/printable.js';
import { readFileCapped } from '../util/read-capped.js';

export { httpRequestBody, httpStatusLine } from '../app/invoke-payload.js';

/** Each environment is a container; each invoke keeps its outcome for the summary. */
const MAX_CONCURRENCY = 64;
const MAX_REPEAT = 100_000;

export interface FunctionCliOptions {
  image?: string;
  /** `--raw`: the function's output printed byte for byte, control characters not escaped. */
  raw?: boolean;
  /** `--function <name>` (repeatable): the project's functions to run. */
  function?: string[];
  functionName?: string;
  timeout?: string;
  memory?: string;
  ephemeralStorage?: string;
  region?: string;
  env?: string[];
  envFile?: string;
  concurrency?: string;
}

export interface InvokeCliOptions extends FunctionCliOptions, BuildGroupCliOptions {
  debug?: string | boolean;
  debugWait?: boolean;
  delveFrom?: string;
  json?: boolean;
  event?: string;
  data?: string;
  dataBinary?: string;
  http?: string;
  header?: string[];
  httpEvent?: HttpFront;
  eventExample?: string;
  set?: string[];
  repeat?: string;
  tenantId?: string;
  rie?: boolean;
}

export async function runInvoke(dir: string, opts: InvokeCliOptions): Promise<void> {
  const repeat = positiveInt(opts.repeat ?? '1', '--repeat', MAX_REPEAT);
  const debugPort = debugPortFlag(opts.debug);
  const debugOnly =
    (
      [
        ['debugWait', '--debug-wait'],
        ['delveFrom', '--delve-from'],
        ['json', '--json'],
      ] as const
    ).find(([k]) => opts[k] !== undefined)?.[1] ?? givenBuildFlag(opts);
  if (debugPort === undefined && debugOnly)
    throw new LambdaImageError('INVALID_INPUT', `${debugOnly} goes with --debug`, {
      hint: 'lambda-image invoke --debug builds the debug variant and runs it under delve',
    });
  if (debugPort !== undefined && (opts.image !== undefined || opts.rie))
    throw new LambdaImageError(
      'INVALID_INPUT',
      "--debug builds the project's debug variant: leave out --image and --rie",
      {
        hint: 'run it in the project folder',
      },
    );
  const debug = debugPort !== undefined ? { port: debugPort, wait: opts.debugWait === true } : undefined;
  // The one plan; environments start at once here: each makes its own network namespace (one container less).
  const plan = await resolveFunctionSettings(functionOptions(dir, opts, { namespacesAhead: false, debug }), 'invoke'); // bad input fails here, before any engine is asked
  const debugBuild = debug
    ? await planBuild(dir, {
        ...buildOptionsFrom(opts),
        functions: opts.function,
        debug: { delveFrom: opts.delveFrom },
      })
    : undefined;
  const { concurrency } = plan;
  const front = opts.httpEvent ?? 'url';
  const payload = await invokePayload(opts, opts.httpEvent, { name: plan.name, region: plan.region });
  const engine = await connectEngine();
  if (opts.rie) {
    const { invokeThroughRie } = await import('../app/invoke-rie.js');
    const out = await invokeThroughRie(engine, plan, payload, outputLine(opts.raw));
    writeResponse(out.body, opts.raw);
    if (out.status !== 200) throw functionFailed(`the emulator answered HTTP ${out.status}`);
    return;
  }
  if (debugBuild) {
    process.stderr.write('building the debug variant (no optimisations, symbols, delve)...\n');
    plan.image = await buildDebugImage(engine, debugBuild, {
      onWarning: (w) => process.stderr.write(`warning: ${printable(w)}\n`),
    });
  }
  const fn = await prepareFunction(engine, plan, stderrHooks(opts.raw));
  if (debugBuild && fn.debugPort !== undefined) printAttach(attachFacts(debugBuild, fn.debugPort), opts);
  await withCleanup(fn, async () => {
    const result = await invokeRepeatedly(fn, payload, repeat, concurrency, opts.tenantId);
    await fn.pool.settled(); // every REPORT line before the summary
    for (const o of result.outcomes) {
      // What the front would answer, on stderr; the function's own answer stays on stdout.
      if (opts.http !== undefined) process.stderr.write(`${httpStatusLine(front, o)}\n`);
      writeResponse(o.result.body, opts.raw);
    }
    if (repeat > 1) {
      const row = (label: string, s?: { count: number; p50: number; p95: number; max: number }) =>
        s
          ? [label, String(s.count), s.p50.toFixed(2), s.p95.toFixed(2), s.max.toFixed(2)]
          : [label, '0', '-', '-', '-'];
      process.stderr.write(
        '\n' +
          formatTable(
            ['INVOKES (ms)', 'COUNT', 'P50', 'P95', 'MAX'],
            [row('cold (init + duration)', result.cold), row('warm', result.warm)],
            new Set([1, 2, 3, 4]),
          ) +
          '\n',
      );
    }
    const note = logLevelNote(plan, await Promise.all(result.outcomes.map((o) => o.log)));
    if (note) process.stderr.write(`lambda-image: ${note}\n`);
    const failed = result.outcomes.filter((o) => o.result.kind === 'error').length;
    if (failed) throw functionFailed(`${failed} of ${result.outcomes.length} invokes failed`);
  });
}

export async function runEvents(name: string | undefined, opts: { set?: string[]; json?: boolean }): Promise<void> {
  const ui = createUi();
  if (!name) {
    ui.out(
      formatTable(
        ['NAME', 'DESCRIPTION'],
        listEventExamples().map((e) => [e.name, e.description]),
      ),
    );
    return;
  }
  ui.out(JSON.stringify(eventExample(name, opts.set ?? []), null, 2));
}

/** Where a client attaches: JSON on stdout with --json (before any response), else settings on stderr. */
function printAttach(facts: DebugAttachFacts, opts: InvokeCliOptions): void {
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(debugJson(facts))}\n`);
    return;
  }
  const lines = [
    `delve listens on 127.0.0.1:${facts.port} (dlv connect 127.0.0.1:${facts.port})${opts.debugWait ? '; the function waits for a client before its init' : ''}`,
    'VS Code launch.json configuration:',
    JSON.stringify(vscodeLaunch(facts), null, 2),
    ...golandSettings(facts),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

/**
 * A response as the runtime sent it, byte for byte (never decoded as text), then a newline
 * between responses. On a terminal (without --raw) its control characters are shown as escapes:
 * a function cannot clear the screen, set the clipboard (OSC 52) or forge a line.
 */
function writeResponse(body: Buffer, raw = false): void {
  const shown = raw || !process.stdout.isTTY ? body : Buffer.from(printableLines(body.toString('utf8')));
  process.stdout.write(Buffer.concat([shown, Buffer.from('\n')]));
}

/** A line of the function's output (or a platform line) on stderr: control characters escaped unless --raw. */
export function outputLine(raw = false): (line: string) => void {
  return (line) => process.stderr.write(`${raw ? line : printable(line)}\n`);
}

function stderrHooks(raw = false) {
  const write = outputLine(raw);
  return {
    onPlatformLine: write,
    onOutput: write,
  };
}

/** The function's own failure (error, timeout, crash): its payload is already on stdout. */
function functionFailed(what: string): LambdaImageError {
  return new LambdaImageError('FUNCTION_FAILED', `the function failed: ${what} (the error payload is on stdout)`, {
    hint: "see the function's output and the REPORT lines on stderr",
  });
}

/**
 * Runs the work, and on any way out (done, error, Ctrl-C) stops every environment; Ctrl-C is
 * handled here unless the work handles signals itself (`start` drains first).
 */
async function withCleanup(
  functions: LocalFunction | readonly LocalFunction[],
  work: () => Promise<void>,
  opts: { signals: boolean } = { signals: true },
): Promise<void> {
  const fns: readonly LocalFunction[] = Array.isArray(functions) ? functions : [functions as LocalFunction];
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    void Promise.allSettled(
      fns.map((fn) =>
        fn.pool.close().catch((err: Error) => process.stderr.write(`error: ${printable(err.message)}\n`)),
      ),
    ).finally(() => process.exit(EXIT_CODES.INTERRUPTED));
  };
  const off = opts.signals ? onInterrupt(onSignal) : () => undefined;
  let failure: unknown;
  try {
    await work();
  } catch (err) {
    failure = err;
  } finally {
    off();
  }
  if (!interrupted) {
    // Every function's environments stop (extensions get SHUTDOWN), each pool on its own.
    for (const closed of await Promise.allSettled(fns.map((fn) => fn.pool.close()))) {
      if (closed.status === 'fulfilled') continue;
      // Containers the engine could not remove: the first failure stays the message, the rest is detail.
      const cleanup: unknown = closed.reason;
      failure = withCleanupFailure(failure, cleanup);
    }
  }
  if (failure !== undefined) throw failure;
}

/** The flags of `invoke` and `start`, each checked by the rule of the config key it overrides (the app adds the config and defaults). */
export function functionOptions(
  dir: string,
  opts: FunctionCliOptions,
  extra: { namespacesAhead?: boolean; debug?: FunctionOptions['debug'] } = {},
): FunctionOptions {
  const number = (value: string | undefined, flag: string, rule: typeof TIMEOUT_RULE, example: number) =>
    value === undefined ? undefined : wholeNumberFlag(value, flag, rule, example);
  return {
    dir,
    image: opts.image,
    functions: opts.function,
    functionName: checkedFlag(opts.functionName, '--function-name', functionNameProblem, 'orders-api'),
    timeoutSec: number(opts.timeout, '--timeout', TIMEOUT_RULE, 30),
    memoryMb: number(opts.memory, '--memory', MEMORY_RULE, 512),
    ephemeralMb: number(opts.ephemeralStorage, '--ephemeral-storage', EPHEMERAL_STORAGE_RULE, 1024),
    region: checkedFlag(opts.region, '--region', regionProblem, 'eu-west-1'),
    ...environment(opts),
    concurrency: positiveInt(opts.concurrency ?? '1', '--concurrency', MAX_CONCURRENCY),
    ...extra,
  };
}

/** --env over --env-file, and where each key came from (an error names the flag that set it). */
function environment(opts: FunctionCliOptions): { env: Record<string, string>; envFrom: Record<string, string> } {
  const fromFile = readEnvFile(opts.envFile);
  const fromFlags = parsePairs(opts.env ?? [], '--env');
  const envFrom: Record<string, string> = {};
  for (const key of Object.keys(fromFile)) setOwn(envFrom, key, `--env-file ${opts.envFile}`);
  for (const key of Object.keys(fromFlags)) setOwn(envFrom, key, '--env');
  return { env: { ...fromFile, ...fromFlags }, envFrom };
}

/** More than enough for any environment (Lambda allows 4 KB of variables in all). */
const MAX_ENV_FILE_BYTES = 1024 * 1024;

function readEnvFile(file?: string): Record<string, string> {
  if (!file) return {};
  let text: string;
  try {
    const read = readFileCapped(typedPath(file), MAX_ENV_FILE_BYTES);
    if (read === undefined)
      throw new LambdaImageError('INVALID_INPUT', `env file ${file} is larger than ${MAX_ENV_FILE_BYTES} bytes`, {
        hint: 'pass a file of KEY=value lines',
      });
    text = read;
  } catch (err) {
    if (err instanceof LambdaImageError) throw err;
    throw new LambdaImageError('INVALID_INPUT', `cannot read env file ${file}`, {
      hint: 'pass a file of KEY=value lines',
    });
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return parsePairs(
    lines.map((l) => l.replace(/^export\s+/, '')),
    '--env-file line',
  );
}
