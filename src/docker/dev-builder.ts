// The watch's long-lived builder: one container of the project's builder image, kept running
// for the session, the project mounted read-only, Go's module and build caches in volumes that
// outlive it. Each rebuild is one `exec` of the compile; the binary is read back as a tar.
import type Dockerode from 'dockerode';
import { PassThrough } from 'node:stream';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';

const log = debug('docker');

export interface DevBuilderOptions {
  image: string;
  /** The project folder on the engine's machine (mounted read-only at /src). */
  dir: string;
  /** Mount an empty folder over these (relative) paths: what the build context leaves out that go would read (.git). */
  hide: string[];
  /** Volume names for Go's module cache and build cache. */
  modCacheVolume: string;
  buildCacheVolume: string;
  labels: Record<string, string>;
}

export interface CompileResult {
  ok: boolean;
  /** What the compiler printed (its errors, when it failed). */
  lines: string[];
}

export interface DevBuilder {
  readonly id: string;
  /** Runs the compile (`argv -o out main`) in /src. */
  compile(env: Record<string, string>, argv: string[], out: string, main: string): Promise<CompileResult>;
  /** A tar stream of a file or folder in the builder. */
  archive(path: string): Promise<NodeJS.ReadableStream>;
  /** Kills and removes it (the volumes stay). */
  stop(): Promise<void>;
}

export async function startDevBuilder(docker: Dockerode, opts: DevBuilderOptions): Promise<DevBuilder> {
  const container = await docker.createContainer({
    Image: opts.image,
    // Any image with a shell and sleep (the golang images have both); nothing else runs in it.
    Entrypoint: ['sleep'],
    Cmd: ['2147483647'],
    Labels: opts.labels,
    WorkingDir: '/src',
    HostConfig: {
      AutoRemove: true,
      NetworkMode: 'bridge',
      Mounts: [
        { Type: 'bind', Source: opts.dir, Target: '/src', ReadOnly: true },
        { Type: 'volume', Source: opts.modCacheVolume, Target: '/go/pkg/mod' },
        { Type: 'volume', Source: opts.buildCacheVolume, Target: '/root/.cache/go-build' },
        ...opts.hide.map((p) => ({ Type: 'tmpfs' as const, Target: `/src/${p}`, ReadOnly: true })),
      ],
    },
  } as Dockerode.ContainerCreateOptions);
  try {
    await container.start();
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw new LambdaImageError(
      'BUILD_FAILED',
      `could not start the watch's builder (${opts.image}): ${(err as Error).message}`,
      {
        hint: 'start --watch --compile image builds the whole image on each change instead',
      },
    );
  }
  log(`dev builder ${container.id.slice(0, 12)} of ${opts.image} started`);
  return {
    id: container.id,
    async compile(env, argv, out, main) {
      const exec = await container.exec({
        Cmd: [...argv, '-o', out, main],
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        WorkingDir: '/src',
        AttachStdout: true,
        AttachStderr: true,
      });
      const stream = await exec.start({ hijack: true, stdin: false });
      const output = new PassThrough();
      const chunks: Buffer[] = [];
      output.on('data', (d: Buffer) => chunks.push(d));
      docker.modem.demuxStream(stream, output, output);
      await new Promise<void>((resolve, reject) => {
        stream.on('end', resolve);
        stream.on('close', resolve);
        stream.on('error', reject);
      });
      const { ExitCode } = await exec.inspect();
      const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
      return { ok: ExitCode === 0, lines };
    },
    archive: (path) => container.getArchive({ path }),
    async stop() {
      await container.kill().catch(() => undefined);
      await container.remove({ force: true }).catch(() => undefined);
    },
  };
}
