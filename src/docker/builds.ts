// Running one build on the engine: send the context, read the stream to its end, and let an
// errorDetail line (not the end of the stream) decide failure.
import { isLambdaImageError, LambdaImageError } from '../errors.js';
import { BuildStreamParser, type BuildEvent, type BuildOutcome } from './build-stream.js';
import type { Engine } from './engine.js';

/** What the engine's build endpoint takes (POST /build query parameters, as dockerode names them). */
export type BuildRequest = Record<string, unknown> & { t: string; dockerfile: string };

/** A build stopped by its caller's signal (`start --watch`: a newer change, or Ctrl-C): nothing was tagged. */
export class BuildAbortedError extends LambdaImageError {
  constructor() {
    super('BUILD_FAILED', 'the build was stopped before it finished', { hint: 'build again' });
  }
}

export async function runEngineBuild(
  engine: Pick<Engine, 'docker'>,
  context: NodeJS.ReadableStream,
  request: BuildRequest,
  onEvent: (e: BuildEvent) => void = () => {},
  /** Aborting it ends the build request: the engine cancels the build, and no tag is made. */
  signal?: AbortSignal,
): Promise<BuildOutcome> {
  if (signal?.aborted) throw new BuildAbortedError();
  // A stopped build's context is not read to its end: its files are let go of at once.
  const dropContext = () => (context as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
  // BuildKit's trace needs a protobuf decoder; the classic builder's text does not. It loads
  // while the engine starts the build.
  const parser = new BuildStreamParser(onEvent);
  let stream: NodeJS.ReadableStream;
  try {
    // The signal is not handed to the request: a request cut before its answer would leave
    // dockerode's BuildKit session open (it closes it when the build stream ends). A stop
    // asked meanwhile takes effect once the stream is there (below).
    const starting = engine.docker.buildImage(context, request);
    // Asked after the request is on its way, so its CPU is not spent before the engine call.
    const decoding = request.version === '2' ? parser.init() : undefined;
    decoding?.catch(() => undefined);
    starting.catch(() => undefined);
    stream = await starting;
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
    let ended = false;
    const onAbort = () => {
      if (ended) return;
      ended = true;
      reject(new BuildAbortedError());
      dropContext();
      (stream as NodeJS.ReadableStream & { destroy?(): void }).destroy?.();
      // dockerode ends a BuildKit build's session when the build stream ends, and only then.
      stream.emit('end');
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    const finish = (settle: () => void) => {
      signal?.removeEventListener('abort', onAbort);
      if (ended) return;
      ended = true;
      settle();
    };
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('error', (err) =>
      finish(() =>
        reject(
          signal?.aborted
            ? new BuildAbortedError()
            : new LambdaImageError('BUILD_FAILED', `the build stream broke: ${err.message}`, { cause: err }),
        ),
      ),
    );
    stream.on('end', () => finish(() => resolve(parser.end())));
    // A stream closed without its end (the connection went): not a finished build.
    stream.on('close', () =>
      finish(() =>
        reject(
          signal?.aborted
            ? new BuildAbortedError()
            : new LambdaImageError('BUILD_FAILED', 'the build stream closed before its end'),
        ),
      ),
    );
  });
}
