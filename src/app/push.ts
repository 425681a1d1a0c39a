// `push`: find the project's built image, refuse stand-ins, resolve the repository (a full
// reference, or an ECR repository name looked up, or created, through ECR), log in, push
// through the engine, then read the manifest back and check it is what Lambda accepts.
import nodePath from 'node:path';
import type { AwsOptions } from '../aws/clients.js';
import type { EcrApi, EcrRepository, EcrToken } from '../aws/ecr.js';
import { parseImageReference, tagProblem, type ImageReference } from '../config/image-reference.js';
import { type ProjectFunction, selectFunctions } from '../config/functions.js';
import type { Config } from '../config/schema.js';
import { loadConfig, loadConfigIfExists } from '../config/store.js';
import { readBuildRecord } from '../project/build-record.js';
import type { Engine } from '../docker/engine.js';
import { STANDIN_LABEL } from '../docker/image-report.js';
import { imageClient, type ImageClient } from '../docker/images.js';
import { pushPlatformFor } from '../docker/image-store.js';
import { pushAs, type PushLayerEvent } from '../docker/push.js';
import { ownerIdentity } from '../emulator/owners.js';
import { LambdaImageError } from '../errors.js';
import { cacheDir } from '../layers/cache.js';
import { registryCredentialsFor, toAuthConfig } from '../registry/auth.js';
import type { RegistryCredentials } from '../registry/docker-credentials.js';
import { ecrRepositoryNameProblem, parseEcrHost } from '../registry/ecr-host.js';
import { lambdaArchitecture, sha256Digest } from '../registry/manifest.js';
import { verifyRemoteImage, type VerifiedImage } from '../registry/verify.js';
import { RegistryClient } from '../registry/registry-client.js';
import type { VariantName } from '../render/variant.js';

export interface RepositoryOptions extends AwsOptions {
  /** A full repository reference, or a bare ECR repository name; default: the config's deploy.repository. */
  repository?: string;
  createRepository?: boolean;
  immutableTags?: boolean;
  scanOnPush?: boolean;
}

export interface PushOptions extends RepositoryOptions {
  tag?: string;
  variant?: VariantName;
  /** A local image to ship instead of the one `build` recorded. */
  image?: string;
  /** The functions to ship (a project of several); none named: every one. */
  functions?: string[];
}

/** Which local image is shipped, and why that one (said to the user). */
export interface LocalChoice {
  /** What the engine is asked for: the recorded image ID, or a reference. */
  lookup: string;
  /** How the user knows it: the tag build gave it, or --image. */
  ref: string;
  /** Shown: "orders:v1 (alpine, built 2026-...)", "orders:v1 (--image)". */
  shown: string;
  variant?: VariantName;
  /** A reference not made by a recorded build: its variant label is checked. */
  checkVariant?: boolean;
  /** Looked up when `lookup` is not there (name:tag after name:tag-<variant>). */
  alsoTry?: string;
}

/** A push worked out and checked once (planPush), before the engine or AWS is asked. */
export interface PushPlan extends RepositoryOptions {
  local: LocalChoice;
  /** The repository value (flag, else the config's deploy.repository). */
  repository?: string;
  tag?: string;
  /**
   * The function of the project this plan ships: its name in lambda-image.json (the
   * project's name for a one-function project; without a config, the --image's name).
   */
  function: string;
  /**
   * `<function>-` when the repository is shared by the project's functions (the project's
   * deploy.repository or --repository): every tag of the function starts with its name.
   */
  tagPrefix?: string;
}

export interface PushHooks {
  onStep?(text: string): void;
  onLayer?(e: PushLayerEvent): void;
  /** Ctrl-C: the push stops and its temporary tag is removed (INTERRUPTED). */
  signal?: AbortSignal;
}

export interface PushResult extends VerifiedImage {
  tag: string;
  /** `<repository>@<digest>`: what deploy hands Lambda. */
  imageUri: string;
  /** The local image that was pushed. */
  source: string;
  /** False when an immutable tag already held this very image: nothing was sent. */
  pushed: boolean;
  layersPushed: number;
  layersExisting: number;
  /**
   * Nothing changed in the registry: it already had every layer and the tag already pointed
   * at this very image (the default tag follows the image's content, so an image not rebuilt
   * since its last push is unchanged).
   */
  unchanged: boolean;
  /** Set when the repository is in ECR. */
  ecr?: { repositoryName: string; region: string };
  /** The function of the project this image belongs to (see PushPlan.function). */
  function: string;
}

/** Where the image goes, and with which login. */
export interface ResolvedRepository {
  ref: ImageReference & { domain: string };
  repository: string;
  credentials?: RegistryCredentials;
  ecr?: { api: EcrApi; repo: EcrRepository; token: EcrToken };
}

/**
 * Everything about a push that needs neither the engine nor AWS: the tag, the repository
 * value, and which local image ships (what `build` recorded, --image, or name:tag). One plan
 * per function: every function of a project of several (or those named with --function),
 * each from its own config view; a one-function project gets one plan, as always.
 */
export async function planPushes(dir: string, opts: PushOptions): Promise<PushPlan[]> {
  checkTagOption(opts.tag);
  const config = opts.image && opts.repository ? await loadConfigIfExists(dir) : await loadConfig(dir);
  if (!config) {
    if (opts.functions?.length)
      throw new LambdaImageError(
        'CONFIG_INVALID',
        `--function needs the project's lambda-image.json, and ${dir} has none`,
        {
          hint: 'run the command in the project, or leave --function out with --image',
        },
      );
    return [await planFunctionPush(dir, undefined, undefined, opts)];
  }
  const functions = selectFunctions(config, opts.functions);
  refuseOneImageForSeveral(functions, opts.image ? '--image' : undefined);
  const plans: PushPlan[] = [];
  for (const fn of functions) plans.push(await planFunctionPush(dir, fn.config, fn, opts));
  return plans;
}

/** --tag by the tag grammar, before anything is asked. */
export function checkTagOption(tag: string | undefined): void {
  const problem = tag === undefined ? undefined : tagProblem(tag);
  if (problem) {
    throw new LambdaImageError('INVALID_INPUT', `--tag ${JSON.stringify(tag)} is not a valid tag: ${problem}`, {
      hint: 'for example --tag v1.2 or --tag "$GITHUB_SHA"',
    });
  }
}

/** The one push of a one-function project (or of the one function named). */
export async function planPush(dir: string, opts: PushOptions): Promise<PushPlan> {
  return onlyPlan(await planPushes(dir, opts));
}

/** The one plan of a command that ships one function (planPush, planDeploy): several are an error asking for --function. */
export function onlyPlan<P extends { function?: string }>(plans: P[]): P {
  if (plans.length !== 1)
    throw new LambdaImageError(
      'INVALID_INPUT',
      `this project has ${plans.length} functions: name one with --function`,
      {
        hint: `for example --function ${plans[0]!.function}`,
      },
    );
  return plans[0]!;
}

/** A flag that names one image or function cannot serve several functions at once. */
export function refuseOneImageForSeveral(functions: ProjectFunction[], flag: string | undefined): void {
  if (!flag || functions.length < 2) return;
  throw new LambdaImageError(
    'INVALID_INPUT',
    `${flag} names one function's image or target, and this command would ship ${functions.length} functions (${functions.map((f) => f.name).join(', ')})`,
    { hint: `name the function it is for: --function ${functions[0]!.name} ${flag} ...` },
  );
}

/**
 * One function's push, from its config view (`fn.config`; the project's config for a
 * one-function project). Pure but for reading the build record.
 */
export async function planFunctionPush(
  dir: string,
  config: Config | undefined,
  fn: ProjectFunction | undefined,
  opts: PushOptions,
): Promise<PushPlan> {
  const repository = opts.repository ?? config?.deploy?.repository;
  if (repository) checkRepositoryValue(repository);
  // A repository of the function's own holds its images alone: plain tags, as for one function.
  const ownRepository = opts.repository === undefined && fn?.entry?.deploy?.repository !== undefined;
  const tagPrefix = fn?.recordKey !== undefined && !ownRepository ? `${fn.recordKey}-` : undefined;
  if (tagPrefix && opts.tag !== undefined) {
    const problem = tagProblem(tagPrefix + opts.tag);
    if (problem)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--tag ${JSON.stringify(opts.tag)} makes ${fn!.name}'s tag ${tagPrefix}${opts.tag}, which ${problem}`,
        { hint: 'use a shorter --tag: each function of the project is tagged <function>-<tag>' },
      );
  }
  const { functions: _functions, ...rest } = opts;
  return {
    ...rest,
    region: opts.region ?? config?.deploy?.region,
    repository,
    local: await chooseLocalImage(dir, config, opts, fn?.recordKey),
    function: fn?.name ?? imageName(opts.image),
    ...(tagPrefix ? { tagPrefix } : {}),
  };
}

/** What a push without a config calls its one function: the last part of --image's path. */
function imageName(image: string | undefined): string {
  return image ? nodePath.posix.basename(parseImageReference(image, '--image').path) : '';
}

/** The image to ship: --image; else the one the latest build made (of --variant); else name:tag, as before builds were recorded. */
async function chooseLocalImage(
  dir: string,
  config: Config | undefined,
  opts: PushOptions,
  fn: string | undefined,
): Promise<LocalChoice> {
  if (opts.image) {
    parseImageReference(opts.image, '--image');
    return { lookup: opts.image, ref: opts.image, shown: `${opts.image} (--image)`, variant: opts.variant };
  }
  const record = await readBuildRecord(dir, fn);
  const latest = record?.latest ?? [];
  if (!opts.variant && latest.length > 1) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `the latest build${fn ? ` of ${fn}` : ''} made ${latest.length} variants (${latest.join(', ')}): which one ships?`,
      { hint: `pass --variant ${latest[0]} (or --image <ref>)` },
    );
  }
  const built = record?.variants[opts.variant ?? latest[0]!];
  if (built) {
    return {
      lookup: built.id,
      ref: built.image,
      shown: `${built.image} (${built.variant}, ${built.arch}, built ${built.builtAt})`,
      variant: built.variant,
    };
  }
  const base = `${config!.name}:${config!.tag}`;
  const ref = opts.variant ? `${base}-${opts.variant}` : base;
  return {
    lookup: ref,
    ref,
    shown: ref,
    variant: opts.variant,
    checkVariant: true,
    ...(opts.variant ? { alsoTry: base } : {}),
  };
}

export async function pushProject(
  engine: Engine,
  plan: PushPlan,
  hooks: PushHooks = {},
  repositories?: RepositoryResolver,
): Promise<PushResult> {
  const local = await findLocalImage(imageClient(engine), plan.local);
  hooks.onStep?.(`shipping ${plan.local.shown}`);
  const resolver = repositories ?? new RepositoryResolver();
  try {
    const target = await resolver.resolve(plan.repository, plan, hooks);
    const tag = (plan.tagPrefix ?? '') + (plan.tag ?? contentTag(local.id));
    return { ...(await pushResolved(engine, local, target, tag, hooks)), function: plan.function };
  } finally {
    if (!repositories) resolver.close();
  }
}

/**
 * Resolves each repository value once per command: the functions of a project share one
 * repository, and one ECR lookup and login serve them all. close() ends the ECR clients.
 */
export class RepositoryResolver {
  private readonly resolved = new Map<string, Promise<ResolvedRepository>>();

  resolve(value: string | undefined, opts: RepositoryOptions, hooks: PushHooks = {}): Promise<ResolvedRepository> {
    const key = JSON.stringify([value, opts.region, opts.profile, opts.createRepository ?? false]);
    let found = this.resolved.get(key);
    if (!found) {
      found = resolveRepository(value, opts, hooks);
      this.resolved.set(key, found);
      // A failed resolution is not kept: the error is the caller's, and the next asks again.
      found.catch(() => this.resolved.delete(key));
    }
    return found;
  }

  close(): void {
    for (const p of this.resolved.values()) p.then((r) => r.ecr?.api.destroy()).catch(() => {});
    this.resolved.clear();
  }
}

/**
 * Every planned image is on the engine and not built on a stand-in: checked for all the
 * functions of a project before the first one is pushed, so a function never built stops
 * the command before anything is sent.
 */
export async function checkLocalImages(engine: Engine, plans: readonly PushPlan[]): Promise<void> {
  const images = imageClient(engine);
  for (const plan of plans) {
    try {
      await findLocalImage(images, plan.local);
    } catch (err) {
      if (!(err instanceof LambdaImageError)) throw err;
      throw new LambdaImageError(err.code, `${plan.function}: ${err.message}`, {
        hint: err.hint,
        details: [`nothing was pushed or deployed`],
        cause: err,
      });
    }
  }
}

interface LocalImage {
  /** What the engine tags and pushes (an ID for a recorded build). */
  lookup: string;
  ref: string;
  id: string;
  architecture: 'x86_64' | 'arm64';
}

/** The chosen image on the engine, refused when it is missing, of another variant, or built on a stand-in. */
async function findLocalImage(images: ImageClient, choice: LocalChoice): Promise<LocalImage> {
  const { variant } = choice;
  // Without a recorded build (images built by older versions): name:tag-<variant>, then name:tag.
  const candidates = [choice.lookup, ...(choice.alsoTry ? [choice.alsoTry] : [])];
  for (const lookup of candidates) {
    const ref = lookup === choice.lookup ? choice.ref : lookup;
    const info = await images.inspect(lookup);
    if (!info) continue;
    const labels = info.labels;
    if (
      choice.checkVariant &&
      variant &&
      labels['org.lambda-image.variant'] &&
      labels['org.lambda-image.variant'] !== variant
    )
      continue;
    // Any value marks a stand-in (the value is the stand-in's revision); built images inherit it.
    if (labels[STANDIN_LABEL]) {
      throw new LambdaImageError(
        'STANDIN_IMAGE',
        `${ref} is built on a lambda-image stand-in base (label ${STANDIN_LABEL}=${labels[STANDIN_LABEL]}), a busybox test double that Lambda cannot run`,
        {
          hint: 'build again without --base-image/--builder-image pointing at lambda-image-standin/... images, from the real base (or your mirror of it)',
        },
      );
    }
    return { lookup, ref, id: info.id, architecture: lambdaArchitecture(info.architecture, info.os, ref) };
  }
  if (choice.lookup.startsWith('sha256:'))
    throw new LambdaImageError(
      'IMAGE_NOT_FOUND',
      `the image the latest build made, ${choice.shown}, is no longer on the engine (${choice.lookup.slice(7, 19)})`,
      {
        hint: `build again: lambda-image build${variant ? ` --variant ${variant}` : ''} (or ship another with --image <ref>)`,
      },
    );
  throw new LambdaImageError('IMAGE_NOT_FOUND', `image ${candidates.join(' or ')} is not on the engine`, {
    hint: choice.checkVariant
      ? `build it first: lambda-image build${variant ? ` --variant ${variant}` : ''}`
      : 'check the name (docker image ls), or build it',
  });
}

/** A repository value names a repository, never a tag or digest (checked before AWS is asked). */
function checkRepositoryValue(value: string): void {
  const ref = parseImageReference(value, '--repository');
  if (ref.tag || ref.digest) {
    throw new LambdaImageError('INVALID_INPUT', `--repository ${value} names a ${ref.digest ? 'digest' : 'tag'}`, {
      hint: 'give the repository alone and the tag with --tag',
    });
  }
}

/** A tag that changes whenever the image does: the start of its content-addressed ID. Never "latest". */
export function contentTag(imageId: string): string {
  return `img-${imageId.replace(/^sha256:/, '').slice(0, 12)}`;
}

/** Resolves --repository: a full reference as it is; an ECR name (or ECR host) through DescribeRepositories. */
export async function resolveRepository(
  value: string | undefined,
  opts: RepositoryOptions,
  hooks: PushHooks = {},
): Promise<ResolvedRepository> {
  if (!value) {
    throw new LambdaImageError('INVALID_INPUT', 'no repository to push to', {
      hint: 'pass --repository <ecr-name | host/path>, or set "deploy": { "repository": ... } in lambda-image.json',
    });
  }
  const ref = parseImageReference(value, '--repository');
  if (ref.tag || ref.digest) {
    throw new LambdaImageError('INVALID_INPUT', `--repository ${value} names a ${ref.digest ? 'digest' : 'tag'}`, {
      hint: 'give the repository alone and the tag with --tag',
    });
  }
  const ecrHost = ref.domain ? parseEcrHost(ref.domain) : undefined;
  if (ref.domain && !ecrHost) {
    const domainRef = ref as ImageReference & { domain: string };
    return { ref: domainRef, repository: `${ref.domain}/${ref.path}`, credentials: await registryCredentialsFor(ref) };
  }
  // An ECR repository: by name in --region, or by host in the host's own region.
  const name = ref.path;
  const problem = ecrRepositoryNameProblem(name);
  if (problem)
    throw new LambdaImageError('INVALID_INPUT', `ECR repository name "${name}" ${problem}`, {
      hint: 'for example orders or team/orders',
    });
  const { EcrApi } = await import('../aws/ecr.js');
  const api = await EcrApi.open({ profile: opts.profile, region: ecrHost?.region ?? opts.region });
  try {
    hooks.onStep?.(`looking up ECR repository ${name} in ${api.region}`);
    let repo = await api.describeRepository(name);
    if (!repo) {
      if (!opts.createRepository) {
        throw new LambdaImageError(
          'REPOSITORY_NOT_FOUND',
          `ECR repository ${name} does not exist in ${api.region} (ECR does not create repositories on push)`,
          {
            hint: `create it: add --create-repository (with --immutable-tags / --scan-on-push as you like), or "aws ecr create-repository --repository-name ${name} --region ${api.region}"`,
          },
        );
      }
      hooks.onStep?.(`creating ECR repository ${name} in ${api.region}`);
      repo = await api.createRepository(name, { immutableTags: opts.immutableTags, scanOnPush: opts.scanOnPush });
    }
    const uri = parseImageReference(repo.uri, 'repositoryUri');
    if (!uri.domain)
      throw new LambdaImageError('AWS_FAILED', `ECR answered a repositoryUri without a host: ${repo.uri}`);
    const token = await api.loginFor(uri.domain);
    return {
      ref: uri as ImageReference & { domain: string },
      repository: repo.uri,
      credentials: { username: token.username, password: token.password, source: 'ECR GetAuthorizationToken' },
      ecr: { api, repo, token },
    };
  } catch (err) {
    api.destroy();
    throw err;
  }
}

async function pushResolved(
  engine: Engine,
  local: LocalImage,
  target: ResolvedRepository,
  tag: string,
  hooks: PushHooks,
): Promise<Omit<PushResult, 'function'>> {
  parseImageReference(`${target.repository}:${tag}`, '--tag');
  const { domain, path } = target.ref;
  const ecr = target.ecr ? { repositoryName: target.ecr.repo.name, region: target.ecr.repo.region } : undefined;

  // An immutable ECR tag cannot move. When it already holds this very image, there is nothing to do.
  if (target.ecr?.repo.immutableTags) {
    const existing = await target.ecr.api.tagDigest(target.ecr.repo.name, tag);
    if (existing) {
      const there = await verifyRemoteImage(domain, path, existing, target.credentials, existing);
      if (there.configDigest !== local.id) {
        throw new LambdaImageError(
          'TAG_EXISTS',
          `tag ${tag} already exists in the immutable repository ${target.ecr.repo.name} with digest ${existing}, and ${local.ref} is a different image`,
          {
            hint: "push under a new --tag (the default tag follows the image content), or make the repository's tags mutable",
          },
        );
      }
      hooks.onStep?.(`${target.repository}:${tag} already holds this image`);
      return {
        ...there,
        tag,
        imageUri: `${there.repository}@${there.digest}`,
        source: local.ref,
        pushed: false,
        layersPushed: 0,
        layersExisting: 0,
        unchanged: true,
        ecr,
      };
    }
  }

  const full = `${target.repository}:${tag}`;
  // What the tag names before this push, to tell "unchanged" from "the tag moved".
  const before = await tagDigest(domain, path, tag, target.credentials);
  // The tag already names these very bytes (its config digest is the local image ID): nothing
  // to push, from a fresh runner too, since the registry and not local state is asked.
  const there = before ? await sameImageThere(domain, path, before, target.credentials, local.id) : undefined;
  if (there) {
    return {
      ...there,
      tag,
      imageUri: `${there.repository}@${there.digest}`,
      source: local.ref,
      pushed: false,
      layersPushed: 0,
      layersExisting: 0,
      unchanged: true,
      ecr,
    };
  }
  hooks.onStep?.(`pushing ${full}`);
  const auth = target.credentials ? toAuthConfig(target.credentials, domain) : undefined;
  // The containerd store would push the index with its attestation manifests, which Lambda refuses.
  const platform = await pushPlatformFor(
    engine.docker,
    engine.apiVersion,
    local.architecture === 'x86_64' ? 'amd64' : 'arm64',
  );
  const outcome = await pushAs(engine.docker, local.lookup, target.repository, tag, auth, hooks.onLayer, {
    recordDir: nodePath.join(cacheDir(), 'push-tags'),
    owner: ownerIdentity(),
    signal: hooks.signal,
    platform,
  });
  if (outcome.error) throw pushError(outcome.error, full, target);
  if (!outcome.digest)
    throw new LambdaImageError('PUSH_FAILED', `the push of ${full} ended without a digest`, {
      hint: "push again; if it persists, check the registry's logs",
    });

  hooks.onStep?.(`checking the manifest of ${full}`);
  const verified = await verifyRemoteImage(domain, path, tag, target.credentials, outcome.digest);
  if (verified.architecture !== local.architecture) {
    throw new LambdaImageError(
      'PLATFORM_MISMATCH',
      `${full} reads back as ${verified.architecture}, but ${local.ref} is ${local.architecture}`,
      { hint: 'push again; another push may have replaced the tag' },
    );
  }
  return {
    ...verified,
    tag,
    imageUri: `${verified.repository}@${verified.digest}`,
    source: local.ref,
    pushed: true,
    layersPushed: outcome.layersPushed,
    layersExisting: outcome.layersExisting,
    unchanged: outcome.layersPushed === 0 && before === verified.digest,
    ecr,
  };
}

/**
 * The digest a tag names in the registry, or undefined when it names nothing (or the registry
 * would not say: the push that follows reports any real problem with its own words).
 */
async function tagDigest(
  host: string,
  path: string,
  tag: string,
  credentials: RegistryCredentials | undefined,
): Promise<string | undefined> {
  try {
    const res = await new RegistryClient(host, credentials).getManifest(path, tag);
    return res.digest ?? sha256Digest(res.body);
  } catch {
    return undefined;
  }
}

/** The registry's image under `digest` when its config digest is `localId` (the same bytes), else undefined. */
async function sameImageThere(
  host: string,
  path: string,
  digest: string,
  credentials: RegistryCredentials | undefined,
  localId: string,
): Promise<Awaited<ReturnType<typeof verifyRemoteImage>> | undefined> {
  try {
    const there = await verifyRemoteImage(host, path, digest, credentials, digest);
    return there.configDigest === localId ? there : undefined;
  } catch {
    return undefined;
  }
}

/** The registry's words, with what to do about them. */
function pushError(message: string, ref: string, target: ResolvedRepository): LambdaImageError {
  const line = message.split('\n')[0]!;
  if (/unauthorized|authentication required|denied|no basic auth credentials|403 Forbidden/i.test(line)) {
    return new LambdaImageError('REGISTRY_AUTH_FAILED', `the registry refused the push of ${ref}: ${line}`, {
      hint: target.ecr
        ? 'the ECR login was refused: the token may have expired, or your AWS identity lacks ecr:InitiateLayerUpload/PutImage on this repository; run again to get a fresh token'
        : `log in to ${target.ref.domain} (docker login ${target.ref.domain}) with an account that may push there`,
    });
  }
  if (/tag invalid|immutable|cannot be overwritten/i.test(line)) {
    return new LambdaImageError('TAG_EXISTS', `the registry refused to overwrite ${ref}: ${line}`, {
      hint: 'push under a new --tag',
    });
  }
  return new LambdaImageError('PUSH_FAILED', `push of ${ref} failed: ${line}`, {
    hint: 'check the registry address and that it accepts pushes, then try again',
  });
}
