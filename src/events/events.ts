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

/** How far past an array's end one --set may write (so `Records[1]` can add a second record). */
export const MAX_ARRAY_GROWTH = 16;
/** Keys that would reach JavaScript's object machinery rather than the event's data. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const MAX_DEPTH = 64;

function badSet(assignment: string, what: string, hint = 'for example --set Records[0].body=hello'): LambdaImageError {
  return new LambdaImageError(
    'INVALID_INPUT',
    `--set "${assignment.length > 80 ? assignment.slice(0, 77) + '...' : assignment}": ${what}`,
    { hint },
  );
}

/** Splits "Records[0].body" or "Records.0.body" into keys. */
export function parsePath(path: string, assignment = path): Array<string | number> {
  if (!path)
    throw new LambdaImageError('INVALID_INPUT', 'empty --set path', { hint: 'write --set path.to.field=value' });
  const keys = path
    .replace(/\[(\d+)\]/g, '.$1')
    .split('.')
    .map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  if (keys.some((k) => k === ''))
    throw badSet(assignment, 'the path has an empty part (".." or a leading or trailing ".")');
  if (keys.length > MAX_DEPTH) throw badSet(assignment, `the path is deeper than ${MAX_DEPTH} levels`);
  for (const k of keys) {
    if (typeof k === 'string' && /[[\]]/.test(k)) throw badSet(assignment, `"${k}" is not a field name or an [index]`);
    if (typeof k === 'string' && FORBIDDEN_KEYS.has(k))
      throw badSet(assignment, `"${k}" cannot be set`, 'set fields of the event itself');
    if (typeof k === 'number' && !Number.isSafeInteger(k)) throw badSet(assignment, `index ${k} is too large`);
  }
  return keys;
}

/** Applies "path=value"; the value is JSON when it parses as JSON, a string otherwise. */
export function applySet(target: unknown, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0)
    throw new LambdaImageError('INVALID_INPUT', `--set "${assignment}" is not path=value`, {
      hint: 'for example --set Records[0].body=hello',
    });
  const keys = parsePath(assignment.slice(0, eq), assignment);
  const raw = assignment.slice(eq + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  let node = target as Record<string | number, unknown>;
  for (const [i, key] of keys.entries()) {
    const where =
      keys
        .slice(0, i)
        .map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`))
        .join('')
        .replace(/^\./, '') || 'the event';
    if (Array.isArray(node)) {
      // An index may fill the array up to a little past its end; anything more is a typo, and
      // a huge one would make a sparse array whose JSON is gigabytes of nulls.
      if (typeof key !== 'number') throw badSet(assignment, `${where} is an array: use an index such as ${where}[0]`);
      if (key > node.length + MAX_ARRAY_GROWTH - 1) {
        throw badSet(
          assignment,
          `index ${key} is past the end of ${where} (${node.length} ${node.length === 1 ? 'element' : 'elements'}); an index may be at most ${node.length + MAX_ARRAY_GROWTH - 1}`,
          `set ${where}[${node.length}] to add an element`,
        );
      }
    }
    if (i === keys.length - 1) {
      node[key] = value;
      break;
    }
    if (node[key] === null || typeof node[key] !== 'object') node[key] = typeof keys[i + 1] === 'number' ? [] : {};
    node = node[key] as Record<string | number, unknown>;
  }
}
