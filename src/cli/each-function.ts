// push and deploy over the functions of a project of several: one after another, each with
// its own plan; the first failure stops the command, naming the function that failed, the
// ones done and the ones not tried (a user fixes that one and runs the command again: what
// is done is then skipped or cheap, as push sends only missing layers and deploy leaves
// unchanged functions alone).
import { isLambdaImageError, LambdaImageError } from '../errors.js';

export interface FunctionOutcome {
  name: string;
  /** What happened, in a word or two: "pushed", "updated", "unchanged". */
  outcome: string;
}

/** Runs `work` for each function in order; a failure becomes one error naming where it stopped. */
export async function forEachFunction<P extends { function?: string }, R>(
  plans: readonly P[],
  work: (plan: P, name: string) => Promise<R>,
  outcomeOf: (result: R) => string,
): Promise<R[]> {
  const results: R[] = [];
  const done: FunctionOutcome[] = [];
  for (const [i, plan] of plans.entries()) {
    const name = plan.function ?? '';
    try {
      const result = await work(plan, name);
      results.push(result);
      done.push({ name, outcome: outcomeOf(result) });
    } catch (err) {
      // Where the command stopped says something only when other functions were done or left.
      if (plans.length === 1) throw err;
      throw stoppedAt(
        err,
        name,
        done,
        plans.slice(i + 1).map((p) => p.function ?? ''),
      );
    }
  }
  return results;
}

function stoppedAt(err: unknown, name: string, done: FunctionOutcome[], notTried: string[]): unknown {
  const details = [
    `done: ${done.length ? done.map((d) => `${d.name} (${d.outcome})`).join(', ') : 'none'}`,
    `not done: ${name} (failed)${notTried.length ? `, ${notTried.join(', ')} (not tried)` : ''}`,
  ];
  if (!isLambdaImageError(err)) {
    // A bug: its stack is printed as it is; say where the command stopped first.
    process.stderr.write(`${name} failed; ${details.join('; ')}\n`);
    return err;
  }
  return new LambdaImageError(err.code, `${name}: ${err.message}`, {
    hint: err.hint,
    details: [...(err.details ?? []), ...details],
    cause: err,
  });
}
