// The pure parts of push, deploy and ci github: manifest checks, ECR hosts, the deploy
// repository rule, settings diffs, the push stream, registry auth (against a real local
// HTTP token service), Docker credentials, and the workflow (validated against GitHub's
// workflow schema by @action-validator/core).
import { createHash } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { checkWorkflowSpec, githubTrustPolicy } from '../src/app/ci-github.js';
import { checkLambdaRepository, settingsDiff } from '../src/app/deploy.js';
import { contentTag } from '../src/app/push.js';
import { validateConfig } from '../src/config/schema.js';
import { PushStreamParser } from '../src/docker/push.js';
import { dockerCredentialsFor } from '../src/registry/docker-credentials.js';
import { hostOfEndpoint } from '../src/aws/ecr.js';
import { ecrRepositoryNameProblem, parseEcrHost } from '../src/registry/ecr-host.js';
import { checkManifest, lambdaArchitecture, MEDIA_TYPES } from '../src/registry/manifest.js';
import { parseWwwAuthenticate, RegistryClient } from '../src/registry/registry-client.js';
import { renderGithubWorkflow, type GithubWorkflowSpec } from '../src/render/render.js';
import { tmpDir } from './support/tmp.js';

const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
const manifest = (mediaType: string, extra: object = {}) =>
  Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { digest: 'sha256:' + 'c'.repeat(64), size: 100 },
      layers: [{ digest: 'sha256:' + 'd'.repeat(64), size: 1000 }],
      ...extra,
    }),
  );

describe('checkManifest', () => {
  it('accepts Docker v2 schema 2 and OCI image manifests, with digest and compressed size', () => {
    for (const type of [MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest]) {
      const body = manifest(type);
      const check = checkManifest(body, undefined, 'r:t', sha(body));
      expect(check).toEqual({
        mediaType: type,
        digest: sha(body),
        configDigest: 'sha256:' + 'c'.repeat(64),
        compressedSize: 1100,
      });
    }
  });

  it('takes the media type from Content-Type when the body has none', () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'sha256:x', size: 1 }, layers: [] }));
    expect(checkManifest(body, `${MEDIA_TYPES.ociManifest}; charset=utf-8`, 'r:t').mediaType).toBe(
      MEDIA_TYPES.ociManifest,
    );
  });

  it('refuses an OCI index and a Docker manifest list, naming their platforms and the fix', () => {
    for (const type of [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerList]) {
      const body = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: type,
          manifests: [
            { digest: 'sha256:a', size: 1, platform: { os: 'linux', architecture: 'amd64' } },
            { digest: 'sha256:b', size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
          ],
        }),
      );
      expect(() => checkManifest(body, undefined, 'r:t')).toThrow(
        expect.objectContaining({
          code: 'MANIFEST_REJECTED',
          message: expect.stringContaining('linux/amd64, unknown/unknown'),
          hint: expect.stringContaining('--provenance=false --sbom=false'),
        }),
      );
    }
  });

  it('refuses a manifest that does not hash to the pushed digest, and unknown media types', () => {
    const body = manifest(MEDIA_TYPES.dockerManifest);
    expect(() => checkManifest(body, undefined, 'r:t', 'sha256:' + '0'.repeat(64))).toThrow(
      /has digest sha256:[a-f0-9]{64}, not sha256:0{64}/,
    );
    expect(() =>
      checkManifest(manifest('application/vnd.docker.distribution.manifest.v1+prettyjws'), undefined, 'r:t'),
    ).toThrow(/which Lambda does not accept/);
    expect(() => checkManifest(Buffer.from('<html>'), undefined, 'r:t')).toThrow(/not a JSON manifest/);
  });

  it("maps config architectures to Lambda's names and refuses others", () => {
    expect(lambdaArchitecture('amd64', 'linux', 'x')).toBe('x86_64');
    expect(lambdaArchitecture('arm64', 'linux', 'x')).toBe('arm64');
    expect(() => lambdaArchitecture('s390x', 'linux', 'x')).toThrow(/Lambda runs amd64 \(x86_64\) or arm64/);
    expect(() => lambdaArchitecture('amd64', 'windows', 'x')).toThrow(/Lambda runs linux images/);
  });
});

describe('ECR hosts and the repository Lambda may use', () => {
  it('parses ECR hosts, FIPS and China included, and nothing else', () => {
    expect(parseEcrHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toEqual({
      account: '123456789012',
      region: 'eu-west-1',
      fips: false,
    });
    expect(parseEcrHost('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com')).toEqual({
      account: '123456789012',
      region: 'us-east-1',
      fips: true,
    });
    expect(parseEcrHost('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe('cn-north-1');
    expect(parseEcrHost('ghcr.io')).toBeUndefined();
    expect(parseEcrHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example')).toBeUndefined();
    expect(hostOfEndpoint('https://123456789012.dkr.ecr.eu-west-1.amazonaws.com')).toBe(
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
    );
    expect(ecrRepositoryNameProblem('team/orders')).toBeUndefined();
    expect(ecrRepositoryNameProblem('Orders')).toMatch(/lower-case/);
  });

  it('refuses FIPS hosts, ECR Public, another region and non-ECR registries', () => {
    expect(() =>
      checkLambdaRepository('123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'eu-west-1', false),
    ).not.toThrow();
    expect(() =>
      checkLambdaRepository('123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', 'us-east-1', false),
    ).toThrow(/FIPS endpoint/);
    expect(() => checkLambdaRepository('123456789012.dkr.ecr.us-east-1.amazonaws.com', 'eu-west-1', false)).toThrow(
      /in us-east-1 and the function in eu-west-1/,
    );
    expect(() => checkLambdaRepository('public.ecr.aws', 'eu-west-1', false)).toThrow(/ECR Public/);
    expect(() => checkLambdaRepository('ghcr.io', 'eu-west-1', false)).toThrow(/not Amazon ECR/);
    // The host ECR itself answered as this account's registry (proxyEndpoint) is accepted.
    expect(() => checkLambdaRepository('127.0.0.1:5000', 'eu-west-1', true)).not.toThrow();
  });
});

describe('deploy decisions', () => {
  it('updates only the settings the config sets and that differ', () => {
    const current = { memorySize: 128, timeout: 3, environment: { A: '1' } };
    expect(settingsDiff(current, {})).toEqual({});
    expect(settingsDiff(current, { memorySize: 128, timeout: 3, environment: { A: '1' } })).toEqual({});
    expect(settingsDiff(current, { memorySize: 256, environment: { A: '1', B: '2' } })).toEqual({
      memorySize: 256,
      environment: { A: '1', B: '2' },
    });
    expect(settingsDiff(current, { environment: {} })).toEqual({ environment: {} });
  });

  it('tags by content, never latest', () => {
    expect(contentTag('sha256:0123456789abcdef0123')).toBe('img-0123456789ab');
  });

  it('validates the deploy section of lambda-image.json', () => {
    const base = { name: 'fn', runtime: 'provided', binary: 'bootstrap' };
    expect(
      validateConfig({
        ...base,
        deploy: {
          repository: 'orders',
          functionName: 'orders',
          region: 'eu-west-1',
          role: 'arn:aws:iam::123456789012:role/x',
          environment: { STAGE: 'dev' },
        },
      }).errors,
    ).toEqual([]);
    expect(validateConfig({ ...base, deploy: { repository: 'orders:v1' } }).errors).toEqual([
      'deploy.repository: must name a repository without a tag or digest (push chooses the tag)',
    ]);
    expect(validateConfig({ ...base, deploy: { role: 'admin' } }).errors[0]).toMatch(
      /^deploy.role: must be an IAM role ARN/,
    );
    expect(validateConfig({ ...base, deploy: { bucket: 'x' } }).errors).toEqual([
      'deploy.bucket: is not a known setting',
    ]);
    // Every unknown key is named in one run (a strict object reports only its first), beside the other problems.
    const many = validateConfig({ ...base, foo: 1, bar: 2, memorySize: 1, deploy: { bucket: 'x', acl: 'y' } });
    expect(many.errors).toEqual(
      expect.arrayContaining([
        'foo: is not a known setting',
        'bar: is not a known setting',
        'deploy.bucket: is not a known setting',
        'deploy.acl: is not a known setting',
        expect.stringMatching(/^memorySize: /),
      ]),
    );
    expect(many.errors).toHaveLength(5);
  });
});

describe('PushStreamParser', () => {
  it('takes the digest from the aux line and counts layers sent and already there', () => {
    const events: string[] = [];
    const p = new PushStreamParser((e) => events.push(`${e.id} ${e.status}`));
    p.push(
      '{"status":"The push refers to repository [r]"}\n{"status":"Preparing","id":"a"}\n{"status":"Pushing","id":"a","progressDetail":{"current":5,"total":10}}\n{"status":"Pushed","id":"a"}\n{"status":"Layer already exists","id":"b"}\n{"status":"t: digest: sha256:',
    );
    p.push('abc size: 5"}\n{"progressDetail":{},"aux":{"Tag":"t","Digest":"sha256:abc","Size":528}}');
    const out = p.end();
    expect(out).toEqual({ digest: 'sha256:abc', size: 528, layersPushed: 1, layersExisting: 1 });
    expect(events).toEqual(['a Preparing', 'a Pushing', 'a Pushed', 'b Layer already exists']);
  });

  it("fails on an errorDetail line, keeping the registry's words", () => {
    const p = new PushStreamParser();
    p.push(
      '{"status":"Preparing","id":"a"}\n{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}\n',
    );
    expect(p.end().error).toBe('unauthorized: authentication required');
  });
});

describe('registry auth', () => {
  it('parses WWW-Authenticate challenges', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
    });
    expect(parseWwwAuthenticate('Basic realm="x"').scheme).toBe('basic');
  });

  it("gets a Bearer token from the realm with the user's credentials and reads the manifest (real HTTP on 127.0.0.1)", async () => {
    const body = manifest(MEDIA_TYPES.ociManifest);
    const seen: string[] = [];
    const server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization?.split(' ')[0] ?? '-'}`);
      const port = (server.address() as AddressInfo).port;
      if (req.url?.startsWith('/token')) {
        const ok = req.headers.authorization === 'Basic ' + Buffer.from('me:pw').toString('base64');
        res
          .writeHead(ok ? 200 : 401, { 'Content-Type': 'application/json' })
          .end(ok ? JSON.stringify({ token: 'T0K' }) : '{}');
        return;
      }
      if (req.headers.authorization !== 'Bearer T0K') {
        res
          .writeHead(401, {
            'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test",scope="repository:team/fn:pull"`,
          })
          .end();
        return;
      }
      expect(req.headers.accept).toContain(MEDIA_TYPES.ociIndex);
      res.writeHead(200, { 'Content-Type': MEDIA_TYPES.ociManifest, 'Docker-Content-Digest': sha(body) }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await new RegistryClient(host, { username: 'me', password: 'pw', source: 'test' }).getManifest(
        'team/fn',
        'v1',
      );
      expect(res.digest).toBe(sha(body));
      expect(seen).toEqual([
        'GET /v2/team/fn/manifests/v1 -',
        'GET /token?service=test&scope=repository%3Ateam%2Ffn%3Apull Basic',
        'GET /v2/team/fn/manifests/v1 Bearer',
      ]);
      await expect(
        new RegistryClient(host, { username: 'me', password: 'wrong', source: 'test' }).getManifest('team/fn', 'v1'),
      ).rejects.toMatchObject({ code: 'REGISTRY_AUTH_FAILED' });
    } finally {
      server.close();
    }
  });
});

describe('registryAuthFor (the engine login for any registry call, builds included)', () => {
  it('asks ECR for an ECR host (through the real SDK and a local ECR), and Docker credentials for others', async () => {
    const { FakeEcr } = await import('./support/fake-aws.mjs');
    const { registryAuthFor } = await import('../src/registry/auth.js');
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
    // The login's proxyEndpoint names the host, as ECR's does: the login is used for that host only.
    const ecr = await new FakeEcr({ host, users: [{ username: 'AWS', password: 'ecr-pw' }] }, 'eu-west-1').start();
    const saved = { ...process.env };
    const dir = tmpDir();
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('gh:tok').toString('base64') } } }),
    );
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_ECR: ecr.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'x',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      DOCKER_CONFIG: dir,
    });
    try {
      expect(await registryAuthFor(`${host}/orders:v1`)).toEqual({
        username: 'AWS',
        password: 'ecr-pw',
        serveraddress: host,
      });
      expect(ecr.requests).toEqual(['GetAuthorizationToken']);
      expect(await registryAuthFor('ghcr.io/acme/base:1')).toEqual({
        username: 'gh',
        password: 'tok',
        serveraddress: 'ghcr.io',
      });
      expect(await registryAuthFor('alpine:3.22')).toBeUndefined();
      // A login whose proxyEndpoint is another host never goes to this one.
      await expect(registryAuthFor('210987654321.dkr.ecr.eu-west-1.amazonaws.com/orders:v1')).rejects.toThrow(
        `the ECR login is for ${host} (its proxyEndpoint), not 210987654321.dkr.ecr.eu-west-1.amazonaws.com`,
      );
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
      await ecr.close();
    }
  });
});

describe('Docker credentials', () => {
  it('reads auths, prefers credHelpers for their host, and reports a missing helper clearly', async () => {
    const dir = tmpDir();
    const bin = tmpDir();
    writeFileSync(
      path.join(bin, 'docker-credential-unit'),
      '#!/bin/sh\nread host\nprintf \'{"Username":"helper-user","Secret":"s-%s"}\' "$host"\n',
    );
    chmodSync(path.join(bin, 'docker-credential-unit'), 0o755);
    writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({
        auths: {
          'reg.example:5000': { auth: Buffer.from('u:p:with:colons').toString('base64') },
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
        },
        credHelpers: { 'helped.example': 'unit', 'broken.example': 'does-not-exist' },
      }),
    );
    const env = { DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` };
    expect(await dockerCredentialsFor('reg.example:5000', env)).toMatchObject({
      username: 'u',
      password: 'p:with:colons',
    });
    expect(await dockerCredentialsFor('docker.io', env)).toMatchObject({ username: 'hub', password: 'pw' });
    expect(await dockerCredentialsFor('helped.example', env)).toMatchObject({
      username: 'helper-user',
      password: 's-helped.example',
      source: 'docker-credential-unit',
    });
    expect(await dockerCredentialsFor('other.example', env)).toBeUndefined();
    await expect(dockerCredentialsFor('broken.example', env)).rejects.toMatchObject({
      code: 'REGISTRY_AUTH_FAILED',
      message: 'credential helper docker-credential-does-not-exist is not installed',
    });
  });
});

describe('ci github workflow', () => {
  const spec: GithubWorkflowSpec = {
    dir: 'functions/orders',
    repository: 'orders',
    region: 'eu-west-1',
    roleToAssume: '${{ vars.LAMBDA_IMAGE_ROLE_ARN }}',
    functionRole: '${{ vars.LAMBDA_IMAGE_FUNCTION_ROLE_ARN }}',
    version: '0.1.0',
    // One function, its targets named when the workflow was written (ci github --function-name).
    functions: [{ name: 'orders', prodFunction: 'orders', devFunction: 'orders-dev', region: 'eu-west-1' }],
    namedTargets: { prodFunction: 'orders', devFunction: 'orders-dev' },
  };

  it('is a valid GitHub Actions workflow (action-validator, the workflow JSON schema)', () => {
    const yaml = renderGithubWorkflow(spec);
    expect(validateWorkflow(yaml).errors).toEqual([]);
    // The validator is not a rubber stamp: a broken workflow fails it.
    expect(validateWorkflow(yaml.replace('runs-on:', 'runs-onn:')).errors.length).toBeGreaterThan(0);
  });

  it('deploys dev and main with OIDC only, lambda-image itself, commit-SHA tags, one run per branch at a time', () => {
    const yaml = renderGithubWorkflow(spec);
    expect(yaml).toContain('branches: [dev, main]');
    expect(yaml).toMatch(/permissions:\n {2}id-token: write\n {2}contents: read/);
    // Current majors (late 2026): v6 of configure-aws-credentials runs on the runners' Node 24.
    // Every action pinned by commit SHA, its release tag in a comment; no tag reference left.
    expect(yaml).toContain('aws-actions/configure-aws-credentials@8df5847569e6427dd6c4fb1cf565c83acfa8afa7 # v6.0.0');
    expect(yaml).toContain('actions/checkout@1af3b93b6815bc44a9784bd300feb67ff0d1eeb3 # v6.0.0');
    expect(yaml).toContain('actions/setup-node@2028fbc5c25fe9cf00d9f06a71cc4710d4507903 # v6.0.0');
    const uses = [...yaml.matchAll(/uses: (\S+)/g)].map((m) => m[1]!);
    expect(uses).toHaveLength(3);
    for (const u of uses) expect(u).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
    // A function that does not exist yet (dev, first push) is created with the execution role variable.
    expect(yaml).toContain('FUNCTION_ROLE: ${{ vars.LAMBDA_IMAGE_FUNCTION_ROLE_ARN }}');
    expect(yaml).toContain('${FUNCTION_ROLE:+--role "$FUNCTION_ROLE"}');
    expect(yaml).toContain('role-to-assume: ${{ vars.LAMBDA_IMAGE_ROLE_ARN }}');
    expect(yaml).not.toMatch(/aws-access-key-id|AWS_SECRET_ACCESS_KEY|secrets\./);
    expect(yaml).toContain(`--function-name "\${{ github.ref_name == 'main' && 'orders' || 'orders-dev' }}"`);
    expect(yaml).toContain('--tag "${{ github.sha }}"');
    expect(yaml).toContain('group: lambda-image-${{ github.ref_name }}');
    expect(yaml).toContain('npm install --global lambda-image@0.1.0');
    expect(yaml).toContain('lambda-image build functions/orders');
    expect(yaml).toContain('lambda-image deploy functions/orders');
  });

  it('refuses values that could break out of the YAML', () => {
    expect(() => checkWorkflowSpec({ ...spec, namedTargets: { prodFunction: "x' || 'y", devFunction: 'd' } })).toThrow(
      /function name/,
    );
    expect(() => checkWorkflowSpec({ ...spec, dir: 'a b' })).toThrow(/directory/);
    expect(() => checkWorkflowSpec({ ...spec, roleToAssume: 'arn:aws:iam::123456789012:role/ci\nrun: x' })).toThrow(
      /role/,
    );
    expect(() => checkWorkflowSpec({ ...spec, roleToAssume: 'arn:aws:iam::123456789012:role/ci' })).not.toThrow();
  });

  it("prints a trust policy limited to the repository's dev and main branches", () => {
    const policy = githubTrustPolicy('acme/orders', '123456789012') as {
      Statement: Array<{
        Principal: { Federated: string };
        Condition: { StringLike: Record<string, string[]>; StringEquals: Record<string, string> };
      }>;
    };
    const st = policy.Statement[0]!;
    expect(st.Principal.Federated).toBe('arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com');
    expect(st.Condition.StringEquals['token.actions.githubusercontent.com:aud']).toBe('sts.amazonaws.com');
    expect(st.Condition.StringLike['token.actions.githubusercontent.com:sub']).toEqual([
      'repo:acme/orders:ref:refs/heads/main',
      'repo:acme/orders:ref:refs/heads/dev',
    ]);
  });
});
