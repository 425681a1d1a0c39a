// The watch's fast path: after an edit of Go sources only, compile in a long-lived builder (or
// with the host's Go, on request) with the Dockerfile's own flags, and make the image to serve
// from the last full build with only the binary replaced (src/docker/fast-image.ts). Anything
// else (the config, the Dockerfile's inputs, a project the fast path does not cover) takes the
// full build. The fast image is tagged apart and never recorded: build/push ship only full builds.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { BuildAbortedError } from '../docker/builds.js';
import { startDevBuilder, type DevBuilder } from '../docker/dev-builder.js';
import type { Engine } from '../docker/engine.js';
import { fastImageMaker, singleFile, type FastImageMaker } from '../docker/fast-image.js';
import { ownerLabels, SESSION_LABEL } from '../emulator/owners.js';
import { LambdaImageError } from '../errors.js';
import { compileOnHost } from '../project/host-compile.js';
import { FUNCTION_BINARY_PATH, GO_BINARY_OUT, goCompileFor, type GoCompile } from '../render/go-compile.js';
import { parseVariant, specFromConfig } from '../render/variant.js';
import { debug } from '../util/debug.js';
import { exists } from '../util/fs.js';
import { planBuild, type BuildOptions, type BuiltImage } from './build.js';

import type { CompileMode } from '../config/constants.js';

export type { CompileMode };

/** What a rebuild made, as the watch swaps it (a full build's result fits it too). */
export interface WatchBuild {
  images: Array<Pick<BuiltImage, 'function' | 'tag' | 'id' | 'changed'>>;
}

export interface DevLoopOptions {
  dir: string;
  build: BuildOptions;
  compile: CompileMode;
  /** The image each function serves now (the first full build's): the base of the first fast image. */
  serving: Record<string, string>;
  /** Names of the cache volumes and the builder container's labels (tests give their own). */
  volumePrefix?: string;
  hostEnv?: NodeJS.ProcessEnv;
}

export interface DevLoop {
  /**
   * The fast path when the change allows it, else `full()`; a full build's images become the
   * next base. `functions`: those the change concerns (a project of several; absent: all).
   */
  rebuild(
    files: string[],
    signal: AbortSignal,
    full: () => Promise<WatchBuild>,
    functions?: string[],
  ): Promise<WatchBuild>;
  stop(): Promise<void>;
}

const log = debug('watch');

/** What only the binary is made from: Go sources and the module files. */
export function onlyGoSources(files: string[]): boolean {
  return (
    files.length > 0 && files.every((f) => /\.go$/.test(f) || /^go\.(mod|sum)$/.test(f) || f.startsWith('vendor/'))
  );
}

interface FastPlan {
  function: string;
  repo: string;
  tag: string;
  builderImage: string;
  platform: string;
  compile: GoCompile;
}

/** The fast path's plan for the project as it is now (one per function), or why there is none. */
async function fastPlan(dir: string, build: BuildOptions, engine: Engine): Promise<FastPlan[] | string> {
  const plan = await planBuild(dir, build);
  if (plan.variants.length !== 1) return 'several images per build';
  if (plan.config.runtime !== 'go') return 'not a Go function';
  if (plan.goModules === 'host') return 'go.modules host (vendored on the host for each build)';
  const { spec } = specFromConfig(plan.config, {
    variant: parseVariant(plan.variants[0]!),
    arch: plan.arch,
    baseImages: plan.baseImages,
    builderImage: plan.builderImage,
    goVendor: await exists(path.join(dir, 'vendor', 'modules.txt')),
    builder: engine.buildkit ? 'buildkit' : 'classic',
  });
  if (!spec.builderImage) return 'no builder image';
  const plans: FastPlan[] = [];
  for (const target of plan.targets) {
    // A project of several: each function's main alone, with the flags of the stage's go build.
    const compile = goCompileFor(spec, plan.buildArgs, spec.functions ? target.function : undefined);
    if (!compile) return `no compile for ${target.function}`;
    plans.push({
      function: target.function,
      repo: target.repo,
      tag: plan.tag,
      builderImage: spec.builderImage,
      platform: engine.platform,
      compile,
    });
  }
  return plans.length ? plans : 'no function to build';
}

export async function startDevLoop(engine: Engine, opts: DevLoopOptions): Promise<DevLoop> {
  const { dir } = opts;
  const prefix = opts.volumePrefix ?? 'lambda-image-dev';
  const labels = { [SESSION_LABEL]: `dev-loop-${process.pid}`, ...ownerLabels() };
  const bases = new Map(Object.entries(opts.serving));
  // The binary each function serves now, by its image ID: the same bytes again swap nothing.
  const served = new Map<string, { id: string; sha256: string }>();
  // Per function: a container of its last full build that each new binary is committed from.
  const makers = new Map<string, FastImageMaker>();
  let builder: Promise<DevBuilder> | undefined;
  let builderImage: string | undefined;

  const startBuilder = (plan: FastPlan) => {
    if (builder && builderImage === plan.builderImage) return builder;
    void builder?.then(
      (b) => b.stop(),
      () => undefined,
    );
    builderImage = plan.builderImage;
    const scope = plan.builderImage.toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
    builder = (async () => {
      const b = await startDevBuilder(engine.docker, {
        image: plan.builderImage,
        dir,
        // The build context leaves .git out: go would stamp (or fail on) what the image never sees.
        hide: (await exists(path.join(dir, '.git'))) ? ['.git'] : [],
        modCacheVolume: `${prefix}-go-mod`,
        buildCacheVolume: `${prefix}-go-build-${scope}`,
        labels,
      });
      // A first compile fills the build cache (the standard library for this target) before the first edit.
      const warm = await b.compile(plan.compile.env, plan.compile.args, '/tmp/warm', plan.compile.main);
      log(`dev builder warm-up compile: ${warm.ok ? 'ok' : warm.lines.join(' | ')}`);
      return b;
    })();
    builder.catch(() => undefined);
    return builder;
  };

  let planned: Promise<FastPlan[] | string> | undefined;
  const currentPlan = () => {
    planned ??= fastPlan(dir, opts.build, engine).catch((err: Error) => `no plan: ${err.message}`);
    return planned;
  };
  // Pre-started: the builder is ready (and its cache warm) by the time of the first edit.
  if (opts.compile === 'builder')
    void currentPlan().then((p) => {
      if (typeof p !== 'string') startBuilder(p[0]!);
    });

  /**
   * A full build after fast images: when it differs from the previous full build only in the
   * binary, and the binary is the one served, the environment served is the same: no swap.
   */
  async function sameAsServed(fn: string, tag: string, before: string | undefined, after: string) {
    const now = served.get(fn);
    if (!before || !now || now.id === before || before === after) return undefined;
    const [a, b] = await Promise.all([before, after].map((id) => engine.docker.getImage(id).inspect()));
    const upToBinary = (i: typeof a) => JSON.stringify([i!.Config, i!.RootFS.Layers?.slice(0, -1)]);
    if (upToBinary(a) !== upToBinary(b)) return undefined;
    await makers.get(fn)?.remove();
    const maker = await fastImageMaker(engine.docker, after, FUNCTION_BINARY_PATH);
    makers.set(fn, maker);
    if (maker.shippedSha256 !== now.sha256) {
      served.set(fn, { id: after, sha256: maker.shippedSha256 });
      return undefined;
    }
    return { function: fn, tag, id: now.id, changed: false };
  }

  async function binaryOf(plan: FastPlan): Promise<Buffer> {
    const { env, args, main } = plan.compile;
    const failed = (lines: string[]) =>
      new LambdaImageError('BUILD_FAILED', 'build failed at go build', {
        details: lines.slice(-20),
        hint: 'fix the error and save again: the old code keeps serving',
      });
    if (opts.compile === 'host') {
      const r = await compileOnHost(dir, env, args, main, opts.hostEnv);
      if (!r.ok) throw failed(r.lines);
      return r.bytes;
    }
    const b = await startBuilder(plan);
    const r = await b.compile(env, args, GO_BINARY_OUT, main);
    if (!r.ok) throw failed(r.lines);
    return singleFile(await b.archive(GO_BINARY_OUT));
  }

  /** One function's fast image from its new binary (the served image when the bytes are the same). */
  async function fastOne(plan: FastPlan, base: string, signal: AbortSignal): Promise<WatchBuild['images'][number]> {
    const began = performance.now();
    const bytes = await binaryOf(plan);
    if (signal.aborted) throw new BuildAbortedError();
    let maker = makers.get(plan.function);
    if (maker?.base !== base) {
      await maker?.remove();
      maker = await fastImageMaker(engine.docker, base, FUNCTION_BINARY_PATH);
      makers.set(plan.function, maker);
      served.set(plan.function, { id: base, sha256: maker.shippedSha256 });
    }
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const tag = `${plan.tag}-watch`;
    const now = served.get(plan.function);
    // The same binary (a comment, a test file, a package this main does not import): the image served already is this one.
    if (now?.sha256 === sha256)
      return { function: plan.function, tag: `${plan.repo}:${tag}`, id: now.id, changed: false };
    const id = await maker.commit(bytes, plan.repo, tag);
    served.set(plan.function, { id, sha256 });
    log(`fast image of ${plan.function} ${id.slice(7, 19)} in ${Math.round(performance.now() - began)} ms`);
    return { function: plan.function, tag: `${plan.repo}:${tag}`, id, changed: true };
  }

  return {
    async rebuild(files, signal, full, functions) {
      const all = opts.compile === 'image' || !onlyGoSources(files) ? 'not Go sources only' : await currentPlan();
      const plans = typeof all === 'string' ? all : all.filter((p) => !functions || functions.includes(p.function));
      const missing = typeof plans === 'string' ? [] : plans.filter((p) => !bases.get(p.function));
      if (typeof plans === 'string' || !plans.length || missing.length) {
        log(
          `full build (${typeof plans === 'string' ? plans : missing.length ? 'no full build to start from' : 'no function planned'})`,
        );
        const result = await full();
        // The config may have changed what the fast path builds: worked out again next time.
        planned = undefined;
        const images = [];
        for (const i of result.images) {
          const before = bases.get(i.function);
          bases.set(i.function, i.id);
          images.push((await sameAsServed(i.function, i.tag, before, i.id)) ?? i);
        }
        return { ...result, images };
      }
      // One at a time: the builder compiles one main after another (its cache shares the packages they have in common).
      const images = [];
      for (const plan of plans) images.push(await fastOne(plan, bases.get(plan.function)!, signal));
      return { images };
    },
    async stop() {
      for (const m of makers.values()) await m.remove();
      await builder?.then(
        (b) => b.stop(),
        () => undefined,
      );
    },
  };
}
