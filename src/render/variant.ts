// Image variants: which base, whether the emulator is added, and the render spec that a
// config plus a variant produce. Pure.
import type { Arch, Base, Config } from '../config/schema.js';
import { projectFunctions } from '../config/functions.js';
import { LambdaImageError } from '../errors.js';
import { emulatorSource, projectPathProblem } from '../config/value-rules.js';
import { defaultBaseImage, goBuilderImage, judgeBaseImage, rieDownloadUrl } from './images.js';

import { VARIANTS, type VariantName } from '../config/constants.js';

export { VARIANTS, type VariantName };

export interface Variant {
  base: Base;
  rie: boolean;
}

/** Where the emulator binary comes from: fetched by the Dockerfile, or a file in the build context. */
export type RieSource = { kind: 'url'; url: string } | { kind: 'context'; path: string };

export interface RenderSpec {
  variant: VariantName;
  runtime: Config['runtime'];
  arch: Arch;
  base: Base;
  baseImage: string;
  handler: string;
  /** Go runtime: builder image and main package path (relative, starting with ./). */
  builderImage?: string;
  goMain?: string;
  /** Go runtime: modules come from vendor/ (vendor/modules.txt, or sent by --go-modules host); no download. */
  goVendor?: boolean;
  /**
   * BuildKit: Go's module and build caches live in cache mounts that outlive builds, so a new
   * dependency or a one-line change recompiles only what changed. The classic builder has no
   * cache mounts and keeps a layer of precompiled imported packages instead.
   */
  cacheMounts: boolean;
  /** Provided runtime: the bootstrap binary's path in the build context. */
  binary?: string;
  /** Alpine with the emulator only. */
  rie?: RieSource;
  /** Context paths of unpacked layers, copied to /opt. */
  layerDirs: string[];
  /** Go runtime: the module path (names the binaries `go build -o <dir>/` writes). */
  goModule?: string;
  /**
   * A project of several functions: one Go build compiles every function, and each has a final
   * stage of its own (its binary, its extensions), built with `--target <stage>`. Absent: one
   * function, one unnamed final stage, as always.
   */
  functions?: FunctionTarget[];
}

/** One function's final stage in a project of several. */
export interface FunctionTarget {
  name: string;
  /** The Dockerfile stage to build for it (`fn-<name>`). */
  stage: string;
  /** Its main package (relative, starting with ./). */
  goMain: string;
  /** Context paths of the layers its image holds (its `extensions`, default all the project's). */
  layerDirs: string[];
}

/** The final stage of a function of a project of several: what `build` passes as the target. */
export function functionStage(name: string): string {
  return `fn-${name}`;
}

export function variantName(v: Variant): VariantName {
  if (v.base === 'aws') return 'aws';
  return v.rie ? 'alpine-rie' : 'alpine';
}

export function parseVariant(name: string): Variant {
  switch (name) {
    case 'aws':
      return { base: 'aws', rie: false };
    case 'alpine':
      return { base: 'alpine', rie: false };
    case 'alpine-rie':
      return { base: 'alpine', rie: true };
    default:
      throw new LambdaImageError('INVALID_INPUT', `unknown variant "${name}"`, {
        hint: `use one of: ${VARIANTS.join(', ')}`,
      });
  }
}

export interface SpecOptions {
  /** Overrides the config's base and emulator choice. */
  variant?: Variant;
  /** Overrides the config's architecture. */
  arch?: Arch;
  /** Where the emulator comes from, overriding the config (build's --rie-from). */
  rie?: RieSource;
  /** Base image per family (build's --base-image: a mirror, a digest-pinned ref), overriding the config. */
  baseImages?: Partial<Record<Base, string>>;
  /** The Go builder image (build's --builder-image), overriding the config. */
  builderImage?: string;
  /** Modules are vendored (vendor/modules.txt in the project or sent from the host). */
  goVendor?: boolean;
  /** Render for BuildKit (cache mounts; the default, as for every current Docker) or the classic builder. */
  builder?: 'buildkit' | 'classic';
}

/** Turns a config (and optional overrides) into everything the templates need. */
export function specFromConfig(config: Config, opts: SpecOptions = {}): { spec: RenderSpec; warnings: string[] } {
  const variant = opts.variant ?? { base: config.base, rie: config.rie };
  const arch = opts.arch ?? config.arch;
  const warnings: string[] = [];
  // A configured base image override applies to the config's own base only.
  const baseImage =
    opts.baseImages?.[variant.base] ??
    (config.baseImage && variant.base === config.base ? config.baseImage : defaultBaseImage(variant.base));
  const verdict = judgeBaseImage(baseImage);
  if (verdict.refuse) {
    throw new LambdaImageError('INVALID_INPUT', verdict.refuse, {
      hint: 'use --base aws (provided:al2023) or --base alpine',
    });
  }
  if (verdict.warn) warnings.push(verdict.warn);

  let rie: RieSource | undefined;
  if (variant.base === 'alpine' && variant.rie) {
    if (opts.rie) rie = opts.rie;
    else if (config.rieFrom && emulatorSource(config.rieFrom).kind === 'url')
      rie = { kind: 'url', url: config.rieFrom };
    else if (config.rieFrom && !projectPathProblem(config.rieFrom)) rie = { kind: 'context', path: config.rieFrom };
    else rie = { kind: 'url', url: rieDownloadUrl(config.rieVersion, arch) };
  }

  const spec: RenderSpec = {
    variant: variantName(variant),
    runtime: config.runtime,
    arch,
    base: variant.base,
    baseImage,
    handler: config.handler,
    rie,
    layerDirs: config.extensions.map((e) => e.dir),
    cacheMounts: (opts.builder ?? 'buildkit') === 'buildkit',
  };
  if (config.runtime === 'go') {
    spec.builderImage = opts.builderImage ?? config.builderImage ?? goBuilderImage(config.go!.version);
    spec.goMain = goMainArg(config.go!.main);
    spec.goModule = config.go!.module;
    spec.goVendor = opts.goVendor ?? false;
    if (config.functions) {
      spec.functions = projectFunctions(config).map((f) => ({
        name: f.name,
        stage: functionStage(f.name),
        goMain: goMainArg(f.config.go!.main),
        layerDirs: f.config.extensions.map((e) => e.dir),
      }));
    }
  } else {
    spec.binary = config.binary;
  }
  return { spec, warnings };
}

/** A main package as `go build` takes it: `.` or `./<dir>`. */
function goMainArg(main: string): string {
  return main === '.' ? '.' : `./${main.replace(/^\.\//, '')}`;
}
