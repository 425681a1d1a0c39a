// The host's Go toolchain as the watch's compiler (start --watch --compile host): the same
// flags and target as the Dockerfile's build stage, the host's own module and build caches.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';

/** Container-side cache locations are the builder's, not the host's. */
const BUILDER_ONLY = ['GOMODCACHE', 'GOCACHE'];

/** Compiles in `dir`; resolves with the binary's bytes, or ok false and the compiler's lines. */
export async function compileOnHost(
  dir: string,
  env: Record<string, string>,
  argv: string[],
  main: string,
  hostEnv: NodeJS.ProcessEnv = process.env,
): Promise<{ ok: true; bytes: Buffer } | { ok: false; lines: string[] }> {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lambda-image-compile-'));
  const out = path.join(tmp, 'bootstrap');
  const own = Object.fromEntries(Object.entries(env).filter(([k]) => !BUILDER_ONLY.includes(k)));
  try {
    const [cmd, ...args] = argv;
    const result = await new Promise<{ code: number; output: string }>((resolve, reject) =>
      execFile(
        cmd!,
        [...args, '-o', out, main],
        { cwd: dir, env: { ...hostEnv, ...own }, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
            reject(
              new LambdaImageError('INVALID_INPUT', 'start --watch --compile host needs go on PATH', {
                hint: 'install Go, or leave --compile out (the builder image compiles)',
              }),
            );
          else resolve({ code: err ? 1 : 0, output: `${stdout}${stderr}` });
        },
      ),
    );
    if (result.code !== 0) return { ok: false, lines: result.output.split('\n').filter(Boolean) };
    return { ok: true, bytes: await fs.readFile(out) };
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
