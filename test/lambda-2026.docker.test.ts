// What Lambda does in 2026 that a local run must match, on a real engine: a runtime that
// answers and exits (aws-lambda-go after a panic) ends its environment and the next invoke is
// a cold start, through the Invoke API and the function URL front; a result whose echoed
// Lambda-Runtime-Invocation-Id is not the running invoke's is refused (410) and never reaches
// the caller; an invoke's tenant id reaches the runtime. The function: fixtures/go-test-function.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareFunction, resolveFunctionSettings, type LocalFunction } from '../src/app/invoke.js';
import { connectEngine } from '../src/docker/engine.js';
import { runCli, startCliUntil } from './support/cli.js';
import { dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy } from './support/tmp.js';
import { TenantIdRequiredError } from '../src/emulator/pool.js';
import fs from 'node:fs';
import path from 'node:path';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const reports = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('REPORT '));

describe.skipIf(!dockerEnv.available)('Lambda 2026 behaviours (real engine)', () => {
  const repo = uniqueRepo('lambda2026');
  const image = `${repo}:plain`;
  let dir: string;

  beforeAll(async () => {
    dir = fixtureCopy('go-test-function');
    expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo, '--force'])).code).toBe(0);
    const b = await runCli(['build', dir, '--tag', image, ...standin()]);
    expect(b.code, b.stderr).toBe(0);
  });

  describe('in process', () => {
    let fn: LocalFunction;
    const platform: string[] = [];
    beforeAll(async () => {
      const engine = await connectEngine();
      fn = await prepareFunction(engine, await resolveFunctionSettings({ image, timeoutSec: 3 }), {
        onPlatformLine: (l) => platform.push(l),
        onOutput: () => {},
      });
    });
    afterAll(() => fn?.pool.close());
    const invoke = (event: object) => fn.pool.invoke(Buffer.from(JSON.stringify(event)));

    it('a runtime that reports a panic and exits: the error is the answer, the next invoke is a fresh environment', async () => {
      expect((await invoke({})).cold).toBe(true);
      for (let i = 0; i < 3; i++) {
        const crashed = await invoke({ action: 'panic' });
        expect(JSON.parse(crashed.result.body.toString())).toEqual({
          errorMessage: 'panic on purpose',
          errorType: 'runtime.Error',
        });
        const next = await invoke({});
        expect(next.result.kind, next.result.body.toString()).toBe('response');
        expect(next.cold).toBe(true);
        await fn.pool.settled();
        const report = platform.find((l) => l.startsWith('REPORT') && l.includes(next.requestId));
        expect(report).toMatch(/Init Duration: [\d.]+ ms/);
      }
    });

    it('a result with a stale Lambda-Runtime-Invocation-Id is refused with 410 and never reaches the caller', async () => {
      const r = await invoke({ action: 'stale' });
      expect(r.result.kind).toBe('response');
      const answer = JSON.parse(r.result.body.toString());
      expect(answer).toMatchObject({
        staleStatus: 410,
        staleAnswer: { errorType: 'InvokeTimeout', errorMessage: 'Invoke timeout' },
      });
      // The nonce was sent on /next, and echoing it is accepted.
      expect(answer.invocationId).toMatch(/^[0-9a-f-]{36}$/);
      expect(r.result.body.toString()).not.toContain('"stale":true');
    });
  });

  it('tenant ids reach the runtime, and environments are never shared between tenants', async () => {
    const engine = await connectEngine();
    const fn = await prepareFunction(engine, await resolveFunctionSettings({ image }), {
      onPlatformLine: () => {},
      onOutput: () => {},
    });
    try {
      const as = (tenantId: string) => fn.pool.invoke(Buffer.from('{}'), { tenantId });
      const a1 = await as('tenant-a');
      expect(JSON.parse(a1.result.body.toString()).tenantId).toBe('tenant-a');
      expect((await as('tenant-a')).cold).toBe(false);
      const b = await as('tenant-b');
      expect(b.cold).toBe(true); // never tenant-a's warm environment
      expect(JSON.parse(b.result.body.toString()).tenantId).toBe('tenant-b');
      expect((await as('tenant-a')).cold).toBe(true);
    } finally {
      await fn.pool.close();
    }
    // Through the CLI's --tenant-id.
    const r = await runCli(['invoke', '--image', image, '--tenant-id', 'tenant-c']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tenantId).toBe('tenant-c');
  });

  it('after a panic, the next request through the Invoke API and through the URL front succeeds, as a cold start', async () => {
    const [port, httpPort] = [await freePort(), await freePort()];
    const started = await startCliUntil(
      ['start', '--image', image, '--port', String(port), '--http-port', String(httpPort), '--timeout', '3'],
      /Ctrl-C stops it/,
    );
    try {
      const api = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
      for (let i = 0; i < 3; i++) {
        const crash = await fetch(api, { method: 'POST', body: '{"action":"panic"}' });
        expect(crash.headers.get('x-amz-function-error')).toBe('Unhandled');
        expect(await crash.json()).toMatchObject({ errorType: 'runtime.Error' });
        const next = await fetch(api, { method: 'POST', body: '{}' });
        expect(next.status).toBe(200);
        expect(next.headers.get('x-amz-function-error')).toBeNull();
      }
      // The SDK's TenantId (X-Amz-Tenant-Id) reaches the runtime.
      const tenant = await fetch(api, { method: 'POST', body: '{}', headers: { 'X-Amz-Tenant-Id': 'tenant-x' } });
      expect((await tenant.json()).tenantId).toBe('tenant-x');
      for (let i = 0; i < 3; i++) {
        const crash = await fetch(`http://127.0.0.1:${httpPort}/`, { method: 'POST', body: '{"action":"panic"}' });
        expect(crash.status).toBe(502);
        await crash.arrayBuffer();
        const next = await fetch(`http://127.0.0.1:${httpPort}/`, { method: 'POST', body: '{}' });
        const text = await next.text();
        expect(next.status, text).toBe(200);
        expect(text).not.toContain('Runtime.ExitError');
      }
    } finally {
      started.child.kill('SIGINT');
      await started.exited;
    }
    const stderr = started.stderr();
    expect(stderr).not.toContain('Runtime.ExitError');
    // Every request after a panic got a fresh environment: its REPORT carries Init Duration.
    expect(reports(stderr).filter((l) => /Init Duration/.test(l)).length).toBeGreaterThanOrEqual(7);
  });
  it('a tenant-isolated function (tenantIsolationMode PER_TENANT) refuses invokes without a tenant id, as Lambda does', async () => {
    const engine = await connectEngine();
    const fn = await prepareFunction(
      engine,
      await resolveFunctionSettings({ image, timeoutSec: 3, tenantIsolation: true }),
      {
        onPlatformLine: () => {},
        onOutput: () => {},
      },
    );
    try {
      await expect(fn.pool.invoke(Buffer.from('{}'))).rejects.toBeInstanceOf(TenantIdRequiredError);
      const ok = await fn.pool.invoke(Buffer.from('{}'), { tenantId: 'tenant-a' });
      expect(JSON.parse(ok.result.body.toString()).tenantId).toBe('tenant-a');
    } finally {
      await fn.pool.close();
    }

    // The project's config names it: invoke without --tenant-id is refused by name (exit 2), with one it runs.
    const configPath = path.join(dir, 'lambda-image.json');
    const config = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    fs.writeFileSync(
      configPath,
      JSON.stringify({ ...config, tenantIsolationMode: 'PER_TENANT', url: { tenantIdHeader: 'x-tenant-id' } }, null, 2),
    );
    const refused = await runCli(['invoke', dir]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/tenant isolation \(PER_TENANT\).*--tenant-id/s);
    const given = await runCli(['invoke', dir, '--tenant-id', 'tenant-d']);
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(given.stdout).tenantId).toBe('tenant-d');

    // start: the Invoke API answers Lambda's 400 InvalidParameterValueException; the URL front takes the tenant from its header.
    const [port, httpPort] = [await freePort(), await freePort()];
    const started = await startCliUntil(
      ['start', dir, '--port', String(port), '--http-port', String(httpPort)],
      /Ctrl-C stops it/,
    );
    try {
      const api = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
      const none = await fetch(api, { method: 'POST', body: '{}' });
      expect(none.status).toBe(400);
      expect(none.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
      expect(await none.json()).toMatchObject({ Type: 'User', message: expect.stringContaining('tenant') });
      const withTenant = await fetch(api, { method: 'POST', body: '{}', headers: { 'X-Amz-Tenant-Id': 'tenant-e' } });
      expect((await withTenant.json()).tenantId).toBe('tenant-e');
      const front = await fetch(`http://127.0.0.1:${httpPort}/`, { method: 'POST', body: '{}' });
      expect(front.status).toBe(502);
      await front.arrayBuffer();
      const fronted = await fetch(`http://127.0.0.1:${httpPort}/`, {
        method: 'POST',
        body: '{}',
        headers: { 'x-tenant-id': 'tenant-f' },
      });
      const text = await fronted.text();
      expect(fronted.status, text).toBe(200);
      expect(JSON.parse(text).tenantId).toBe('tenant-f');
    } finally {
      started.child.kill('SIGINT');
      await started.exited;
    }
    expect(started.stderr()).toContain('tenant isolation and no tenant id');
  });
  it('with logging JSON and an application log level, invoke says which function lines Lambda would drop', async () => {
    const configPath = path.join(dir, 'lambda-image.json');
    const { tenantIsolationMode: _t, url: _u, ...config } = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    fs.writeFileSync(
      configPath,
      JSON.stringify({ ...config, logging: { logFormat: 'JSON', applicationLogLevel: 'WARN' } }, null, 2),
    );
    const lines = ['{"level":"debug","msg":"a"}', '{"level":"ERROR","msg":"b"}', '{"level":"warn","msg":"c"}', 'plain'];
    const r = await runCli(['invoke', dir, '-d', JSON.stringify({ action: 'log', lines })]);
    expect(r.code, r.stderr).toBe(0);
    // The text line, the unlevelled Go log line ("handling <id>") and the DEBUG one; WARN and ERROR are kept.
    expect(r.stderr).toMatch(/applicationLogLevel WARN would drop 3 of 5 function lines on Lambda \(DEBUG 1, INFO 2\)/);
    fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
    const plain = await runCli(['invoke', dir, '-d', JSON.stringify({ action: 'log', lines })]);
    expect(plain.stderr).not.toContain('would drop');
  });
});
