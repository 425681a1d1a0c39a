// Connecting to a Docker engine: DOCKER_HOST, else the current docker context, else the
// default socket; what the engine is (API version, platform, BuildKit or not).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import type Dockerode from 'dockerode';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';

const log = debug('docker');

export interface Endpoint {
  /** Human-readable address, for messages (never includes credentials). */
  address: string;
  /** Options for dockerode; undefined lets docker-modem read DOCKER_HOST and friends itself. */
  options?: Dockerode.DockerOptions;
}

export interface Engine {
  docker: Dockerode;
  endpoint: Endpoint;
  apiVersion: string;
  /** The engine's own platform, e.g. linux/amd64: what BUILDPLATFORM means. */
  platform: string;
  buildkit: boolean;
  name: string;
  /** Which engine answers: Podman's compatible API differs from Docker's in a few places (network, tmpfs, cgroups, update). */
  kind: 'docker' | 'podman';
  /** Docker Desktop runs the engine in a VM: containers reach the host as host.docker.internal. */
  desktop: boolean;
}

/** Works out which engine to talk to, the way the docker CLI does. */
export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): Endpoint {
  if (env.DOCKER_HOST) return { address: env.DOCKER_HOST };
  const configDir = env.DOCKER_CONFIG ?? path.join(home, '.docker');
  let context = env.DOCKER_CONTEXT;
  if (!context) {
    try {
      context = (JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as { currentContext?: string })
        .currentContext;
    } catch {
      /* no CLI config: default context */
    }
  }
  if (context && context !== 'default') {
    const id = createHash('sha256').update(context).digest('hex');
    let meta: { Endpoints?: { docker?: { Host?: string; SkipTLSVerify?: boolean } } };
    try {
      meta = JSON.parse(readFileSync(path.join(configDir, 'contexts', 'meta', id, 'meta.json'), 'utf8'));
    } catch {
      throw new LambdaImageError('ENGINE_UNREACHABLE', `docker context "${context}" is selected but has no metadata`, {
        hint: 'run "docker context use default" or set DOCKER_HOST',
      });
    }
    const host = meta.Endpoints?.docker?.Host;
    if (host)
      return {
        address: `${host} (docker context "${context}")`,
        options: optionsForHost(host, path.join(configDir, 'contexts', 'tls', id, 'docker')),
      };
  }
  return { address: 'unix:///var/run/docker.sock', options: { socketPath: '/var/run/docker.sock' } };
}

function optionsForHost(host: string, tlsDir: string): Dockerode.DockerOptions {
  const url = new URL(host);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'ssh:') {
    return {
      protocol: 'ssh',
      host: url.hostname,
      port: url.port ? Number(url.port) : 22,
      username: url.username || undefined,
    };
  }
  const read = (f: string) => {
    try {
      return readFileSync(path.join(tlsDir, f));
    } catch {
      return undefined;
    }
  };
  const ca = read('ca.pem');
  const cert = read('cert.pem');
  const key = read('key.pem');
  const tls = Boolean(ca || cert);
  return {
    protocol: tls ? 'https' : 'http',
    host: url.hostname,
    port: url.port ? Number(url.port) : tls ? 2376 : 2375,
    ca,
    cert,
    key,
  };
}

export interface ConnectOptions {
  builder?: 'auto' | 'buildkit' | 'classic';
  /** How long to wait for the engine's first answer (default 10 s, or the call deadline when shorter). */
  timeoutMs?: number;
  /** Deadline of every later engine call (see applyDeadlines); LAMBDA_IMAGE_ENGINE_TIMEOUT (seconds) or 60 s. */
  callTimeoutMs?: number;
}

/** The engine's /version asked ahead (see askEngineEarly), until connectEngine takes it. */
let early:
  | { address: string; pingMs: number; signal: AbortSignal; version: Promise<Dockerode.DockerVersion>; hold(): void }
  | undefined;

/**
 * Sends the engine's first question (GET /version) now, over plain HTTP, while the command's
 * own modules (and dockerode) are still loading: the engine answers in the meantime, and
 * connectEngine takes the answer. Nothing changes for the user: an engine that is not there
 * is reported by connectEngine, after the command has checked its input, as before; until
 * then the request never keeps the process alive. Only for a unix socket or plain TCP (TLS and
 * ssh engines are asked by dockerode, as before).
 */
export function askEngineEarly(env: NodeJS.ProcessEnv = process.env): void {
  if (early) return;
  try {
    const endpoint = resolveEndpoint(env);
    const target = plainTarget(endpoint, env);
    if (!target) return;
    const pingMs = Math.min(10_000, engineCallTimeoutMs(env));
    const signal = AbortSignal.timeout(pingMs);
    let held = false;
    let socket: import('node:net').Socket | undefined;
    // Loaded synchronously, so the connection is on its way before this returns.
    const { request } = require('node:http') as typeof import('node:http');
    const version = new Promise<Dockerode.DockerVersion>((resolve, reject) => {
      const req = request({ ...target, path: '/version', method: 'GET', signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) return reject(new Error(`(HTTP code ${res.statusCode}) ${body.trim()}`));
          try {
            resolve(JSON.parse(body));
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('socket', (s) => {
        socket = s;
        if (!held) s.unref();
      });
      req.on('error', reject);
      req.end();
    });
    version.catch(() => undefined); // reported by connectEngine, if it is called
    early = {
      address: endpoint.address,
      pingMs,
      signal,
      version,
      hold: () => {
        held = true;
        socket?.ref();
      },
    };
  } catch {
    early = undefined; // connectEngine reports whatever this was
  }
}

/** Where a plain HTTP request reaches the engine, or undefined (TLS, ssh). */
function plainTarget(
  endpoint: Endpoint,
  env: NodeJS.ProcessEnv,
): { socketPath: string } | { host: string; port: number } | undefined {
  if (endpoint.options) {
    const o = endpoint.options;
    if (o.socketPath) return { socketPath: o.socketPath };
    if (o.protocol === 'http' && o.host) return { host: o.host, port: Number(o.port) };
    return undefined;
  }
  const host = env.DOCKER_HOST ?? '';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://') && !env.DOCKER_TLS_VERIFY && !env.DOCKER_CERT_PATH) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return { host: url.hostname, port: url.port ? Number(url.port) : 2375 };
  }
  return undefined;
}

/** Connects and asks the engine what it is; ENGINE_UNREACHABLE with the address tried when it does not answer. */
export async function connectEngine(opts: ConnectOptions = {}): Promise<Engine> {
  const endpoint = resolveEndpoint();
  const Docker = loadDockerode();
  // docker-modem reads DOCKER_CLIENT_TIMEOUT as a socket idle timeout in ms, which would also cut
  // attach streams and waits that are silent for that long: the deadlines below replace it.
  const docker = new Docker({ ...endpoint.options, timeout: undefined });
  const callTimeoutMs = opts.callTimeoutMs ?? engineCallTimeoutMs();
  applyDeadlines(docker, endpoint.address, callTimeoutMs);
  log(`connecting to ${endpoint.address}`);
  // The first answer says whether there is an engine at all: 10 s, or less when every call gets less.
  const pingMs = opts.timeoutMs ?? Math.min(10_000, callTimeoutMs);
  // The question asked early counts when it went to this engine with the same deadline.
  const asked = early?.address === endpoint.address && early.pingMs === pingMs ? early : undefined;
  early = undefined;
  // An early question's deadline started when it was sent.
  const ping = asked ? asked.signal : AbortSignal.timeout(pingMs);
  let version: Dockerode.DockerVersion;
  try {
    if (asked) {
      asked.hold();
      version = await asked.version;
    } else {
      // dockerode's types omit abortSignal, which it passes on to the request.
      version = await (
        docker.version as (this: Dockerode, o: { abortSignal: AbortSignal }) => Promise<Dockerode.DockerVersion>
      ).call(docker, { abortSignal: ping });
    }
  } catch (err) {
    const raw = (err instanceof LambdaImageError ? err.cause : err) as NodeJS.ErrnoException;
    const reason = ping.aborted ? `no answer within ${pingMs / 1000} s` : (raw.code ?? raw.message);
    throw new LambdaImageError(
      'ENGINE_UNREACHABLE',
      `cannot reach the Docker engine at ${endpoint.address} (${reason})`,
      {
        hint: 'start Docker (dockerd, Docker Desktop or Podman\'s socket), or point DOCKER_HOST / "docker context use" at a running engine',
        cause: err,
      },
    );
  }
  const components = (version as unknown as { Components?: Array<{ Name: string }> }).Components ?? [];
  const isPodman = components.some((c) => /podman/i.test(c.Name));
  const apiOk = compareVersions(version.ApiVersion, '1.39') >= 0;
  const builder = opts.builder ?? (process.env.LAMBDA_IMAGE_BUILDER as ConnectOptions['builder']) ?? 'auto';
  const buildkit = builder === 'buildkit' || (builder === 'auto' && apiOk && !isPodman);
  const engine: Engine = {
    docker,
    endpoint,
    apiVersion: version.ApiVersion,
    platform: `${version.Os}/${version.Arch}`,
    buildkit,
    name: isPodman ? `Podman ${version.Version}` : `Docker ${version.Version}`,
    kind: isPodman ? 'podman' : 'docker',
    desktop: /desktop/i.test((version as unknown as { Platform?: { Name?: string } }).Platform?.Name ?? ''),
  };
  log(`${engine.name}, API ${engine.apiVersion}, ${engine.platform}, builder ${buildkit ? 'BuildKit' : 'classic'}`);
  return engine;
}

const require = createRequire(import.meta.url);

/**
 * dockerode, without loading at start-up what most commands never use. At the top of their
 * modules dockerode and docker-modem load ssh2 (ssh:// engines only), gRPC and protobuf
 * (BuildKit sessions only), a tar packer (only for a build context given as a directory:
 * ours is a stream) and readable-stream (only for a hijacked stdin stream): together most of
 * the CLI's start-up CPU. Each of those modules is put in the module cache as a stand-in
 * that loads the real one when it is first used. Should a new version move one of them, it
 * is left alone (and loads as before).
 */
function loadDockerode(): typeof Dockerode {
  const fromDockerode = createRequire(require.resolve('dockerode'));
  for (const request of ['docker-modem/lib/ssh.js', './session.js', 'tar-fs', 'docker-modem/lib/http_duplex.js']) {
    try {
      deferModule(fromDockerode.resolve(request));
    } catch (err) {
      log(`loading ${request} at start-up (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return require('dockerode') as typeof Dockerode;
}

/**
 * Puts a stand-in for a CommonJS module (a function, class or object) in the module cache: the
 * real module is loaded by the first call, construction or property read, then used for good.
 */
function deferModule(file: string): void {
  const cache = require.cache as Record<string, NodeJS.Module | undefined>;
  if (cache[file]) return;
  let real: Record<string | symbol, unknown> & ((...a: unknown[]) => unknown);
  const load = () => {
    if (!real) {
      if (cache[file] === stub) delete cache[file];
      real = require(file);
    }
    return real;
  };
  const stub = new Module(file) as NodeJS.Module & { filename: string; loaded: boolean };
  stub.filename = file;
  stub.loaded = true;
  stub.exports = new Proxy(function deferred() {}, {
    apply: (_t, self, args) => Reflect.apply(load(), self, args),
    construct: (_t, args) => Reflect.construct(load(), args),
    get: (_t, key) => load()[key],
    has: (_t, key) => key in load(),
  });
  cache[file] = stub;
}

/** LAMBDA_IMAGE_ENGINE_TIMEOUT (seconds), else 60 s: long enough for a slow engine's create or remove. */
export function engineCallTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env.LAMBDA_IMAGE_ENGINE_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/** What docker-modem's dial() is given by dockerode for one engine call. */
interface DialOptions {
  path: string;
  method?: string;
  isStream?: boolean;
  hijack?: boolean;
  openStdin?: boolean;
  file?: unknown;
  abortSignal?: AbortSignal;
}
type DialCallback = (err: unknown, data?: unknown) => void;

/** The container wait long-poll: its answer comes when the container exits, its headers at once. */
const WAIT_PATH = /^\/containers\/[^/]+\/wait\b/;
/** Errors that mean the connection to the engine failed or broke, not that the engine said no. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOENT',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/**
 * Gives every engine call a deadline, in one place. docker-modem's own `timeout` is a socket idle
 * timer that also cuts attach streams and waits that are legitimately silent, and its
 * `connectionTimeout` ends at the TCP accept, so an engine that accepts and never answers hangs
 * the CLI. Here: an ordinary call must be fully answered within `timeoutMs`; a streaming call
 * (attach, logs, build, archives) and the wait long-poll must send their response headers within
 * it (a build's upload restarts the timer at every chunk it sends, then once it is sent). The
 * request is aborted at the deadline, so nothing is left holding the process open. A connection
 * that fails or breaks becomes ENGINE_UNREACHABLE naming the call; an HTTP refusal becomes a
 * known error naming the call, the status and the engine's message (EngineRefusalError).
 */
export function applyDeadlines(docker: Dockerode, address: string, timeoutMs: number): void {
  const modem = docker.modem as unknown as { dial(o: DialOptions, cb: DialCallback): void };
  const dial = modem.dial.bind(modem);
  modem.dial = (options, callback) => {
    const call = `${options.method ?? 'GET'} ${options.path.replace(/\?$/, '').replace(/[0-9a-f]{64}/g, (id) => id.slice(0, 12))}`;
    const controller = new AbortController();
    let expired = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        expired = true;
        controller.abort();
      }, timeoutMs);
    };
    arm();
    // An upload (a build context) goes through a pass-through that re-arms the timer per chunk
    // sent and once it is all sent, keeping the engine's backpressure.
    const upload = options.file as NodeJS.ReadableStream | string | undefined;
    let file = upload;
    if (upload && typeof upload !== 'string' && typeof upload.pipe === 'function') {
      const tap = new Transform({
        transform(chunk, _enc, next) {
          arm();
          next(null, chunk);
        },
        flush(next) {
          arm();
          next();
        },
      });
      upload.on('error', (err) => tap.destroy(err));
      file = upload.pipe(tap);
    }
    let done = false;
    const finish = (err: unknown, data?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      callback(err ? engineCallError(err, { expired, call, address, timeoutMs, image: imageOf(options) }) : null, data);
    };
    const longPoll = WAIT_PATH.test(options.path) && !options.isStream;
    const dialOptions: DialOptions = {
      ...options,
      file,
      abortSignal: options.abortSignal ? AbortSignal.any([options.abortSignal, controller.signal]) : controller.signal,
      // Read as a stream so the deadline can end at the headers; parsed below as dockerode would.
      ...(longPoll ? { isStream: true } : {}),
    };
    dial(dialOptions, (err, data) => {
      if (err || !longPoll) return finish(err, data);
      clearTimeout(timer);
      readJson(data as NodeJS.ReadableStream).then(
        (json) => finish(null, json),
        (e) => finish(e),
      );
    });
  };
}

/** The image a create call names (dockerode passes the create body as `options`). */
function imageOf(options: DialOptions): string | undefined {
  const image = (options as { options?: { Image?: unknown } }).options?.Image;
  return typeof image === 'string' ? image : undefined;
}

function readJson(res: NodeJS.ReadableStream): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      ended = true;
      const text = Buffer.concat(chunks).toString();
      try {
        resolve(JSON.parse(text));
      } catch {
        resolve(text);
      }
    });
    res.on('error', reject);
    // The engine went away before the answer was complete.
    res.on('close', () => {
      if (!ended)
        reject(Object.assign(new Error('the connection closed before the answer ended'), { code: 'ECONNRESET' }));
    });
  });
}

function engineCallError(
  err: unknown,
  c: { expired: boolean; call: string; address: string; timeoutMs: number; image?: string },
): unknown {
  if (c.expired) {
    return new LambdaImageError(
      'ENGINE_UNREACHABLE',
      `the Docker engine at ${c.address} did not answer ${c.call} within ${c.timeoutMs / 1000} s`,
      {
        hint: "the engine accepts connections but does not answer: restart it (dockerd, Docker Desktop or Podman's service); LAMBDA_IMAGE_ENGINE_TIMEOUT=<seconds> allows a slow engine more time",
        cause: err,
      },
    );
  }
  const hint = "start the engine again (dockerd, Docker Desktop or Podman's service), then run the command again";
  const e = err as { statusCode?: number; code?: string; message?: string; json?: { message?: unknown } };
  if (
    e.statusCode === undefined &&
    ((e.code && CONNECTION_ERRORS.has(e.code)) || /socket hang up/i.test(e.message ?? ''))
  ) {
    return new LambdaImageError(
      'ENGINE_UNREACHABLE',
      `lost the Docker engine at ${c.address} (${e.code ?? e.message} on ${c.call})`,
      { hint, cause: err },
    );
  }
  if (e.statusCode !== undefined && e.statusCode >= 400) {
    const message = engineMessage(e);
    return (
      containerRefusal(c.call, c.image, e.statusCode, message, err) ??
      new EngineRefusalError(c.call, e.statusCode, message, err)
    );
  }
  return err;
}

/**
 * Any other refusal (inspect, pull, push, tag, list, remove, ...): one known error naming the
 * call, the status and the engine's words, so no caller can let a raw dockerode error reach
 * the user as a bug. It keeps `statusCode`, so the callers that expect some answers (404 on an
 * inspect means "absent", 409 on a kill means "already stopped") still read them as before.
 */
export class EngineRefusalError extends LambdaImageError {
  readonly statusCode: number;
  readonly call: string;
  /** The engine's own words, without lambda-image's framing. */
  readonly engineMessage: string;

  constructor(call: string, statusCode: number, message: string, cause: unknown) {
    const code = /^POST \/build\b/.test(call)
      ? 'BUILD_FAILED'
      : /^POST \/images\/.+\/push$/.test(call)
        ? 'PUSH_FAILED'
        : statusCode === 404 && /\/images\//.test(call)
          ? 'IMAGE_NOT_FOUND'
          : 'ENGINE_REFUSED';
    super(code, `the Docker engine refused ${call} (HTTP ${statusCode}): ${message}`, {
      hint:
        statusCode >= 500
          ? "the engine failed on its side: its message says why; check it (docker info, the engine's log), then run the command again"
          : "the engine's message says why; check the image or name it refers to, then run the command again",
      cause,
    });
    this.name = 'EngineRefusalError';
    this.statusCode = statusCode;
    this.call = call;
    this.engineMessage = message;
  }
}

/** The engine's own words for a refusal: its JSON `message`, else modem's text without the prefix. */
function engineMessage(e: { message?: string; json?: { message?: unknown } }): string {
  if (typeof e.json?.message === 'string' && e.json.message.trim()) return e.json.message.trim();
  return (e.message ?? 'no reason given').replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/**
 * A refusal to create or start a container (a setting the engine or host forbids: rlimits on a
 * rootless Podman, a memory limit without the cgroup controller, a bad image) is the container
 * failing, in the engine's words; a missing image on create is IMAGE_NOT_FOUND. Other refusals
 * (404 on inspect, 409 on remove) are for the caller to interpret.
 */
function containerRefusal(
  call: string,
  image: string | undefined,
  status: number,
  message: string,
  cause: unknown,
): LambdaImageError | undefined {
  const create = /^POST \/containers\/create$/.test(call);
  const start = /^POST \/containers\/[^/]+\/start$/.test(call);
  if (!create && !start) return undefined;
  if (create && status === 404) {
    return new LambdaImageError('IMAGE_NOT_FOUND', `the engine has no image ${image ?? 'of that name'}: ${message}`, {
      hint: 'build it first ("lambda-image build"), or pass --image with an image the engine has',
      cause,
    });
  }
  const what = create ? `create a container${image ? ` from ${image}` : ''}` : 'start the container';
  return new LambdaImageError('CONTAINER_FAILED', `the engine refused to ${what} (HTTP ${status}): ${message}`, {
    hint: "the engine's message says why; a rootless or restricted engine (Podman, a host that forbids rlimits or memory limits) refuses some container settings: check its configuration, or try another engine",
    cause,
  });
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}
