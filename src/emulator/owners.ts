// Which process owns a container: every container lambda-image makes is labelled with the
// owning process's pid and an identity of the machine and pid namespace it runs in, so a
// later run can remove the containers of owners that no longer exist (a run killed with
// SIGKILL cannot clean up) without touching those of live processes, here or elsewhere.
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import os from 'node:os';
import type { ContainerClient } from '../docker/containers.js';
import { debug } from '../util/debug.js';
import { processAlive } from '../util/process.js';

const log = debug('emulator');

/** Every container of one run (or of one image inspection) carries its session id. */
export const SESSION_LABEL = 'org.lambda-image.session';
export const OWNER_PID_LABEL = 'org.lambda-image.owner-pid';
export const OWNER_HOST_LABEL = 'org.lambda-image.owner-host';

let identity: string | undefined;

/**
 * This machine's boot and this process's pid namespace (and host name): two processes with
 * the same identity see each other's pids, so "pid not running" means "owner gone".
 */
export function ownerIdentity(): string {
  if (identity) return identity;
  const read = (f: () => string) => {
    try {
      return f().trim();
    } catch {
      return '';
    }
  };
  const boot = read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'));
  const pidns = read(() => readlinkSync('/proc/self/ns/pid'));
  identity = createHash('sha256').update(`${os.hostname()}\n${boot}\n${pidns}`).digest('hex').slice(0, 16);
  return identity;
}

export function ownerLabels(pid = process.pid): Record<string, string> {
  return { [OWNER_PID_LABEL]: String(pid), [OWNER_HOST_LABEL]: ownerIdentity() };
}

/** Removes lambda-image containers whose owner (same machine and pid namespace) is no longer running; returns their ids. */
export async function sweepOrphans(containers: ContainerClient): Promise<string[]> {
  const mine = ownerIdentity();
  const removed: string[] = [];
  let found: Awaited<ReturnType<ContainerClient['list']>>;
  try {
    found = await containers.list(SESSION_LABEL);
  } catch {
    return removed; // cleanup is best effort: never the reason a run fails
  }
  for (const c of found) {
    const pid = Number(c.labels[OWNER_PID_LABEL]);
    if (c.labels[OWNER_HOST_LABEL] !== mine || !Number.isInteger(pid) || pid <= 0) continue;
    if (pid === process.pid || processAlive(pid)) continue;
    log(`removing ${c.id.slice(0, 12)} left by process ${pid}, which is gone`);
    try {
      await containers.get(c.id).remove();
      removed.push(c.id);
    } catch (err) {
      // Best effort, and named: the next run's sweep tries again.
      log(`could not remove ${c.id.slice(0, 12)}: ${(err as Error).message}`);
    }
  }
  return removed;
}
