// invoke and start: lambda-image's own Runtime and Extensions API emulator running real
// images on a real engine (stand-in bases), with a test function and a test extension in Go.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEngine } from '../src/docker/engine.js';
import { prepareFunction, resolveFunctionSettings, type LocalFunction } from '../src/app/invoke.js';
import { SESSION_LABEL } from '../src/emulator/sandbox.js';
import { BIN, runCli } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

interface Echo {
  requestId: string;
  deadlineMs: string;
  functionArn: string;
  traceId: string;
  functionName: string;
  memorySize: string;
  version: string;
  region: string;
  custom: string;
  event: Record<string, unknown>;
}

const reports = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('REPORT '));
const maxMemoryUsed = (report: string) => Number(/Max Memory Used: (\d+) MB/.exec(report)![1]);

describe.skipIf(!dockerEnv.available)('invoke and start (real engine)', () => {
  const repo = uniqueRepo('invoke');
  const plain = `${repo}:plain`;
  const withExt = `${repo}:ext`;
  let dir: string;

  beforeAll(async () => {
    dir = fixtureCopy('go-test-function');
    expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo.replace(/:.*/, ''), '--force'])).code).toBe(
      0,
    );
    const b1 = await runCli(['build', dir, '--tag', plain, ...standin()]);
    expect(b1.code, b1.stderr).toBe(0);
    // The test extension, compiled on the host (static), packed as a layer zip, added from disk.
    const extBin = path.join(tmpDir(), 'test-ext');
    execFileSync('go', ['build', '-o', extBin, '.'], {
      cwd: fixtureCopy('go-extension'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    });
    const zip = path.join(tmpDir(), 'test-ext.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'extensions/', mode: 0o040755 },
        { name: 'extensions/test-ext', data: readFileSync(extBin), mode: 0o100755 },
      ]),
    );
    expect((await runCli(['add-extension', '--from-zip', zip, dir])).code).toBe(0);
    const b2 = await runCli(['build', dir, '--tag', withExt, ...standin()]);
    expect(b2.code, b2.stderr).toBe(0);
  });

  /** Containers made by invoke/start in THIS file (its image repo): other processes may run invokes on the engine at the same time. */
  const ours = async () =>
    (await docker.listContainers({ all: true, filters: { label: [SESSION_LABEL] } })).filter((c) =>
      c.Image.startsWith(repo),
    );

  afterAll(async () => {
    // No container made by invoke or start outlives them.
    expect((await ours()).map((c) => `${c.Image} ${c.Status}`)).toEqual([]);
  });

  it('cold then warm: init once, Init Duration on the first REPORT only, request ids match', async () => {
    const started = Date.now();
    const r = await runCli([
      'invoke',
      '--image',
      plain,
      '--repeat',
      '2',
      '--data',
      '{"hello":"world"}',
      '--env',
      'CUSTOM=yes',
      '--memory',
      '256',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const answers = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Echo);
    expect(answers).toHaveLength(2);
    expect(r.stderr.match(/init pid=/g)).toHaveLength(1);
    const [first, second] = reports(r.stderr);
    expect(first).toMatch(/Init Duration: [\d.]+ ms/);
    expect(second).not.toMatch(/Init Duration/);
    for (const [i, line] of [first!, second!].entries()) {
      expect(line).toContain(`RequestId: ${answers[i]!.requestId}`);
      expect(line).toMatch(
        /\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 256 MB\tMax Memory Used: \d+ MB/,
      );
      // Measured, not copied from the setting (the memory-hungry test below shows it moves).
      expect(maxMemoryUsed(line)).toBeGreaterThan(0);
      expect(maxMemoryUsed(line)).toBeLessThan(256);
      expect(r.stderr).toContain(`START RequestId: ${answers[i]!.requestId} Version: $LATEST`);
      expect(r.stderr).toContain(`END RequestId: ${answers[i]!.requestId}`);
    }
    const a = answers[0]!;
    expect(a.event).toEqual({ hello: 'world' });
    expect(a).toMatchObject({ memorySize: '256', version: '$LATEST', custom: 'yes', region: 'us-east-1' });
    expect(a.functionArn).toMatch(/^arn:aws:lambda:us-east-1:\d{12}:function:/);
    expect(a.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
    // The deadline is the invoke's start plus the timeout (3 s by default).
    expect(Number(a.deadlineMs)).toBeGreaterThanOrEqual(started + 3000);
    expect(Number(a.deadlineMs)).toBeLessThanOrEqual(Date.now() + 3000);
  });

  it('Max Memory Used is measured: it rises with what the function allocates', async () => {
    const idle = await runCli(['invoke', '--image', plain, '--memory', '256']);
    const hungry = await runCli([
      'invoke',
      '--image',
      plain,
      '--memory',
      '256',
      '--data',
      '{"action":"alloc","mb":96}',
    ]);
    expect(idle.code, idle.stderr).toBe(0);
    expect(hungry.code, hungry.stderr).toBe(0);
    const before = maxMemoryUsed(reports(idle.stderr)[0]!);
    const after = maxMemoryUsed(reports(hungry.stderr)[0]!);
    expect(before).toBeGreaterThan(0);
    expect(after).toBeGreaterThanOrEqual(before + 90);
    expect(after).toBeLessThanOrEqual(256);
  });

  it('a function error comes back as Lambda returns it, with exit code 15', async () => {
    const r = await runCli(['invoke', '--image', plain, '--data', '{"action":"error"}']);
    expect(r.code).toBe(15);
    expect(JSON.parse(r.stdout)).toEqual({ errorMessage: 'boom', errorType: 'TestError', stackTrace: ['main.go:1'] });
    expect(reports(r.stderr)).toHaveLength(1);
  });

  it('an init error is reported with INIT_REPORT and returned to the caller', async () => {
    const r = await runCli(['invoke', '--image', plain, '--env', 'INIT_ERROR=1']);
    expect(r.code).toBe(15);
    expect(JSON.parse(r.stdout)).toEqual({ errorMessage: 'init failed on purpose', errorType: 'TestInitError' });
    expect(r.stderr).toMatch(
      /^INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: TestInitError$/m,
    );
  });

  it('uses bundled example events with --set overrides, and stdin', async () => {
    const r = await runCli(['invoke', '--image', plain, '--event-example', 'sqs', '--set', 'Records[0].body=hi there']);
    expect(r.code, r.stderr).toBe(0);
    const event = (JSON.parse(r.stdout) as Echo).event as { Records: Array<{ body: string; eventSource: string }> };
    expect(event.Records[0]).toMatchObject({ body: 'hi there', eventSource: 'aws:sqs' });
    const s = await runCli(['invoke', '--image', plain, '--event', '-'], { input: '{"from":"stdin"}' });
    expect((JSON.parse(s.stdout) as Echo).event).toEqual({ from: 'stdin' });
  });

  describe('environment lifecycles (in process)', () => {
    let fn: LocalFunction;
    const platform: string[] = [];
    beforeAll(async () => {
      const engine = await connectEngine();
      fn = await prepareFunction(engine, await resolveFunctionSettings({ image: plain, timeoutSec: 1 }), {
        onPlatformLine: (l) => platform.push(l),
        onOutput: () => {},
      });
    });
    afterAll(() => fn?.pool.close());
    const invoke = (event: object) => fn.pool.invoke(Buffer.from(JSON.stringify(event)));

    it('a timeout ends the invoke as Lambda does and the next invoke starts cold', async () => {
      expect((await invoke({})).cold).toBe(true);
      const timedOut = await invoke({ action: 'sleep', ms: 3000 });
      expect(timedOut.timedOut).toBe(true);
      await fn.pool.settled(); // the REPORT line follows the answer
      expect(JSON.parse(timedOut.result.body.toString()).errorMessage).toMatch(
        new RegExp(`^\\S+Z ${timedOut.requestId} Task timed out after 1\\.00 seconds$`),
      );
      expect(
        platform.some((l) => l.startsWith('REPORT') && l.includes(timedOut.requestId) && l.includes('Status: timeout')),
      ).toBe(true);
      const after = await invoke({});
      expect(after.cold).toBe(true);
      expect(after.result.kind).toBe('response');
    });

    it('a runtime that exits mid-invoke gives Runtime.ExitError, then a cold start', async () => {
      const crashed = await invoke({ action: 'exit' });
      expect(crashed.result.kind).toBe('error');
      expect(JSON.parse(crashed.result.body.toString())).toMatchObject({ errorType: 'Runtime.ExitError' });
      expect(JSON.parse(crashed.result.body.toString()).errorMessage).toMatch(
        /Runtime exited with error: exit status 3/,
      );
      expect((await invoke({})).cold).toBe(true);
    });

    it('a response over 6 MB becomes Function.ResponseSizeTooLarge', async () => {
      const big = await invoke({ action: 'big' });
      expect(JSON.parse(big.result.body.toString())).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
    });
  });

  it('100 invokes at concurrency 4: each answered exactly once', async () => {
    const engine = await connectEngine();
    const fn = await prepareFunction(engine, await resolveFunctionSettings({ image: plain, concurrency: 4 }), {
      onPlatformLine: () => {},
      onOutput: () => {},
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) => fn.pool.invoke(Buffer.from(JSON.stringify({ n: i })))),
      );
      const seen = results
        .map((r) => (JSON.parse(r.result.body.toString()) as Echo).event.n as number)
        .sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => i));
      expect(new Set(results.map((r) => r.requestId)).size).toBe(100);
      expect(results.filter((r) => r.cold)).toHaveLength(4);
    } finally {
      await fn.pool.close();
    }
  });

  it('starts extensions from /opt/extensions before the runtime, sends INVOKE, then SHUTDOWN on the way out', async () => {
    const r = await runCli(['invoke', '--image', withExt, '--repeat', '2']);
    expect(r.code, r.stderr).toBe(0);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as Echo).requestId);
    expect(r.stderr).toMatch(/\[test-ext\] registered test-ext for /);
    for (const id of ids) expect(r.stderr).toContain(`[test-ext] INVOKE ${id}`);
    expect(r.stderr).toContain('[test-ext] SHUTDOWN spindown');
    // The extension registered before its first event (its own output, in its own order).
    expect(r.stderr.indexOf('[test-ext] registered')).toBeLessThan(r.stderr.indexOf('[test-ext] INVOKE'));
  });

  it('an extension that crashes before registering fails init as Extension.Crash, without waiting 10 s', async () => {
    const r = await runCli(['invoke', '--image', withExt, '--env', 'EXT_CRASH=1']);
    expect(r.code).toBe(15);
    expect(JSON.parse(r.stdout)).toMatchObject({ errorType: 'Extension.Crash' });
    expect(r.stderr).toMatch(
      /^INIT_REPORT Init Duration: [\d.]+ ms\tPhase: init\tStatus: error\tError Type: Extension\.Crash$/m,
    );
    // Ended by noticing the crash, not by the 10 s init timeout.
    expect(Number(/INIT_REPORT Init Duration: ([\d.]+) ms/.exec(r.stderr)![1])).toBeLessThan(10_000);
  });

  it("runs an alpine image without any emulator, and --rie uses the image's own emulator", async () => {
    const hello = fixtureCopy('go-hello');
    await runCli(['init', hello, '--base', 'alpine', '--rie']);
    const tag = `${repo}:hello-rie`;
    expect(
      (
        await runCli([
          'build',
          hello,
          '--tag',
          tag,
          '--variants',
          'alpine,alpine-rie',
          '--rie-from',
          dockerEnv.rie!.x86_64,
          ...standin(),
        ])
      ).code,
    ).toBe(0);
    const bare = await runCli(['invoke', '--image', `${tag}-alpine`]);
    expect(bare.stdout.trim()).toBe('{"message":"Hello AWS Lambda"}');
    const rie = await runCli(['invoke', '--image', `${tag}-alpine-rie`, '--rie']);
    expect(rie.code, rie.stderr).toBe(0);
    expect(rie.stdout.trim()).toBe('{"message":"Hello AWS Lambda"}');
    expect(rie.stderr).toMatch(/^REPORT RequestId: .*Init Duration/m); // the emulator's own line
    const noRie = await runCli(['invoke', '--image', `${tag}-alpine`, '--rie']);
    expect(noRie.code).toBe(14);
    expect(noRie.stderr).toMatch(/without serving an emulator on :8080/);
  });

  it('start: the emulator endpoint (curl-style) and the Invoke API (AWS SDK) both answer; Ctrl-C cleans up', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--image', withExt, '--port', '0', '--function-name', 'my-fn', '--concurrency', '2'],
      {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    try {
      const port = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`start did not serve: ${stderr}`)), 30_000);
        const check = () => {
          const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          } else setTimeout(check, 50);
        };
        check();
      });
      const res = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`, {
        method: 'POST',
        body: '{"via":"curl"}',
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as Echo).event).toEqual({ via: 'curl' });

      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
      const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
      const client = new LambdaClient({
        region: 'us-east-1',
        endpoint: `http://127.0.0.1:${port}`,
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      });
      const out = await client.send(
        new InvokeCommand({ FunctionName: 'my-fn', Payload: Buffer.from('{"via":"sdk"}') }),
      );
      expect(out.StatusCode).toBe(200);
      expect(out.FunctionError).toBeUndefined();
      expect(JSON.parse(Buffer.from(out.Payload!).toString()) as Echo).toMatchObject({
        functionName: 'my-fn',
        event: { via: 'sdk' },
      });
      const failed = await client.send(
        new InvokeCommand({ FunctionName: 'my-fn', Payload: Buffer.from('{"action":"error"}') }),
      );
      expect(failed.FunctionError).toBe('Unhandled');
      await expect(
        client.send(new InvokeCommand({ FunctionName: 'other-fn', Payload: Buffer.from('{}') })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
      client.destroy();
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    expect(stderr).toContain('[test-ext] SHUTDOWN spindown');
    expect(await ours()).toEqual([]);
  });
});
