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

/** cgroup v1 (memory.max_usage_in_bytes) or v2 (memory.peak) file of a local container, if readable. */
export async function findPeakFile(id: string): Promise<string | null> {
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

/** Names of the given /opt/extensions programs running in the container now. */
export async function runningExtensions(container: ContainerHandle, names: string[]): Promise<string[]> {
  const commands = await container.processes();
  return names.filter((n) => commands.some((c) => c.includes(`/opt/extensions/${n}`)));
}
