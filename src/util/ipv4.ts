// IPv4 arithmetic for the bridge network: subnet membership and the default gateway address.

/** Whether an IPv4 address lies in a CIDR subnet (IPv6 peers are never in an IPv4 bridge). */
export function inSubnet(address: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  const a = ipv4(address);
  const n = ipv4(net ?? '');
  if (a === undefined || n === undefined || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (n & mask) >>> 0;
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** The first host address of a subnet: the engine's default gateway when it does not name one. */
export function firstHost(cidr: string): string {
  const [net] = cidr.split('/');
  const n = ipv4(net ?? '');
  if (n === undefined) throw new Error(`not an IPv4 subnet: ${cidr}`);
  const v = n + 1;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}
