// Where each execution environment's network lives and how it reaches lambda-image's API
// server. By default every environment gets its own network namespace on the engine's
// default bridge (two environments never share a port, as on Lambda), and the API server
// listens on the bridge's gateway address only, refusing peers outside the bridge's subnet,
// so the Runtime API is reachable from the environments and not from other machines.
// Docker Desktop runs the engine in a VM: there containers reach the host's loopback as
// host.docker.internal, so the server stays on 127.0.0.1.
import type Dockerode from 'dockerode';
import type { ContainerClient } from '../docker/containers.js';
import { LambdaImageError } from '../errors.js';
import { inSubnet } from '../util/ipv4.js';

export interface NetworkPlan {
  /** The address the API server listens on. */
  listenHost: string;
  /** AWS_LAMBDA_RUNTIME_API for a server on `port`. */
  runtimeApi(port: number): string;
  hostConfig: Dockerode.HostConfig;
  hostname?: string;
  domainname?: string;
  exposedPorts?: string[];
  /** Which peers may call the API (undefined: the listen address already limits them). */
  allowPeer?: (address: string) => boolean;
  /** isolated: own namespace on a bridge; shared: the host's network (sandbox settings off). */
  mode: 'isolated' | 'shared' | 'desktop';
}

/** The port Telemetry subscribers listen on by convention: published on Docker Desktop, where container addresses are unreachable. */
export const TELEMETRY_PORT = 4243;

export async function planNetwork(
  engine: { desktop: boolean; kind?: 'docker' | 'podman' },
  containers: ContainerClient,
  isolated: boolean,
): Promise<NetworkPlan> {
  if (!isolated) {
    // The sandbox settings off: the host's network, as lambda-image did before (and a runtime reaches Lambda's API on 127.0.0.1:9001).
    return {
      mode: 'shared',
      listenHost: '127.0.0.1',
      runtimeApi: (port) => `127.0.0.1:${port}`,
      hostConfig: { NetworkMode: 'host', ExtraHosts: ['sandbox.localdomain:127.0.0.1'] },
    };
  }
  if (engine.desktop) {
    // Not testable on this Linux CI: Docker Desktop forwards host.docker.internal to the host's loopback.
    return {
      mode: 'desktop',
      listenHost: '127.0.0.1',
      runtimeApi: (port) => `host.docker.internal:${port}`,
      hostConfig: {
        ExtraHosts: ['host.docker.internal:host-gateway'],
        PortBindings: { [`${TELEMETRY_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }] },
      },
      exposedPorts: [`${TELEMETRY_PORT}/tcp`],
      hostname: 'sandbox',
      domainname: 'localdomain',
    };
  }
  let bridge: { subnet: string; gateway: string };
  try {
    bridge = await containers.bridgeNetwork();
  } catch (err) {
    throw new LambdaImageError(
      'CONTAINER_FAILED',
      `the engine has no usable default bridge network for the environments (${(err as Error).message})`,
      {
        hint: 'each environment gets its own network namespace on the bridge; LAMBDA_IMAGE_SANDBOX=off runs them on the host network instead',
        cause: err,
      },
    );
  }
  return {
    mode: 'isolated',
    // Podman's bridge (podman0/cni-podman0) exists only while a container is attached, so its
    // gateway address cannot be bound before the first environment starts: all addresses
    // then, with every peer outside the bridge's subnet refused (allowPeer below).
    listenHost: engine.kind === 'podman' ? '0.0.0.0' : bridge.gateway,
    runtimeApi: (port) => `${bridge.gateway}:${port}`,
    // The engine writes "<container ip> sandbox.localdomain sandbox" into /etc/hosts.
    hostConfig: { NetworkMode: 'bridge' },
    hostname: 'sandbox',
    domainname: 'localdomain',
    allowPeer: (address) => inSubnet(address.replace(/^::ffff:/, ''), bridge.subnet),
  };
}
