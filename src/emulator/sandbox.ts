// One execution environment: a container started as Lambda starts a runtime (with
// AWS_LAMBDA_RUNTIME_API pointing at lambda-image's own API server on the host), its
// extensions, its logs, its memory, and its shutdown.
import { randomBytes, randomUUID } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { LambdaApiServer, type FunctionIdentity, type InvokeResult } from './lambda-api.js';
import { timeoutMessage } from './report.js';

const log = debug('emulator');

/** Lambda's limit on the init phase. */
export const INIT_TIMEOUT_MS = 10_000;
/** Shutdown budget with external extensions, then SIGKILL. */
export const SHUTDOWN_BUDGET_MS = 2_000;
export const SESSION_LABEL = 'org.lambda-image.session';

export interface ImageFacts {
  image: string;
  entrypoint: string[];
  cmd: string[];
  /** Executable files found in the image's /opt/extensions. */
  extensions: string[];
}

export interface SandboxOptions {
  identity: FunctionIdentity;
  memoryMb: number;
  region: string;
  /** Extra environment (--env, --env-file), after Lambda's own variables. */
  env: Record<string, string>;
  session: string;
  /** The function's own output, line by line. */
  onOutput(line: string): void;
}

export interface InvokeOutcome {
  requestId: string;
  result: InvokeResult;
  durationMs: number;
  timedOut: boolean;
  /** Init duration when this invoke was the environment's first (cold). */
  initMs?: number;
  /** The environment's peak memory, read after the answer so the caller does not wait for it. */
  maxMemoryMb: Promise<number | undefined>;
}

/** Reads what lambda-image needs from an image, including which extensions it carries. */
export async function inspectFunctionImage(engine: Engine, image: string): Promise<ImageFacts> {
  let info: Dockerode.ImageInspectInfo;
  try {
    info = await engine.docker.getImage(image).inspect();
  } catch {
    throw new LambdaImageError('IMAGE_NOT_FOUND', `image ${image} is not on the engine`, {
      hint: 'build it first ("lambda-image build"), or pass --image with an image the engine has',
    });
  }
  const entrypoint = info.Config.Entrypoint ?? [];
  const cmd = info.Config.Cmd ?? [];
  return { image, entrypoint: Array.isArray(entrypoint) ? entrypoint : [entrypoint], cmd, extensions: await listExtensions(engine, image) };
}

async function listExtensions(engine: Engine, image: string): Promise<string[]> {
  const container = await engine.docker.createContainer({ Image: image, Entrypoint: ['/x'], Cmd: [], Labels: { [SESSION_LABEL]: 'inspect' } });
  try {
    const archive = (await container.getArchive({ path: '/opt/extensions' })) as unknown as NodeJS.ReadableStream;
    const { default: tarStream } = await import('tar-stream');
    const extract = tarStream.extract();
    const names: string[] = [];
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        const rel = header.name.replace(/^extensions\/?/, '');
        if (header.type === 'file' && rel && !rel.includes('/') && ((header.mode ?? 0) & 0o111) !== 0) names.push(rel);
        stream.resume();
        stream.on('end', next);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      archive.pipe(extract);
    });
    return names.sort().slice(0, 10); // Lambda starts at most 10 extensions
  } catch {
    return []; // no /opt/extensions
  } finally {
    await removeContainer(container);
  }
}

export class Sandbox {
  private api: LambdaApiServer;
  private container?: Dockerode.Container;
  private startedAt = 0;
  private exited?: { code: number };
  private dead = false;
  private invokes = 0;
  private currentRequest?: string;
  initMs?: number;

  private constructor(
    private readonly engine: Engine,
    private readonly facts: ImageFacts,
    private readonly opts: SandboxOptions,
  ) {
    this.api = new LambdaApiServer(opts.identity, facts.extensions.length);
  }

  static async start(engine: Engine, facts: ImageFacts, opts: SandboxOptions): Promise<Sandbox> {
    const sandbox = new Sandbox(engine, facts, opts);
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
    const create: Dockerode.ContainerCreateOptions = {
      Image: this.facts.image,
      Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
      Labels: { [SESSION_LABEL]: this.opts.session },
      HostConfig: {
        ...network.hostConfig,
        Memory: this.opts.memoryMb * 1024 * 1024,
        MemorySwap: this.opts.memoryMb * 1024 * 1024,
      },
    };
    if (this.facts.extensions.length) {
      // Lambda starts every executable in /opt/extensions before the runtime; a shell does it here.
      create.Entrypoint = ['/bin/sh', '-c', 'for f in /opt/extensions/*; do if [ -f "$f" ] && [ -x "$f" ]; then "$f" & fi; done; exec "$@"', 'lambda-image-init'];
      create.Cmd = [...this.facts.entrypoint, ...this.facts.cmd];
    }
    this.container = await this.engine.docker.createContainer(create);
    const stream = (await this.container.attach({ stream: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
    const out = lineSplitter(this.opts.onOutput);
    this.engine.docker.modem.demuxStream(stream, out, out);
    this.startedAt = performance.now();
    await this.container.start();
    log(`started ${this.container.id.slice(0, 12)} with the API on 127.0.0.1:${port}`);
    void this.container.wait().then(
      (r: { StatusCode: number }) => this.onExit(r.StatusCode),
      () => this.onExit(-1),
    );
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
    const outcome = await Promise.race([this.api.waitForInit(), timeout.then(() => undefined)]);
    watching.on = false;
    clearTimeout(timer);
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
    extra: { requestId?: string; clientContext?: string; cognitoIdentity?: string } = {},
  ): Promise<InvokeOutcome> {
    const requestId = extra.requestId ?? randomUUID();
    const cold = this.invokes++ === 0;
    const deadlineMs = Date.now() + timeoutSec * 1000;
    const traceId = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
    this.currentRequest = requestId;
    const began = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutSec * 1000)));
    const result = await Promise.race([this.api.invoke({ payload, deadlineMs, traceId, ...extra, requestId }), timedOut]);
    clearTimeout(timer);
    const durationMs = performance.now() - began;
    this.currentRequest = undefined;
    // Read once the answer is in, without holding the caller up (see PoolInvoke.maxMemoryMb).
    const maxMemoryMb = this.maxMemoryMb();
    if (result === 'timeout') {
      // Lambda stops the environment after a timeout: the next invoke starts cold.
      this.dead = true;
      const body = Buffer.from(JSON.stringify({ errorMessage: timeoutMessage(requestId, timeoutSec) }));
      this.api.abortInvoke({ kind: 'error', errorType: 'Sandbox.Timedout', body });
      return { requestId, result: { kind: 'error', errorType: 'Sandbox.Timedout', body }, durationMs, timedOut: true, initMs: cold ? this.initMs : undefined, maxMemoryMb };
    }
    return { requestId, result, durationMs, timedOut: false, initMs: cold ? this.initMs : undefined, maxMemoryMb };
  }

  private peakFile?: string | null;

  /**
   * The container's peak memory, measured (not the configured size, as the RIE reports).
   * A local engine's cgroup file is read directly (microseconds); otherwise the stats API.
   */
  private async maxMemoryMb(): Promise<number | undefined> {
    if (!this.container || this.exited) return undefined;
    const toMb = (bytes: number) => Math.ceil(bytes / (1024 * 1024));
    if (this.peakFile === undefined) this.peakFile = await findPeakFile(this.container.id);
    if (this.peakFile) {
      const text = await readFile(this.peakFile, 'utf8').catch(() => undefined);
      if (text) return toMb(Number(text.trim()));
    }
    try {
      const stats = (await this.container.stats({ stream: false, 'one-shot': true } as object)) as { memory_stats?: { max_usage?: number; usage?: number } };
      const bytes = stats.memory_stats?.max_usage ?? stats.memory_stats?.usage;
      return bytes === undefined ? undefined : toMb(bytes);
    } catch {
      return undefined;
    }
  }

  /** SHUTDOWN to extensions (within the budget, or until they have exited), then the container goes. */
  async stop(reason: 'SPINDOWN' | 'TIMEOUT' | 'FAILURE' = 'SPINDOWN'): Promise<void> {
    this.dead = true;
    if (this.container && !this.exited && this.facts.extensions.length) {
      await Promise.race([this.api.shutdown(reason, SHUTDOWN_BUDGET_MS), this.extensionsGone()]);
    }
    if (this.container) await removeContainer(this.container);
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

  /** Names of the /opt/extensions programs running in the container now. */
  private async extensionProcesses(): Promise<string[]> {
    const top = (await this.container!.top({ ps_args: '-o pid,args' })) as { Processes?: string[][] };
    const commands = (top.Processes ?? []).map((p) => p.at(-1) ?? '');
    return this.facts.extensions.filter((n) => commands.some((c) => c.includes(`/opt/extensions/${n}`)));
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

/** cgroup v1 (memory.max_usage_in_bytes) or v2 (memory.peak) file of a local container, if readable. */
async function findPeakFile(id: string): Promise<string | null> {
  const candidates = [
    `/sys/fs/cgroup/memory/docker/${id}/memory.max_usage_in_bytes`,
    `/sys/fs/cgroup/memory/system.slice/docker-${id}.scope/memory.max_usage_in_bytes`,
    `/sys/fs/cgroup/system.slice/docker-${id}.scope/memory.peak`,
    `/sys/fs/cgroup/docker/${id}/memory.peak`,
  ];
  for (const file of candidates) {
    try {
      await access(file);
      return file;
    } catch {
      /* next */
    }
  }
  return null;
}

/**
 * Removes a container, retrying (bounded) when the engine refuses because the container is
 * in the middle of exiting; "no such container" counts as done.
 */
export async function removeContainer(container: Dockerode.Container): Promise<void> {
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await container.remove({ force: true });
      return;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return;
      log(`remove ${container.id.slice(0, 12)}: ${(err as Error).message}; retrying`);
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}

function credentialsFromEnv(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) if (process.env[k]) out[k] = process.env[k]!;
  return out;
}

/** A writable that calls back once per complete line. */
function lineSplitter(onLine: (line: string) => void): PassThrough {
  const pt = new PassThrough();
  let buf = '';
  pt.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    const lines = buf.split('\n');
    buf = lines.pop()!;
    for (const l of lines) onLine(l);
  });
  pt.on('end', () => buf && onLine(buf));
  return pt;
}
