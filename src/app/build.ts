// `build`: for each requested variant, render the Dockerfile in memory, pack the context,
// build through the engine, and report what the image is and where its bytes are.
import { promises as fs } from 'node:fs';
import { parseImageReference, repositoryOf } from '../config/image-reference.js';
import { CONFIG_FILE, type Arch, type Base, type Config } from '../config/schema.js';
import { loadConfig } from '../config/store.js';
import { createBuildContext, type GeneratedEntry } from '../docker/build-context.js';
import { BuildStreamParser, failingStep, type BuildEvent, type BuildOutcome } from '../docker/build-stream.js';
import type { Engine } from '../docker/engine.js';
import { inspectBuiltImage, type SizeBreakdown } from '../docker/image-report.js';
import { LambdaImageError } from '../errors.js';
import { configPath, typedPath } from '../util/paths.js';
import { dockerArchitecture, dockerPlatform } from '../render/images.js';
import { renderVariantFiles } from '../render/render.js';
import { parseVariant, specFromConfig, variantName, type RenderSpec, type VariantName } from '../render/variant.js';

/** Where a local emulator binary goes inside the build context. */
export const RIE_CONTEXT_PATH = '.lambda-image/rie/aws-lambda-rie';

/** One built and tagged image, as the report shows it. */
export interface BuiltImage {
  variant: string;
  tag: string;
  id: string;
  architecture: string;
  baseImage: string;
  size: number;
  layers: number;
  breakdown: SizeBreakdown;
  baseIsStandin: boolean;
}

export interface BuildOptions {
  tag?: string;
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
}

export interface BuildHooks {
  onVariant?(variant: VariantName, tag: string): void;
  onEvent?(variant: VariantName, event: BuildEvent): void;
  onWarning?(message: string): void;
}

export interface BuildResult {
  images: BuiltImage[];
  /** Bytes of project files in the context (after .dockerignore), and bytes sent, per variant. */
  context: Array<{ variant: VariantName; files: number; fileBytes: number; sentBytes: number }>;
  outcomes: Array<{ variant: VariantName; outcome: BuildOutcome }>;
}

/**
 * Everything about a build that can be checked without the engine: the config, the tag, the
 * image references and the emulator file. The CLI calls it before connecting, so bad input
 * is exit 2 whether or not an engine is there.
 */
export async function checkBuildInputs(dir: string, opts: BuildOptions) {
  const config = await loadConfig(dir);
  const { repo, tag } = parseTag(opts.tag ?? `${config.name}:${config.tag}`);
  const rie = await resolveRieSource(dir, config, opts.rieFrom);
  const { own, ...families } = opts.baseImages ?? {};
  const baseImages: Partial<Record<Base, string>> = { ...(own ? { [config.base]: own } : {}), ...families };
  for (const ref of Object.values(baseImages)) parseImageReference(ref, '--base-image');
  if (opts.builderImage) parseImageReference(opts.builderImage, '--builder-image');
  return { config, repo, tag, rie, baseImages };
}

export async function buildProject(dir: string, engine: Engine, opts: BuildOptions, hooks: BuildHooks = {}): Promise<BuildResult> {
  const { config, repo, tag, rie, baseImages } = await checkBuildInputs(dir, opts);
  const arch = opts.arch ?? config.arch;
  const variants = opts.variants?.length ? opts.variants : [variantName({ base: config.base, rie: config.rie })];

  if (!engine.buildkit && dockerPlatform(arch) !== engine.platform) {
    throw new LambdaImageError('INVALID_INPUT', `building ${arch} on a ${engine.platform} engine needs BuildKit, and this engine uses the classic builder`, {
      hint: `build for ${engine.platform === 'linux/arm64' ? 'arm64' : 'x86_64'}, or use an engine with BuildKit (Docker 23+)`,
    });
  }

  const result: BuildResult = { images: [], context: [], outcomes: [] };
  for (const variant of variants) {
    const fullTag = variants.length > 1 ? `${repo}:${tag}-${variant}` : `${repo}:${tag}`;
    hooks.onVariant?.(variant, fullTag);
    const { spec, warnings } = specFromConfig(config, {
      variant: parseVariant(variant),
      arch,
      rie: rie?.kind === 'file' ? { kind: 'context', path: RIE_CONTEXT_PATH } : rie,
      baseImages,
      builderImage: opts.builderImage,
    });
    warnings.forEach((w) => hooks.onWarning?.(w));

    const generated = generatedEntries(spec, rie?.kind === 'file' ? rie.path : undefined);
    const context = await createBuildContext(dir, generated);
    const parser = await new BuildStreamParser((e) => hooks.onEvent?.(variant, e)).init();
    const outcome = await runBuild(engine, context.stream, parser, {
      t: fullTag,
      dockerfile: 'Dockerfile',
      platform: dockerPlatform(arch),
      buildargs: { ...opts.buildArgs, BUILDPLATFORM: engine.platform, TARGETARCH: dockerArchitecture(arch) },
      nocache: opts.noCache ?? false,
      pull: opts.pull ? 'true' : undefined,
      labels: { 'org.lambda-image.variant': variant, 'org.lambda-image.arch': arch },
      ...(engine.buildkit ? { version: '2' } : {}),
    });
    result.outcomes.push({ variant, outcome });
    if (outcome.error) await throwBuildError(engine, spec, outcome);

    const facts = await inspectBuiltImage(engine.docker, fullTag, spec.baseImage);
    if (facts.architecture !== dockerArchitecture(arch)) {
      throw new LambdaImageError('PLATFORM_MISMATCH', `${fullTag} was built for ${facts.os}/${facts.architecture}, not ${dockerPlatform(arch)}`, {
        hint: `check that ${spec.baseImage} exists for ${dockerPlatform(arch)} (a digest-pinned base names one platform)`,
      });
    }
    result.images.push({ variant, tag: fullTag, baseImage: spec.baseImage, ...facts });
    result.context.push({ variant, files: context.files.entries.length, fileBytes: context.files.bytes, sentBytes: await context.sentBytes });
  }
  return result;
}

type RieInput = { kind: 'file'; path: string } | { kind: 'url'; url: string } | undefined;

/** --rie-from (relative to the working directory) wins over the config's rieFrom (relative to the project). */
async function resolveRieSource(dir: string, config: Config, cliValue?: string): Promise<RieInput> {
  const value = cliValue ?? config.rieFrom;
  if (!value) return undefined;
  if (/^https?:\/\//.test(value)) return { kind: 'url', url: value };
  const file = cliValue ? typedPath(value) : configPath(dir, value);
  const where = cliValue ? `--rie-from ${value}` : `rieFrom ${value} in ${CONFIG_FILE}`;
  const st = await fs.stat(file).catch(() => undefined);
  if (!st?.isFile()) {
    throw new LambdaImageError('INVALID_INPUT', `${where} ${st ? 'is not a file' : 'does not exist'}`, {
      hint: `pass --rie-from with the path of an aws-lambda-rie binary, or a URL${cliValue ? ' (a typed path is relative to the working directory)' : ''}`,
    });
  }
  return { kind: 'file', path: file };
}

function generatedEntries(spec: RenderSpec, rieFile?: string): GeneratedEntry[] {
  const files = renderVariantFiles(spec);
  const entries: GeneratedEntry[] = [{ name: 'Dockerfile', mode: 0o644, content: files.Dockerfile }];
  if (files['entry.sh']) entries.push({ name: 'entry.sh', mode: 0o755, content: files['entry.sh'] });
  if (rieFile && spec.rie?.kind === 'context') entries.push({ name: RIE_CONTEXT_PATH, mode: 0o755, file: rieFile });
  return entries;
}

async function runBuild(
  engine: Engine,
  context: NodeJS.ReadableStream,
  parser: BuildStreamParser,
  options: Record<string, unknown>,
): Promise<BuildOutcome> {
  let stream: NodeJS.ReadableStream;
  try {
    stream = await engine.docker.buildImage(context, options);
  } catch (err) {
    throw new LambdaImageError('BUILD_FAILED', `the engine refused the build: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  return new Promise<BuildOutcome>((resolve, reject) => {
    stream.on('data', (chunk: Buffer) => parser.push(chunk));
    stream.on('error', (err) => reject(new LambdaImageError('BUILD_FAILED', `the build stream broke: ${err.message}`, { cause: err })));
    // An error line in the stream, not the end of the stream, decides success.
    stream.on('end', () => resolve(parser.end()));
  });
}

const REGISTRY_TROUBLE =
  /pull access denied|manifest unknown|failed to resolve source metadata|failed to do request|no such host|dial tcp|i\/o timeout|repository does not exist|not found: manifest|connection refused|TLS handshake/i;

async function throwBuildError(engine: Engine, spec: RenderSpec, outcome: BuildOutcome): Promise<never> {
  const message = outcome.error ?? 'build failed';
  if (REGISTRY_TROUBLE.test(message)) {
    const missing = await missingBaseImage(engine, spec);
    if (missing) {
      throw new LambdaImageError('IMAGE_NOT_FOUND', `base image ${missing} is not on the engine and its registry could not be reached`, {
        hint: `pull it while online ("docker pull --platform ${dockerPlatform(spec.arch)} ${missing}"), or point --base-image at a mirror you can reach`,
      });
    }
  }
  const step = failingStep(outcome);
  const lines = step?.logs.slice(-20) ?? [];
  const emulatorDownload = spec.rie?.kind === 'url' && step?.name.includes(spec.rie.url);
  throw new LambdaImageError('BUILD_FAILED', `build failed at ${step ? step.name : 'an unknown step'}`, {
    details: [...lines, `engine: ${message.split('\n')[0]}`],
    hint: emulatorDownload
      ? 'the emulator could not be downloaded: offline, pass --rie-from <path of an aws-lambda-rie binary>'
      : 'fix the error shown above, then build again (--verbose shows the whole log)',
  });
}

/** The first image the Dockerfile builds from that the engine does not have for the right platform. */
async function missingBaseImage(engine: Engine, spec: RenderSpec): Promise<string | undefined> {
  const wanted: Array<[string, string]> = [];
  if (spec.builderImage) wanted.push([spec.builderImage, engine.platform]);
  if (spec.rie?.kind === 'url') wanted.push([spec.baseImage, engine.platform]);
  wanted.push([spec.baseImage, dockerPlatform(spec.arch)]);
  for (const [ref, platform] of wanted) {
    try {
      const info = await engine.docker.getImage(ref).inspect();
      if (`${info.Os}/${info.Architecture}` !== platform) return `${ref} (for ${platform}; the engine has it for ${info.Os}/${info.Architecture})`;
    } catch {
      return ref;
    }
  }
  return undefined;
}

/** Splits `name[:tag]` into repository and tag, refusing what the engine would refuse. */
export function parseTag(ref: string): { repo: string; tag: string } {
  const parsed = parseImageReference(ref, '--tag');
  if (parsed.digest) throw new LambdaImageError('INVALID_INPUT', `--tag ${ref} names a digest`, { hint: 'tag with name:tag; the engine computes digests' });
  return { repo: repositoryOf(parsed), tag: parsed.tag ?? 'latest' };
}
