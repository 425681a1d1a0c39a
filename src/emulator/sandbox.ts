// One execution environment's lifecycle: a container started as Lambda starts a runtime (with
// AWS_LAMBDA_RUNTIME_API pointing at lambda-image's own API server on the host), its
// extensions, its output, init, invokes and shutdown. Measurements live in measurements.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ContainerClient, ContainerHandle, ContainerSpec } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { type FunctionImage, SESSION_LABEL } from './function-image.js';
import { LambdaApiServer, type FunctionIdentity, type InvokeResult } from './lambda-api.js';
import { MemoryGauge, runningExtensions } from './measurements.js';
import { planNetwork, TELEMETRY_PORT, type NetworkPlan } from './network.js';
import { ownerLabels } from './owners.js';
import { billedMs, timeoutMessage } from './report.js';
import { TelemetryHub } from './telemetry.js';

export { SESSION_LABEL } from './function-image.js';

const log = debug('emulator');

/** Lambda's limit on the init phase. */
export const INIT_TIMEOUT_MS = 10_000;
/** Shutdown budget with external extensions, then SIGKILL. */
export const SHUTDOWN_BUDGET_MS = 2_000;
/** Shutdown budget when only internal extensions registered (the runtime's own SIGTERM handling). */
export const INTERNAL_SHUTDOWN_BUDGET_MS = 500;
/** Lambda's execution user (sbx_user1051). */
export const LAMBDA_USER = '993:990';

/** Why an environment shuts down, as Lambda names it in the SHUTDOWN event. */
export type ShutdownReason = 'spindown' | 'timeout' | 'failure';

/**
 * How Lambda starts extensions before the runtime, done by a shell as the container's first
 * process: every executable in /opt/extensions, each one's output marked with its name (so
 * its lines are told from the function's), then the runtime. SIGTERM is forwarded to the
 * runtime; when the runtime exits, its status is announced and the extensions live on until
 * their SHUTDOWN, as on Lambda.
 */
const MARK = '\u001e';
export const EXTENSIONS_INIT = [
  'for f in /opt/extensions/*; do',
  '  if [ -f "$f" ] && [ -x "$f" ]; then',
  '    n=${f##*/}',
  `    { "$f" 2>&1; } | while IFS= read -r l || [ -n "$l" ]; do printf '\\036%s\\036%s\\n' "$n" "$l"; done &`,
  '  fi',
  'done',
  '"$@" &',
  'rt=$!',
  "trap 'kill -TERM $rt 2>/dev/null' TERM",
  'while :; do wait $rt; code=$?; kill -0 $rt 2>/dev/null || break; done',
  // No newline first: a last line the runtime left unterminated is split off the marker here.
  `printf '\\036\\036runtime-exit %s\\n' "$code"`,
  'wait',
  'exit $code',
].join('\n');

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
}

export interface InvokeExtra {
  requestId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  /** The caller's X-Amzn-Trace-Id (Root=...;Parent=...;Sampled=...): becomes the invoke's trace id. */
  traceId?: string;
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
}

/** The invoke's trace id: the caller's header with its Sampled decision kept, else a fresh unsampled one. */
export function traceIdFor(given?: string, now = Date.now()): string {
  const parts = new Map<string, string>();
  for (const kv of (given ?? '').split(';')) {
    const i = kv.indexOf('=');
    if (i > 0) parts.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
  }
  const root = parts.get('Root') || `1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const parent = parts.get('Parent') || randomBytes(8).toString('hex');
  const sampled = parts.get('Sampled') ?? '0';
  const extra = [...parts]
    .filter(([k]) => k !== 'Root' && k !== 'Parent' && k !== 'Sampled')
    .map(([k, v]) => `${k}=${v}`);
  return [`Root=${root}`, `Parent=${parent}`, `Sampled=${sampled}`, ...extra].join(';');
}

export class Sandbox {
  private api: LambdaApiServer;
  private telemetry: TelemetryHub;
  private container?: ContainerHandle;
  private gauge?: MemoryGauge;
  private network?: NetworkPlan;
  private containerAddress?: Promise<{ ip: string; telemetryPort?: number }>;
  private output?: { flush(): void };
  /** Output after an invoke's answer still belongs to it, until the next one starts. */
  private outputOwner?: string;
  private startedAt = 0;
  private exited?: { code: number };
  private exitedPromise: Promise<void>;
  private markExited!: () => void;
  private runtimeExit?: number;
  private dead = false;
  private stopping = false;
  /** Why this environment will shut down when it does (a timeout or a crash; else spindown). */
  private cause?: ShutdownReason;
  private invokes = 0;
  private currentRequest?: string;
  initMs?: number;
  /** Containers the engine could not remove (it went away): reported by the pool. */
  readonly leftBehind: string[] = [];
  /** Rejects when the engine goes away: init and the invoke in progress end with that error. */
  private loseEngine!: (err: Error) => void;
  private readonly engineLost = new Promise<never>((_, reject) => (this.loseEngine = reject));

  private constructor(
    private readonly engine: Pick<Engine, 'desktop'>,
    private readonly containers: ContainerClient,
    private readonly facts: FunctionImage,
    private readonly opts: SandboxOptions,
  ) {
    this.telemetry = new TelemetryHub((host, port) => this.subscriberAddress(host, port));
    this.api = new LambdaApiServer(opts.identity, facts.extensions, {
      telemetry: this.telemetry,
      allowPeer: (a) => this.network?.allowPeer?.(a) ?? true,
    });
    this.exitedPromise = new Promise((r) => (this.markExited = r));
    this.engineLost.catch(() => {});
  }

  /** The container holding this environment's network namespace, when it was made ahead (netns.ts). */
  private netHolder?: ContainerHandle;

  static async start(
    engine: Pick<Engine, 'desktop'>,
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

  get alive(): boolean {
    return !this.dead;
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
    const env: Record<string, string> = {
      AWS_LAMBDA_RUNTIME_API: this.network.runtimeApi(port),
      AWS_LAMBDA_FUNCTION_NAME: id.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: id.version,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.opts.memoryMb),
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${id.functionName}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replace(/-/g, '/')}/[${id.version}]${randomBytes(16).toString('hex')}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_REGION: this.opts.region,
      AWS_DEFAULT_REGION: this.opts.region,
      _HANDLER: id.handler,
      LAMBDA_TASK_ROOT: '/var/task',
      LAMBDA_RUNTIME_DIR: '/var/runtime',
      TZ: ':UTC',
      ...credentialsFromEnv(),
      ...this.opts.env,
    };
    const memory = this.opts.memoryMb * 1024 * 1024;
    const spec: ContainerSpec = {
      image: this.facts.image,
      env,
      labels: { [SESSION_LABEL]: this.opts.session, ...ownerLabels() },
      hostname: this.network.hostname,
      domainname: this.network.domainname,
      exposedPorts: this.network.exposedPorts,
      hostConfig: { ...this.network.hostConfig, Memory: memory, MemorySwap: memory },
    };
    if (this.netHolder) {
      // A namespace made ahead: its host name, hosts file and published ports come with it.
      spec.hostname = spec.domainname = spec.exposedPorts = undefined;
      spec.hostConfig = { NetworkMode: `container:${this.netHolder.id}`, Memory: memory, MemorySwap: memory };
    }
    if (this.opts.isolated) {
      spec.user = LAMBDA_USER;
      spec.hostConfig!.ReadonlyRootfs = true;
      // Lambda's /tmp: writable by the function's user, executable, the ephemeral storage's size.
      spec.hostConfig!.Tmpfs = {
        '/tmp': `rw,exec,nosuid,nodev,size=${this.opts.ephemeralMb}m,uid=993,gid=990,mode=1777`,
      };
    }
    if (this.facts.extensions.length) {
      spec.entrypoint = ['/bin/sh', '-c', EXTENSIONS_INIT, 'lambda-image-init'];
      spec.cmd = [...this.facts.entrypoint, ...this.facts.cmd];
    }
    this.container = await this.containers.create(spec);
    this.gauge = new MemoryGauge(this.container);
    this.output = await this.container.attachLines((line) => this.onLine(line));
    this.startedAt = performance.now();
    this.telemetry.platform('platform.initStart', {
      initializationType: 'on-demand',
      phase: 'init',
      functionName: id.functionName,
      functionVersion: id.version,
      instanceMaxMemory: memory,
    });
    await this.container.start();
    log(`started ${this.container.id.slice(0, 12)} with the API on ${this.network.listenHost}:${port}`);
    void this.container.wait().then(
      (code) => {
        this.exited = { code };
        this.markExited();
        this.onRuntimeExit(code);
      },
      (err: Error) => this.onEngineLost(err),
    );
  }

  /** Not the runtime exiting: the engine is gone, so this environment and what it was doing fail with that. */
  private onEngineLost(err: Error): void {
    this.dead = true;
    this.loseEngine(err);
    this.opts.onEngineLost?.(err);
  }

  /** One line of the container's output: the function's, an extension's (marked by the init shell), or the runtime's exit. */
  private onLine(raw: string): void {
    const parsed = parseOutputLine(raw);
    for (const l of parsed.lines) this.emitLine(l.kind, l.text);
    if (parsed.runtimeExit !== undefined) {
      this.runtimeExit = parsed.runtimeExit;
      this.onRuntimeExit(parsed.runtimeExit);
    }
  }

  private emitLine(kind: 'function' | 'extension', line: string): void {
    this.telemetry.line(kind, line);
    this.opts.onOutput(line, this.outputOwner);
  }

  private onRuntimeExit(code: number): void {
    if (this.stopping) return;
    if (!this.dead) this.cause = 'failure';
    this.dead = true;
    const message = `Runtime exited with error: exit status ${code}`;
    this.api.failInit('Runtime.ExitError', message);
    this.api.abortInvoke({
      kind: 'error',
      errorType: 'Runtime.ExitError',
      body: Buffer.from(
        JSON.stringify({
          errorType: 'Runtime.ExitError',
          errorMessage: `RequestId: ${this.currentRequest ?? ''} Error: ${message}`,
        }),
      ),
    });
  }

  /** Where a Telemetry subscriber's destination is, seen from here: the environment's own address. */
  private async subscriberAddress(host: string, port: number): Promise<{ host: string; port: number }> {
    const local = host === 'sandbox.localdomain' || host === 'sandbox' || host === 'localhost' || host === '127.0.0.1';
    if (!local || !this.container || this.network?.mode === 'shared') return { host: local ? '127.0.0.1' : host, port };
    this.containerAddress ??= (this.netHolder ?? this.container).inspect().then((info) => {
      const published = info.NetworkSettings.Ports?.[`${TELEMETRY_PORT}/tcp`]?.[0]?.HostPort;
      return {
        ip: Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress || '127.0.0.1',
        telemetryPort: published ? Number(published) : undefined,
      };
    });
    const address = await this.containerAddress;
    // Docker Desktop: container addresses are not reachable from the host; only the published subscriber port is.
    if (this.network?.mode === 'desktop')
      return {
        host: '127.0.0.1',
        port: port === TELEMETRY_PORT && address.telemetryPort ? address.telemetryPort : port,
      };
    return { host: address.ip, port };
  }

  /** Waits for init (runtime and extensions ready), within Lambda's 10 s. */
  async waitForInit(): Promise<{ ok: true } | { ok: false; errorType: string; body: Buffer; initMs: number }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, INIT_TIMEOUT_MS)));
    const watching = { on: true };
    if (this.facts.extensions.length) void this.watchExtensionsDuringInit(watching);
    let outcome: Awaited<ReturnType<LambdaApiServer['waitForInit']>> | undefined;
    try {
      outcome = await Promise.race([this.api.waitForInit(), timeout.then(() => undefined), this.engineLost]);
    } finally {
      watching.on = false;
      clearTimeout(timer);
    }
    const initMs = performance.now() - this.startedAt;
    const initDone = (status: 'success' | 'error' | 'timeout', errorType?: string) => {
      const base = { initializationType: 'on-demand', phase: 'init', status, ...(errorType ? { errorType } : {}) };
      this.telemetry.platform('platform.initRuntimeDone', base);
      this.telemetry.platform('platform.initReport', { ...base, metrics: { durationMs: round(initMs) } });
      this.telemetry.endInit();
    };
    if (!outcome) {
      this.api.failInit('Runtime.InitTimeout', `Init did not complete within ${INIT_TIMEOUT_MS / 1000} seconds`);
      this.dead = true;
      this.cause = 'timeout';
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
      this.dead = true;
      this.cause = 'failure';
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
    const deadlineMs = Date.now() + timeoutSec * 1000;
    const traceId = traceIdFor(extra.traceId);
    const tracing = { type: 'X-Amzn-Trace-Id', value: traceId };
    this.currentRequest = requestId;
    this.flushOutput(); // the previous invoke's unterminated last line is its own
    this.outputOwner = requestId;
    this.telemetry.platform('platform.start', { requestId, version: this.opts.identity.version, tracing });
    const began = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutSec * 1000)));
    const request = {
      payload,
      deadlineMs,
      clientContext: extra.clientContext,
      cognitoIdentity: extra.cognitoIdentity,
      traceId,
      requestId,
    };
    let answer: InvokeResult | 'timeout';
    try {
      answer = await Promise.race([this.api.invoke(request), timedOut, this.engineLost]);
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - began;
    this.currentRequest = undefined;
    let result: InvokeResult;
    if (answer === 'timeout') {
      // Lambda stops the environment after a timeout: the next invoke starts cold.
      this.dead = true;
      this.cause = 'timeout';
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
          : result.errorType === 'Runtime.ExitError'
            ? 'failure'
            : 'error';
    const errorType = result.kind === 'error' ? result.errorType : undefined;
    const metrics = { durationMs: round(durationMs) };
    this.telemetry.platform('platform.runtimeDone', {
      requestId,
      status,
      ...(errorType ? { errorType } : {}),
      metrics: { ...metrics, producedBytes: result.body.length },
      tracing,
    });
    this.telemetry.platform('platform.end', { requestId });
    const initMs = cold ? this.initMs : undefined;
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
    return { requestId, traceId, result, durationMs, timedOut: answer === 'timeout', initMs, maxMemoryMb };
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
    if (!this.gauge) return undefined;
    if (this.exited || this.runtimeExit !== undefined) return this.gauge.lastMb;
    return this.gauge.peakMb();
  }

  /**
   * Shutdown as Lambda does it: when any extension registered (internal or external), SIGTERM
   * to the runtime, then SHUTDOWN (with the reason) to the external extensions that asked for
   * it; within the budget (500 ms with internal extensions only, 2,000 ms with external ones),
   * then SIGKILL with the container. Without extensions the runtime just gets SIGKILL.
   */
  async stop(reason: ShutdownReason = this.cause ?? 'spindown'): Promise<void> {
    this.dead = true;
    this.stopping = true;
    if (this.container && !this.exited) {
      const registered = this.api.state.registered();
      if (registered.internal + registered.external > 0) {
        const budget = registered.external ? SHUTDOWN_BUDGET_MS : INTERNAL_SHUTDOWN_BUDGET_MS;
        const end = Date.now() + budget;
        const left = () => Math.max(0, end - Date.now());
        if (this.runtimeExit === undefined) await this.container.kill('SIGTERM').catch(() => undefined);
        // What subscribers have not been sent yet goes before SHUTDOWN (bounded by the delivery timeout).
        await Promise.race([this.telemetry.flush(), sleep(left())]);
        if (registered.external)
          await Promise.race([this.api.shutdown(reason, left()), this.extensionsGone(left()), this.exitedPromise]);
        else await Promise.race([this.exitedPromise, sleep(left())]);
      }
    }
    this.telemetry.close();
    // The environment's container, then the one holding its network namespace.
    for (const container of [this.container, this.netHolder]) {
      if (!container) continue;
      try {
        await container.remove();
      } catch (err) {
        // The engine is gone or silent: say which container stays, never fail the stop itself.
        log(`could not remove ${container.id.slice(0, 12)}: ${(err as Error).message}`);
        this.leftBehind.push(container.id);
      }
    }
    await this.api.close();
  }

  /**
   * An extension that exits before registering would hold init until its 10 s limit; Lambda
   * reports it at once as Extension.Crash. Checked every 100 ms while init lasts.
   */
  private async watchExtensionsDuringInit(watching: { on: boolean }): Promise<void> {
    while (watching.on && !this.dead) {
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

/**
 * Reads one line of a container's output under the init shell's marks: extension lines come
 * as MARK name MARK text, the runtime's exit as MARK MARK "runtime-exit" status; anything else
 * is the function's. The runtime writes unmarked to the same stream, so a last line it left
 * without a newline arrives glued to the mark that follows it, and is split off here.
 */
export function parseOutputLine(raw: string): {
  lines: Array<{ kind: 'function' | 'extension'; text: string }>;
  runtimeExit?: number;
} {
  const exitAt = raw.indexOf(`${MARK}${MARK}runtime-exit `);
  if (exitAt >= 0) {
    const before = raw.slice(0, exitAt);
    return { lines: before ? [{ kind: 'function', text: before }] : [], runtimeExit: Number(raw.slice(exitAt + 15)) };
  }
  const at = raw.indexOf(MARK);
  const end = at >= 0 ? raw.indexOf(MARK, at + 1) : -1;
  if (end > at + 1) {
    const lines: Array<{ kind: 'function' | 'extension'; text: string }> = [];
    if (at > 0) lines.push({ kind: 'function', text: raw.slice(0, at) });
    lines.push({ kind: 'extension', text: raw.slice(end + 1) });
    return { lines };
  }
  return { lines: [{ kind: 'function', text: raw }] };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const round = (ms: number) => Math.round(ms * 1000) / 1000;

function credentialsFromEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'])
    if (process.env[k]) out[k] = process.env[k]!;
  return out;
}
