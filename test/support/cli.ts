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

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; uid?: number; gid?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // The launcher itself, as a user's shell runs it (it execs the `node` on PATH: this one).
    const child = spawn(BIN, args, {
      cwd: opts.cwd,
      // A PATH the test gives is used as is (it must hold a `node`: see pathWithNodeOnly).
      env: { ...process.env, CI: 'true', ...opts.env, PATH: opts.env?.PATH ?? `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` },
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
