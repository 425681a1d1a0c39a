// `lambda-image deploy`: wiring and output only; the work is in src/app/deploy.ts.
import { deployProject, planDeploy, type DeployOptions } from '../app/deploy.js';
import { functionNameProblem, roleArnProblem } from '../config/value-rules.js';
import { connectEngine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { createUi } from '../ui.js';
import { checkedFlag } from './args.js';
import { layerProgress, pushJson, pushOptions } from './push.js';

export interface DeployCliOptions extends Omit<DeployOptions, 'variant'> {
  variant?: string;
  json?: boolean;
}

export async function runDeploy(dir: string, opts: DeployCliOptions): Promise<void> {
  const ui = createUi();
  if (!opts.url && (opts.urlAuth || opts.invokeMode))
    throw new LambdaImageError('INVALID_INPUT', '--url-auth and --invoke-mode set up the function URL: add --url', {
      hint: 'for example --url --url-auth NONE',
    });
  // The one plan: bad input fails here, before AWS or the engine is asked (exit 2, not 20/36).
  const plan = await planDeploy(dir, {
    ...pushOptions(opts),
    imageUri: opts.imageUri,
    publish: opts.publish,
    alias: opts.alias,
    url: opts.url,
    urlAuth: opts.urlAuth,
    invokeMode: opts.invokeMode,
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
      if (result.url) {
        const u = result.url;
        ui.out(u.url);
        ui.info(
          `function URL ${u.action}: ${u.authType}, ${u.invokeMode}${u.permissionsAdded.length ? `; public access granted (${u.permissionsAdded.join(', ')})` : ''}${u.permissionsRemoved.length ? `; public access removed (${u.permissionsRemoved.join(', ')})` : ''}`,
        );
      }
    }
  } catch (err) {
    progress.stop(); // the error line that follows says what failed
    throw err;
  }
}
