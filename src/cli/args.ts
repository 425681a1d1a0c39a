// Option values shared by several commands: K=V pairs, positive whole numbers, typed paths,
// and flags that override a config key, checked by that key's own rule (config/value-rules.ts).
import type { Base } from '../app/inputs.js';
import { BASES } from '../app/inputs.js';
import { describeWholeNumber, setOwn, type WholeNumberRule, wholeNumberTextProblem } from '../app/inputs.js';
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

/** A whole-number flag by the rule of the config key it overrides: `--timeout abc` fails here, with the rule. */
export function wholeNumberFlag(value: string, flag: string, rule: WholeNumberRule, example: number): number {
  if (wholeNumberTextProblem(value, rule))
    throw new LambdaImageError(
      'INVALID_INPUT',
      `${flag} ${JSON.stringify(value)} is not ${describeWholeNumber(rule)}`,
      {
        hint: `for example ${flag} ${example}`,
      },
    );
  return Number(value);
}

/** An optional flag checked by the config key's rule (function name, role, region): the problem names the fix. */
export function checkedFlag(
  value: string | undefined,
  flag: string,
  problemOf: (value: string) => string | undefined,
  example: string,
): string | undefined {
  if (value === undefined) return undefined;
  const problem = problemOf(value);
  if (problem)
    throw new LambdaImageError('INVALID_INPUT', `${flag} ${JSON.stringify(value)} is not valid: it ${problem}`, {
      hint: `for example ${flag} ${example}`,
    });
  return value;
}

/**
 * `--base-image` as init and build both take it: `<ref>` for the project's own base family, or
 * `<family>=<ref>` (aws=..., alpine=...) for one family; repeatable, one value per family.
 */
export function parseBaseImageFlags(values: string[]): Partial<Record<Base | 'own', string>> {
  const images: Partial<Record<Base | 'own', string>> = {};
  const family = new RegExp(`^(${BASES.join('|')})=(.*)$`);
  for (const value of values) {
    const m = family.exec(value);
    const key = m ? (m[1] as Base) : 'own';
    if (images[key])
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--base-image names the ${key === 'own' ? "project's" : key} base twice`,
        { hint: 'give each base family one --base-image' },
      );
    images[key] = m ? m[2]! : value;
  }
  return images;
}
