// The host's end of `--debug`: a TCP proxy on 127.0.0.1:<port> that forwards a delve client
// to the environment's delve (published on the host's loopback) and reads the JSON-RPC lines
// both ways into DebugPauses, so the invoke's timeout counts running time only. The port stays
// while environments come and go (a crash, a --watch rebuild): the client reconnects to it.
import net from 'node:net';
import { DebugPauses } from './debug-pauses.js';

export class DebugProxy {
  private server = net.createServer((client) => this.pipe(client));
  private target?: { host: string; port: number };
  /** Clients that came before the first environment's delve: they are joined to it once it is there. */
  private early: net.Socket[] = [];
  private sockets = new Set<net.Socket>();
  /** The current environment's pause clock (a new one per environment). */
  pauses = new DebugPauses(() => Date.now(), false);

  /** Listens on 127.0.0.1:port (0: any free port); resolves with the port. */
  async listen(port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return (this.server.address() as net.AddressInfo).port;
  }

  /** A new environment's delve: clients connect to it from now on; earlier connections end. */
  retarget(target: { host: string; port: number }, wait: boolean): DebugPauses {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.target = target;
    this.pauses = new DebugPauses(() => Date.now(), wait);
    const early = this.early;
    this.early = [];
    for (const c of early) if (!c.destroyed) this.pipe(c);
    return this.pauses;
  }

  async close(): Promise<void> {
    for (const s of [...this.sockets, ...this.early]) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private pipe(client: net.Socket): void {
    const target = this.target;
    if (!target) {
      // Before the environment starts (invoke --debug prints the port first): held until it does.
      if (this.early.length >= 8) client.destroy();
      else {
        client.pause();
        this.early.push(client);
      }
      return;
    }
    client.resume();
    const pauses = this.pauses;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on(
      'data',
      lines((l) => pauses.fromClient(l)),
    );
    upstream.on(
      'data',
      lines((l) => pauses.fromDelve(l)),
    );
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** Splits a byte stream into lines (the jsonrpc codec writes one message a line); bounded. */
function lines(onLine: (line: string) => void): (chunk: Buffer) => void {
  let rest = '';
  return (chunk) => {
    rest += chunk.toString('utf8');
    let i = rest.indexOf('\n');
    while (i >= 0) {
      onLine(rest.slice(0, i));
      rest = rest.slice(i + 1);
      i = rest.indexOf('\n');
    }
    if (rest.length > 1 << 20) rest = ''; // a reply too big to be a state change: never one we count
  };
}
