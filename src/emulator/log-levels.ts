// Lambda's application log-level filter for a runtime it does not manage (a custom runtime, a
// Go binary): under the JSON log format a line that is a JSON object with a "level" field has
// that level; a missing or invalid level counts as INFO (AWS, "Log-level filtering"). A
// threshold keeps its own level and the less verbose ones. Pure: `invoke` and `start` use it to
// say which lines a configured level would drop before the function reaches Lambda.
import { APPLICATION_LOG_LEVELS, type ApplicationLogLevel } from '../config/constants.js';

/** The level Lambda gives one line of the function's output. */
export function applicationLevel(line: string): ApplicationLogLevel {
  const text = line.trim();
  if (!text.startsWith('{')) return 'INFO';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return 'INFO';
  }
  const level = (parsed as { level?: unknown } | null)?.level;
  if (typeof level !== 'string') return 'INFO';
  const upper = level.toUpperCase() as ApplicationLogLevel;
  return APPLICATION_LOG_LEVELS.includes(upper) ? upper : 'INFO';
}

/** Whether Lambda drops a line of this level under that threshold (WARN drops INFO, DEBUG, TRACE). */
export function dropsLevel(level: ApplicationLogLevel, threshold: ApplicationLogLevel): boolean {
  return APPLICATION_LOG_LEVELS.indexOf(level) < APPLICATION_LOG_LEVELS.indexOf(threshold);
}

/** How many of these lines a threshold drops, by their level (only levels with drops). */
export function droppedLines(
  lines: readonly string[],
  threshold: ApplicationLogLevel,
): { dropped: number; byLevel: Partial<Record<ApplicationLogLevel, number>> } {
  const byLevel: Partial<Record<ApplicationLogLevel, number>> = {};
  let dropped = 0;
  for (const line of lines) {
    const level = applicationLevel(line);
    if (!dropsLevel(level, threshold)) continue;
    dropped++;
    byLevel[level] = (byLevel[level] ?? 0) + 1;
  }
  return { dropped, byLevel };
}
