// Global set-up: the CLI must be built (tests run bin/lambda-image as a user would), and,
// when a Docker engine is reachable, the stand-in base images and emulator must exist.
// With LAMBDA_IMAGE_REQUIRE_DOCKER=1 a missing engine fails the run instead of skipping.
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { FIXTURE_GO_VERSION, type DockerEnv } from './docker-env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dockerEnv: DockerEnv;
  }
}

/**
 * Always compile (incrementally: a second or two when nothing changed): tests run the built
 * CLI as a user would, and a stale dist/ would test yesterday's code.
 */
export function compileCli(): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit', cwd: new URL('../../', import.meta.url) });
}

export default async function setup(project: TestProject): Promise<void> {
  compileCli();
  const env = await prepareDocker();
  if (!env.available) {
    if (process.env.LAMBDA_IMAGE_REQUIRE_DOCKER === '1') {
      throw new Error(`LAMBDA_IMAGE_REQUIRE_DOCKER=1 but Docker tests cannot run: ${env.reason}`);
    }
    process.stderr.write(`\nDocker tests are skipped: ${env.reason}\n\n`);
  }
  project.provide('dockerEnv', env);
}

async function prepareDocker(): Promise<DockerEnv> {
  const { default: Docker } = await import('dockerode');
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (err) {
    return { available: false, reason: `no Docker engine answers (${(err as Error).message})` };
  }
  // @ts-expect-error: a plain ES module shared with the demo and the benchmarks
  const standins = await import('../../scripts/standins.mjs');
  const tools = standins.findTools(true);
  if ('missing' in tools) return { available: false, reason: `missing ${tools.missing}` };
  const refs = await standins.ensureStandins(docker, ['x86_64', 'arm64'], FIXTURE_GO_VERSION, (s) =>
    process.stderr.write(`setup: ${s}\n`),
  );
  return {
    available: true,
    reason: '',
    refs,
    rie: { x86_64: await standins.buildStandinRie('x86_64'), arm64: await standins.buildStandinRie('arm64') },
  };
}
