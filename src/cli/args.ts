// Option values shared by several commands: K=V pairs, positive whole numbers, typed paths.
import { setOwn } from '../config/value-rules.js';
import { LambdaImageError } from '../errors.js';

export { typedPath } from '../util/paths.js';

/** Parses repeated "K=V" option values; the first "=" splits, so values may contain "=". */
export function parsePairs(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0)
      throw new LambdaImageError('INVALID_INPUT', `${flag} "${p}" is not K=V`, {
        hint: `write it as ${flag} NAME=value`,
      });
    setOwn(out, p.slice(0, eq), p.slice(eq + 1));
  }
  return out;
}

/** Digits only (no "0x10", "1e3", " 4"), 1 or more, and exact as a number. */
export function positiveInt(value: string, flag: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d{1,15}$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new LambdaImageError('INVALID_INPUT', `${flag} ${value} is not a positive whole number`, {
      hint: `for example ${flag} 4`,
    });
  if (n > max)
    throw new LambdaImageError('INVALID_INPUT', `${flag} ${value} is more than ${max}`, {
      hint: `give ${flag} at most ${max}`,
    });
  return n;
}
