// One execution environment under delve (`--debug`), as data: the same container spec (user,
// read-only root, /tmp, its own network, limits, the init shell with extensions) with the
// runtime's command run as `dlv exec` of the real bootstrap, and delve's port published on the
// host's loopback only. Nothing else is added: delve traces its own child, which the engine's
// default seccomp profile and Yama allow without CAP_SYS_PTRACE (seen on this engine). Pure.
import type { ContainerSpec } from '../docker/containers.js';
import { INIT_SHELL_NAME } from './init-shell.js';

/** delve's port inside the environment's own network namespace. */
export const DELVE_PORT = 2345;

export interface DebugSpecOptions {
  /** Where delve is in the image (render/debug.ts puts it at /usr/local/bin/dlv). */
  delvePath: string;
  /** Wait for a client before the bootstrap runs (to break in init()); default: continue at once. */
  wait: boolean;
}

/** delve's command line for the function's bootstrap. */
export function delveCommand(opts: DebugSpecOptions): string[] {
  return [
    opts.delvePath,
    'exec',
    '--headless',
    '--api-version=2',
    '--accept-multiclient',
    `--listen=:${DELVE_PORT}`,
    ...(opts.wait ? [] : ['--continue']),
    '/var/runtime/bootstrap',
  ];
}

/** The environment's container spec with the runtime run under delve. */
export function debugSpec(spec: ContainerSpec, opts: DebugSpecOptions): ContainerSpec {
  const underInitShell = spec.entrypoint?.at(-1) === INIT_SHELL_NAME;
  const out: ContainerSpec = {
    ...spec,
    // With extensions the init shell starts them, then its arguments as the runtime.
    ...(underInitShell ? { cmd: delveCommand(opts) } : { entrypoint: delveCommand(opts), cmd: [] }),
    // delve writes its config under $XDG_CONFIG_HOME: the root is read-only, /tmp is not.
    env: { ...spec.env, XDG_CONFIG_HOME: '/tmp/.lambda-image-debug' },
  };
  const port = `${DELVE_PORT}/tcp`;
  if (spec.hostConfig?.NetworkMode?.startsWith('container:')) return out; // ports belong to the namespace's holder
  out.exposedPorts = [...(spec.exposedPorts ?? []), port];
  out.hostConfig = {
    ...spec.hostConfig,
    PortBindings: { ...spec.hostConfig?.PortBindings, [port]: [{ HostIp: '127.0.0.1', HostPort: '0' }] },
  };
  return out;
}
