// Podman as the engine (rootful, its Docker-compatible service): init, build with its classic
// builder, invoke in the default sandbox (bridge that exists only while a container is
// attached, /tmp given with tmpfs U, libpod cgroups), start with the Invoke API and an HTTP
// front, and doctor naming the engine.
import { execFileSync, execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

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
    execSync(`podman --url ${host} rmi -f ${tag} ${tag.replace(/:.*/, ':ext')} ${tag.replace(/:.*/, ':latest')}`, {
      stdio: 'ignore',
    });
  });

  it('invoke runs the function in the default sandbox and prints its REPORT', async () => {
    const r = await runCli(['invoke', '--image', tag], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ message: 'Hello AWS Lambda' });
    expect(r.stderr).toMatch(/^REPORT RequestId: \S+\tDuration: [\d.]+ ms/m);
    expect(r.stderr).not.toMatch(/uid=|EADDRNOTAVAIL|internal error/);
  });

  it.each(['url', 'http-api', 'rest-api'])(
    'start serves the Invoke API and --http-port (%s) from Podman',
    async (front) => {
      const port = 39_500 + (process.pid % 100) * 6 + ['url', 'http-api', 'rest-api'].indexOf(front) * 2;
      const s = await startCliUntil(
        ['start', '--image', tag, '--port', String(port), '--http-port', String(port + 1), '--http-event', front],
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
        const viaFront = await fetch(`http://127.0.0.1:${port + 1}/some/path`);
        if (front === 'rest-api') {
          // A REST API takes only a proxy answer ({statusCode, body}): this function's plain JSON is API Gateway's 502.
          expect(viaFront.status).toBe(502);
          expect(await viaFront.json()).toEqual({ message: 'Internal server error' });
        } else {
          expect(viaFront.status).toBe(200);
          expect(await viaFront.text()).toContain('Hello AWS Lambda');
        }
      } finally {
        s.child.kill('SIGINT');
        await s.exited;
      }
      expect(s.stderr()).not.toMatch(/invoke failed/);
    },
  );

  it('an extension added from a zip runs beside the function (Extensions API over the Podman bridge)', async () => {
    const extBin = path.join(tmpDir(), 'test-ext');
    execFileSync('go', ['build', '-o', extBin, '.'], {
      cwd: fixtureCopy('go-extension'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    });
    const zip = path.join(tmpDir(), 'test-ext.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'extensions/', mode: 0o040755 },
        { name: 'extensions/test-ext', data: readFileSync(extBin), mode: 0o100755 },
      ]),
    );
    const ext = tag.replace(/:.*/, ':ext');
    expect((await runCli(['add-extension', '--from-zip', zip, dir], { env })).code).toBe(0);
    const build = await runCli(['build', dir, '--tag', ext, ...STANDIN], { env });
    expect(build.code, build.stderr).toBe(0);
    const r = await runCli(['invoke', '--image', ext], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/\[test-ext\] registered test-ext for /);
    expect(r.stderr).toMatch(/\[test-ext\] INVOKE \S+/);
    expect(r.stderr).toContain('[test-ext] SHUTDOWN spindown');
  });

  it('start --watch rebuilds on an edit and serves the new code', async () => {
    const port = 39_800 + (process.pid % 100);
    const s = await startCliUntil(
      ['start', dir, '--watch', '--port', String(port), ...STANDIN],
      /watching the project/,
      env,
    );
    const answer = async () => {
      const res = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        body: '{}',
      }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { message: string }).message : undefined;
    };
    try {
      expect(await answer()).toBe('Hello AWS Lambda');
      const main = path.join(dir, 'main.go');
      writeFileSync(main, readFileSync(main, 'utf8').replace('Hello AWS Lambda', 'Hello from Podman'));
      let now: string | undefined;
      for (let i = 0; i < 240 && now !== 'Hello from Podman'; i++) {
        await new Promise((r) => setTimeout(r, 500));
        now = await answer();
      }
      expect(now, s.stderr()).toBe('Hello from Podman');
    } finally {
      s.child.kill('SIGINT');
      await s.exited;
    }
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
