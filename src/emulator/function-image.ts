// What the emulator needs to know about a function's image before running it: how it starts
// (entrypoint, cmd) and which extensions it carries in /opt/extensions.
import type { ContainerClient } from '../docker/containers.js';
import { isLambdaImageError, LambdaImageError } from '../errors.js';
import { ownerLabels, SESSION_LABEL } from './owners.js';

export { SESSION_LABEL } from './owners.js';

export interface FunctionImage {
  image: string;
  entrypoint: string[];
  cmd: string[];
  /** Executable files found in the image's /opt/extensions. */
  extensions: string[];
}

/**
 * Reads what lambda-image needs from an image, including which extensions it carries
 * (`extensions` when the caller knows them already: listing them costs a container).
 */
export async function inspectFunctionImage(
  containers: ContainerClient,
  image: string,
  known: { extensions?: string[] } = {},
): Promise<FunctionImage> {
  const config = await containers.imageConfig(image);
  if (!config) {
    throw new LambdaImageError('IMAGE_NOT_FOUND', `image ${image} is not on the engine`, {
      hint: 'build it first ("lambda-image build"), or pass --image with an image the engine has',
    });
  }
  const entrypoint = config.Entrypoint ?? [];
  const cmd = config.Cmd ?? [];
  return {
    image,
    entrypoint: Array.isArray(entrypoint) ? entrypoint : [entrypoint],
    cmd,
    extensions: known.extensions ?? (await listImageExtensions(containers, image)),
  };
}

/** The executables in the image's /opt/extensions (what Lambda starts), read from a created, never started, container. */
export async function listImageExtensions(containers: ContainerClient, image: string): Promise<string[]> {
  const container = await containers.create({
    image,
    entrypoint: ['/x'],
    cmd: [],
    labels: { [SESSION_LABEL]: 'inspect', ...ownerLabels() },
  });
  try {
    const archive = await container.archive('/opt/extensions');
    const { default: tarStream } = await import('tar-stream');
    const extract = tarStream.extract();
    const names: string[] = [];
    await new Promise<void>((resolve, reject) => {
      extract.on('entry', (header, stream, next) => {
        const rel = header.name.replace(/^extensions\/?/, '');
        if (header.type === 'file' && rel && !rel.includes('/') && ((header.mode ?? 0) & 0o111) !== 0) names.push(rel);
        stream.resume();
        stream.on('end', next);
      });
      extract.on('finish', resolve);
      extract.on('error', reject);
      archive.pipe(extract);
    });
    return names.sort().slice(0, 10); // Lambda starts at most 10 extensions
  } catch (err) {
    // Only "no such path" means no extensions; any other failure would run the function without them.
    if ((err as { statusCode?: number })?.statusCode === 404) return [];
    if (isLambdaImageError(err)) throw err; // the engine, not the image, failed
    throw new LambdaImageError(
      'CONTAINER_FAILED',
      `cannot list /opt/extensions in ${image}: ${(err as Error)?.message ?? String(err)}`,
      { hint: 'check the Docker engine (docker info), then run again', cause: err },
    );
  } finally {
    await container.remove();
  }
}
