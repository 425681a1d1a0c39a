// `deploy`: push the built image (or take --image-uri), check its manifest BEFORE calling
// Lambda, then create or update the function BY DIGEST, wait for Lambda to finish, bring
// memory/timeout/environment in line with the config, and read back the digest Lambda runs.
import type { AwsOptions } from '../aws/clients.js';
import type { EcrApi } from '../aws/ecr.js';
import type {
  FunctionSettings,
  FunctionUrlSettings,
  LambdaApi,
  LambdaLogging,
  PermissionStatement,
} from '../aws/lambda.js';
import type { InvokeMode, UrlAuthType } from '../config/constants.js';
import { parseImageReference } from '../config/image-reference.js';
import { type ProjectFunction, selectFunctions } from '../config/functions.js';
import type { Config } from '../config/schema.js';
import { loadConfigIfExists } from '../config/store.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { registryCredentialsFor } from '../registry/auth.js';
import { isEcrPublicHost, parseEcrHost } from '../registry/ecr-host.js';
import { verifyRemoteImage, type VerifiedImage } from '../registry/verify.js';
import {
  checkTagOption,
  onlyPlan,
  planFunctionPush,
  planPushes,
  pushProject,
  refuseOneImageForSeveral,
  RepositoryResolver,
  type PushHooks,
  type PushOptions,
  type PushPlan,
  type PushResult,
} from './push.js';

export interface DeployOptions extends PushOptions {
  functionName?: string;
  /** Deploy this image, already in a registry; nothing is pushed. */
  imageUri?: string;
  role?: string;
  publish?: boolean;
  alias?: string;
  /** Create or update the function URL (settings from config `url`, overridden by the two below). */
  url?: boolean;
  urlAuth?: UrlAuthType;
  invokeMode?: InvokeMode;
  /** Update a function even when it already runs this image with these settings. */
  force?: boolean;
  /**
   * Deploy to the dev target: `deploy.devFunctionName`, else `<functionName>-dev` (each
   * function's own in a project of several), as the workflow of `ci github` does on dev.
   */
  dev?: boolean;
}

/** A deploy worked out and checked once (planDeploy), before AWS or the engine is asked. */
export interface DeployPlan {
  dir: string;
  config?: Config;
  functionName: string;
  /** Needed only to create the function. */
  role?: string;
  aws: AwsOptions;
  /** The image already in a registry (--image-uri), or the push that makes it. */
  imageUri?: string;
  push?: PushPlan;
  settings: FunctionSettings;
  publish: boolean;
  alias?: string;
  /** With --url: the function URL's settings (flags over config `url`). */
  url?: FunctionUrlSettings;
  /**
   * The function of the project this plan deploys: its name in lambda-image.json (the
   * project's name for a one-function project; the Lambda function's without a config).
   */
  function: string;
  /**
   * Leave the function as it is when it already runs this very image with these settings
   * (every project, one function or several, unless --force).
   */
  skipUnchanged: boolean;
}

export interface DeployHooks extends PushHooks {
  /** Called when the deploy waits on Lambda (the part of the time that is Lambda's). */
  onWait?(what: string, ms: number): void;
}

export interface DeployResult {
  functionName: string;
  functionArn: string;
  region: string;
  /** unchanged: it already ran this image with these settings, and nothing was changed. */
  action: 'created' | 'updated' | 'unchanged';
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
  /** With --url: the function URL and what was done to it. */
  url?: UrlResult;
  /** The function of the project (see DeployPlan.function). */
  function: string;
}

export interface UrlResult {
  url: string;
  action: 'created' | 'updated';
  authType: UrlAuthType;
  invokeMode: InvokeMode;
  /** Resource-based policy statements added for it (a public URL needs two). */
  permissionsAdded: string[];
  permissionsRemoved: string[];
}

/**
 * The statements a public (AuthType NONE) URL needs: lambda:InvokeFunctionUrl for everyone with
 * FunctionUrlAuthType NONE, and, for URLs created since October 2025, lambda:InvokeFunction for
 * everyone when invoked through the URL. Ids as the Lambda console names them.
 */
export const PUBLIC_URL_STATEMENTS: PermissionStatement[] = [
  {
    sid: 'FunctionURLAllowPublicAccess',
    action: 'lambda:InvokeFunctionUrl',
    principal: '*',
    functionUrlAuthType: 'NONE',
  },
  {
    sid: 'FunctionURLInvokeAllowPublicAccess',
    action: 'lambda:InvokeFunction',
    principal: '*',
    invokedViaFunctionUrl: true,
  },
];

/** The URL settings a deploy asks for: flags over config `url`, then Lambda's defaults but AWS_IAM auth. */
export function urlSettings(opts: DeployOptions, config: Config | undefined): FunctionUrlSettings {
  const cors = config?.url?.cors;
  return {
    authType: opts.urlAuth ?? config?.url?.authType ?? 'AWS_IAM',
    invokeMode: opts.invokeMode ?? config?.url?.invokeMode ?? 'BUFFERED',
    cors: cors
      ? {
          ...(cors.allowOrigins ? { AllowOrigins: cors.allowOrigins } : {}),
          ...(cors.allowMethods ? { AllowMethods: cors.allowMethods } : {}),
          ...(cors.allowHeaders ? { AllowHeaders: cors.allowHeaders } : {}),
          ...(cors.exposeHeaders ? { ExposeHeaders: cors.exposeHeaders } : {}),
          ...(cors.maxAge !== undefined ? { MaxAge: cors.maxAge } : {}),
          ...(cors.allowCredentials !== undefined ? { AllowCredentials: cors.allowCredentials } : {}),
        }
      : undefined,
  };
}

/**
 * Creates or updates the function URL, then brings the public statements in line: added for
 * NONE (each once: a re-deploy adds nothing), removed for AWS_IAM (a URL made private again
 * must not stay open).
 */
export async function deployUrl(
  lambda: LambdaApi,
  functionName: string,
  settings: FunctionUrlSettings,
  hooks: DeployHooks = {},
): Promise<UrlResult> {
  hooks.onStep?.(`function URL of ${functionName}`);
  const existing = await lambda.getUrlConfig(functionName);
  const url = await lambda.putUrlConfig(functionName, !existing, settings);
  const present = new Set(await lambda.policyStatementIds(functionName));
  const added: string[] = [];
  const removed: string[] = [];
  for (const st of PUBLIC_URL_STATEMENTS) {
    if (settings.authType === 'NONE' && !present.has(st.sid)) {
      await lambda.addPermission(functionName, st);
      added.push(st.sid);
    } else if (settings.authType === 'AWS_IAM' && present.has(st.sid)) {
      await lambda.removePermission(functionName, st.sid);
      removed.push(st.sid);
    }
  }
  return {
    url,
    action: existing ? 'updated' : 'created',
    authType: settings.authType,
    invokeMode: settings.invokeMode,
    permissionsAdded: added,
    permissionsRemoved: removed,
  };
}

/**
 * Everything about a deploy that needs neither AWS nor the engine: the function, the role,
 * the alias, the region, and (without --image-uri) the push plan with the image to ship. One
 * plan per function: every function of a project of several (or those named with
 * --function), each from its own config view; a one-function project gets one plan.
 */
export async function planDeploys(dir: string, opts: DeployOptions): Promise<DeployPlan[]> {
  if (opts.alias !== undefined && !/^(?!^[0-9]+$)[a-zA-Z0-9-_]{1,128}$/.test(opts.alias)) {
    throw new LambdaImageError('INVALID_INPUT', `--alias ${opts.alias} is not a valid alias name`, {
      hint: 'letters, digits, - and _, not only digits (e.g. live or prod)',
    });
  }
  if (opts.imageUri) parseImageReference(opts.imageUri, '--image-uri');
  checkTagOption(opts.tag);
  if (opts.dev && opts.functionName)
    throw new LambdaImageError('INVALID_INPUT', '--dev and --function-name both name the function to deploy to', {
      hint: 'give one: --function-name <the dev function>, or --dev for deploy.devFunctionName (else <functionName>-dev)',
    });
  const config = await loadConfigIfExists(dir);
  if (!config) {
    if (opts.functions?.length)
      throw new LambdaImageError(
        'CONFIG_INVALID',
        `--function needs the project's lambda-image.json, and ${dir} has none`,
        {
          hint: 'run the command in the project, or leave --function out',
        },
      );
    if (!opts.imageUri && !opts.image)
      throw new LambdaImageError('CONFIG_INVALID', `no lambda-image.json in ${dir}`, {
        hint: 'run "lambda-image init" first, or deploy an existing image with --image-uri',
      });
    return [await planFunctionDeploy(dir, undefined, undefined, opts)];
  }
  const functions = selectFunctions(config, opts.functions);
  refuseOneImageForSeveral(
    functions,
    opts.imageUri ? '--image-uri' : opts.image ? '--image' : opts.functionName ? '--function-name' : undefined,
  );
  const plans: DeployPlan[] = [];
  for (const fn of functions) plans.push(await planFunctionDeploy(dir, fn.config, fn, opts));
  return plans;
}

/** The one deploy of a one-function project (or of the one function named). */
export async function planDeploy(dir: string, opts: DeployOptions): Promise<DeployPlan> {
  return onlyPlan(await planDeploys(dir, opts));
}

/** One function's deploy, from its config view (the project's config for a one-function project). */
async function planFunctionDeploy(
  dir: string,
  config: Config | undefined,
  fn: ProjectFunction | undefined,
  opts: DeployOptions,
): Promise<DeployPlan> {
  const prod = opts.functionName ?? config?.deploy?.functionName;
  const functionName = opts.dev ? (config?.deploy?.devFunctionName ?? (prod ? `${prod}-dev` : undefined)) : prod;
  if (!functionName) {
    throw new LambdaImageError('INVALID_INPUT', 'no function to deploy to', {
      hint: 'pass --function-name, or set "deploy": { "functionName": ... } in lambda-image.json',
    });
  }
  const aws: AwsOptions = { profile: opts.profile, region: opts.region ?? config?.deploy?.region };
  const pushOpts = { ...opts, region: aws.region };
  let push: PushPlan | undefined;
  if (!opts.imageUri)
    push = config ? await planFunctionPush(dir, config, fn, pushOpts) : (await planPushes(dir, pushOpts))[0];
  return {
    dir,
    config,
    functionName,
    role: opts.role ?? config?.deploy?.role,
    aws,
    imageUri: opts.imageUri,
    push,
    settings: settingsOf(config),
    publish: opts.publish ?? false,
    alias: opts.alias,
    url: opts.url ? urlSettings(opts, config) : undefined,
    function: fn?.name ?? functionName,
    skipUnchanged: !opts.force,
  };
}

/**
 * What the deploys of one command share: one Lambda client per region and one lookup and
 * login per repository (the functions of a project share both), and the engine, connected
 * when the first push needs it. close() ends the clients.
 */
export class DeploySession {
  readonly repositories = new RepositoryResolver();
  private readonly lambdas = new Map<string, Promise<LambdaApi>>();
  private engineOnce?: Promise<Engine>;

  constructor(private readonly connect: () => Promise<Engine>) {}

  engine(): Promise<Engine> {
    this.engineOnce ??= this.connect();
    return this.engineOnce;
  }

  lambda(aws: AwsOptions): Promise<LambdaApi> {
    const key = JSON.stringify([aws.region, aws.profile]);
    let found = this.lambdas.get(key);
    if (!found) {
      found = import('../aws/lambda.js').then(({ LambdaApi }) => LambdaApi.open(aws, retryPolicy()));
      this.lambdas.set(key, found);
      found.catch(() => this.lambdas.delete(key));
    }
    return found;
  }

  close(): void {
    this.repositories.close();
    for (const p of this.lambdas.values()) p.then((l) => l.destroy()).catch(() => {});
    this.lambdas.clear();
  }
}

/** Lambda runs images from Amazon ECR private repositories only; `engine` is called only when pushing. */
export async function deployProject(
  engine: () => Promise<Engine>,
  plan: DeployPlan,
  hooks: DeployHooks = {},
  shared?: DeploySession,
): Promise<DeployResult> {
  const session = shared ?? new DeploySession(engine);
  try {
    const lambda = await session.lambda(plan.aws);
    checkArnsFor(lambda.region, plan.functionName, plan.role);
    // 1. The image: pushed now, or named; checked either way before Lambda hears of it.
    let image: VerifiedImage;
    let push: PushResult | undefined;
    if (plan.imageUri) {
      image = await verifyImageUri(plan.imageUri, { ...plan.aws, region: lambda.region }, hooks);
    } else {
      // A registry Lambda cannot use is refused before anything is pushed there.
      const target = plan.push!.repository;
      const domain = target ? parseImageReference(target, '--repository').domain : undefined;
      if (domain) checkLambdaRepository(domain, lambda.region, false);
      push = await pushProject(
        await session.engine(),
        { ...plan.push!, region: lambda.region },
        hooks,
        session.repositories,
      );
      checkLambdaRepository(parseImageReference(push.imageUri).domain!, lambda.region, push.ecr !== undefined);
      image = push;
    }
    // 2. The function, by digest.
    return await deployImage(lambda, plan, image, hooks, push);
  } finally {
    if (!shared) session.close();
  }
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
  return {
    memorySize: config?.memorySize,
    timeout: config?.timeout,
    ephemeralStorage: config?.ephemeralStorage,
    environment: config?.deploy?.environment,
    tenantIsolationMode: config?.tenantIsolationMode,
    logging: lambdaLogging(config?.logging),
  };
}

/** The config's `logging` as LoggingConfig: only the fields it names. */
export function lambdaLogging(logging: Config['logging']): LambdaLogging | undefined {
  if (!logging) return undefined;
  const out: LambdaLogging = {};
  if (logging.logFormat) out.LogFormat = logging.logFormat;
  if (logging.applicationLogLevel) out.ApplicationLogLevel = logging.applicationLogLevel;
  if (logging.systemLogLevel) out.SystemLogLevel = logging.systemLogLevel;
  return Object.keys(out).length ? out : undefined;
}

/**
 * Lambda sets a function's tenant isolation when it is created and never changes it: a config
 * that asks for PER_TENANT on a function without it (or the reverse) is refused before any call.
 */
export function tenancyUnchangeable(
  functionName: string,
  current: string | undefined,
  wanted: string | undefined,
): void {
  if ((current ?? undefined) === (wanted ?? undefined)) return;
  throw new LambdaImageError(
    'INVALID_INPUT',
    wanted
      ? `function ${functionName} exists without tenant isolation; Lambda sets tenantIsolationMode ${wanted} only when a function is created`
      : `function ${functionName} has tenant isolation (${current}), which the config does not name; Lambda cannot remove it`,
    {
      hint: wanted
        ? 'deploy to a new function name (deploy.functionName), or remove tenantIsolationMode'
        : `add "tenantIsolationMode": "${current}" to lambda-image.json, or deploy to a new function name`,
    },
  );
}

/** The settings that differ from the function's; empty when nothing needs changing. */
export function settingsDiff(
  current: {
    memorySize?: number;
    timeout?: number;
    ephemeralStorage?: number;
    environment: Record<string, string>;
    logging?: LambdaLogging;
  },
  wanted: FunctionSettings,
): FunctionSettings {
  const diff: FunctionSettings = {};
  if (wanted.memorySize !== undefined && wanted.memorySize !== current.memorySize) diff.memorySize = wanted.memorySize;
  if (wanted.timeout !== undefined && wanted.timeout !== current.timeout) diff.timeout = wanted.timeout;
  // Lambda reports 512 for a function never given a size.
  if (wanted.ephemeralStorage !== undefined && wanted.ephemeralStorage !== (current.ephemeralStorage ?? 512))
    diff.ephemeralStorage = wanted.ephemeralStorage;
  if (wanted.environment && !sameRecord(wanted.environment, current.environment)) diff.environment = wanted.environment;
  // LoggingConfig: sent when a field the config names differs (Lambda reports Text for a function never given one).
  const had: LambdaLogging = { LogFormat: 'Text', ...withoutUndefined(current.logging ?? {}) };
  const named = Object.entries(wanted.logging ?? {}) as Array<[keyof LambdaLogging, string]>;
  if (named.some(([k, value]) => had[k] !== value)) diff.logging = wanted.logging;
  return diff;
}

function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && b[k] === a[k]);
}

async function deployImage(
  lambda: LambdaApi,
  plan: DeployPlan,
  image: VerifiedImage,
  hooks: DeployHooks,
  push: PushResult | undefined,
): Promise<DeployResult> {
  const { functionName, settings } = plan;
  const imageUri = `${image.repository}@${image.digest}`;
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
  let after = current;
  if (!current) {
    const role = plan.role;
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
    tenancyUnchangeable(functionName, current.tenantIsolationMode, settings.tenantIsolationMode);
    const diff = settingsDiff(current, settings);
    // What the function runs now (Code.ResolvedImageUri): the very image, from the same repository, on the same architecture.
    const runsThisImage =
      current.resolvedImageUri === imageUri &&
      current.architectures.length === 1 &&
      current.architectures[0] === image.architecture &&
      current.lastUpdateStatus !== 'Failed';
    if (plan.skipUnchanged && runsThisImage) {
      action = 'unchanged';
      hooks.onStep?.(`Lambda function ${functionName} already runs ${image.digest}: no code update`);
    } else {
      hooks.onStep?.(`updating function ${functionName}`);
      await lambda.updateCode(functionName, imageUri, image.architecture);
      action = 'updated';
      await timed('code update', () => lambda.waitUpdated(functionName));
    }
    if (Object.keys(diff).length) {
      hooks.onStep?.(`updating configuration of ${functionName} (${Object.keys(diff).join(', ')})`);
      await lambda.updateConfiguration(functionName, diff);
      configurationUpdated = true;
      action = 'updated';
      await timed('configuration update', () => lambda.waitUpdated(functionName));
    }
  }

  if (action !== 'unchanged') after = await lambda.getFunction(functionName);
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
  if (plan.publish || plan.alias) {
    hooks.onStep?.(`publishing a version of ${functionName}`);
    // Pinned to the revision read back above, whose digest was just checked.
    version = await lambda.publishVersion(functionName, {
      revisionId: after?.revisionId,
      codeSha256: after?.codeSha256,
    });
    if (plan.alias) alias = { name: plan.alias, action: await lambda.pointAlias(functionName, plan.alias, version) };
  }
  const url = plan.url ? await deployUrl(lambda, functionName, plan.url, hooks) : undefined;
  return {
    function: plan.function,
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
    url,
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
