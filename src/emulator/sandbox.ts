// One execution environment driven through its life: a container started as Lambda starts a
// runtime (with AWS_LAMBDA_RUNTIME_API pointing at lambda-image's own API server on the host),
// its output, init, invokes and shutdown. What the container is: environment-spec.ts; the
// init shell and its output marks: init-shell.ts; the lifecycle state: lifecycle.ts;
// measurements: measurements.ts.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { ContainerClient, ContainerHandle, ContainerSpec } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { type DebugPauses, runningTimeout } from './debug-pauses.js';
import type { DebugProxy } from './debug-proxy.js';
import { DELVE_PORT, debugSpec } from './debug-spec.js';
import { environmentSpec, type InitializationType, logStreamName } from './environment-spec.js';
import type { FunctionImage } from './function-image.js';
import { parseOutputLine } from './init-shell.js';
import { LambdaApiServer, type FunctionIdentity, type InvokeResult, type ResponseSink } from './lambda-api.js';
import { Lifecycle, type ShutdownReason } from './lifecycle.js';
import { INIT_TIMEOUT_MS, INTERNAL_SHUTDOWN_BUDGET_MS, SHUTDOWN_BUDGET_MS } from './limits.js';
import { FunctionMemory, localMemoryCgroups, MemoryGauge, runningExtensions } from './measurements.js';
import { planNetwork, TELEMETRY_PORT, type NetworkPlan } from './network.js';
import { ownerLabels } from './owners.js';
import { billedMs, timeoutMessage } from './report.js';
import { TelemetryHub } from './telemetry.js';
import { traceIdFor } from './trace-id.js';

export { LAMBDA_USER } from './environment-spec.js';
export { SESSION_LABEL } from './function-image.js';
export { EXTENSIONS_INIT, parseOutputLine } from './init-shell.js';
export type { ShutdownReason } from './lifecycle.js';
export { traceIdFor } from './trace-id.js';

const log = debug('emulator');

/** Set once an engine refused Init (no init binary): later environments start under the init shell at once. */
let engineLacksInit = false;

/** The engine's refusal of Init because it has no init binary (docker-init, catatonit). */
export function missingInitBinary(err: unknown): boolean {
  const m = (err as Error)?.message ?? '';
  return /docker-init|catatonit|init binary|\binit\b.*(not found|no such file)/i.test(m);
}

/** How often the function's memory is read when /tmp is kept out of it. */
const MEMORY_POLL_MS = 20;
export interface SandboxOptions {
  identity: FunctionIdentity;
  memoryMb: number;
  region: string;
  /** Extra environment (--env, --env-file), after Lambda's own variables. */
  env: Record<string, string>;
  session: string;
  /** Size of /tmp (Lambda's ephemeral storage), MB. */
  ephemeralMb: number;
  /**
   * Lambda's execution environment (non-root user, read-only root file system, /tmp of the
   * ephemeral storage size, own network namespace); false: a plain container on the host's
   * network, as before (an internal switch, for comparisons).
   */
  isolated: boolean;
  /** The function's and extensions' own output, line by line, with the invoke it belongs to (none during init). */
  onOutput(line: string, requestId?: string): void;
  /** The engine went away (its wait for the container broke): `start` ends on it. */
  onEngineLost?(err: Error): void;
  /**
   * `provisioned-concurrency`: started and initialised ahead of its invokes (a pre-warmed
   * environment), as Lambda's provisioned concurrency is: the function sees that type, and
   * its first invoke is not a cold start (no Init Duration). Default `on-demand`.
   */
  initializationType?: InitializationType;
  /** `--debug`: the runtime runs under delve, reached through the proxy; timeouts count running time only. */
  debug?: { proxy: DebugProxy; wait: boolean; delvePath: string };
}

/** A debugger far deadline: what the function sees while it may be held at a breakpoint. */
const DEBUG_DEADLINE_MS = 24 * 3600 * 1000;

export interface InvokeExtra {
  requestId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  /** The caller's X-Amzn-Trace-Id (Root=...;Parent=...;Sampled=...): becomes the invoke's trace id. */
  traceId?: string;
  /** Takes a streamed response as the function writes it (see InvokeRequest.stream). */
  stream?: ResponseSink;
  /** The invoke's tenant id: the pool never lets environments cross tenants. */
  tenantId?: string;
}

export interface InvokeOutcome {
  requestId: string;
  /** The trace id the function saw (Lambda-Runtime-Trace-Id). */
  traceId: string;
  result: InvokeResult;
  durationMs: number;
  timedOut: boolean;
  /** Init duration when this invoke was the environment's first (cold). */
  initMs?: number;
  /** The environment's peak memory, read after the answer so the caller does not wait for it. */
  maxMemoryMb: Promise<number | undefined>;
  /** Under --debug: how long the debugger held the function during this invoke. */
  pausedMs?: number;
}

export class Sandbox {
  private api: LambdaApiServer;
  private telemetry: TelemetryHub;
  private container?: ContainerHandle;
  private gauge?: MemoryGauge;
  /** The function's own memory (without /tmp), when /tmp is kept out of it (environment-spec.ts). */
  private fnMemory?: FunctionMemory;
  /** This environment's runtime went over its memory: its end is Runtime.OutOfMemory. */
  private outOfMemory = false;
  private network?: NetworkPlan;
  private output?: { flush(): void };
  /**
   * The environment's own address (and, on Docker Desktop, its published subscriber port),
   * known once its namespace exists: the only peer its APIs answer, and where Telemetry goes.
   */
  private readonly ownAddress: Promise<EnvironmentAddress>;
  private setOwnAddress!: (a: Promise<EnvironmentAddress>) => void;
  /** Output after an invoke's answer still belongs to it, until the next one starts. */
  private outputOwner?: string;
  private startedAt = 0;
  /** The one lifecycle state: live, doomed, crashed, engine lost, stopping. */
  private readonly life = new Lifecycle();
  /** Resolves when the container has exited (whatever the state was then). */
  private exitedPromise: Promise<void>;
  private markExited!: () => void;
  private invokes = 0;
  /** Resolves when the runtime or its container exited, or the engine went away. */
  private readonly gone: Promise<void>;
  private markGone!: () => void;
  /** This environment's id in Telemetry (initStart's instanceId). */
  private readonly instanceId = randomBytes(16).toString('hex');
  private currentRequest?: string;
  initMs?: number;
  /** Under --debug: this environment's pause clock (set once delve is reachable). */
  private pauses?: DebugPauses;
  /** Containers the engine could not remove (it went away): reported by the pool. */
  readonly leftBehind: string[] = [];
  /** Rejects when the engine goes away: init and the invoke in progress end with that error. */
  private loseEngine!: (err: Error) => void;
  private readonly engineLost = new Promise<never>((_, reject) => (this.loseEngine = reject));

  private constructor(
    private readonly engine: Pick<Engine, 'desktop' | 'kind'>,
    private readonly containers: ContainerClient,
    private readonly facts: FunctionImage,
    private readonly opts: SandboxOptions,
  ) {
    this.telemetry = new TelemetryHub((host, port) => this.subscriberAddress(host, port));
    this.api = new LambdaApiServer(opts.identity, facts.extensions, {
      telemetry: this.telemetry,
      allowPeer: (a) => this.peerAllowed(a),
    });
    this.ownAddress = new Promise((resolve) => (this.setOwnAddress = resolve));
    this.ownAddress.catch(() => undefined);
    this.exitedPromise = new Promise((r) => (this.markExited = r));
    this.gone = new Promise((r) => (this.markGone = r));
    this.engineLost.catch(() => {});
  }

  /** The container holding this environment's network namespace, when it was made ahead (netns.ts). */
  private netHolder?: ContainerHandle;

  static async start(
    engine: Pick<Engine, 'desktop' | 'kind'>,
    containers: ContainerClient,
    facts: FunctionImage,
    opts: SandboxOptions,
    netHolder?: ContainerHandle,
  ): Promise<Sandbox> {
    const sandbox = new Sandbox(engine, containers, facts, opts);
    sandbox.netHolder = netHolder;
    try {
      await sandbox.boot();
    } catch (err) {
      await sandbox.stop('failure');
      throw err;
    }
    return sandbox;
  }

  private get initializationType(): InitializationType {
    return this.opts.initializationType ?? 'on-demand';
  }

  get alive(): boolean {
    return this.life.alive;
  }

  private async boot(): Promise<void> {
    this.network = await planNetwork(this.engine, this.containers, this.opts.isolated);
    let port: number;
    try {
      port = await this.api.listen(this.network.listenHost);
    } catch (err) {
      // The bridge's gateway is an address of the engine's machine: a remote engine has none here.
      throw new LambdaImageError(
        'CONTAINER_FAILED',
        `cannot serve the Runtime API on ${this.network.listenHost} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        {
          hint: 'invoke and start need the engine on this machine (or Docker Desktop); LAMBDA_IMAGE_SANDBOX=off uses the host network instead',
          cause: err,
        },
      );
    }
    const id = this.opts.identity;
    // /tmp outside the function's memory needs the cgroup's files, read on this machine.
    const tmpOutsideMemory = this.opts.isolated && !this.engine.desktop && (await localMemoryCgroups());
    const network = this.network;
    const debugging = this.opts.debug;
    const spec = (withoutInit: boolean) =>
      withDebugger(
        environmentSpec({
          identity: id,
          memoryMb: this.opts.memoryMb,
          region: this.opts.region,
          ephemeralMb: this.opts.ephemeralMb,
          tmpOutsideMemory,
          engineKind: this.engine.kind,
          isolated: this.opts.isolated,
          session: this.opts.session,
          ownerLabels: ownerLabels(),
          image: this.facts,
          network,
          runtimeApi: network.runtimeApi(port),
          netHolderId: this.netHolder?.id,
          logStreamName: logStreamName(id.version, new Date(), randomBytes(16).toString('hex')),
          credentials: credentialsFromEnv(),
          env: this.opts.env,
          initializationType: this.initializationType,
          withoutInit,
        }),
      );
    const withDebugger = (c: ContainerSpec) =>
      debugging ? debugSpec(c, { delvePath: debugging.delvePath, wait: debugging.wait }) : c;
    // A namespace made ahead already has its address; a container's own comes with its start.
    if (this.netHolder) this.setOwnAddress(addressOf(this.netHolder));
    try {
      await this.createAndStart(spec(engineLacksInit));
    } catch (err) {
      // An engine without an init binary (dockerd without docker-init, Podman without
      // catatonit) refuses Init: the init shell, which reaps too, is PID 1 from then on.
      if (engineLacksInit || !missingInitBinary(err)) throw err;
      log(`the engine has no init binary (${(err as Error).message}): the init shell reaps instead`);
      engineLacksInit = true;
      await this.container?.remove().catch(() => undefined);
      await this.createAndStart(spec(true));
    }
    const container = this.container as ContainerHandle;
    if (!this.netHolder) this.setOwnAddress(addressOf(container));
    if (debugging) {
      const info = await container.inspect();
      const published = info.NetworkSettings.Ports?.[`${DELVE_PORT}/tcp`]?.[0]?.HostPort;
      if (!published)
        throw new LambdaImageError('CONTAINER_FAILED', "the engine did not publish delve's port", {
          hint: '--debug needs an environment of its own (not a shared namespace)',
        });
      this.pauses = debugging.proxy.retarget({ host: '127.0.0.1', port: Number(published) }, debugging.wait);
    }
    if (tmpOutsideMemory) {
      this.fnMemory = await FunctionMemory.find(container.id);
      if (this.fnMemory) void this.holdMemory(this.fnMemory);
      else {
        // Nothing to read the function's share from: back to one limit, /tmp charged to it.
        log(`no memory cgroup found for ${container.id.slice(0, 12)}: /tmp and memory share one limit`);
        await container.limitMemory(this.opts.memoryMb * 1024 * 1024);
      }
    }
    log(`started ${container.id.slice(0, 12)} with the API on ${this.network.listenHost}:${port}`);
    void container.wait().then(
      (code) => {
        this.markExited();
        this.onExit(code, 'container');
      },
      (err: Error) => this.onEngineLost(err),
    );
  }

  /** Creates the environment's container, attaches to its output and starts it (Telemetry's initStart included). */
  private async createAndStart(spec: ContainerSpec): Promise<void> {
    const id = this.opts.identity;
    this.container = await this.containers.create(spec);
    this.gauge = new MemoryGauge(this.container);
    this.output = await this.container.attachLines((line) => this.onLine(line));
    this.startedAt = performance.now();
    // In the newest schema's shape; the hub gives each subscriber the shape it asked for.
    this.telemetry.platform('platform.initStart', {
      initializationType: this.initializationType,
      phase: 'init',
      runtimeVersion: this.facts.image,
      runtimeVersionArn: runtimeVersionArn(this.opts.region, this.facts.image),
      functionName: id.functionName,
      functionVersion: id.version,
      instanceId: this.instanceId,
      instanceMaxMemory: this.opts.memoryMb * 1024 * 1024,
    });
    await this.container.start();
  }

  /** Not the runtime exiting: the engine is gone, so this environment and what it was doing fail with that. */
  private onEngineLost(err: Error): void {
    this.life.engineLost();
    this.markGone();
    this.loseEngine(err);
    this.opts.onEngineLost?.(err);
  }

  /** One line of the container's output: the function's, an extension's (marked by the init shell), or the runtime's exit. */
  private onLine(raw: string): void {
    const parsed = parseOutputLine(raw);
    for (const l of parsed.lines) this.emitLine(l.kind, l.text);
    if (parsed.runtimeExit !== undefined) this.onExit(parsed.runtimeExit, 'runtime');
  }

  private emitLine(kind: 'function' | 'extension', line: string): void {
    this.telemetry.line(kind, line);
    this.opts.onOutput(line, this.outputOwner);
  }

  /**
   * Holds the function to its memory, /tmp aside: the cgroup allows memory plus ephemeral
   * storage, so the function's own share is read every MEMORY_POLL_MS and the environment is
   * killed once it goes over, as Lambda's OOM kill ends a runtime. Runs while the container does.
   */
  private async holdMemory(fn: FunctionMemory): Promise<void> {
    const limit = this.opts.memoryMb * 1024 * 1024;
    while (this.life.alive || this.life.state.phase === 'doomed') {
      const bytes = await fn.read();
      if (bytes === undefined) return;
      if (bytes > limit) {
        this.outOfMemory = true;
        log(`the function used ${Math.ceil(bytes / 2 ** 20)} MB of its ${this.opts.memoryMb} MB: killed`);
        await this.container?.kill('SIGKILL').catch(() => undefined);
        return;
      }
      await sleep(MEMORY_POLL_MS);
    }
  }

  /** The runtime (or its whole container) exited: init and the invoke in flight fail with it, unless shutting down. */
  private onExit(code: number, what: 'runtime' | 'container'): void {
    this.markGone();
    if (!this.life.exited(code, what)) return;
    // SIGKILL (137) may be an out-of-memory kill: ours, or the kernel's; named as Lambda names it.
    if (code === 137) void this.wasOutOfMemory(what).then((oom) => this.failInFlight(code, oom));
    else this.failInFlight(code, false);
  }

  private async wasOutOfMemory(what: 'runtime' | 'container'): Promise<boolean> {
    if (!this.outOfMemory && ((await this.fnMemory?.oomKills()) ?? 0) > 0) this.outOfMemory = true;
    if (!this.outOfMemory && what === 'container' && this.container) {
      const info = await this.container.inspect().catch(() => undefined);
      this.outOfMemory = info?.State?.OOMKilled === true;
    }
    return this.outOfMemory;
  }

  private failInFlight(code: number, outOfMemory: boolean): void {
    const errorType = outOfMemory ? 'Runtime.OutOfMemory' : 'Runtime.ExitError';
    const message = outOfMemory
      ? 'Runtime exited with error: signal: killed'
      : `Runtime exited with error: exit status ${code}`;
    this.api.failInit(errorType, message);
    this.api.abortInvoke({
      kind: 'error',
      errorType,
      body: Buffer.from(
        JSON.stringify({
          errorType,
          errorMessage: `RequestId: ${this.currentRequest ?? ''} Error: ${message}`,
        }),
      ),
    });
  }

  /**
   * Where a Telemetry subscriber's destination is, seen from here: always the environment's own
   * address (the hub accepts sandbox.localdomain only), never another host.
   */
  private async subscriberAddress(_host: string, port: number): Promise<{ host: string; port: number }> {
    if (!this.container || this.network?.mode === 'shared') return { host: '127.0.0.1', port };
    const address = await this.ownAddress;
    // Docker Desktop: container addresses are not reachable from the host; only the published subscriber port is.
    if (this.network?.mode === 'desktop')
      return {
        host: '127.0.0.1',
        port: port === TELEMETRY_PORT && address.telemetryPort ? address.telemetryPort : port,
      };
    if (!address.ip) throw new Error('the environment has no address on the bridge');
    return { host: address.ip, port };
  }

  /**
   * Only the environment's own container may talk to its Runtime, Extensions, Telemetry and
   * Logs APIs: on the bridge, any other container of the engine (other users', CI jobs') could
   * otherwise take the next caller's event and answer it. A request that comes before the
   * address is known waits for it (bounded by init's limit).
   */
  private async peerAllowed(remote: string): Promise<boolean> {
    // The host network (sandbox off) and Docker Desktop: the server listens on loopback only.
    if (this.network?.mode !== 'isolated') return true;
    if (this.network.allowPeer && !this.network.allowPeer(remote)) return false;
    const peer = remote.replace(/^::ffff:/, '');
    let timer: NodeJS.Timeout | undefined;
    const known = await Promise.race([
      this.ownAddress.catch(() => undefined),
      new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), INIT_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (known?.ip && peer === known.ip) return true;
    log(`refused a Runtime API request from ${peer}: not this environment (${known?.ip ?? 'address unknown'})`);
    return false;
  }

  /** Waits for init (runtime and extensions ready), within Lambda's 10 s. */
  async waitForInit(): Promise<{ ok: true } | { ok: false; errorType: string; body: Buffer; initMs: number }> {
    let timer: NodeJS.Timeout | undefined;
    // Under a debugger, init's limit counts running time only (--debug-wait holds init until a client continues).
    const held = this.pauses ? runningTimeout(this.pauses, INIT_TIMEOUT_MS) : undefined;
    const timeout = held
      ? held.done.then(() => undefined)
      : new Promise<void>((r) => (timer = setTimeout(r, INIT_TIMEOUT_MS)));
    const watching = { on: true };
    if (this.facts.extensions.length) void this.watchExtensionsDuringInit(watching);
    let outcome: Awaited<ReturnType<LambdaApiServer['waitForInit']>> | undefined;
    try {
      outcome = await Promise.race([this.api.waitForInit(), timeout.then(() => undefined), this.engineLost]);
    } finally {
      watching.on = false;
      clearTimeout(timer);
      held?.cancel();
    }
    const initMs = performance.now() - this.startedAt;
    const initDone = (status: 'success' | 'error' | 'timeout', errorType?: string) => {
      const base = {
        initializationType: this.initializationType,
        phase: 'init',
        status,
        ...(errorType ? { errorType } : {}),
      };
      this.telemetry.platform('platform.initRuntimeDone', base);
      this.telemetry.platform('platform.initReport', { ...base, metrics: { durationMs: round(initMs) } });
      this.telemetry.endInit();
    };
    if (!outcome) {
      this.api.failInit('Runtime.InitTimeout', `Init did not complete within ${INIT_TIMEOUT_MS / 1000} seconds`);
      this.life.doom('timeout');
      initDone('timeout', 'Runtime.InitTimeout');
      return {
        ok: false,
        errorType: 'Runtime.InitTimeout',
        body: Buffer.from(
          JSON.stringify({
            errorType: 'Runtime.InitTimeout',
            errorMessage: `Init did not complete within ${INIT_TIMEOUT_MS / 1000} seconds`,
          }),
        ),
        initMs,
      };
    }
    if (!outcome.ok) {
      this.life.doom('failure');
      initDone('error', outcome.errorType);
      return {
        ok: false,
        errorType: outcome.errorType ?? 'Runtime.InitError',
        body: outcome.body ?? Buffer.from('{}'),
        initMs,
      };
    }
    initDone('success');
    this.initMs ??= initMs;
    await this.gauge?.prime(); // a first reading, in case the runtime dies before the next one
    return { ok: true };
  }

  async invoke(payload: Buffer, timeoutSec: number, extra: InvokeExtra = {}): Promise<InvokeOutcome> {
    const requestId = extra.requestId ?? randomUUID();
    const cold = this.invokes++ === 0;
    // Under a debugger the function sees a far deadline: a breakpoint must not make it give up.
    const deadlineMs = Date.now() + (this.pauses ? DEBUG_DEADLINE_MS : timeoutSec * 1000);
    const pausedBefore = this.pauses?.pausedMs() ?? 0;
    const traceId = traceIdFor(extra.traceId);
    const tracing = { type: 'X-Amzn-Trace-Id', value: traceId };
    this.currentRequest = requestId;
    this.flushOutput(); // the previous invoke's unterminated last line is its own
    this.outputOwner = requestId;
    this.telemetry.platform('platform.start', { requestId, version: this.opts.identity.version, tracing });
    const began = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const held = this.pauses ? runningTimeout(this.pauses, timeoutSec * 1000) : undefined;
    const timedOut =
      held?.done ?? new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutSec * 1000)));
    const request = {
      payload,
      deadlineMs,
      clientContext: extra.clientContext,
      cognitoIdentity: extra.cognitoIdentity,
      stream: extra.stream,
      tenantId: extra.tenantId,
      traceId,
      requestId,
    };
    let answer: InvokeResult | 'timeout';
    try {
      answer = await Promise.race([this.api.invoke(request), timedOut, this.engineLost]);
    } finally {
      clearTimeout(timer);
      held?.cancel();
    }
    const durationMs = performance.now() - began;
    const pausedMs = this.pauses ? this.pauses.pausedMs() - pausedBefore : undefined;
    this.currentRequest = undefined;
    let result: InvokeResult;
    if (answer === 'timeout') {
      // Lambda stops the environment after a timeout: the next invoke starts cold.
      this.life.doom('timeout');
      const body = Buffer.from(JSON.stringify({ errorMessage: timeoutMessage(requestId, timeoutSec) }));
      result = { kind: 'error', errorType: 'Sandbox.Timedout', body };
      this.api.abortInvoke(result);
    } else result = answer;
    // Read once the answer is in, without holding the caller up (see PoolInvoke.maxMemoryMb).
    const maxMemoryMb = this.maxMemoryMb();
    const status =
      answer === 'timeout'
        ? 'timeout'
        : result.kind === 'response'
          ? 'success'
          : result.errorType === 'Runtime.ExitError' || result.errorType === 'Runtime.OutOfMemory'
            ? 'failure'
            : 'error';
    const errorType = result.kind === 'error' ? result.errorType : undefined;
    const metrics = { durationMs: round(durationMs) };
    // Lambda's two spans: until the response began, and its transfer (read whole here, so 0).
    const startedAt = new Date(began - performance.now() + Date.now());
    const spans = [
      { name: 'responseLatency', start: startedAt.toISOString(), durationMs: round(durationMs) },
      { name: 'responseDuration', start: new Date(startedAt.getTime() + durationMs).toISOString(), durationMs: 0 },
    ];
    this.telemetry.platform('platform.runtimeDone', {
      requestId,
      status,
      ...(errorType ? { errorType } : {}),
      metrics: { ...metrics, producedBytes: result.streamedBytes ?? result.body.length },
      spans,
      tracing,
    });
    this.telemetry.platform('platform.end', { requestId });
    // An environment initialised ahead (provisioned) was never a cold start for its invokes.
    const initMs = cold && this.initializationType === 'on-demand' ? this.initMs : undefined;
    void maxMemoryMb.then((mb) =>
      this.telemetry.platform('platform.report', {
        requestId,
        status,
        ...(errorType ? { errorType } : {}),
        metrics: {
          ...metrics,
          billedDurationMs: billedMs(durationMs, initMs),
          memorySizeMB: this.opts.memoryMb,
          maxMemoryUsedMB: mb ?? 0,
          ...(initMs !== undefined ? { initDurationMs: round(initMs) } : {}),
        },
        tracing,
      }),
    );
    return { requestId, traceId, result, durationMs, timedOut: answer === 'timeout', initMs, maxMemoryMb, pausedMs };
  }

  /**
   * After an invoke: resolves true once the runtime asked for its next event (the environment
   * may take another invoke), false when it exited first (aws-lambda-go reports a panic as the
   * invoke's error, then exits) or did not ask within `waitMs`. On false the environment is
   * doomed: the next invoke goes to a fresh one, a cold start, as on Lambda.
   */
  async readyForNext(waitMs: number): Promise<boolean> {
    if (!this.life.alive) return false;
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      this.api.state.runtimeWaiting().then(() => 'ready' as const),
      this.gone.then(() => 'gone' as const),
      new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), Math.max(0, waitMs)).unref())),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready' && this.life.alive) return true;
    this.life.doom(outcome === 'late' ? 'timeout' : 'failure');
    return false;
  }

  /**
   * Delivers output written without a newline yet as a line of the invoke it belongs to; with
   * `requestId`, only while that invoke still owns the output (a later one may be mid-line).
   */
  flushOutput(requestId?: string): void {
    if (requestId === undefined || requestId === this.outputOwner) this.output?.flush();
  }

  /** Measured peak memory; after a crash, the last reading before it (the cgroup is gone with the container). */
  private async maxMemoryMb(): Promise<number | undefined> {
    // /tmp kept out: the function's own peak, sampled while it ran (the last reading after a kill).
    if (this.fnMemory) {
      if (!this.life.processesGone) await this.fnMemory.read();
      if (this.fnMemory.peakBytes > 0) return Math.ceil(this.fnMemory.peakBytes / (1024 * 1024));
    }
    if (!this.gauge) return undefined;
    if (this.life.processesGone) return this.gauge.lastMb;
    return this.gauge.peakMb();
  }

  /**
   * Shutdown as Lambda does it: when any extension registered (internal or external), SIGTERM
   * to the runtime, then SHUTDOWN (with the reason) to the external extensions that asked for
   * it; within the budget (500 ms with internal extensions only, 2,000 ms with external ones),
   * then SIGKILL with the container. Without extensions the runtime just gets SIGKILL.
   */
  async stop(requested?: ShutdownReason): Promise<void> {
    const { reason, containerRunning, runtimeRunning } = this.life.beginStop(requested);
    if (this.container && containerRunning) {
      const registered = this.api.state.registered();
      if (registered.internal + registered.external > 0) {
        const budget = registered.external ? SHUTDOWN_BUDGET_MS : INTERNAL_SHUTDOWN_BUDGET_MS;
        const end = Date.now() + budget;
        const left = () => Math.max(0, end - Date.now());
        if (runtimeRunning) await this.container.kill('SIGTERM').catch(() => undefined);
        // What subscribers have not been sent yet goes before SHUTDOWN (bounded by the delivery timeout).
        await Promise.race([this.telemetry.flush(), sleep(left())]);
        if (registered.external)
          await Promise.race([this.api.shutdown(reason, left()), this.extensionsGone(left()), this.exitedPromise]);
        else await Promise.race([this.exitedPromise, sleep(left())]);
      }
    }
    this.telemetry.close();
    // The environment's container and the one holding its network namespace, at once: a forced
    // remove kills the first, and the namespace lives until its last process is gone.
    await Promise.all(
      [this.container, this.netHolder].map(async (container) => {
        if (!container) return;
        try {
          await container.remove();
        } catch (err) {
          // The engine is gone or silent: say which container stays, never fail the stop itself.
          log(`could not remove ${container.id.slice(0, 12)}: ${(err as Error).message}`);
          this.leftBehind.push(container.id);
        }
      }),
    );
    await this.api.close();
  }

  /**
   * An extension that exits before registering would hold init until its 10 s limit; Lambda
   * reports it at once as Extension.Crash. Checked every 100 ms while init lasts.
   */
  private async watchExtensionsDuringInit(watching: { on: boolean }): Promise<void> {
    while (watching.on && this.life.alive) {
      await sleep(100);
      if (!watching.on) return;
      let running: string[];
      try {
        running = await this.extensionProcesses();
      } catch {
        return;
      }
      const registered = new Set(this.api.registeredExtensions());
      const crashed = this.facts.extensions.filter((name) => !registered.has(name) && !running.includes(name));
      if (crashed.length && watching.on) {
        this.api.failInit('Extension.Crash', `extension ${crashed.join(', ')} exited before registering`);
        return;
      }
    }
  }

  private extensionProcesses(): Promise<string[]> {
    return runningExtensions(this.container!, this.facts.extensions);
  }

  /** Resolves once no extension process is left in the container (checked every 50 ms, within the budget). */
  private async extensionsGone(budgetMs: number): Promise<void> {
    const end = Date.now() + budgetMs;
    // Give SHUTDOWN a moment to be delivered before looking.
    await sleep(20);
    while (Date.now() < end) {
      try {
        if (!(await this.extensionProcesses()).length) return;
      } catch {
        return;
      }
      await sleep(50);
    }
  }
}

/** A runtime version ARN for the image, as Lambda names runtime versions (a hash per version). */
function runtimeVersionArn(region: string, image: string): string {
  return `arn:aws:lambda:${region}::runtime:${createHash('sha256').update(image).digest('hex')}`;
}

interface EnvironmentAddress {
  ip?: string;
  /** The host port the subscriber port is published on (Docker Desktop). */
  telemetryPort?: number;
}

/** The address of the container holding the environment's network namespace. */
async function addressOf(holder: ContainerHandle): Promise<EnvironmentAddress> {
  const info = await holder.inspect();
  const published = info.NetworkSettings.Ports?.[`${TELEMETRY_PORT}/tcp`]?.[0]?.HostPort;
  return {
    ip: Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress || undefined,
    telemetryPort: published ? Number(published) : undefined,
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (ms: number) => Math.round(ms * 1000) / 1000;

function credentialsFromEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
    if (process.env[k]) out[k] = process.env[k]!;
  return out;
}
