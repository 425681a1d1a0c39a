// `lambda-image push`: wiring and output only; the work is in src/app/push.ts. Its output
// helpers serve `deploy` too.
import {
  checkLocalImages,
  planPushes,
  pushProject,
  RepositoryResolver,
  type PushOptions,
  type PushPlan,
  type PushResult,
} from '../app/push.js';
import { regionProblem } from '../app/inputs.js';
import { connectEngine } from '../docker/engine.js';
import type { PushLayerEvent } from '../app/inputs.js';
import { parseVariant, type VariantName } from '../app/inputs.js';
import { createUi, type Progress } from '../ui.js';
import { checkedFlag } from './args.js';
import { forEachFunction } from './each-function.js';
import { formatBytes } from './format.js';
import { withInterrupt } from './interrupt.js';

export interface PushCliOptions extends Omit<PushOptions, 'variant' | 'functions'> {
  variant?: string;
  json?: boolean;
  /** --function, repeatable. */
  function?: string[];
}

export async function runPush(dir: string, opts: PushCliOptions): Promise<void> {
  // The plans, one per function: bad input (and a missing build) fails here, before the engine or AWS is asked.
  const plans = await planPushes(dir, pushOptions(opts));
  return pushFunctions(plans, opts);
}

/**
 * The functions of the project (one or several, the same way): each pushed in turn, a line
 * per function on stdout (`<function> <repository>@sha256:...`), and a summary of what was
 * sent; --json: one shape, `{ functions: [...], summary }`, for one function or many.
 */
async function pushFunctions(plans: PushPlan[], opts: PushCliOptions): Promise<void> {
  const ui = createUi();
  const engine = await connectEngine();
  await checkLocalImages(engine, plans);
  const progress = await ui.progress(`pushing ${plans.length} function${plans.length === 1 ? '' : 's'}`);
  const repositories = new RepositoryResolver();
  await withInterrupt(async (signal) => {
    try {
      const results = await forEachFunction(
        plans,
        async (plan, name) => {
          const layers = layerProgress(progress, `${name}: `);
          const result = await pushProject(
            engine,
            plan,
            { onStep: (t) => progress.step(`${name}: ${t}`), onLayer: layers, signal },
            repositories,
          );
          progress.step(`${name}: ${pushSummary(result)}`);
          if (!opts.json) ui.out(`${name} ${result.imageUri}${result.unchanged ? ' (unchanged)' : ''}`);
          return result;
        },
        (r) => (r.unchanged ? 'unchanged' : r.layersPushed ? 'pushed' : 'already in the registry'),
      );
      const sent = results.filter((r) => r.layersPushed > 0).length;
      const unchanged = results.filter((r) => r.unchanged).length;
      const retagged = results.length - sent - unchanged;
      progress.succeed(
        `pushed ${results.length} function${results.length === 1 ? '' : 's'}: ${sent} with new layers, ${unchanged} unchanged (the tag already held the image)${retagged ? `, ${retagged} tagged from layers already in the registry` : ''}`,
      );
      if (opts.json)
        ui.out(
          JSON.stringify(
            {
              functions: results.map((r) => ({ function: r.function, ...pushJson(r) })),
              summary: {
                functions: results.length,
                withNewLayers: sent,
                alreadyInRegistry: results.length - sent,
                unchanged,
              },
            },
            null,
            2,
          ),
        );
    } catch (err) {
      progress.stop(); // the error line that follows says what failed, and where the command stopped
      throw err;
    } finally {
      repositories.close();
    }
  });
}

/** push's and deploy's shared flags, each by its rule. */
export function pushOptions(opts: PushCliOptions): PushOptions {
  const { function: functions, json: _json, ...rest } = opts;
  return {
    ...rest,
    functions,
    variant: variantOf(opts.variant),
    region: checkedFlag(opts.region, '--region', regionProblem, 'eu-west-1'),
  };
}

export function variantOf(value?: string): VariantName | undefined {
  if (!value) return undefined;
  parseVariant(value); // throws a clear error for unknown names
  return value as VariantName;
}

export function pushJson(r: PushResult) {
  return {
    repository: r.repository,
    tag: r.tag,
    digest: r.digest,
    imageUri: r.imageUri,
    mediaType: r.mediaType,
    architecture: r.architecture,
    // Left out when the registry does not report sizes (never null).
    ...(r.compressedSize === undefined ? {} : { compressedSize: r.compressedSize }),
    pushed: r.pushed,
    unchanged: r.unchanged,
    layersPushed: r.layersPushed,
    layersExisting: r.layersExisting,
    source: r.source,
  };
}

export function pushSummary(r: PushResult): string {
  if (!r.pushed)
    return r.unchanged
      ? `unchanged: ${r.repository}:${r.tag} already held ${r.source} (the same image ID; nothing sent, the tag did not move)`
      : `${r.repository}:${r.tag} already holds ${r.source}`;
  const layers = (n: number) => `${n} layer${n === 1 ? '' : 's'}`;
  // Some registries leave sizes out of the manifest: the size is then unknown, not NaN.
  const size = r.compressedSize === undefined ? 'size unknown' : formatBytes(r.compressedSize);
  if (r.unchanged)
    return `unchanged: ${r.repository}:${r.tag} already held ${r.source} (${layers(r.layersExisting)}, none sent; the tag did not move)`;
  if (r.layersPushed === 0 && r.layersExisting > 0)
    return `${r.repository}:${r.tag} holds ${r.source}; the registry already had every layer (${layers(r.layersExisting)}, none sent; ${r.architecture}, ${size})`;
  return `pushed ${r.source} as ${r.repository}:${r.tag} (${r.architecture}, ${size}; ${layers(r.layersPushed)} sent, ${layers(r.layersExisting)} already there)`;
}

/** One progress line for all layers: how many are done, and the bytes of those uploading. */
export function layerProgress(progress: Progress, prefix = ''): (e: PushLayerEvent) => void {
  const layers = new Map<string, PushLayerEvent>();
  return (e) => {
    layers.set(e.id, e);
    let done = 0;
    let current = 0;
    let total = 0;
    for (const l of layers.values()) {
      if (l.status === 'Pushed' || l.status === 'Layer already exists') done++;
      else if (l.status === 'Pushing' && l.total) {
        current += l.current ?? 0;
        total += l.total;
      }
    }
    // Plain (non-TTY) output prints each distinct line: report layer completions, not every byte.
    const bytes = total && process.stderr.isTTY ? `, ${formatBytes(current)} of ${formatBytes(total)}` : '';
    progress.step(`${prefix}pushing layers: ${done}/${layers.size} done${bytes}`);
  };
}
