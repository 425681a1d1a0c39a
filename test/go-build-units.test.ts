// What build sends the engine for Go projects, decided without a daemon: module settings as
// build arguments (config go.env, --build-arg wins), the Dockerfile rendered for the engine's
// builder, vendor/ detection, and registry credentials for the images the build pulls.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildProject, planBuild } from '../src/app/build.js';
import type { Engine } from '../src/docker/engine.js';
import { DOCKER_HUB_KEY, registryConfigFor } from '../src/docker/registry-config.js';
import { userRegistryAuth } from '../src/registry/auth.js';
import { runCli } from './support/cli.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';

interface Captured {
  options: Record<string, unknown>;
  dockerfile: string;
}

/** An engine that records what a build would send and stops it with an error line. */
function recordingEngine(buildkit: boolean, captured: Captured[]): Engine {
  return {
    buildkit,
    platform: 'linux/amd64',
    docker: {
      buildImage: async (context: NodeJS.ReadableStream, options: Record<string, unknown>) => {
        const chunks: Buffer[] = [];
        for await (const c of context) chunks.push(c as Buffer);
        const tarText = Buffer.concat(chunks).toString('latin1');
        const start = tarText.indexOf('# lambda-image: generated');
        captured.push({ options, dockerfile: tarText.slice(start, tarText.indexOf('\0', start)) });
        return Readable.from([JSON.stringify({ errorDetail: { message: 'recorded' } }) + '\n']);
      },
    },
  } as unknown as Engine;
}

async function captureBuild(
  dir: string,
  buildkit: boolean,
  opts: Parameters<typeof planBuild>[1] = {},
): Promise<Captured> {
  const captured: Captured[] = [];
  await expect(
    planBuild(dir, { registryAuth: async () => undefined, ...opts }).then((plan) =>
      buildProject(recordingEngine(buildkit, captured), plan),
    ),
  ).rejects.toMatchObject({ code: 'BUILD_FAILED' });
  return captured[0]!;
}

describe('Go module settings and modes in a build', () => {
  it('passes the config go.env as build arguments, with --build-arg winning', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir])).code).toBe(0);
    const file = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(file, 'utf8'));
    config.go.env = { GOPROXY: 'https://proxy.corp/', GOPRIVATE: 'github.com/acme/*', GOFLAGS: '-mod=mod' };
    writeFileSync(file, JSON.stringify(config));
    const { options } = await captureBuild(dir, true, { buildArgs: { GOFLAGS: '-trimpath', EXTRA: '1' } });
    expect(options.buildargs).toMatchObject({
      GOPROXY: 'https://proxy.corp/',
      GOPRIVATE: 'github.com/acme/*',
      GOFLAGS: '-trimpath',
      EXTRA: '1',
    });
  });

  it('renders cache mounts for BuildKit and the precompile layer for the classic builder', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir])).code).toBe(0);
    const bk = await captureBuild(dir, true);
    expect(bk.dockerfile).toContain('--mount=type=cache');
    expect(bk.options.version).toBe('2');
    const classic = await captureBuild(dir, false);
    expect(classic.dockerfile).not.toContain('--mount');
    expect(classic.dockerfile).toContain('$(cat /tmp/deps.txt)');
  });

  it('builds from vendor/ when vendor/modules.txt exists', async () => {
    const dir = fixtureCopy('go-vendored');
    expect((await runCli(['init', dir])).code).toBe(0);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain('COPY vendor/ vendor/');
    const { dockerfile } = await captureBuild(dir, true);
    expect(dockerfile).toContain('COPY vendor/ vendor/');
    expect(dockerfile).toContain('-mod=vendor');
    expect(dockerfile).not.toContain('go mod download');
  });
});

describe('registry credentials for the images a build pulls', () => {
  function dockerConfig(auths: Record<string, unknown>): NodeJS.ProcessEnv {
    const dir = tmpDir();
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths }));
    return { DOCKER_CONFIG: dir };
  }
  const b64 = (s: string) => Buffer.from(s).toString('base64');

  it('reads the Docker config through src/registry (by host, Docker Hub by its URL key)', async () => {
    const env = dockerConfig({
      'mirror.corp.example:5000': { auth: b64('ci:pw1') },
      'https://index.docker.io/v1/': { auth: b64('hubuser:pw2') },
    });
    const config = await registryConfigFor(
      ['mirror.corp.example:5000/golang:1.23-alpine', 'alpine:3.22', 'other.example/x:1'],
      userRegistryAuth(env),
    );
    expect(config).toEqual({
      'mirror.corp.example:5000': { username: 'ci', password: 'pw1', serveraddress: 'mirror.corp.example:5000' },
      [DOCKER_HUB_KEY]: { username: 'hubuser', password: 'pw2', serveraddress: DOCKER_HUB_KEY },
    });
  });

  it('sends them with a classic build as registryconfig (X-Registry-Config), for the builder and base registries only', async () => {
    const dir = fixtureCopy('go-hello');
    expect(
      (
        await runCli([
          'init',
          dir,
          '--base',
          'alpine',
          '--builder-image',
          'mirror.corp.example:5000/golang:1.23-alpine',
        ])
      ).code,
    ).toBe(0);
    const asked: string[] = [];
    const { options } = await captureBuild(dir, false, {
      registryAuth: async (ref) => {
        asked.push(ref);
        return ref.startsWith('mirror.corp.example') ? { username: 'ci', password: 'pw' } : undefined;
      },
    });
    expect(asked.sort()).toEqual(['alpine:3.22', 'mirror.corp.example:5000/golang:1.23-alpine']);
    expect(options.registryconfig).toEqual({
      'mirror.corp.example:5000': { username: 'ci', password: 'pw', serveraddress: 'mirror.corp.example:5000' },
    });
  });

  it('a failed credential lookup is a warning, not a failed build', async () => {
    const warnings: string[] = [];
    const config = await registryConfigFor(
      ['mirror.example/x:1'],
      async () => Promise.reject(new Error('credential helper docker-credential-nope is not installed')),
      (w) => warnings.push(w),
    );
    expect(config).toEqual({});
    expect(warnings).toEqual([
      'no registry credentials for mirror.example: credential helper docker-credential-nope is not installed; pulling mirror.example/x:1 anonymously if needed',
    ]);
  });

  it('sends no registryconfig when there are no credentials', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir])).code).toBe(0);
    const { options } = await captureBuild(dir, true);
    expect(options.registryconfig).toBeUndefined();
  });
});
