// The X-Amzn-Trace-Id of an invoke, as Lambda makes it from the caller's header. Pure.
import { randomBytes } from 'node:crypto';

/** The invoke's trace id: the caller's header with its Sampled decision kept, else a fresh unsampled one. */
export function traceIdFor(given?: string, now = Date.now()): string {
  const parts = new Map<string, string>();
  for (const kv of (given ?? '').split(';')) {
    const i = kv.indexOf('=');
    if (i > 0) parts.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
  }
  const root = parts.get('Root') || `1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const parent = parts.get('Parent') || randomBytes(8).toString('hex');
  const sampled = parts.get('Sampled') ?? '0';
  const extra = [...parts]
    .filter(([k]) => k !== 'Root' && k !== 'Parent' && k !== 'Sampled')
    .map(([k, v]) => `${k}=${v}`);
  return [`Root=${root}`, `Parent=${parent}`, `Sampled=${sampled}`, ...extra].join(';');
}
