// The small container interface the emulator needs over dockerode: create (always labelled),
// start, attach to output line by line, wait, look inside, kill and remove. The rest of the
// code never handles the raw client (the model: testcontainers-node's ContainerClient).
import type Dockerode from 'dockerode';
import { isLambdaImageError, LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { firstHost } from '../util/ipv4.js';
import { lineWriter } from '../util/lines.js';
import { demuxStream } from './demux-stream.js';
import { EngineRefusalError } from './engine.js';

const log = debug('docker');
const REMOVE_ATTEMPTS = 10;

export interface ContainerSpec {
  image: string;
  /** Every container lambda-image makes carries labels: who owns it, for cleanup. */
  labels: Record<string, string>;
  env?: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  exposedPorts?: string[];
  hostConfig?: Dockerode.HostConfig;
  networkingConfig?: Dockerode.ContainerCreateOptions['NetworkingConfig'];
  hostname?: string;
  domainname?: string;
  /** Keep stdin open (never attached): a `read` in the container then blocks for good. */
  openStdin?: boolean;
}

export interface ContainerHandle {
  readonly id: string;
  /** Attaches before start: each output line (stdout and stderr each split on their own); resolves when the output has ended. */
  /**
   * The container's output line by line; `flush` delivers a line written without its newline
   * yet (an invoke ended: its last line is its own, not the start of the next one's).
   */
  attachLines(
    onLine: (line: string, stream: 'stdout' | 'stderr') => void,
  ): Promise<{ ended: Promise<void>; flush(): void }>;
  start(): Promise<void>;
  /** Resolves with the exit status (-1 when the engine could not say); rejects (ENGINE_UNREACHABLE) when the engine went away. */
  wait(): Promise<number>;
  inspect(): Promise<Dockerode.ContainerInspectInfo>;
  /** The command lines of the processes running in the container. */
  processes(): Promise<string[]>;
  /** One stats reading (the slow path for memory: a local cgroup file is faster). */
  stats(): Promise<{ memory_stats?: { max_usage?: number; usage?: number } }>;
  /** A tar stream of a path inside the container (works on created, not started, containers too). */
  archive(path: string): Promise<NodeJS.ReadableStream>;
  kill(signal: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Changes the memory limit of a running container (bytes, swap included). */
  limitMemory(bytes: number): Promise<void>;
  /** Removes it (forced), retrying while the engine is busy stopping it; "no such container" counts as done. */
  remove(): Promise<void>;
}

export interface ContainerSummary {
  id: string;
  image: string;
  labels: Record<string, string>;
  state: string;
}

export interface ContainerClient {
  create(spec: ContainerSpec): Promise<ContainerHandle>;
  /** Containers (running or not) carrying a label (`key` or `key=value`). */
  list(label: string): Promise<ContainerSummary[]>;
  get(id: string): ContainerHandle;
  /** The Config of an image to run (entrypoint, cmd, user), or undefined when the engine does not have it. */
  imageConfig(image: string): Promise<Dockerode.ImageInspectInfo['Config'] | undefined>;
  /** The engine's default bridge: its IPv4 subnet and gateway address. */
  bridgeNetwork(): Promise<{ subnet: string; gateway: string }>;
}

export function containerClient(docker: Dockerode): ContainerClient {
  return {
    async create(spec) {
      const container = await docker.createContainer({
        Image: spec.image,
        Env: spec.env ? Object.entries(spec.env).map(([k, v]) => `${k}=${v}`) : undefined,
        Labels: spec.labels,
        Entrypoint: spec.entrypoint,
        Cmd: spec.cmd,
        User: spec.user,
        Hostname: spec.hostname,
        Domainname: spec.domainname,
        OpenStdin: spec.openStdin,
        ExposedPorts: spec.exposedPorts ? Object.fromEntries(spec.exposedPorts.map((p) => [p, {}])) : undefined,
        HostConfig: spec.hostConfig,
        NetworkingConfig: spec.networkingConfig,
      });
      return handle(container);
    },
    async list(label) {
      const found = await docker.listContainers({ all: true, filters: { label: [label] } });
      return found.map((c) => ({ id: c.Id, image: c.Image, labels: c.Labels ?? {}, state: c.State }));
    },
    get(id) {
      return handle(docker.getContainer(id));
    },
    async bridgeNetwork() {
      const hint =
        "lambda-image runs each environment on the engine's default bridge network: start the engine with it (no --bridge none) and an IPv4 subnet";
      let info: { IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> } };
      try {
        info = await docker.getNetwork('bridge').inspect();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        throw new LambdaImageError('CONTAINER_FAILED', 'the engine has no default bridge network', { hint });
      }
      const v4 = (info.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':'));
      if (!v4?.Subnet)
        throw new LambdaImageError('CONTAINER_FAILED', "the engine's default bridge network has no IPv4 subnet", {
          hint,
        });
      // The default bridge often names no gateway: docker0 then takes the subnet's first address.
      return { subnet: v4.Subnet, gateway: v4.Gateway || firstHost(v4.Subnet) };
    },
    async imageConfig(image) {
      try {
        return (await docker.getImage(image).inspect()).Config;
      } catch (err) {
        // Only "no such image" means absent; a lost or silent engine is reported as such.
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
  };
}

function handle(container: Dockerode.Container): ContainerHandle {
  let output: { stream: NodeJS.ReadableStream; ended: Promise<void> } | undefined;
  /**
   * The engine does not end an attach stream when a container that never started is removed
   * (a refused start): it would hold the process open. After removal the stream gets a moment
   * to deliver its last lines, then goes.
   */
  const closeOutput = async () => {
    if (!output) return;
    const { stream, ended } = output;
    output = undefined;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise((r) => (timer = setTimeout(r, 1000)))]);
    clearTimeout(timer);
    (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
  };
  return {
    id: container.id,
    async attachLines(onLine) {
      // Podman initialises the container (runc create) on attach: its refusals come here.
      const stream = (await container.attach({ stream: true, stdout: true, stderr: true }).catch((err: unknown) => {
        throw startRefusal(err);
      })) as unknown as NodeJS.ReadableStream;
      const out = lineWriter((l) => onLine(l, 'stdout'));
      const err = lineWriter((l) => onLine(l, 'stderr'));
      const ended = Promise.all([
        new Promise((r) => out.on('finish', r)),
        new Promise((r) => err.on('finish', r)),
      ]).then(() => undefined);
      demuxStream(stream, out, err);
      output = { stream, ended };
      return {
        ended,
        flush: () => {
          out.flush();
          err.flush();
        },
      };
    },
    async start() {
      await container.start().catch((err: unknown) => {
        throw startRefusal(err);
      });
    },
    wait() {
      return container.wait().then(
        (r: { StatusCode: number }) => r.StatusCode,
        (err: unknown) => {
          if (isLambdaImageError(err)) throw err;
          return -1;
        },
      );
    },
    inspect() {
      return container.inspect();
    },
    async processes() {
      const top = (await container.top({ ps_args: '-o pid,args' })) as { Processes?: string[][] };
      return (top.Processes ?? []).map((p) => p.at(-1) ?? '');
    },
    async stats() {
      return (await container.stats({ stream: false, 'one-shot': true } as object)) as {
        memory_stats?: { max_usage?: number; usage?: number };
      };
    },
    async archive(path) {
      return (await container.getArchive({ path })) as unknown as NodeJS.ReadableStream;
    },
    async limitMemory(bytes) {
      try {
        await container.update({ Memory: bytes, MemorySwap: bytes });
      } catch (err) {
        // Podman 4.3's compatible API has no update (404 on a container that exists).
        if ((err as { statusCode?: number }).statusCode !== 404) throw err;
        throw new LambdaImageError(
          'CONTAINER_FAILED',
          "the engine cannot change a running container's memory limit (no /containers/{id}/update), and the container's memory cgroup is not readable here",
          {
            hint: "run lambda-image on the engine's machine as a user who can read /sys/fs/cgroup, or LAMBDA_IMAGE_SANDBOX=off",
            cause: err,
          },
        );
      }
    },
    async kill(signal) {
      await container.kill({ signal }).catch((err: { statusCode?: number }) => {
        // Already stopped (409) or gone (404): nothing to signal.
        if (err.statusCode !== 409 && err.statusCode !== 404) throw err;
      });
    },
    async remove() {
      let last: unknown;
      for (let attempt = 0; attempt < REMOVE_ATTEMPTS; attempt++) {
        try {
          await container.remove({ force: true });
          return await closeOutput();
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode === 404) return await closeOutput();
          // A lost or silent engine will not remove it on a retry: say so at once.
          if (isLambdaImageError(err)) {
            await closeOutput();
            throw err;
          }
          last = err;
          log(`remove ${container.id.slice(0, 12)}: ${(err as Error).message}; retrying`);
          if (attempt + 1 < REMOVE_ATTEMPTS) await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
        }
      }
      // Never silently: the caller names what stays behind (the leftover list, the next run's sweep).
      await closeOutput();
      throw new LambdaImageError(
        'CONTAINER_FAILED',
        `the engine did not remove container ${container.id.slice(0, 12)} after ${REMOVE_ATTEMPTS} tries: ${(last as Error)?.message ?? String(last)}`,
        { hint: `remove it yourself: docker rm -f ${container.id.slice(0, 12)}`, cause: last },
      );
    },
  };
}

/**
 * An engine's refusal to set up or start a container, as one line: the engine's own message
 * (not dockerode's "(HTTP code 500)" prefix), and for the known case of a host without
 * CAP_SYS_RESOURCE (rootful Podman cannot raise its default open-file/process limits) the fix.
 */
export function startRefusal(err: unknown): unknown {
  // The engine connection frames every refusal (EngineRefusalError); a container's is read here.
  const refused = err instanceof EngineRefusalError;
  if (isLambdaImageError(err) && !refused) return err;
  const status = (err as { statusCode?: number }).statusCode;
  if (status === undefined) return err;
  const json = (err as { json?: { message?: string } }).json;
  const message = refused
    ? err.engineMessage.trim()
    : (json?.message ?? (err as Error).message.replace(/^\(HTTP code \d+\) [^-]*- /, '')).trim();
  if (/setting rlimit/i.test(message)) {
    return new LambdaImageError(
      'CONTAINER_FAILED',
      'the engine cannot start containers: it may not raise their open-file/process limits on this host (no CAP_SYS_RESOURCE)',
      {
        hint: 'give Podman a containers.conf (CONTAINERS_CONF=FILE) with [containers] default_ulimits = ["nofile=20000:20000","nproc=32768:32768"] and restart its service',
        cause: err,
      },
    );
  }
  return new LambdaImageError('CONTAINER_FAILED', `the engine refused to start the container: ${message}`, {
    hint: 'lambda-image doctor checks what invoke and start need from the engine',
    cause: err,
  });
}
