// A local server on 127.0.0.1 that speaks Lambda's REST protocol for GetLayerVersionByArn
// (GET /2018-10-31/layers?find=LayerVersion&Arn=...) with AWS's error shapes, and serves the
// "presigned" download it hands out. The AWS SDK reaches it through AWS_ENDPOINT_URL_LAMBDA.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLayer {
  arn: string;
  zip: Buffer;
  architectures?: string[];
  /** Misbehaviours for failure tests. */
  announceSha256?: string;
  announceSize?: number;
  truncateAt?: number;
  /** Send this many bytes, then nothing more, keeping the connection open (a stalled download). */
  stallAt?: number;
  error?: { status: number; type: string; message: string };
}

export class FakeLambdaApi {
  private server = http.createServer((req, res) => this.handle(req, res));
  readonly layers = new Map<string, FakeLayer>();
  /** A credential-like secret in every download URL: tests assert it is never printed. */
  readonly signature = `SIG${randomBytes(12).toString('hex')}`;
  requests: string[] = [];
  throttleCount = 0;
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for the CLI: the SDK pointed here, dummy credentials, no real AWS config. */
  env(cacheDir: string): NodeJS.ProcessEnv {
    return {
      AWS_ENDPOINT_URL_LAMBDA: this.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-test',
      AWS_SESSION_TOKEN: '',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_MAX_ATTEMPTS: '3',
      LAMBDA_IMAGE_CACHE_DIR: cacheDir,
    };
  }

  add(layer: FakeLayer): void {
    this.layers.set(layer.arn, layer);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    this.requests.push(`${req.method} ${url.pathname}`);
    if (
      req.method === 'GET' &&
      url.pathname === '/2018-10-31/layers' &&
      url.searchParams.get('find') === 'LayerVersion'
    ) {
      const arn = url.searchParams.get('Arn') ?? '';
      if (this.throttleCount > 0) {
        this.throttleCount--;
        return this.error(res, 429, 'TooManyRequestsException', 'Rate exceeded');
      }
      if (!req.headers.authorization?.startsWith('AWS4-HMAC-SHA256'))
        return this.error(res, 403, 'UnrecognizedClientException', 'unsigned');
      const layer = this.layers.get(arn);
      if (!layer)
        return this.error(res, 404, 'ResourceNotFoundException', 'The resource you requested does not exist.');
      if (layer.error) return this.error(res, layer.error.status, layer.error.type, layer.error.message);
      const m = /:layer:([^:]+):(\d+)$/.exec(arn)!;
      const body = {
        Content: {
          Location: `${this.endpoint}/download/${encodeURIComponent(arn)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=${this.signature}`,
          CodeSha256: layer.announceSha256 ?? createHash('sha256').update(layer.zip).digest('base64'),
          CodeSize: layer.announceSize ?? layer.zip.length,
        },
        LayerArn: arn.replace(/:\d+$/, ''),
        LayerVersionArn: arn,
        Description: '',
        CreatedDate: '2026-11-01T00:00:00.000+0000',
        Version: Number(m[2]),
        CompatibleRuntimes: ['provided.al2023'],
        CompatibleArchitectures: layer.architectures ?? [],
      };
      res.writeHead(200, { 'Content-Type': 'application/json', 'x-amzn-RequestId': randomBytes(8).toString('hex') });
      res.end(JSON.stringify(body));
      return;
    }
    const dl = /^\/download\/(.+)$/.exec(url.pathname);
    if (req.method === 'GET' && dl) {
      const layer = this.layers.get(decodeURIComponent(dl[1]!));
      if (!layer || url.searchParams.get('X-Amz-Signature') !== this.signature) {
        res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
        return;
      }
      if (layer.stallAt !== undefined) {
        res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': String(layer.zip.length) });
        res.write(layer.zip.subarray(0, layer.stallAt));
        return;
      }
      if (layer.truncateAt !== undefined) {
        // Announce the whole length, send part, then cut the connection.
        res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': String(layer.zip.length) });
        res.write(layer.zip.subarray(0, layer.truncateAt), () => res.socket?.destroy());
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/zip', 'Content-Length': String(layer.zip.length) });
      res.end(layer.zip);
      return;
    }
    this.error(res, 404, 'UnknownOperationException', 'unknown operation');
  }

  private error(res: http.ServerResponse, status: number, type: string, message: string): void {
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazonaws.awslambda/`,
      'x-amzn-RequestId': 'req-1',
    });
    res.end(JSON.stringify({ Type: 'User', message }));
  }
}
