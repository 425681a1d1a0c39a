// Measurements of a running environment, apart from its lifecycle: the container's peak
// memory (for REPORT's Max Memory Used) and which extension processes are running.
import { access, readFile } from 'node:fs/promises';
import type { ContainerHandle } from '../docker/containers.js';

const toMb = (bytes: number) => Math.ceil(bytes / (1024 * 1024));

/**
 * The container's peak memory, measured (not the configured size, as the RIE reports).
 * A local engine's cgroup file is read directly (microseconds); otherwise the stats API.
 */
export class MemoryGauge {
  private peakFile?: string | null;
  /** The last reading: what a REPORT after a crash says (the cgroup went with the container). */
  lastMb?: number;

  constructor(private readonly container: ContainerHandle) {}

  /**
   * A first reading right after init, so a runtime that dies in its first invoke still gets a
   * measured REPORT. Awaited only when it is a local cgroup file (microseconds); the stats API
   * is read in the background.
   */
  async prime(): Promise<void> {
    if (this.peakFile === undefined) this.peakFile = await findPeakFile(this.container.id);
    const reading = this.peakMb();
    if (this.peakFile) await reading;
  }

  async peakMb(): Promise<number | undefined> {
    const mb = await this.read();
    if (mb !== undefined) this.lastMb = Math.max(mb, this.lastMb ?? 0);
    return mb ?? this.lastMb;
  }

  private async read(): Promise<number | undefined> {
    if (this.peakFile === undefined) this.peakFile = await findPeakFile(this.container.id);
    if (this.peakFile) {
      const text = await readFile(this.peakFile, 'utf8').catch(() => undefined);
      if (text) return toMb(Number(text.trim()));
    }
    try {
      const stats = await this.container.stats();
      const bytes = stats.memory_stats?.max_usage ?? stats.memory_stats?.usage;
      return bytes === undefined ? undefined : toMb(bytes);
    } catch {
      return undefined;
    }
  }
}

/**
 * Where a local engine keeps a container's memory cgroup, as [folder, is v2]: Docker's and
 * rootful Podman's, each with the cgroupfs and the systemd cgroup manager.
 */
export function memoryCgroupDirs(id: string): Array<[string, boolean]> {
  return [
    [`/sys/fs/cgroup/memory/docker/${id}`, false],
    [`/sys/fs/cgroup/memory/system.slice/docker-${id}.scope`, false],
    [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, true],
    [`/sys/fs/cgroup/docker/${id}`, true],
    [`/sys/fs/cgroup/memory/libpod_parent/libpod-${id}`, false],
    [`/sys/fs/cgroup/memory/machine.slice/libpod-${id}.scope`, false],
    [`/sys/fs/cgroup/machine.slice/libpod-${id}.scope`, true],
    [`/sys/fs/cgroup/libpod_parent/libpod-${id}`, true],
  ];
}

/** cgroup v1 (memory.max_usage_in_bytes) or v2 (memory.peak) file of a local container, if readable. */
export async function findPeakFile(id: string): Promise<string | null> {
  const candidates = memoryCgroupDirs(id).map(
    ([dir, v2]) => `${dir}/${v2 ? 'memory.peak' : 'memory.max_usage_in_bytes'}`,
  );
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

/** Names of the given /opt/extensions programs running in the container now. */
export async function runningExtensions(container: ContainerHandle, names: string[]): Promise<string[]> {
  const commands = await container.processes();
  return names.filter((n) => commands.some((c) => c.includes(`/opt/extensions/${n}`)));
}

/**
 * The function's own memory, as Lambda counts it: the container's memory cgroup less its
 * shared memory (tmpfs pages: the files in /tmp, which Lambda keeps on ephemeral storage and
 * never charges to the function). Read from a local engine's cgroup files: v1
 * (memory.usage_in_bytes, memory.stat, memory.oom_control) or v2 (memory.current,
 * memory.stat, memory.events). Each reading is two small file reads.
 */
export class FunctionMemory {
  /** The highest reading so far, bytes. */
  peakBytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly v2: boolean,
  ) {}

  /** The container's cgroup, when this machine's engine keeps it where Docker or Podman does (cgroupfs or systemd driver). */
  static async find(id: string): Promise<FunctionMemory | undefined> {
    for (const [dir, v2] of memoryCgroupDirs(id)) {
      try {
        await access(`${dir}/memory.stat`);
        return new FunctionMemory(dir, v2);
      } catch {
        /* next */
      }
    }
    return undefined;
  }

  /** The function's memory now (bytes; undefined once the cgroup is gone), kept as the peak too. */
  async read(): Promise<number | undefined> {
    try {
      const [usage, stat] = await Promise.all([
        readFile(`${this.dir}/${this.v2 ? 'memory.current' : 'memory.usage_in_bytes'}`, 'utf8'),
        readFile(`${this.dir}/memory.stat`, 'utf8'),
      ]);
      const bytes = Math.max(0, Number(usage.trim()) - statField(stat, 'shmem'));
      if (Number.isFinite(bytes)) this.peakBytes = Math.max(this.peakBytes, bytes);
      return bytes;
    } catch {
      return undefined;
    }
  }

  /** How many processes the kernel's OOM killer ended in this cgroup so far (0 when unknown). */
  async oomKills(): Promise<number> {
    const text = await readFile(`${this.dir}/${this.v2 ? 'memory.events' : 'memory.oom_control'}`, 'utf8').catch(
      () => '',
    );
    return statField(text, 'oom_kill');
  }
}

/** A "name value" line of a cgroup file (0 when absent). */
export function statField(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Whether this machine has memory cgroups (v1 or v2) where a local engine's containers may be
 * found. A guess before the container exists: when its cgroup is not found after all (a
 * remote or rootless engine), the sandbox goes back to one limit.
 */
export async function localMemoryCgroups(): Promise<boolean> {
  for (const path of ['/sys/fs/cgroup/memory/memory.stat', '/sys/fs/cgroup/cgroup.controllers']) {
    try {
      await access(path);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}
