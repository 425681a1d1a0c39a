// doctor against the real Docker engine: it names Docker, its API and builder, the bridge,
// and passes (exit 0) with the stand-ins present when the project points at them.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { dockerEnv } from './support/docker.js';
import { tmpDir } from './support/tmp.js';

describe.skipIf(!dockerEnv.available)('doctor (real Docker engine)', () => {
  it('reports the engine, builder, bridge and the project images present, and exits 0', async () => {
    const dir = tmpDir();
    const refs = dockerEnv.refs!.x86_64;
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'li-podman-doctor',
        base: 'alpine',
        baseImage: refs.alpine,
        builderImage: refs.golang,
        go: { module: 'example.com/fn', version: '1.23' },
      }),
    );
    const r = await runCli(['doctor', dir, '--json'], { env: { DOCKER_BUILDKIT: '' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const findings = (JSON.parse(r.stdout) as { findings: Array<{ check: string; status: string; detail: string }> })
      .findings;
    const by = (c: string) => findings.find((f) => f.check === c)!;
    expect(by('engine').detail).toMatch(/^Docker \S+ \(docker\), API 1\.\d+, linux\/(amd64|arm64)/);
    expect(by('builder').detail).toMatch(/^(BuildKit|classic builder)/);
    expect(by('bridge network')).toMatchObject({ status: 'ok' });
    expect(by('bridge network').detail).toMatch(/^default bridge \d+\.\d+\.\d+\.\d+\/\d+, gateway /);
    expect(by('images')).toEqual({
      check: 'images',
      status: 'ok',
      detail: `present: ${refs.golang}, ${refs.alpine}`,
      needs: ['build'],
    });
  });
});
