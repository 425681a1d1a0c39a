// Helpers for tests against the real Docker engine: unique names, containers run as Lambda
// runs them, and removal of everything a test created.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, inject } from 'vitest';
// @ts-expect-error: a plain ES module shared with the demo and the benchmarks
import { standinBuildArgs } from '../../scripts/standins.mjs';

export const dockerEnv = inject('dockerEnv');
/** The engine the suite uses: DOCKER_HOST when set, else the default socket (as the CLI resolves it). */
export const docker = new Docker();

/** The unix socket of the engine under test: DOCKER_HOST's when it names one, else the default. */
export function engineSocketPath(): string {
  const host = process.env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (host) throw new Error(`this test needs a unix-socket engine; DOCKER_HOST is ${host}`);
  return '/var/run/docker.sock';
}

/** Build options that point a build at the stand-in bases, as a registry mirror would be given. */
export function standin(arch: 'x86_64' | 'arm64' = 'x86_64'): string[] {
  return standinBuildArgs(dockerEnv.refs![arch]);
}

/** A unique image repository for one test file; afterAll removes every tag under it. */
export function uniqueRepo(label: string): string {
  const repo = `lambda-image-test/${label}-${randomBytes(3).toString('hex')}`;
  afterAll(async () => {
    await removeContainersAndImages(repo);
  });
  return repo;
}

export async function removeContainersAndImages(repo: string): Promise<void> {
  const containers = await docker.listContainers({ all: true });
  for (const c of containers) {
    if (c.Image.startsWith(repo) || c.Labels?.['org.lambda-image.test-repo'] === repo) {
      await docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {});
    }
  }
  const images = await docker.listImages();
  for (const img of images) {
    for (const tag of img.RepoTags ?? []) {
      if (tag.startsWith(repo + ':'))
        await docker
          .getImage(tag)
          .remove({ force: true })
          .catch(() => {});
    }
  }
}

/** Reads a container's combined output (the engine multiplexes stdout and stderr). */
export async function containerLogs(id: string): Promise<string> {
  const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  let out = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out;
}

/** Starts a container with a label that ties it to the test's repo, for cleanup. */
export async function startContainer(
  image: string,
  repo: string,
  opts: Partial<Docker.ContainerCreateOptions> = {},
): Promise<Docker.Container> {
  const container = await docker.createContainer({
    Image: image,
    Labels: { 'org.lambda-image.test-repo': repo },
    ...opts,
    HostConfig: { AutoRemove: false, ...opts.HostConfig },
  });
  await container.start();
  return container;
}

export async function stopAndRemove(container: Docker.Container): Promise<void> {
  await container.remove({ force: true }).catch(() => {});
}

/** Polls (bounded) until fn returns a value. */
export async function waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}
