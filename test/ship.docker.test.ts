// push and deploy against REAL parts: the engine, Debian's docker-registry (distribution 2.8,
// behind htpasswd auth) on 127.0.0.1, and ECR / Lambda control planes of our own making
// reached through the real AWS SDK (AWS_ENDPOINT_URL_ECR / _LAMBDA). Successful pushes use an
// imported image (test/support/plain-image.ts): everything built on a stand-in is refused.
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { FakeEcr, FakeLambda, fakeAwsEnv } from './support/fake-aws.mjs';
import { importPlainImage } from './support/plain-image.mjs';
import { TestRegistry } from './support/registry.mjs';
import { tmpDir } from './support/tmp.js';

const PASSWORD = `pw-${Date.now().toString(36)}-secret`;
const ROLE = 'arn:aws:iam::123456789012:role/lambda-exec';

/**
 * push and deploy report one shape for one function or many: `{ functions: [...], summary }`.
 * A one-function project is a list of one, named after the project.
 */
function only(stdout: string) {
  const out = JSON.parse(stdout) as { functions: unknown[]; summary: Record<string, number> };
  expect(out.functions).toHaveLength(1);
  expect(out.summary.functions).toBe(1);
  return out.functions[0] as any;
}

interface PushJson {
  repository: string;
  tag: string;
  digest: string;
  imageUri: string;
  mediaType: string;
  architecture: string;
  compressedSize: number;
  pushed: boolean;
  layersPushed: number;
  layersExisting: number;
}

describe.skipIf(!dockerEnv.available)('push and deploy (real engine, real registry, fake AWS control planes)', () => {
  const repo = uniqueRepo('ship');
  const registry = new TestRegistry([{ username: 'AWS', password: PASSWORD }]);
  let ecr: FakeEcr;
  let lambda: FakeLambda;
  let project: string;
  let dockerConfig: string;
  let env: NodeJS.ProcessEnv;
  // Re-importing under the same tag leaves the earlier image untagged: remove every one we made.
  const imported: string[] = [];
  const importImage = async (tag: string, marker: string) =>
    imported.push(await importPlainImage(docker, repo, tag, marker));

  /** Each test makes the repositories and functions it needs: any one runs alone, in any order. */
  const ensureRepository = (name: string) => {
    if (!ecr.repositories.has(name)) ecr.repositories.set(name, { immutable: false, scanOnPush: false });
  };
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runCli(args, { env: { ...env, ...extra } });
  const noSecrets = (r: CliResult) => {
    expect(r.stdout + r.stderr).not.toContain(PASSWORD);
    expect(r.stdout + r.stderr).not.toContain(Buffer.from(`AWS:${PASSWORD}`).toString('base64'));
  };
  const writeConfig = (extra: object = {}) =>
    writeFileSync(
      path.join(project, 'lambda-image.json'),
      JSON.stringify(
        {
          version: 1,
          name: repo,
          tag: 'a',
          runtime: 'provided',
          binary: 'bootstrap',
          deploy: { region: 'eu-west-1' },
          ...extra,
        },
        null,
        2,
      ),
    );

  beforeAll(async () => {
    await registry.start();
    ecr = await new FakeEcr(registry).start();
    lambda = await new FakeLambda(registry).start();
    project = tmpDir();
    writeFileSync(path.join(project, 'bootstrap'), '#!/bin/sh\n');
    writeConfig();
    await importImage('a', `first ${Date.now()}`);
    dockerConfig = tmpDir();
    env = { ...fakeAwsEnv(ecr, lambda), DOCKER_CONFIG: dockerConfig };
  });

  afterAll(async () => {
    for (const id of imported)
      await docker
        .getImage(id)
        .remove({ force: true })
        .catch(() => {});
    await lambda?.close();
    await ecr?.close();
    await registry.stop();
  });

  describe('push by full reference (Docker credentials)', () => {
    it('is refused with a login hint when the user has no credentials for the registry', async () => {
      const r = await cli(['push', project, '--repository', `${registry.host}/direct`]);
      expect(r.code).toBe(32);
      expect(r.stderr).toMatch(/error: .*(refused|needs a login|unauthorized)/i);
      expect(r.stderr).toContain(`hint: log in`);
    });

    it('pushes with auths from DOCKER_CONFIG, reads the manifest back and reports it (JSON alone on stdout)', async () => {
      writeFileSync(
        path.join(dockerConfig, 'config.json'),
        JSON.stringify({ auths: { [registry.host]: { auth: Buffer.from(`AWS:${PASSWORD}`).toString('base64') } } }),
      );
      const r = await cli(['push', project, '--repository', `${registry.host}/direct`, '--json']);
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r);
      const out = only(r.stdout) as PushJson;
      expect(out.repository).toBe(`${registry.host}/direct`);
      expect(out.tag).toMatch(/^img-[a-f0-9]{12}$/);
      expect(out.mediaType).toBe('application/vnd.docker.distribution.manifest.v2+json');
      expect(out.architecture).toBe('x86_64');
      expect(out.pushed).toBe(true);
      // The digest is the registry's own for that tag.
      const m = await registry.getManifest('direct', out.tag, 'application/vnd.docker.distribution.manifest.v2+json');
      expect(m.status).toBe(200);
      expect(out.digest).toBe(m.digest);
      const manifest = JSON.parse(m.body.toString()) as { config: { size: number }; layers: Array<{ size: number }> };
      expect(out.compressedSize).toBe(manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0));
      expect(out.imageUri).toBe(`${registry.host}/direct@${m.digest}`);
      // The push tag is removed from the engine afterwards; the image stays.
      const again = await cli([
        'push',
        project,
        '--repository',
        `${registry.host}/direct`,
        '--tag',
        'second',
        '--json',
      ]);
      expect(again.code, again.stderr).toBe(0);
      const second = only(again.stdout) as PushJson;
      expect(second.digest).toBe(out.digest);
      expect(second.layersPushed).toBe(0);
      expect(second.layersExisting).toBeGreaterThan(0);
      // A new tag moved: not unchanged. The same tag again names the same image: unchanged.
      expect((second as PushJson & { unchanged: boolean }).unchanged).toBe(false);
      const third = await cli(['push', project, '--repository', `${registry.host}/direct`, '--tag', 'second']);
      expect(third.code, third.stderr).toBe(0);
      expect(third.stderr).toContain(`unchanged: ${registry.host}/direct:second already held`);
      // The registry's config digest for the tag is the local image ID: nothing is pushed at all
      // (no engine push, so no local push state is needed: a fresh runner says the same).
      const fourth = await cli([
        'push',
        project,
        '--repository',
        `${registry.host}/direct`,
        '--tag',
        'second',
        '--json',
      ]);
      expect(fourth.code, fourth.stderr).toBe(0);
      const held = only(fourth.stdout) as PushJson & { unchanged: boolean };
      expect(held).toMatchObject({ pushed: false, unchanged: true, digest: out.digest, layersPushed: 0 });
    });

    it('asks a credsStore helper (docker-credential-<name> get) for the host', async () => {
      const bin = tmpDir();
      const helper = path.join(bin, 'docker-credential-lambdaimagetest');
      writeFileSync(
        helper,
        `#!/bin/sh\nread host\nif [ "$1" = get ] && [ "$host" = "${registry.host}" ]; then printf '{"ServerURL":"%s","Username":"AWS","Secret":"${PASSWORD}"}' "$host"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
      );
      chmodSync(helper, 0o755);
      const cfg = tmpDir();
      writeFileSync(path.join(cfg, 'config.json'), JSON.stringify({ credsStore: 'lambdaimagetest' }));
      const r = await cli(['push', project, '--repository', `${registry.host}/helper`, '--tag', 'h1'], {
        DOCKER_CONFIG: cfg,
        PATH: `${bin}:${process.env.PATH}`,
      });
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r);
      expect(r.stdout.trim()).toMatch(
        new RegExp(`^${repo} ${registry.host.replace(/\./g, '\\.')}/helper@sha256:[a-f0-9]{64}$`),
      );
    });
  });

  describe('push by ECR repository name', () => {
    it('says how to create a missing repository, and creates it with --create-repository (through throttling)', async () => {
      const missing = await cli(['push', project, '--repository', 'created']);
      expect(missing.code).toBe(33);
      expect(missing.stderr).toContain('ECR repository created does not exist in eu-west-1');
      expect(missing.stderr).toContain('--create-repository');
      expect(ecr.requests).not.toContain('CreateRepository');

      ecr.throttle = { DescribeRepositories: 2 };
      const r = await cli([
        'push',
        project,
        '--repository',
        'created',
        '--create-repository',
        '--scan-on-push',
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      noSecrets(r);
      const out = only(r.stdout) as PushJson;
      expect(out.repository).toBe(`${registry.host}/created`);
      expect(ecr.repositories.get('created')).toEqual({ immutable: false, scanOnPush: true });
      expect(ecr.requests).toEqual(expect.arrayContaining(['CreateRepository', 'GetAuthorizationToken']));
      expect(ecr.throttle.DescribeRepositories).toBe(0);
    });

    it('fails clearly when the registry refuses the ECR token (expired), printing no secret', async () => {
      ensureRepository('orders');
      ecr.password = 'stale-token-value';
      try {
        const r = await cli(['push', project, '--repository', 'orders', '--tag', 'expired']);
        expect(r.code).toBe(32);
        expect(r.stderr).toMatch(/hint: the ECR login was refused: the token may have expired/);
        expect(r.stdout + r.stderr).not.toContain('stale-token-value');
      } finally {
        ecr.password = PASSWORD;
      }
    });

    it("never sends the ECR login to a host other than the token's proxyEndpoint", async () => {
      const seen: string[] = [];
      const trap = http.createServer((req, res) => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="trap"' }).end();
      });
      await new Promise<void>((r) => trap.listen(0, '127.0.0.1', r));
      ecr.repositoryHost = `127.0.0.1:${(trap.address() as AddressInfo).port}`;
      try {
        const r = await cli(['push', project, '--repository', 'elsewhere', '--create-repository']);
        expect(r.code, r.stderr).toBe(32);
        expect(r.stderr).toContain(
          `the ECR login is for ${registry.host} (its proxyEndpoint), not ${ecr.repositoryHost}`,
        );
        expect(seen).toEqual([]);
        noSecrets(r);
      } finally {
        ecr.repositoryHost = undefined;
        trap.closeAllConnections();
        await new Promise((r) => trap.close(r));
      }
    });

    it('treats an immutable tag holding the same image as done, and another image under it as an error', async () => {
      const first = await cli([
        'push',
        project,
        '--repository',
        'frozen',
        '--create-repository',
        '--immutable-tags',
        '--tag',
        'v1',
        '--json',
      ]);
      expect(first.code, first.stderr).toBe(0);
      expect(ecr.repositories.get('frozen')?.immutable).toBe(true);
      const same = await cli(['push', project, '--repository', 'frozen', '--tag', 'v1', '--json']);
      expect(same.code, same.stderr).toBe(0);
      expect((only(same.stdout) as PushJson).pushed).toBe(false);
      expect((only(same.stdout) as PushJson).digest).toBe((only(first.stdout) as PushJson).digest);

      await importImage('other', `other ${Date.now()}`);
      writeConfig({ tag: 'other' });
      try {
        const other = await cli(['push', project, '--repository', 'frozen', '--tag', 'v1']);
        expect(other.code).toBe(34);
        expect(other.stderr).toContain('tag v1 already exists in the immutable repository frozen');
      } finally {
        writeConfig();
      }
    });
  });

  describe('what ships: the image build recorded', () => {
    it('build --tag <repo>:rec, then push ships that image by its ID and says so; --image ships another', async () => {
      // What `build --tag <repo>:rec` records, for an image the config's name:tag does not name.
      const recorded = await importPlainImage(docker, repo, 'rec', `recorded ${Date.now()}`);
      imported.push(recorded);
      const record = path.join(project, '.lambda-image', 'builds.json');
      mkdirSync(path.dirname(record), { recursive: true });
      writeFileSync(
        record,
        JSON.stringify({
          latest: ['aws'],
          variants: {
            aws: {
              variant: 'aws',
              image: `${repo}:rec`,
              id: recorded,
              arch: 'x86_64',
              builtAt: '2026-11-26T22:00:00Z',
            },
          },
        }),
      );
      try {
        ensureRepository('orders');
        const r = await cli(['push', project, '--repository', 'orders', '--json']);
        expect(r.code, r.stderr).toBe(0);
        expect((only(r.stdout) as PushJson & { source: string }).source).toBe(`${repo}:rec`);
        expect(r.stderr).toContain(`shipping ${repo}:rec (aws, x86_64, built 2026-11-26T22:00:00Z)`);
        expect((only(r.stdout) as PushJson).tag).toBe(`img-${recorded.slice(7, 19)}`);

        const other = await cli(['push', project, '--repository', 'orders', '--image', `${repo}:a`, '--json']);
        expect(other.code, other.stderr).toBe(0);
        expect((only(other.stdout) as PushJson & { source: string }).source).toBe(`${repo}:a`);
        expect(other.stderr).toContain(`shipping ${repo}:a (--image)`);
      } finally {
        rmSync(record, { force: true });
      }
    });
  });

  describe('deploy', () => {
    it('creates the function by digest, then after a code change updates it to the new digest (through conflicts)', async () => {
      ensureRepository('orders');
      writeConfig({
        memorySize: 256,
        deploy: {
          region: 'eu-west-1',
          repository: 'orders',
          functionName: 'orders-fn',
          role: ROLE,
          environment: { STAGE: 'dev' },
        },
      });
      const created = await cli(['deploy', project, '--json']);
      expect(created.code, created.stderr).toBe(0);
      noSecrets(created);
      const c = only(created.stdout) as {
        action: string;
        digest: string;
        resolvedImageUri: string;
        imageUri: string;
        architecture: string;
      };
      expect(c.action).toBe('created');
      expect(c.imageUri).toBe(`${registry.host}/orders@${c.digest}`);
      expect(c.resolvedImageUri).toBe(c.imageUri);
      const fn = lambda.functions.get('orders-fn')!;
      expect(fn.imageUri).toContain('@sha256:'); // by digest, never by tag
      expect(fn.architectures).toEqual(['x86_64']);
      expect(fn.memorySize).toBe(256);
      expect(fn.environment).toEqual({ STAGE: 'dev' });
      expect(fn.state).toBe('Active');

      // A code change: a new root file system under the same local name:tag.
      await importImage('a', `second ${Date.now()}`);
      writeConfig({
        memorySize: 512,
        deploy: {
          region: 'eu-west-1',
          repository: 'orders',
          functionName: 'orders-fn',
          role: ROLE,
          environment: { STAGE: 'dev' },
        },
      });
      lambda.conflicts = 2;
      lambda.throttle = 1; // TooManyRequestsException: the SDK's own retry absorbs it
      lambda.requests = [];
      const updated = await cli(['deploy', project, '--publish', '--alias', 'live', '--json']);
      expect(updated.code, updated.stderr).toBe(0);
      const u = only(updated.stdout) as {
        action: string;
        digest: string;
        resolvedImageUri: string;
        configurationUpdated: boolean;
        version: string;
        alias: { name: string; action: string };
      };
      expect(u.action).toBe('updated');
      expect(u.digest).not.toBe(c.digest);
      expect(u.resolvedImageUri).toBe(`${registry.host}/orders@${u.digest}`);
      expect(lambda.functions.get('orders-fn')!.resolvedImageUri).toBe(u.resolvedImageUri);
      expect(lambda.requests[0]).toBe('Throttled');
      expect(lambda.requests.filter((r) => r === 'UpdateFunctionCode')).toHaveLength(3); // two conflicts, then accepted
      expect(u.configurationUpdated).toBe(true);
      expect(lambda.functions.get('orders-fn')!.memorySize).toBe(512);
      expect(u.version).toBe('1');
      expect(u.alias).toEqual({ name: 'live', action: 'created' });
    });

    it("leaves a one-function project's function alone when it already runs the image, as for several; --force updates it", async () => {
      ensureRepository('orders');
      writeConfig({
        deploy: { region: 'eu-west-1', repository: 'orders', functionName: 'orders-same', role: ROLE },
      });
      const created = await cli(['deploy', project, '--json']);
      expect(created.code, created.stderr).toBe(0);
      const c = only(created.stdout) as { function: string; action: string; digest: string };
      expect([c.function, c.action]).toEqual([repo, 'created']);

      // The same image and settings again: nothing is updated, and the line says so.
      lambda.requests = [];
      const again = await cli(['deploy', project]);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain(`${repo}: unchanged (${c.digest.slice(0, 19)}… already deployed)`);
      expect(again.stderr).toContain('deployed 1 function: 0 created, 0 updated, 1 unchanged');
      expect(lambda.requests.filter((r) => r.startsWith('Update'))).toEqual([]);

      const forced = await cli(['deploy', project, '--force', '--json']);
      expect(forced.code, forced.stderr).toBe(0);
      expect((only(forced.stdout) as { action: string }).action).toBe('updated');
      expect(lambda.requests.filter((r) => r === 'UpdateFunctionCode')).toHaveLength(1);
    });

    it('publishes only the code it checked: a deploy landing in between makes --publish fail, nothing published', async () => {
      const push = async (tag: string) => {
        const r = await cli(['push', project, '--repository', 'raced', '--create-repository', '--tag', tag, '--json']);
        expect(r.code, r.stderr).toBe(0);
        return only(r.stdout) as PushJson;
      };
      const checked = await push('checked');
      await importImage('raced', `raced ${Date.now()}`);
      // The config the later tests use stays as the earlier ones left it.
      const configFile = path.join(project, 'lambda-image.json');
      const saved = readFileSync(configFile, 'utf8');
      writeConfig({ tag: 'raced' });
      try {
        await push('other');
      } finally {
        writeFileSync(configFile, saved);
      }
      lambda.raceBeforePublish = `${registry.host}/raced:other`;
      const r = await cli([
        'deploy',
        project,
        '--image-uri',
        `${registry.host}/raced:checked`,
        '--function-name',
        'raced-fn',
        '--role',
        ROLE,
        '--alias',
        'live',
      ]);
      expect(r.code, r.stderr).toBe(36);
      expect(r.stderr).toContain('raced-fn changed after this deploy checked it');
      const fn = lambda.functions.get('raced-fn')!;
      expect(fn.versions).toEqual([]);
      expect(fn.aliases.size).toBe(0);
      expect(fn.resolvedImageUri).not.toContain(checked.digest);

      // Without a race the same deploy publishes the checked digest.
      const ok = await cli([
        'deploy',
        project,
        '--image-uri',
        `${registry.host}/raced:checked`,
        '--function-name',
        'raced-fn',
        '--publish',
        '--json',
      ]);
      expect(ok.code, ok.stderr).toBe(0);
      expect(fn.versions).toEqual([`${registry.host}/raced@${checked.digest}`]);
    });

    it("prints Lambda's reason when the update ends Failed", async () => {
      ensureRepository('orders');
      writeConfig({
        deploy: { region: 'eu-west-1', repository: 'orders', functionName: 'orders-failing', role: ROLE },
      });
      try {
        const created = await cli(['deploy', project]);
        expect(created.code, created.stderr).toBe(0);
        lambda.failNextUpdate = 'Lambda does not have permission to access the ECR image.';
        // The same image: without --force it would be left alone (unchanged), never updated.
        const r = await cli(['deploy', project, '--tag', 'failing', '--force']);
        expect(r.code).toBe(36);
        expect(r.stderr).toContain('ended Failed: Lambda does not have permission to access the ECR image.');
      } finally {
        writeConfig();
      }
    });

    it('refuses a registry Lambda cannot use before pushing anything there', async () => {
      lambda.requests = [];
      const r = await cli([
        'deploy',
        project,
        '--repository',
        `${registry.host}/not-ecr`,
        '--function-name',
        'orders-fn',
      ]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(
        `${registry.host} is not Amazon ECR: Lambda runs images from ECR private repositories only`,
      );
      const tags = await fetch(`http://${registry.host}/v2/not-ecr/tags/list`, { headers: registry.authHeader() });
      expect(tags.status).toBe(404); // nothing was pushed
      expect(lambda.requests).toEqual([]);
    });

    it('refuses an image index before Lambda is called, with the fix', async () => {
      // An OCI index (what BuildKit's attestations produce), put into the real registry by the Registry API.
      ensureRepository('orders');
      const source = await cli(['push', project, '--repository', 'orders', '--tag', 'index-src']);
      expect(source.code, source.stderr).toBe(0);
      const pushed = await registry.getManifest(
        'orders',
        'index-src',
        'application/vnd.docker.distribution.manifest.v2+json',
      );
      const index = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.index.v1+json',
          manifests: [
            {
              mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
              digest: pushed.digest,
              size: pushed.body.length,
              platform: { architecture: 'amd64', os: 'linux' },
            },
          ],
        }),
      );
      await registry.putManifest('orders', 'index', index, 'application/vnd.oci.image.index.v1+json');
      lambda.requests = [];
      const r = await cli([
        'deploy',
        project,
        '--image-uri',
        `${registry.host}/orders:index`,
        '--function-name',
        'orders-index',
      ]);
      expect(r.code, r.stderr).toBe(31);
      expect(r.stderr).toContain('is an image index');
      expect(r.stderr).toContain('--provenance=false');
      expect(lambda.requests).toEqual([]);
    });

    it('refuses an image built on a stand-in (init, build, then push and deploy), with nothing sent anywhere', async () => {
      const dir = tmpDir();
      writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
      const standinRepo = `${repo}-standin`;
      expect(
        (
          await cli([
            'init',
            dir,
            '--runtime',
            'provided',
            '--binary',
            path.join(dir, 'bootstrap'),
            '--base',
            'alpine',
            '--name',
            standinRepo,
          ])
        ).code,
      ).toBe(0);
      const built = await cli(['build', dir, '--tag', `${standinRepo}:v7`, ...standin('x86_64')]);
      expect(built.code, built.stderr).toBe(0);
      try {
        lambda.requests = [];
        ecr.requests = [];
        const push = await cli(['push', dir, '--repository', 'orders']);
        expect(push.code, push.stderr).toBe(35);
        expect(push.stderr).toContain(`${standinRepo}:v7 is built on a lambda-image stand-in base`);
        const deploy = await cli(['deploy', dir, '--repository', 'orders', '--function-name', 'orders-fn']);
        expect(deploy.code).toBe(35);
        expect(lambda.requests).toEqual([]);
        expect(ecr.requests).toEqual([]);
      } finally {
        const { removeContainersAndImages } = await import('./support/docker.js');
        await removeContainersAndImages(standinRepo);
      }
    });
  });

  describe('the fake control planes answer the AWS CLI as AWS does', () => {
    const aws = async (args: string[]) => {
      const { execFile } = await import('node:child_process');
      return new Promise<unknown>((resolve, reject) =>
        execFile(
          'aws',
          [...args, '--output', 'json'],
          { env: { ...process.env, ...env, AWS_PAGER: '' } },
          (err, stdout, stderr) => (err ? reject(new Error(`${stderr}${stdout}`)) : resolve(JSON.parse(stdout))),
        ),
      );
    };

    it('ecr describe-repositories, get-authorization-token and describe-images', async () => {
      ecr.repositories.set('cli-check', { immutable: true, scanOnPush: false });
      // A minimal OCI image manifest, put into the real registry through the Registry API.
      const { createHash } = await import('node:crypto');
      const config = Buffer.from(
        JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
      );
      const configDigest = 'sha256:' + createHash('sha256').update(config).digest('hex');
      await registry.putBlob('cli-check', config, configDigest);
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
          layers: [],
        }),
      );
      const digest = await registry.putManifest(
        'cli-check',
        'v1',
        manifest,
        'application/vnd.oci.image.manifest.v1+json',
      );

      const repos = (await aws([
        'ecr',
        'describe-repositories',
        '--repository-names',
        'cli-check',
        '--endpoint-url',
        ecr.endpoint,
      ])) as { repositories: Array<{ repositoryUri: string; imageTagMutability: string }> };
      expect(repos.repositories[0]).toMatchObject({
        repositoryUri: `${registry.host}/cli-check`,
        imageTagMutability: 'IMMUTABLE',
      });
      const token = (await aws(['ecr', 'get-authorization-token', '--endpoint-url', ecr.endpoint])) as {
        authorizationData: Array<{ authorizationToken: string; proxyEndpoint: string }>;
      };
      expect(Buffer.from(token.authorizationData[0]!.authorizationToken, 'base64').toString()).toBe(`AWS:${PASSWORD}`);
      expect(token.authorizationData[0]!.proxyEndpoint).toBe(`http://${registry.host}`);
      const images = (await aws([
        'ecr',
        'describe-images',
        '--repository-name',
        'cli-check',
        '--image-ids',
        'imageTag=v1',
        '--endpoint-url',
        ecr.endpoint,
      ])) as { imageDetails: Array<{ imageDigest: string; imageManifestMediaType: string }> };
      expect(images.imageDetails[0]).toMatchObject({
        imageDigest: digest,
        imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
      });
      await expect(
        aws([
          'ecr',
          'describe-images',
          '--repository-name',
          'cli-check',
          '--image-ids',
          'imageTag=v2',
          '--endpoint-url',
          ecr.endpoint,
        ]),
      ).rejects.toThrow(/ImageNotFoundException/);
      await expect(
        aws(['ecr', 'describe-repositories', '--repository-names', 'nope', '--endpoint-url', ecr.endpoint]),
      ).rejects.toThrow(/RepositoryNotFoundException/);
    });

    it('lambda get-function, get-function-configuration and not-found', async () => {
      const uri = `${registry.host}/cli-check@sha256:${'a'.repeat(64)}`;
      lambda.functions.set('cli-fn', {
        name: 'cli-fn',
        role: ROLE,
        imageUri: uri,
        resolvedImageUri: uri,
        architectures: ['arm64'],
        memorySize: 128,
        timeout: 3,
        state: 'Active',
        lastUpdateStatus: 'Successful',
        pollsLeft: 0,
        versions: [],
        aliases: new Map(),
      });
      const fn = (await aws([
        'lambda',
        'get-function',
        '--function-name',
        'cli-fn',
        '--endpoint-url',
        lambda.endpoint,
      ])) as {
        Configuration: { PackageType: string; State: string; Architectures: string[] };
        Code: { ResolvedImageUri: string };
      };
      expect(fn.Configuration).toMatchObject({ PackageType: 'Image', State: 'Active', Architectures: ['arm64'] });
      expect(fn.Code.ResolvedImageUri).toBe(uri);
      const conf = (await aws([
        'lambda',
        'get-function-configuration',
        '--function-name',
        'cli-fn',
        '--endpoint-url',
        lambda.endpoint,
      ])) as { LastUpdateStatus: string };
      expect(conf.LastUpdateStatus).toBe('Successful');
      await expect(
        aws(['lambda', 'get-function', '--function-name', 'missing', '--endpoint-url', lambda.endpoint]),
      ).rejects.toThrow(/ResourceNotFoundException/);
    });
  });
});
