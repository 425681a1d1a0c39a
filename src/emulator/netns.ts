// Network namespaces made ahead of the environments that will use them. Giving a container
// its own namespace on the bridge (veth pair, address, hosts file) is most of what the
// engine adds to a cold start here; Lambda also prepares its sandboxes before it needs them.
// A spare is a container of the function's image that only holds a namespace (a shell
// blocked on `read`, as non-root on a read-only root); the environment joins it with
// NetworkMode container:<id>. Images without /bin/sh get their namespace at start instead.
import type { ContainerClient, ContainerHandle } from '../docker/containers.js';
import { debug } from '../util/debug.js';
import { SESSION_LABEL } from './function-image.js';
import type { NetworkPlan } from './network.js';
import { ownerLabels } from './owners.js';

const log = debug('emulator');

export const NETNS_ROLE_LABEL = 'org.lambda-image.role';

export class NetworkSpares {
  private spare?: Promise<ContainerHandle | undefined>;
  private all = new Set<ContainerHandle>();
  private closed = false;
  /** Spares the engine could not remove at close (it went away). */
  readonly leftBehind: string[] = [];
  /** Set once a spare could not be made (no /bin/sh): environments then make their own. */
  private unsupported = false;

  constructor(
    private readonly containers: ContainerClient,
    private readonly plan: Promise<NetworkPlan>,
    private readonly image: string,
    private readonly session: string,
  ) {
    plan.catch(() => undefined); // the environment's own planNetwork reports the problem
  }

  /** Starts making one spare in the background, if none is ready or on its way. */
  prepare(): void {
    if (this.spare || this.closed || this.unsupported) return;
    const making = this.make();
    this.spare = making;
    making.catch(() => undefined);
  }

  /** Resolves once the spare on its way (if any) is ready. */
  async ready(): Promise<void> {
    await this.spare?.catch(() => undefined);
  }

  /** A namespace holder ready to join (owned by the caller from now on), or undefined: make your own. */
  async take(): Promise<ContainerHandle | undefined> {
    this.prepare();
    const spare = this.spare;
    this.spare = undefined;
    const holder = await spare?.catch(() => undefined);
    if (holder) this.all.delete(holder);
    return holder;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.spare;
    this.spare = undefined;
    await pending?.catch(() => undefined);
    // A lost engine cannot remove them: they are named by the pool, the close itself never fails.
    await Promise.all([...this.all].map((h) => h.remove().catch(() => this.leftBehind.push(h.id))));
    this.all.clear();
  }

  private async make(): Promise<ContainerHandle | undefined> {
    const plan = await this.plan;
    const holder = await this.containers.create({
      image: this.image,
      entrypoint: ['/bin/sh', '-c', 'read _'],
      cmd: [],
      openStdin: true,
      user: '993:990',
      labels: { [SESSION_LABEL]: this.session, [NETNS_ROLE_LABEL]: 'netns', ...ownerLabels() },
      hostname: plan.hostname,
      domainname: plan.domainname,
      exposedPorts: plan.exposedPorts,
      // It runs one shell: a few processes at most, whatever the image tries.
      hostConfig: { ...plan.hostConfig, ReadonlyRootfs: true, Memory: 16 * 1024 * 1024, PidsLimit: 16 },
    });
    this.all.add(holder);
    try {
      await holder.start();
    } catch (err) {
      log(`no network spare from ${this.image} (${(err as Error).message}); environments make their own namespace`);
      this.unsupported = true;
      this.all.delete(holder);
      await holder.remove();
      return undefined;
    }
    if (this.closed) {
      this.all.delete(holder);
      await holder.remove();
      return undefined;
    }
    return holder;
  }
}
