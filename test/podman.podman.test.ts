// Podman as the engine (rootful, its Docker-compatible service): init, build with its classic
// builder, invoke in the default sandbox (bridge that exists only while a container is
// attached, /tmp given with tmpfs U, libpod cgroups), start with the Invoke API and an HTTP
// front, and doctor naming the engine.
import { execSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import { fixtureCopy } from './support/tmp.js';

const host = inject('podmanHost');
const env = { DOCKER_HOST: host };
const tag = `li-podman-test-${process.pid}:t`;
const STANDIN = [
  '--base-image',
  'alpine=lambda-image-standin/alpine:3.22',
  '--builder-image',
  'lambda-image-standin/golang:1.23-alpine',
];

describe.skipIf(!host)('Podman engine', () => {
  let dir: string;

  beforeAll(async () => {
    dir = fixtureCopy('go-hello');
    const init = await runCli(['init', dir, '--base', 'alpine', '--name', tag.replace(/:.*/, ''), '--force'], { env });
    expect(init.code, init.stderr).toBe(0);
    const build = await runCli(['build', dir, '--tag', tag, ...STANDIN], { env });
    expect(build.code, build.stderr).toBe(0);
  });

  afterAll(() => {
    execSync(`podman --url ${host} rmi -f ${tag}`, { stdio: 'ignore' });
  });

  it('invoke runs the function in the default sandbox and prints its REPORT', async () => {
    const r = await runCli(['invoke', '--image', tag], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ message: 'Hello AWS Lambda' });
    expect(r.stderr).toMatch(/^REPORT RequestId: \S+\tDuration: [\d.]+ ms/m);
    expect(r.stderr).not.toMatch(/uid=|EADDRNOTAVAIL|internal error/);
  });

  it('start serves the Invoke API and --http-port (function URL) from Podman', async () => {
    const port = 39_500 + (process.pid % 200);
    const s = await startCliUntil(
      ['start', '--image', tag, '--port', String(port), '--http-port', String(port + 1)],
      /Ctrl-C stops it/,
      env,
    );
    try {
      const invoke = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        body: '{}',
      });
      expect(invoke.status).toBe(200);
      expect(await invoke.json()).toEqual({ message: 'Hello AWS Lambda' });
      const viaUrl = await fetch(`http://127.0.0.1:${port + 1}/some/path`);
      expect(viaUrl.status).toBe(200);
      expect(await viaUrl.text()).toContain('Hello AWS Lambda');
    } finally {
      s.child.kill('SIGINT');
      await s.exited;
    }
    expect(s.stderr()).not.toMatch(/invoke failed/);
  });

  it('doctor names Podman, its classic builder and its bridge, and passes', async () => {
    const r = await runCli(['doctor', dir, '--json'], { env });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const findings = (JSON.parse(r.stdout) as { findings: Array<{ check: string; status: string; detail: string }> })
      .findings;
    const by = (c: string) => findings.find((f) => f.check === c)!;
    expect(by('engine').detail).toMatch(/^Podman 4\.\S+ \(podman\), API/);
    expect(by('builder').detail).toMatch(/^classic builder/);
    expect(by('bridge network').status).toBe('ok');
  });
});
