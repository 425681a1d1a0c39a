// `lambda-image push`: wiring and output only; the work is in src/app/push.ts. Its output
// helpers serve `deploy` too.
import { planPush, pushProject, type PushOptions, type PushResult } from '../app/push.js';
import { regionProblem } from '../config/value-rules.js';
import { connectEngine } from '../docker/engine.js';
import type { PushLayerEvent } from '../docker/push.js';
import { parseVariant, type VariantName } from '../render/variant.js';
import { createUi, type Progress } from '../ui.js';
import { checkedFlag } from './args.js';
import { formatBytes } from './format.js';
import { withInterrupt } from './interrupt.js';

export interface PushCliOptions extends Omit<PushOptions, 'variant'> {
  variant?: string;
  json?: boolean;
}

export async function runPush(dir: string, opts: PushCliOptions): Promise<void> {
  const ui = createUi();
  // The one plan: bad input (and a missing build) fails here, before the engine or AWS is asked.
  const plan = await planPush(dir, pushOptions(opts));
  const engine = await connectEngine();
  const progress = await ui.progress('pushing');
  const layers = layerProgress(progress);
  // Ctrl-C stops the push and removes its temporary tag (withInterrupt).
  await withInterrupt(async (signal) => {
    try {
      const result = await pushProject(engine, plan, {
        onStep: (t) => progress.step(t),
        onLayer: layers,
        signal,
      });
      progress.succeed(pushSummary(result));
      if (opts.json) ui.out(JSON.stringify(pushJson(result), null, 2));
      else ui.out(result.imageUri);
    } catch (err) {
      progress.stop(); // the error line that follows says what failed
      throw err;
    }
  });
}

/** push's and deploy's shared flags, each by its rule. */
export function pushOptions(opts: PushCliOptions): PushOptions {
  return {
    ...opts,
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
    layersPushed: r.layersPushed,
    layersExisting: r.layersExisting,
    source: r.source,
  };
}

function pushSummary(r: PushResult): string {
  if (!r.pushed) return `${r.repository}:${r.tag} already holds ${r.source}`;
  const layers = (n: number) => `${n} layer${n === 1 ? '' : 's'}`;
  // Some registries leave sizes out of the manifest: the size is then unknown, not NaN.
  const size = r.compressedSize === undefined ? 'size unknown' : formatBytes(r.compressedSize);
  return `pushed ${r.source} as ${r.repository}:${r.tag} (${r.architecture}, ${size}; ${layers(r.layersPushed)} sent, ${layers(r.layersExisting)} already there)`;
}

/** One progress line for all layers: how many are done, and the bytes of those uploading. */
export function layerProgress(progress: Progress): (e: PushLayerEvent) => void {
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
    progress.step(`pushing layers: ${done}/${layers.size} done${bytes}`);
  };
}
