// `lambda-image invoke`, `start` and `events`: wiring and output only.
import {
  type FunctionOptions,
  invokeRepeatedly,
  prepareFunction,
  prepareFunctions,
  resolveFunctionSettings,
  resolveStartSettings,
  type FunctionSettings,
  type LocalFunction,
} from '../app/invoke.js';
import type { Engine } from '../docker/engine.js';
import type { HttpListen } from '../serve/invoke-api.js';
import {
  EPHEMERAL_STORAGE_RULE,
  functionNameProblem,
  MEMORY_RULE,
  PORT_RULE,
  regionProblem,
  setOwn,
  TIMEOUT_RULE,
} from '../config/value-rules.js';
import { connectEngine } from '../docker/engine.js';
import { EXIT_CODES, LambdaImageError } from '../errors.js';
import { checkedFlag, parsePairs, positiveInt, typedPath, wholeNumberFlag } from './args.js';

/** Each environment is a container; each invoke keeps its outcome for the summary. */
const MAX_CONCURRENCY = 64;
const MAX_REPEAT = 100_000;
import { eventExample, listEventExamples } from '../events/events.js';
import { formatTable } from './format.js';
import { MAX_PAYLOAD_BYTES } from '../emulator/limits.js';
import { readFileBytesCapped, readFileCapped, readStreamCapped } from '../util/read-capped.js';
import { isIP } from 'node:net';
import type { InvokeMode } from '../config/constants.js';
import { buildHttpEvent, type HttpFront, parseHttpRequestLine } from '../serve/http-events.js';
import { frontFailure, mapFunctionAnswer } from '../serve/http-responses.js';
import { frontIdentity, type HttpFrontSettings } from '../serve/http-front.js';
import type { FrontServer } from '../serve/invoke-api.js';
import type { PoolInvoke } from '../emulator/pool.js';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

const FRONT_NAMES: Record<HttpFront, string> = {
  url: 'function URL',
  'http-api': 'API Gateway HTTP API',
  'rest-api': 'API Gateway REST API',
};
import { createUi } from '../ui.js';
import type { WatchCliOptions } from './watch.js';
import { printable } from '../util/printable.js';

interface FunctionCliOptions {
  image?: string;
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
    const out = await invokeThroughRie(engine, plan, payload, (line: string) => process.stderr.write(line + '\n'));
    writeResponse(out.body);
    if (out.status !== 200) throw functionFailed(`the emulator answered HTTP ${out.status}`);
    return;
  }
  const fn = await prepareFunction(engine, plan, stderrHooks());
  await withCleanup(fn, async () => {
    const result = await invokeRepeatedly(fn, payload, repeat, concurrency, opts.tenantId);
    await fn.pool.settled(); // every REPORT line before the summary
    for (const o of result.outcomes) {
      // What the front would answer, on stderr; the function's own answer stays on stdout.
      if (opts.http !== undefined) process.stderr.write(`${httpStatusLine(front, o)}\n`);
      writeResponse(o.result.body);
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

export interface StartCliOptions extends FunctionCliOptions, Omit<WatchCliOptions, 'image'> {
  port?: string;
  host?: string;
  /** `--http-port <port>` or `<function>=<port>` (repeatable). */
  httpPort?: string[];
  httpEvent?: HttpFront;
  invokeMode?: InvokeMode;
}

const portNumber = (value: string, flag: string) => wholeNumberFlag(value, flag, PORT_RULE, 9000);

export async function runStart(dir: string, opts: StartCliOptions): Promise<void> {
  const ui = createUi();
  const port = portNumber(opts.port ?? '9000', '--port');
  const host = opts.host ?? '127.0.0.1';
  if (!isIP(host) && host !== 'localhost')
    throw new LambdaImageError('INVALID_INPUT', `--host ${host} is not an IP address`, {
      hint: 'for example --host 0.0.0.0 (every interface) or --host 127.0.0.1',
    });
  const httpPorts = parseHttpPorts(opts.httpPort ?? [], port);
  if (!httpPorts.length && (opts.invokeMode || (opts.httpEvent !== undefined && opts.httpEvent !== 'url')))
    throw new LambdaImageError('INVALID_INPUT', '--http-event and --invoke-mode need --http-port', {
      hint: 'for example --http-port 8080',
    });
  let plans = await resolveStartSettings(functionOptions(dir, opts)); // bad input fails here, before any engine is asked
  const http = httpFronts(plans, httpPorts, opts);
  const watch = await import('./watch.js');
  const watching = watch.watchPlan(opts);
  const engine = await connectEngine(watching ? { builder: watching.builder } : {});
  // --watch serves the project as it is now: built first (a failing build ends here, exit 12).
  const first = watching ? await watch.buildBeforeServing(engine, dir, watching) : undefined;
  if (first) plans = plans.map((p) => ({ ...p, image: first.imageOf(p.config?.name) ?? p.image }));
  // The engine going away ends `start` (reported, non-zero), whichever way it is noticed.
  let engineLost!: (err: Error) => void;
  const lost = new Promise<Error>((resolve) => (engineLost = resolve));
  const fns = await startFunctions(engine, plans, engineLost);
  const { startFront } = await import('../serve/invoke-api.js');
  // Ctrl-C / SIGTERM are a normal stop here: drain, then stop the environments (withCleanup).
  await withCleanup(
    fns,
    async () => {
      let front: Awaited<ReturnType<typeof startFront>>;
      try {
        front = await startFront(
          fns.map((fn, i) => ({ ...fn, http: http.settings[i] })),
          port,
          { onFatal: engineLost, host, http: http.listens, onNote: (line) => ui.warn(line) },
        );
      } catch (err) {
        const ports = http.listens.map((l) => l.port).join(', ');
        throw new LambdaImageError(
          'INVALID_INPUT',
          `cannot listen on ${host}:${port}${ports ? ` and ${ports}` : ''} (${(err as NodeJS.ErrnoException).code})`,
          { hint: ports ? 'pick other --port / --http-port values' : 'pick another --port' },
        );
      }
      // With --json, stdout carries the watch's events only.
      announce(watching?.json ? { ...ui, out: ui.info } : ui, fns, http.settings, host, front);
      const session = watching ? await watch.startWatching(engine, dir, watching, fns, plans, first!) : undefined;
      if (watching) {
        ui.info('watching the project: a change rebuilds it and swaps the environments to the new image');
        if (watching.json) first!.emit({ type: 'ready', port: front.port, httpPort: front.httpPort });
      }
      let onSignal!: () => void;
      const signalled = new Promise<undefined>((resolve) => (onSignal = () => resolve(undefined)));
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const failure = await Promise.race([signalled, lost]);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A build in progress is stopped first (the engine cancels it; nothing is tagged).
      await session?.stop();
      // A second Ctrl-C while draining stops at once, naming the accepted Event invokes it drops.
      const force = () => {
        const dropped = front.eventsPending();
        if (dropped) ui.warn(`${eventsNotRunText(dropped)} (stopped at once)`);
        void Promise.allSettled(fns.map((fn) => fn.pool.close())).finally(() => process.exit(EXIT_CODES.INTERRUPTED));
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      const events = front.eventsPending();
      ui.info(
        failure
          ? 'the Docker engine went away: answering the requests in progress, then stopping'
          : events
            ? `stopping: answering the requests in progress and running the ${events} accepted Event invoke${events === 1 ? '' : 's'} first (Ctrl-C again stops at once)`
            : 'stopping: answering the requests in progress first',
      );
      const { eventsNotRun } = await front.close();
      if (eventsNotRun) ui.warn(eventsNotRunText(eventsNotRun));
      if (failure) throw failure;
    },
    { signals: false },
  );
}

/**
 * The environments of every function `start` serves, each with its own pool and settings; with
 * several, each line on the terminal starts with the name of the function it is from.
 */
async function startFunctions(
  engine: Engine,
  plans: readonly FunctionSettings[],
  onEngineLost: (err: Error) => void,
): Promise<LocalFunction[]> {
  const width = Math.max(...plans.map((p) => p.name.length));
  return prepareFunctions(engine, plans, (plan) => {
    const prefix = plans.length > 1 ? `${plan.name.padEnd(width)} | ` : '';
    const write = (line: string) => process.stderr.write(`${prefix}${line}\n`);
    return { onPlatformLine: write, onOutput: write, onEngineLost };
  });
}

/** `--http-port` values: `<port>` (every function served, by `/<name>` prefix when several) or `<function>=<port>`. */
interface HttpPortFlag {
  port: number;
  function?: string;
  flag: string;
}

function parseHttpPorts(values: readonly string[], apiPort: number): HttpPortFlag[] {
  const out: HttpPortFlag[] = [];
  for (const value of values) {
    const eq = value.indexOf('=');
    const name = eq < 0 ? undefined : value.slice(0, eq);
    const flag = `--http-port ${value}`;
    if (name === '')
      throw new LambdaImageError('INVALID_INPUT', `${flag}: no function before the =`, {
        hint: 'give --http-port <port> (every function) or --http-port <function>=<port>',
      });
    const port = portNumber(eq < 0 ? value : value.slice(eq + 1), '--http-port');
    if (port !== 0 && port === apiPort)
      throw new LambdaImageError('INVALID_INPUT', `--http-port ${port} is also the --port`, {
        hint: 'give the HTTP front a port of its own',
      });
    const taken = out.find((o) => port !== 0 && o.port === port);
    if (taken)
      throw new LambdaImageError('INVALID_INPUT', `${flag} and ${taken.flag} ask for the same port`, {
        hint: 'give each HTTP front a port of its own; one port serves several functions by /<name> prefix',
      });
    if (name === undefined && out.some((o) => o.function === undefined))
      throw new LambdaImageError('INVALID_INPUT', `${flag}: give one port for every function`, {
        hint: 'one --http-port <port> serves every function (under /<name> when there are several); others name theirs: --http-port orders=8081',
      });
    if (name !== undefined && out.some((o) => o.function === name))
      throw new LambdaImageError('INVALID_INPUT', `${flag}: ${name} has a port already`, {
        hint: 'give each function one --http-port <function>=<port>',
      });
    out.push({ port, function: name, flag });
  }
  return out;
}

/**
 * The HTTP fronts of `start`: the ports to listen on (which functions each serves) and each
 * function's own front settings (the event, its URL's invoke mode and CORS from its config).
 */
function httpFronts(
  plans: readonly FunctionSettings[],
  ports: readonly HttpPortFlag[],
  opts: StartCliOptions,
): { listens: HttpListen[]; settings: Array<HttpFrontSettings | undefined> } {
  const names = plans.map((p) => p.name);
  const listens: HttpListen[] = [];
  for (const p of ports) {
    if (p.function !== undefined && !names.includes(p.function))
      throw new LambdaImageError(
        'INVALID_INPUT',
        `${p.flag}: no function named ${JSON.stringify(p.function)} is served (${names.join(', ')})`,
        { hint: `name one of them: ${names.map((n) => `--http-port ${n}=<port>`).join(', ')}` },
      );
    listens.push({ port: p.port, functions: p.function === undefined ? names : [p.function] });
  }
  const front = opts.httpEvent ?? 'url';
  const settings = plans.map((plan): HttpFrontSettings | undefined => {
    if (!listens.length) return undefined;
    const url = plan.config?.url;
    const invokeMode = opts.invokeMode ?? url?.invokeMode ?? 'BUFFERED';
    if (front !== 'url' && invokeMode === 'RESPONSE_STREAM')
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--invoke-mode RESPONSE_STREAM is a function URL mode, not ${front}'s${plans.length > 1 ? ` (function ${plan.name})` : ''}`,
        {
          hint: 'use --http-event url to stream, or leave the invoke mode BUFFERED',
        },
      );
    return { front, invokeMode, cors: url?.cors };
  });
  return { listens, settings };
}

/** What `start` serves and where, and how to call it. A one-function start says what it always said. */
function announce(
  ui: ReturnType<typeof createUi>,
  fns: readonly LocalFunction[],
  settings: ReadonlyArray<HttpFrontSettings | undefined>,
  host: string,
  front: FrontServer,
): void {
  const shown = host.includes(':') ? `[${host}]` : host;
  const base = `http://${shown}:${front.port}`;
  const as = (i: number) => {
    const s = settings[i]!;
    return `as a ${FRONT_NAMES[s.front]}${s.front === 'url' ? ` (${s.invokeMode})` : ''}`;
  };
  if (fns.length === 1) {
    const fn = fns[0]!;
    ui.out(`serving ${fn.name} (${fn.facts.image}) on ${base}`);
    for (const h of front.httpPorts) ui.out(`serving ${fn.name} ${as(0)} on http://${shown}:${h.port}`);
    ui.info(`  curl -d '{}' ${base}/2015-03-31/functions/function/invocations`);
    ui.info(`  aws lambda invoke --endpoint-url ${base} --function-name ${fn.name} out.json`);
    if (front.httpPort !== undefined) ui.info(`  curl -i 'http://${shown}:${front.httpPort}/any/path?x=1'`);
  } else {
    ui.out(`serving ${fns.length} functions on ${base}, each at /2015-03-31/functions/<name>/invocations:`);
    for (const fn of fns) ui.out(`  ${fn.name} (${fn.facts.image})`);
    for (const h of front.httpPorts)
      for (const name of h.functions) {
        const i = fns.findIndex((f) => f.name === name);
        ui.out(
          `serving ${name} ${as(i)} on http://${shown}:${h.port}${h.prefixed ? `/${name}/ (the prefix is not part of rawPath)` : ''}`,
        );
      }
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

/** A response as the runtime sent it, byte for byte (never decoded as text), then a newline between responses. */
function writeResponse(body: Buffer): void {
  process.stdout.write(Buffer.concat([body, Buffer.from('\n')]));
}

function stderrHooks() {
  return {
    onPlatformLine: (line: string) => process.stderr.write(line + '\n'),
    onOutput: (line: string) => process.stderr.write(line + '\n'),
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
  if (opts.signals) {
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }
  let failure: unknown;
  try {
    await work();
  } catch (err) {
    failure = err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (!interrupted) {
    // Every function's environments stop (extensions get SHUTDOWN), each pool on its own.
    for (const closed of await Promise.allSettled(fns.map((fn) => fn.pool.close()))) {
      if (closed.status === 'fulfilled') continue;
      // Containers the engine could not remove: the first failure stays the message, the rest is detail.
      const cleanup: unknown = closed.reason;
      failure = failure === undefined ? cleanup : withCleanupFailure(failure, cleanup);
    }
  }
  if (failure !== undefined) throw failure;
}

function withCleanupFailure(failure: unknown, cleanup: unknown): unknown {
  if (!(failure instanceof LambdaImageError) || !(cleanup instanceof LambdaImageError)) return failure;
  return new LambdaImageError(failure.code, failure.message, {
    details: [...(failure.details ?? []), cleanup.message],
    hint: [failure.hint, cleanup.hint].filter(Boolean).join('; '),
    cause: failure.cause,
  });
}

/** The flags of `invoke` and `start`, each checked by the rule of the config key it overrides (the app adds the config and defaults). */
function functionOptions(
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
