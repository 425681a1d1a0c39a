// The edges a hostile or unlucky user reaches: writes through links that leave the project,
// untrusted text printed to a terminal, exit-code literals. Real files, the built CLI.
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { secretFileWarnings } from '../src/app/build.js';
import { LambdaApi } from '../src/aws/lambda.js';
import { formatTable } from '../src/cli/format.js';
import { parseConfig } from '../src/config/schema.js';
import { listContextFiles } from '../src/docker/build-context.js';
import { renderDockerignore } from '../src/render/render.js';
import { printable, printableLines } from '../src/util/printable.js';
import { REPO_ROOT, runCliInProcess as runCli } from './support/cli.js';
import { FakeEcr, FakeLambda, fakeAwsEnv } from './support/fake-aws.mjs';
import { tmpDir } from './support/tmp.js';

function repoWithFunction(extraConfig: object = {}): { root: string; fn: string } {
  const root = tmpDir();
  mkdirSync(path.join(root, '.git'));
  const fn = path.join(root, 'fn');
  mkdirSync(fn);
  writeFileSync(
    path.join(fn, 'lambda-image.json'),
    JSON.stringify({
      name: 'orders',
      runtime: 'provided',
      binary: 'bootstrap',
      deploy: { repository: 'orders', functionName: 'orders-prod', region: 'eu-west-1' },
      ...extraConfig,
    }),
  );
  return { root, fn };
}

describe('writes never go through a link that leaves the project', () => {
  it('ci github --force refuses a workflow file linked to a file outside the repository', async () => {
    const { root, fn } = repoWithFunction();
    const outside = path.join(tmpDir(), 'precious.yml');
    writeFileSync(outside, 'precious\n');
    mkdirSync(path.join(root, '.github', 'workflows'), { recursive: true });
    symlinkSync(outside, path.join(root, '.github', 'workflows', 'lambda-image.yml'));
    const r = await runCli(['ci', 'github', fn, '--force']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/refusing to write .*lambda-image\.yml: a link leads it to .*precious\.yml, outside/);
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
  });

  it('ci github refuses a linked .github/workflows folder outside the repository, even without --force', async () => {
    const { root, fn } = repoWithFunction();
    const outside = tmpDir();
    mkdirSync(path.join(root, '.github'));
    symlinkSync(outside, path.join(root, '.github', 'workflows'));
    const r = await runCli(['ci', 'github', fn]);
    expect(r.code, r.stderr).toBe(2);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('ci github refuses a linked .github folder whose workflows folder does not exist yet (nothing created outside)', async () => {
    const { root, fn } = repoWithFunction();
    const outside = tmpDir();
    symlinkSync(outside, path.join(root, '.github'));
    const r = await runCli(['ci', 'github', fn]);
    expect(r.code, r.stderr).toBe(2);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('init --force refuses a Dockerfile or lambda-image.json linked outside the project, and a dangling link out', async () => {
    for (const name of ['Dockerfile', 'lambda-image.json']) {
      const dir = tmpDir();
      writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
      const outside = path.join(tmpDir(), 'kept');
      writeFileSync(outside, 'kept\n');
      symlinkSync(outside, path.join(dir, name));
      const r = await runCli(['init', '--runtime', 'provided', '--binary', 'bootstrap', '--force'], { cwd: dir });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('a link leads it to');
      expect(readFileSync(outside, 'utf8')).toBe('kept\n');
    }
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
    const outsideDir = tmpDir();
    symlinkSync(path.join(outsideDir, 'planted'), path.join(dir, 'Dockerfile'));
    const r = await runCli(['init', '--runtime', 'provided', '--binary', 'bootstrap', '--force'], { cwd: dir });
    expect(r.code, r.stderr).toBe(2);
    expect(existsSync(path.join(outsideDir, 'planted'))).toBe(false);
  });

  it('still writes through a link that stays inside the project (a workflows folder linked to another inside)', async () => {
    const { root, fn } = repoWithFunction();
    mkdirSync(path.join(root, 'ci'));
    mkdirSync(path.join(root, '.github'));
    symlinkSync(path.join(root, 'ci'), path.join(root, '.github', 'workflows'));
    const r = await runCli(['ci', 'github', fn]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(root, 'ci', 'lambda-image.yml'), 'utf8')).toContain('lambda-image deploy fn');
  });
});

describe('untrusted text is printed escaped', () => {
  it('escapes control characters, bidi and zero-width controls, keeping tabs (and line breaks where asked)', () => {
    expect(printable('a\u001b]0;pwned\u0007b\tc\nd\re\u202ef\u0085')).toBe(
      'a\\e]0;pwned\\x07b\tc\\nd\\re\\u{202e}f\\x85',
    );
    expect(printableLines('one\u001b[2J\ntwo')).toBe('one\\e[2J\ntwo');
    expect(printable('plain, ünïcödé, 日本')).toBe('plain, ünïcödé, 日本');
  });

  it('an unknown config key with escape sequences is named escaped, never raw', async () => {
    const { fn } = repoWithFunction({ 'evil\u001b]0;owned\u0007\u001b[2Jkey': 1 });
    const r = await runCli(['ci', 'github', fn]);
    expect(r.code).toBe(3);
    expect(r.stderr).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    expect(r.stderr).toContain('evil\\e]0;owned\\x07\\e[2Jkey: is not a known setting');
  });

  it('table cells (layer names, paths) are escaped', () => {
    expect(formatTable(['NAME'], [['x\u001b[31my']])).toBe('NAME\nx\\e[31my');
  });
});

describe('exit codes', () => {
  it('no exit code is written as a number beside EXIT_CODES', () => {
    const literals: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts'))
          for (const m of readFileSync(p, 'utf8').matchAll(/process\.exit(?:Code\s*=\s*|\()\s*\d+/g))
            literals.push(`${path.relative(REPO_ROOT, p)}: ${m[0]}`);
      }
    };
    walk(path.join(REPO_ROOT, 'src'));
    expect(literals).toEqual([]);
  });
});

describe("Lambda's waiters keep their reasons", () => {
  afterEach(() => vi.unstubAllEnvs());

  it('a waiter that gives up says so, beside the state it left the function in', { timeout: 60_000 }, async () => {
    const registry = { host: '127.0.0.1:1', users: [] };
    const lambda = await new FakeLambda(registry).start();
    const ecr = new FakeEcr(registry);
    try {
      for (const [k, v] of Object.entries(fakeAwsEnv(ecr, lambda))) vi.stubEnv(k, v);
      const api = await LambdaApi.open({}, { attempts: 1, firstDelayMs: 1, waitSeconds: 2 });
      lambda.functions.set('stuck', {
        name: 'stuck',
        role: 'arn:aws:iam::123456789012:role/r',
        architectures: ['x86_64'],
        state: 'Pending',
        lastUpdateStatus: 'InProgress',
        pollsLeft: 1_000_000,
        versions: [],
        aliases: new Map(),
      });
      try {
        await expect(api.waitActive('stuck')).rejects.toThrow(
          "function stuck did not become Active (state Pending: The function is being created. (Creating); Lambda's waiter gave up after 2 s)",
        );
        await expect(api.waitUpdated('stuck')).rejects.toThrow(
          "the update of stuck is still InProgress; Lambda's waiter gave up after 2 s",
        );
      } finally {
        api.destroy();
      }
    } finally {
      await lambda.close();
    }
  });
});

describe('a failed Lambda update never prints the function configuration', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('names the state, the reason and its code: no environment value, no GetFunction answer', {
    timeout: 60_000,
  }, async () => {
    const registry = { host: '127.0.0.1:1', users: [] };
    const lambda = await new FakeLambda(registry).start();
    const ecr = new FakeEcr(registry);
    const secret = `pw-${Date.now().toString(36)}-do-not-print`;
    try {
      for (const [k, v] of Object.entries(fakeAwsEnv(ecr, lambda))) vi.stubEnv(k, v);
      const api = await LambdaApi.open({}, { attempts: 1, firstDelayMs: 1, waitSeconds: 20 });
      lambda.functions.set('users', {
        name: 'users',
        role: 'arn:aws:iam::123456789012:role/r',
        architectures: ['x86_64'],
        state: 'Active',
        lastUpdateStatus: 'Successful',
        environment: { DB_PASSWORD: secret },
        versions: [],
        aliases: new Map(),
      });
      try {
        lambda.failNextUpdate = 'Lambda does not have permission to access the ECR image.';
        await api.updateConfiguration('users', { environment: { DB_PASSWORD: secret } });
        const err = await api.waitUpdated('users').then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err?.message).toBe(
          'the update of users ended Failed: Lambda does not have permission to access the ECR image. (ImageAccessDenied)',
        );
        const everything = `${err?.message} ${(err as { hint?: string }).hint} ${(err as { details?: string[] }).details?.join(' ')}`;
        expect(everything).not.toContain(secret);
        expect(everything).not.toContain('Configuration');

        // Lambda's refusal of a too-large environment quotes every value: cut off.
        const refused = await api
          .updateConfiguration('users', { environment: { DB_PASSWORD: secret, BLOB: 'x'.repeat(5000) } })
          .then(
            () => undefined,
            (e: unknown) => e as Error,
          );
        expect(refused?.message).toBe(
          'Lambda refused UpdateFunctionConfiguration for users: Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. (the values AWS quoted are left out)',
        );
      } finally {
        api.destroy();
      }
    } finally {
      await lambda.close();
    }
  });
});

describe('environment keys and ARNs are judged as Lambda judges them', () => {
  it('deploy.environment refuses __proto__ by name and keeps constructor and prototype (never drops a key)', () => {
    const parsed = parseConfig(
      '{"name":"p","runtime":"provided","binary":"b","deploy":{"environment":{"__proto__":"x","OK":"1"}}}',
    );
    expect(parsed.errors).toEqual([
      'deploy.environment: key "__proto__" is not an environment variable name (a letter, then letters, digits and _)',
    ]);
    const kept = parseConfig(
      '{"name":"p","runtime":"provided","binary":"b","deploy":{"environment":{"constructor":"c","prototype":"p","OK":"1"}}}',
    );
    expect(kept.errors).toEqual([]);
    expect(kept.config!.deploy!.environment).toEqual({ constructor: 'c', prototype: 'p', OK: '1' });
    expect(Object.keys(kept.config!.deploy!.environment!)).toEqual(['constructor', 'prototype', 'OK']);
  });

  it('invoke --env __proto__=x is refused naming the key, as the config key is', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify({ name: 'p', runtime: 'provided', binary: 'b' }));
    const r = await runCli(['invoke', dir, '--env', '__proto__=x'], { env: { DOCKER_HOST: 'tcp://127.0.0.1:1' } });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--env __proto__: "__proto__" is not an environment variable name');
  });

  it('a function ARN in another region, or a role of another partition, is named as such, before any call', async () => {
    const registry = { host: '127.0.0.1:1', users: [] };
    const lambda = await new FakeLambda(registry).start();
    const ecr = await new FakeEcr(registry).start();
    try {
      const env = fakeAwsEnv(ecr, lambda);
      const other = await runCli(
        [
          'deploy',
          tmpDir(),
          '--function-name',
          'arn:aws:lambda:us-east-1:123456789012:function:orders',
          '--role',
          'arn:aws:iam::123456789012:role/r',
          '--image-uri',
          '127.0.0.1:1/orders:v1',
        ],
        { env },
      );
      expect(other.code, other.stderr).toBe(2);
      expect(other.stderr).toContain(
        'function arn:aws:lambda:us-east-1:123456789012:function:orders is in us-east-1, and this deploy is to eu-west-1',
      );
      expect(other.stderr).toContain('--region us-east-1');
      const cn = await runCli(
        [
          'deploy',
          tmpDir(),
          '--function-name',
          'orders',
          '--role',
          'arn:aws-cn:iam::123456789012:role/r',
          '--image-uri',
          '127.0.0.1:1/orders:v1',
        ],
        { env },
      );
      expect(cn.code, cn.stderr).toBe(2);
      expect(cn.stderr).toContain(
        'role arn:aws-cn:iam::123456789012:role/r is in the aws-cn partition, and eu-west-1 is in aws',
      );
      expect([...lambda.requests, ...ecr.requests]).toEqual([]);
    } finally {
      await lambda.close();
      await ecr.close();
    }
  });
});

describe('ci github edges', () => {
  it('refuses an option value that is another option (--function-name --force), writing nothing', async () => {
    const { root, fn } = repoWithFunction();
    const r = await runCli(['ci', 'github', fn, '--function-name', '--force']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--function-name "--force" looks like an option, not a value');
    expect(existsSync(path.join(root, '.github'))).toBe(false);
  });

  it('lets the workflow create the dev function with --function-role, and warns about local-only images', async () => {
    const { root, fn } = repoWithFunction({
      baseImage: 'localhost:5000/mirror/provided:al2023',
      builderImage: 'lambda-image-standin/golang:1.23-alpine',
    });
    const role = 'arn:aws:iam::123456789012:role/orders-exec';
    const r = await runCli(['ci', 'github', fn, '--function-role', role]);
    expect(r.code, r.stderr).toBe(0);
    const yaml = readFileSync(path.join(root, '.github', 'workflows', 'lambda-image.yml'), 'utf8');
    expect(yaml).toContain(`FUNCTION_ROLE: ${role}`);
    expect(yaml).toContain('${FUNCTION_ROLE:+--role "$FUNCTION_ROLE"}');
    expect(r.stderr).toContain(
      "warning: lambda-image.json baseImage localhost:5000/mirror/provided:al2023 is in a registry on this machine: GitHub's runners cannot pull it",
    );
    expect(r.stderr).toContain(
      'warning: lambda-image.json builderImage lambda-image-standin/golang:1.23-alpine is a lambda-image stand-in',
    );
    const clean = repoWithFunction({ baseImage: 'public.ecr.aws/lambda/provided:al2023' });
    const ok = await runCli(['ci', 'github', clean.fn]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).not.toContain('warning:');
    expect(ok.stderr).toContain('LAMBDA_IMAGE_FUNCTION_ROLE_ARN');
  });
});

describe('secrets stay out of the build context', () => {
  const SECRETS = [
    '.env',
    'config/.env.production',
    '.aws/credentials',
    '.ssh/id_ed25519',
    'id_rsa',
    'certs/server.pem',
    'tls/server.key',
    'client.p12',
    '.npmrc',
    '.netrc',
    '.pypirc',
    '.git-credentials',
    '.docker/config.json',
  ];
  const KEPT = ['main.go', 'go.mod', 'environment.go', '.lambda-image/layers/ext-1/certs/ca.pem'];
  const project = (dockerignore?: string) => {
    const dir = tmpDir();
    for (const name of [...SECRETS, ...KEPT]) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), 'x');
    }
    if (dockerignore !== undefined) writeFileSync(path.join(dir, '.dockerignore'), dockerignore);
    return dir;
  };

  it('the generated .dockerignore, and no .dockerignore at all, keep every usual secret file out (layers aside)', async () => {
    for (const dir of [project(renderDockerignore()), project()]) {
      const files = await listContextFiles(dir);
      for (const s of SECRETS) expect(files.entries).not.toContain(s);
      for (const k of KEPT) expect(files.entries).toContain(k);
      expect(files.secrets).toEqual([]);
    }
  });

  it("a user's .dockerignore that lets them in is named in one warning line with the fix", async () => {
    const files = await listContextFiles(project('*.md\n'));
    expect([...files.secrets].sort()).toEqual([...SECRETS].sort());
    const warnings = secretFileWarnings(files.secrets);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^\S+, \S+, \S+, \S+, \S+ and 8 more look like secrets and enter the build context/);
    expect(warnings[0]).toContain('add them to .dockerignore, or move them out of the project');
    expect(secretFileWarnings(['.env'])).toEqual([
      ".env looks like a secret and enters the build context (the builder stage and BuildKit's cache keep them): add it to .dockerignore, or move it out of the project",
    ]);
  });
});
