// `lambda-image ci github` through the built CLI: writes the workflow at the repository root,
// never overwrites without --force, --dry-run prints it alone on stdout, next steps on stderr.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

function repoWithFunction(): { root: string; fn: string } {
  const root = tmpDir();
  mkdirSync(path.join(root, '.git'));
  writeFileSync(
    path.join(root, '.git', 'config'),
    '[remote "origin"]\n\turl = git@github.com:acme/orders.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n',
  );
  const fn = path.join(root, 'functions', 'orders');
  mkdirSync(fn, { recursive: true });
  writeFileSync(
    path.join(fn, 'lambda-image.json'),
    JSON.stringify({
      name: 'orders',
      runtime: 'provided',
      binary: 'bootstrap',
      deploy: { repository: 'orders', functionName: 'orders-prod', region: 'eu-west-1' },
    }),
  );
  return { root, fn };
}

describe('lambda-image ci github', () => {
  it('writes a valid workflow from the config at the git root, with the trust policy for the origin repository', async () => {
    const { root, fn } = repoWithFunction();
    const r = await runCli(['ci', 'github', fn]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(root, '.github', 'workflows', 'lambda-image.yml');
    expect(r.stdout.trim()).toBe(`created ${file}`);
    const yaml = readFileSync(file, 'utf8');
    expect(validateWorkflow(yaml).errors).toEqual([]);
    expect(yaml).toContain('lambda-image deploy functions/orders');
    expect(yaml).toContain("'orders-prod' || 'orders-prod-dev'");
    expect(r.stderr).toContain('"repo:acme/orders:ref:refs/heads/main"');
    expect(r.stderr).toContain('LAMBDA_IMAGE_ROLE_ARN');
  });

  it('never overwrites a changed workflow without --force; --dry-run prints the workflow alone on stdout', async () => {
    const { root, fn } = repoWithFunction();
    const file = path.join(root, '.github', 'workflows', 'lambda-image.yml');
    expect((await runCli(['ci', 'github', fn])).code).toBe(0);
    writeFileSync(file, '# my edits\n');
    const refused = await runCli(['ci', 'github', fn]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain('hint: pass --force');
    expect(readFileSync(file, 'utf8')).toBe('# my edits\n');
    const dry = await runCli([
      'ci',
      'github',
      fn,
      '--dry-run',
      '--role-to-assume',
      'arn:aws:iam::123456789012:role/ci',
    ]);
    expect(dry.code).toBe(0);
    expect(validateWorkflow(dry.stdout).errors).toEqual([]);
    expect(dry.stdout).toContain('role-to-assume: arn:aws:iam::123456789012:role/ci');
    expect(dry.stderr).toContain(
      '"Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"',
    );
    expect(readFileSync(file, 'utf8')).toBe('# my edits\n');
    expect((await runCli(['ci', 'github', fn, '--force'])).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('name: lambda-image');
  });

  it('says what is missing', async () => {
    const dir = tmpDir();
    const r = await runCli(['ci', 'github', dir, '--function-name', 'fn', '--repository', 'orders']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: the workflow needs a region');
    expect(r.stderr).toContain('hint: pass --region');
  });
});
