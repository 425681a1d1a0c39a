// `lambda-image invoke`, `start` and `events`: wiring and output only.
import {
  type FunctionOptions,
  invokeRepeatedly,
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
} from '../config/value-rules.js';
import { connectEngine } from '../docker/engine.js';
import { EXIT_CODES, LambdaImageError, withCleanupFailure } from '../errors.js';
import { checkedFlag, parsePairs, positiveInt, typedPath, wholeNumberFlag } from './args.js';

/** Each environment is a container; each invoke keeps its outcome for the summary. */
const MAX_CONCURRENCY = 64;
const MAX_REPEAT = 100_000;
import { eventExample, listEventExamples } from '../events/events.js';
import { formatTable } from './format.js';
import { MAX_PAYLOAD_BYTES } from '../emulator/limits.js';
import { readFileBytesCapped, readFileCapped, readStreamCapped } from '../util/read-capped.js';
import { buildHttpEvent, type HttpFront, parseHttpRequestLine } from '../serve/http-events.js';
import { frontFailure, mapFunctionAnswer } from '../serve/http-responses.js';
import { frontIdentity } from '../serve/http-front.js';
import type { PoolInvoke } from '../emulator/pool.js';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

import { createUi } from '../ui.js';
import { onInterrupt } from './interrupt.js';
import { printable, printableLines } from '../util/printable.js';

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

export interface InvokeCliOptions extends FunctionCliOptions {
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
  // The one plan; environments start at once here: each makes its own network namespace (one container less).
  const plan = await resolveFunctionSettings(functionOptions(dir, opts, { namespacesAhead: false }), 'invoke'); // bad input fails here, before any engine is asked
  const { concurrency } = plan;
  const front = opts.httpEvent ?? 'url';
  if (opts.http === undefined && (opts.header?.length || opts.httpEvent || opts.dataBinary !== undefined))
    throw new LambdaImageError('INVALID_INPUT', '-H/--header, --data-binary and --http-event go with --http', {
      hint: "for example --http 'GET /items' -H 'Accept: application/json'",
    });
  const payload =
    opts.http === undefined
      ? await readPayload(opts)
      : httpPayload(opts, await httpRequestBody(opts), front, plan.name, plan.region);
  const engine = await connectEngine();
  if (opts.rie) {
    const { invokeThroughRie } = await import('../app/invoke-rie.js');
    const out = await invokeThroughRie(engine, plan, payload, outputLine(opts.raw));
    writeResponse(out.body, opts.raw);
    if (out.status !== 200) throw functionFailed(`the emulator answered HTTP ${out.status}`);
    return;
  }
  const fn = await prepareFunction(engine, plan, stderrHooks(opts.raw));
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
  extra: { namespacesAhead?: boolean } = {},
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

/** `--http 'METHOD /path'` with -H and -d: the event the front builds for that request. */
function httpPayload(
  opts: InvokeCliOptions,
  body: Buffer | undefined,
  front: HttpFront,
  name: string,
  region?: string,
): Buffer {
  if (opts.event !== undefined || opts.eventExample !== undefined)
    throw new LambdaImageError(
      'INVALID_INPUT',
      '--http builds the event itself: leave out --event and --event-example',
      {
        hint: "give the request body with -d, e.g. --http 'POST /items' -d '{\"a\":1}'",
      },
    );
  let request: ReturnType<typeof parseHttpRequestLine>;
  try {
    request = parseHttpRequestLine(opts.http!, opts.header ?? [], body);
  } catch (err) {
    throw new LambdaImageError('INVALID_INPUT', `--http: ${(err as Error).message}`, {
      hint: "for example --http 'GET /items?limit=2' -H 'Accept: application/json'",
    });
  }
  const event = buildHttpEvent(
    front,
    {
      ...request,
      headers: [['Host', 'localhost'], ...request.headers.filter(([k]) => k.toLowerCase() !== 'host')],
      sourceIp: '127.0.0.1',
      protocol: 'HTTP/1.1',
      time: new Date(),
      requestId: randomUUID(),
    },
    frontIdentity({ name, region: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION }, front),
  );
  const payload = Buffer.from(JSON.stringify(event));
  if (payload.length > MAX_PAYLOAD_BYTES) throw tooLarge('the request as an event');
  return payload;
}

/**
 * The body of `--http` as curl sends it: `-d text` as given, `-d @file` the file with its line
 * breaks dropped, `--data-binary @file` the file byte for byte, `@-` stdin; at most the payload
 * limit. Exported for tests (`stdin` stands in for the process's).
 */
export async function httpRequestBody(
  opts: Pick<InvokeCliOptions, 'data' | 'dataBinary'>,
  stdin: AsyncIterable<Uint8Array | string> = process.stdin,
): Promise<Buffer | undefined> {
  if (opts.data !== undefined && opts.dataBinary !== undefined)
    throw new LambdaImageError('INVALID_INPUT', 'give one of -d/--data and --data-binary', {
      hint: 'both set the request body: --data-binary @file sends a file byte for byte',
    });
  const binary = opts.dataBinary !== undefined;
  const given = opts.dataBinary ?? opts.data;
  if (given === undefined) return undefined;
  if (!given.startsWith('@')) return Buffer.from(given);
  const flag = binary ? '--data-binary' : '-d';
  const source = given.slice(1);
  let bytes: Buffer | undefined;
  if (source === '-') {
    bytes = await readStreamCapped(stdin, MAX_PAYLOAD_BYTES);
    if (!bytes) throw tooLarge(`the ${flag} body on stdin`);
  } else {
    try {
      bytes = readFileBytesCapped(typedPath(source), MAX_PAYLOAD_BYTES);
    } catch {
      throw new LambdaImageError('INVALID_INPUT', `cannot read ${flag} file ${source}`, {
        hint: `name a readable file after the @, or ${flag} @- to read stdin`,
      });
    }
    if (!bytes) throw tooLarge(`${flag} file ${source}`);
  }
  // curl -d @file strips carriage returns and newlines; --data-binary keeps every byte.
  return binary ? bytes : Buffer.from(bytes.filter((b) => b !== 0x0d && b !== 0x0a));
}

/**
 * The status line and headers the front would answer with, for `invoke --http`: the same
 * verdict as `start --http-port` (a header that cannot be sent makes it the front's failure,
 * with why), every name and value escaped (they are the function's untrusted text).
 */
export function httpStatusLine(front: HttpFront, o: Pick<PoolInvoke, 'initError' | 'result'>): string {
  const a = o.initError || o.result.kind === 'error' ? frontFailure(front) : mapFunctionAnswer(front, o.result.body);
  return [
    ...(a.problem ? [`warning: ${printable(a.problem)}`] : []),
    `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ''}`.trimEnd(),
    ...a.headers.map(([k, v]) => `${printable(k)}: ${printable(v)}`),
  ].join('\n');
}

async function readPayload(opts: InvokeCliOptions): Promise<Buffer> {
  const given = [opts.event, opts.data, opts.eventExample].filter((x) => x !== undefined).length;
  if (given > 1)
    throw new LambdaImageError('INVALID_INPUT', 'give one of --event, --data and --event-example', {
      hint: 'they all set the payload',
    });
  let text: string;
  if (opts.eventExample) text = JSON.stringify(eventExample(opts.eventExample, opts.set ?? []));
  else if (opts.data !== undefined) text = opts.data;
  else if (opts.event === '-') text = await readStdin();
  else if (opts.event !== undefined) {
    let read: string | undefined;
    try {
      read = readFileCapped(typedPath(opts.event), MAX_PAYLOAD_BYTES);
    } catch {
      throw new LambdaImageError('INVALID_INPUT', `cannot read event file ${opts.event}`, {
        hint: 'pass a JSON file, or --event - to read stdin',
      });
    }
    if (read === undefined) throw tooLarge(`event file ${opts.event}`);
    text = read;
  } else text = '{}';
  try {
    JSON.parse(text);
  } catch (err) {
    throw new LambdaImageError('INVALID_INPUT', `the event is not valid JSON (${(err as Error).message})`, {
      hint: 'Lambda events are JSON documents',
    });
  }
  return Buffer.from(text);
}

async function readStdin(): Promise<string> {
  const body = await readStreamCapped(process.stdin, MAX_PAYLOAD_BYTES);
  if (!body) throw tooLarge('the event on stdin');
  return body.toString('utf8');
}

function tooLarge(what: string): LambdaImageError {
  return new LambdaImageError(
    'INVALID_INPUT',
    `${what} is larger than ${MAX_PAYLOAD_BYTES} bytes, the most Lambda accepts for a synchronous invoke`,
    {
      hint: 'send a smaller event (large data belongs in S3, with its key in the event)',
    },
  );
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
