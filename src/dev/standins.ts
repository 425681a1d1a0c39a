// Stand-in base images for tests and offline demos ONLY. No registry is reachable where
// lambda-image is developed, so images named like the real bases are assembled from
// Debian's busybox-static and Go toolchain and loaded into the engine with the requested
// architecture. Every stand-in carries the label org.lambda-image.standin=true.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type Dockerode from 'dockerode';
import tar from 'tar-fs';
import tarStream from 'tar-stream';
import type { Arch } from '../config/constants.js';
import { STANDIN_LABEL } from '../docker/image-report.js';
import { ALPINE_BASE_IMAGE, AWS_BASE_IMAGE, dockerArchitecture, goBuilderImage } from '../render/images.js';

const REPO_ROOT = new URL('../../', import.meta.url);
const STANDIN_DIR = new URL('fixtures/standins/', REPO_ROOT);
/** Bump when what the stand-ins contain changes, so old ones are replaced. */
const STANDIN_REVISION = '3';

export { STANDIN_LABEL };

export interface StandinRefs {
  alpine: string;
  aws: string;
  golang: string;
}

/** Names of the stand-ins for one architecture: the real names for the engine's own, separate names otherwise. */
export function standinRefs(arch: Arch, goVersion: string): StandinRefs {
  if (arch === 'x86_64') return { alpine: ALPINE_BASE_IMAGE, aws: AWS_BASE_IMAGE, golang: goBuilderImage(goVersion) };
  // The classic image store keeps one platform per name, so other architectures get their own names.
  return {
    alpine: `lambda-image-standin/alpine:3.22-${arch}`,
    aws: `lambda-image-standin/provided:al2023-${arch}`,
    golang: goBuilderImage(goVersion),
  };
}

export interface StandinTools {
  busybox: string;
  goroot?: string;
}

/** Finds what the stand-ins are made of, or says what to install. */
export function findTools(needGo: boolean): StandinTools | { missing: string } {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => isStaticExecutable(p));
  if (!busybox) return { missing: 'a static busybox (Debian: apt-get install busybox-static)' };
  if (!needGo) return { busybox };
  try {
    const goroot = execFileSync('go', ['env', 'GOROOT'], { encoding: 'utf8' }).trim();
    return { busybox, goroot: realpathSync(goroot) };
  } catch {
    return { missing: 'a Go toolchain (Debian: apt-get install golang-go)' };
  }
}

function isStaticExecutable(p: string): boolean {
  try {
    const out = execFileSync('file', ['-L', p], { encoding: 'utf8' });
    return /statically linked|static-pie/.test(out);
  } catch {
    try {
      execFileSync(p, ['true']);
      return true;
    } catch {
      return false;
    }
  }
}

/** Builds the stand-in emulator (a Go program of ours) for an architecture; cached by source hash. */
export async function buildStandinRie(arch: Arch): Promise<string> {
  const src = new URL('rie/', STANDIN_DIR);
  const hash = createHash('sha256').update(await fs.readFile(new URL('main.go', src))).digest('hex').slice(0, 12);
  const out = path.join(os.tmpdir(), 'lambda-image-standins', `aws-lambda-rie-${arch}-${hash}`);
  try {
    await fs.access(out);
    return out;
  } catch {
    /* build it */
  }
  await fs.mkdir(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp-${process.pid}`;
  execFileSync('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', tmp, '.'], {
    cwd: new URL(src).pathname,
    env: { ...process.env, CGO_ENABLED: '0', GOOS: 'linux', GOARCH: dockerArchitecture(arch), GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    stdio: 'pipe',
  });
  await fs.rename(tmp, out);
  return out;
}

interface ImageSpec {
  ref: string;
  arch: Arch;
  kind: 'alpine' | 'aws' | 'golang';
  config: Record<string, unknown>;
}

/** Ensures every stand-in exists in the engine for the given architectures; returns their names per arch. */
export async function ensureStandins(docker: Dockerode, arches: Arch[], goVersion: string, log: (s: string) => void = () => {}): Promise<Record<Arch, StandinRefs>> {
  const tools = findTools(true);
  if ('missing' in tools) throw new Error(`cannot make stand-in images: missing ${tools.missing}`);
  const result = {} as Record<Arch, StandinRefs>;
  const specs: ImageSpec[] = [];
  for (const arch of arches) {
    const refs = standinRefs(arch, goVersion);
    result[arch] = refs;
    const env = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
    specs.push({ ref: refs.alpine, arch, kind: 'alpine', config: { Env: env, Cmd: ['/bin/sh'] } });
    specs.push({
      ref: refs.aws,
      arch,
      kind: 'aws',
      config: {
        Env: [...env, 'LANG=en_US.UTF-8', 'TZ=:/etc/localtime', 'LAMBDA_TASK_ROOT=/var/task', 'LAMBDA_RUNTIME_DIR=/var/runtime'],
        WorkingDir: '/var/task',
        Entrypoint: ['/lambda-entrypoint.sh'],
      },
    });
  }
  // The Go builder always runs on the engine's platform (FROM --platform=$BUILDPLATFORM).
  specs.push({
    ref: goBuilderImage(goVersion),
    arch: 'x86_64',
    kind: 'golang',
    config: {
      Env: ['PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'GOPATH=/go', 'GOTOOLCHAIN=local', 'GOFLAGS=-mod=mod'],
      WorkingDir: '/go',
      Cmd: ['/bin/sh'],
    },
  });
  for (const spec of specs) {
    const revision = `${STANDIN_REVISION}-${spec.kind}-${spec.arch}`;
    try {
      const info = await docker.getImage(spec.ref).inspect();
      if (info.Config?.Labels?.[STANDIN_LABEL] === revision) continue;
      if (!info.Config?.Labels?.[STANDIN_LABEL]) {
        log(`${spec.ref} is a real image: keeping it`);
        continue;
      }
    } catch {
      /* not there yet */
    }
    log(`making stand-in ${spec.ref} (${spec.arch})`);
    await loadStandin(docker, spec, revision, tools);
  }
  return result;
}

async function loadStandin(docker: Dockerode, spec: ImageSpec, revision: string, tools: StandinTools): Promise<void> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lambda-image-standin-'));
  try {
    const root = path.join(work, 'rootfs');
    await makeBusyboxRoot(root, tools.busybox);
    if (spec.kind === 'aws') {
      await fs.copyFile(new URL('lambda-entrypoint.sh', STANDIN_DIR), path.join(root, 'lambda-entrypoint.sh'));
      await fs.chmod(path.join(root, 'lambda-entrypoint.sh'), 0o755);
      await fs.mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
      await fs.copyFile(await buildStandinRie(spec.arch), path.join(root, 'usr/local/bin/aws-lambda-rie'));
      await fs.chmod(path.join(root, 'usr/local/bin/aws-lambda-rie'), 0o755);
      await fs.mkdir(path.join(root, 'var/task'), { recursive: true });
      await fs.mkdir(path.join(root, 'var/runtime'), { recursive: true });
    }
    if (spec.kind === 'golang') await addGoToolchain(root, tools.goroot!);

    const layer = path.join(work, 'layer.tar');
    await pipeline(tar.pack(root), createWriteStream(layer));
    const diffId = 'sha256:' + createHash('sha256').update(await fs.readFile(layer)).digest('hex');
    const config = Buffer.from(
      JSON.stringify({
        architecture: dockerArchitecture(spec.arch),
        os: 'linux',
        created: new Date(0).toISOString(),
        config: { ...spec.config, Labels: { [STANDIN_LABEL]: revision } },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created: new Date(0).toISOString(), created_by: `lambda-image stand-in for ${spec.ref} (tests and offline demos only)` }],
      }),
    );
    const configName = createHash('sha256').update(config).digest('hex') + '.json';
    const archive = tarStream.pack();
    archive.entry({ name: configName }, config);
    archive.entry({ name: 'manifest.json' }, JSON.stringify([{ Config: configName, RepoTags: [spec.ref], Layers: ['layer.tar'] }]));
    const { size } = await fs.stat(layer);
    const entry = archive.entry({ name: 'layer.tar', size }, () => archive.finalize());
    createReadStream(layer).pipe(entry);
    const res = (await docker.loadImage(archive as unknown as NodeJS.ReadableStream)) as unknown as AsyncIterable<Buffer>;
    let text = '';
    for await (const chunk of res) text += chunk.toString();
    if (/"error"/.test(text)) throw new Error(`loading stand-in ${spec.ref} failed: ${text}`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function makeBusyboxRoot(root: string, busybox: string): Promise<void> {
  for (const d of ['bin', 'etc', 'tmp', 'root', 'var/tmp', 'usr/bin', 'proc', 'sys', 'dev']) await fs.mkdir(path.join(root, d), { recursive: true });
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.copyFile(busybox, path.join(root, 'bin/busybox'));
  await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    await fs.symlink('busybox', path.join(root, 'bin', applet)).catch(() => {});
  }
  await fs.writeFile(path.join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n');
  await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** Copies GOROOT (symlinks resolved, without the prebuilt std packages) and the libc its `go` binary needs. */
async function addGoToolchain(root: string, goroot: string): Promise<void> {
  const dest = path.join(root, 'usr/local/go');
  await fs.mkdir(dest, { recursive: true });
  for (const part of ['VERSION', 'bin', 'src', 'pkg/tool', 'pkg/include']) {
    const from = path.join(goroot, part);
    try {
      await fs.access(from);
    } catch {
      continue;
    }
    await fs.mkdir(path.dirname(path.join(dest, part)), { recursive: true });
    execFileSync('cp', ['-rL', from, path.join(dest, part)]);
  }
  await fs.mkdir(path.join(root, 'go'), { recursive: true });
  const ldd = execFileSync('ldd', [path.join(goroot, 'bin/go')], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+\.so[^\s]*)/g)) {
    const lib = m[1]!;
    const target = path.join(root, lib);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(realpathSync(lib), target);
  }
}
