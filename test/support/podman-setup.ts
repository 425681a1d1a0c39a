// Global set-up of the `podman` test project: the CLI built, a rootful Podman service on the
// socket scripts/setup.sh starts (or LAMBDA_IMAGE_PODMAN_HOST), and the stand-in images
// loaded into it from the Docker engine. LAMBDA_IMAGE_REQUIRE_PODMAN=1 (CI) fails instead of skipping.
import { execSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { FIXTURE_GO_VERSION } from './docker-env.js';
import { compileCli } from './global-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    podmanHost: string;
  }
}

export const DEFAULT_PODMAN_SOCKET = '/tmp/lambda-image-podman/podman.sock';

export default async function setup(project: TestProject): Promise<void> {
  compileCli();
  const host = process.env.LAMBDA_IMAGE_PODMAN_HOST ?? `unix://${DEFAULT_PODMAN_SOCKET}`;
  const url = `--url ${host}`;
  let reason = '';
  try {
    execSync(`podman ${url} version`, { stdio: 'ignore', timeout: 15_000 });
    // The stand-ins come from the Docker engine (made by the engine project's set-up).
    const refs = ['lambda-image-standin/golang:1.23-alpine', 'lambda-image-standin/alpine:3.22'];
    const missing = refs.filter((r) => {
      try {
        execSync(`podman ${url} image exists ${r}`, { stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    });
    if (missing.length) {
      // Made on the Docker engine first when this project's set-up runs before the engine project's.
      const { default: Docker } = await import('dockerode');
      // @ts-expect-error: a plain ES module shared with the demo and the benchmarks
      const standins = await import('../../scripts/standins.mjs');
      await standins.ensureStandins(new Docker(), ['x86_64'], FIXTURE_GO_VERSION, (line: string) =>
        process.stderr.write(`setup: ${line}\n`),
      );
    }
    if (missing.length) execSync(`docker save ${missing.join(' ')} | podman ${url} load`, { stdio: 'ignore' });
  } catch (err) {
    reason = `no Podman service at ${host} with the stand-in images (${(err as Error).message.split('\n')[0]})`;
  }
  if (reason) {
    if (process.env.LAMBDA_IMAGE_REQUIRE_PODMAN === '1') throw new Error(`LAMBDA_IMAGE_REQUIRE_PODMAN=1: ${reason}`);
    process.stderr.write(`\nPodman tests are skipped: ${reason}\n\n`);
  }
  project.provide('podmanHost', reason ? '' : host);
}
