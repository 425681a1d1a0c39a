// Pulling an image with registry credentials (X-Registry-Auth). BuildKit builds started over the
// Engine API ignore X-Registry-Config (moby/buildkit#2058, moby/moby#48112: it wants a client
// session, which an API client does not run), so before a BuildKit build the images that need
// credentials are pulled this way; BuildKit then finds them in the engine's image store.
import type Dockerode from 'dockerode';
import type { BuildAuthConfig } from './registry-config.js';
import { isLambdaImageError, LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';

const log = debug('docker');

/** Whether the engine has `ref` for `platform` (os/arch); only "no such image" reads as absent. */
export async function hasImageFor(docker: Dockerode, ref: string, platform: string): Promise<boolean> {
  try {
    const info = await docker.getImage(ref).inspect();
    return `${info.Os}/${info.Architecture}` === platform;
  } catch (err) {
    if ((err as { statusCode?: number })?.statusCode === 404) return false;
    if (isLambdaImageError(err)) throw err; // the engine lost or silent, already named
    throw new LambdaImageError(
      'BUILD_FAILED',
      `the engine failed to inspect ${ref}: ${(err as Error)?.message ?? String(err)}`,
      {
        hint: 'check the Docker engine (docker info), then run again',
        cause: err,
      },
    );
  }
}

/** Pulls `ref` for `platform` with `auth`; rejects with the engine's message when the stream reports an error. */
export async function pullImage(
  docker: Dockerode,
  ref: string,
  platform: string,
  auth: BuildAuthConfig,
): Promise<void> {
  log(`pulling ${ref} (${platform}) with credentials`);
  const stream = (await docker.pull(ref, { platform, authconfig: auth })) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string; errorDetail?: { message?: string } }>) => {
        if (err) return reject(err);
        const failed = output?.find((o) => o.error || o.errorDetail);
        if (failed) return reject(new Error(failed.errorDetail?.message ?? failed.error));
        resolve();
      },
    );
  });
}
