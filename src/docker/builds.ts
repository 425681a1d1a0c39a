// Running one build on the engine: send the context, read the stream to its end, and let an
// errorDetail line (not the end of the stream) decide failure.
import { isLambdaImageError, LambdaImageError } from '../errors.js';
import { BuildStreamParser, type BuildEvent, type BuildOutcome } from './build-stream.js';
import type { Engine } from './engine.js';

/** What the engine's build endpoint takes (POST /build query parameters, as dockerode names them). */
export type BuildRequest = Record<string, unknown> & { t: string; dockerfile: string };

export async function runEngineBuild(
  engine: Pick<Engine, 'docker'>,
  context: NodeJS.ReadableStream,
  request: BuildRequest,
  onEvent: (e: BuildEvent) => void = () => {},
): Promise<BuildOutcome> {
  // BuildKit's trace needs a protobuf decoder; the classic builder's text does not. It loads
  // while the engine starts the build.
  const parser = new BuildStreamParser(onEvent);
  const decoding = request.version === '2' ? parser.init() : undefined;
  decoding?.catch(() => undefined);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await engine.docker.buildImage(context, request);
    await decoding;
  } catch (err) {
    if (isLambdaImageError(err)) throw err; // a lost or silent engine (src/docker/engine.ts)
    throw new LambdaImageError(
      'BUILD_FAILED',
      `the engine refused the build: ${(err as Error).message.split('\n')[0]}`,
      { cause: err },
    );
  }
  return new Promise<BuildOutcome>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('error', (err) =>
      reject(new LambdaImageError('BUILD_FAILED', `the build stream broke: ${err.message}`, { cause: err })),
    );
    stream.on('end', () => resolve(parser.end()));
  });
}
