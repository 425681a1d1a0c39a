// The function's answer as each HTTP front turns it into a response: payload 2.0 (function
// URLs, HTTP APIs, with the inference for plain JSON), payload 1.0 (REST APIs), the error
// responses of each front, function URL CORS, and the streaming integration prelude. Pure.
import { type HttpFront, isBinaryMediaType } from './http-events.js';

export interface HttpAnswer {
  status: number;
  /** Header pairs in order (Set-Cookie may repeat). */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Why the front answers with its failure response (a line for the log), when it does. */
  problem?: string;
}

const json = (status: number, value: unknown): HttpAnswer => ({
  status,
  headers: [['Content-Type', 'application/json']],
  body: Buffer.from(JSON.stringify(value)),
});

/**
 * What each front answers when the function failed (an error, a timeout, a crash) or its answer
 * cannot be mapped: function URLs 502, HTTP APIs 500 and REST APIs 502, with their bodies.
 */
export function frontFailure(front: HttpFront, problem?: string): HttpAnswer {
  const a: HttpAnswer =
    front === 'http-api'
      ? json(500, { message: 'Internal Server Error' })
      : front === 'rest-api'
        ? json(502, { message: 'Internal server error' })
        : { status: 502, headers: [['Content-Type', 'text/plain']], body: Buffer.from('Internal Server Error') };
  return problem === undefined ? a : { ...a, problem };
}

/** An HTTP header name: a token (RFC 9110), so ASCII letters, digits and a few marks, no space. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** What no header value may hold: a line break, NUL or another control character (tab is allowed). */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Why these headers cannot go on the wire, or undefined when they can. A name that is not a
 * token or a value with a line break or control character would split or forge the response:
 * the front refuses the whole answer with its failure response (as a malformed answer).
 */
export function headerProblem(headers: Array<[string, string]>): string | undefined {
  for (const [k, v] of headers) {
    if (!TOKEN.test(k))
      return `the function's answer has a header name that is not a valid HTTP token: ${JSON.stringify(k)}`;
    if (CONTROL.test(v))
      return `the function's answer has header ${JSON.stringify(k)} with a line break or control character in its value`;
  }
  return undefined;
}

/** A mapped answer, or the front's failure when its headers cannot be sent. */
function checked(front: HttpFront, a: HttpAnswer): HttpAnswer {
  const problem = headerProblem(a.headers);
  return problem ? frontFailure(front, problem) : a;
}

/** The request was larger than a front takes (6 MB for Lambda's synchronous invoke, 10 MB for API Gateway). */
export function frontTooLarge(front: HttpFront): HttpAnswer {
  if (front === 'url')
    return { status: 413, headers: [['Content-Type', 'text/plain']], body: Buffer.from('Request Entity Too Large') };
  return json(413, { message: 'Request Entity Too Large' });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStatus = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599;

function headerPairs(value: unknown): Array<[string, string]> | undefined {
  if (value === undefined || value === null) return [];
  if (!isRecord(value)) return undefined;
  const out: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (typeof v === 'object') return undefined;
    out.push([k, String(v)]);
  }
  return out;
}

function bodyOf(value: Record<string, unknown>, decode = true): Buffer | undefined {
  const body = value.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return decode && value.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text);
}

/** What a REST API needs of the request to answer: its Accept header and the API's binaryMediaTypes. */
export interface RestAnswerContext {
  accept?: string;
  binaryMediaTypes?: readonly string[];
}

/** Payload 2.0 (function URLs, HTTP APIs): a `statusCode` object is mapped, other valid JSON is a 200 application/json body. */
function mapPayload2(front: HttpFront, payload: Buffer): HttpAnswer {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return frontFailure(front, "the function's answer is not JSON");
  }
  if (!isRecord(value) || !('statusCode' in value))
    return { status: 200, headers: [['Content-Type', 'application/json']], body: payload };
  if (!isStatus(value.statusCode)) return frontFailure(front, "the function's statusCode is not an HTTP status");
  const headers = headerPairs(value.headers);
  const body = bodyOf(value);
  if (!headers || !body) return frontFailure(front, "the function's headers are not an object of strings");
  const cookies = value.cookies;
  if (cookies !== undefined && cookies !== null) {
    if (!Array.isArray(cookies) || cookies.some((c) => typeof c !== 'string'))
      return frontFailure(front, "the function's cookies are not a list of strings");
    for (const c of cookies as string[]) headers.push(['Set-Cookie', c]);
  }
  return checked(front, { status: value.statusCode, headers, body });
}

/** REST API proxy responses allow exactly these keys; anything else is "Malformed Lambda proxy response". */
const PROXY_KEYS = new Set(['statusCode', 'headers', 'multiValueHeaders', 'body', 'isBase64Encoded']);

/** API Gateway's log line for an answer that is not a proxy response. */
const MALFORMED =
  'Malformed Lambda proxy response: only statusCode, headers, multiValueHeaders, body and isBase64Encoded are allowed';

/** Payload 1.0 (REST APIs): only a proxy response object is accepted; `multiValueHeaders` win over `headers`. */
function mapPayload1(payload: Buffer, ctx: RestAnswerContext): HttpAnswer {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return frontFailure('rest-api', MALFORMED);
  }
  if (!isRecord(value) || Object.keys(value).some((k) => !PROXY_KEYS.has(k)))
    return frontFailure('rest-api', MALFORMED);
  const status = value.statusCode;
  if (!isStatus(status)) return frontFailure('rest-api', MALFORMED);
  const single = headerPairs(value.headers);
  if (!single) return frontFailure('rest-api', MALFORMED);
  const multi: Array<[string, string]> = [];
  if (value.multiValueHeaders !== undefined && value.multiValueHeaders !== null) {
    if (!isRecord(value.multiValueHeaders)) return frontFailure('rest-api', MALFORMED);
    for (const [k, list] of Object.entries(value.multiValueHeaders)) {
      if (!Array.isArray(list)) return frontFailure('rest-api', MALFORMED);
      for (const v of list) multi.push([k, String(v)]);
    }
  }
  const multiNames = new Set(multi.map(([k]) => k.toLowerCase()));
  const headers = [...single.filter(([k]) => !multiNames.has(k.toLowerCase())), ...multi];
  // A base64 answer is decoded only when the client's first Accept type is a binary media type
  // of the API; otherwise the client gets the base64 text, as from API Gateway.
  const firstAccept = ctx.accept?.split(',')[0];
  const body = bodyOf(value, isBinaryMediaType(firstAccept, ctx.binaryMediaTypes));
  if (!body) return frontFailure('rest-api', MALFORMED);
  return checked('rest-api', { status, headers, body });
}

/** A successful invoke's payload as `front` answers it. */
export function mapFunctionAnswer(front: HttpFront, payload: Buffer, rest: RestAnswerContext = {}): HttpAnswer {
  return front === 'rest-api' ? mapPayload1(payload, rest) : mapPayload2(front, payload);
}

// ---- function URL CORS ----

/** A function URL's `Cors` settings (config `url.cors`), camel-cased as the rest of lambda-image.json. */
export interface CorsSettings {
  allowOrigins?: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  maxAge?: number;
  allowCredentials?: boolean;
}

function allowedOrigin(cors: CorsSettings, origin: string | undefined): string | undefined {
  if (!origin) return undefined;
  const list = cors.allowOrigins ?? [];
  if (list.includes('*')) return cors.allowCredentials ? origin : '*';
  return list.some((o) => o.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}

/**
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) is answered by the URL
 * itself when CORS is configured, without invoking the function.
 */
export function corsPreflight(
  cors: CorsSettings | undefined,
  method: string,
  header: (name: string) => string | undefined,
): HttpAnswer | undefined {
  if (!cors || method !== 'OPTIONS') return undefined;
  const origin = header('origin');
  const wanted = header('access-control-request-method');
  if (!origin || !wanted) return undefined;
  const headers: Array<[string, string]> = [];
  const allowed = allowedOrigin(cors, origin);
  if (allowed) {
    headers.push(['Access-Control-Allow-Origin', allowed]);
    if (allowed !== '*') headers.push(['Vary', 'Origin']);
    if (cors.allowMethods?.length) headers.push(['Access-Control-Allow-Methods', cors.allowMethods.join(',')]);
    if (cors.allowHeaders?.length) headers.push(['Access-Control-Allow-Headers', cors.allowHeaders.join(',')]);
    if (cors.allowCredentials) headers.push(['Access-Control-Allow-Credentials', 'true']);
    if (cors.maxAge !== undefined) headers.push(['Access-Control-Max-Age', String(cors.maxAge)]);
  }
  return { status: 200, headers, body: Buffer.alloc(0) };
}

/** An answer's headers with the URL's CORS headers: they replace any the function set itself. */
export function withCorsHeaders(
  cors: CorsSettings | undefined,
  origin: string | undefined,
  headers: Array<[string, string]>,
): Array<[string, string]> {
  if (!cors) return headers;
  const out = headers.filter(([k]) => !k.toLowerCase().startsWith('access-control-'));
  const allowed = allowedOrigin(cors, origin);
  if (!allowed) return out;
  out.push(['Access-Control-Allow-Origin', allowed]);
  if (allowed !== '*') out.push(['Vary', 'Origin']);
  if (cors.allowCredentials) out.push(['Access-Control-Allow-Credentials', 'true']);
  if (cors.exposeHeaders?.length) out.push(['Access-Control-Expose-Headers', cors.exposeHeaders.join(',')]);
  return out;
}

// ---- streaming ----

/** events.LambdaFunctionURLStreamingResponse's content type: a JSON prelude, 8 NUL bytes, then the body. */
export const INTEGRATION_RESPONSE_TYPE = 'application/vnd.awslambda.http-integration-response';
const DELIMITER = Buffer.alloc(8);
/** A prelude is a status line and headers: more than this without the delimiter is not one. */
export const MAX_PRELUDE_BYTES = 64 * 1024;

export interface StreamPrelude {
  status: number;
  headers: Array<[string, string]>;
}

/**
 * Reads the prelude off the front of a streamed response, chunk by chunk. `push` returns
 * undefined until the delimiter arrived, then the prelude and the body bytes that came with it.
 * Throws when the prelude is not the JSON Lambda expects.
 */
export class PreludeReader {
  private held: Buffer[] = [];
  private size = 0;

  push(chunk: Buffer): { prelude: StreamPrelude; rest: Buffer } | undefined {
    this.held.push(chunk);
    this.size += chunk.length;
    const all = Buffer.concat(this.held);
    const at = all.indexOf(DELIMITER);
    if (at < 0) {
      if (this.size > MAX_PRELUDE_BYTES) throw new Error('no prelude delimiter (8 NUL bytes) in the first 64 KB');
      this.held = [all];
      return undefined;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(all.subarray(0, at).toString('utf8'));
    } catch {
      throw new Error('the prelude is not JSON');
    }
    if (!isRecord(parsed)) throw new Error('the prelude is not a JSON object');
    if (parsed.statusCode !== undefined && !isStatus(parsed.statusCode))
      throw new Error('the prelude statusCode is not an HTTP status');
    const status = isStatus(parsed.statusCode) ? parsed.statusCode : 200;
    const headers = headerPairs(parsed.headers);
    if (!headers) throw new Error('the prelude headers are not an object of strings');
    const cookies = Array.isArray(parsed.cookies) ? parsed.cookies.filter((c) => typeof c === 'string') : [];
    for (const c of cookies as string[]) headers.push(['Set-Cookie', c]);
    const problem = headerProblem(headers);
    if (problem) throw new Error(problem.replace("the function's answer", 'the prelude'));
    return {
      prelude: { status, headers: headers.filter(([k]) => k.toLowerCase() !== 'content-length') },
      rest: all.subarray(at + 8),
    };
  }
}
