// `lambda-image ci github` through the built CLI: writes the workflow at the repository root,
// never overwrites without --force, --dry-run prints it alone on stdout, next steps on stderr.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { describe, expect, it } from 'vitest';
import { runCliInProcess as runCli } from './support/cli.js';
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
    // The targets are the config's, read when the workflow runs: --dev from dev, as for several.
    expect(yaml).toContain(
      "lambda-image deploy functions/orders\n          --tag \"${{ github.sha }}\"\n          ${{ github.ref_name != 'main' && '--dev' || '' }}",
    );
    expect(yaml).not.toContain('FUNCTION_NAME');
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

  it('one path for one function or many: the one-function workflow is the same deploy step as for several', async () => {
    const { fn } = repoWithFunction();
    const one = await runCli(['ci', 'github', fn, '--dry-run']);
    expect(one.code, one.stderr).toBe(0);
    const shop = tmpDir('li-ship1-ci-');
    mkdirSync(path.join(shop, '.git'));
    mkdirSync(path.join(shop, 'functions', 'orders'), { recursive: true });
    writeFileSync(
      path.join(shop, 'functions', 'orders', 'lambda-image.json'),
      JSON.stringify({
        name: 'shop',
        go: { module: 'example.com/shop', version: '1.23' },
        deploy: { repository: 'orders', region: 'eu-west-1' },
        functions: { orders: { main: './cmd/orders' }, users: { main: './cmd/users' } },
      }),
    );
    const several = await runCli(['ci', 'github', path.join(shop, 'functions', 'orders'), '--dry-run']);
    expect(several.code, several.stderr).toBe(0);
    const body = (yaml: string) => yaml.slice(yaml.indexOf('name: lambda-image\n'));
    expect(body(one.stdout)).toBe(body(several.stdout));
  });

  it('says what is missing', async () => {
    const dir = tmpDir();
    const r = await runCli(['ci', 'github', dir, '--function-name', 'fn', '--repository', 'orders']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error: the workflow needs a region');
    expect(r.stderr).toContain('hint: pass --region');
  });

  describe('a project of several functions', () => {
    /** fixtures/go-multi's layout: one module, functions under cmd/, one shared repository. */
    function shopRepo(functions: object = {}): { root: string; fn: string } {
      const root = tmpDir('multiship-ci-');
      mkdirSync(path.join(root, '.git'));
      writeFileSync(path.join(root, '.git', 'config'), '[remote "origin"]\n\turl = https://github.com/acme/shop.git\n');
      writeFileSync(
        path.join(root, 'lambda-image.json'),
        JSON.stringify({
          name: 'shop',
          go: { module: 'example.com/shop', version: '1.23' },
          deploy: { repository: 'shop', region: 'eu-west-1', functionName: 'not-inherited' },
          functions: {
            orders: { main: './cmd/orders' },
            users: { main: './cmd/users', deploy: { functionName: 'users-prod', devFunctionName: 'users-staging' } },
            payments: { main: './cmd/payments', deploy: { repository: 'payments-images', region: 'us-east-1' } },
            ...functions,
          },
        }),
      );
      return { root, fn: root };
    }
    const deploySteps = (yaml: string) =>
      [...yaml.matchAll(/- name: Push and deploy (?:(\S+) )?by digest\n {8}run: >-\n((?: {10}.*\n)+)/g)].map((m) => ({
        name: m[1],
        run: m[2]!.trim().split(/\n\s+/),
      }));

    it('builds once and deploys in one step the functions the config lists when the workflow runs, dev targets with --dev', async () => {
      const { root, fn } = shopRepo();
      const r = await runCli(['ci', 'github', fn]);
      expect(r.code, r.stderr).toBe(0);
      const file = path.join(root, '.github', 'workflows', 'lambda-image.yml');
      const yaml = readFileSync(file, 'utf8');
      expect(validateWorkflow(yaml).errors).toEqual([]);
      expect(yaml.match(/run: lambda-image build/g)).toHaveLength(1);
      expect(yaml).toContain('run: lambda-image build .\n');
      expect(yaml).not.toContain('FUNCTION_NAME');
      // No function is named: `deploy` reads them (and each one's targets and region) from lambda-image.json.
      expect(deploySteps(yaml)).toEqual([
        {
          name: undefined,
          run: [
            'lambda-image deploy .',
            '--tag "${{ github.sha }}"',
            "${{ github.ref_name != 'main' && '--dev' || '' }}",
            '${FUNCTION_ROLE:+--role "$FUNCTION_ROLE"}',
          ],
        },
      ]);
      expect(yaml).toContain('one added later is deployed too');
      // A function added later: the workflow already deploys it, so ci github has nothing to change.
      const config = JSON.parse(readFileSync(path.join(root, 'lambda-image.json'), 'utf8'));
      config.functions.inventory = { main: './cmd/inventory' };
      writeFileSync(path.join(root, 'lambda-image.json'), JSON.stringify(config));
      const again = await runCli(['ci', 'github', fn]);
      expect(again.code, again.stderr).toBe(0);
      expect(readFileSync(file, 'utf8')).toBe(yaml);
      // Every action still pinned by commit SHA.
      for (const u of [...yaml.matchAll(/uses: (\S+)/g)].map((m) => m[1]!)) expect(u).toMatch(/@[0-9a-f]{40}$/);
    });

    it('--function deploys (and builds) only the named ones; --repository goes to each; one-function flags are refused for several', async () => {
      const { fn } = shopRepo();
      const dry = await runCli([
        'ci',
        'github',
        fn,
        '--function',
        'users',
        '--function',
        'orders',
        '--repository',
        'shared',
        '--dry-run',
      ]);
      expect(dry.code, dry.stderr).toBe(0);
      expect(validateWorkflow(dry.stdout).errors).toEqual([]);
      expect(dry.stdout).toContain('run: lambda-image build . --function users --function orders\n');
      expect(deploySteps(dry.stdout).map((s) => s.run.slice(0, 2))).toEqual([
        ['lambda-image deploy . --function users --function orders', '--repository shared'],
      ]);

      const unknown = await runCli(['ci', 'github', fn, '--function', 'nope', '--dry-run']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('its functions: orders, users, payments');

      const several = await runCli(['ci', 'github', fn, '--function-name', 'x', '--dry-run']);
      expect(several.code).toBe(2);
      expect(several.stderr).toContain('error: --function-name names one function, and the workflow would deploy 3');
      const one = await runCli([
        'ci',
        'github',
        fn,
        '--function',
        'orders',
        '--function-name',
        'orders-blue',
        '--dry-run',
      ]);
      expect(one.code, one.stderr).toBe(0);
      expect(one.stdout).toContain("'orders-blue' || 'orders-blue-dev'");
    });

    it('a function with no region anywhere is named', async () => {
      const { fn } = shopRepo();
      const configFile = path.join(fn, 'lambda-image.json');
      const config = JSON.parse(readFileSync(configFile, 'utf8'));
      delete config.deploy.region;
      writeFileSync(configFile, JSON.stringify(config));
      const r = await runCli(['ci', 'github', fn, '--dry-run']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('error: the workflow needs a region for orders');
    });
  });
});
