// Internal diagnostics for adapters, enabled by DEBUG=lambda-image:* (or one namespace);
// kept apart from the UI so adapters never import output code.

/** A debug logger for one namespace, enabled by DEBUG=lambda-image:* or DEBUG=lambda-image:<ns>. */
export function debug(namespace: string): (msg: string) => void {
  const full = `lambda-image:${namespace}`;
  const patterns = (process.env.DEBUG ?? '').split(/[\s,]+/).filter(Boolean);
  const on = patterns.some((p) => p === full || p === '*' || (p.endsWith('*') && full.startsWith(p.slice(0, -1))));
  return on ? (msg) => process.stderr.write(`${full} ${msg}\n`) : () => {};
}
