// ECR and Lambda control planes of the tests' own making, on 127.0.0.1, speaking the same
// protocols as AWS (ECR: JSON 1.1 with X-Amz-Target; Lambda: REST under /2015-03-31), so the
// REAL AWS SDK clients (and the AWS CLI) reach them through AWS_ENDPOINT_URL_ECR /
// AWS_ENDPOINT_URL_LAMBDA. ECR's repositoryUri and proxyEndpoint point at a real local
// registry; what ECR says about images is read from that registry. Faults are injectable.
// Plain ES module (no TypeScript) so that bench/ship.mjs shares it with the tests.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
export const ACCOUNT = '123456789012';
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');
class FakeServer {
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      this.handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((err) => {
        res.writeHead(500).end(String(err));
      });
    });
  });
  port = 0;
  /** One entry per request: the operation, in order. */
  requests = [];
  async start() {
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    return this;
  }
  get endpoint() {
    return `http://127.0.0.1:${this.port}`;
  }
  async close() {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
  signed(req) {
    return Boolean(req.headers.authorization?.startsWith('AWS4-HMAC-SHA256'));
  }
}
export class FakeEcr extends FakeServer {
  registry;
  region;
  repositories = new Map();
  /** ThrottlingException for the next N calls of an operation. */
  throttle = {};
  /** The password GetAuthorizationToken hands out; set it to a stale one to fake an expired token. */
  password;
  /** The host repositoryUri names (default: the registry's, as proxyEndpoint); set it to fake a hostile answer. */
  repositoryHost;
  constructor(registry, region = 'eu-west-1') {
    super();
    this.registry = registry;
    this.region = region;
    this.password = registry.users[0]?.password ?? '';
  }
  async handle(req, body, res) {
    const target = String(req.headers['x-amz-target'] ?? '');
    const op = target.replace(/^AmazonEC2ContainerRegistry_V20150921\./, '');
    this.requests.push(op);
    const input = body ? JSON.parse(body) : {};
    if (req.method !== 'POST' || !target.startsWith('AmazonEC2ContainerRegistry_V20150921.'))
      return this.error(res, 'UnknownOperationException', 'unknown operation');
    if (!this.signed(req))
      return this.error(res, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if ((this.throttle[op] ?? 0) > 0) {
      this.throttle[op]--;
      return this.error(res, 'ThrottlingException', 'Rate exceeded');
    }
    switch (op) {
      case 'DescribeRepositories': {
        const names = input.repositoryNames ?? [...this.repositories.keys()];
        const missing = names.find((n) => !this.repositories.has(n));
        if (missing)
          return this.error(
            res,
            'RepositoryNotFoundException',
            `The repository with name '${missing}' does not exist in the registry with id '${ACCOUNT}'`,
          );
        return this.ok(res, { repositories: names.map((n) => this.describe(n)) });
      }
      case 'CreateRepository': {
        const name = String(input.repositoryName);
        if (this.repositories.has(name))
          return this.error(
            res,
            'RepositoryAlreadyExistsException',
            `The repository with name '${name}' already exists in the registry with id '${ACCOUNT}'`,
          );
        const scan = input.imageScanningConfiguration?.scanOnPush ?? false;
        this.repositories.set(name, { immutable: input.imageTagMutability === 'IMMUTABLE', scanOnPush: scan });
        return this.ok(res, { repository: this.describe(name) });
      }
      case 'GetAuthorizationToken':
        return this.ok(res, {
          authorizationData: [
            {
              authorizationToken: Buffer.from(`AWS:${this.password}`).toString('base64'),
              expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
              proxyEndpoint: `http://${this.registry.host}`,
            },
          ],
        });
      case 'DescribeImages': {
        const name = String(input.repositoryName);
        if (!this.repositories.has(name))
          return this.error(
            res,
            'RepositoryNotFoundException',
            `The repository with name '${name}' does not exist in the registry with id '${ACCOUNT}'`,
          );
        const tag = input.imageIds?.[0]?.imageTag ?? 'latest';
        const m = await this.registry.getManifest(name, tag, MANIFEST_ACCEPT);
        if (m.status !== 200)
          return this.error(
            res,
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'null', imageTag:'${tag}'} does not exist within the repository with name '${name}' in the registry with id '${ACCOUNT}'`,
          );
        return this.ok(res, {
          imageDetails: [
            {
              registryId: ACCOUNT,
              repositoryName: name,
              imageDigest: m.digest,
              imageTags: [tag],
              imageSizeInBytes: m.body.length,
              imagePushedAt: Math.floor(Date.now() / 1000),
              imageManifestMediaType: m.contentType,
            },
          ],
        });
      }
      default:
        return this.error(res, 'UnknownOperationException', `${op} is not faked`);
    }
  }
  describe(name) {
    const r = this.repositories.get(name);
    return {
      repositoryArn: `arn:aws:ecr:${this.region}:${ACCOUNT}:repository/${name}`,
      registryId: ACCOUNT,
      repositoryName: name,
      repositoryUri: `${this.repositoryHost ?? this.registry.host}/${name}`,
      createdAt: 1_780_000_000,
      imageTagMutability: r.immutable ? 'IMMUTABLE' : 'MUTABLE',
      imageScanningConfiguration: { scanOnPush: r.scanOnPush },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }
  ok(res, body) {
    res.writeHead(200, {
      'Content-Type': 'application/x-amz-json-1.1',
      'x-amzn-RequestId': randomBytes(8).toString('hex'),
    });
    res.end(JSON.stringify(body));
  }
  error(res, type, message) {
    res.writeHead(400, {
      'Content-Type': 'application/x-amz-json-1.1',
      'x-amzn-RequestId': randomBytes(8).toString('hex'),
    });
    res.end(JSON.stringify({ __type: type, message }));
  }
}
export class FakeLambda extends FakeServer {
  registry;
  region;
  functions = new Map();
  /** ResourceConflictException for the next N code updates (an update in progress). */
  conflicts = 0;
  /** TooManyRequestsException for the next N requests. */
  throttle = 0;
  /** GetFunction polls a create or update stays Pending / InProgress. */
  polls = 1;
  /** The next code update ends Failed with this reason. */
  failNextUpdate;
  /** The next code update of the named function ends Failed with the reason given (then the entry is gone). */
  failUpdateOf = new Map();
  /**
   * An image URI another deployment puts in place just before the next PublishVersion lands (a
   * concurrent deploy between this one's check and its publish).
   */
  raceBeforePublish;
  constructor(registry, region = 'eu-west-1') {
    super();
    this.registry = registry;
    this.region = region;
  }
  async handle(req, body, res) {
    const url = new URL(req.url ?? '/', this.endpoint);
    const p = decodeURIComponent(url.pathname);
    const input = body ? JSON.parse(body) : {};
    const route = (method, re) => (req.method === method ? re.exec(p) : null);
    if (!this.signed(req))
      return this.error(
        res,
        403,
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      );
    if (this.throttle > 0) {
      this.throttle--;
      this.requests.push('Throttled');
      return this.error(res, 429, 'TooManyRequestsException', 'Rate exceeded');
    }
    let m;
    if (
      (m = route('GET', /^\/2015-03-31\/functions\/([^/]+)$/)) ||
      (m = route('GET', /^\/2015-03-31\/functions\/([^/]+)\/configuration$/))
    ) {
      const configOnly = p.endsWith('/configuration');
      this.requests.push(configOnly ? 'GetFunctionConfiguration' : 'GetFunction');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      this.settle(fn);
      return this.ok(
        res,
        200,
        configOnly
          ? this.configuration(fn)
          : {
              Configuration: this.configuration(fn),
              Code: { RepositoryType: 'ECR', ImageUri: fn.imageUri, ResolvedImageUri: fn.resolvedImageUri },
            },
      );
    }
    if (route('POST', /^\/2015-03-31\/functions\/?$/)) {
      this.requests.push('CreateFunction');
      const name = String(input.FunctionName);
      if (this.functions.has(name))
        return this.error(res, 409, 'ResourceConflictException', `Function already exist: ${name}`);
      if (input.PackageType !== 'Image' || input.Runtime || input.Handler || input.Layers)
        return this.error(
          res,
          400,
          'InvalidParameterValueException',
          'An image function takes PackageType Image and no Runtime, Handler or Layers',
        );
      if (!input.Role) return this.error(res, 400, 'InvalidParameterValueException', 'Role is required');
      const resolved = await this.resolve(String(input.Code?.ImageUri ?? ''));
      if ('error' in resolved) return this.error(res, 400, 'InvalidParameterValueException', resolved.error);
      const fn = {
        name,
        role: input.Role,
        imageUri: input.Code.ImageUri,
        resolvedImageUri: resolved.uri,
        architectures: input.Architectures ?? ['x86_64'],
        memorySize: input.MemorySize ?? 128,
        ephemeralStorage: input.EphemeralStorage?.Size ?? 512,
        timeout: input.Timeout ?? 3,
        environment: input.Environment?.Variables,
        tenancy: input.TenancyConfig,
        logging: input.LoggingConfig,
        state: 'Pending',
        lastUpdateStatus: 'InProgress',
        revisionId: newRevision(),
        pollsLeft: this.polls,
        outcome: { status: 'Successful' },
        versions: [],
        aliases: new Map(),
      };
      this.functions.set(name, fn);
      return this.ok(res, 201, this.configuration(fn));
    }
    if ((m = route('PUT', /^\/2015-03-31\/functions\/([^/]+)\/code$/))) {
      this.requests.push('UpdateFunctionCode');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      if (this.conflicts > 0) {
        this.conflicts--;
        return this.error(
          res,
          409,
          'ResourceConflictException',
          `The operation cannot be performed at this time. An update is in progress for resource: ${this.arn(fn.name)}`,
        );
      }
      const resolved = await this.resolve(String(input.ImageUri ?? ''));
      if ('error' in resolved) return this.error(res, 400, 'InvalidParameterValueException', resolved.error);
      fn.imageUri = input.ImageUri;
      fn.architectures = input.Architectures ?? fn.architectures;
      if (this.failUpdateOf.has(fn.name)) {
        this.failNextUpdate = this.failUpdateOf.get(fn.name);
        this.failUpdateOf.delete(fn.name);
      }
      this.startUpdate(fn, () => {
        fn.resolvedImageUri = resolved.uri;
      });
      return this.ok(res, 200, this.configuration(fn));
    }
    if ((m = route('PUT', /^\/2015-03-31\/functions\/([^/]+)\/configuration$/))) {
      this.requests.push('UpdateFunctionConfiguration');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      // Lambda's 4 KB limit on the environment, refused in Lambda's words (which quote every value).
      const measured = JSON.stringify(input.Environment?.Variables ?? {});
      if (Buffer.byteLength(measured) > 4096)
        return this.error(
          res,
          400,
          'InvalidParameterValueException',
          `Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
        );
      if (input.MemorySize) fn.memorySize = input.MemorySize;
      if (input.EphemeralStorage?.Size) fn.ephemeralStorage = input.EphemeralStorage.Size;
      if (input.Timeout) fn.timeout = input.Timeout;
      if (input.Environment) fn.environment = input.Environment.Variables ?? {};
      if (input.LoggingConfig) fn.logging = { ...fn.logging, ...input.LoggingConfig };
      this.startUpdate(fn);
      return this.ok(res, 200, this.configuration(fn));
    }
    if ((m = route('POST', /^\/2015-03-31\/functions\/([^/]+)\/versions$/))) {
      this.requests.push('PublishVersion');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      if (this.raceBeforePublish) {
        const resolved = await this.resolve(this.raceBeforePublish);
        this.raceBeforePublish = undefined;
        if ('error' in resolved) return this.error(res, 400, 'InvalidParameterValueException', resolved.error);
        fn.imageUri = fn.resolvedImageUri = resolved.uri;
        fn.revisionId = newRevision();
      }
      // Lambda's pins: the revision and the code the caller saw, else 412 and nothing published.
      if (input.RevisionId !== undefined && input.RevisionId !== fn.revisionId)
        return this.error(
          res,
          412,
          'PreconditionFailedException',
          'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        );
      if (input.CodeSha256 !== undefined && input.CodeSha256 !== codeSha256(fn))
        return this.error(
          res,
          412,
          'PreconditionFailedException',
          `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${codeSha256(fn)}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      fn.versions.push(fn.resolvedImageUri);
      return this.ok(res, 201, {
        ...this.configuration(fn),
        Version: String(fn.versions.length),
        FunctionArn: `${this.arn(fn.name)}:${fn.versions.length}`,
      });
    }
    if ((m = route('GET', /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/))) {
      this.requests.push('GetAlias');
      const fn = this.functions.get(m[1]);
      const version = fn?.aliases.get(m[2]);
      if (!fn || !version) return this.error(res, 404, 'ResourceNotFoundException', `Alias not found: ${m[2]}`);
      return this.ok(res, 200, { AliasArn: `${this.arn(fn.name)}:${m[2]}`, Name: m[2], FunctionVersion: version });
    }
    if (
      (m = route('POST', /^\/2015-03-31\/functions\/([^/]+)\/aliases$/)) ||
      (m = route('PUT', /^\/2015-03-31\/functions\/([^/]+)\/aliases\/([^/]+)$/))
    ) {
      const create = req.method === 'POST';
      this.requests.push(create ? 'CreateAlias' : 'UpdateAlias');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      const name = create ? String(input.Name) : m[2];
      if (!fn.versions[Number(input.FunctionVersion) - 1])
        return this.error(
          res,
          400,
          'InvalidParameterValueException',
          `Version ${input.FunctionVersion} does not exist`,
        );
      fn.aliases.set(name, String(input.FunctionVersion));
      return this.ok(res, create ? 201 : 200, {
        AliasArn: `${this.arn(fn.name)}:${name}`,
        Name: name,
        FunctionVersion: String(input.FunctionVersion),
      });
    }
    if ((m = route('GET', /^\/2021-10-31\/functions\/([^/]+)\/url$/))) {
      this.requests.push('GetFunctionUrlConfig');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      if (!fn.url)
        return this.error(res, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
      return this.ok(res, 200, this.urlConfig(fn));
    }
    if (
      (m = route('POST', /^\/2021-10-31\/functions\/([^/]+)\/url$/)) ||
      (m = route('PUT', /^\/2021-10-31\/functions\/([^/]+)\/url$/))
    ) {
      const create = req.method === 'POST';
      this.requests.push(create ? 'CreateFunctionUrlConfig' : 'UpdateFunctionUrlConfig');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      if (create && fn.url)
        return this.error(
          res,
          409,
          'ResourceConflictException',
          `Failed to create function url config for [functionArn = ${this.arn(fn.name)}]. Error message:  FunctionUrlConfig exists for this Lambda function`,
        );
      if (!create && !fn.url)
        return this.error(res, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
      if (create && !['NONE', 'AWS_IAM'].includes(input.AuthType))
        return this.error(
          res,
          400,
          'ValidationException',
          `1 validation error detected: Value '${input.AuthType}' at 'authType' failed to satisfy constraint`,
        );
      if (input.InvokeMode && !['BUFFERED', 'RESPONSE_STREAM'].includes(input.InvokeMode))
        return this.error(
          res,
          400,
          'ValidationException',
          `Value '${input.InvokeMode}' at 'invokeMode' failed to satisfy constraint`,
        );
      const id = randomBytes(16).toString('hex');
      fn.url = {
        url: fn.url?.url ?? `https://${id}.lambda-url.${this.region}.on.aws/`,
        authType: input.AuthType ?? fn.url.authType,
        invokeMode: input.InvokeMode ?? fn.url?.invokeMode ?? 'BUFFERED',
        cors: input.Cors ?? fn.url?.cors,
      };
      return this.ok(res, create ? 201 : 200, this.urlConfig(fn));
    }
    if ((m = route('GET', /^\/2015-03-31\/functions\/([^/]+)\/policy$/))) {
      this.requests.push('GetPolicy');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      if (!fn.policy?.length)
        return this.error(res, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
      return this.ok(res, 200, {
        Policy: JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: fn.policy }),
        RevisionId: randomBytes(8).toString('hex'),
      });
    }
    if ((m = route('POST', /^\/2015-03-31\/functions\/([^/]+)\/policy$/))) {
      this.requests.push('AddPermission');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      fn.policy ??= [];
      if (fn.policy.some((st) => st.Sid === input.StatementId))
        return this.error(
          res,
          409,
          'ResourceConflictException',
          `The statement id (${input.StatementId}) provided already exists. Please provide a new statement id, or remove the existing statement.`,
        );
      // As Lambda: FunctionUrlAuthType goes with lambda:InvokeFunctionUrl, InvokedViaFunctionUrl with lambda:InvokeFunction.
      if (input.FunctionUrlAuthType && input.Action !== 'lambda:InvokeFunctionUrl')
        return this.error(
          res,
          400,
          'InvalidParameterValueException',
          'FunctionUrlAuthType is only supported for lambda:InvokeFunctionUrl',
        );
      if (input.InvokedViaFunctionUrl && input.Action !== 'lambda:InvokeFunction')
        return this.error(
          res,
          400,
          'InvalidParameterValueException',
          'InvokedViaFunctionUrl is only supported for lambda:InvokeFunction',
        );
      const condition = input.FunctionUrlAuthType
        ? { StringEquals: { 'lambda:FunctionUrlAuthType': input.FunctionUrlAuthType } }
        : input.InvokedViaFunctionUrl
          ? { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } }
          : undefined;
      const statement = {
        Sid: input.StatementId,
        Effect: 'Allow',
        Principal: input.Principal === '*' ? '*' : { Service: input.Principal },
        Action: input.Action,
        Resource: this.arn(fn.name),
        ...(condition ? { Condition: condition } : {}),
      };
      fn.policy.push(statement);
      return this.ok(res, 201, { Statement: JSON.stringify(statement) });
    }
    if ((m = route('DELETE', /^\/2015-03-31\/functions\/([^/]+)\/policy\/([^/]+)$/))) {
      this.requests.push('RemovePermission');
      const fn = this.functions.get(m[1]);
      if (!fn) return this.notFound(res, m[1]);
      const before = fn.policy?.length ?? 0;
      fn.policy = (fn.policy ?? []).filter((st) => st.Sid !== m[2]);
      if (fn.policy.length === before)
        return this.error(res, 404, 'ResourceNotFoundException', `Statement ${m[2]} is not found in resource policy.`);
      res.writeHead(204, { 'x-amzn-RequestId': randomBytes(8).toString('hex') });
      return res.end();
    }
    this.requests.push(`${req.method} ${p}`);
    return this.error(res, 404, 'UnknownOperationException', 'unknown operation');
  }
  startUpdate(fn, onSuccess) {
    fn.revisionId = newRevision();
    fn.lastUpdateStatus = 'InProgress';
    fn.reason = undefined;
    fn.pollsLeft = this.polls;
    if (this.failNextUpdate) {
      fn.outcome = { status: 'Failed', reason: this.failNextUpdate };
      this.failNextUpdate = undefined;
    } else {
      fn.outcome = { status: 'Successful' };
      onSuccess?.();
    }
  }
  /** A GetFunction poll: Pending / InProgress settles after `polls` polls (counted, never timed). */
  settle(fn) {
    if (fn.state === 'Active' && fn.lastUpdateStatus !== 'InProgress') return;
    if (fn.pollsLeft > 0) {
      fn.pollsLeft--;
      return;
    }
    fn.state = 'Active';
    fn.lastUpdateStatus = fn.outcome?.status ?? 'Successful';
    fn.reason = fn.outcome?.reason;
  }
  /** Lambda resolves a tag to a digest when it takes the image; a missing image is refused. */
  async resolve(uri) {
    const m = /^([^/]+)\/(.+?)(?::([\w][\w.-]*))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(uri);
    if (!m || m[1] !== this.registry.host)
      return { error: `Source image ${uri} is not valid. Provide a valid source image.` };
    const got = await this.registry.getManifest(m[2], m[4] ?? m[3] ?? 'latest', MANIFEST_ACCEPT);
    if (got.status !== 200) return { error: `Source image ${uri} does not exist. Provide a valid source image.` };
    if (/index|list/.test(got.contentType ?? ''))
      return { error: `The image manifest, config or layer media type for the source image ${uri} is not supported.` };
    return { uri: `${m[1]}/${m[2]}@${got.digest}` };
  }
  arn(name) {
    return `arn:aws:lambda:${this.region}:${ACCOUNT}:function:${name}`;
  }
  urlConfig(fn) {
    return {
      FunctionUrl: fn.url.url,
      FunctionArn: this.arn(fn.name),
      AuthType: fn.url.authType,
      InvokeMode: fn.url.invokeMode,
      ...(fn.url.cors ? { Cors: fn.url.cors } : {}),
      CreationTime: '2026-01-01T00:00:00.000+0000',
      LastModifiedTime: '2026-01-01T00:00:00.000+0000',
    };
  }
  configuration(fn) {
    return {
      FunctionName: fn.name,
      FunctionArn: this.arn(fn.name),
      Role: fn.role,
      CodeSize: 0,
      CodeSha256: codeSha256(fn),
      RevisionId: fn.revisionId,
      MemorySize: fn.memorySize,
      EphemeralStorage: { Size: fn.ephemeralStorage ?? 512 },
      Timeout: fn.timeout,
      ...(fn.environment ? { Environment: { Variables: fn.environment } } : {}),
      ...(fn.tenancy ? { TenancyConfig: fn.tenancy } : {}),
      LoggingConfig: loggingConfig(fn),
      PackageType: 'Image',
      Architectures: fn.architectures,
      State: fn.state,
      ...(fn.state === 'Pending' ? { StateReason: 'The function is being created.', StateReasonCode: 'Creating' } : {}),
      LastUpdateStatus: fn.lastUpdateStatus,
      ...(fn.reason ? { LastUpdateStatusReason: fn.reason, LastUpdateStatusReasonCode: 'ImageAccessDenied' } : {}),
      Version: '$LATEST',
    };
  }
  notFound(res, name) {
    this.error(res, 404, 'ResourceNotFoundException', `Function not found: ${this.arn(name)}`);
  }
  ok(res, status, body) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-RequestId': randomBytes(8).toString('hex') });
    res.end(JSON.stringify(body));
  }
  error(res, status, type, message) {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'x-amzn-ErrorType': type,
      'x-amzn-RequestId': randomBytes(8).toString('hex'),
    });
    res.end(JSON.stringify({ Type: 'User', message }));
  }
}
/** An image function's CodeSha256 is its image digest, hex only. */
function codeSha256(fn) {
  return /@sha256:([a-f0-9]{64})$/.exec(fn.resolvedImageUri ?? '')?.[1] ?? '';
}
/** LoggingConfig as Lambda reports it: Text by default; with JSON, both levels default to INFO. */
function loggingConfig(fn) {
  const format = fn.logging?.LogFormat ?? 'Text';
  return {
    LogFormat: format,
    ...(format === 'JSON'
      ? {
          ApplicationLogLevel: fn.logging?.ApplicationLogLevel ?? 'INFO',
          SystemLogLevel: fn.logging?.SystemLogLevel ?? 'INFO',
        }
      : {}),
    LogGroup: `/aws/lambda/${fn.name}`,
  };
}

function newRevision() {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
/** Environment for the CLI (and the AWS CLI): the SDK pointed at the fakes, dummy credentials, no real AWS config. */
export function fakeAwsEnv(ecr, lambda) {
  return {
    AWS_ENDPOINT_URL_ECR: ecr.endpoint,
    AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'secret-test',
    AWS_SESSION_TOKEN: '',
    AWS_REGION: ecr.region,
    AWS_DEFAULT_REGION: ecr.region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_MAX_ATTEMPTS: '3',
    LAMBDA_IMAGE_RETRY_DELAY_MS: '50',
  };
}
