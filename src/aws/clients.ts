// Construction of AWS SDK v3 clients, shared by every command that talks to AWS: lazy
// imports (the SDK is heavy), the standard credential chain, --profile and --region, the
// SDK's own endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL_ECR).
import { LambdaImageError } from '../errors.js';

export interface AwsOptions {
  region?: string;
  profile?: string;
}

/** The SDK warns on Node 20 about its future support; that is not our users' business. */
function quietSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

function clientConfig(opts: AwsOptions): { region?: string; profile?: string } {
  return { ...(opts.region ? { region: opts.region } : {}), ...(opts.profile ? { profile: opts.profile } : {}) };
}

export async function lambdaClient(opts: AwsOptions) {
  quietSdk();
  const sdk = await import('@aws-sdk/client-lambda');
  return { sdk, client: new sdk.LambdaClient(clientConfig(opts)) };
}

export async function ecrClient(opts: AwsOptions) {
  quietSdk();
  const sdk = await import('@aws-sdk/client-ecr');
  return { sdk, client: new sdk.ECRClient(clientConfig(opts)) };
}

/** The region a client will use (from --region, the profile, or AWS_REGION); a clear error when none is set. */
export async function clientRegion(client: { config: { region: () => Promise<string> } }): Promise<string> {
  try {
    return await client.config.region();
  } catch (err) {
    throw new LambdaImageError('INVALID_INPUT', 'no AWS region is set', {
      hint: 'pass --region, set "deploy.region" in lambda-image.json, or set AWS_REGION',
      cause: err,
    });
  }
}

export interface SdkErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * The SDK error's name, HTTP status and first message line. AWS messages carry no credentials
 * or presigned URLs, but a few quote what was sent: Lambda's "exceeded the 4KB limit. String
 * measured: {...}" holds every environment variable's value. Such a quote is cut off.
 */
export function describeSdkError(err: unknown): { name: string; status?: number; message: string } {
  const e = err as SdkErrorShape;
  return {
    name: e?.name ?? 'Error',
    status: e?.$metadata?.httpStatusCode,
    message: withoutQuotedValues(String(e?.message ?? '').split('\n')[0]!),
  };
}

/** An AWS message without the JSON it may quote (Lambda's "String measured: {...}"). */
export function withoutQuotedValues(message: string): string {
  const at = message.search(/\bString measured:|[{[]\s*"/);
  if (at < 0) return message;
  return `${message.slice(0, at).trimEnd()} (the values AWS quoted are left out)`;
}

const DENIED = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
]);
const THROTTLED = new Set(['TooManyRequestsException', 'ThrottlingException', 'Throttling']);

/**
 * Maps the failures every AWS call shares (credentials, denial, throttling) to one clear
 * error; returns undefined for service-specific ones the caller handles.
 */
export function commonAwsError(err: unknown, action: string, permission: string): LambdaImageError | undefined {
  if (err instanceof LambdaImageError) return err;
  const { name } = describeSdkError(err);
  if (name === 'CredentialsProviderError') {
    return new LambdaImageError('AWS_FAILED', 'no AWS credentials were found', {
      hint: 'configure credentials (aws configure, aws sso login, AWS_PROFILE or --profile)',
      cause: err,
    });
  }
  if (DENIED.has(name)) {
    return new LambdaImageError('AWS_FAILED', `AWS denied ${action} (${name})`, {
      hint: `use credentials allowed ${permission} (--profile, AWS_PROFILE, or aws sso login)`,
      cause: err,
    });
  }
  if (THROTTLED.has(name)) {
    return new LambdaImageError('AWS_FAILED', `AWS kept throttling ${action}, even after retries`, {
      hint: 'wait a minute and try again',
      cause: err,
    });
  }
  return undefined;
}

/** Any other failure of an AWS call, with the service's own words. */
export function otherAwsError(err: unknown, action: string, hint: string): LambdaImageError {
  const { name, status, message } = describeSdkError(err);
  return new LambdaImageError(
    'AWS_FAILED',
    `${action} failed: ${name}${status ? ` (HTTP ${status})` : ''}${message && message !== name ? `: ${message}` : ''}`,
    {
      hint,
      cause: err,
    },
  );
}
