// `lambda-image doctor`: checks what the other commands need from this machine and its engine,
// each check a row of data (what it looks at, which commands need it, how to fix it). Returns
// findings, never prints; a finding fails only when it stops a command outright.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { loadConfigIfExists } from '../config/store.js';
import { containerClient } from '../docker/containers.js';
import { compareVersions, connectEngine, type Engine } from '../docker/engine.js';
import { imageStoreOf, PUSH_PLATFORM_API } from '../docker/image-store.js';
import { defaultBaseImage, goBuilderImage } from '../render/images.js';

export type FindingStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface Finding {
  check: string;
  status: FindingStatus;
  /** What was found (never a secret). */
  detail: string;
  /** What to do about it (for warn and fail). */
  fix?: string;
  /** The commands this check matters to. */
  needs: string[];
}

/** What the checks read: the engine (or why there is none), the project, and where the host keeps its facts. */
export interface DoctorContext {
  engine?: Engine;
  engineError?: Error & { hint?: string };
  info?: EngineInfo;
  config?: Config;
  configError?: Error & { hint?: string };
  env: NodeJS.ProcessEnv;
  /** /sys/fs/cgroup and /proc/sys/fs/binfmt_misc (changeable for tests). */
  cgroupRoot: string;
  binfmtRoot: string;
  home: string;
}

interface EngineInfo {
  CgroupVersion?: string;
  CgroupDriver?: string;
  SecurityOptions?: string[];
  DockerRootDir?: string;
  Architecture?: string;
  DriverStatus?: Array<[string, string]>;
}

type Outcome = Omit<Finding, 'check' | 'needs'>;

interface Check {
  check: string;
  needs: string[];
  /** Checks that need the engine are skipped without one (the engine check says why). */
  needsEngine?: boolean;
  run(ctx: DoctorContext): Promise<Outcome> | Outcome;
}

const GB = 1024 ** 3;
/** Below this the build cache and images run out of room during a build. */
export const DISK_FAIL_BYTES = 1 * GB;
export const DISK_WARN_BYTES = 5 * GB;

const exists = (p: string) =>
  fs.access(p).then(
    () => true,
    () => false,
  );

/** The checks, in the order they are printed. */
export const CHECKS: Check[] = [
  {
    check: 'project',
    needs: ['build', 'invoke', 'start', 'push', 'deploy'],
    run: ({ config, configError }) =>
      configError
        ? { status: 'fail', detail: configError.message, fix: configError.hint ?? 'fix lambda-image.json' }
        : config
          ? {
              status: 'ok',
              detail: `lambda-image.json: ${config.name} (${config.base}${config.rie ? ' with rie' : ''}, ${config.arch})`,
            }
          : { status: 'skip', detail: 'no lambda-image.json here (lambda-image init writes one)' },
  },
  {
    check: 'engine',
    needs: ['build', 'invoke', 'start', 'push', 'add-extension'],
    run: ({ engine, engineError }) =>
      engine
        ? {
            status: 'ok',
            detail: `${engine.name} (${engine.kind}), API ${engine.apiVersion}, ${engine.platform} at ${engine.endpoint.address}`,
          }
        : {
            status: 'fail',
            detail: `no engine answers: ${engineError?.message ?? 'unknown error'}`,
            fix: engineError?.hint ?? 'start Docker or Podman, or point DOCKER_HOST at a running engine',
          },
  },
  {
    check: 'builder',
    needs: ['build'],
    needsEngine: true,
    run: ({ engine }) =>
      engine!.buildkit
        ? { status: 'ok', detail: 'BuildKit (cache mounts, parallel stages)' }
        : {
            status: 'ok',
            detail: `classic builder${engine!.kind === 'podman' ? " (Podman's own; BuildKit is Docker's)" : ''}: builds work, without BuildKit's cache mounts`,
          },
  },
  {
    check: 'image store',
    needs: ['push', 'deploy'],
    needsEngine: true,
    run: ({ engine, info }) => {
      if (!info) return { status: 'skip', detail: 'the engine did not answer /info' };
      if (imageStoreOf(info) === 'classic')
        return {
          status: 'ok',
          detail: `classic (${engine!.kind === 'podman' ? "Podman's containers/storage" : 'graph driver'}): an image ID is its config digest`,
        };
      return compareVersions(engine!.apiVersion, PUSH_PLATFORM_API) >= 0
        ? {
            status: 'ok',
            detail: `containerd (image IDs are manifest/index digests); push sends only the image's own platform manifest, without attestations`,
          }
        : {
            status: 'warn',
            detail: `containerd image store with API ${engine!.apiVersion}: a push cannot choose a platform, and an image with attestations goes as an index Lambda refuses`,
            fix: `upgrade the engine (API ${PUSH_PLATFORM_API}+, Docker 27 or later), or build without attestations (the push's manifest check refuses an index)`,
          };
    },
  },
  {
    check: 'cgroups',
    needs: ['invoke', 'start'],
    run: async ({ cgroupRoot, info, engine }) => {
      const local = !engine || isLocal(engine);
      if (await exists(path.join(cgroupRoot, 'cgroup.controllers'))) {
        const controllers = (await fs.readFile(path.join(cgroupRoot, 'cgroup.controllers'), 'utf8'))
          .trim()
          .split(/\s+/);
        const missing = ['memory', 'pids'].filter((c) => !controllers.includes(c));
        return missing.length
          ? {
              status: 'warn',
              detail: `cgroup v2 without the ${missing.join(' and ')} controller`,
              fix: 'the local Lambda enforces memory and process limits with these; enable them in the kernel/systemd delegation',
            }
          : { status: 'ok', detail: 'cgroup v2 with memory and pids (memory limit, /tmp kept out of it, REPORT)' };
      }
      const v1 = ['memory', 'pids'].map((c) => path.join(cgroupRoot, c));
      const found = await Promise.all(v1.map(exists));
      if (found.every(Boolean)) return { status: 'ok', detail: 'cgroup v1 with memory and pids' };
      if (!local && info?.CgroupVersion)
        return {
          status: 'ok',
          detail: `the engine's machine has cgroup v${info.CgroupVersion}; not readable from here: /tmp counts against the function's memory`,
        };
      return {
        status: 'warn',
        detail: `no memory/pids cgroups readable under ${cgroupRoot}`,
        fix: "the function's memory is then measured through the engine's stats API, and /tmp counts against it",
      };
    },
  },
  {
    check: 'bridge network',
    needs: ['invoke', 'start'],
    needsEngine: true,
    run: async ({ engine, env }) => {
      if (env.LAMBDA_IMAGE_SANDBOX === 'off')
        return { status: 'skip', detail: 'LAMBDA_IMAGE_SANDBOX=off: environments use the host network' };
      if (engine!.desktop)
        return { status: 'ok', detail: 'Docker Desktop: environments reach lambda-image as host.docker.internal' };
      try {
        const bridge = await containerClient(engine!.docker).bridgeNetwork();
        const podman =
          engine!.kind === 'podman'
            ? " (Podman's bridge exists while a container is attached: served on all addresses, peers outside it refused)"
            : '';
        if (!isLocal(engine!))
          return {
            status: 'fail',
            detail: `the bridge ${bridge.subnet} is on the engine's machine, not here`,
            fix: "invoke and start serve the Runtime API on the bridge: run them on the engine's machine, or LAMBDA_IMAGE_SANDBOX=off",
          };
        return { status: 'ok', detail: `default bridge ${bridge.subnet}, gateway ${bridge.gateway}${podman}` };
      } catch (err) {
        return {
          status: 'fail',
          detail: (err as Error).message,
          fix:
            (err as { hint?: string }).hint ??
            'start the engine with its default bridge network, or LAMBDA_IMAGE_SANDBOX=off',
        };
      }
    },
  },
  {
    check: 'user namespaces',
    needs: ['invoke', 'start'],
    needsEngine: true,
    run: ({ info }) =>
      (info?.SecurityOptions ?? []).some((o) => /name=userns/.test(o))
        ? {
            status: 'warn',
            detail: "the engine remaps users (userns-remap): the function's user 993 is another uid on the host",
            fix: 'files the function writes to a bind mount belong to the remapped uid; nothing else changes',
          }
        : { status: 'ok', detail: 'no user-namespace remapping' },
  },
  {
    check: 'other architecture',
    needs: ['build --arch', 'invoke --arch'],
    run: async ({ binfmtRoot, engine }) => {
      const engineArch = engine?.platform.split('/')[1] ?? (os.arch() === 'arm64' ? 'arm64' : 'amd64');
      const other = engineArch === 'arm64' ? 'x86_64' : 'arm64';
      const handler = other === 'arm64' ? 'qemu-aarch64' : 'qemu-x86_64';
      if (await exists(path.join(binfmtRoot, handler)))
        return { status: 'ok', detail: `binfmt emulation for ${other} (${handler}) is registered` };
      return {
        status: 'warn',
        detail: `no binfmt emulation for ${other}: ${other} images build (Go cross-compiles) but cannot run here`,
        fix: 'Debian: apt-get install qemu-user-static binfmt-support (or docker run --privileged tonistiigi/binfmt --install all)',
      };
    },
  },
  {
    check: 'images',
    needs: ['build'],
    needsEngine: true,
    run: async ({ engine, config }) => {
      const refs = imagesNeeded(config);
      const absent: string[] = [];
      for (const ref of refs) {
        const present = await engine!.docker
          .getImage(ref)
          .inspect()
          .then(
            () => true,
            () => false,
          );
        if (!present) absent.push(ref);
      }
      if (!absent.length) return { status: 'ok', detail: `present: ${refs.join(', ')}` };
      const pullable: string[] = [];
      for (const ref of absent) {
        // The registry's manifest, asked through the engine (no pull): Docker answers; Podman may not.
        const ok = await engine!.docker
          .getImage(ref)
          .distribution()
          .then(
            () => true,
            () => false,
          );
        if (ok) pullable.push(ref);
      }
      const missing = absent.filter((r) => !pullable.includes(r));
      if (!missing.length) return { status: 'ok', detail: `pulled on the first build: ${pullable.join(', ')}` };
      return {
        status: 'warn',
        detail: `neither present nor reachable from here: ${missing.join(', ')}`,
        fix: 'the first build pulls them: give the engine a registry (or mirror), or point baseImage/builderImage (--base-image, --builder-image) at images it has',
      };
    },
  },
  {
    check: 'emulator (RIE)',
    needs: ['build (alpine with rie)'],
    run: async ({ config }) => {
      if (!config) return { status: 'skip', detail: 'no lambda-image.json here' };
      if (config.base !== 'alpine' || !config.rie)
        return { status: 'skip', detail: `the ${config.base} variant${config.rie ? '' : ' without rie'} needs no RIE` };
      if (config.rieFrom && !/^https?:/.test(config.rieFrom))
        return (await exists(config.rieFrom))
          ? { status: 'ok', detail: `rieFrom ${config.rieFrom} is there` }
          : {
              status: 'fail',
              detail: `rieFrom ${config.rieFrom} does not exist`,
              fix: 'point rieFrom at an aws-lambda-rie binary',
            };
      return {
        status: 'warn',
        detail: `the build downloads the RIE ${config.rieVersion} from ${config.rieFrom ? 'rieFrom' : 'GitHub'}`,
        fix: 'without network access set rieFrom (or --rie-from) to a downloaded aws-lambda-rie binary',
      };
    },
  },
  {
    check: 'AWS credentials',
    needs: ['push (ECR)', 'deploy'],
    run: async ({ env, home }) => {
      const sources: string[] = [];
      if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) sources.push('AWS_ACCESS_KEY_ID in the environment');
      if (env.AWS_WEB_IDENTITY_TOKEN_FILE) sources.push('a web identity token (OIDC)');
      if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
        sources.push('the container credentials endpoint');
      const credFile = env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, '.aws', 'credentials');
      const confFile = env.AWS_CONFIG_FILE ?? path.join(home, '.aws', 'config');
      const profile = env.AWS_PROFILE ?? 'default';
      const files = await Promise.all([credFile, confFile].map((f) => fs.readFile(f, 'utf8').catch(() => '')));
      const named = (text: string) =>
        new RegExp(`^\\[(profile )?${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\]`, 'm').test(text);
      if (files.some(named)) sources.push(`profile ${profile} in ~/.aws`);
      const region =
        env.AWS_REGION || env.AWS_DEFAULT_REGION || /^region\s*=\s*(\S+)/m.exec(files[1] ?? '')?.[1] || undefined;
      // Only where they come from: never a key, a token or a secret.
      if (!sources.length)
        return {
          status: 'warn',
          detail: 'no AWS credentials found (environment, ~/.aws, OIDC, container endpoint)',
          fix: 'push to ECR and deploy need them: aws configure, or AWS_PROFILE / AWS_ACCESS_KEY_ID',
        };
      if (!region)
        return {
          status: 'warn',
          detail: `credentials from ${sources.join(', ')}; no region`,
          fix: 'set AWS_REGION (or region in ~/.aws/config, or deploy.region in lambda-image.json)',
        };
      return { status: 'ok', detail: `credentials from ${sources.join(', ')}; region ${region}` };
    },
  },
  {
    check: 'disk space',
    needs: ['build'],
    run: async ({ engine, info }) => {
      // The engine's data root when it is on this machine (the build cache lives there), else the temp folder.
      const where = engine && isLocal(engine) && info?.DockerRootDir ? info.DockerRootDir : os.tmpdir();
      const st = await fs.statfs(where).catch(() => undefined);
      if (!st) return { status: 'skip', detail: `cannot read the free space of ${where}` };
      const free = st.bavail * st.bsize;
      const text = `${(free / GB).toFixed(1)} GB free in ${where}`;
      if (free < DISK_FAIL_BYTES)
        return {
          status: 'fail',
          detail: text,
          fix: 'builds need room for the Go build cache and the image layers: free space (docker builder prune)',
        };
      if (free < DISK_WARN_BYTES)
        return {
          status: 'warn',
          detail: text,
          fix: 'a few builds fill it: docker builder prune frees the build cache',
        };
      return { status: 'ok', detail: text };
    },
  },
];

function isLocal(engine: Engine): boolean {
  return /^unix:|^npipe:|^\//.test(engine.endpoint.address) || /localhost|127\.0\.0\.1/.test(engine.endpoint.address);
}

/** The builder and base images a build of this project (or of a new one) pulls. */
export function imagesNeeded(config: Config | undefined): string[] {
  const base = config?.baseImage ?? defaultBaseImage(config?.base ?? 'aws');
  const builder = config?.builderImage ?? goBuilderImage(config?.go?.version ?? '1.23');
  return config?.runtime === 'provided' ? [base] : [builder, base];
}

export interface DoctorOptions {
  dir: string;
  env?: NodeJS.ProcessEnv;
  cgroupRoot?: string;
  binfmtRoot?: string;
  home?: string;
}

export interface DoctorReport {
  findings: Finding[];
  /** True when a finding stops a command (the exit code is then non-zero). */
  failed: boolean;
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const ctx: DoctorContext = {
    env: opts.env ?? process.env,
    cgroupRoot: opts.cgroupRoot ?? '/sys/fs/cgroup',
    binfmtRoot: opts.binfmtRoot ?? '/proc/sys/fs/binfmt_misc',
    home: opts.home ?? os.homedir(),
  };
  try {
    ctx.config = await loadConfigIfExists(opts.dir);
  } catch (err) {
    ctx.configError = err as DoctorContext['configError'];
  }
  try {
    ctx.engine = await connectEngine({ timeoutMs: 5000, callTimeoutMs: 15_000 });
    ctx.info = (await ctx.engine.docker.info().catch(() => undefined)) as EngineInfo | undefined;
  } catch (err) {
    ctx.engineError = err as DoctorContext['engineError'];
  }
  const findings: Finding[] = [];
  for (const c of CHECKS) {
    const outcome: Outcome =
      c.needsEngine && !ctx.engine
        ? { status: 'skip', detail: 'no engine' }
        : await Promise.resolve(c.run(ctx)).catch((err: Error) => ({
            status: 'warn' as const,
            detail: `the check itself failed: ${err.message}`,
          }));
    findings.push({ check: c.check, needs: c.needs, ...outcome });
  }
  return { findings, failed: findings.some((f) => f.status === 'fail') };
}
