// Option values shared by several commands: K=V pairs and positive whole numbers.
import { LambdaImageError } from '../errors.js';

/** Parses repeated "K=V" option values; the first "=" splits, so values may contain "=". */
export function parsePairs(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new LambdaImageError('INVALID_INPUT', `${flag} "${p}" is not K=V`, { hint: `write it as ${flag} NAME=value` });
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new LambdaImageError('INVALID_INPUT', `${flag} ${value} is not a positive whole number`, { hint: `for example ${flag} 4` });
  return n;
}
