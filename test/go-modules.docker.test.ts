// How Go modules reach the build, against the real engine: a vendored project (both builders),
// module settings as build arguments that reach the Go stages and never the final image, a
// mirror builder image, and --go-modules host. Every module is of the tests' own making.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tar from 'tar-fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathWithNodeOnly, runCli } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { REGISTRY_BIN, TestRegistry } from './support/registry.mjs';
import { addToFileProxy, messagePackage, useModuleInHello } from './support/go-proxy.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';

async function build(dir: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = await runCli(['build', dir, '--json', ...standin(), ...args], { env });
  return {
    ...r,
    json:
      r.code === 0
        ? (JSON.parse(r.stdout) as {
            images: Array<{ tag: string }>;
            steps: Record<string, Array<{ name: string; cached: boolean }>>;
          })
        : undefined,
  };
}

async function invoke(dir: string, image: string): Promise<string> {
  const r = await runCli(['invoke', dir, '--image', image, '--data', '{}']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe.skipIf(!dockerEnv.available)('vendored Go modules', () => {
  const repo = uniqueRepo('go-vendored');
  let dir: string;

  beforeAll(async () => {
    dir = fixtureCopy('go-vendored');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
  });

  it.each(['buildkit', 'classic'])(
    '%s: builds with no module download and answers with the vendored code',
    async (builder) => {
      // GOPROXY=off: any attempt to fetch a module would fail the build.
      const r = await build(dir, ['--tag', `${repo}:${builder}`, '--builder', builder, '--build-arg', 'GOPROXY=off']);
      expect(r.code, r.stderr).toBe(0);
      const steps = r.json!.steps.alpine!.map((s) => s.name);
      expect(steps.some((s) => s.includes('go mod download'))).toBe(false);
      expect(steps.some((s) => s.includes('-mod=vendor'))).toBe(true);
      expect(await invoke(dir, `${repo}:${builder}`)).toBe('{"message":"Hello from a vendored module"}');
    },
  );
});

describe.skipIf(!dockerEnv.available)('module settings as build arguments', () => {
  const repo = uniqueRepo('go-settings');
  const SECRET = 's3cr3t-proxy-token';
  // Unique per run: the module cache mount outlives runs, and a module version is immutable there.
  const MOD = `example.com/greeting${Date.now().toString(36)}`;
  let builderImage: string;

  beforeAll(async () => {
    // A company's builder mirror: the stand-in Go builder plus a module proxy directory, the
    // only place this module exists.
    const ctx = tmpDir();
    addToFileProxy(path.join(ctx, 'goproxy'), {
      path: MOD,
      version: 'v1.0.0',
      files: { 'greeting.go': messagePackage(MOD.split('/').pop()!, 'Hello from the module proxy') },
    });
    writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${dockerEnv.refs!.x86_64.golang}\nCOPY goproxy /goproxy\n`);
    builderImage = `${repo}:builder`;
    const stream = await docker.buildImage(tar.pack(ctx), { t: builderImage });
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve(undefined))),
    );
  });

  it('reach the Go stages from the config and --build-arg, honour --builder-image, and stay out of the final image', async () => {
    const dir = fixtureCopy('go-hello');
    useModuleInHello(dir, MOD, 'v1.0.0');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    // A credential inside the proxy URL (it fails over to the mirror's directory: "|" tries the next on any error).
    const configFile = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8'));
    config.go.env = { GOPROXY: `https://ci:${SECRET}@127.0.0.1:9/|file:///goproxy` };
    writeFileSync(configFile, JSON.stringify(config, null, 2));

    // No go.sum and no vendor/: the build can only succeed when GOPROXY (config) and
    // GONOSUMDB and GOFLAGS (--build-arg) reach the Go stages, inside the mirror builder.
    const args = [
      '--tag',
      `${repo}:fn`,
      '--builder-image',
      builderImage,
      '--build-arg',
      'GONOSUMDB=example.com',
      '--build-arg',
      'GOFLAGS=-mod=mod',
    ];
    const r = await runCli(['build', dir, '--base-image', `alpine=${dockerEnv.refs!.x86_64.alpine}`, ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(await invoke(dir, `${repo}:fn`)).toBe('{"message":"Hello from the module proxy"}');

    const image = docker.getImage(`${repo}:fn`);
    const history = await image.history();
    const inspected = await image.inspect();
    const everything = JSON.stringify(history) + JSON.stringify(inspected);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toMatch(/GOPROXY|GONOSUMDB|GOFLAGS/);
    expect(inspected.Config.Env.join(' ')).not.toMatch(/^GO/m);
  });

  it('without the module settings the same project cannot build (they were what made it work)', async () => {
    const dir = fixtureCopy('go-hello');
    useModuleInHello(dir, MOD, 'v1.0.0');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    const r = await runCli([
      'build',
      dir,
      '--tag',
      `${repo}:nosettings`,
      ...standin(),
      '--builder-image',
      builderImage,
      '--build-arg',
      'GOPROXY=off',
    ]);
    expect(r.code).toBe(12);
    expect(r.stderr).toMatch(/go mod download/);
  });
});

describe.skipIf(!dockerEnv.available)('--go-modules host', () => {
  const HOST_MOD = `example.com/hostonly${Date.now().toString(36)}`;
  const repo = uniqueRepo('go-host');
  let dir: string;
  let hostEnv: NodeJS.ProcessEnv;

  beforeAll(() => {
    // The dependency exists only in a proxy directory on this machine (standing in for a
    // private proxy or repository only the developer's credentials reach).
    const work = tmpDir();
    const proxy = path.join(work, 'proxy');
    addToFileProxy(proxy, {
      path: HOST_MOD,
      version: 'v1.0.0',
      files: {
        'hostonly.go': messagePackage(HOST_MOD.split('/').pop()!, 'Hello from a module only the host can reach'),
      },
    });
    hostEnv = {
      GOPROXY: `file://${proxy}`,
      GONOSUMDB: 'example.com',
      GOFLAGS: '-mod=mod',
      GOMODCACHE: path.join(work, 'modcache'),
      GOPATH: path.join(work, 'gopath'),
      GOTOOLCHAIN: 'local',
    };
    mkdirSync(hostEnv.GOPATH!, { recursive: true });
    dir = fixtureCopy('go-hello');
    // go 1.19: the host's own toolchain (Debian's) tidies no newer module.
    useModuleInHello(dir, HOST_MOD, 'v1.0.0', '1.19');
    // go.sum as a real project has it committed.
    execFileSync('go', ['mod', 'tidy'], { cwd: dir, env: { ...process.env, ...hostEnv }, stdio: 'pipe' });
  });

  it('vendors on the host with its Go environment and builds with no module access in the image', async () => {
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    const r = await build(dir, ['--tag', `${repo}:fn`, '--go-modules', 'host', '--build-arg', 'GOPROXY=off'], {
      ...hostEnv,
      GOFLAGS: '',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json!.steps.alpine!.some((s) => s.name.includes('go mod download'))).toBe(false);
    expect(await invoke(dir, `${repo}:fn`)).toBe('{"message":"Hello from a module only the host can reach"}');
    // The project is left as it was: the vendored tree went only into the build context.
    expect(existsSync(path.join(dir, 'vendor'))).toBe(false);
  });

  it('says so when Go is not installed on the host', async () => {
    const r = await runCli(['build', dir, '--tag', `${repo}:nogo`, '--go-modules', 'host', ...standin()], {
      env: { PATH: pathWithNodeOnly(path.join(tmpDir(), 'bin')) },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: --go-modules host needs Go on this machine, and "go" is not on PATH/);
    expect(r.stderr).toMatch(/hint: install Go/);
  });
});

describe.skipIf(!dockerEnv.available || !existsSync(REGISTRY_BIN))(
  'registry credentials for pulls during builds',
  () => {
    const repo = uniqueRepo('go-registry');
    const user = { username: 'ci', password: 'pull-secret-1' };
    const registry = new TestRegistry([user]);
    let mirrorRef: string;
    let dir: string;

    beforeAll(async () => {
      await registry.start();
      // A private mirror of the base: the stand-in pushed to a registry that wants a login.
      mirrorRef = `${registry.host}/mirror/alpine:3.22-${repo.split('-').pop()}`;
      await docker
        .getImage(dockerEnv.refs!.x86_64.alpine)
        .tag({ repo: mirrorRef.replace(/:[^:]+$/, ''), tag: mirrorRef.split(':').pop() });
      const push = await docker.getImage(mirrorRef).push({ authconfig: { ...user, serveraddress: registry.host } });
      await new Promise((resolve, reject) =>
        docker.modem.followProgress(push, (err, out) =>
          err || out.some((o: { error?: string }) => o.error)
            ? reject(err ?? new Error(JSON.stringify(out)))
            : resolve(undefined),
        ),
      );
      await docker.getImage(mirrorRef).remove({ noprune: true });
      dir = fixtureCopy('go-hello');
      expect((await runCli(['init', dir, '--base', 'alpine', '--base-image', mirrorRef])).code).toBe(0);
    });
    afterAll(async () => {
      await docker
        .getImage(mirrorRef)
        .remove({ noprune: true })
        .catch(() => {});
      await registry.stop();
    });

    function dockerConfig(withLogin: boolean): NodeJS.ProcessEnv {
      const d = tmpDir();
      const auths = withLogin
        ? { [registry.host]: { auth: Buffer.from(`${user.username}:${user.password}`).toString('base64') } }
        : {};
      writeFileSync(path.join(d, 'config.json'), JSON.stringify({ auths }));
      return { DOCKER_CONFIG: d };
    }

    it.each(['buildkit', 'classic'])(
      '%s: pulls a base that needs a login with the Docker credentials, and fails clearly without them',
      async (builder) => {
        await docker
          .getImage(mirrorRef)
          .remove({ noprune: true })
          .catch(() => {});
        const denied = await runCli(
          [
            'build',
            dir,
            '--tag',
            `${repo}:${builder}`,
            '--builder',
            builder,
            '--builder-image',
            dockerEnv.refs!.x86_64.golang,
          ],
          { env: dockerConfig(false) },
        );
        expect(denied.code, denied.stderr).toBe(11);
        expect(denied.stderr).toContain(mirrorRef);
        const r = await runCli(
          [
            'build',
            dir,
            '--tag',
            `${repo}:${builder}`,
            '--builder',
            builder,
            '--builder-image',
            dockerEnv.refs!.x86_64.golang,
          ],
          { env: dockerConfig(true) },
        );
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout + r.stderr).not.toContain(user.password);
        expect(await invoke(dir, `${repo}:${builder}`)).toBe('{"message":"Hello AWS Lambda"}');
      },
    );
  },
);
