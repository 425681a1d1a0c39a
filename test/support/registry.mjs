// A REAL container registry for tests and benchmarks: Debian's docker-registry
// (distribution 2.8) on a free 127.0.0.1 port with a temporary storage root, optionally
// behind htpasswd (Basic) auth. The engine pushes to it without TLS (dockerd treats
// loopback registries as insecure by default).
// Plain ES module (no TypeScript) so that bench/ship.mjs shares it with the tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
export const REGISTRY_BIN = '/usr/bin/docker-registry';
export class TestRegistry {
  users;
  child;
  root = mkdtempSync(path.join(os.tmpdir(), 'lambda-image-registry-'));
  port = 0;
  log = '';
  constructor(users = []) {
    this.users = users;
  }
  get host() {
    return `127.0.0.1:${this.port}`;
  }
  async start() {
    this.port = await freePort();
    const auth = this.users.length
      ? `auth:\n  htpasswd:\n    realm: lambda-image-test\n    path: ${path.join(this.root, 'htpasswd')}\n`
      : '';
    if (this.users.length) {
      writeFileSync(
        path.join(this.root, 'htpasswd'),
        this.users.map((u) => `${u.username}:${bcrypt.hashSync(u.password, 4)}`).join('\n') + '\n',
      );
    }
    const config = path.join(this.root, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(this.root, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${this.port}\n${auth}`,
    );
    this.child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d) => (this.log += d));
    this.child.stderr.on('data', (d) => (this.log += d));
    const exited = new Promise((_, reject) =>
      this.child.once('exit', (code) =>
        reject(new Error(`docker-registry exited (${code}): ${this.log.slice(-2000)}`)),
      ),
    );
    // Ready when /v2/ answers (200, or 401 behind auth); bounded.
    await Promise.race([exited, this.waitReady()]);
    exited.catch(() => {});
    return this;
  }
  async waitReady() {
    for (let i = 0; i < 200; i++) {
      try {
        const res = await fetch(`http://${this.host}/v2/`);
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`docker-registry did not answer on ${this.host}: ${this.log.slice(-2000)}`);
  }
  /** Authorization header for direct Registry API calls. */
  authHeader(user = this.users[0]) {
    return user
      ? { Authorization: 'Basic ' + Buffer.from(`${user.username}:${user.password}`).toString('base64') }
      : {};
  }
  /** Puts a blob (monolithic upload) and returns its digest. */
  async putBlob(name, body, digest) {
    const start = await fetch(`http://${this.host}/v2/${name}/blobs/uploads/`, {
      method: 'POST',
      headers: this.authHeader(),
    });
    await start.arrayBuffer();
    if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status}`);
    const location = new URL(start.headers.get('location'), `http://${this.host}`);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      headers: { ...this.authHeader(), 'Content-Type': 'application/octet-stream' },
      body,
    });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status}`);
  }
  async putManifest(name, reference, body, mediaType) {
    const res = await fetch(`http://${this.host}/v2/${name}/manifests/${reference}`, {
      method: 'PUT',
      headers: { ...this.authHeader(), 'Content-Type': mediaType },
      body,
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`manifest PUT: HTTP ${res.status} ${text}`);
    return res.headers.get('docker-content-digest');
  }
  async getManifest(name, reference, accept) {
    const res = await fetch(`http://${this.host}/v2/${name}/manifests/${reference}`, {
      headers: { ...this.authHeader(), Accept: accept },
    });
    return {
      status: res.status,
      body: Buffer.from(await res.arrayBuffer()),
      digest: res.headers.get('docker-content-digest') ?? undefined,
      contentType: res.headers.get('content-type') ?? undefined,
    };
  }
  async stop() {
    if (this.child && this.child.exitCode === null) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await gone;
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort` that counts the bytes each way, to
 * measure what a push really sends. Engine → proxy → registry; `sent` is what the engine sent.
 */
export async function countingProxy(targetPort) {
  const counts = { sent: 0, received: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.on('data', (d) => (counts.sent += d.length));
    upstream.on('data', (d) => (counts.received += d.length));
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    counts,
    reset() {
      counts.sent = 0;
      counts.received = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
