// One validated plan per command: a flag is checked by the same rule as the config key it
// overrides, and bad input is exit 2 with the rule named, before any engine or AWS is asked
// (DOCKER_HOST points at a socket nobody serves; AWS at an endpoint nobody serves).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planPush } from '../src/app/push.js';
import { makeConfig, validateConfig } from '../src/config/schema.js';
import { createBuildContext } from '../src/docker/build-context.js';
import { BUILD_RECORD, type BuiltVariant, recordBuild } from '../src/project/build-record.js';
import { specFromConfig } from '../src/render/variant.js';
import { runCliInProcess as runCli } from './support/cli.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';

const offline = (dir: string) => ({
  DOCKER_HOST: `unix://${dir}/no-engine.sock`,
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_REGION: 'eu-west-1',
});

describe('invoke and start: flags by the config keys rules', () => {
  const dir = tmpDir('lambda-image-plan-');
  it.each([
    [['--timeout', 'abc'], '--timeout "abc" is not a whole number from 1 to 900 seconds'],
    [['--timeout', '1.5'], '--timeout "1.5" is not a whole number from 1 to 900 seconds'],
    [['--timeout', '901'], '--timeout "901" is not a whole number from 1 to 900 seconds'],
    [['--memory', '0x10'], '--memory "0x10" is not a whole number from 128 to 10240 MB'],
    [['--memory', '1e3'], '--memory "1e3" is not a whole number from 128 to 10240 MB'],
    [['--ephemeral-storage', '600.5'], '--ephemeral-storage "600.5" is not a whole number from 512 to 10240 MB'],
    [['--function-name', 'my fn'], '--function-name "my fn" is not valid: it must be a function name'],
    [['--region', 'Europe'], '--region "Europe" is not valid: it must be an AWS region such as eu-west-1'],
  ])('invoke %j: exit 2 naming the rule, no engine asked', async (args, message) => {
    const r = await runCli(['invoke', '--image', 'fn:1', ...args], { env: offline(dir) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
    expect(r.stderr).not.toContain('Docker engine');
  });

  it.each([['1.5'], ['0x10'], ['65536'], ['-1']])('start --port %s: exit 2', async (port) => {
    const r = await runCli(['start', '--image', 'fn:1', `--port=${port}`], { env: offline(dir) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: --port "${port}" is not a whole number from 0 to 65535`);
  });
});

describe('config keys: one rule each, shared with the flags', () => {
  it('timeout 1.5 in lambda-image.json is refused as --timeout 1.5 is', () => {
    const result = validateConfig({ name: 'fn', runtime: 'provided', binary: 'bootstrap', timeout: 1.5 });
    expect(result.errors).toEqual(['timeout: must be a whole number from 1 to 900 seconds']);
  });

  it('"rieFrom": "HTTPS://…" is a URL for validation and for the build alike', () => {
    const config = makeConfig({
      name: 'fn',
      runtime: 'provided',
      binary: 'bootstrap',
      base: 'alpine',
      rie: true,
      rieFrom: 'HTTPS://example.com/aws-lambda-rie',
    });
    const { spec } = specFromConfig(config, { variant: { base: 'alpine', rie: true } });
    expect(spec.rie).toEqual({ kind: 'url', url: 'HTTPS://example.com/aws-lambda-rie' });
  });

  it('"rieFrom": "ftp://…" is refused as a URL, not read as a path', () => {
    const result = validateConfig({ name: 'fn', runtime: 'provided', binary: 'b', rieFrom: 'ftp://example.com/rie' });
    expect(result.errors).toEqual([
      'rieFrom: must be an emulator URL or file path (only http and https URLs are fetched)',
    ]);
  });

  it('"rieFrom": "HTTPS://…" builds from the URL instead of saying the file does not exist', async () => {
    const dir = tmpDir('lambda-image-plan-');
    writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({ name: 'fn', runtime: 'provided', binary: 'bootstrap', rieFrom: 'HTTPS://example.com/rie' }),
    );
    const r = await runCli(['build', dir], { env: offline(dir) });
    // The plan is valid: the build goes as far as the (absent) engine.
    expect(r.stderr).not.toContain('does not exist');
    expect(r.stderr).toContain('cannot reach the Docker engine');
    expect(r.code, r.stderr).toBe(10);
  });
});

describe('--base-image: one grammar for init and build', () => {
  const readConfig = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));

  it('init takes <family>=<ref> for its own base, as build does', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base', 'alpine', '--base-image', 'alpine=mirror.example/alpine:3.22']);
    expect(r.code, r.stderr).toBe(0);
    expect(readConfig(dir).baseImage).toBe('mirror.example/alpine:3.22');
  });

  it('init takes a bare <ref> for its own base, as before', async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base-image', 'mirror.example/lambda/provided:al2023']);
    expect(r.code, r.stderr).toBe(0);
    expect(readConfig(dir).baseImage).toBe('mirror.example/lambda/provided:al2023');
  });

  it("init refuses a family that is not the project's base, naming both", async () => {
    const dir = fixtureCopy('go-hello');
    const r = await runCli(['init', dir, '--base-image', 'alpine=mirror.example/alpine:3.22']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain("error: --base-image alpine=... names the alpine base, and this project's base is aws");
    expect(existsSync(path.join(dir, 'lambda-image.json'))).toBe(false);
  });
});

describe('push and deploy ship what build recorded', () => {
  const project = (record?: object) => {
    const dir = tmpDir('lambda-image-plan-');
    writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({ name: 'orders', tag: 'latest', runtime: 'provided', binary: 'bootstrap' }),
    );
    if (record) {
      mkdirSync(path.join(dir, '.lambda-image'), { recursive: true });
      writeFileSync(path.join(dir, '.lambda-image', 'builds.json'), JSON.stringify(record));
    }
    return dir;
  };
  const id = (c: string) => `sha256:${c.repeat(64)}`;
  const built = (variant: string, image: string, c: string) => ({
    variant,
    image,
    id: id(c),
    arch: 'x86_64',
    builtAt: '2026-11-26T22:00:00.000Z',
  });

  it('build --tag orders:v1, then push: the plan ships orders:v1 by its image ID, not orders:latest', async () => {
    const dir = project({ latest: ['aws'], variants: { aws: built('aws', 'orders:v1', 'a') } });
    const plan = await planPush(dir, { repository: 'registry.example/orders' });
    expect(plan.local).toMatchObject({ lookup: id('a'), ref: 'orders:v1', variant: 'aws' });
    expect(plan.local.shown).toContain('orders:v1 (aws, x86_64, built ');
  });

  it('several variants in the latest build: push asks which, and --variant picks it', async () => {
    const record = {
      latest: ['aws', 'alpine'],
      variants: { aws: built('aws', 'orders:v1-aws', 'a'), alpine: built('alpine', 'orders:v1-alpine', 'b') },
    };
    await expect(planPush(project(record), {})).rejects.toMatchObject({
      code: 'INVALID_INPUT',
      message: 'the latest build made 2 variants (aws, alpine): which one ships?',
      hint: 'pass --variant aws (or --image <ref>)',
    });
    const plan = await planPush(project(record), { variant: 'alpine' });
    expect(plan.local).toMatchObject({ lookup: id('b'), ref: 'orders:v1-alpine' });
  });

  it('--image names another local image; without a record, name:tag as before', async () => {
    const withRecord = project({ latest: ['aws'], variants: { aws: built('aws', 'orders:v1', 'a') } });
    expect((await planPush(withRecord, { image: 'other:2' })).local).toMatchObject({ lookup: 'other:2' });
    expect((await planPush(project(), {})).local).toMatchObject({ lookup: 'orders:latest', ref: 'orders:latest' });
  });

  it('the record is state under .lambda-image/: the build writes it, the build context never carries it', async () => {
    const dir = project();
    await recordBuild(dir, [built('aws', 'orders:v1', 'a') as BuiltVariant]);
    expect(JSON.parse(readFileSync(path.join(dir, '.lambda-image', 'builds.json'), 'utf8'))).toMatchObject({
      latest: ['aws'],
      variants: { aws: { image: 'orders:v1', id: id('a') } },
    });
    const context = await createBuildContext(dir, [], [BUILD_RECORD]);
    context.stream.resume();
    expect(context.files.entries).not.toContain('.lambda-image/builds.json');
    expect(JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'))).not.toHaveProperty('builds');
  });
});

describe('deploy: flags by the config keys rules, before AWS is asked', () => {
  const dir = tmpDir('lambda-image-plan-');
  it.each([
    [['--function-name', 'orders fn'], '--function-name "orders fn" is not valid: it must be a function name'],
    [['--role', 'orders-role'], '--role "orders-role" is not valid: it must be an IAM role ARN'],
    [['--region', 'eu_west_1'], '--region "eu_west_1" is not valid: it must be an AWS region such as eu-west-1'],
  ])('deploy %j: exit 2', async (args, message) => {
    const r = await runCli(
      ['deploy', dir, '--image-uri', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/o:1', ...args],
      {
        env: offline(dir),
      },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`error: ${message}`);
  });

  it('push --region is checked as deploy.region is', async () => {
    const r = await runCli(['push', dir, '--region', 'Frankfurt'], { env: offline(dir) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: --region "Frankfurt" is not valid: it must be an AWS region');
  });
});

describe('add-extension: --region by the same rule', () => {
  it('a bad --region is exit 2 before AWS is asked', async () => {
    const dir = tmpDir('lambda-image-plan-');
    const arn = 'arn:aws:lambda:eu-west-1:123456789012:layer:tool:3';
    const r = await runCli(['add-extension', arn, dir, '--region', 'EU-WEST-1'], { env: offline(dir) });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error: --region "EU-WEST-1" is not valid: it must be an AWS region such as eu-west-1');
  });
});
