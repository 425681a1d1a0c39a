// One validated plan per command: a flag is checked by the same rule as the config key it
// overrides, and bad input is exit 2 with the rule named, before any engine or AWS is asked
// (DOCKER_HOST points at a socket nobody serves; AWS at an endpoint nobody serves).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeConfig, validateConfig } from '../src/config/schema.js';
import { specFromConfig } from '../src/render/variant.js';
import { runCli } from './support/cli.js';
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
