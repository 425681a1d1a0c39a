// `start --watch`: its flags, the first build, and its events on the terminal (one line per
// rebuild) or as JSON lines on stdout (--json). The loop itself is src/app/watch.ts.
import type { BuildOptions } from '../app/build.js';
import type { CompileMode } from '../app/dev-loop.js';
import type { FunctionSettings, LocalFunction } from '../app/invoke.js';
import { buildForWatch, imageNameOf, watchProject, type WatchEvent, type WatchSession } from '../app/watch.js';
import { emulatorSourceProblem } from '../config/value-rules.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import type { VariantName } from '../render/variant.js';
import { printable, printableLines } from '../util/printable.js';
import { checkedFlag, parseBaseImageFlags, parsePairs } from './args.js';

export interface WatchCliOptions {
  image?: string;
  /** `--function` (start's): the functions served, and so built. */
  function?: string[];
  watch?: boolean;
  prewarm?: boolean;
  json?: boolean;
  variant?: string;
  buildArg?: string[];
  baseImage?: string[];
  builderImage?: string;
  rieFrom?: string;
  builder?: 'auto' | 'buildkit' | 'classic';
  compile?: CompileMode;
}

export interface WatchPlan {
  build: BuildOptions;
  prewarm: boolean;
  json: boolean;
  builder?: 'auto' | 'buildkit' | 'classic';
  compile: CompileMode;
}

const WATCH_ONLY = {
  prewarm: '--prewarm',
  json: '--json',
  variant: '--variant',
  buildArg: '--build-arg',
  baseImage: '--base-image',
  builderImage: '--builder-image',
  rieFrom: '--rie-from',
  builder: '--builder',
  compile: '--compile',
} as const;

/** The watch part of `start`'s plan (undefined without --watch); its flags checked as `build` checks them. */
export function watchPlan(opts: WatchCliOptions): WatchPlan | undefined {
  if (!opts.watch) {
    const given = Object.entries(WATCH_ONLY).find(([key]) => opts[key as keyof typeof WATCH_ONLY] !== undefined);
    if (given)
      throw new LambdaImageError('INVALID_INPUT', `${given[1]} goes with --watch`, {
        hint: `add --watch (start --watch ${given[1]} ...), or leave ${given[1]} out`,
      });
    return undefined;
  }
  if (opts.image !== undefined)
    throw new LambdaImageError('INVALID_INPUT', '--watch rebuilds the project: it cannot serve --image', {
      hint: 'run start --watch in the project folder (or give its path), without --image',
    });
  // commander checked --variant against the variant names.
  const variant = opts.variant as VariantName | undefined;
  return {
    build: {
      ...(variant ? { variants: [variant] } : {}),
      ...(opts.function?.length ? { functions: opts.function } : {}),
      buildArgs: parsePairs(opts.buildArg ?? [], '--build-arg'),
      baseImages: parseBaseImageFlags(opts.baseImage ?? []),
      builderImage: opts.builderImage,
      rieFrom: checkedFlag(opts.rieFrom, '--rie-from', emulatorSourceProblem, './aws-lambda-rie'),
    },
    prewarm: opts.prewarm ?? false,
    json: opts.json ?? false,
    builder: opts.builder,
    compile: opts.compile ?? 'builder',
  };
}

/** What the first build made: the events' printer, and each function's image. */
export interface FirstBuild {
  emit(e: WatchEvent): void;
  /** The image ID each function serves (by function name). */
  serving: Record<string, string>;
  /** The tag just built for a function's image name (its config `name`), to serve it. */
  imageOf(imageName: string | undefined): string | undefined;
}

/** The first build: `start --watch` serves the project as it is now. */
export async function buildBeforeServing(engine: Engine, dir: string, plan: WatchPlan): Promise<FirstBuild> {
  const emit = watchPrinter(plan.json);
  const began = performance.now();
  emit({ type: 'rebuild-start', files: [], functions: [] });
  const result = await buildForWatch(engine, dir, plan.build, {
    onWarning: (message) => emit({ type: 'warning', message }),
  });
  emit({
    type: 'rebuild-done',
    files: [],
    functions: [...new Set(result.images.map((i) => i.function))],
    ms: Math.round(performance.now() - began),
    images: result.images.map((i) => ({ function: i.function, image: i.tag, id: i.id, changed: i.changed })),
  });
  return {
    emit,
    serving: Object.fromEntries(result.images.map((i) => [i.function, i.id])),
    imageOf: (name) => result.images.find((i) => name !== undefined && imageNameOf(i.tag) === name)?.tag,
  };
}

export async function startWatching(
  engine: Engine,
  dir: string,
  plan: WatchPlan,
  fns: readonly LocalFunction[],
  settings: readonly FunctionSettings[],
  first: FirstBuild,
): Promise<WatchSession> {
  return watchProject(engine, {
    dir,
    build: plan.build,
    // Each pool by its function's image name (its config `name`): what builds and the config agree on.
    targets: fns.map((fn, i) => ({ imageName: settings[i]?.config?.name ?? fn.name, pool: fn.pool })),
    prewarm: plan.prewarm ? Math.max(...fns.map((fn) => fn.pool.concurrency)) : 0,
    serving: first.serving,
    compile: plan.compile,
    onEvent: (e) => first.emit(e),
  });
}

/** Where events go: JSON lines on stdout (--json), or lines for people on stderr. */
export function watchPrinter(json: boolean): (e: WatchEvent) => void {
  if (json) return (e) => process.stdout.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
  return (e) => {
    for (const line of watchLines(e)) process.stderr.write(`${line}\n`);
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function changed(files: string[]): string {
  if (!files.length) return 'start';
  const shown = files.slice(0, 3).map(printable).join(', ');
  return `${shown}${files.length > 3 ? ` and ${files.length - 3} more` : ''} changed`;
}

/** The terminal's lines for one event: one per rebuild (at its swap, or its failure), and the first build's. */
export function watchLines(e: WatchEvent): string[] {
  switch (e.type) {
    case 'rebuild-start':
      return e.files.length ? [] : ['watch: building the project before serving it'];
    case 'rebuild-done':
      return e.files.length
        ? []
        : [`watch: built ${e.images.map((i) => printable(i.image)).join(', ')} in ${seconds(e.ms)}`];
    case 'swap': {
      const id = e.id.replace(/^sha256:/, '').slice(0, 12);
      const old = [
        e.retiredIdle ? `${e.retiredIdle} idle old environment${e.retiredIdle === 1 ? '' : 's'} spun down` : '',
        e.retiringBusy
          ? `${e.retiringBusy} finishing ${e.retiringBusy === 1 ? 'its invoke' : 'their invokes'} first`
          : '',
      ].filter(Boolean);
      const warm = e.prewarmedInitMs.length
        ? `${e.prewarmedInitMs.length} environment${e.prewarmedInitMs.length === 1 ? '' : 's'} prewarmed (init ${e.prewarmedInitMs.map((m) => `${m} ms`).join(', ')})`
        : 'the next invoke is a cold start';
      return [
        `watch: ${changed(e.files)}: rebuilt in ${seconds(e.buildMs)}, swapped ${printable(e.function)} to ${printable(e.image)} (${id}): ${[warm, ...old].join('; ')}`,
      ];
    }
    case 'unchanged':
      return [
        `watch: ${changed(e.files)}: rebuilt in ${seconds(e.buildMs)}, and ${printable(e.image)} is the image already served: nothing to swap`,
      ];
    case 'rebuild-failed':
      return [
        `watch: rebuild failed after ${seconds(e.ms)} (${changed(e.files)}): ${printable(e.error)}`,
        ...e.lines.map((l) => `  ${printableLines(l)}`),
        'watch: the old image keeps serving; waiting for the next change',
      ];
    case 'rebuild-aborted':
    case 'ready':
      return [];
    case 'warning':
      return [`warning: ${printable(e.message)}`];
  }
}
