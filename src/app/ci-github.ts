// `ci github`: a GitHub Actions workflow that builds, pushes and deploys with lambda-image
// itself (dev branch → dev function, main → production), OIDC only; plus the IAM trust
// policy the role needs, as next steps. Rendering and the policy are pure.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { selectFunctions } from '../config/functions.js';
import type { Config } from '../config/schema.js';
import { loadConfigIfExists } from '../config/store.js';
import { regionProblem } from '../config/value-rules.js';
import { LambdaImageError } from '../errors.js';
import { exists, readTextIfExists, writeFileAtomic } from '../util/fs.js';
import { type GithubWorkflowFunction, renderGithubWorkflow, type GithubWorkflowSpec } from '../render/render.js';

export const WORKFLOW_PATH = '.github/workflows/lambda-image.yml';
const DEFAULT_ROLE_VARIABLE = 'LAMBDA_IMAGE_ROLE_ARN';
const DEFAULT_FUNCTION_ROLE_VARIABLE = 'LAMBDA_IMAGE_FUNCTION_ROLE_ARN';
const ROLE_ARN = /^arn:aws[a-zA-Z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

export interface CiGithubOptions {
  repository?: string;
  region?: string;
  functionName?: string;
  devFunctionName?: string;
  /** An IAM role ARN; default: the repository variable LAMBDA_IMAGE_ROLE_ARN. */
  roleToAssume?: string;
  /** The execution role a missing function is created with; default: the variable LAMBDA_IMAGE_FUNCTION_ROLE_ARN. */
  functionRole?: string;
  /** owner/name on GitHub, for the trust policy; default: from the git remote "origin". */
  githubRepo?: string;
  force?: boolean;
  dryRun?: boolean;
  /** A project of several functions: deploy these (default: every function). */
  function?: string[];
}

export interface CiGithubResult {
  file: string;
  content: string;
  action: 'create' | 'overwrite' | 'unchanged';
  written: boolean;
  trustPolicy: object;
  githubRepo?: string;
  roleVariable?: string;
  functionRoleVariable?: string;
  /** What will not work on GitHub's runners (a local-only base or builder image). */
  warnings: string[];
}

export async function writeGithubWorkflow(dir: string, opts: CiGithubOptions): Promise<CiGithubResult> {
  refuseOptionLikeValues(opts);
  const config = await loadConfigIfExists(dir);
  const deploy = config?.deploy ?? {};
  const need = (value: string | undefined, what: string, flag: string, key: string) => {
    if (!value)
      throw new LambdaImageError('INVALID_INPUT', `the workflow needs ${what}`, {
        hint: `pass ${flag}, or set "deploy": { "${key}": ... } in lambda-image.json`,
      });
    return value;
  };
  const root = (await gitRoot(path.resolve(dir))) ?? path.resolve(dir);
  const common = {
    dir: path.relative(root, path.resolve(dir)) || '.',
    roleToAssume: opts.roleToAssume ?? `\${{ vars.${DEFAULT_ROLE_VARIABLE} }}`,
    functionRole: opts.functionRole ?? `\${{ vars.${DEFAULT_FUNCTION_ROLE_VARIABLE} }}`,
    version: packageVersion(),
  };
  // One path for one function or many: a one-function project is a list of one. The deploy
  // step runs over the functions lambda-image.json lists when the workflow runs (a function
  // added later is deployed too), each to its own targets; the targets are checked here for
  // the functions the config has today. Flags given here are passed on to the step.
  const functions = workflowFunctions(dir, config, opts.function);
  if (functions.length > 1)
    for (const [value, flag] of [
      [opts.functionName, '--function-name'],
      [opts.devFunctionName, '--dev-function-name'],
    ] as const)
      if (value !== undefined)
        throw new LambdaImageError(
          'INVALID_INPUT',
          `${flag} names one function, and the workflow would deploy ${functions.length} (${functions.map((f) => f.name).join(', ')})`,
          {
            hint: `set each function's own "deploy": { "functionName", "devFunctionName" } under "functions" in lambda-image.json, or name one with --function`,
          },
        );
  const steps: GithubWorkflowFunction[] = functions.map((f) => {
    const d = f.deploy;
    const of = ` for ${f.name}`;
    need(opts.repository ?? d.repository, `a repository${of}`, '--repository', 'repository');
    const prod = need(
      opts.functionName ?? d.functionName,
      `the production function name${of}`,
      '--function-name',
      'functionName',
    );
    return {
      name: f.name,
      prodFunction: prod,
      devFunction: opts.devFunctionName ?? d.devFunctionName ?? `${prod}-dev`,
      region: need(opts.region ?? d.region, `a region${of}`, '--region', 'region'),
      ...(opts.repository ? { repository: opts.repository } : {}),
    };
  });
  const spec: GithubWorkflowSpec = {
    ...common,
    repository: opts.repository ?? '',
    region: opts.region ?? deploy.region ?? steps[0]!.region,
    functions: steps,
    buildFunctions: opts.function?.length ? steps.map((s) => s.name) : [],
    ...(opts.functionName !== undefined || opts.devFunctionName !== undefined
      ? { namedTargets: { prodFunction: steps[0]!.prodFunction, devFunction: steps[0]!.devFunction } }
      : {}),
    ...(opts.repository ? { repositoryFlag: opts.repository } : {}),
    ...(opts.region ? { regionFlag: opts.region } : {}),
  };
  checkWorkflowSpec(spec);
  const githubRepo = opts.githubRepo ?? (await githubRepoFromGit(root));
  if (githubRepo && !/^[\w.-]+\/[\w.-]+$/.test(githubRepo))
    throw new LambdaImageError('INVALID_INPUT', `--github-repo ${githubRepo} is not owner/name`, {
      hint: 'for example acme/orders',
    });

  const content = renderGithubWorkflow(spec);
  const file = path.join(root, WORKFLOW_PATH);
  const existing = await readTextIfExists(file);
  const action = existing === undefined ? 'create' : existing === content ? 'unchanged' : 'overwrite';
  if (action === 'overwrite' && !opts.force && !opts.dryRun) {
    throw new LambdaImageError('FILE_EXISTS', `would overwrite ${file}`, {
      hint: 'pass --force to replace it (your edits will be lost), or --dry-run to see the new one',
    });
  }
  if (!opts.dryRun && action !== 'unchanged') {
    await writeFileAtomic(file, content, { root, mkdir: true });
  }
  const account = ROLE_ARN.exec(opts.roleToAssume ?? '')?.[1];
  return {
    file,
    content,
    action,
    written: !opts.dryRun && action !== 'unchanged',
    trustPolicy: githubTrustPolicy(githubRepo ?? '<owner>/<repo>', account ?? '<account-id>'),
    githubRepo,
    roleVariable: opts.roleToAssume ? undefined : DEFAULT_ROLE_VARIABLE,
    functionRoleVariable: opts.functionRole ? undefined : DEFAULT_FUNCTION_ROLE_VARIABLE,
    warnings: config ? localOnlyImageWarnings(config) : [],
  };
}

/**
 * The functions the workflow deploys, each with its deploy targets: those of lambda-image.json
 * (a one-function project is a list of one), or, with no config, one function whose targets
 * all come from the flags.
 */
function workflowFunctions(
  dir: string,
  config: Config | undefined,
  names: string[] | undefined,
): Array<{ name: string; deploy: NonNullable<Config['deploy']> }> {
  if (config) return selectFunctions(config, names).map((f) => ({ name: f.name, deploy: f.config.deploy ?? {} }));
  if (names?.length)
    throw new LambdaImageError(
      'CONFIG_INVALID',
      `--function needs the project's lambda-image.json, and ${dir} has none`,
      {
        hint: 'run the command in the project, or leave --function out',
      },
    );
  return [{ name: path.basename(path.resolve(dir)), deploy: {} }];
}

/**
 * commander takes the next word as an option's value even when it is another option
 * (`--function-name --force`): such a value is a slip, never a name.
 */
function refuseOptionLikeValues(opts: CiGithubOptions): void {
  const flags: Array<[keyof CiGithubOptions, string]> = [
    ['repository', '--repository'],
    ['region', '--region'],
    ['functionName', '--function-name'],
    ['devFunctionName', '--dev-function-name'],
    ['roleToAssume', '--role-to-assume'],
    ['functionRole', '--function-role'],
    ['githubRepo', '--github-repo'],
  ];
  for (const [key, flag] of flags) {
    const value = opts[key];
    if (typeof value === 'string' && value.startsWith('-'))
      throw new LambdaImageError(
        'INVALID_INPUT',
        `${flag} ${JSON.stringify(value)} looks like an option, not a value`,
        {
          hint: `give ${flag} its value (for example ${flag} <value>), or leave it out`,
        },
      );
  }
}

/**
 * A base or builder image only this machine has: a lambda-image stand-in, or a registry on
 * loopback or a local-only host name. GitHub's runners cannot pull it, so the build would fail there.
 */
export function localOnlyImageWarnings(config: Pick<Config, 'baseImage' | 'builderImage'>): string[] {
  const warnings: string[] = [];
  for (const [key, ref] of [
    ['baseImage', config.baseImage],
    ['builderImage', config.builderImage],
  ] as const) {
    const why = ref ? localOnlyReason(ref) : undefined;
    if (why)
      warnings.push(
        `lambda-image.json ${key} ${ref} is ${why}: GitHub's runners cannot pull it; set ${key} to an image in a registry they reach, or remove it for the default`,
      );
  }
  return warnings;
}

function localOnlyReason(ref: string): string | undefined {
  if (/^lambda-image-standin\//.test(ref)) return "a lambda-image stand-in (a test double on this machine's engine)";
  const first = ref.split('/')[0]!;
  if (!ref.includes('/') || !/[.:]|^localhost$/.test(first)) return undefined; // Docker Hub
  const host = first
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1')
    return 'in a registry on this machine';
  if (/\.(local|internal|lan|home\.arpa)$/.test(host) || (!host.includes('.') && !host.includes(':')))
    return 'in a registry on a local network name';
  return undefined;
}

/** Values go into YAML as they are: allow only what cannot break it. */
export function checkWorkflowSpec(spec: GithubWorkflowSpec): void {
  const bad = (what: string, value: string, rule: string) =>
    new LambdaImageError('INVALID_INPUT', `${what} ${JSON.stringify(value)} cannot go into the workflow: ${rule}`);
  if (!/^[\w./-]+$/.test(spec.dir) || spec.dir.split('/').includes('..'))
    throw bad('directory', spec.dir, 'use a path inside the repository of letters, digits, . _ - /');
  const repositories = spec.functions.flatMap((f) => (f.repository ? [f.repository] : []));
  for (const repository of repositories)
    if (!/^[\w.:/-]+$/.test(repository)) throw bad('repository', repository, 'a repository name or host/path');
  for (const region of [spec.region, ...spec.functions.map((f) => f.region)])
    if (regionProblem(region)) throw bad('region', region, 'an AWS region such as eu-west-1');
  for (const f of [...spec.functions, ...(spec.namedTargets ? [spec.namedTargets] : [])])
    for (const [what, name] of [
      ['function name', f.prodFunction],
      ['dev function name', f.devFunction],
    ] as const) {
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) throw bad(what, name, '1 to 64 letters, digits, - and _');
    }
  for (const name of spec.buildFunctions ?? [])
    if (!/^[a-z0-9][a-z0-9_-]{0,63}$/.test(name)) throw bad('function', name, 'a function name of lambda-image.json');
  for (const [what, role] of [
    ['role', spec.roleToAssume],
    ['function role', spec.functionRole],
  ] as const) {
    if (!ROLE_ARN.test(role) && !/^\$\{\{ vars\.[A-Z0-9_]+ \}\}$/.test(role)) throw bad(what, role, 'an IAM role ARN');
  }
}

/** The trust policy that lets GitHub's OIDC provider assume the role from the dev and main branches only. */
export function githubTrustPolicy(githubRepo: string, account: string): object {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: `arn:aws:iam::${account}:oidc-provider/token.actions.githubusercontent.com` },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
          StringLike: {
            'token.actions.githubusercontent.com:sub': [
              `repo:${githubRepo}:ref:refs/heads/main`,
              `repo:${githubRepo}:ref:refs/heads/dev`,
            ],
          },
        },
      },
    ],
  };
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string })
    .version;
}

/** The nearest directory at or above `dir` holding .git (bounded by the file system root). */
async function gitRoot(dir: string): Promise<string | undefined> {
  for (let d = dir, i = 0; i < 64; i++) {
    if (await exists(path.join(d, '.git'))) return d;
    const up = path.dirname(d);
    if (up === d) return undefined;
    d = up;
  }
  return undefined;
}

/** owner/name from .git/config's origin when it points at github.com. */
async function githubRepoFromGit(root: string): Promise<string | undefined> {
  const text = await readTextIfExists(path.join(root, '.git', 'config')).catch(() => undefined);
  const m = text && /\[remote "origin"\][^[]*?url\s*=\s*(\S+)/.exec(text);
  const url = m?.[1];
  const gh = url && /github\.com[:/]([\w.-]+\/[\w.-]+?)(?:\.git)?$/.exec(url);
  return gh ? gh[1] : undefined;
}
