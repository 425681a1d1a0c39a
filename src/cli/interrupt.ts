// Ctrl-C for commands that clean up after themselves (staging folders, partial downloads,
// temporary tags, the config lock): the first SIGINT/SIGTERM aborts the work, which then
// cleans up and ends with exit 130; a second one exits at once (the next run sweeps what is left).
import { EXIT_CODES } from '../errors.js';

export async function withInterrupt<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const off = onInterrupt(() => controller.abort());
  try {
    return await work(controller.signal);
  } finally {
    off();
  }
}

/**
 * The one way a command hears Ctrl-C / SIGTERM: `first` on the first, `again` (default: exit
 * 130 at once) on each later one. Returns what stops listening.
 */
export function onInterrupt(
  first: () => void,
  again: () => void = () => process.exit(EXIT_CODES.INTERRUPTED),
): () => void {
  let heard = false;
  const onSignal = () => {
    if (heard) return again();
    heard = true;
    first();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
