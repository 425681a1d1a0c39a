// The Telemetry API (PUT /2022-07-01/telemetry) and the older Logs API (PUT /2020-08-15/logs)
// of one execution environment: subscriptions with Lambda's buffering, and delivery of
// platform events and function/extension log lines, in Lambda's JSON shapes, to the
// subscriber's HTTP (or TCP) destination. Delivery never holds up an invoke: a subscriber that
// is down or slow loses its batch after a short timeout, as Lambda drops what it cannot send.
import http from 'node:http';
import net from 'node:net';
import { debug } from '../util/debug.js';

const log = debug('emulator');

export type TelemetryType = 'platform' | 'function' | 'extension';
export type ApiKind = 'telemetry' | 'logs';

export interface TelemetryEvent {
  time: string;
  type: string;
  record: unknown;
}

interface Buffering {
  maxItems: number;
  maxBytes: number;
  timeoutMs: number;
}

interface Subscriber {
  extensionId: string;
  api: ApiKind;
  /** The Telemetry API schema it asked for: its records have that version's shapes. */
  schema: Schema;
  types: Set<TelemetryType>;
  buffering: Buffering;
  protocol: 'HTTP' | 'TCP';
  uri: URL;
  batch: TelemetryEvent[];
  batchBytes: number;
  timer?: NodeJS.Timeout;
  /** Batches go one after another, in order; this is the last one's delivery. */
  tail: Promise<void>;
  pending: number;
}

/** Lambda's limits and defaults (Telemetry API and Logs API document the same ranges). */
const LIMITS = {
  maxItems: [25, 10_000, 1_000],
  maxBytes: [256 * 1024, 1024 * 1024, 256 * 1024],
  timeoutMs: [25, 30_000, 1_000],
} as const;
const SCHEMAS = new Set(['2022-07-01', '2022-12-13', '2025-01-29'] as const);
type Schema = '2022-07-01' | '2022-12-13' | '2025-01-29';
/** Events a subscriber that arrives during init still gets (Lambda buffers from the start of init). */
const EARLY_LIMIT = 1_000;
/** How long one delivery may take before its batch is dropped. */
export const DELIVERY_TIMEOUT_MS = 1_000;
/** Batches waiting for a slow subscriber beyond this are dropped (newest first), as Lambda drops what it cannot deliver. */
const MAX_PENDING_BATCHES = 50;

/** Names of the environment itself, the only place Lambda delivers telemetry to (its hosts file has both). */
export const SANDBOX_HOSTS = new Set(['sandbox.localdomain', 'sandbox']);

/** Which platform event types each API carries. */
const LOGS_API_PLATFORM = new Set([
  'platform.start',
  'platform.runtimeDone',
  'platform.end',
  'platform.report',
  'platform.initStart',
  'platform.initRuntimeDone',
  'platform.initReport',
  'platform.fault',
  'platform.extension',
  'platform.logsSubscription',
]);
const TELEMETRY_PLATFORM = new Set([
  'platform.initStart',
  'platform.initRuntimeDone',
  'platform.initReport',
  'platform.start',
  'platform.runtimeDone',
  'platform.report',
  'platform.extension',
  'platform.telemetrySubscription',
  'platform.logsSubscription',
]);

export interface SubscribeAnswer {
  status: number;
  body: object | string;
}

export class TelemetryHub {
  private subscribers = new Map<string, Subscriber>();
  private early: TelemetryEvent[] = [];
  private initDone = false;

  constructor(
    /** Where a destination's host lives: sandbox.localdomain and localhost mean the environment itself. */
    private readonly resolveHost: (host: string, port: number) => Promise<{ host: string; port: number }>,
  ) {}

  get hasSubscribers(): boolean {
    return this.subscribers.size > 0;
  }

  /** PUT /2022-07-01/telemetry or /2020-08-15/logs from a registered extension. */
  subscribe(api: ApiKind, extensionId: string, extensionName: string, body: Buffer): SubscribeAnswer {
    let req: {
      schemaVersion?: unknown;
      types?: unknown;
      buffering?: Record<string, unknown>;
      destination?: { protocol?: unknown; URI?: unknown; port?: unknown };
    };
    try {
      req = JSON.parse(body.toString());
    } catch {
      return bad('the subscription body is not JSON');
    }
    if (typeof req !== 'object' || req === null || Array.isArray(req))
      return bad('the subscription body must be a JSON object');
    if (api === 'telemetry' && !SCHEMAS.has(String(req.schemaVersion) as Schema))
      return bad(`unsupported schemaVersion ${JSON.stringify(req.schemaVersion)}; use 2022-12-13`);
    const types = Array.isArray(req.types) ? req.types : [];
    if (!types.length || types.some((t) => t !== 'platform' && t !== 'function' && t !== 'extension'))
      return bad('types must be a non-empty list of platform, function, extension');
    const buffering: Partial<Buffering> = {};
    for (const key of ['maxItems', 'maxBytes', 'timeoutMs'] as const) {
      const v = req.buffering?.[key];
      const [min, max, dflt] = LIMITS[key];
      if (v === undefined) buffering[key] = dflt;
      else if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        return bad(`buffering.${key} must be an integer from ${min} to ${max}`);
      else buffering[key] = v;
    }
    const protocol = req.destination?.protocol;
    let uri: URL;
    if (protocol === 'HTTP') {
      try {
        uri = new URL(String(req.destination?.URI));
      } catch {
        return bad('destination.URI is not a URL');
      }
      if (uri.protocol !== 'http:') return bad('destination.URI must be http://');
      // Lambda delivers only into the environment itself: any other host would make lambda-image,
      // on the host, a proxy to whatever listens there (its loopback, the local network).
      if (!SANDBOX_HOSTS.has(uri.hostname.toLowerCase()))
        return bad(`destination.URI host must be sandbox.localdomain (the environment itself), not ${uri.hostname}`);
      if (uri.port === '0') return bad('destination.URI port must be 1 to 65535');
    } else if (protocol === 'TCP') {
      const port = Number(req.destination?.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) return bad('destination.port must be a port number');
      uri = new URL(`tcp://sandbox.localdomain:${port}`);
    } else return bad('destination.protocol must be HTTP or TCP');
    const sub: Subscriber = {
      extensionId,
      api,
      schema: api === 'telemetry' ? (String(req.schemaVersion) as Schema) : '2022-07-01',
      types: new Set(types as TelemetryType[]),
      buffering: buffering as Buffering,
      protocol,
      uri,
      batch: [],
      batchBytes: 0,
      tail: Promise.resolve(),
      pending: 0,
    };
    this.subscribers.set(`${api}:${extensionId}`, sub);
    log(`${extensionName} subscribed to the ${api} API: ${types.join(', ')} -> ${uri.href}`);
    // Subscribed during init: the init events so far are not lost (Lambda buffers them).
    if (!this.initDone) for (const e of this.early) this.enqueue(sub, e);
    this.publish(api === 'telemetry' ? 'platform.telemetrySubscription' : 'platform.logsSubscription', {
      name: extensionName,
      state: 'Subscribed',
      types,
    });
    return { status: 200, body: 'OK' };
  }

  /** A platform event (platform.start, platform.report, ...). */
  platform(type: string, record: object): void {
    this.publish(type, record);
  }

  /** One line of the function's (or an extension's) output. */
  line(kind: 'function' | 'extension', text: string): void {
    this.publish(kind, text);
  }

  /** Init is over: from now on a new subscriber gets only what follows. */
  endInit(): void {
    this.initDone = true;
    this.early = [];
  }

  /** Sends every buffered batch now and waits for the deliveries (bounded by their timeout). */
  async flush(): Promise<void> {
    for (const sub of this.subscribers.values()) this.send(sub);
    await Promise.all([...this.subscribers.values()].map((s) => s.tail));
  }

  close(): void {
    for (const sub of this.subscribers.values()) clearTimeout(sub.timer);
  }

  private publish(type: string, record: unknown): void {
    // Nobody listens and nobody can subscribe any more (subscriptions happen during init): nothing to do.
    if (this.initDone && !this.subscribers.size) return;
    const event: TelemetryEvent = { time: new Date().toISOString(), type, record };
    if (!this.initDone && this.early.length < EARLY_LIMIT) this.early.push(event);
    for (const sub of this.subscribers.values()) this.enqueue(sub, event);
  }

  private enqueue(sub: Subscriber, event: TelemetryEvent): void {
    // (the Logs API's records are older and smaller: see logsApiShape)
    const category: TelemetryType = event.type.startsWith('platform.') ? 'platform' : (event.type as TelemetryType);
    if (!sub.types.has(category)) return;
    if (category === 'platform' && !(sub.api === 'telemetry' ? TELEMETRY_PLATFORM : LOGS_API_PLATFORM).has(event.type))
      return;
    event = sub.api === 'logs' ? logsApiShape(schemaShape('2022-07-01', event)) : schemaShape(sub.schema, event);
    const size = Buffer.byteLength(JSON.stringify(event));
    if (sub.batch.length && sub.batchBytes + size > sub.buffering.maxBytes) this.send(sub);
    sub.batch.push(event);
    sub.batchBytes += size;
    if (sub.batch.length >= sub.buffering.maxItems) this.send(sub);
    else sub.timer ??= setTimeout(() => this.send(sub), sub.buffering.timeoutMs);
  }

  private send(sub: Subscriber): void {
    clearTimeout(sub.timer);
    sub.timer = undefined;
    if (!sub.batch.length) return;
    const body = JSON.stringify(sub.batch);
    sub.batch = [];
    sub.batchBytes = 0;
    if (sub.pending >= MAX_PENDING_BATCHES) {
      log(`telemetry subscriber ${sub.uri.href} is ${sub.pending} batches behind; batch dropped`);
      return;
    }
    sub.pending++;
    sub.tail = sub.tail
      .then(() => this.resolveHost(sub.uri.hostname, Number(sub.uri.port || 80)))
      .then((target) => (sub.protocol === 'HTTP' ? postHttp(target, sub.uri, body) : sendTcp(target, body)))
      .catch((err: Error) => log(`telemetry delivery to ${sub.uri.href} failed (${err.message}); batch dropped`))
      .finally(() => sub.pending--);
  }
}

/**
 * The record shapes of the schema a Telemetry subscriber asked for. Records are made in the
 * newest shape; older schemas get what they define: 2022-07-01 has no spans and an initStart
 * of initializationType and phase only; 2022-12-13 adds spans and the runtime version and
 * function fields of initStart; 2025-01-29 adds instanceId and instanceMaxMemory.
 */
const INIT_START_FIELDS: Record<Schema, string[] | undefined> = {
  '2022-07-01': ['initializationType', 'phase'],
  '2022-12-13': [
    'initializationType',
    'phase',
    'runtimeVersion',
    'runtimeVersionArn',
    'functionName',
    'functionVersion',
  ],
  '2025-01-29': undefined, // all of them
};

export function schemaShape(schema: Schema, event: TelemetryEvent): TelemetryEvent {
  if (typeof event.record !== 'object' || event.record === null || schema === '2025-01-29') return event;
  const record = { ...(event.record as Record<string, unknown>) };
  if (schema === '2022-07-01') delete record.spans;
  const keep = event.type === 'platform.initStart' ? INIT_START_FIELDS[schema] : undefined;
  if (keep) for (const k of Object.keys(record)) if (!keep.includes(k)) delete record[k];
  return { ...event, record };
}

/** The Logs API's records predate tracing and spans: platform.start is {requestId, version}, platform.report {requestId, metrics}. */
function logsApiShape(event: TelemetryEvent): TelemetryEvent {
  if (typeof event.record !== 'object' || event.record === null) return event;
  const { tracing: _t, spans: _s, ...rest } = event.record as Record<string, unknown>;
  if (event.type === 'platform.report') delete rest.status;
  return { ...event, record: rest };
}

function bad(message: string): SubscribeAnswer {
  return { status: 400, body: { errorType: 'ValidationError', errorMessage: message } };
}

function postHttp(target: { host: string; port: number }, uri: URL, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.host,
        port: target.port,
        path: uri.pathname + uri.search,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
        timeout: DELIVERY_TIMEOUT_MS,
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/** TCP destinations get newline-delimited JSON events. */
function sendTcp(target: { host: string; port: number }, body: string): Promise<void> {
  const events = (JSON.parse(body) as unknown[]).map((e) => JSON.stringify(e) + '\n').join('');
  return new Promise((resolve, reject) => {
    const socket = net.connect(target.port, target.host, () => socket.end(events, () => resolve()));
    socket.setTimeout(DELIVERY_TIMEOUT_MS, () => socket.destroy(new Error('timed out')));
    socket.on('error', reject);
  });
}
