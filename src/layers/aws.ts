// GetLayerVersionByArn through the AWS SDK v3, in the ARN's region, with the SDK's standard
// credential chain and endpoint overrides (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA).
import { commonAwsError, lambdaClient, otherAwsError, type AwsOptions } from '../aws/clients.js';
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

export type { AwsOptions };

export async function getLayerVersion(layer: LayerArn, opts: AwsOptions = {}): Promise<LayerVersion> {
  const region = opts.region ?? layer.region;
  const { sdk, client } = await lambdaClient({ ...opts, region });
  const { GetLayerVersionByArnCommand } = sdk;
  log(`GetLayerVersionByArn ${layer.arn} in ${region}`);
  try {
    const out = await client.send(new GetLayerVersionByArnCommand({ Arn: layer.arn }));
    const content = out.Content;
    if (!content?.Location || !content.CodeSha256 || content.CodeSize === undefined) {
      throw new LambdaImageError(
        'AWS_FAILED',
        `GetLayerVersionByArn answered without the layer's content for ${layer.arn}`,
        {
          hint: 'check that the ARN names a layer version, not a function',
        },
      );
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
  // The SDK's messages never carry the presigned URL (it only comes back on success).
  if ((err as { name?: string })?.name === 'ResourceNotFoundException') {
    return new LambdaImageError(
      'LAYER_NOT_FOUND',
      `layer ${layer.name} version ${layer.version} was not found in ${region}`,
      {
        hint: 'check the ARN (name, version, account) and that --region matches the ARN',
        cause: err,
      },
    );
  }
  const common = commonAwsError(err, `GetLayerVersionByArn for ${layer.arn}`, 'lambda:GetLayerVersion on this layer');
  if (common) {
    if (common.message === 'no AWS credentials were found') {
      return new LambdaImageError('AWS_FAILED', common.message, {
        hint: 'configure credentials (aws configure, aws sso login, AWS_PROFILE or --profile), or use --from-zip',
        cause: err,
      });
    }
    return common;
  }
  return otherAwsError(
    err,
    `GetLayerVersionByArn for ${layer.arn}`,
    'check your network and credentials, or add the layer from a zip with --from-zip',
  );
}
