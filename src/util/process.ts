// Whether a process of this machine and pid namespace still runs (owners of containers, temporary tags).

/** True while `pid` exists; EPERM means it exists and is only not ours to signal. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
