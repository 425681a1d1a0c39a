// `deploy`: push the built image (or take --image-uri), check its manifest BEFORE calling
// Lambda, then create or update the function BY DIGEST, wait for Lambda to finish, bring
// memory/timeout/environment in line with the config, and read back the digest Lambda runs.
import type { AwsOptions } from '../aws/clients.js';
import type { EcrApi } from '../aws/ecr.js';
import type { FunctionSettings, LambdaApi } from '../aws/lambda.js';
import { parseImageReference } from '../config/image-reference.js';
import type { Config } from '../config/schema.js';
import { loadConfigIfExists } from '../config/store.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { registryCredentialsFor } from '../registry/auth.js';
import { isEcrPublicHost, parseEcrHost } from '../registry/ecr-host.js';
import { verifyRemoteImage, type VerifiedImage } from '../registry/verify.js';
import type { VariantName } from '../render/variant.js';
import { pushProject, type PushHooks, type PushResult, type RepositoryOptions } from './push.js';

export interface DeployOptions extends RepositoryOptions {
  functionName?: string;
  /** Deploy this image, already in a registry; nothing is pushed. */
  imageUri?: string;
  role?: string;
  tag?: string;
  variant?: VariantName;
  publish?: boolean;
  alias?: string;
}

export interface DeployHooks extends PushHooks {
  /** Called when the deploy waits on Lambda (the part of the time that is Lambda's). */
  onWait?(what: string, ms: number): void;
}

export interface DeployResult {
  functionName: string;
  functionArn: string;
  region: string;
  action: 'created' | 'updated';
  imageUri: string;
  resolvedImageUri: string;
  digest: string;
  architecture: 'x86_64' | 'arm64';
  mediaType: string;
  configurationUpdated: boolean;
  version?: string;
  alias?: { name: string; action: 'created' | 'updated' };
  push?: PushResult;
  /** Milliseconds spent in Lambda's waiters (the rest is lambda-image's own). */
  waitedMs: number;
}

/** Lambda runs images from Amazon ECR private repositories only; `engine` is needed only when pushing. */
export async function deployProject(
  dir: string,
  engine: () => Promise<Engine>,
  opts: DeployOptions,
  hooks: DeployHooks = {},
): Promise<DeployResult> {
  const config = await loadConfigIfExists(dir);
  const functionName = opts.functionName ?? config?.deploy?.functionName;
  if (opts.alias !== undefined && !/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/.test(opts.alias)) {
    throw new LambdaImageError('INVALID_INPUT', `--alias ${opts.alias} is not a valid alias name`, {
      hint: 'letters, digits, - and _, not only digits (e.g. live or prod)',
    });
  }
  if (!functionName) {
    throw new LambdaImageError('INVALID_INPUT', 'no function to deploy to', {
      hint: 'pass --function-name, or set "deploy": { "functionName": ... } in lambda-image.json',
    });
  }
  const aws: AwsOptions = { profile: opts.profile, region: opts.region ?? config?.deploy?.region };
  const { LambdaApi } = await import('../aws/lambda.js');
  const lambda = await LambdaApi.open(aws, retryPolicy());
  try {
    return await deployWith(lambda, dir, config, functionName, engine, opts, aws, hooks);
  } finally {
    lambda.destroy();
  }
}

async function deployWith(
  lambda: LambdaApi,
  dir: string,
  config: Config | undefined,
  functionName: string,
  engine: () => Promise<Engine>,
  opts: DeployOptions,
  aws: AwsOptions,
  hooks: DeployHooks,
): Promise<DeployResult> {
  checkArnsFor(lambda.region, functionName, opts.role ?? config?.deploy?.role);
  // 1. The image: pushed now, or named; checked either way before Lambda hears of it.
  let image: VerifiedImage;
  let push: PushResult | undefined;
  if (opts.imageUri) {
    image = await verifyImageUri(opts.imageUri, { ...aws, region: lambda.region }, hooks);
  } else {
    if (!config)
      throw new LambdaImageError('CONFIG_INVALID', `no lambda-image.json in ${dir}`, {
        hint: 'run "lambda-image init" first, or deploy an existing image with --image-uri',
      });
    // A registry Lambda cannot use is refused before anything is pushed there.
    const target = opts.repository ?? config.deploy?.repository;
    const domain = target ? parseImageReference(target, '--repository').domain : undefined;
    if (domain) checkLambdaRepository(domain, lambda.region, false);
    push = await pushProject(dir, await engine(), { ...opts, region: lambda.region }, hooks);
    checkLambdaRepository(parseImageReference(push.imageUri).domain!, lambda.region, push.ecr !== undefined);
    image = push;
  }
  const imageUri = `${image.repository}@${image.digest}`;

  // 2. The function, by digest.
  return deployImage(lambda, functionName, imageUri, image, settingsOf(config), opts, config, hooks, push);
}

/** Resolves and checks --image-uri: an ECR repository in the function's region, a single-platform manifest. */
async function verifyImageUri(
  uri: string,
  aws: AwsOptions & { region: string },
  hooks: DeployHooks,
): Promise<VerifiedImage> {
  const ref = parseImageReference(uri, '--image-uri');
  if (!ref.domain)
    throw new LambdaImageError('INVALID_INPUT', `--image-uri ${uri} names no registry`, {
      hint: 'give the full URI, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:v1',
    });
  if (!ref.tag && !ref.digest)
    throw new LambdaImageError('INVALID_INPUT', `--image-uri ${uri} names neither a tag nor a digest`, {
      hint: 'add :<tag> or @sha256:<digest>',
    });
  let ecrToken: Awaited<ReturnType<EcrApi['authorizationToken']>> | undefined;
  if (!parseEcrHost(ref.domain) && !isEcrPublicHost(ref.domain)) {
    // Not an ECR host name: it may still be this account's ECR behind another name (a proxy endpoint).
    const { EcrApi } = await import('../aws/ecr.js');
    const api = await EcrApi.open(aws);
    try {
      ecrToken = await api.authorizationToken();
    } finally {
      api.destroy();
    }
  }
  checkLambdaRepository(ref.domain, aws.region, ecrToken?.host === ref.domain);
  hooks.onStep?.(`checking the manifest of ${uri}`);
  const credentials = await registryCredentialsFor(ref, { ...aws, ecrToken });
  return verifyRemoteImage(ref.domain, ref.path, ref.digest ?? ref.tag!, credentials, ref.digest);
}

/**
 * A function named by ARN lives in the ARN's region, a role in its partition: asked for from
 * another region they read as "does not exist" (and "creating it needs a role") or "cannot be
 * assumed", which is not the problem. Say what is, before anything is pushed.
 */
export function checkArnsFor(region: string, functionName: string, role?: string): void {
  const fn = /^arn:(aws[a-zA-Z-]*):lambda:([a-z0-9-]+):\d{12}:function:/.exec(functionName);
  const partition = partitionOf(region);
  if (fn && fn[2] !== region) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `function ${functionName} is in ${fn[2]}, and this deploy is to ${region}`,
      {
        hint: `deploy with --region ${fn[2]} (or set "deploy": { "region": "${fn[2]}" }), or name the function without its ARN`,
      },
    );
  }
  const rolePartition = role ? /^arn:(aws[a-zA-Z-]*):iam::/.exec(role)?.[1] : undefined;
  for (const [what, arn, p] of [
    ['function', functionName, fn?.[1]],
    ['role', role, rolePartition],
  ] as const) {
    if (p && p !== partition)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `${what} ${arn} is in the ${p} partition, and ${region} is in ${partition}`,
        {
          hint: `use a ${what} ARN of the ${partition} partition (arn:${partition}:...), or deploy to a region of ${p}`,
        },
      );
  }
}

/** The AWS partition a region belongs to. */
function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

/** Lambda takes images from ECR private repositories in the function's region (not FIPS, not ECR Public). */
export function checkLambdaRepository(host: string, functionRegion: string, isAccountEcr: boolean): void {
  if (isEcrPublicHost(host)) {
    throw new LambdaImageError('INVALID_INPUT', 'Lambda does not run images from ECR Public (public.ecr.aws)', {
      hint: "push the image to a private ECR repository in the function's region",
    });
  }
  const ecr = parseEcrHost(host);
  if (ecr?.fips) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `${host} is an ECR FIPS endpoint, which Lambda does not accept as an image location`,
      {
        hint: `use the repository's standard URI: ${host.replace('dkr.ecr-fips.', 'dkr.ecr.')}`,
      },
    );
  }
  if (ecr && ecr.region !== functionRegion) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `the repository is in ${ecr.region} and the function in ${functionRegion}: Lambda takes images from its own region only`,
      {
        hint: `deploy with --region ${ecr.region}, or push to a repository in ${functionRegion}`,
      },
    );
  }
  if (!ecr && !isAccountEcr) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `${host} is not Amazon ECR: Lambda runs images from ECR private repositories only`,
      {
        hint: 'push to ECR: --repository <ecr-repository-name>',
      },
    );
  }
}

function settingsOf(config: Config | undefined): FunctionSettings {
  return { memorySize: config?.memorySize, timeout: config?.timeout, environment: config?.deploy?.environment };
}

/** The settings that differ from the function's; empty when nothing needs changing. */
export function settingsDiff(
  current: { memorySize?: number; timeout?: number; environment: Record<string, string> },
  wanted: FunctionSettings,
): FunctionSettings {
  const diff: FunctionSettings = {};
  if (wanted.memorySize !== undefined && wanted.memorySize !== current.memorySize) diff.memorySize = wanted.memorySize;
  if (wanted.timeout !== undefined && wanted.timeout !== current.timeout) diff.timeout = wanted.timeout;
  if (wanted.environment && !sameRecord(wanted.environment, current.environment)) diff.environment = wanted.environment;
  return diff;
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

async function deployImage(
  lambda: LambdaApi,
  functionName: string,
  imageUri: string,
  image: VerifiedImage,
  settings: FunctionSettings,
  opts: DeployOptions,
  config: Config | undefined,
  hooks: DeployHooks,
  push: PushResult | undefined,
): Promise<DeployResult> {
  let waitedMs = 0;
  const timed = async (what: string, wait: () => Promise<void>) => {
    hooks.onStep?.(`waiting for Lambda: ${what}`);
    const t0 = Date.now();
    try {
      await wait();
    } finally {
      const ms = Date.now() - t0;
      waitedMs += ms;
      hooks.onWait?.(what, ms);
    }
  };

  const current = await lambda.getFunction(functionName);
  let action: DeployResult['action'];
  let configurationUpdated = false;
  if (!current) {
    const role = opts.role ?? config?.deploy?.role;
    if (!role) {
      throw new LambdaImageError(
        'INVALID_INPUT',
        `function ${functionName} does not exist in ${lambda.region}, and creating it needs an execution role`,
        {
          hint: 'pass --role arn:aws:iam::<account>:role/<name> (or set "deploy": { "role": ... } in lambda-image.json)',
        },
      );
    }
    hooks.onStep?.(`creating function ${functionName}`);
    await lambda.createFunction(functionName, imageUri, role, image.architecture, settings);
    action = 'created';
    await timed('function Active', () => lambda.waitActive(functionName));
  } else {
    if (current.packageType && current.packageType !== 'Image') {
      throw new LambdaImageError(
        'INVALID_INPUT',
        `function ${functionName} is a ${current.packageType} function; an image cannot replace its code`,
        {
          hint: "deploy to a new function name (Lambda cannot change a function's package type)",
        },
      );
    }
    hooks.onStep?.(`updating function ${functionName}`);
    await lambda.updateCode(functionName, imageUri, image.architecture);
    action = 'updated';
    await timed('code update', () => lambda.waitUpdated(functionName));
    const diff = settingsDiff(current, settings);
    if (Object.keys(diff).length) {
      hooks.onStep?.(`updating configuration of ${functionName} (${Object.keys(diff).join(', ')})`);
      await lambda.updateConfiguration(functionName, diff);
      configurationUpdated = true;
      await timed('configuration update', () => lambda.waitUpdated(functionName));
    }
  }

  const after = await lambda.getFunction(functionName);
  const resolved = after?.resolvedImageUri ?? '';
  if (!resolved.endsWith(`@${image.digest}`)) {
    throw new LambdaImageError(
      'DEPLOY_FAILED',
      `Lambda reports ${functionName} runs ${resolved || 'no image'}, not ${image.digest}`,
      {
        hint: 'another deployment may have run at the same moment; deploy again',
      },
    );
  }

  let version: string | undefined;
  let alias: DeployResult['alias'];
  if (opts.publish || opts.alias) {
    hooks.onStep?.(`publishing a version of ${functionName}`);
    // Pinned to the revision read back above, whose digest was just checked.
    version = await lambda.publishVersion(functionName, {
      revisionId: after?.revisionId,
      codeSha256: after?.codeSha256,
    });
    if (opts.alias) alias = { name: opts.alias, action: await lambda.pointAlias(functionName, opts.alias, version) };
  }
  return {
    functionName,
    functionArn: after?.arn ?? '',
    region: lambda.region,
    action,
    imageUri,
    resolvedImageUri: resolved,
    digest: image.digest,
    architecture: image.architecture,
    mediaType: image.mediaType,
    configurationUpdated,
    version,
    alias,
    push,
    waitedMs,
  };
}

/** Backoff for "update in progress" refusals and the waiters' limit; LAMBDA_IMAGE_RETRY_DELAY_MS and LAMBDA_IMAGE_WAIT_SECONDS shorten them (tests, benchmarks). */
function retryPolicy() {
  const first = Number(process.env.LAMBDA_IMAGE_RETRY_DELAY_MS);
  const wait = Number(process.env.LAMBDA_IMAGE_WAIT_SECONDS);
  return {
    attempts: 8,
    firstDelayMs: Number.isFinite(first) && first > 0 ? first : 500,
    waitSeconds: Number.isInteger(wait) && wait > 0 ? wait : undefined,
  };
}
