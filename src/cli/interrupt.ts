// Ctrl-C for commands that clean up after themselves (staging folders, partial downloads,
// temporary tags, the config lock): the first SIGINT/SIGTERM aborts the work, which then
// cleans up and ends with exit 130; a second one exits at once (the next run sweeps what is left).
import { EXIT_CODES } from '../errors.js';

export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.INTERRUPTED);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
