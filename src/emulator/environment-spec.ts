// What one execution environment's container is, as data: Lambda's variables, the execution
// user, the read-only root, /tmp of the ephemeral storage's size, the memory limit, labels and
// the network it joins. Pure (no engine, no clock, no randomness of its own): the sandbox
// passes in what it measured or drew, and unit tests reach every rule without an engine.
import type { ContainerSpec } from '../docker/containers.js';
import { type FunctionImage, SESSION_LABEL } from './function-image.js';
import { EXTENSIONS_INIT, INIT_SHELL_NAME } from './init-shell.js';
import type { FunctionIdentity } from './lambda-state.js';
import { LAMBDA_NOFILE_LIMIT, LAMBDA_PIDS_LIMIT, PODMAN_NPROC_LIMIT } from './limits.js';
import type { NetworkPlan } from './network.js';

/** Lambda's execution user (sbx_user1051). */
export const LAMBDA_USER = '993:990';

/** Lambda's AWS_LAMBDA_INITIALIZATION_TYPE values this emulator uses. */
export type InitializationType = 'on-demand' | 'provisioned-concurrency';

export interface EnvironmentSpecInput {
  identity: FunctionIdentity;
  memoryMb: number;
  region: string;
  /** Size of /tmp (Lambda's ephemeral storage), MB. */
  ephemeralMb: number;
  /**
   * /tmp is not charged to the function's memory: the container's cgroup gets memory plus
   * ephemeral storage (tmpfs pages are charged to it), and the function's own share (the
   * cgroup less its shared memory) is held to memoryMb by the sandbox, which reads the cgroup.
   */
  tmpOutsideMemory?: boolean;
  /** Lambda's execution environment (user, read-only root, /tmp, own namespace); false: a plain container. */
  isolated: boolean;
  /** Podman refuses tmpfs uid=/gid= options; its own `U` option gives /tmp to the container's user. */
  engineKind?: 'docker' | 'podman';
  /** The session this environment belongs to (for cleanup). */
  session: string;
  /** Labels naming the owning process (owners.ts). */
  ownerLabels: Record<string, string>;
  /** The function's image, how it starts and which extensions it carries. */
  image: FunctionImage;
  network: Pick<NetworkPlan, 'hostConfig' | 'hostname' | 'domainname' | 'exposedPorts'>;
  /** AWS_LAMBDA_RUNTIME_API: where the environment reaches lambda-image's API server. */
  runtimeApi: string;
  /** A container holding a network namespace made ahead (netns.ts): the environment joins it. */
  netHolderId?: string;
  /** AWS_LAMBDA_LOG_STREAM_NAME, drawn by the caller (it has a date and a random part). */
  logStreamName: string;
  /** The caller's AWS credentials, passed on as Lambda passes the role's. */
  credentials: Record<string, string>;
  /** Extra environment (--env, --env-file), after Lambda's own variables. */
  env: Record<string, string>;
  /** How Lambda started this environment: on demand, or ahead of its invokes (`start --watch --prewarm`). */
  initializationType?: InitializationType;
  /**
   * The engine has no init binary (docker-init, catatonit): the init shell is PID 1 instead,
   * and it reaps orphans while it waits for the runtime.
   */
  withoutInit?: boolean;
}

/** Lambda's log stream name for an environment started on `date`: YYYY/MM/DD/[version]<32 hex>. */
export function logStreamName(version: string, date: Date, hex32: string): string {
  return `${date.toISOString().slice(0, 10).replace(/-/g, '/')}/[${version}]${hex32}`;
}

/** The variables Lambda sets for a function, then the caller's. */
export function lambdaEnvironment(input: EnvironmentSpecInput): Record<string, string> {
  const id = input.identity;
  return {
    AWS_LAMBDA_RUNTIME_API: input.runtimeApi,
    AWS_LAMBDA_FUNCTION_NAME: id.functionName,
    AWS_LAMBDA_FUNCTION_VERSION: id.version,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(input.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${id.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: input.logStreamName,
    AWS_LAMBDA_INITIALIZATION_TYPE: input.initializationType ?? 'on-demand',
    AWS_REGION: input.region,
    AWS_DEFAULT_REGION: input.region,
    _HANDLER: id.handler,
    LAMBDA_TASK_ROOT: '/var/task',
    LAMBDA_RUNTIME_DIR: '/var/runtime',
    TZ: ':UTC',
    ...input.credentials,
    ...input.env,
  };
}

/** The container create options of one execution environment. */
export function environmentSpec(input: EnvironmentSpecInput): ContainerSpec {
  const memory = (input.memoryMb + (input.isolated && input.tmpOutsideMemory ? input.ephemeralMb : 0)) * 1024 * 1024;
  // Limits hold for every environment, isolated or not: a fork bomb must not reach the host.
  // Lambda's 1,024 open files (the engine's default is far higher); an init as PID 1 that
  // reaps orphans, as Lambda's own init does (else their zombies fill the process cap: the
  // engine's docker-init, catatonit on Podman); no IPC namespace of its own, so no /dev/shm
  // (Lambda has no writable one, and the engine's 64 MB would sit outside the memory limit).
  const limits = {
    Memory: memory,
    MemorySwap: memory,
    PidsLimit: LAMBDA_PIDS_LIMIT,
    Ulimits: [
      { Name: 'nofile', Soft: LAMBDA_NOFILE_LIMIT, Hard: LAMBDA_NOFILE_LIMIT },
      ...(input.engineKind === 'podman' ? [{ Name: 'nproc', Soft: PODMAN_NPROC_LIMIT, Hard: PODMAN_NPROC_LIMIT }] : []),
    ],
    Init: input.withoutInit ? undefined : true,
    IpcMode: 'none',
  };
  const spec: ContainerSpec = {
    image: input.image.image,
    env: lambdaEnvironment(input),
    labels: { [SESSION_LABEL]: input.session, ...input.ownerLabels },
    hostname: input.network.hostname,
    domainname: input.network.domainname,
    exposedPorts: input.network.exposedPorts,
    hostConfig: { ...input.network.hostConfig, ...limits },
  };
  if (input.netHolderId) {
    // A namespace made ahead: its host name, hosts file and published ports come with it.
    spec.hostname = spec.domainname = spec.exposedPorts = undefined;
    spec.hostConfig = { NetworkMode: `container:${input.netHolderId}`, ...limits };
  }
  if (input.isolated) {
    spec.user = LAMBDA_USER;
    spec.hostConfig!.ReadonlyRootfs = true;
    // Lambda's /tmp: writable by the function's user, executable, the ephemeral storage's size.
    const owner = input.engineKind === 'podman' ? 'U' : 'uid=993,gid=990';
    spec.hostConfig!.Tmpfs = { '/tmp': `rw,exec,nosuid,nodev,size=${input.ephemeralMb}m,${owner},mode=1777` };
  }
  if (input.image.extensions.length || input.withoutInit) {
    spec.entrypoint = ['/bin/sh', '-c', EXTENSIONS_INIT, INIT_SHELL_NAME];
    spec.cmd = [...input.image.entrypoint, ...input.image.cmd];
  }
  return spec;
}
