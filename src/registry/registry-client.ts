// A small Registry API v2 client: reads manifests and blobs with the registry's own auth
// handshake (a 401 with WWW-Authenticate: Basic, or Bearer realm/service/scope for a token).
// Redirects to blob storage are followed without our Authorization header, and no URL is
// ever put into a message (storage URLs are presigned).
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import type { RegistryCredentials } from './docker-credentials.js';
import { MANIFEST_ACCEPT } from './manifest.js';

const log = debug('registry');
const TIMEOUT_MS = 30_000;
const MAX_BODY = 16 << 20;

export interface RegistryResponse {
  status: number;
  body: Buffer;
  contentType?: string;
  digest?: string;
}

/** Loopback registries speak plain HTTP (dockerd treats 127.0.0.0/8 as insecure by default); others HTTPS. */
export function registryBaseUrl(host: string): string {
  const bare = host.replace(/:\d+$/, '');
  const loopback = bare === 'localhost' || /^127\./.test(bare) || bare === '[::1]';
  return `${loopback ? 'http' : 'https'}://${host}`;
}

/** Parses `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseWwwAuthenticate(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  const params: Record<string, string> = {};
  if (!m) return { scheme: '', params };
  for (const p of m[2]!.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) params[p[1]!.toLowerCase()] = p[2] ?? p[3] ?? '';
  return { scheme: m[1]!.toLowerCase(), params };
}

export class RegistryClient {
  private authorization?: string;
  private readonly base: string;

  constructor(
    readonly host: string,
    private readonly credentials: RegistryCredentials | undefined,
  ) {
    this.base = registryBaseUrl(host);
  }

  /** GET /v2/<name>/manifests/<reference>, asking for every manifest kind. */
  async getManifest(name: string, reference: string): Promise<RegistryResponse> {
    const res = await this.request('GET', `/v2/${name}/manifests/${reference}`, name, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) {
      throw new LambdaImageError('IMAGE_NOT_FOUND', `${this.host}/${name}:${reference} is not in the registry`, {
        hint: 'check the repository and tag (or push the image first)',
      });
    }
    this.expectOk(res, `reading the manifest of ${this.host}/${name}:${reference}`);
    return res;
  }

  /** GET /v2/<name>/blobs/<digest> (the image config, small). */
  async getBlob(name: string, digest: string): Promise<Buffer> {
    const res = await this.request('GET', `/v2/${name}/blobs/${digest}`, name, {});
    this.expectOk(res, `reading blob ${digest} of ${this.host}/${name}`);
    return res.body;
  }

  private expectOk(res: RegistryResponse, what: string): void {
    if (res.status >= 200 && res.status < 300) return;
    if (res.status === 401 || res.status === 403) {
      throw new LambdaImageError('REGISTRY_AUTH_FAILED', `${this.host} refused ${what} (HTTP ${res.status})`, {
        hint: this.credentials
          ? `the credentials from ${this.credentials.source} were not accepted: log in again`
          : `log in first: docker login ${this.host}`,
      });
    }
    throw new LambdaImageError('PUSH_FAILED', `${this.host} answered HTTP ${res.status} when ${what}`, {
      hint: 'check the registry, then try again',
    });
  }

  private async request(
    method: string,
    path: string,
    name: string,
    headers: Record<string, string>,
  ): Promise<RegistryResponse> {
    let res = await this.send(method, this.base + path, headers, this.authorization);
    if (res.status === 401 && res.challenge) {
      this.authorization = await this.authorize(res.challenge, name);
      res = await this.send(method, this.base + path, headers, this.authorization);
    }
    return res;
  }

  private async authorize(challenge: string, name: string): Promise<string> {
    const { scheme, params } = parseWwwAuthenticate(challenge);
    const basic = this.credentials
      ? 'Basic ' + Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')
      : undefined;
    if (scheme === 'basic') {
      if (!basic)
        throw new LambdaImageError('REGISTRY_AUTH_FAILED', `${this.host} needs a login`, {
          hint: `log in first: docker login ${this.host}`,
        });
      return basic;
    }
    if (scheme !== 'bearer' || !params.realm)
      throw new LambdaImageError(
        'REGISTRY_AUTH_FAILED',
        `${this.host} asked for an authentication scheme lambda-image does not speak (${scheme || 'none'})`,
      );
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${name}:pull`);
    log(`token from ${url.host} for ${this.host}`);
    const res = await this.send('GET', url.toString(), { Accept: 'application/json' }, basic);
    if (res.status !== 200) {
      throw new LambdaImageError(
        'REGISTRY_AUTH_FAILED',
        `the token service of ${this.host} refused (HTTP ${res.status})`,
        {
          hint: this.credentials
            ? `the credentials from ${this.credentials.source} were not accepted: log in again`
            : `log in first: docker login ${this.host}`,
        },
      );
    }
    const answer = JSON.parse(res.body.toString('utf8')) as { token?: string; access_token?: string };
    const token = answer.token ?? answer.access_token;
    if (!token)
      throw new LambdaImageError('REGISTRY_AUTH_FAILED', `the token service of ${this.host} answered without a token`);
    return `Bearer ${token}`;
  }

  /** One HTTP exchange; follows up to 5 redirects, dropping Authorization when the host changes. */
  private async send(
    method: string,
    url: string,
    headers: Record<string, string>,
    authorization?: string,
  ): Promise<RegistryResponse & { challenge?: string }> {
    let target = new URL(url);
    const origin = target.host;
    for (let hop = 0; hop < 6; hop++) {
      const h: Record<string, string> = { ...headers };
      if (authorization && target.host === origin) h.Authorization = authorization;
      let res: Response;
      try {
        res = await fetch(target, { method, headers: h, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
        throw new LambdaImageError('PUSH_FAILED', `cannot reach the registry ${origin} (${cause})`, {
          hint: 'check the registry address and your network',
          cause: err,
        });
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        target = new URL(res.headers.get('location')!, target);
        await res.arrayBuffer().catch(() => undefined);
        continue;
      }
      const body = Buffer.from(await res.arrayBuffer());
      if (body.length > MAX_BODY)
        throw new LambdaImageError(
          'PUSH_FAILED',
          `${origin} answered more than ${MAX_BODY} bytes for a manifest or config`,
        );
      return {
        status: res.status,
        body,
        contentType: res.headers.get('content-type') ?? undefined,
        digest: res.headers.get('docker-content-digest') ?? undefined,
        challenge: res.headers.get('www-authenticate') ?? undefined,
      };
    }
    throw new LambdaImageError('PUSH_FAILED', `${origin} redirected too many times`);
  }
}
