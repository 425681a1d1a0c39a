// `lambda-image deploy`: wiring and output only; the work is in src/app/deploy.ts.
import { deployProject, planDeploy, type DeployOptions } from '../app/deploy.js';
import { functionNameProblem, roleArnProblem } from '../config/value-rules.js';
import { connectEngine } from '../docker/engine.js';
import { createUi } from '../ui.js';
import { checkedFlag } from './args.js';
import { layerProgress, pushJson, pushOptions } from './push.js';

export interface DeployCliOptions extends Omit<DeployOptions, 'variant'> {
  variant?: string;
  json?: boolean;
}

export async function runDeploy(dir: string, opts: DeployCliOptions): Promise<void> {
  const ui = createUi();
  // The one plan: bad input fails here, before AWS or the engine is asked (exit 2, not 20/36).
  const plan = await planDeploy(dir, {
    ...pushOptions(opts),
    imageUri: opts.imageUri,
    publish: opts.publish,
    alias: opts.alias,
    functionName: checkedFlag(opts.functionName, '--function-name', functionNameProblem, 'orders-api'),
    role: checkedFlag(opts.role, '--role', roleArnProblem, 'arn:aws:iam::123456789012:role/orders-lambda'),
  });
  const progress = await ui.progress('deploying');
  try {
    const result = await deployProject(() => connectEngine(), plan, {
      onStep: (t) => progress.step(t),
      onLayer: layerProgress(progress),
    });
    progress.succeed(
      `${result.action} ${result.functionName} in ${result.region}${result.version ? `, version ${result.version}` : ''}${result.alias ? `, alias ${result.alias.name}` : ''}`,
    );
    if (opts.json) {
      const { push, waitedMs, ...rest } = result;
      ui.out(JSON.stringify({ ...rest, lambdaWaitMs: waitedMs, push: push ? pushJson(push) : undefined }, null, 2));
    } else {
      ui.out(result.resolvedImageUri);
    }
  } catch (err) {
    progress.stop(); // the error line that follows says what failed
    throw err;
  }
}
