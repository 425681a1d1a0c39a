// Fake Docker engines for fault tests: one that accepts connections and never answers, one
// that answers the handshake (/_ping, /version) and then hangs, and a proxy in front of the
// real engine that refuses chosen calls the way an engine does (HTTP status + JSON message).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { tmpDir } from './tmp.js';

export interface FakeEngine {
  /** What to put in DOCKER_HOST. */
  dockerHost: string;
  /** Requests seen, as "METHOD /path" (query dropped, version prefix dropped). */
  calls: string[];
  close(): Promise<void>;
}

/** Where the fake listens: TCP on 127.0.0.1, or a unix socket in a temporary directory. */
export type Listen = 'tcp' | 'unix';

async function listen(server: net.Server, how: Listen): Promise<string> {
  if (how === 'unix') {
    const sock = path.join(tmpDir(), 'engine.sock');
    await new Promise<void>((resolve) => server.listen(sock, resolve));
    return `unix://${sock}`;
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  };
}

const callName = (req: http.IncomingMessage) =>
  `${req.method} ${(req.url ?? '/').split('?')[0]!.replace(/^\/v1\.\d+/, '')}`;

/** Accepts every connection, reads what is sent, never writes a byte. */
export async function silentEngine(how: Listen): Promise<FakeEngine> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('data', () => {});
    s.on('close', () => sockets.delete(s));
  });
  return { dockerHost: await listen(server, how), calls: [], close: closer(server, sockets) };
}

/** Answers /_ping and /version like Docker 20.10; every other call is accepted and never answered. */
export async function stallingEngine(how: Listen): Promise<FakeEngine> {
  const sockets = new Set<net.Socket>();
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const call = callName(req);
    calls.push(call);
    if (call.endsWith(' /_ping')) return res.end('OK');
    if (call.endsWith(' /version')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(
        JSON.stringify({
          Version: '20.10.24',
          ApiVersion: '1.41',
          Os: 'linux',
          Arch: 'amd64',
          Components: [{ Name: 'Engine' }],
        }),
      );
    }
    // Hold the request: read the body (a build context), answer nothing.
    req.resume();
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { dockerHost: await listen(server, how), calls, close: closer(server, sockets) };
}

/**
 * A proxy to the real engine (its unix socket) that answers `refuse(call)`'s status and message
 * instead of forwarding, as an engine refusing a container does (e.g. Podman on a host that
 * forbids rlimits). Everything else, streams included, is forwarded as is.
 */
export async function refusingProxy(
  refuse: (call: string) => { status: number; message: string } | undefined,
  upstreamSocket = '/var/run/docker.sock',
): Promise<FakeEngine> {
  const sockets = new Set<net.Socket>();
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const call = callName(req);
    calls.push(call);
    const refusal = refuse(call);
    if (refusal) {
      req.resume();
      res.writeHead(refusal.status, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify({ message: refusal.message }));
    }
    const upstream = http.request(
      { socketPath: upstreamSocket, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.flushHeaders();
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { dockerHost: await listen(server, 'tcp'), calls, close: closer(server, sockets) };
}

/** Answers /_ping and /version like Docker 20.10 and refuses every other call with HTTP 500 and a JSON message. */
export async function failingEngine(how: Listen, message = 'li-oneway: storage driver is broken'): Promise<FakeEngine> {
  const sockets = new Set<net.Socket>();
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    const call = callName(req);
    calls.push(call);
    req.resume();
    if (call.endsWith(' /_ping')) return res.end('OK');
    if (call.endsWith(' /version')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(
        JSON.stringify({
          Version: '20.10.24',
          ApiVersion: '1.41',
          Os: 'linux',
          Arch: 'amd64',
          Components: [{ Name: 'Engine' }],
        }),
      );
    }
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return { dockerHost: await listen(server, how), calls, close: closer(server, sockets) };
}

/** An engine that answers every call, the handshake too, with 500 and a JSON message (a daemon that is up but broken). */
export async function refusingEngine(
  how: Listen,
  message = 'the engine refuses: storage is read-only',
): Promise<FakeEngine> {
  const calls: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    calls.push(callName(req));
    req.resume();
    res.writeHead(500, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ message }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const dockerHost = await listen(server, how);
  return { dockerHost, calls, close: closer(server, sockets) };
}
