// The Runtime API server an environment's runtime talks to: a flood of idle connections cannot
// take it offline. Real sockets on 127.0.0.1.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaApiServer } from '../src/emulator/lambda-api.js';
import { MAX_RUNTIME_API_CONNECTIONS } from '../src/emulator/limits.js';

const identity = {
  functionName: 'f',
  functionVersion: '$LATEST',
  memoryMb: 128,
  region: 'us-east-1',
  accountId: '000000000000',
};

const connect = (port: number) =>
  new Promise<net.Socket>((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => {});
  });
const closed = (s: net.Socket, ms: number) =>
  new Promise<boolean>((resolve) => {
    if (s.destroyed) return resolve(true);
    const t = setTimeout(() => resolve(false), ms);
    s.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });

describe('Runtime API connections', () => {
  const servers: LambdaApiServer[] = [];
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const s of servers.splice(0)) await s.close();
  });

  it('closes a refused peer at accept, before it sends a byte', async () => {
    const server = new LambdaApiServer(identity as never, [], { allowPeer: () => false });
    servers.push(server);
    const port = await server.listen();
    const s = await connect(port);
    sockets.push(s);
    expect(await closed(s, 2000)).toBe(true);
  });

  it('bounds the connections one environment holds: past the bound new ones close, the API still answers', async () => {
    const server = new LambdaApiServer(identity as never, []);
    servers.push(server);
    const port = await server.listen();
    for (let i = 0; i < MAX_RUNTIME_API_CONNECTIONS + 20; i++) sockets.push(await connect(port));
    const over = sockets.slice(MAX_RUNTIME_API_CONNECTIONS);
    expect((await Promise.all(over.map((s) => closed(s, 2000)))).every(Boolean)).toBe(true);
    // Idle holders let go, the runtime's own request is answered.
    for (const s of sockets.splice(0, 10)) s.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`http://127.0.0.1:${port}/2018-06-01/runtime/nope`);
    expect(res.status).toBeGreaterThanOrEqual(400);
  });
});
