// `lambda-image deploy`: wiring and output only; the work is in src/app/deploy.ts.
import {
  type DeployOptions,
  type DeployPlan,
  type DeployResult,
  DeploySession,
  deployProject,
  planDeploys,
} from '../app/deploy.js';
import { functionNameProblem, roleArnProblem } from '../app/inputs.js';
import { connectEngine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { createUi, type Ui } from '../ui.js';
import { checkedFlag } from './args.js';
import { forEachFunction } from './each-function.js';
import { checkLocalImages } from '../app/push.js';
import { layerProgress, pushJson, pushOptions, type PushCliOptions } from './push.js';

export interface DeployCliOptions extends Omit<DeployOptions, 'variant' | 'functions'>, Omit<PushCliOptions, 'tag'> {
  tag?: string;
}

export async function runDeploy(dir: string, opts: DeployCliOptions): Promise<void> {
  const ui = createUi();
  if (!opts.url && (opts.urlAuth || opts.invokeMode))
    throw new LambdaImageError('INVALID_INPUT', '--url-auth and --invoke-mode set up the function URL: add --url', {
      hint: 'for example --url --url-auth NONE',
    });
  // The plans, one per function: bad input fails here, before AWS or the engine is asked (exit 2, not 20/36).
  const plans = await planDeploys(dir, {
    ...pushOptions(opts),
    imageUri: opts.imageUri,
    publish: opts.publish,
    alias: opts.alias,
    url: opts.url,
    urlAuth: opts.urlAuth,
    invokeMode: opts.invokeMode,
    force: opts.force,
    dev: opts.dev,
    functionName: checkedFlag(opts.functionName, '--function-name', functionNameProblem, 'orders-api'),
    role: checkedFlag(opts.role, '--role', roleArnProblem, 'arn:aws:iam::123456789012:role/orders-lambda'),
  });
  return deployFunctions(ui, plans, opts);
}

/**
 * The functions of the project (one or several, the same way): each deployed in turn with its
 * own plan, one line per function on stdout (`orders: updated <uri>`, `users: unchanged
 * (sha256:abcd… already deployed)`), and a summary of what changed; --json: one shape,
 * `{ functions: [...], summary }`, for one function or many.
 */
async function deployFunctions(ui: Ui, plans: DeployPlan[], opts: DeployCliOptions): Promise<void> {
  const progress = await ui.progress(`deploying ${plans.length} function${plans.length === 1 ? '' : 's'}`);
  const session = new DeploySession(() => connectEngine());
  try {
    const pushes = plans.flatMap((p) => (p.push ? [p.push] : []));
    if (pushes.length) await checkLocalImages(await session.engine(), pushes);
    const results = await forEachFunction(
      plans,
      async (plan, name) => {
        const result = await deployProject(
          () => session.engine(),
          plan,
          { onStep: (t) => progress.step(`${name}: ${t}`), onLayer: layerProgress(progress, `${name}: `) },
          session,
        );
        if (!opts.json) {
          ui.out(`${name}: ${deployLine(result)}`);
          printUrl(ui, result);
        }
        return result;
      },
      (r) => r.action,
    );
    const count = (action: DeployResult['action']) => results.filter((r) => r.action === action).length;
    const summary = {
      functions: results.length,
      created: count('created'),
      updated: count('updated'),
      unchanged: count('unchanged'),
    };
    progress.succeed(
      `deployed ${summary.functions} function${summary.functions === 1 ? '' : 's'}: ${summary.created} created, ${summary.updated} updated, ${summary.unchanged} unchanged`,
    );
    if (opts.json) ui.out(JSON.stringify({ functions: results.map(deployJson), summary }, null, 2));
  } catch (err) {
    progress.stop(); // the error line that follows says what failed, and where the command stopped
    throw err;
  } finally {
    session.close();
  }
}

/** One function's outcome: `updated <uri>`, or `unchanged (sha256:abcd1234… already deployed)`. */
export function deployLine(r: DeployResult): string {
  const extra = `${r.version ? `, version ${r.version}` : ''}${r.alias ? `, alias ${r.alias.name}` : ''}`;
  if (r.action === 'unchanged') return `unchanged (${r.digest.slice(0, 19)}… already deployed${extra})`;
  return `${r.action} ${r.resolvedImageUri}${extra ? ` (${extra.slice(2)})` : ''}`;
}

function deployJson(result: DeployResult) {
  const { push, waitedMs, function: fn, ...rest } = result;
  return { function: fn, ...rest, lambdaWaitMs: waitedMs, push: push ? pushJson(push) : undefined };
}

function printUrl(ui: Ui, result: DeployResult): void {
  if (!result.url) return;
  const u = result.url;
  ui.out(u.url);
  ui.info(
    `function URL ${u.action}: ${u.authType}, ${u.invokeMode}${u.permissionsAdded.length ? `; public access granted (${u.permissionsAdded.join(', ')})` : ''}${u.permissionsRemoved.length ? `; public access removed (${u.permissionsRemoved.join(', ')})` : ''}`,
  );
}
