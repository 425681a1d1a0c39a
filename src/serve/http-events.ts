// HTTP requests as the events Lambda's HTTP fronts build from them: function URLs and API
// Gateway HTTP APIs (payload format 2.0), REST API proxy integrations (payload format 1.0).
// Pure: `start --http-port`, `invoke --http` and `events` all build their events here.

import { isUtf8 } from 'node:buffer';

export const HTTP_FRONTS = ['url', 'http-api', 'rest-api'] as const;
export type HttpFront = (typeof HTTP_FRONTS)[number];

/** One HTTP request as it arrived: raw header pairs in order, the raw target (path and query). */
export interface HttpRequestFacts {
  method: string;
  /** Path and query exactly as sent, e.g. `/a%20b/c?x=1&x=2`. */
  target: string;
  /** Header name/value pairs as they arrived (names in any case, repeats kept). */
  headers: Array<[string, string]>;
  body: Buffer;
  sourceIp: string;
  protocol: string;
  /** When the front received the request. */
  time: Date;
  /** The front's own request id (requestContext.requestId). */
  requestId: string;
  /** The port the front listens on (kept for callers; the event carries the real front's 443). */
  localPort?: number;
  /** The X-Amzn-Trace-Id the front gives the request (function URLs and HTTP APIs add one). */
  traceId?: string;
}

/** Who the front is: the ids and names that appear in the event's requestContext. */
export interface FrontIdentity {
  region: string;
  accountId: string;
  /** The URL id (function URLs) or the API id (API Gateway). */
  apiId: string;
  /** The REST API's stage (HTTP APIs use `$default`). */
  stage?: string;
  /** The front's domain (config url.domain); default the AWS-made one of the URL or API id. */
  domainName?: string;
  /** REST APIs: the API's binaryMediaTypes (config restApi.binaryMediaTypes); a new API has none. */
  binaryMediaTypes?: readonly string[];
}

/** The domain a front answers on: the configured one, else the name AWS gives the URL or API. */
export function frontDomain(front: HttpFront, id: FrontIdentity): string {
  if (id.domainName) return id.domainName;
  return front === 'url'
    ? `${id.apiId}.lambda-url.${id.region}.on.aws`
    : `${id.apiId}.execute-api.${id.region}.amazonaws.com`;
}

/**
 * Whether a media type (a Content-Type or one Accept entry, parameters ignored) is one of a
 * REST API's binaryMediaTypes: exact, a `type/` wildcard or the all-types one, case-insensitive, as API Gateway matches.
 */
export function isBinaryMediaType(mediaType: string | undefined, types: readonly string[] | undefined): boolean {
  if (!mediaType || !types?.length) return false;
  const t = mediaType.split(';')[0]!.trim().toLowerCase();
  const [major] = t.split('/');
  return types.some((b) => {
    const w = b.trim().toLowerCase();
    return w === t || w === '*/*' || w === `${major}/*`;
  });
}

/** The REST API stage a local run uses, as SAM's `start-api` does. */
export const REST_STAGE = 'Prod';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** API Gateway's and function URLs' request time: `12/Mar/2020:19:03:58 +0000`. */
export function clfTime(t: Date): string {
  return `${pad(t.getUTCDate())}/${MONTHS[t.getUTCMonth()]}/${t.getUTCFullYear()}:${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())} +0000`;
}

/**
 * Whether a body of this content type reaches the function as text. Function URLs and HTTP
 * APIs base64-encode everything else (a form post too), and a body without a content type.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    t.startsWith('text/') ||
    t === 'application/json' ||
    t === 'application/javascript' ||
    t === 'application/xml' ||
    t.endsWith('+json') ||
    t.endsWith('+xml')
  );
}

/**
 * The path and query of a request target. An absolute-form target (`GET http://host/a?b`, as
 * sent to a proxy) is its path and query; the asterisk form (`OPTIONS *`) and anything else
 * without a leading slash is the root, as the fronts, which only ever see origin-form paths.
 */
function splitTarget(raw: string): { rawPath: string; rawQueryString: string } {
  let target = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  if (!target.startsWith('/')) target = target.startsWith('?') ? `/${target}` : '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  return { rawPath: rawPath || '/', rawQueryString: q < 0 ? '' : target.slice(q + 1) };
}

const decode = (s: string) => {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
};

/** Query parameters in order, every value kept. */
function queryPairs(raw: string): Array<[string, string]> {
  if (!raw) return [];
  return raw
    .split('&')
    .filter(Boolean)
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? [decode(p), ''] : [decode(p.slice(0, eq)), decode(p.slice(eq + 1))];
    });
}

function group(pairs: Array<[string, string]>, key: (k: string) => string = (k) => k): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const [k, v] of pairs) {
    const name = key(k);
    const list = m.get(name);
    if (list) list.push(v);
    else m.set(name, [v]);
  }
  return m;
}

const joined = (m: Map<string, string[]>) => Object.fromEntries([...m].map(([k, v]) => [k, v.join(',')]));
const last = (m: Map<string, string[]>) => Object.fromEntries([...m].map(([k, v]) => [k, v[v.length - 1]!]));
const lists = (m: Map<string, string[]>) => Object.fromEntries(m);

function headerValue(req: HttpRequestFacts, name: string): string | undefined {
  const hit = req.headers.find(([k]) => k.toLowerCase() === name);
  return hit?.[1];
}

/** The decoded path without its leading slash: the `{proxy+}` path parameter. */
function proxyParameter(rawPath: string): string | undefined {
  const p = decode(rawPath.replace(/\+/g, '%2B')).replace(/^\//, '');
  return p ? p : undefined;
}

/** The TLS headers a function URL adds (its endpoint negotiates TLS 1.3 with a current client). */
const URL_TLS: Array<[string, string]> = [
  ['x-amzn-tls-cipher-suite', 'TLS_AES_128_GCM_SHA256'],
  ['x-amzn-tls-version', 'TLSv1.3'],
];

/** The event of a request to a function URL or an HTTP API route `ANY /{proxy+}` (payload format 2.0). */
function payload2(front: 'url' | 'http-api', req: HttpRequestFacts, id: FrontIdentity): Record<string, unknown> {
  const { rawPath, rawQueryString } = splitTarget(req.target);
  const domainName = frontDomain(front, id);
  // The front adds what the real one adds: its own host, HTTPS on 443, who asked, the trace id
  // and (function URLs) the TLS session's version and cipher suite; a client's own copies are replaced.
  const headerPairs = req.headers.filter(
    ([k]) => !/^(cookie|host|x-forwarded-(for|proto|port)|x-amzn-trace-id|x-amzn-tls-(version|cipher-suite))$/i.test(k),
  );
  headerPairs.push(['host', domainName]);
  if (front === 'url') headerPairs.push(...URL_TLS);
  if (req.traceId) headerPairs.push(['x-amzn-trace-id', req.traceId]);
  headerPairs.push(['x-forwarded-for', req.sourceIp], ['x-forwarded-port', '443'], ['x-forwarded-proto', 'https']);
  const cookies = req.headers
    .filter(([k]) => k.toLowerCase() === 'cookie')
    .flatMap(([, v]) => v.split(';'))
    .map((c) => c.trim())
    .filter(Boolean);
  const query = group(queryPairs(rawQueryString));
  // `/{proxy+}` needs at least one segment: API Gateway sends the root to the `$default` route.
  const proxy = front === 'http-api' ? proxyParameter(rawPath) : undefined;
  const routeKey = front === 'url' || !proxy ? '$default' : 'ANY /{proxy+}';
  // A text type whose bytes are not valid UTF-8 cannot be JSON text: it is base64, as Lambda sends it.
  const text = isTextContentType(headerValue(req, 'content-type')) && isUtf8(req.body);
  const event: Record<string, unknown> = { version: '2.0', routeKey, rawPath, rawQueryString };
  if (cookies.length) event.cookies = cookies;
  event.headers = joined(group(headerPairs, (k) => k.toLowerCase()));
  if (query.size) event.queryStringParameters = joined(query);
  event.requestContext = {
    accountId: front === 'url' ? 'anonymous' : id.accountId,
    apiId: id.apiId,
    domainName,
    domainPrefix: domainName.split('.')[0],
    http: {
      method: req.method,
      path: decode(rawPath.replace(/\+/g, '%2B')),
      protocol: req.protocol,
      sourceIp: req.sourceIp,
      userAgent: headerValue(req, 'user-agent') ?? '',
    },
    requestId: req.requestId,
    routeKey,
    stage: '$default',
    time: clfTime(req.time),
    timeEpoch: req.time.getTime(),
  };
  if (proxy) event.pathParameters = { proxy };
  if (req.body.length) event.body = text ? req.body.toString('utf8') : req.body.toString('base64');
  event.isBase64Encoded = req.body.length > 0 && !text;
  return event;
}

/** The event of a request to a REST API resource `/{proxy+}` with Lambda proxy integration (payload format 1.0). */
function payload1(req: HttpRequestFacts, id: FrontIdentity): Record<string, unknown> {
  const { rawPath, rawQueryString } = splitTarget(req.target);
  const stage = id.stage ?? REST_STAGE;
  const query = group(queryPairs(rawQueryString));
  const path = decode(rawPath.replace(/\+/g, '%2B'));
  const proxy = proxyParameter(rawPath);
  // The root is not `/{proxy+}` (it needs a segment): it is the API's root resource `/`.
  const resource = proxy ? '/{proxy+}' : '/';
  // What API Gateway adds on the way in (in its own header case); a client's own copies are replaced.
  const added: Array<[string, string]> = [['Host', frontDomain('rest-api', id)]];
  if (req.traceId) added.push(['X-Amzn-Trace-Id', req.traceId]);
  added.push(['X-Forwarded-For', req.sourceIp], ['X-Forwarded-Port', '443'], ['X-Forwarded-Proto', 'https']);
  const headers = group([
    ...req.headers.filter(([k]) => !/^(host|x-forwarded-(for|proto|port)|x-amzn-trace-id)$/i.test(k)),
    ...added,
  ]);
  // A body whose Content-Type is one of the API's binaryMediaTypes is base64; any other is UTF-8 text.
  const binary = isBinaryMediaType(headerValue(req, 'content-type'), id.binaryMediaTypes);
  return {
    resource,
    path,
    httpMethod: req.method,
    headers: headers.size ? last(headers) : null,
    multiValueHeaders: headers.size ? lists(headers) : null,
    queryStringParameters: query.size ? last(query) : null,
    multiValueQueryStringParameters: query.size ? lists(query) : null,
    requestContext: {
      accountId: id.accountId,
      apiId: id.apiId,
      domainName: frontDomain('rest-api', id),
      domainPrefix: frontDomain('rest-api', id).split('.')[0],
      extendedRequestId: req.requestId,
      httpMethod: req.method,
      identity: {
        accessKey: null,
        accountId: null,
        caller: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent: headerValue(req, 'user-agent') ?? null,
        userArn: null,
      },
      path: `/${stage}${path}`,
      protocol: req.protocol,
      requestId: req.requestId,
      requestTime: clfTime(req.time),
      requestTimeEpoch: req.time.getTime(),
      resourceId: id.apiId.slice(0, 6),
      resourcePath: resource,
      stage,
    },
    pathParameters: proxy ? { proxy } : null,
    stageVariables: null,
    body: req.body.length ? req.body.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: binary && req.body.length > 0,
  };
}

/** The event `front` builds for this request. */
export function buildHttpEvent(front: HttpFront, req: HttpRequestFacts, id: FrontIdentity): Record<string, unknown> {
  return front === 'rest-api' ? payload1(req, id) : payload2(front, req, id);
}

/**
 * `invoke --http 'GET /path?x=1'` with curl-like `-H 'Name: value'` and `-d body`: the request
 * a client would have sent. Throws a message naming the problem (the CLI makes it an error).
 */
export function parseHttpRequestLine(
  line: string,
  headerLines: string[],
  body: string | Buffer | undefined,
): { method: string; target: string; headers: Array<[string, string]>; body: Buffer } {
  const m = /^\s*([A-Za-z]+)\s+(\S+)\s*$/.exec(line);
  if (!m) throw new Error(`"${line}" is not METHOD /path (for example 'GET /items?limit=2')`);
  let target = m[2]!;
  if (/^https?:\/\//i.test(target)) {
    const u = new URL(target);
    target = u.pathname + u.search;
  }
  if (!target.startsWith('/')) throw new Error(`the path "${target}" must start with /`);
  if (/[\s\u0000-\u001f\u007f]/.test(target)) throw new Error('the path contains white space or control characters');
  const headers: Array<[string, string]> = headerLines.map((h) => {
    const colon = h.indexOf(':');
    const name = colon < 0 ? '' : h.slice(0, colon).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Error(`header "${h}" is not Name: value`);
    const value = h.slice(colon + 1).trim();
    if (/[\r\n\u0000]/.test(value)) throw new Error(`header "${name}" contains a line break`);
    return [name, value];
  });
  const method = m[1]!.toUpperCase();
  const data = body === undefined ? Buffer.alloc(0) : typeof body === 'string' ? Buffer.from(body) : body;
  // curl -d sends a form unless told otherwise; a client sends its own name and a host.
  const has = (n: string) => headers.some(([k]) => k.toLowerCase() === n);
  if (data.length && !has('content-type')) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  if (data.length && !has('content-length')) headers.push(['Content-Length', String(data.length)]);
  if (!has('user-agent')) headers.unshift(['User-Agent', 'lambda-image']);
  if (!has('accept')) headers.push(['Accept', '*/*']);
  return { method, target, headers, body: data };
}
