// Test helper: runs the real CLI (bin/lambda-image) as a child process.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/lambda-image', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's environment: CI set, and this `node` first on PATH (a PATH the test gives is used as is: it must hold a `node`, see pathWithNodeOnly). */
function cliEnv(env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CI: 'true',
    ...env,
    PATH: env.PATH ?? `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
}

/**
 * Starts the CLI and resolves once its stderr matches `ready` (for signals sent mid-run);
 * rejects if it exits first. `stderr()` is everything it printed so far.
 */
export async function startCliUntil(args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(BIN, args, { env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      if (ready.test(stderr)) resolve();
    });
    child.on('close', () => reject(new Error(`exited before ${ready}: ${stderr}`)));
  });
  return { child, exited, stderr: () => stderr };
}

export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; uid?: number; gid?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // The launcher itself, as a user's shell runs it (it execs the `node` on PATH: this one).
    const child = spawn(BIN, args, {
      cwd: opts.cwd,
      env: cliEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
      uid: opts.uid,
      gid: opts.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A PATH that holds this `node` and nothing else (for tests of tools missing on the host). */
export function pathWithNodeOnly(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const link = path.join(dir, 'node');
  if (!existsSync(link)) symlinkSync(process.execPath, link);
  return dir;
}

/**
 * Runs the program in this process (src/cli/main.ts's runCli) with its output captured: for
 * parsing and message tests, where spawning a Node process per case costs about 0.3 s. `env`
 * is laid over process.env and `cwd` is entered for the run; both are restored after. A run
 * that needs stdin, another user or its own PATH is spawned (runCli).
 */
export async function runCliInProcess(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; uid?: number; gid?: number } = {},
): Promise<CliResult> {
  // stdin, another user and a PATH of its own need a process of their own.
  if (opts.input !== undefined || opts.uid !== undefined || opts.gid !== undefined || opts.env?.PATH)
    return runCli(args, opts);
  const { runCli: run } = await import('../../src/cli/main.js');
  const savedEnv = { ...process.env };
  const savedCwd = process.cwd();
  Object.assign(process.env, { CI: 'true' }, opts.env);
  if (opts.cwd) process.chdir(opts.cwd);
  let stdout = '';
  let stderr = '';
  try {
    const code = await run(['node', 'lambda-image', ...args], {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
    });
    return { code, stdout, stderr };
  } finally {
    process.chdir(savedCwd);
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
}
