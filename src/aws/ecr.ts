// Amazon ECR through the AWS SDK v3: repositories (describe, create), registry login tokens,
// and what a tag currently points at. Every call maps AWS's failures to one clear error.
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { clientRegion, commonAwsError, ecrClient, otherAwsError, type AwsOptions } from './clients.js';

const log = debug('aws');

export interface EcrRepository {
  name: string;
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<name>`, as ECR reports it. */
  uri: string;
  immutableTags: boolean;
  region: string;
}

export interface EcrToken {
  username: string;
  /** A registry password valid for 12 hours: never print or log it. */
  password: string;
  /** The registry host, from proxyEndpoint. */
  host: string;
  expiresAt?: Date;
}

export interface CreateRepositoryOptions {
  immutableTags?: boolean;
  scanOnPush?: boolean;
}

type Ecr = Awaited<ReturnType<typeof ecrClient>>;

/** One ECR client for a run of related calls (close it with `destroy`). */
export class EcrApi {
  private constructor(
    private readonly ecr: Ecr,
    readonly region: string,
  ) {}

  static async open(opts: AwsOptions): Promise<EcrApi> {
    const ecr = await ecrClient(opts);
    return new EcrApi(ecr, await clientRegion(ecr.client));
  }

  destroy(): void {
    this.ecr.client.destroy();
  }

  /** The repository, or undefined when it does not exist. */
  async describeRepository(name: string): Promise<EcrRepository | undefined> {
    const { sdk, client } = this.ecr;
    log(`DescribeRepositories ${name} in ${this.region}`);
    try {
      const out = await client.send(new sdk.DescribeRepositoriesCommand({ repositoryNames: [name] }));
      const repo = out.repositories?.[0];
      if (!repo?.repositoryUri)
        throw new LambdaImageError('AWS_FAILED', `DescribeRepositories answered without a repositoryUri for ${name}`);
      return {
        name,
        uri: repo.repositoryUri,
        immutableTags: repo.imageTagMutability?.startsWith('IMMUTABLE') ?? false,
        region: this.region,
      };
    } catch (err) {
      if ((err as Error)?.name === 'RepositoryNotFoundException') return undefined;
      throw ecrError(err, `DescribeRepositories for ${name}`, 'ecr:DescribeRepositories');
    }
  }

  async createRepository(name: string, opts: CreateRepositoryOptions): Promise<EcrRepository> {
    const { sdk, client } = this.ecr;
    log(`CreateRepository ${name} in ${this.region}`);
    try {
      const out = await client.send(
        new sdk.CreateRepositoryCommand({
          repositoryName: name,
          imageTagMutability: opts.immutableTags ? 'IMMUTABLE' : 'MUTABLE',
          imageScanningConfiguration: { scanOnPush: opts.scanOnPush ?? false },
        }),
      );
      const uri = out.repository?.repositoryUri;
      if (!uri)
        throw new LambdaImageError('AWS_FAILED', `CreateRepository answered without a repositoryUri for ${name}`);
      return { name, uri, immutableTags: Boolean(opts.immutableTags), region: this.region };
    } catch (err) {
      if ((err as Error)?.name === 'RepositoryAlreadyExistsException') {
        const existing = await this.describeRepository(name);
        if (existing) return existing;
      }
      throw ecrError(err, `CreateRepository for ${name}`, 'ecr:CreateRepository');
    }
  }

  /** A registry login from GetAuthorizationToken (base64 "AWS:<password>"), for the host in proxyEndpoint. */
  async authorizationToken(): Promise<EcrToken> {
    const { sdk, client } = this.ecr;
    log(`GetAuthorizationToken in ${this.region}`);
    try {
      const out = await client.send(new sdk.GetAuthorizationTokenCommand({}));
      const data = out.authorizationData?.[0];
      if (!data?.authorizationToken || !data.proxyEndpoint)
        throw new LambdaImageError('AWS_FAILED', 'GetAuthorizationToken answered without a token');
      const decoded = Buffer.from(data.authorizationToken, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new LambdaImageError('AWS_FAILED', 'GetAuthorizationToken answered a malformed token');
      return {
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        host: hostOfEndpoint(data.proxyEndpoint),
        expiresAt: data.expiresAt,
      };
    } catch (err) {
      throw ecrError(err, 'GetAuthorizationToken', 'ecr:GetAuthorizationToken');
    }
  }

  /**
   * The login for a registry host that ECR named (a repositoryUri): refused unless the token's
   * own proxyEndpoint is that host, so a 12-hour password never goes to a host it was not made for.
   */
  async loginFor(host: string): Promise<EcrToken> {
    const token = await this.authorizationToken();
    if (token.host.toLowerCase() !== host.toLowerCase()) {
      throw new LambdaImageError(
        'REGISTRY_AUTH_FAILED',
        `the ECR login is for ${token.host} (its proxyEndpoint), not ${host}: refusing to send it there`,
        {
          hint: `check --region and AWS_ENDPOINT_URL_ECR / your AWS profile's endpoints: ${host} is not this registry's ECR endpoint`,
        },
      );
    }
    return token;
  }

  /** The digest a tag points at in the repository, or undefined when the tag is not there. */
  async tagDigest(repository: string, tag: string): Promise<string | undefined> {
    const { sdk, client } = this.ecr;
    try {
      const out = await client.send(
        new sdk.DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
      );
      return out.imageDetails?.[0]?.imageDigest;
    } catch (err) {
      if ((err as Error)?.name === 'ImageNotFoundException') return undefined;
      throw ecrError(err, `DescribeImages for ${repository}:${tag}`, 'ecr:DescribeImages');
    }
  }
}

function ecrError(err: unknown, action: string, permission: string): LambdaImageError {
  return (
    commonAwsError(err, action, permission) ??
    otherAwsError(err, action, 'check the repository name, --region and your network')
  );
}

/** The registry host of an ECR answer's proxyEndpoint (`https://<host>`): taken from AWS, never built. */
export function hostOfEndpoint(endpoint: string): string {
  return endpoint.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
}
