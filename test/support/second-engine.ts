// A throw-away second Docker engine for fault tests (killing it mid-invoke): its own data and
// exec roots, pid file and socket, and its own bridge (never `--bridge none`, which would delete
// the docker0 bridge the main engine uses; two engines cannot share docker0 either).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import Docker from 'dockerode';

export interface SecondEngine {
  dockerHost: string;
  docker: Docker;
  /** The engine's process id (its pid file), for SIGKILL. */
  pid(): number;
  /** Starts the engine (again, on the same data: what survived a kill is still there). */
  start(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Stops it gracefully, removes its bridge and its directories. */
  destroy(): Promise<void>;
}

/** Why a second engine cannot run here, or undefined when it can. */
export function secondEngineProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'a second dockerd needs root';
  for (const tool of ['dockerd', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

export async function secondEngine(): Promise<SecondEngine> {
  const id = randomBytes(3).toString('hex');
  // Short: a unix socket path is limited to 108 bytes.
  const root = `/tmp/li-engine-${id}`;
  const bridge = `libr${id}`;
  const sock = path.join(root, 'docker.sock');
  const pidFile = path.join(root, 'docker.pid');
  const logFile = path.join(root, 'dockerd.log');
  mkdirSync(root, { recursive: true });
  const subnet = `10.${200 + (parseInt(id.slice(0, 2), 16) % 50)}.${parseInt(id.slice(2, 4), 16)}`;
  execFileSync('ip', ['link', 'add', bridge, 'type', 'bridge']);
  execFileSync('ip', ['addr', 'add', `${subnet}.1/24`, 'dev', bridge]);
  execFileSync('ip', ['link', 'set', bridge, 'up']);
  const docker = new Docker({ socketPath: sock });
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const engine: SecondEngine = {
    dockerHost: `unix://${sock}`,
    docker,
    pid: () => Number(readFileSync(pidFile, 'utf8').trim()),
    async start() {
      // A killed engine leaves its pid files (its own, its containerd's): where nothing reaps the
      // dead (a container's init), the pids stay "alive" and the next engine would wait on them.
      if (proc && proc.exitCode === null && proc.signalCode === null)
        throw new Error('the second dockerd is still running');
      rmSync(pidFile, { force: true });
      rmSync(path.join(root, 'exec', 'containerd', 'containerd.pid'), { force: true });
      proc = spawn(
        'dockerd',
        [
          '--data-root',
          path.join(root, 'data'),
          '--exec-root',
          path.join(root, 'exec'),
          '--pidfile',
          pidFile,
          '-H',
          `unix://${sock}`,
          '--bridge',
          bridge,
          '--iptables=false',
          '--ip6tables=false',
          '--ip-masq=false',
        ],
        { stdio: ['ignore', 'ignore', openSync(logFile, 'a')] },
      );
      const child = proc;
      exited = new Promise((r) => child.once('exit', () => r()));
      const end = Date.now() + 30_000;
      for (;;) {
        try {
          await docker.ping();
          return;
        } catch (err) {
          if (Date.now() > end || child.exitCode !== null || child.signalCode !== null)
            throw new Error(
              `the second dockerd did not start: ${(err as Error).message}\n${readFileSync(logFile, 'utf8').split('\n').slice(-8).join('\n')}`,
            );
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    },
    async kill(signal) {
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      await exited;
    },
    async destroy() {
      // A killed engine leaves its containers' shims running: started again, it stops them.
      if (proc && (proc.exitCode !== null || proc.signalCode !== null)) await engine.start().catch(() => undefined);
      if (proc && proc.exitCode === null && proc.signalCode === null) {
        for (const c of await docker.listContainers({ all: true }).catch(() => []))
          await docker
            .getContainer(c.Id)
            .remove({ force: true })
            .catch(() => {});
        await engine.kill('SIGTERM');
      }
      // Shims the engine did not stop (it was killed): ours by the root in their arguments.
      killProcessesMentioning(root);
      try {
        execFileSync('ip', ['link', 'delete', bridge], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
      // Mounts left by a killed engine are unmounted before the directory goes.
      try {
        execFileSync('sh', ['-c', `grep -o ' ${root}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l`], {
          stdio: 'ignore',
        });
      } catch {
        /* nothing mounted */
      }
      if (existsSync(root)) rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await engine.start();
  } catch (err) {
    await engine.destroy();
    throw err;
  }
  return engine;
}

/** SIGKILL to every process whose command line names `marker` (a unique directory), and to their children. */
function killProcessesMentioning(marker: string): void {
  const procs = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const info = procs.map((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const ppid = Number(
        readFileSync(`/proc/${pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ')[1],
      );
      return { pid: Number(pid), ppid, cmdline };
    } catch {
      return undefined;
    }
  });
  const ours = new Set(info.filter((p) => p?.cmdline.includes(marker)).map((p) => p!.pid));
  const children = info.filter((p) => p && ours.has(p.ppid)).map((p) => p!.pid);
  for (const pid of [...children, ...ours]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
