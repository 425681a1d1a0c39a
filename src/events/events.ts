// Bundled example events and `--set path=value` overrides. Pure.
import { LambdaImageError } from '../errors.js';
import { EVENT_EXAMPLES } from './examples.js';

export function listEventExamples(): Array<{ name: string; description: string }> {
  return Object.entries(EVENT_EXAMPLES).map(([name, e]) => ({ name, description: e.description }));
}

export function eventExample(name: string, sets: string[] = []): unknown {
  const example = EVENT_EXAMPLES[name];
  if (!example) {
    throw new LambdaImageError('INVALID_INPUT', `no example event named "${name}"`, {
      hint: `use one of: ${Object.keys(EVENT_EXAMPLES).join(', ')} ("lambda-image events" lists them)`,
    });
  }
  const event = structuredClone(example.event);
  for (const s of sets) applySet(event, s);
  return event;
}

/** Splits "Records[0].body" or "Records.0.body" into keys. */
export function parsePath(path: string): Array<string | number> {
  if (!path) throw new LambdaImageError('INVALID_INPUT', 'empty --set path', { hint: 'write --set path.to.field=value' });
  return path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .filter((k) => k !== '')
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** Applies "path=value"; the value is JSON when it parses as JSON, a string otherwise. */
export function applySet(target: unknown, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new LambdaImageError('INVALID_INPUT', `--set "${assignment}" is not path=value`, { hint: 'for example --set Records[0].body=hello' });
  const keys = parsePath(assignment.slice(0, eq));
  const raw = assignment.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  let node = target as Record<string | number, unknown>;
  for (const [i, key] of keys.entries()) {
    if (i === keys.length - 1) {
      node[key] = value;
      return;
    }
    if (node[key] === null || typeof node[key] !== 'object') node[key] = typeof keys[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
}
