// doctor against an engine that refuses (a fake on a unix socket) and none at all: the engine
// finding fails with its fix, the exit code says a command is stopped, checks that need no
// engine still run, --json is the only stdout, and no AWS secret is ever printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { containerdEngineDouble } from './support/containerd-engine.js';
import { type FakeEngine, refusingEngine } from './support/fake-engine.js';
import { tmpDir } from './support/tmp.js';

interface Finding {
  check: string;
  status: string;
  detail: string;
  fix?: string;
}

describe('doctor without a working engine', () => {
  let engine: FakeEngine;
  beforeAll(async () => {
    engine = await refusingEngine('unix');
  });
  afterAll(() => engine.close());

  it('fails the engine finding with its fix and exits 17; engine checks are skipped, the others run', async () => {
    const r = await runCli(['doctor', tmpDir()], { env: { DOCKER_HOST: engine.dockerHost } });
    expect(r.code, r.stderr).toBe(17);
    expect(r.stdout).toMatch(/^FAIL {2}engine: no engine answers: .*/m);
    expect(r.stdout).toMatch(/^ {6}fix: /m);
    expect(r.stdout).toMatch(/^skip {2}bridge network: no engine$/m);
    expect(r.stdout).toMatch(/^(ok {4}|warn {2})disk space: /m);
    expect(r.stderr).toMatch(/^error: engine: stops build, invoke, start/m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // one line and a hint, no stack
    expect(engine.calls.length).toBeGreaterThan(0);
  });

  it('--json prints only the findings; AWS credentials are named by where they come from, never shown', async () => {
    const home = tmpDir();
    mkdirSync(path.join(home, '.aws'));
    writeFileSync(path.join(home, '.aws', 'config'), '[default]\nregion = eu-west-3\n');
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY';
    const r = await runCli(['doctor', tmpDir(), '--json'], {
      env: {
        DOCKER_HOST: 'unix:///nonexistent/li-doctor.sock',
        HOME: home,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: secret,
        AWS_REGION: '',
        AWS_DEFAULT_REGION: '',
      },
    });
    expect(r.code).toBe(17);
    const report = JSON.parse(r.stdout) as { failed: boolean; findings: Finding[] };
    expect(report.failed).toBe(true);
    const aws = report.findings.find((f) => f.check === 'AWS credentials')!;
    expect(aws.status).toBe('ok');
    expect(aws.detail).toBe(
      'credentials from AWS_ACCESS_KEY_ID in the environment, profile default in ~/.aws; region eu-west-3',
    );
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout + r.stderr).not.toContain('AKIAIOSFODNN7EXAMPLE');
    expect(report.findings.map((f) => f.check)).toEqual([
      'project',
      'engine',
      'builder',
      'image store',
      'cgroups',
      'bridge network',
      'user namespaces',
      'other architecture',
      'images',
      'emulator (RIE)',
      'AWS credentials',
      'disk space',
    ]);
  });

  it('an alpine project with the RIE from a file that is not there fails the RIE finding', async () => {
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'li-doctor',
        base: 'alpine',
        rie: true,
        rieFrom: path.join(dir, 'no-rie'),
        go: { module: 'example.com/fn', version: '1.23' },
      }),
    );
    const r = await runCli(['doctor', dir, '--json'], { env: { DOCKER_HOST: 'unix:///nonexistent/li-doctor.sock' } });
    const rie = (JSON.parse(r.stdout) as { findings: Finding[] }).findings.find((f) => f.check === 'emulator (RIE)')!;
    expect(rie.status).toBe('fail');
    expect(rie.detail).toMatch(/does not exist/);
  });

  it('an invalid lambda-image.json is a failing finding, not ignored', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'lambda-image.json'), '{"name": 5}');
    const r = await runCli(['doctor', dir, '--json'], { env: { DOCKER_HOST: 'unix:///nonexistent/li-doctor.sock' } });
    const project = (JSON.parse(r.stdout) as { findings: Finding[] }).findings.find((f) => f.check === 'project')!;
    expect(project.status).toBe('fail');
    expect(project.detail).toMatch(/lambda-image\.json is invalid/);
  });
});

describe('doctor against Docker 29 with the containerd image store (an engine double)', () => {
  const imageStore = async (opts: Parameters<typeof containerdEngineDouble>[0]) => {
    const double = await containerdEngineDouble(opts);
    try {
      const r = await runCli(['doctor', tmpDir(), '--json'], {
        env: { DOCKER_HOST: `tcp://127.0.0.1:${double.port}` },
      });
      const findings = (JSON.parse(r.stdout) as { findings: Finding[] }).findings;
      expect(findings.find((f) => f.check === 'engine')!.detail).toMatch(/^Docker 29\.1\.3 \(docker\), API /);
      return findings.find((f) => f.check === 'image store')!;
    } finally {
      await double.close();
    }
  };

  it('names the containerd store, and says a push sends only the platform manifest', async () => {
    const f = await imageStore({ store: 'containerd' });
    expect(f.status).toBe('ok');
    expect(f.detail).toMatch(/^containerd \(image IDs are manifest\/index digests\); push sends only/);
  });

  it('warns when the API is too old for a push to choose a platform', async () => {
    const f = await imageStore({ store: 'containerd', apiVersion: '1.45' });
    expect(f.status).toBe('warn');
    expect(f.detail).toMatch(/cannot choose a platform/);
    expect(f.fix).toMatch(/API 1\.46\+/);
  });

  it('the classic store is named as such', async () => {
    expect((await imageStore({ store: 'classic' })).detail).toMatch(/^classic \(graph driver\)/);
  });
});
