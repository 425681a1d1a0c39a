// One execution environment's lifecycle: a container started as Lambda starts a runtime (with
// AWS_LAMBDA_RUNTIME_API pointing at lambda-image's own API server on the host), its
// extensions, its output, init, invokes and shutdown. Measurements live in measurements.ts.
import { randomBytes, randomUUID } from 'node:crypto';
import type Dockerode from 'dockerode';
import type { ContainerClient, ContainerHandle, ContainerSpec } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { debug } from '../util/debug.js';
import { type FunctionImage, SESSION_LABEL } from './function-image.js';
import { LambdaApiServer, type FunctionIdentity, type InvokeResult } from './lambda-api.js';
import { MemoryGauge, runningExtensions } from './measurements.js';
import { timeoutMessage } from './report.js';

export { SESSION_LABEL } from './function-image.js';

const log = debug('emulator');

/** Lambda's limit on the init phase. */
export const INIT_TIMEOUT_MS = 10_000;
/** Shutdown budget with external extensions, then SIGKILL. */
export const SHUTDOWN_BUDGET_MS = 2_000;

export interface SandboxOptions {
  identity: FunctionIdentity;
  memoryMb: number;
  region: string;
  /** Extra environment (--env, --env-file), after Lambda's own variables. */
  env: Record<string, string>;
  session: string;
  /** The function's own output, line by line, with the invoke it belongs to (none during init). */
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
  const extra = [...parts].filter(([k]) => k !== 'Root' && k !== 'Parent' && k !== 'Sampled').map(([k, v]) => `${k}=${v}`);
  return [`Root=${root}`, `Parent=${parent}`, `Sampled=${sampled}`, ...extra].join(';');
}

export class Sandbox {
  private api: LambdaApiServer;
  private container?: ContainerHandle;
  private gauge?: MemoryGauge;
  /** Output after an invoke's answer still belongs to it, until the next one starts. */
  private outputOwner?: string;
  private startedAt = 0;
  private exited?: { code: number };
  private dead = false;
  private invokes = 0;
  private currentRequest?: string;
  initMs?: number;
  /** The container, when the engine could not remove it (it went away): reported by the pool. */
  leftBehind?: string;
  /** Rejects when the engine goes away: init and the invoke in progress end with that error. */
  private loseEngine!: (err: Error) => void;
  private readonly engineLost = new Promise<never>((_, reject) => (this.loseEngine = reject));

  private constructor(
    private readonly engine: Pick<Engine, 'desktop'>,
    private readonly containers: ContainerClient,
    private readonly facts: FunctionImage,
    private readonly opts: SandboxOptions,
  ) {
    this.api = new LambdaApiServer(opts.identity, facts.extensions.length);
    this.engineLost.catch(() => {});
  }

  static async start(engine: Pick<Engine, 'desktop'>, containers: ContainerClient, facts: FunctionImage, opts: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(engine, containers, facts, opts);
    try {
      await sandbox.boot();
    } catch (err) {
      await sandbox.stop('FAILURE');
      throw err;
    }
    return sandbox;
  }

  get alive(): boolean {
    return !this.dead;
  }

  private async boot(): Promise<void> {
    const port = await this.api.listen('127.0.0.1');
    const id = this.opts.identity;
    const network = containerNetwork(this.engine, port);
    const env: Record<string, string> = {
      AWS_LAMBDA_RUNTIME_API: network.runtimeApi,
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
    const spec: ContainerSpec = {
      image: this.facts.image,
      env,
      labels: { [SESSION_LABEL]: this.opts.session },
      hostConfig: {
        ...network.hostConfig,
        Memory: this.opts.memoryMb * 1024 * 1024,
        MemorySwap: this.opts.memoryMb * 1024 * 1024,
      },
    };
    if (this.facts.extensions.length) {
      // Lambda starts every executable in /opt/extensions before the runtime; a shell does it here.
      spec.entrypoint = ['/bin/sh', '-c', 'for f in /opt/extensions/*; do if [ -f "$f" ] && [ -x "$f" ]; then "$f" & fi; done; exec "$@"', 'lambda-image-init'];
      spec.cmd = [...this.facts.entrypoint, ...this.facts.cmd];
    }
    this.container = await this.containers.create(spec);
    this.gauge = new MemoryGauge(this.container);
    await this.container.attachLines((line) => this.opts.onOutput(line, this.outputOwner));
    this.startedAt = performance.now();
    await this.container.start();
    log(`started ${this.container.id.slice(0, 12)} with the API on 127.0.0.1:${port}`);
    void this.container.wait().then(
      (code) => this.onExit(code),
      (err: Error) => this.onEngineLost(err),
    );
  }

  /** Not the runtime exiting: the engine is gone, so this environment and what it was doing fail with that. */
  private onEngineLost(err: Error): void {
    this.dead = true;
    this.loseEngine(err);
    this.opts.onEngineLost?.(err);
  }

  private onExit(code: number): void {
    this.exited = { code };
    this.dead = true;
    const message = `Runtime exited with error: exit status ${code}`;
    this.api.failInit('Runtime.ExitError', message);
    this.api.abortInvoke({
      kind: 'error',
      errorType: 'Runtime.ExitError',
      body: Buffer.from(JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: `RequestId: ${this.currentRequest ?? ''} Error: ${message}` })),
    });
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
    if (!outcome) {
      this.api.failInit('Runtime.InitTimeout', `Init did not complete within ${INIT_TIMEOUT_MS / 1000} seconds`);
      this.dead = true;
      return { ok: false, errorType: 'Runtime.InitTimeout', body: Buffer.from(JSON.stringify({ errorType: 'Runtime.InitTimeout', errorMessage: `Init did not complete within ${INIT_TIMEOUT_MS / 1000} seconds` })), initMs };
    }
    if (!outcome.ok) {
      this.dead = true;
      return { ok: false, errorType: outcome.errorType ?? 'Runtime.InitError', body: outcome.body ?? Buffer.from('{}'), initMs };
    }
    this.initMs ??= initMs;
    return { ok: true };
  }

  async invoke(
    payload: Buffer,
    timeoutSec: number,
    extra: InvokeExtra = {},
  ): Promise<InvokeOutcome> {
    const requestId = extra.requestId ?? randomUUID();
    const cold = this.invokes++ === 0;
    const deadlineMs = Date.now() + timeoutSec * 1000;
    const traceId = traceIdFor(extra.traceId);
    this.currentRequest = requestId;
    this.outputOwner = requestId;
    const began = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutSec * 1000)));
    let result: InvokeResult | 'timeout';
    try {
      result = await Promise.race([
        this.api.invoke({ payload, deadlineMs, clientContext: extra.clientContext, cognitoIdentity: extra.cognitoIdentity, traceId, requestId }),
        timedOut,
        this.engineLost,
      ]);
    } finally {
      clearTimeout(timer);
    }
    const durationMs = performance.now() - began;
    this.currentRequest = undefined;
    // Read once the answer is in, without holding the caller up (see PoolInvoke.maxMemoryMb).
    const maxMemoryMb = this.maxMemoryMb();
    if (result === 'timeout') {
      // Lambda stops the environment after a timeout: the next invoke starts cold.
      this.dead = true;
      const body = Buffer.from(JSON.stringify({ errorMessage: timeoutMessage(requestId, timeoutSec) }));
      this.api.abortInvoke({ kind: 'error', errorType: 'Sandbox.Timedout', body });
      return { requestId, traceId, result: { kind: 'error', errorType: 'Sandbox.Timedout', body }, durationMs, timedOut: true, initMs: cold ? this.initMs : undefined, maxMemoryMb };
    }
    return { requestId, traceId, result, durationMs, timedOut: false, initMs: cold ? this.initMs : undefined, maxMemoryMb };
  }

  private async maxMemoryMb(): Promise<number | undefined> {
    if (!this.gauge || this.exited) return undefined;
    return this.gauge.peakMb();
  }

  /** SHUTDOWN to extensions (within the budget, or until they have exited), then the container goes. */
  async stop(reason: 'SPINDOWN' | 'TIMEOUT' | 'FAILURE' = 'SPINDOWN'): Promise<void> {
    this.dead = true;
    if (this.container && !this.exited && this.facts.extensions.length) {
      await Promise.race([this.api.shutdown(reason, SHUTDOWN_BUDGET_MS), this.extensionsGone()]);
    }
    if (this.container) {
      try {
        await this.container.remove();
      } catch (err) {
        // The engine is gone or silent: say which container stays, never fail the stop itself.
        log(`could not remove ${this.container.id.slice(0, 12)}: ${(err as Error).message}`);
        this.leftBehind = this.container.id;
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
      await new Promise((r) => setTimeout(r, 100));
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
  private async extensionsGone(): Promise<void> {
    const end = Date.now() + SHUTDOWN_BUDGET_MS;
    // Give SHUTDOWN a moment to be delivered before looking.
    await new Promise((r) => setTimeout(r, 20));
    while (Date.now() < end) {
      try {
        if (!(await this.extensionProcesses()).length) return;
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * How the container reaches the API server on the host's loopback: on Linux through the host
 * network (as a runtime reaches Lambda's API on 127.0.0.1:9001); on Docker Desktop, whose
 * engine runs in a VM, through host.docker.internal, which Desktop forwards to the host's loopback.
 */
export function containerNetwork(engine: Pick<Engine, 'desktop'>, port: number): { runtimeApi: string; hostConfig: Dockerode.HostConfig } {
  if (engine.desktop) {
    return { runtimeApi: `host.docker.internal:${port}`, hostConfig: { ExtraHosts: ['host.docker.internal:host-gateway'] } };
  }
  return { runtimeApi: `127.0.0.1:${port}`, hostConfig: { NetworkMode: 'host' } };
}

function credentialsFromEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) if (process.env[k]) out[k] = process.env[k]!;
  return out;
}
