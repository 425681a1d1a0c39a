// `invoke` and `start`: which image and function identity to run, the environments behind
// them, and Lambda's platform lines for every invoke.
import { APPLICATION_LOG_LEVELS } from '../config/constants.js';
import { droppedLines } from '../emulator/log-levels.js';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseImageReference } from '../config/image-reference.js';
import { oneFunction, type ProjectFunction, projectFunctions, selectFunctions } from '../config/functions.js';
import type { Config } from '../config/schema.js';
import { loadConfig, loadConfigIfExists } from '../config/store.js';
import { readBuildRecord } from '../project/build-record.js';
import {
  EPHEMERAL_STORAGE_RULE,
  envKeyProblem,
  MEMORY_RULE,
  reservedEnvKeyProblem,
  TIMEOUT_RULE,
  type WholeNumberRule,
  wholeNumberProblem,
} from '../config/value-rules.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { MAX_PAYLOAD_BYTES } from '../emulator/limits.js';
import { SandboxPool, type PoolInvoke } from '../emulator/pool.js';
import {
  endLine,
  initReportLine,
  reportLine,
  startLine,
  summarize,
  timeoutMessage,
  type DurationSummary,
} from '../emulator/report.js';
import { containerClient } from '../docker/containers.js';
import { inspectFunctionImage, type FunctionImage } from '../emulator/function-image.js';
import { planNetwork } from '../emulator/network.js';
import { NetworkSpares } from '../emulator/netns.js';
import { sweepOrphans } from '../emulator/owners.js';
import { DebugProxy } from '../emulator/debug-proxy.js';
import { DELVE_PATH } from '../render/debug.js';

export interface FunctionOptions {
  dir?: string;
  image?: string;
  /**
   * The project's functions to run, by their names in `functions` (`--function`): `invoke`
   * runs one (the only one when none is named), `start` every one when none is named.
   */
  functions?: string[];
  functionName?: string;
  timeoutSec?: number;
  memoryMb?: number;
  /** /tmp size (Lambda's ephemeral storage), MB. */
  ephemeralMb?: number;
  region?: string;
  env?: Record<string, string>;
  /** Which flag set each key of `env` (for messages); `--env` when not said. */
  envFrom?: Record<string, string>;
  concurrency?: number;
  /** Make network namespaces ahead of cold starts (default true; see SandboxPool): `start` does, a one-shot `invoke` need not. */
  namespacesAhead?: boolean;
  /** Tenant isolation (PER_TENANT) without a config (`--image`); default: the config's tenantIsolationMode. */
  tenantIsolation?: boolean;
  /** `--debug[=port]` (0: any free port), `--debug-wait`: the runtime under delve, one invoke at a time. */
  debug?: { port: number; wait: boolean };
}

export interface LocalFunction {
  facts: FunctionImage;
  name: string;
  timeoutSec: number;
  memoryMb: number;
  /** AWS_REGION of the function (and of the front's domain names). */
  region: string;
  pool: SandboxPool;
  /** Under --debug: the port a delve client attaches to (127.0.0.1). */
  debugPort?: number;
}

export interface PlatformHooks {
  /** START / END / REPORT / INIT_REPORT and timeout lines, in Lambda's format. */
  onPlatformLine(line: string): void;
  /** The function's and extensions' own output. */
  onOutput(line: string): void;
  /** The engine went away while environments were running (`start` ends on it). */
  onEngineLost?(err: Error): void;
}

/** The plan `invoke` and `start` run: every input worked out and checked once, before any engine is asked. */
export interface FunctionSettings {
  config?: Config;
  image: string;
  name: string;
  timeoutSec: number;
  memoryMb: number;
  ephemeralMb: number;
  /** AWS_REGION inside the function (and its ARN's region). */
  region: string;
  env: Record<string, string>;
  concurrency: number;
  /** Make network namespaces ahead of cold starts (see SandboxPool): `start` does, a one-shot `invoke` need not. */
  namespacesAhead: boolean;
  /** The config's tenantIsolationMode PER_TENANT: invokes without a tenant id are refused, as Lambda refuses them. */
  tenantIsolation: boolean;
  /** See FunctionOptions.debug. */
  debug?: { port: number; wait: boolean };
}

/**
 * What planning reads of the project, read once: its config (none with `--image` outside a
 * project) and, per function, the image its latest `build` made (.lambda-image/builds.json).
 */
export interface ProjectState {
  config?: Config;
  /** The image the latest build made, by function (its key in `functions`; '' for a one-function project). */
  built: Record<string, string>;
}

/** Reads what planFunctions needs (see ProjectState). */
export async function loadProjectState(opts: Pick<FunctionOptions, 'dir' | 'image'>): Promise<ProjectState> {
  const dir = opts.dir ?? '.';
  if (opts.image !== undefined) return { config: await loadConfigIfExists(dir).catch(() => undefined), built: {} };
  const config = await loadConfig(dir);
  const built: Record<string, string> = {};
  for (const fn of projectFunctions(config)) {
    const key = fn.recordKey ?? '';
    const record = await readBuildRecord(dir, fn.recordKey).catch(() => undefined);
    const latest = record?.latest[0];
    const image = latest && record.variants[latest]?.image;
    if (image) built[key] = image;
  }
  return { config, built };
}

/**
 * The functions to run, planned once from the flags and the project (pure): `invoke` runs a
 * list of one (`--function` names it, or the project has only one; a project of several with
 * none named is an error listing them); `start` the ones named with `--function` (each once),
 * or all of the project's; with `--image`, that one image. Each function's settings: flags,
 * then lambda-image.json (the function's view of it), then Lambda's defaults.
 */
export function planFunctions(
  opts: FunctionOptions,
  project: ProjectState,
  command: 'invoke' | 'start',
): FunctionSettings[] {
  if (command === 'invoke' && (opts.functions?.length ?? 0) > 1)
    throw new LambdaImageError('INVALID_INPUT', `${command} runs one function: give --function once`, {
      hint: 'lambda-image start serves several at once',
    });
  const given = checkedImage(opts);
  if (given) {
    // In a project of several, --image would serve that one image alone, under the image's
    // name and without any function's settings: the project's functions silently dropped.
    const names = project.config?.functions ? Object.keys(project.config.functions) : [];
    if (command === 'start' && names.length > 1)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--image serves one image, and this project has ${names.length} functions (${names.join(', ')}): start serves them by name`,
        {
          hint: `leave --image out (each function runs its own built image), or pick some with --function ${names[0]}`,
        },
      );
    return [settingsOf(opts, undefined, opts.image!, given)];
  }
  const config = project.config;
  if (!config) throw new Error('planFunctions: a project without --image needs its config');
  const picked =
    command === 'invoke'
      ? [oneFunction(config, opts.functions?.[0], command)]
      : selectFunctions(config, opts.functions);
  if (picked.length > 1 && opts.functionName !== undefined)
    throw new LambdaImageError(
      'INVALID_INPUT',
      `--function-name names one function, and this start serves ${picked.length} (${picked.map((f) => f.name).join(', ')})`,
      { hint: 'each runs under its own name: leave --function-name out, or pick one with --function' },
    );
  return picked.map((f) => settingsOf(opts, f, functionImage(project, f)));
}

/** `invoke`'s plan: a list of one (see planFunctions). */
export async function resolveFunctionSettings(opts: FunctionOptions, command = 'invoke'): Promise<FunctionSettings> {
  checkedImage(opts);
  const project = await loadProjectState(opts);
  return planFunctions(opts, project, command === 'start' ? 'start' : 'invoke')[0]!;
}

/** The settings of every function `start` serves (see planFunctions). */
export async function resolveStartSettings(opts: FunctionOptions): Promise<FunctionSettings[]> {
  checkedImage(opts);
  return planFunctions(opts, await loadProjectState(opts), 'start');
}

/** `--image` (checked by the image reference grammar), which takes the place of the project. */
function checkedImage(opts: FunctionOptions): ReturnType<typeof parseImageReference> | undefined {
  if (opts.image === undefined) return undefined;
  if (opts.functions?.length)
    throw new LambdaImageError(
      'INVALID_INPUT',
      '--image runs that image, not a function of the project: give one of --image and --function',
      {
        hint: "leave out --image to run the project's function by name",
      },
    );
  return parseImageReference(opts.image, '--image');
}

/** One function's settings: the flags over its config view (or over nothing, for `--image`). */
function settingsOf(
  opts: FunctionOptions,
  fn: ProjectFunction | undefined,
  image: string,
  given?: ReturnType<typeof parseImageReference>,
): FunctionSettings {
  const config = fn?.config;
  // The repository's last path component: `localhost:5000/team/fn@sha256:...` runs as `fn`.
  // A function of several runs under its own name (its key in `functions`), which `start` routes by.
  const name = opts.functionName ?? (fn ? fn.name : path.posix.basename(given!.path));
  const timeoutSec = opts.timeoutSec ?? config?.timeout ?? 3;
  const memoryMb = opts.memoryMb ?? config?.memorySize ?? 128;
  const ephemeralMb = opts.ephemeralMb ?? config?.ephemeralStorage ?? 512;
  // The config's own rules (the CLI checked the flags' text by them already; callers in code get them here).
  const checks: Array<[string, string, number, WholeNumberRule]> = [
    ['timeout', '--timeout', timeoutSec, TIMEOUT_RULE],
    ['memory', '--memory', memoryMb, MEMORY_RULE],
    ['ephemeral storage', '--ephemeral-storage', ephemeralMb, EPHEMERAL_STORAGE_RULE],
  ];
  for (const [what, flag, value, rule] of checks) {
    const problem = wholeNumberProblem(value, rule);
    if (problem)
      throw new LambdaImageError('INVALID_INPUT', `${what} ${value} ${problem}`, {
        hint: `give ${flag} within that range`,
      });
  }
  for (const key of Object.keys(opts.env ?? {})) {
    const problem = envKeyProblem(key);
    if (problem)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `${opts.envFrom?.[key] ?? '--env'} ${key}: ${problem}; it cannot be set`,
        {
          hint:
            key === 'AWS_REGION' || key === 'AWS_DEFAULT_REGION'
              ? 'use --region'
              : /^AWS_(ACCESS|SECRET|SESSION)/.test(key)
                ? "leave credentials out of --env: lambda-image passes them on from its own environment, as Lambda passes the role's"
                : reservedEnvKeyProblem(key)
                  ? 'remove it from --env / --env-file; Lambda sets it for every function'
                  : 'name variables as Lambda allows: a letter, then letters, digits and _',
        },
      );
  }
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const debug = opts.debug;
  if (debug && (opts.concurrency ?? 1) > 1)
    throw new LambdaImageError('INVALID_INPUT', '--debug serves one invoke at a time: leave --concurrency out', {
      hint: 'one delve session holds one environment',
    });
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  // A debugged environment publishes delve's port: it needs a namespace of its own, made at its start.
  const namespacesAhead = debug ? false : (opts.namespacesAhead ?? true);
  return {
    config,
    image,
    name,
    timeoutSec,
    memoryMb,
    ephemeralMb,
    region,
    // The function's configured environment (deploy.environment: the project's, then its own)
    // reaches local runs as it reaches Lambda; --env and --env-file win over it.
    env: { ...config?.deploy?.environment, ...opts.env },
    concurrency,
    namespacesAhead,
    tenantIsolation: opts.tenantIsolation ?? config?.tenantIsolationMode === 'PER_TENANT',
    ...(debug ? { debug } : {}),
  };
}

/**
 * The image a function runs: the one its latest `build` made (its record in
 * .lambda-image/builds.json, as `push` ships), else `<image>:<tag>`; a one-function project
 * and a project of several alike.
 */
function functionImage(project: ProjectState, fn: ProjectFunction): string {
  return project.built[fn.recordKey ?? ''] ?? `${fn.config.name}:${fn.config.tag}`;
}

/** Makes the pool of environments for a plan (see resolveFunctionSettings). */
export async function prepareFunction(
  engine: Engine,
  plan: FunctionSettings,
  hooks: PlatformHooks,
): Promise<LocalFunction> {
  const { config, image, name, timeoutSec, memoryMb, ephemeralMb, region, namespacesAhead } = plan;
  const containers = containerClient(engine.docker);
  const session = randomUUID();
  const isolated = process.env.LAMBDA_IMAGE_SANDBOX !== 'off';
  // The first environment's network namespace is made while the image is inspected.
  const spares =
    isolated && namespacesAhead
      ? new NetworkSpares(containers, planNetwork(engine, containers, true), image, session)
      : undefined;
  spares?.prepare();
  // Containers of earlier runs that were killed (SIGKILL, a crash) go first; never a live process's.
  let facts: FunctionImage;
  try {
    [facts] = await Promise.all([inspectFunctionImage(containers, image), sweepOrphans(containers)]);
  } catch (err) {
    await spares?.close();
    throw err;
  }
  const handler = config?.handler ?? facts.cmd[0] ?? 'bootstrap';
  let proxy: DebugProxy | undefined;
  let debugPort: number | undefined;
  if (plan.debug) {
    proxy = new DebugProxy();
    debugPort = await proxy.listen(plan.debug.port).catch((err: NodeJS.ErrnoException) => {
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--debug: cannot listen on 127.0.0.1:${plan.debug!.port} (${err.code ?? err.message})`,
        {
          hint: 'give another port with --debug=<port>',
        },
      );
    });
  }
  const pool = new SandboxPool(
    engine,
    containers,
    facts,
    {
      identity: {
        functionName: name,
        functionArn: `arn:aws:lambda:${region}:000000000000:function:${name}`,
        version: '$LATEST',
        handler,
      },
      memoryMb,
      ephemeralMb,
      // An internal switch for comparisons and debugging: LAMBDA_IMAGE_SANDBOX=off runs plain containers on the host network.
      isolated,
      region,
      env: plan.env,
      session,
      onOutput: (line) => hooks.onOutput(line),
      onEngineLost: (err) => hooks.onEngineLost?.(err),
      timeoutSec,
      namespacesAhead,
      tenantIsolation: plan.tenantIsolation,
      ...(proxy ? { debug: { proxy, wait: plan.debug!.wait, delvePath: DELVE_PATH } } : {}),
    },
    plan.concurrency,
    {
      startLines: (id) => [startLine(id)],
      // The settings of the environment that ran it: a swap under --watch may have changed them.
      doneLines: (o, maxMemoryMb, settings) => platformLines(o, settings.memoryMb, settings.timeoutSec, maxMemoryMb),
      onPlatformLine: hooks.onPlatformLine,
    },
    spares,
  );
  if (proxy) {
    // The proxy outlives the pool's environments; it goes with the pool.
    const close = pool.close.bind(pool);
    pool.close = async () => {
      try {
        await close();
      } finally {
        await proxy.close();
      }
    };
  }
  return { facts, name, timeoutSec, memoryMb, region, pool, debugPort };
}

/**
 * Makes the pools of several functions (`start` serving a project of several), each with its
 * own hooks. All or none: when one cannot be made (its image is missing), the pools already
 * made are closed and the first failure is thrown.
 */
export async function prepareFunctions(
  engine: Engine,
  plans: readonly FunctionSettings[],
  hooksFor: (plan: FunctionSettings) => PlatformHooks,
): Promise<LocalFunction[]> {
  const made = await Promise.allSettled(
    plans.map((plan) =>
      prepareFunction(engine, plan, hooksFor(plan)).catch((err: unknown) => {
        // With several, the message says whose image it was, and how to build just that one.
        if (plans.length < 2 || !(err instanceof LambdaImageError)) throw err;
        throw new LambdaImageError(err.code, `function ${plan.name}: ${err.message}`, {
          details: err.details,
          hint: err.hint,
          cause: err.cause,
        });
      }),
    ),
  );
  const failed = made.find((m) => m.status === 'rejected');
  if (!failed) return made.map((m) => (m as PromiseFulfilledResult<LocalFunction>).value);
  await Promise.allSettled(made.map((m) => (m.status === 'fulfilled' ? m.value.pool.close() : undefined)));
  const reason = (failed as PromiseRejectedResult).reason as unknown;
  if (plans.length > 1 && reason instanceof LambdaImageError && reason.code === 'IMAGE_NOT_FOUND') {
    // Never --image here (it would serve one image and drop the project's functions): build
    // the missing ones, or serve those that are built.
    const missing = plans.filter(
      (_, i) =>
        made[i]!.status === 'rejected' &&
        ((made[i] as PromiseRejectedResult).reason as { code?: string })?.code === 'IMAGE_NOT_FOUND',
    );
    const built = plans.filter((_, i) => made[i]!.status === 'fulfilled');
    const flags = (list: readonly FunctionSettings[]) => list.map((p) => `--function ${p.name}`).join(' ');
    throw new LambdaImageError(reason.code, reason.message, {
      details: [
        ...(reason.details ?? []),
        ...(missing.length > 1 ? [`not built: ${missing.map((p) => p.name).join(', ')}`] : []),
      ],
      hint: `build ${missing.length > 1 ? 'them' : 'it'} first ("lambda-image build ${flags(missing)}")${built.length ? `, or serve the built ones: lambda-image start ${flags(built)}` : ''}`,
      cause: reason.cause,
    });
  }
  throw reason;
}

/** The lines Lambda logs after an invoke (or a failed init). */
export function platformLines(o: PoolInvoke, memoryMb: number, timeoutSec: number, maxMemoryMb?: number): string[] {
  if (o.initError)
    return [
      initReportLine(
        o.initError.initMs,
        o.initError.errorType === 'Runtime.InitTimeout' ? 'timeout' : 'error',
        o.initError.errorType,
      ),
    ];
  // The runtime's own end (a crash, an out-of-memory kill) is in REPORT, as Lambda puts it there.
  const runtimeEnd =
    o.result.kind === 'error' &&
    (o.result.errorType === 'Runtime.ExitError' || o.result.errorType === 'Runtime.OutOfMemory')
      ? o.result.errorType
      : undefined;
  const lines: string[] = [];
  if (o.timedOut) lines.push(timeoutMessage(o.requestId, timeoutSec));
  lines.push(endLine(o.requestId));
  lines.push(
    reportLine({
      requestId: o.requestId,
      durationMs: o.durationMs,
      memoryMb,
      maxMemoryMb,
      initMs: o.initMs,
      status: o.timedOut ? 'timeout' : runtimeEnd ? 'error' : undefined,
      pausedMs: o.pausedMs,
      errorType: runtimeEnd,
    }),
  );
  return lines;
}

export function checkPayload(payload: Buffer): void {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `the event is ${payload.length} bytes; Lambda accepts at most ${MAX_PAYLOAD_BYTES} for a synchronous invoke`,
      {
        hint: 'send a smaller event (large data belongs in S3, with its key in the event)',
      },
    );
  }
}

export interface RepeatResult {
  outcomes: PoolInvoke[];
  cold?: DurationSummary;
  warm?: DurationSummary;
}

/** N invokes over the pool's warm environments, C at a time; each answered once, in any order. */
export async function invokeRepeatedly(
  fn: LocalFunction,
  payload: Buffer,
  count: number,
  concurrency: number,
  /** `--tenant-id`: the invokes' tenant (Lambda-Runtime-Aws-Tenant-Id; environments of its own). */
  tenantId?: string,
): Promise<RepeatResult> {
  checkPayload(payload);
  const outcomes: PoolInvoke[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      outcomes.push(await fn.pool.invoke(payload, { tenantId }));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const ok = outcomes.filter((o) => !o.initError);
  return {
    outcomes,
    cold: summarize(ok.filter((o) => o.cold).map((o) => o.durationMs + (o.initMs ?? 0))),
    warm: summarize(ok.filter((o) => !o.cold).map((o) => o.durationMs)),
  };
}

/** Platform lines in an invoke's log (Lambda's own, not the function's). */
const PLATFORM_LINE =
  /^(START|END|REPORT|INIT_START|INIT_REPORT|INIT_RUNTIME_DONE|EXTENSION|TELEMETRY|RESTORE_START|RESTORE_REPORT) /;

/**
 * What the function's configured application log level (logging.applicationLogLevel, under
 * the JSON format) would hide on Lambda of these invokes' output, as one line; undefined when
 * the config sets no level or nothing would be dropped.
 */
export function logLevelNote(plan: Pick<FunctionSettings, 'config'>, logs: readonly string[]): string | undefined {
  const logging = plan.config?.logging;
  const threshold = logging?.logFormat === 'JSON' ? logging.applicationLogLevel : undefined;
  if (!threshold) return undefined;
  const lines = logs.flatMap((log) => log.split('\n')).filter((l) => l !== '' && !PLATFORM_LINE.test(l));
  const { dropped, byLevel } = droppedLines(lines, threshold);
  if (!dropped) return undefined;
  // Most verbose first, as Lambda lists its levels.
  const levels = APPLICATION_LOG_LEVELS.filter((level) => byLevel[level])
    .map((level) => `${level} ${byLevel[level]}`)
    .join(', ');
  return `applicationLogLevel ${threshold} would drop ${dropped} of ${lines.length} function lines on Lambda (${levels}); a line without a JSON "level" counts as INFO`;
}
