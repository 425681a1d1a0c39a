// The payload of `lambda-image invoke`: --event/--data/--event-example read and checked, or
// the HTTP event a front would build for `--http 'METHOD /path'` (with -H, -d, --data-binary),
// and the status line that front would answer with. Offered to the CLI so it imports app/ only.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { MAX_PAYLOAD_BYTES } from '../emulator/limits.js';
import type { PoolInvoke } from '../emulator/pool.js';
import { LambdaImageError } from '../errors.js';
import { eventExample } from '../events/events.js';
import { buildHttpEvent, type HttpFront, parseHttpRequestLine } from '../serve/http-events.js';
import { frontIdentity } from '../serve/http-front.js';
import { frontFailure, mapFunctionAnswer } from '../serve/http-responses.js';
import { typedPath } from '../util/paths.js';
import { printable } from '../util/printable.js';
import { readFileBytesCapped, readFileCapped, readStreamCapped } from '../util/read-capped.js';

export type { HttpFront } from '../serve/http-events.js';
export { eventExample, listEventExamples } from '../events/events.js';

/** How invoke's payload is given (flags as typed). */
export interface PayloadOptions {
  event?: string;
  data?: string;
  dataBinary?: string;
  http?: string;
  header?: string[];
  eventExample?: string;
  set?: string[];
}

/**
 * The bytes `invoke` sends: the event as given, or with --http the event `front` builds for
 * that request to function `name`. Bad input fails here, before any engine is asked.
 */
export async function invokePayload(
  opts: PayloadOptions,
  front: HttpFront | undefined,
  fn: { name: string; region?: string },
): Promise<Buffer> {
  if (opts.http === undefined && (opts.header?.length || front || opts.dataBinary !== undefined))
    throw new LambdaImageError('INVALID_INPUT', '-H/--header, --data-binary and --http-event go with --http', {
      hint: "for example --http 'GET /items' -H 'Accept: application/json'",
    });
  if (opts.http === undefined) return readPayload(opts);
  return httpPayload(opts, await httpRequestBody(opts), front ?? 'url', fn.name, fn.region);
}

/** `--http 'METHOD /path'` with -H and -d: the event the front builds for that request. */
function httpPayload(
  opts: PayloadOptions,
  body: Buffer | undefined,
  front: HttpFront,
  name: string,
  region?: string,
): Buffer {
  if (opts.event !== undefined || opts.eventExample !== undefined)
    throw new LambdaImageError(
      'INVALID_INPUT',
      '--http builds the event itself: leave out --event and --event-example',
      {
        hint: "give the request body with -d, e.g. --http 'POST /items' -d '{\"a\":1}'",
      },
    );
  let request: ReturnType<typeof parseHttpRequestLine>;
  try {
    request = parseHttpRequestLine(opts.http!, opts.header ?? [], body);
  } catch (err) {
    throw new LambdaImageError('INVALID_INPUT', `--http: ${(err as Error).message}`, {
      hint: "for example --http 'GET /items?limit=2' -H 'Accept: application/json'",
    });
  }
  const event = buildHttpEvent(
    front,
    {
      ...request,
      headers: [['Host', 'localhost'], ...request.headers.filter(([k]) => k.toLowerCase() !== 'host')],
      sourceIp: '127.0.0.1',
      protocol: 'HTTP/1.1',
      time: new Date(),
      requestId: randomUUID(),
    },
    frontIdentity({ name, region: region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION }, front),
  );
  const payload = Buffer.from(JSON.stringify(event));
  if (payload.length > MAX_PAYLOAD_BYTES) throw tooLarge('the request as an event');
  return payload;
}

/**
 * The body of `--http` as curl sends it: `-d text` as given, `-d @file` the file with its line
 * breaks dropped, `--data-binary @file` the file byte for byte, `@-` stdin; at most the payload
 * limit. `stdin` stands in for the process's in tests.
 */
export async function httpRequestBody(
  opts: Pick<PayloadOptions, 'data' | 'dataBinary'>,
  stdin: AsyncIterable<Uint8Array | string> = process.stdin,
): Promise<Buffer | undefined> {
  if (opts.data !== undefined && opts.dataBinary !== undefined)
    throw new LambdaImageError('INVALID_INPUT', 'give one of -d/--data and --data-binary', {
      hint: 'both set the request body: --data-binary @file sends a file byte for byte',
    });
  const binary = opts.dataBinary !== undefined;
  const given = opts.dataBinary ?? opts.data;
  if (given === undefined) return undefined;
  if (!given.startsWith('@')) return Buffer.from(given);
  const flag = binary ? '--data-binary' : '-d';
  const source = given.slice(1);
  let bytes: Buffer | undefined;
  if (source === '-') {
    bytes = await readStreamCapped(stdin, MAX_PAYLOAD_BYTES);
    if (!bytes) throw tooLarge(`the ${flag} body on stdin`);
  } else {
    try {
      bytes = readFileBytesCapped(typedPath(source), MAX_PAYLOAD_BYTES);
    } catch {
      throw new LambdaImageError('INVALID_INPUT', `cannot read ${flag} file ${source}`, {
        hint: `name a readable file after the @, or ${flag} @- to read stdin`,
      });
    }
    if (!bytes) throw tooLarge(`${flag} file ${source}`);
  }
  // curl -d @file strips carriage returns and newlines; --data-binary keeps every byte.
  return binary ? bytes : Buffer.from(bytes.filter((b) => b !== 0x0d && b !== 0x0a));
}

/**
 * The status line and headers the front would answer with, for `invoke --http`: the same
 * verdict as `start --http-port` (a header that cannot be sent makes it the front's failure,
 * with why), every name and value escaped (they are the function's untrusted text).
 */
export function httpStatusLine(front: HttpFront, o: Pick<PoolInvoke, 'initError' | 'result'>): string {
  const a = o.initError || o.result.kind === 'error' ? frontFailure(front) : mapFunctionAnswer(front, o.result.body);
  return [
    ...(a.problem ? [`warning: ${printable(a.problem)}`] : []),
    `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? ''}`.trimEnd(),
    ...a.headers.map(([k, v]) => `${printable(k)}: ${printable(v)}`),
  ].join('\n');
}

async function readPayload(opts: PayloadOptions): Promise<Buffer> {
  const given = [opts.event, opts.data, opts.eventExample].filter((x) => x !== undefined).length;
  if (given > 1)
    throw new LambdaImageError('INVALID_INPUT', 'give one of --event, --data and --event-example', {
      hint: 'they all set the payload',
    });
  let text: string;
  if (opts.eventExample) text = JSON.stringify(eventExample(opts.eventExample, opts.set ?? []));
  else if (opts.data !== undefined) text = opts.data;
  else if (opts.event === '-') text = await readStdin();
  else if (opts.event !== undefined) {
    let read: string | undefined;
    try {
      read = readFileCapped(typedPath(opts.event), MAX_PAYLOAD_BYTES);
    } catch {
      throw new LambdaImageError('INVALID_INPUT', `cannot read event file ${opts.event}`, {
        hint: 'pass a JSON file, or --event - to read stdin',
      });
    }
    if (read === undefined) throw tooLarge(`event file ${opts.event}`);
    text = read;
  } else text = '{}';
  try {
    JSON.parse(text);
  } catch (err) {
    throw new LambdaImageError('INVALID_INPUT', `the event is not valid JSON (${(err as Error).message})`, {
      hint: 'Lambda events are JSON documents',
    });
  }
  return Buffer.from(text);
}

async function readStdin(): Promise<string> {
  const body = await readStreamCapped(process.stdin, MAX_PAYLOAD_BYTES);
  if (!body) throw tooLarge('the event on stdin');
  return body.toString('utf8');
}

function tooLarge(what: string): LambdaImageError {
  return new LambdaImageError(
    'INVALID_INPUT',
    `${what} is larger than ${MAX_PAYLOAD_BYTES} bytes, the most Lambda accepts for a synchronous invoke`,
    {
      hint: 'send a smaller event (large data belongs in S3, with its key in the event)',
    },
  );
}
