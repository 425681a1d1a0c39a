// `--go-modules host`: the Go modules are fetched on the HOST with the user's own Go toolchain,
// environment and credentials (GOPROXY, GOPRIVATE, .netrc, SSH keys), and vendored into a
// temporary directory that the build context carries as vendor/, so the image build needs no
// network and no secret. Side effects: runs `go`, writes a temporary directory.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';

const log = debug('go-modules');

export interface HostVendorTree {
  /** The vendor/ tree, as (context path, file on disk) pairs, modules.txt included. */
  files: Array<{ name: string; file: string }>;
  remove(): Promise<void>;
}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  missing?: boolean;
}

function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile('go', args, { cwd, env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err
        ? (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? null
          : typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
        : 0;
      resolve({ code, stdout, stderr, missing: (err as NodeJS.ErrnoException | null)?.code === 'ENOENT' });
    });
  });
}

/** Vendors the module in `dir` on the host with `go mod vendor -o <temp>`; the project itself is not touched. */
export async function vendorModulesOnHost(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<HostVendorTree> {
  const version = await runGo(['env', 'GOVERSION'], dir, env);
  if (version.missing) {
    throw new LambdaImageError('INVALID_INPUT', '--go-modules host needs Go on this machine, and "go" is not on PATH', {
      hint: 'install Go (https://go.dev/dl/) or put it on PATH; or vendor the modules yourself with "go mod vendor" and build without --go-modules',
    });
  }
  const m = /go(\d+)\.(\d+)/.exec(version.stdout);
  if (!m || Number(m[1]) < 1 || (Number(m[1]) === 1 && Number(m[2]) < 18)) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `--go-modules host needs Go 1.18 or newer on this machine (found ${version.stdout.trim() || 'an unknown version'})`,
      {
        hint: 'upgrade the Go toolchain on this machine (go mod vendor -o appeared in Go 1.18)',
      },
    );
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lambda-image-vendor-'));
  const remove = () => fs.rm(tmp, { recursive: true, force: true });
  const out = path.join(tmp, 'vendor');
  log(`go mod vendor -o ${out} in ${dir} (${version.stdout.trim()})`);
  const r = await runGo(['mod', 'vendor', '-o', out], dir, env);
  if (r.code !== 0) {
    await remove();
    throw new LambdaImageError('BUILD_FAILED', 'downloading the Go modules on this machine failed ("go mod vendor")', {
      details: r.stderr.trim().split('\n').slice(-20),
      hint: 'fix what go reported (module access: GOPROXY, GOPRIVATE, .netrc or SSH keys of this machine), then build again',
    });
  }
  const files: HostVendorTree['files'] = [];
  async function walk(rel: string): Promise<void> {
    for (const item of await fs.readdir(path.join(out, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${item.name}` : item.name;
      if (item.isDirectory()) await walk(child);
      else if (item.isFile()) files.push({ name: `vendor/${child}`, file: path.join(out, child) });
    }
  }
  // A module without dependencies gets no vendor directory at all: nothing to send.
  if (
    await fs.stat(out).then(
      () => true,
      () => false,
    )
  )
    await walk('');
  return { files, remove };
}
