// `build`: for each requested variant, render the Dockerfile in memory, pack the context,
// build through the engine, and report what the image is and where its bytes are. A project of
// several functions has one Dockerfile (one Go build for all, a final stage per function): each
// selected function's stage is built as a target of its own, and the later ones find the
// shared builder stages in the cache.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parseImageReference, repositoryOf, tagProblem } from '../config/image-reference.js';
import { CONFIG_FILE, type Arch, type Base, type Config } from '../config/schema.js';
import { selectFunctions } from '../config/functions.js';
import { loadConfig } from '../config/store.js';
import { packBuildContext, type GeneratedEntry, type PackedContext } from '../docker/build-context.js';
import { failingStep, type BuildEvent, type BuildOutcome } from '../docker/build-stream.js';
import { BuildAbortedError, runEngineBuild } from '../docker/builds.js';
import type { Engine } from '../docker/engine.js';
import { inspectBuiltImage, type BuiltImageFacts } from '../docker/image-report.js';
import { imageClient, type ImageClient } from '../docker/images.js';
import { makeImageReproducible } from '../docker/reproducible-image.js';
import { LambdaImageError } from '../errors.js';
import { exists, readTextIfExists } from '../util/fs.js';
import { GO_MODULE_SETTINGS, type GoModuleMode } from '../config/constants.js';
import { emulatorSource, emulatorSourceProblem } from '../config/value-rules.js';
import {
  registryConfigFor,
  registryKey,
  type BuildAuthConfig,
  type RegistryAuthProvider,
} from '../docker/registry-config.js';
import { hasImageFor, pullImage } from '../docker/pull.js';
import { userRegistryAuth } from '../registry/auth.js';
import { checkBinaryArch } from '../project/binary-arch.js';
import { lambdaTarget } from '../project/build-constraints.js';
import { mainPackageProblem } from '../project/main-packages.js';
import { BUILD_RECORD, readBuildRecord, recordBuild, type BuiltVariant } from '../project/build-record.js';
import { vendorModulesOnHost, type HostVendorTree } from '../project/host-modules.js';
import { configPath, typedPath } from '../util/paths.js';
import { dockerArchitecture, dockerPlatform } from '../render/images.js';
import { dockerfileOrigin, renderVariantFiles } from '../render/render.js';
import { DELVE_CONTEXT_PATH, DELVE_VERSION, renderDebugDockerfile } from '../render/debug.js';
import { checkDelveBinary } from '../project/delve-binary.js';
import {
  functionStage,
  parseVariant,
  specFromConfig,
  variantName,
  type RenderSpec,
  type VariantName,
} from '../render/variant.js';

/** Where a local emulator binary goes inside the build context. */
export const RIE_CONTEXT_PATH = '.lambda-image/rie/aws-lambda-rie';

/** One built and tagged image, as the report shows it. */
export interface BuiltImage extends BuiltImageFacts {
  /** The function it runs (a one-function project: the project's image name). */
  function: string;
  variant: string;
  tag: string;
  baseImage: string;
  /** Its ID differs from the one the previous build of this function and variant made (true when there was none). */
  changed: boolean;
  /** There was no previous build of this function and variant (the report says `new`, not `changed`). */
  new: boolean;
}

/** One function a build makes images of. */
export interface BuildTarget {
  function: string;
  /** The image repository its images are tagged in. */
  repo: string;
  /** A project of several: its final stage (the build target) and the key of its build record. */
  stage?: string;
  recordKey?: string;
}

export interface BuildOptions {
  /** `name:tag` (one function), or `:tag` (the tag alone, for every function built). */
  tag?: string;
  /** Functions to build (--function, repeatable): default every function of the project. */
  functions?: string[];
  variants?: VariantName[];
  arch?: Arch;
  buildArgs?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  /** A local emulator binary (path) or a download URL; overrides the config's rieFrom. */
  rieFrom?: string;
  /** Base image overrides: per family, or `own` for the config's own base. */
  baseImages?: Partial<Record<Base | 'own', string>>;
  /** Go builder image override. */
  builderImage?: string;
  /** How Go modules reach the build (overrides the config's go.modules): auto or host. */
  goModules?: GoModuleMode;
  /**
   * Finds registry credentials for the images the build pulls (sent as X-Registry-Config).
   * Default: src/registry's registryAuthFor (Docker credentials; ECR logins for ECR hosts).
   */
  registryAuth?: RegistryAuthProvider;
  /** The environment `go` runs with for --go-modules host (default: this process's). */
  hostEnv?: NodeJS.ProcessEnv;
  /**
   * `invoke --debug`: the debug variant (no optimisations, symbols kept, delve added), tagged
   * `<tag>-debug` and never recorded (push and deploy ship the release build). `delveFrom`: a
   * static delve of the target architecture, else the pinned release is built.
   */
  debug?: { delveFrom?: string };
}

export interface BuildHooks {
  /** Aborting it stops the build (`start --watch`): the engine cancels it, nothing is tagged or recorded. */
  signal?: AbortSignal;
  /** An image is about to be built. */
  onImage?(image: { function: string; variant: VariantName; tag: string }): void;
  onEvent?(variant: VariantName, event: BuildEvent): void;
  onWarning?(message: string): void;
}

export interface BuildResult {
  images: BuiltImage[];
  /** Bytes of project files in the context (after .dockerignore), and bytes sent, per variant. */
  context: Array<{ function: string; variant: VariantName; files: number; fileBytes: number; sentBytes: number }>;
  outcomes: Array<{ function: string; variant: VariantName; outcome: BuildOutcome }>;
}

/** A build worked out and checked once (planBuild), before the engine is asked anything. */
export interface BuildPlan {
  dir: string;
  config: Config;
  /** The functions built, each in every variant (a one-function project: one target, no stage). */
  targets: BuildTarget[];
  tag: string;
  variants: VariantName[];
  arch: Arch;
  buildArgs: Record<string, string>;
  noCache: boolean;
  pull: boolean;
  rie: RieInput;
  baseImages: Partial<Record<Base, string>>;
  builderImage?: string;
  goModules: GoModuleMode;
  registryAuth?: RegistryAuthProvider;
  hostEnv?: NodeJS.ProcessEnv;
  /** The debug variant (see BuildOptions.debug): delveFile is the checked --delve-from. */
  debug?: { delveFile?: string };
}

/**
 * Everything about a build that can be checked without the engine: the config, the tag, the
 * image references, the emulator source and the binary's architecture. The CLI calls it
 * before connecting, so bad input is exit 2 whether or not an engine is there.
 */
export async function planBuild(dir: string, opts: BuildOptions = {}): Promise<BuildPlan> {
  const config = await loadConfig(dir);
  const functions = selectFunctions(config, opts.functions);
  let tag = config.tag;
  let repo: string | undefined;
  if (opts.tag?.startsWith(':')) {
    tag = opts.tag.slice(1);
    const problem = tagProblem(tag);
    if (problem)
      throw new LambdaImageError('INVALID_INPUT', `--tag ${opts.tag}: ${tag} is not a valid tag: ${problem}`, {
        hint: 'use --tag :<tag> (letters, digits, _ . -; at most 128)',
      });
  } else if (opts.tag !== undefined) {
    if (functions.length > 1)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--tag ${opts.tag} names one image, and this build makes ${functions.length} functions' images (${functions.map((f) => f.name).join(', ')})`,
        {
          hint: `give the tag alone (--tag :${opts.tag.split(':')[1] ?? 'v2'}), or build one function with --function`,
        },
      );
    ({ repo, tag } = parseTag(opts.tag));
  }
  const targets: BuildTarget[] = functions.map((f) => ({
    function: f.name,
    repo: repo ?? f.config.name,
    ...(f.recordKey !== undefined ? { stage: functionStage(f.recordKey), recordKey: f.recordKey } : {}),
  }));
  // With several variants each image is tagged <tag>-<variant>: that tag must be valid too.
  for (const variant of (opts.variants?.length ?? 0) > 1 ? opts.variants! : []) {
    const problem = tagProblem(`${tag}-${variant}`);
    if (problem)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `tag ${tag}-${variant} (for variant ${variant}) is not valid: ${problem}`,
        { hint: 'use a shorter --tag' },
      );
  }
  const rie = await resolveRieSource(dir, config, opts.rieFrom);
  const { own, ...families } = opts.baseImages ?? {};
  const baseImages: Partial<Record<Base, string>> = { ...(own ? { [config.base]: own } : {}), ...families };
  for (const ref of Object.values(baseImages)) parseImageReference(ref, '--base-image');
  if (opts.builderImage) parseImageReference(opts.builderImage, '--builder-image');
  const arch = opts.arch ?? config.arch;
  if (config.runtime === 'provided') await checkBinaryArch(dir, config.binary!, arch);
  const debug = opts.debug
    ? { delveFile: opts.debug.delveFrom ? await checkDelveBinary(dir, opts.debug.delveFrom, arch) : undefined }
    : undefined;
  // Each function's main, checked as init's discovery checks a folder: before the engine
  // builds anything, and blamed on the function it belongs to.
  const goTarget = lambdaTarget(arch, config.go?.version);
  for (const f of functions) {
    if (!f.entry || config.runtime !== 'go') continue;
    const problem = await mainPackageProblem(dir, f.entry.main, goTarget);
    if (problem)
      throw new LambdaImageError('CONFIG_INVALID', `functions.${f.name}.main: ${problem}`, {
        hint: `set functions.${f.name}.main in ${CONFIG_FILE} to the folder of its main package, such as ./cmd/${f.name}, or remove ${f.name} from "functions"`,
      });
  }
  return {
    dir,
    config,
    targets,
    tag,
    variants: opts.variants?.length ? opts.variants : [variantName({ base: config.base, rie: config.rie })],
    arch,
    buildArgs: goBuildArgs(config, opts.buildArgs),
    noCache: opts.noCache ?? false,
    pull: opts.pull ?? false,
    rie,
    baseImages,
    builderImage: opts.builderImage,
    goModules: opts.goModules ?? config.go?.modules ?? 'auto',
    registryAuth: opts.registryAuth,
    hostEnv: opts.hostEnv,
    ...(debug ? { debug } : {}),
  };
}

/** Builds what the plan says, variant by variant, and records each image in the project's build record. */
export async function buildProject(engine: Engine, plan: BuildPlan, hooks: BuildHooks = {}): Promise<BuildResult> {
  const { dir, config, targets, tag, rie, baseImages, arch, variants, buildArgs } = plan;

  if (!engine.buildkit && dockerPlatform(arch) !== engine.platform) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `building ${arch} on a ${engine.platform} engine needs BuildKit, and this engine uses the classic builder`,
      {
        hint: `build for ${engine.platform === 'linux/arm64' ? 'arm64' : 'x86_64'}, or use an engine with BuildKit (Docker 23+)`,
      },
    );
  }
  await warnOfOwnDockerfile(dir, hooks);

  const images = imageClient(engine);
  const result: BuildResult = { images: [], context: [], outcomes: [] };
  const registryAuth = plan.registryAuth ?? userRegistryAuth();
  // What each function's previous build made: the report says which images changed.
  const previous = new Map<string, Awaited<ReturnType<typeof readBuildRecord>>>();
  for (const t of targets) previous.set(t.function, await readBuildRecord(dir, t.recordKey).catch(() => undefined));
  const modules = config.runtime === 'go' ? await goModulesFor(dir, plan.goModules, plan.hostEnv, hooks) : undefined;
  let packed: PackedContext | undefined;
  const epoch = sourceDateEpoch(plan.hostEnv ?? process.env);
  try {
    for (const variant of variants) {
      const { spec, warnings } = specFromConfig(config, {
        variant: parseVariant(variant),
        arch,
        rie: rie?.kind === 'file' ? { kind: 'context', path: RIE_CONTEXT_PATH } : rie,
        baseImages,
        builderImage: plan.builderImage,
        goVendor: modules?.vendored ?? false,
        builder: engine.buildkit ? 'buildkit' : 'classic',
      });
      for (const w of warnings) hooks.onWarning?.(w);

      const generated = generatedEntries(spec, rie?.kind === 'file' ? rie.path : undefined, plan.debug);
      for (const f of modules?.host?.files ?? []) generated.push({ name: f.name, mode: 0o644, file: f.file });
      const pulled = imagesPulled(spec, engine);
      const registryconfig = await registryConfigFor(
        pulled.map(([ref]) => ref),
        registryAuth,
        hooks.onWarning,
      );
      if (engine.buildkit) await pullForBuildkit(engine, pulled, registryconfig, plan.pull);
      // The context is packed once per variant (one snapshot of the project: a file saved
      // meanwhile cannot give functions different sources) and the same tar sent to each
      // function's build, instead of re-reading and re-packing the project per function.
      await packed?.remove();
      packed = undefined;
      if (hooks.signal?.aborted) throw new BuildAbortedError();
      packed = await packBuildContext(dir, generated, [BUILD_RECORD]);
      if (variant === variants[0]) for (const w of secretFileWarnings(packed.files.secrets)) hooks.onWarning?.(w);
      for (const [i, target] of targets.entries()) {
        const fullTag =
          (variants.length > 1 ? `${target.repo}:${tag}-${variant}` : `${target.repo}:${tag}`) +
          (plan.debug ? '-debug' : '');
        hooks.onImage?.({ function: target.function, variant, tag: fullTag });
        const context = packed.open();
        const outcome = await runEngineBuild(
          engine,
          context.stream,
          {
            t: fullTag,
            dockerfile: 'Dockerfile',
            ...(target.stage ? { target: target.stage } : {}),
            platform: dockerPlatform(arch),
            buildargs: {
              ...buildArgs,
              BUILDPLATFORM: engine.platform,
              TARGETARCH: dockerArchitecture(arch),
              SOURCE_DATE_EPOCH: epoch,
            },
            // --no-cache: the first function's build redoes every shared stage; the later ones
            // reuse what that very build made (the shared builder), so N functions still cost one build.
            nocache: plan.noCache && i === 0,
            pull: plan.pull ? 'true' : undefined,
            // Constant labels only: anything that varies (a time) would change every image ID.
            labels: {
              'org.lambda-image.variant': variant,
              'org.lambda-image.arch': arch,
              ...(target.stage ? { 'org.lambda-image.function': target.function } : {}),
            },
            ...(engine.buildkit ? { version: '2' } : {}),
            ...(Object.keys(registryconfig).length ? { registryconfig } : {}),
          },
          (e) => hooks.onEvent?.(variant, e),
          hooks.signal,
        );
        result.outcomes.push({ function: target.function, variant, outcome });
        if (outcome.error)
          await throwBuildError(engine, images, spec, outcome, target.stage ? target.function : undefined, config);

        // The config's times and build-host fields fixed, so the ID depends on what the image holds.
        await makeImageReproducible(engine, fullTag, Number(epoch), { keepOld: !engine.buildkit });
        const facts = await inspectBuiltImage(images, fullTag, spec.baseImage);
        if (facts.architecture !== dockerArchitecture(arch)) {
          throw new LambdaImageError(
            'PLATFORM_MISMATCH',
            `${fullTag} was built for ${facts.os}/${facts.architecture}, not ${dockerPlatform(arch)}`,
            {
              hint: `check that ${spec.baseImage} exists for ${dockerPlatform(arch)} (a digest-pinned base names one platform)`,
            },
          );
        }
        const before = previous.get(target.function)?.variants[variant]?.id;
        result.images.push({
          function: target.function,
          variant,
          tag: fullTag,
          baseImage: spec.baseImage,
          ...facts,
          changed: before !== facts.id,
          new: before === undefined,
        });
        result.context.push({
          function: target.function,
          variant,
          files: packed.files.entries.length,
          fileBytes: packed.files.bytes,
          sentBytes: await context.sentBytes,
        });
      }
    }
  } finally {
    await packed?.remove();
    await modules?.host?.remove();
  }
  // What push and deploy will ship, per function. A project the user cannot write to still builds: it warns.
  const builtAt = new Date().toISOString();
  for (const target of plan.debug ? [] : targets) {
    const built: BuiltVariant[] = result.images
      .filter((i) => i.function === target.function)
      .map((i) => ({ variant: i.variant as VariantName, image: i.tag, id: i.id, arch, builtAt }));
    const failed = await recordBuild(dir, built, target.recordKey).then(
      () => false,
      (err: Error) => {
        hooks.onWarning?.(
          `could not record the build in ${BUILD_RECORD} (${err.message}): push and deploy need --image ${built[0]?.image}`,
        );
        return true;
      },
    );
    if (failed) break;
  }
  return result;
}

/** One line per credential-looking file the project's .dockerignore lets into the context (the first few named). */
export function secretFileWarnings(secrets: string[]): string[] {
  if (!secrets.length) return [];
  const shown = secrets.slice(0, 5).join(', ');
  const more = secrets.length > 5 ? ` and ${secrets.length - 5} more` : '';
  return [
    `${shown}${more} ${secrets.length === 1 ? 'looks like a secret and enters' : 'look like secrets and enter'} the build context (the builder stage and BuildKit's cache keep them): add ${secrets.length === 1 ? 'it' : 'them'} to .dockerignore, or move ${secrets.length === 1 ? 'it' : 'them'} out of the project`,
  ];
}

/**
 * The build arguments: the config's go.env (module settings for the Go stages), then
 * --build-arg, which wins. Only the Go stages declare the module settings, so none reaches
 * the final image.
 */
export function goBuildArgs(config: Config, cli: Record<string, string> = {}): Record<string, string> {
  const args: Record<string, string> = {};
  for (const name of GO_MODULE_SETTINGS) {
    const value = config.go?.env?.[name];
    if (value !== undefined) args[name] = value;
  }
  return { ...args, ...cli };
}

interface GoModules {
  vendored: boolean;
  host?: HostVendorTree;
}

/** Where the Go modules come from: the project's vendor/, vendored on the host, or downloaded in the image. */
async function goModulesFor(
  dir: string,
  mode: GoModuleMode,
  hostEnv: NodeJS.ProcessEnv | undefined,
  hooks: BuildHooks,
): Promise<GoModules> {
  const vendored = await exists(path.join(dir, 'vendor', 'modules.txt'));
  if (mode !== 'host') return { vendored };
  if (vendored) {
    hooks.onWarning?.(
      "vendor/modules.txt exists: building from the project's vendor/ (--go-modules host is not needed)",
    );
    return { vendored };
  }
  const host = await vendorModulesOnHost(dir, hostEnv);
  if (!host.files.length) {
    await host.remove();
    return { vendored: false };
  }
  return { vendored: true, host };
}

type RieInput = { kind: 'file'; path: string } | { kind: 'url'; url: string } | undefined;

/**
 * --rie-from (relative to the working directory) wins over the config's rieFrom (relative to
 * the project); both by one rule (emulatorSource): a URL by its scheme, else a file.
 */
async function resolveRieSource(dir: string, config: Config, cliValue?: string): Promise<RieInput> {
  const value = cliValue ?? config.rieFrom;
  if (!value) return undefined;
  const where = cliValue ? `--rie-from ${value}` : `rieFrom ${value} in ${CONFIG_FILE}`;
  const problem = emulatorSourceProblem(value);
  if (problem)
    throw new LambdaImageError('INVALID_INPUT', `${where} is not an emulator URL or file path: ${problem}`, {
      hint: 'give the path of an aws-lambda-rie binary, or an http(s) URL',
    });
  const source = emulatorSource(value);
  if (source.kind === 'url') return source;
  const file = cliValue ? typedPath(value) : configPath(dir, value);
  const st = await fs.stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    throw new LambdaImageError('INVALID_INPUT', `${where} ${st ? 'is not a file' : 'does not exist'}`, {
      hint: `pass --rie-from with the path of an aws-lambda-rie binary, or a URL${cliValue ? ' (a typed path is relative to the working directory)' : ''}`,
    });
  }
  return { kind: 'file', path: file };
}

function generatedEntries(spec: RenderSpec, rieFile?: string, debug?: BuildPlan['debug']): GeneratedEntry[] {
  const files = renderVariantFiles(spec);
  const dockerfile = debug
    ? renderDebugDockerfile(
        spec,
        debug.delveFile ? { kind: 'context', path: DELVE_CONTEXT_PATH } : { kind: 'install', version: DELVE_VERSION },
      )
    : files.Dockerfile;
  const entries: GeneratedEntry[] = [{ name: 'Dockerfile', mode: 0o644, content: dockerfile }];
  if (debug?.delveFile) entries.push({ name: DELVE_CONTEXT_PATH, mode: 0o755, file: debug.delveFile });
  if (files['entry.sh']) entries.push({ name: 'entry.sh', mode: 0o755, content: files['entry.sh'] });
  if (rieFile && spec.rie?.kind === 'context') entries.push({ name: RIE_CONTEXT_PATH, mode: 0o755, file: rieFile });
  return entries;
}

const REGISTRY_AUTH_TROUBLE =
  /401 Unauthorized|unauthorized|no basic auth credentials|authentication required|denied: /i;
const REGISTRY_TROUBLE =
  /401 Unauthorized|unauthorized|no basic auth credentials|authentication required|pull access denied|manifest unknown|failed to resolve source metadata|failed to do request|no such host|dial tcp|i\/o timeout|repository does not exist|not found: manifest|connection refused|TLS handshake/i;

async function throwBuildError(
  engine: Engine,
  images: ImageClient,
  spec: RenderSpec,
  outcome: BuildOutcome,
  fn?: string,
  config?: Config,
): Promise<never> {
  const message = outcome.error ?? 'build failed';
  if (REGISTRY_TROUBLE.test(message)) {
    const missing = await missingBaseImage(engine, images, spec);
    if (missing && REGISTRY_AUTH_TROUBLE.test(message)) {
      const host = registryKey(missing.split(' ')[0]!);
      throw new LambdaImageError(
        'IMAGE_NOT_FOUND',
        `image ${missing} could not be pulled: its registry refused the credentials sent (or none were found)`,
        {
          hint: `log in to the registry ("docker login ${host}"): builds send your Docker credentials (and an ECR login for ECR hosts)`,
        },
      );
    }
    if (missing) {
      throw new LambdaImageError(
        'IMAGE_NOT_FOUND',
        `base image ${missing} is not on the engine and its registry could not be reached`,
        {
          hint: `pull it while online ("docker pull --platform ${dockerPlatform(spec.arch)} ${missing}"), or point --base-image at a mirror you can reach`,
        },
      );
    }
  }
  const step = failingStep(outcome);
  const lines = step?.logs.slice(-20) ?? [];
  const emulatorDownload = spec.rie?.kind === 'url' && step?.name.includes(spec.rie.url);
  const of = fn ? ` (function ${fn})` : '';
  // Every function compiles in the one go build: say whose package failed, and how to build the others.
  const culprits = fn && config && step && /\bgo build\b/.test(step.name) ? failedFunctions(step.logs, config) : [];
  if (culprits.length) {
    const named = culprits.map((c) => `${c.name} (${c.main})`).join(', ');
    const first = culprits[0]!.name;
    throw new LambdaImageError(
      'BUILD_FAILED',
      `build failed at ${step!.name}${of}: the Go build of every function failed on ${culprits.length === 1 ? 'function' : 'functions'} ${named}`,
      {
        details: [...lines, `engine: ${message.split('\n')[0]}`],
        hint: `all functions compile in one go build: fix the error shown above, or remove ${first} from "functions" in ${CONFIG_FILE} to build the others`,
      },
    );
  }
  throw new LambdaImageError('BUILD_FAILED', `build failed at ${step ? step.name : 'an unknown step'}${of}`, {
    details: [...lines, `engine: ${message.split('\n')[0]}`],
    hint: emulatorDownload
      ? 'the emulator could not be downloaded: offline, pass --rie-from <path of an aws-lambda-rie binary>'
      : 'fix the error shown above, then build again (--verbose shows the whole log)',
  });
}

/**
 * The functions whose main package a failed go build's log blames: a compiler line naming a
 * file of its folder (`cmd/b/main.go:6:1: ...`, as go prints paths under /src) or a package
 * header (`# example.com/shop/cmd/b`).
 */
export function failedFunctions(logs: string[], config: Config): Array<{ name: string; main: string }> {
  const blamed: Array<{ name: string; main: string }> = [];
  for (const [name, entry] of Object.entries(config.functions ?? {})) {
    const dir = path.posix
      .normalize(entry.main)
      .replace(/^\.\/?/, '')
      .replace(/\/$/, '');
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const file = dir ? `(?:^|[\\s/])(?:\\./)?${esc(dir)}/[^/\\s]+\\.go:\\d+` : '(?:^|\\s)\\./[^/\\s]+\\.go:\\d+';
    const pkg = config.go ? `^# ${esc(dir ? `${config.go.module}/${dir}` : config.go.module)}$` : undefined;
    const re = new RegExp(pkg ? `${file}|${pkg}` : file);
    if (logs.some((l) => re.test(l.trim()))) blamed.push({ name, main: entry.main });
  }
  return blamed;
}

/** The images the Dockerfile builds from, each with the platform it is needed for. */
function imagesPulled(spec: RenderSpec, engine: Engine): Array<[string, string]> {
  const wanted: Array<[string, string]> = [];
  if (spec.builderImage) wanted.push([spec.builderImage, engine.platform]);
  if (spec.rie?.kind === 'url') wanted.push([spec.baseImage, engine.platform]);
  wanted.push([spec.baseImage, dockerPlatform(spec.arch)]);
  return wanted;
}

/**
 * BuildKit over the Engine API ignores X-Registry-Config, so images from registries we hold
 * credentials for are pulled with them first (when missing, or with --pull).
 */
async function pullForBuildkit(
  engine: Engine,
  pulled: Array<[string, string]>,
  registryconfig: Record<string, BuildAuthConfig>,
  always: boolean,
): Promise<void> {
  for (const [ref, platform] of pulled) {
    const auth = registryconfig[registryKey(ref)];
    if (!auth || (!always && (await hasImageFor(engine.docker, ref, platform)))) continue;
    try {
      await pullImage(engine.docker, ref, platform, auth);
    } catch (err) {
      throw new LambdaImageError(
        'IMAGE_NOT_FOUND',
        `cannot pull ${ref} (${platform}) with your credentials for ${registryKey(ref)}: ${(err as Error).message.split('\n')[0]}`,
        {
          hint: `check the image name and your login ("docker login ${registryKey(ref)}")`,
          cause: err,
        },
      );
    }
  }
}

/** The first image the Dockerfile builds from that the engine does not have for the right platform. */
async function missingBaseImage(engine: Engine, images: ImageClient, spec: RenderSpec): Promise<string | undefined> {
  for (const [ref, platform] of imagesPulled(spec, engine)) {
    const info = await images.inspect(ref);
    if (!info) return ref;
    if (`${info.os}/${info.architecture}` !== platform)
      return `${ref} (for ${platform}; the engine has it for ${info.os}/${info.architecture})`;
  }
  return undefined;
}

/** Splits `name[:tag]` into repository and tag, refusing what the engine would refuse. */
export function parseTag(ref: string): { repo: string; tag: string } {
  const parsed = parseImageReference(ref, '--tag');
  if (parsed.digest)
    throw new LambdaImageError('INVALID_INPUT', `--tag ${ref} names a digest`, {
      hint: 'tag with name:tag; the engine computes digests',
    });
  return { repo: repositoryOf(parsed), tag: parsed.tag ?? 'latest' };
}

/**
 * The build renders its Dockerfile from lambda-image.json, in memory: a Dockerfile on disk
 * that is not the one lambda-image wrote (edited by hand, or the user's own) is not what is
 * built, and the user is told so rather than left to think the edit took.
 */
async function warnOfOwnDockerfile(dir: string, hooks: BuildHooks): Promise<void> {
  const text = await readTextIfExists(path.join(dir, 'Dockerfile')).catch(() => undefined);
  if (text === undefined || dockerfileOrigin(text) === 'generated') return;
  hooks.onWarning?.(
    `Dockerfile ${dockerfileOrigin(text) === 'hand-edited' ? 'was edited by hand' : 'is not one lambda-image wrote'}: build renders its own from ${CONFIG_FILE} and does not use it (put the change in ${CONFIG_FILE}, or build yours with docker build)`,
  );
}

/**
 * The time every file of an image's own layers carries: SOURCE_DATE_EPOCH when set (whole
 * seconds), else 0, never the build's clock, so cold builds of the same sources agree.
 */
export function sourceDateEpoch(env: NodeJS.ProcessEnv): string {
  const value = env.SOURCE_DATE_EPOCH?.trim();
  return value && /^\d{1,12}$/.test(value) ? String(Number(value)) : '0';
}
