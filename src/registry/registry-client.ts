// A small Registry API v2 client: reads manifests and blobs with the registry's own auth
// handshake (a 401 with WWW-Authenticate: Basic, or Bearer realm/service/scope for a token).
// Redirects to blob storage are followed without our Authorization header, and no URL is
// ever put into a message (storage URLs are presigned).
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import { readResponseCapped } from '../util/http-body.js';
import type { RegistryCredentials } from './docker-credentials.js';
import { MANIFEST_ACCEPT } from './manifest.js';

const log = debug('registry');
/** One exchange, answer body included: a registry that stalls after its headers is cut off here. */
const TIMEOUT_MS = 30_000;
/** The most a manifest, config or token answer may hold. */
export const MAX_REGISTRY_BODY = 16 << 20;

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

/** `host/name:tag`, or `host/name@sha256:...` for a digest. */
export function referenceText(host: string, name: string, reference: string): string {
  return `${host}/${name}${/^[a-z0-9]+:/.test(reference) ? '@' : ':'}${reference}`;
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

  private readonly timeoutMs: number;

  constructor(
    readonly host: string,
    private readonly credentials: RegistryCredentials | undefined,
    opts: { timeoutMs?: number; baseUrl?: string } = {},
  ) {
    this.base = opts.baseUrl ?? registryBaseUrl(host);
    this.timeoutMs = opts.timeoutMs ?? TIMEOUT_MS;
  }

  /** GET /v2/<name>/manifests/<reference>, asking for every manifest kind. */
  async getManifest(name: string, reference: string): Promise<RegistryResponse> {
    const res = await this.request('GET', `/v2/${name}/manifests/${reference}`, name, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) {
      throw new LambdaImageError(
        'IMAGE_NOT_FOUND',
        `${referenceText(this.host, name, reference)} is not in the registry`,
        {
          hint: 'check the repository and tag (or push the image first)',
        },
      );
    }
    this.expectOk(res, `reading the manifest of ${referenceText(this.host, name, reference)}`);
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
    let url: URL;
    try {
      url = new URL(params.realm);
    } catch {
      throw new LambdaImageError('REGISTRY_AUTH_FAILED', `${this.host} named a token service that is not a URL`, {
        hint: "check the registry's auth configuration (its WWW-Authenticate realm)",
      });
    }
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
    let answer: unknown;
    try {
      answer = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new LambdaImageError(
        'REGISTRY_AUTH_FAILED',
        `the token service of ${this.host} answered something that is not JSON`,
        { hint: "check the registry's auth configuration (its WWW-Authenticate realm), then try again" },
      );
    }
    const fields = (answer && typeof answer === 'object' ? answer : {}) as { token?: unknown; access_token?: unknown };
    const token = typeof fields.token === 'string' ? fields.token : fields.access_token;
    if (typeof token !== 'string' || !token)
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
        res = await fetch(target, {
          method,
          headers: h,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (err) {
        const cause =
          (err as Error).name === 'TimeoutError'
            ? `no answer within ${this.timeoutMs / 1000} s`
            : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name);
        throw new LambdaImageError('PUSH_FAILED', `cannot reach the registry ${origin} (${cause})`, {
          hint: 'check the registry address and your network',
          cause: err,
        });
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        target = new URL(res.headers.get('location')!, target);
        await res.body?.cancel().catch(() => undefined);
        continue;
      }
      let body: Buffer | undefined;
      try {
        body = await readResponseCapped(res, MAX_REGISTRY_BODY);
      } catch (err) {
        // Headers came, then the body stalled (cut by the deadline) or broke off.
        const why =
          (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
            ? `nothing more within ${this.timeoutMs / 1000} s`
            : ((err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message);
        throw new LambdaImageError('PUSH_FAILED', `${target.host} stopped sending its answer (${why})`, {
          hint: 'check the registry (or the proxy in front of it), then try again',
          cause: err,
        });
      }
      if (body === undefined)
        throw new LambdaImageError(
          'PUSH_FAILED',
          `${target.host} answered more than ${MAX_REGISTRY_BODY} bytes for a manifest, config or token`,
          { hint: 'check that the registry address is a container registry' },
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
