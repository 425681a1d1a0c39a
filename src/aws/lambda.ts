// AWS Lambda function management through the AWS SDK v3 for `deploy`: read, create, update
// code and configuration (retrying while another update is in progress), wait with the
// SDK's V2 waiters, publish versions and point aliases. Failures become one clear error.
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import {
  clientRegion,
  commonAwsError,
  describeSdkError,
  lambdaClient,
  otherAwsError,
  type AwsOptions,
} from './clients.js';

const log = debug('aws');

export interface FunctionState {
  name: string;
  arn: string;
  packageType?: string;
  state?: string;
  stateReason?: string;
  stateReasonCode?: string;
  lastUpdateStatus?: string;
  lastUpdateStatusReason?: string;
  lastUpdateStatusReasonCode?: string;
  architectures: string[];
  memorySize?: number;
  timeout?: number;
  /** EphemeralStorage.Size, MB. */
  ephemeralStorage?: number;
  environment: Record<string, string>;
  /** TenancyConfig.TenantIsolationMode (PER_TENANT), absent without tenant isolation. */
  tenantIsolationMode?: string;
  /** LoggingConfig as Lambda reports it (LogFormat Text by default). */
  logging: LambdaLogging;
  imageUri?: string;
  resolvedImageUri?: string;
  /** What PublishVersion pins: the revision read and the code it had. */
  revisionId?: string;
  codeSha256?: string;
}

/** LoggingConfig's format and levels (LogGroup is left as Lambda has it). */
export interface LambdaLogging {
  LogFormat?: 'Text' | 'JSON';
  ApplicationLogLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  SystemLogLevel?: 'DEBUG' | 'INFO' | 'WARN';
}

export interface FunctionSettings {
  memorySize?: number;
  timeout?: number;
  /** The size of /tmp, MB (EphemeralStorage.Size). */
  ephemeralStorage?: number;
  environment?: Record<string, string>;
  /** TenancyConfig.TenantIsolationMode: CreateFunction only (Lambda cannot change it afterwards). */
  tenantIsolationMode?: 'PER_TENANT';
  /** LoggingConfig: only the fields the config names. */
  logging?: LambdaLogging;
}

export interface FunctionUrlState {
  url: string;
  authType: string;
  invokeMode: string;
}

/** A function URL as CreateFunctionUrlConfig takes it (Cors in the API's own field names). */
export interface FunctionUrlSettings {
  authType: 'NONE' | 'AWS_IAM';
  invokeMode: 'BUFFERED' | 'RESPONSE_STREAM';
  cors?: {
    AllowOrigins?: string[];
    AllowMethods?: string[];
    AllowHeaders?: string[];
    ExposeHeaders?: string[];
    MaxAge?: number;
    AllowCredentials?: boolean;
  };
}

/** One statement of a function's resource-based policy, as AddPermission takes it. */
export interface PermissionStatement {
  sid: string;
  action: string;
  principal: string;
  functionUrlAuthType?: 'NONE' | 'AWS_IAM';
  invokedViaFunctionUrl?: boolean;
}

export interface RetryPolicy {
  /** Attempts for calls Lambda refuses while an update is in progress. */
  attempts: number;
  firstDelayMs: number;
  /** How long Lambda's waiters wait for Active / an update (default 900 s). */
  waitSeconds?: number;
}

type Lambda = Awaited<ReturnType<typeof lambdaClient>>;
const WAIT_SECONDS = 900;

export class LambdaApi {
  private constructor(
    private readonly lambda: Lambda,
    readonly region: string,
    private readonly retry: RetryPolicy,
  ) {}

  static async open(opts: AwsOptions, retry: RetryPolicy = { attempts: 8, firstDelayMs: 500 }): Promise<LambdaApi> {
    const lambda = await lambdaClient(opts);
    return new LambdaApi(lambda, await clientRegion(lambda.client), retry);
  }

  destroy(): void {
    this.lambda.client.destroy();
  }

  /** The function, or undefined when there is none by that name. */
  async getFunction(name: string): Promise<FunctionState | undefined> {
    const { sdk, client } = this.lambda;
    try {
      const out = await client.send(new sdk.GetFunctionCommand({ FunctionName: name }));
      const c = out.Configuration ?? {};
      return {
        name: c.FunctionName ?? name,
        arn: c.FunctionArn ?? '',
        packageType: c.PackageType,
        state: c.State,
        stateReason: c.StateReason,
        stateReasonCode: c.StateReasonCode,
        lastUpdateStatus: c.LastUpdateStatus,
        lastUpdateStatusReason: c.LastUpdateStatusReason,
        lastUpdateStatusReasonCode: c.LastUpdateStatusReasonCode,
        architectures: c.Architectures ?? ['x86_64'],
        memorySize: c.MemorySize,
        timeout: c.Timeout,
        ephemeralStorage: c.EphemeralStorage?.Size,
        environment: c.Environment?.Variables ?? {},
        tenantIsolationMode: c.TenancyConfig?.TenantIsolationMode,
        logging: {
          LogFormat: c.LoggingConfig?.LogFormat,
          ApplicationLogLevel: c.LoggingConfig?.ApplicationLogLevel,
          SystemLogLevel: c.LoggingConfig?.SystemLogLevel,
        },
        imageUri: out.Code?.ImageUri,
        resolvedImageUri: out.Code?.ResolvedImageUri,
        revisionId: c.RevisionId,
        codeSha256: c.CodeSha256,
      };
    } catch (err) {
      if ((err as Error)?.name === 'ResourceNotFoundException') return undefined;
      throw lambdaError(err, `GetFunction for ${name}`, 'lambda:GetFunction');
    }
  }

  async createFunction(
    name: string,
    imageUri: string,
    role: string,
    architecture: string,
    settings: FunctionSettings,
  ): Promise<void> {
    const { sdk, client } = this.lambda;
    log(`CreateFunction ${name} from ${imageUri}`);
    // Neither Runtime, Handler nor Layers: an image function has them inside the image.
    const input = {
      FunctionName: name,
      PackageType: 'Image' as const,
      Code: { ImageUri: imageUri },
      Role: role,
      Architectures: [architecture as 'x86_64' | 'arm64'],
      ...(settings.memorySize ? { MemorySize: settings.memorySize } : {}),
      ...(settings.timeout ? { Timeout: settings.timeout } : {}),
      ...(settings.ephemeralStorage ? { EphemeralStorage: { Size: settings.ephemeralStorage } } : {}),
      ...(settings.environment ? { Environment: { Variables: settings.environment } } : {}),
      ...(settings.logging ? { LoggingConfig: settings.logging } : {}),
      ...(settings.tenantIsolationMode ? { TenancyConfig: { TenantIsolationMode: settings.tenantIsolationMode } } : {}),
    };
    // A role made a moment ago is not yet assumable by Lambda (IAM propagates in seconds).
    await this.retrying(
      `CreateFunction for ${name}`,
      'lambda:CreateFunction and iam:PassRole',
      (e) => e.name === 'InvalidParameterValueException' && /cannot be assumed/i.test(e.message),
      () => client.send(new sdk.CreateFunctionCommand(input)),
    );
  }

  async updateCode(name: string, imageUri: string, architecture: string): Promise<void> {
    const { sdk, client } = this.lambda;
    log(`UpdateFunctionCode ${name} to ${imageUri}`);
    await this.retrying(`UpdateFunctionCode for ${name}`, 'lambda:UpdateFunctionCode', isConflict, () =>
      client.send(
        new sdk.UpdateFunctionCodeCommand({
          FunctionName: name,
          ImageUri: imageUri,
          Architectures: [architecture as 'x86_64' | 'arm64'],
        }),
      ),
    );
  }

  async updateConfiguration(name: string, settings: FunctionSettings): Promise<void> {
    const { sdk, client } = this.lambda;
    log(`UpdateFunctionConfiguration ${name}`);
    await this.retrying(
      `UpdateFunctionConfiguration for ${name}`,
      'lambda:UpdateFunctionConfiguration',
      isConflict,
      () =>
        client.send(
          new sdk.UpdateFunctionConfigurationCommand({
            FunctionName: name,
            ...(settings.memorySize ? { MemorySize: settings.memorySize } : {}),
            ...(settings.timeout ? { Timeout: settings.timeout } : {}),
            ...(settings.ephemeralStorage ? { EphemeralStorage: { Size: settings.ephemeralStorage } } : {}),
            ...(settings.environment ? { Environment: { Variables: settings.environment } } : {}),
            ...(settings.logging ? { LoggingConfig: settings.logging } : {}),
          }),
        ),
    );
  }

  /** Waits until a new function is Active; a Failed state becomes an error with Lambda's reason. */
  async waitActive(name: string): Promise<void> {
    const { sdk, client } = this.lambda;
    const stopped = await this.waiting((params) =>
      sdk.waitUntilFunctionActiveV2({ client, ...params }, { FunctionName: name }),
    );
    const fn = await this.getFunction(name);
    if (fn?.state !== 'Active') {
      throw new LambdaImageError(
        'DEPLOY_FAILED',
        `function ${name} did not become Active (state ${fn?.state ?? 'unknown'}${stateReason(fn?.stateReason, fn?.stateReasonCode)}${stopped && (!fn?.stateReason || fn.state === 'Pending') ? `; ${stopped}` : ''})`,
        {
          hint: 'fix what Lambda reports, then deploy again',
        },
      );
    }
  }

  /** Waits until the last update is done; `Failed` becomes an error with Lambda's reason. */
  async waitUpdated(name: string): Promise<void> {
    const { sdk, client } = this.lambda;
    const stopped = await this.waiting((params) =>
      sdk.waitUntilFunctionUpdatedV2({ client, ...params }, { FunctionName: name }),
    );
    const fn = await this.getFunction(name);
    if (fn?.lastUpdateStatus !== 'Successful') {
      const status = fn?.lastUpdateStatus ?? 'unknown';
      throw new LambdaImageError(
        'DEPLOY_FAILED',
        `the update of ${name} ${status === 'InProgress' ? 'is still' : 'ended'} ${status}${stateReason(fn?.lastUpdateStatusReason, fn?.lastUpdateStatusReasonCode)}${stopped && (!fn?.lastUpdateStatusReason || status === 'InProgress') ? `; ${stopped}` : ''}`,
        { hint: "fix what Lambda reports (the image, the role's ECR permissions), then deploy again" },
      );
    }
  }

  /**
   * Publishes exactly the revision that was checked (its RevisionId and CodeSha256): if another
   * deployment changed the function since, Lambda refuses (412) and nothing is published.
   */
  async publishVersion(name: string, pin: { revisionId?: string; codeSha256?: string }): Promise<string> {
    const { sdk, client } = this.lambda;
    const out = await this.retrying(`PublishVersion for ${name}`, 'lambda:PublishVersion', isConflict, () =>
      client.send(
        new sdk.PublishVersionCommand({ FunctionName: name, RevisionId: pin.revisionId, CodeSha256: pin.codeSha256 }),
      ),
    ).catch((err: unknown) => {
      if ((err as { cause?: Error })?.cause?.name === 'PreconditionFailedException')
        throw new LambdaImageError(
          'DEPLOY_FAILED',
          `${name} changed after this deploy checked it (another deployment ran in between): no version was published`,
          { hint: 'deploy again (with --publish / --alias) once the other deployment is done', cause: err },
        );
      throw err;
    });
    if (!out.Version) throw new LambdaImageError('AWS_FAILED', `PublishVersion answered without a version for ${name}`);
    return out.Version;
  }

  /** Points an alias at a version, creating the alias when it does not exist. */
  async pointAlias(name: string, alias: string, version: string): Promise<'created' | 'updated'> {
    const { sdk, client } = this.lambda;
    try {
      await client.send(new sdk.GetAliasCommand({ FunctionName: name, Name: alias }));
    } catch (err) {
      if ((err as Error)?.name !== 'ResourceNotFoundException')
        throw lambdaError(err, `GetAlias ${alias} of ${name}`, 'lambda:GetAlias');
      await this.retrying(`CreateAlias ${alias} of ${name}`, 'lambda:CreateAlias', isConflict, () =>
        client.send(new sdk.CreateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: version })),
      );
      return 'created';
    }
    await this.retrying(`UpdateAlias ${alias} of ${name}`, 'lambda:UpdateAlias', isConflict, () =>
      client.send(new sdk.UpdateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: version })),
    );
    return 'updated';
  }

  /**
   * Runs one of the SDK's waiters; undefined when it saw what it waited for, else why it
   * stopped (gave up after its time, or the name of the error it met), for the message the
   * caller builds. Never the waiter's `reason` object: on a Failed state it is the whole
   * GetFunction answer, the function's environment variable values included, and those must
   * not reach a terminal or a CI log. The caller names the state and Lambda's reason itself.
   */
  private async waiting(
    waiter: (params: { minDelay: number; maxDelay: number; maxWaitTime: number }) => Promise<unknown>,
  ): Promise<string | undefined> {
    const maxWaitTime = this.retry.waitSeconds ?? WAIT_SECONDS;
    try {
      await waiter({ minDelay: 1, maxDelay: Math.min(10, maxWaitTime), maxWaitTime });
      return undefined;
    } catch (err) {
      return waiterStop(err, maxWaitTime);
    }
  }

  /** The function's URL configuration (unqualified), or undefined when it has none. */
  async getUrlConfig(name: string): Promise<FunctionUrlState | undefined> {
    const { sdk, client } = this.lambda;
    try {
      const out = await client.send(new sdk.GetFunctionUrlConfigCommand({ FunctionName: name }));
      return { url: out.FunctionUrl ?? '', authType: out.AuthType ?? '', invokeMode: out.InvokeMode ?? 'BUFFERED' };
    } catch (err) {
      if ((err as Error)?.name === 'ResourceNotFoundException') return undefined;
      throw lambdaError(err, `GetFunctionUrlConfig for ${name}`, 'lambda:GetFunctionUrlConfig');
    }
  }

  /** Creates or updates the function's URL; returns the URL. */
  async putUrlConfig(name: string, create: boolean, url: FunctionUrlSettings): Promise<string> {
    const { sdk, client } = this.lambda;
    const input = { FunctionName: name, AuthType: url.authType, InvokeMode: url.invokeMode, Cors: url.cors ?? {} };
    log(`${create ? 'Create' : 'Update'}FunctionUrlConfig ${name}`);
    const action = create ? 'CreateFunctionUrlConfig' : 'UpdateFunctionUrlConfig';
    const out = await this.retrying(`${action} for ${name}`, `lambda:${action}`, isConflict, () =>
      create
        ? client.send(new sdk.CreateFunctionUrlConfigCommand(input))
        : client.send(new sdk.UpdateFunctionUrlConfigCommand(input)),
    );
    return out.FunctionUrl ?? '';
  }

  /** The statement ids of the function's resource-based policy (none when it has no policy). */
  async policyStatementIds(name: string): Promise<string[]> {
    const { sdk, client } = this.lambda;
    try {
      const out = await client.send(new sdk.GetPolicyCommand({ FunctionName: name }));
      const policy = JSON.parse(out.Policy ?? '{}') as { Statement?: Array<{ Sid?: string }> };
      return (policy.Statement ?? []).map((st) => st.Sid ?? '').filter(Boolean);
    } catch (err) {
      if ((err as Error)?.name === 'ResourceNotFoundException') return [];
      throw lambdaError(err, `GetPolicy for ${name}`, 'lambda:GetPolicy');
    }
  }

  async addPermission(name: string, statement: PermissionStatement): Promise<void> {
    const { sdk, client } = this.lambda;
    log(`AddPermission ${statement.sid} to ${name}`);
    await this.retrying(`AddPermission ${statement.sid} to ${name}`, 'lambda:AddPermission', isConflict, () =>
      client.send(
        new sdk.AddPermissionCommand({
          FunctionName: name,
          StatementId: statement.sid,
          Action: statement.action,
          Principal: statement.principal,
          ...(statement.functionUrlAuthType ? { FunctionUrlAuthType: statement.functionUrlAuthType } : {}),
          ...(statement.invokedViaFunctionUrl ? { InvokedViaFunctionUrl: true } : {}),
        }),
      ),
    );
  }

  async removePermission(name: string, sid: string): Promise<void> {
    const { sdk, client } = this.lambda;
    log(`RemovePermission ${sid} from ${name}`);
    await this.retrying(`RemovePermission ${sid} from ${name}`, 'lambda:RemovePermission', isConflict, () =>
      client.send(new sdk.RemovePermissionCommand({ FunctionName: name, StatementId: sid })),
    );
  }

  /** Runs a call, retrying (bounded, with backoff) the refusals `again` recognises. */
  private async retrying<T>(
    action: string,
    permission: string,
    again: (e: { name: string; message: string }) => boolean,
    call: () => Promise<T>,
  ): Promise<T> {
    let delay = this.retry.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        const e = describeSdkError(err);
        if (!again(e) || attempt >= this.retry.attempts) {
          if (isConflict(e)) {
            throw new LambdaImageError(
              'DEPLOY_FAILED',
              `${action} was refused ${attempt} times: another update of the function is in progress`,
              {
                hint: 'wait for the other deployment to finish, then deploy again',
                cause: err,
              },
            );
          }
          throw lambdaError(err, action, permission);
        }
        log(`${action}: ${e.name}, retrying in ${delay} ms`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 8_000);
      }
    }
  }
}

/**
 * Why a waiter stopped, in words that hold no part of an AWS answer: the waiter's own error
 * message is `{"state": ..., "reason": <the GetFunction output or the error met>}`, and a
 * GetFunction output carries the function's environment variable values.
 */
export function waiterStop(err: unknown, maxWaitTime: number): string {
  const e = err as { name?: unknown; message?: unknown };
  if (e?.name === 'TimeoutError') return `Lambda's waiter gave up after ${maxWaitTime} s`;
  let state: unknown;
  let reason: unknown;
  try {
    ({ state, reason } = JSON.parse(String(e?.message)) as { state?: unknown; reason?: unknown });
  } catch {
    // not the waiter's JSON: an error of the call itself
  }
  const r = reason as { name?: unknown; $metadata?: unknown } | undefined;
  // An AWS error met while polling is named by its name (its message may quote the request).
  const errorName = typeof r?.name === 'string' && r.$metadata !== undefined ? r.name : undefined;
  if (typeof state === 'string')
    return `the waiter stopped in state ${printableWord(state)}${errorName ? ` (${printableWord(errorName)})` : ''}`;
  return `the waiter stopped: ${typeof e?.name === 'string' ? printableWord(e.name) : 'error'}`;
}

/** A word from an AWS answer, kept to letters, digits and a few marks, and short. */
function printableWord(word: string): string {
  return word.replace(/[^\w.:-]/g, '').slice(0, 64) || 'unknown';
}

/** `: <reason> (<code>)` for an error message, or nothing when Lambda gave no reason. */
function stateReason(reason: string | undefined, code: string | undefined): string {
  if (!reason && !code) return '';
  return `: ${reason ?? ''}${code ? `${reason ? ' ' : ''}(${code})` : ''}`;
}

function isConflict(e: { name: string }): boolean {
  return e.name === 'ResourceConflictException';
}

function lambdaError(err: unknown, action: string, permission: string): LambdaImageError {
  const common = commonAwsError(err, action, permission);
  if (common) return common;
  const { name, message } = describeSdkError(err);
  if (name === 'InvalidParameterValueException') {
    return new LambdaImageError('DEPLOY_FAILED', `Lambda refused ${action}: ${message}`, {
      hint: 'fix the value Lambda names, then deploy again',
      cause: err,
    });
  }
  return otherAwsError(err, action, 'check the function name, --region and your network');
}
