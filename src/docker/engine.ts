// Connecting to a Docker engine: DOCKER_HOST, else the current docker context, else the
// default socket; what the engine is (API version, platform, BuildKit or not).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
      context = (JSON.parse(readFileSync(path.join(configDir, 'config.json'), 'utf8')) as { currentContext?: string }).currentContext;
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
    if (host) return { address: `${host} (docker context "${context}")`, options: optionsForHost(host, path.join(configDir, 'contexts', 'tls', id, 'docker')) };
  }
  return { address: 'unix:///var/run/docker.sock', options: { socketPath: '/var/run/docker.sock' } };
}

function optionsForHost(host: string, tlsDir: string): Dockerode.DockerOptions {
  const url = new URL(host);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port: url.port ? Number(url.port) : 22, username: url.username || undefined };
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
  return { protocol: tls ? 'https' : 'http', host: url.hostname, port: url.port ? Number(url.port) : tls ? 2376 : 2375, ca, cert, key };
}

export interface ConnectOptions {
  builder?: 'auto' | 'buildkit' | 'classic';
  /** How long to wait for the engine to answer a ping. */
  timeoutMs?: number;
}

/** Connects and asks the engine what it is; ENGINE_UNREACHABLE with the address tried when it does not answer. */
export async function connectEngine(opts: ConnectOptions = {}): Promise<Engine> {
  const endpoint = resolveEndpoint();
  const { default: Docker } = await import('dockerode');
  const docker = new Docker(endpoint.options);
  log(`connecting to ${endpoint.address}`);
  let version: Dockerode.DockerVersion;
  try {
    version = await withTimeout(docker.version(), opts.timeoutMs ?? 10_000);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new LambdaImageError('ENGINE_UNREACHABLE', `cannot reach the Docker engine at ${endpoint.address} (${reason})`, {
      hint: 'start Docker (dockerd, Docker Desktop or Podman\'s socket), or point DOCKER_HOST / "docker context use" at a running engine',
      cause: err,
    });
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
    desktop: /desktop/i.test((version as unknown as { Platform?: { Name?: string } }).Platform?.Name ?? ''),
  };
  log(`${engine.name}, API ${engine.apiVersion}, ${engine.platform}, builder ${buildkit ? 'BuildKit' : 'classic'}`);
  return engine;
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEDOUT' })), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
