// GetLayerVersionByArn through the AWS SDK v3, in the ARN's region, with the SDK's standard
// credential chain and endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA).
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import type { LayerArn } from './arn.js';

const log = debug('aws');

export interface LayerVersion {
  arn: string;
  version: number;
  /** Presigned download URL: a credential in its query string. Never print or log it. */
  location: string;
  /** Hex SHA-256 of the zip (AWS sends base64). */
  sha256: string;
  size: number;
  architectures: string[];
  runtimes: string[];
}

export interface AwsOptions {
  region?: string;
  profile?: string;
}

export async function getLayerVersion(layer: LayerArn, opts: AwsOptions = {}): Promise<LayerVersion> {
  // The SDK warns on Node 20 about its future support; that is not our users' business.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { LambdaClient, GetLayerVersionByArnCommand } = await import('@aws-sdk/client-lambda');
  const region = opts.region ?? layer.region;
  const client = new LambdaClient({ region, ...(opts.profile ? { profile: opts.profile } : {}) });
  log(`GetLayerVersionByArn ${layer.arn} in ${region}`);
  try {
    const out = await client.send(new GetLayerVersionByArnCommand({ Arn: layer.arn }));
    const content = out.Content;
    if (!content?.Location || !content.CodeSha256 || content.CodeSize === undefined) {
      throw new LambdaImageError('AWS_FAILED', `GetLayerVersionByArn answered without the layer's content for ${layer.arn}`, {
        hint: 'check that the ARN names a layer version, not a function',
      });
    }
    return {
      arn: out.LayerVersionArn ?? layer.arn,
      version: out.Version ?? layer.version,
      location: content.Location,
      sha256: Buffer.from(content.CodeSha256, 'base64').toString('hex'),
      size: content.CodeSize,
      architectures: out.CompatibleArchitectures ?? [],
      runtimes: out.CompatibleRuntimes ?? [],
    };
  } catch (err) {
    throw awsError(err, layer, region);
  } finally {
    client.destroy();
  }
}

function awsError(err: unknown, layer: LayerArn, region: string): LambdaImageError {
  if (err instanceof LambdaImageError) return err;
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? 'Error';
  const status = e.$metadata?.httpStatusCode;
  // The SDK's messages never carry the presigned URL (it only comes back on success).
  const message = (e.message ?? '').split('\n')[0];
  switch (name) {
    case 'ResourceNotFoundException':
      return new LambdaImageError('LAYER_NOT_FOUND', `layer ${layer.name} version ${layer.version} was not found in ${region}`, {
        hint: 'check the ARN (name, version, account) and that --region matches the ARN',
        cause: err,
      });
    case 'AccessDeniedException':
    case 'AccessDenied':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return new LambdaImageError('AWS_FAILED', `AWS denied GetLayerVersionByArn for ${layer.arn} (${name})`, {
        hint: 'use credentials allowed lambda:GetLayerVersion on this layer (--profile, AWS_PROFILE, or aws sso login)',
        cause: err,
      });
    case 'TooManyRequestsException':
    case 'ThrottlingException':
    case 'Throttling':
      return new LambdaImageError('AWS_FAILED', `AWS kept throttling GetLayerVersionByArn for ${layer.arn}, even after retries`, {
        hint: 'wait a minute and try again',
        cause: err,
      });
    case 'CredentialsProviderError':
      return new LambdaImageError('AWS_FAILED', 'no AWS credentials were found', {
        hint: 'configure credentials (aws configure, aws sso login, AWS_PROFILE or --profile), or use --from-zip',
        cause: err,
      });
    default:
      return new LambdaImageError('AWS_FAILED', `GetLayerVersionByArn failed for ${layer.arn}: ${name}${status ? ` (HTTP ${status})` : ''}${message ? `: ${message}` : ''}`, {
        hint: 'check your network and credentials, or add the layer from a zip with --from-zip',
        cause: err,
      });
  }
}
