// Stand-in base images for lambda-image's tests, demo and benchmarks ONLY (not shipped:
// neither src/ nor the npm package knows them). No registry is reachable where
// lambda-image is developed, so images standing in for the real bases are assembled from
// Debian's busybox-static and Go toolchain and loaded into the engine with the requested
// architecture. They carry names of their own (lambda-image-standin/...) and the label
// org.lambda-image.standin, and builds point at them with --base-image / --builder-image,
// exactly as a user with a registry mirror would. Never a real image's name: left on an
// engine, a later real build would silently run on busybox.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, promises as fs, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import tar from 'tar-fs';
import tarStream from 'tar-stream';

const STANDIN_DIR = fileURLToPath(new URL('../fixtures/standins/', import.meta.url));
/** The label every stand-in carries (lambda-image refuses to ship images built on one). */
export const STANDIN_LABEL = 'org.lambda-image.standin';
/** Bump when what the stand-ins contain changes, so old ones are replaced. */
const STANDIN_REVISION = '4';
const REPO = 'lambda-image-standin';

/** Names under which earlier versions loaded stand-ins (real images' names): swept when found. */
const LEGACY_NAMES = [/^alpine:3\.22$/, /^public\.ecr\.aws\/lambda\/provided:al2023$/, /^golang:[\d.]+-alpine$/];

const dockerArchitecture = (arch) => (arch === 'arm64' ? 'arm64' : 'amd64');

/**
 * Names of the stand-ins for one architecture. The classic image store keeps one platform
 * per name, so each architecture has its own.
 * @param {'x86_64'|'arm64'} arch
 * @param {string} goVersion
 */
export function standinRefs(arch, goVersion) {
  const suffix = arch === 'x86_64' ? '' : `-${arch}`;
  return {
    alpine: `${REPO}/alpine:3.22${suffix}`,
    aws: `${REPO}/provided:al2023${suffix}`,
    // The Go builder runs on the engine's platform (FROM --platform=$BUILDPLATFORM): one name.
    golang: `${REPO}/golang:${goVersion}-alpine`,
  };
}

/**
 * The CLI options that point a build at the stand-ins (as a registry mirror would be).
 * @param {{alpine: string, aws: string, golang: string}} refs
 */
export function standinBuildArgs(refs) {
  return ['--base-image', `aws=${refs.aws}`, '--base-image', `alpine=${refs.alpine}`, '--builder-image', refs.golang];
}

/** Finds what the stand-ins are made of, or says what to install. */
export function findTools(needGo = true) {
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

function isStaticExecutable(p) {
  try {
    return /statically linked|static-pie/.test(execFileSync('file', ['-L', p], { encoding: 'utf8' }));
  } catch {
    try {
      execFileSync(p, ['true']);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Builds the stand-in emulator (a Go program of ours, not the AWS RIE) for an architecture;
 * cached by source hash.
 * @param {'x86_64'|'arm64'} arch
 */
export async function buildStandinRie(arch) {
  const src = path.join(STANDIN_DIR, 'rie');
  const hash = createHash('sha256')
    .update(await fs.readFile(path.join(src, 'main.go')))
    .digest('hex')
    .slice(0, 12);
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
    cwd: src,
    env: {
      ...process.env,
      CGO_ENABLED: '0',
      GOOS: 'linux',
      GOARCH: dockerArchitecture(arch),
      GOFLAGS: '-mod=mod',
      GOTOOLCHAIN: 'local',
    },
    stdio: 'pipe',
  });
  await fs.rename(tmp, out);
  return out;
}

/**
 * Removes stand-ins that earlier versions loaded under real images' names (only images
 * that carry the stand-in label; a real image is never touched). Returns the names removed.
 * @param {import('dockerode')} docker
 */
export async function removeLegacyStandins(docker) {
  const removed = [];
  for (const image of await docker.listImages()) {
    if (!image.Labels?.[STANDIN_LABEL]) continue;
    for (const tag of image.RepoTags ?? []) {
      if (!LEGACY_NAMES.some((re) => re.test(tag))) continue;
      await docker.getImage(tag).remove({ noprune: false });
      removed.push(tag);
    }
  }
  return removed;
}

/**
 * Ensures every stand-in exists in the engine for the given architectures; returns their names per arch.
 * @param {import('dockerode')} docker
 * @param {Array<'x86_64'|'arm64'>} arches
 * @param {string} goVersion
 * @param {(s: string) => void} log
 */
export async function ensureStandins(docker, arches, goVersion, log = () => {}) {
  const tools = findTools(true);
  if ('missing' in tools) throw new Error(`cannot make stand-in images: missing ${tools.missing}`);
  for (const name of await removeLegacyStandins(docker)) {
    log(`removed ${name}: a stand-in an earlier lambda-image version loaded under a real image's name`);
  }
  const result = {};
  const specs = [];
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
        Env: [
          ...env,
          'LANG=en_US.UTF-8',
          'TZ=:/etc/localtime',
          'LAMBDA_TASK_ROOT=/var/task',
          'LAMBDA_RUNTIME_DIR=/var/runtime',
        ],
        WorkingDir: '/var/task',
        Entrypoint: ['/lambda-entrypoint.sh'],
      },
    });
  }
  // Like the official golang image: GOPATH, GOTOOLCHAIN=local, and no GOFLAGS.
  specs.push({
    ref: standinRefs('x86_64', goVersion).golang,
    arch: 'x86_64',
    kind: 'golang',
    config: {
      Env: [
        'PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'GOPATH=/go',
        'GOTOOLCHAIN=local',
      ],
      WorkingDir: '/go',
      Cmd: ['/bin/sh'],
    },
  });
  for (const spec of specs) {
    const revision = `${STANDIN_REVISION}-${spec.kind}-${spec.arch}`;
    try {
      const info = await docker.getImage(spec.ref).inspect();
      if (info.Config?.Labels?.[STANDIN_LABEL] === revision) continue;
    } catch {
      /* not there yet */
    }
    log(`making stand-in ${spec.ref} (${spec.arch})`);
    await loadStandin(docker, spec, revision, tools);
  }
  return result;
}

async function loadStandin(docker, spec, revision, tools) {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'lambda-image-standin-'));
  try {
    const root = path.join(work, 'rootfs');
    await makeBusyboxRoot(root, tools.busybox);
    if (spec.kind === 'aws') {
      await fs.copyFile(path.join(STANDIN_DIR, 'lambda-entrypoint.sh'), path.join(root, 'lambda-entrypoint.sh'));
      await fs.chmod(path.join(root, 'lambda-entrypoint.sh'), 0o755);
      await fs.mkdir(path.join(root, 'usr/local/bin'), { recursive: true });
      await fs.copyFile(await buildStandinRie(spec.arch), path.join(root, 'usr/local/bin/aws-lambda-rie'));
      await fs.chmod(path.join(root, 'usr/local/bin/aws-lambda-rie'), 0o755);
      await fs.mkdir(path.join(root, 'var/task'), { recursive: true });
      await fs.mkdir(path.join(root, 'var/runtime'), { recursive: true });
    }
    if (spec.kind === 'golang') await addGoToolchain(root, tools.goroot);

    const layer = path.join(work, 'layer.tar');
    await pipeline(tar.pack(root), createWriteStream(layer));
    const diffId =
      'sha256:' +
      createHash('sha256')
        .update(await fs.readFile(layer))
        .digest('hex');
    const config = Buffer.from(
      JSON.stringify({
        architecture: dockerArchitecture(spec.arch),
        os: 'linux',
        created: new Date(0).toISOString(),
        config: { ...spec.config, Labels: { [STANDIN_LABEL]: revision } },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [
          {
            created: new Date(0).toISOString(),
            created_by: `lambda-image stand-in ${spec.ref} (tests and offline demos only)`,
          },
        ],
      }),
    );
    const configName = createHash('sha256').update(config).digest('hex') + '.json';
    const archive = tarStream.pack();
    archive.entry({ name: configName }, config);
    archive.entry(
      { name: 'manifest.json' },
      JSON.stringify([{ Config: configName, RepoTags: [spec.ref], Layers: ['layer.tar'] }]),
    );
    const { size } = await fs.stat(layer);
    const entry = archive.entry({ name: 'layer.tar', size }, () => archive.finalize());
    createReadStream(layer).pipe(entry);
    const res = await docker.loadImage(archive);
    let text = '';
    for await (const chunk of res) text += chunk.toString();
    if (/"error"/.test(text)) throw new Error(`loading stand-in ${spec.ref} failed: ${text}`);
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

async function makeBusyboxRoot(root, busybox) {
  for (const d of ['bin', 'etc', 'tmp', 'root', 'var/tmp', 'usr/bin', 'proc', 'sys', 'dev'])
    await fs.mkdir(path.join(root, d), { recursive: true });
  await fs.chmod(path.join(root, 'tmp'), 0o1777);
  await fs.copyFile(busybox, path.join(root, 'bin/busybox'));
  await fs.chmod(path.join(root, 'bin/busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    if (applet === 'busybox') continue;
    await fs.symlink('busybox', path.join(root, 'bin', applet)).catch(() => {});
  }
  await fs.writeFile(
    path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n',
  );
  await fs.writeFile(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
}

/** Copies GOROOT (symlinks resolved, without the prebuilt std packages) and the libc its `go` binary needs. */
async function addGoToolchain(root, goroot) {
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
    const lib = m[1];
    const target = path.join(root, lib);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.copyFile(realpathSync(lib), target);
  }
}
