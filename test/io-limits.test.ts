// Inputs at the machine's edges, through the real CLI: a lambda-image.json that is a FIFO or a
// device is named, not read (no hang, no runaway read), one with a UTF-8 byte order mark is
// read, and Lambda's reserved environment variables are refused in --env, --env-file and the
// config alike, naming the key.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type CliResult, runCliInProcess as runCli } from './support/cli.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';

/** No engine at all: what fails here was checked locally, before any engine was asked. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/lambda-image-io-test.sock' };

function expectClean(r: CliResult, code: number, pattern: RegExp) {
  expect(r.stderr).toMatch(pattern);
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
}

async function project(): Promise<string> {
  const dir = fixtureCopy('go-hello');
  expect((await runCli(['init', dir])).code).toBe(0);
  return dir;
}

describe('lambda-image.json that is not a regular file', () => {
  it('a FIFO is refused at once (exit 3), never waited on', async () => {
    const dir = await project();
    const config = path.join(dir, 'lambda-image.json');
    rmSync(config);
    execFileSync('mkfifo', [config]);
    expectClean(
      await runCli(['extensions', 'list', dir]),
      3,
      /lambda-image\.json is a FIFO \(named pipe\), not a regular file/,
    );
  }, 20_000);

  it('a link to /dev/zero is refused (exit 3), not read', async () => {
    const dir = await project();
    const config = path.join(dir, 'lambda-image.json');
    rmSync(config);
    symlinkSync('/dev/zero', config);
    expectClean(
      await runCli(['extensions', 'list', dir]),
      3,
      /lambda-image\.json is a character device, not a regular file/,
    );
  }, 20_000);

  it('a file larger than any config is refused without being read whole (exit 3)', async () => {
    const dir = await project();
    writeFileSync(path.join(dir, 'lambda-image.json'), Buffer.alloc(2 * 1024 * 1024, 0x20));
    expectClean(await runCli(['extensions', 'list', dir]), 3, /lambda-image\.json is larger than 1048576 bytes/);
  });

  it('a config saved with a UTF-8 byte order mark is read', async () => {
    const dir = await project();
    const config = path.join(dir, 'lambda-image.json');
    writeFileSync(config, '\ufeff' + readFileSync(config, 'utf8'));
    const r = await runCli(['extensions', 'list', dir, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe("Lambda's reserved environment variables", () => {
  it.each([
    ['AWS_LAMBDA_RUNTIME_API', 'AWS_LAMBDA_RUNTIME_API=127.0.0.1:1', /remove it from --env/],
    ['AWS_REGION', 'AWS_REGION=eu-west-1', /use --region/],
    ['_HANDLER', '_HANDLER=other', /remove it from --env/],
  ])('--env %s is refused (exit 2), naming the key, before any engine is asked', async (key, pair, hint) => {
    const r = await runCli(['invoke', '--image', 'fn:1', '--env', pair], { env: NO_ENGINE });
    expectClean(r, 2, new RegExp(`--env ${key}: ${key} is reserved by Lambda`));
    expect(r.stderr).toMatch(hint);
  });

  it('the same in an --env-file, which the message names', async () => {
    const file = path.join(tmpDir('io-env-'), 'fn.env');
    writeFileSync(file, 'GOOD=1\nexport AWS_LAMBDA_FUNCTION_NAME=spoofed\n');
    const r = await runCli(['start', '--image', 'fn:1', '--env-file', file], { env: NO_ENGINE });
    expectClean(r, 2, /AWS_LAMBDA_FUNCTION_NAME: AWS_LAMBDA_FUNCTION_NAME is reserved by Lambda/);
    expect(r.stderr).toContain(`--env-file ${file} AWS_LAMBDA_FUNCTION_NAME:`);
  });

  it('and in the config (deploy.environment): CONFIG_INVALID, exit 3, naming the key', async () => {
    const dir = await project();
    const config = path.join(dir, 'lambda-image.json');
    const cfg = JSON.parse(readFileSync(config, 'utf8'));
    cfg.deploy = { environment: { GOOD: '1', AWS_LAMBDA_RUNTIME_API: '10.0.0.1:9001' } };
    writeFileSync(config, JSON.stringify(cfg));
    expectClean(await runCli(['extensions', 'list', dir]), 3, /AWS_LAMBDA_RUNTIME_API is reserved by Lambda/);
  });
});
