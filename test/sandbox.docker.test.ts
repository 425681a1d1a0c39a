// The execution environment around the function, as Lambda's (issue 11): non-root user,
// read-only root, /tmp of the ephemeral storage, one network namespace per environment,
// Telemetry and Logs APIs, shutdown with SIGTERM and SHUTDOWN reasons, response limits,
// ordered platform lines, and the sweep of containers whose owner died. A probe function and
// a Telemetry-subscribing extension of our own (fixtures/go-probe, go-telemetry-extension),
// on both stand-in bases, on a real engine.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  prepareFunction,
  resolveFunctionSettings,
  type FunctionOptions,
  type LocalFunction,
} from '../src/app/invoke.js';
import { connectEngine, type Engine } from '../src/docker/engine.js';
import { SESSION_LABEL } from '../src/emulator/function-image.js';
import { ownerLabels } from '../src/emulator/owners.js';
import type { PoolInvoke } from '../src/emulator/pool.js';
import { runCli } from './support/cli.js';
import {
  containerLogs,
  docker,
  dockerEnv,
  standin,
  startContainer,
  stopAndRemove,
  uniqueRepo,
  waitFor,
} from './support/docker.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

interface Probe {
  requestId: string;
  traceId: string;
  uid: number;
  gid: number;
  taskWriteError: string;
  tmpWriteError: string;
  tmpMB: number;
  env: Record<string, string>;
  bindError: string;
  sandbox: string[];
}

interface Run {
  fn: LocalFunction;
  output: string[];
  platform: string[];
  /** Both, in the order they were printed. */
  all: string[];
}

const probeOf = (o: PoolInvoke) => JSON.parse(o.result.body.toString()) as Probe;
/** Events the telemetry extension printed: "[telemetry-ext] event <type> <record JSON>". */
const telemetryEvents = (lines: string[]) =>
  lines.flatMap((l) => {
    const m = /^\[telemetry-ext\] event (\S+) (.*)$/.exec(l);
    return m ? [{ type: m[1]!, record: JSON.parse(m[2]!) as Record<string, unknown> | string }] : [];
  });

describe.skipIf(!dockerEnv.available)('the execution environment (real engine)', () => {
  const repo = uniqueRepo('sandbox');
  const images = { alpinePlain: `${repo}:alpine-plain`, alpine: `${repo}:alpine-ext`, aws: `${repo}:aws-ext` };
  let engine: Engine;

  beforeAll(async () => {
    engine = await connectEngine();
    const extBin = path.join(tmpDir(), 'telemetry-ext');
    execFileSync('go', ['build', '-o', extBin, '.'], {
      cwd: fixtureCopy('go-telemetry-extension'),
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    });
    const zip = path.join(tmpDir(), 'telemetry-ext.zip');
    writeFileSync(
      zip,
      makeZip([
        { name: 'extensions/', mode: 0o040755 },
        { name: 'extensions/telemetry-ext', data: readFileSync(extBin), mode: 0o100755 },
      ]),
    );
    for (const base of ['alpine', 'aws'] as const) {
      const dir = fixtureCopy('go-probe');
      const init = await runCli(['init', dir, '--base', base, '--name', repo.replace(/:.*/, ''), '--force']);
      expect(init.code, init.stderr).toBe(0);
      if (base === 'alpine') {
        const plain = await runCli(['build', dir, '--tag', images.alpinePlain, ...standin()]);
        expect(plain.code, plain.stderr).toBe(0);
      }
      expect((await runCli(['add-extension', '--from-zip', zip, dir])).code).toBe(0);
      const built = await runCli(['build', dir, '--tag', images[base], ...standin()]);
      expect(built.code, built.stderr).toBe(0);
    }
  });

  /** Runs work against a pool of the image's environments; closes it (shutdown) before returning the lines. */
  async function withFunction(
    image: string,
    opts: Partial<FunctionOptions>,
    work: (fn: LocalFunction, run: Run) => Promise<void>,
  ): Promise<Run> {
    const run: Run = { fn: undefined as unknown as LocalFunction, output: [], platform: [], all: [] };
    run.fn = await prepareFunction(engine, await resolveFunctionSettings({ image, ...opts }), {
      onOutput: (l) => (run.output.push(l), run.all.push(l)),
      onPlatformLine: (l) => (run.platform.push(l), run.all.push(l)),
    });
    try {
      await work(run.fn, run);
    } finally {
      await run.fn.pool.close();
    }
    return run;
  }

  for (const base of ['aws', 'alpine'] as const) {
    for (const concurrency of [1, 2]) {
      it(`${base} base, concurrency ${concurrency}: uid 993, read-only root, /tmp of the ephemeral storage, Lambda's variables, own ports, Telemetry`, async () => {
        const run = await withFunction(
          images[base],
          { concurrency, ephemeralMb: 600, functionName: 'probe-fn' },
          async (fn) => {
            // Held at once (sleep), so with concurrency 2 both environments run side by side.
            const answers = await Promise.all(
              Array.from({ length: concurrency }, () => fn.pool.invoke(Buffer.from('{"action":"sleep","ms":300}'))),
            );
            expect(answers.filter((a) => a.cold)).toHaveLength(concurrency);
            const probes = answers.map(probeOf);
            for (const p of probes) {
              expect(p.uid).toBe(993);
              expect(p.gid).toBe(990);
              expect(p.taskWriteError).toMatch(/read-only file system/);
              expect(p.tmpWriteError).toBe('');
              expect(p.tmpMB).toBe(600);
              expect(p.bindError).toBe(''); // port 2773 free in each environment
              expect(p.env).toMatchObject({
                AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
                AWS_LAMBDA_FUNCTION_NAME: 'probe-fn',
                AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
                AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/probe-fn',
                LAMBDA_TASK_ROOT: '/var/task',
                AWS_REGION: 'us-east-1',
              });
              expect(p.env.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
              // The API is on the bridge's gateway, not on the host's loopback.
              expect(p.env.AWS_LAMBDA_RUNTIME_API).not.toMatch(/^127\./);
              expect(p.sandbox).toHaveLength(1);
            }
            // sandbox.localdomain is each environment itself: different addresses, one per environment.
            expect(new Set(probes.map((p) => p.sandbox[0])).size).toBe(concurrency);
          },
        );
        // Both telemetry extensions bound sandbox.localdomain:4243 and got their events.
        expect(
          run.output.filter((l) => /^\[telemetry-ext\] registered telemetry-ext account=000000000000$/.test(l)),
        ).toHaveLength(concurrency);
        expect(run.output.some((l) => /listen failed|subscribe failed/.test(l))).toBe(false);
        const events = telemetryEvents(run.output);
        for (const type of [
          'platform.initStart',
          'platform.initRuntimeDone',
          'platform.initReport',
          'platform.start',
          'platform.runtimeDone',
          'platform.report',
        ]) {
          expect(
            events.filter((e) => e.type === type),
            type,
          ).toHaveLength(concurrency);
        }
        expect(events.filter((e) => e.type === 'function' && /^probe-log /.test(e.record as string))).toHaveLength(
          concurrency,
        );
        expect(run.output).toContain('[telemetry-ext] SHUTDOWN spindown');
      });
    }
  }

  it('Telemetry events carry the documented records, in order, for each invoke', async () => {
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const ids: string[] = [];
    const run = await withFunction(images.alpine, { memoryMb: 256 }, async (fn) => {
      ids.push((await fn.pool.invoke(Buffer.from('{}'), { traceId: trace })).requestId);
      ids.push((await fn.pool.invoke(Buffer.from('{}'))).requestId);
    });
    const events = telemetryEvents(run.output);
    expect(events.find((e) => e.type === 'platform.telemetrySubscription')?.record).toEqual({
      name: 'telemetry-ext',
      state: 'Subscribed',
      types: ['platform', 'function'],
    });
    expect(events.find((e) => e.type === 'platform.extension')?.record).toEqual({
      name: 'telemetry-ext',
      state: 'Ready',
      events: ['INVOKE', 'SHUTDOWN'],
    });
    const types = events
      .map((e) => e.type)
      .filter((t) => t !== 'function' && t !== 'platform.telemetrySubscription' && t !== 'platform.extension');
    expect(types.slice(0, 3)).toEqual(['platform.initStart', 'platform.initRuntimeDone', 'platform.initReport']);
    expect(types.slice(3)).toEqual([
      'platform.start',
      'platform.runtimeDone',
      'platform.report',
      'platform.start',
      'platform.runtimeDone',
      'platform.report',
    ]);
    const record = (type: string, i = 0) => events.filter((e) => e.type === type)[i]!.record as Record<string, any>;
    // schema 2022-12-13: the runtime version and function fields, not 2025-01-29's instanceId
    expect(record('platform.initStart')).toMatchObject({
      initializationType: 'on-demand',
      phase: 'init',
      functionVersion: '$LATEST',
      runtimeVersion: images.alpine,
      runtimeVersionArn: expect.stringMatching(/^arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}$/),
    });
    expect(record('platform.initStart').instanceId).toBeUndefined();
    expect(record('platform.initRuntimeDone')).toEqual({
      initializationType: 'on-demand',
      phase: 'init',
      status: 'success',
    });
    expect(record('platform.initReport').metrics.durationMs).toBeGreaterThan(0);
    expect(record('platform.start')).toEqual({
      requestId: ids[0],
      version: '$LATEST',
      tracing: { type: 'X-Amzn-Trace-Id', value: trace },
    });
    expect(record('platform.runtimeDone')).toMatchObject({
      requestId: ids[0],
      status: 'success',
      metrics: { producedBytes: expect.any(Number) },
      spans: [
        { name: 'responseLatency', start: expect.any(String), durationMs: expect.any(Number) },
        { name: 'responseDuration', start: expect.any(String), durationMs: 0 },
      ],
    });
    const report = record('platform.report', 1);
    expect(report).toMatchObject({ requestId: ids[1], status: 'success', metrics: { memorySizeMB: 256 } });
    expect(report.metrics.maxMemoryUsedMB).toBeGreaterThan(0);
    expect(report.metrics.billedDurationMs).toBeGreaterThanOrEqual(1);
    expect(record('platform.report', 0).metrics.initDurationMs).toBeGreaterThan(0);
    expect(report.metrics.initDurationMs).toBeUndefined();
    const fnLines = events.filter((e) => e.type === 'function').map((e) => e.record as string);
    expect(fnLines.filter((l) => l.startsWith('probe-log')).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual(
      ids.map((id) => `probe-log ${id}`),
    );
    // The extension's own lines are extension events, which it did not subscribe to.
    expect(fnLines.some((l) => l.startsWith('[telemetry-ext]'))).toBe(false);
  });

  it('the legacy Logs API delivers platform.start/end/report and function lines', async () => {
    let id = '';
    const run = await withFunction(images.alpine, { env: { LOGS_API: '1' } }, async (fn) => {
      id = (await fn.pool.invoke(Buffer.from('{}'))).requestId;
    });
    expect(run.output).toContain('[telemetry-ext] subscribed to /2020-08-15/logs');
    const events = telemetryEvents(run.output);
    expect(events.find((e) => e.type === 'platform.start')?.record).toEqual({ requestId: id, version: '$LATEST' });
    expect(events.find((e) => e.type === 'platform.end')?.record).toEqual({ requestId: id });
    expect(events.find((e) => e.type === 'platform.report')?.record).toMatchObject({ requestId: id });
    expect(events.some((e) => e.type === 'function' && (e.record as string).startsWith(`probe-log ${id}`))).toBe(true);
  });

  it('a subscriber that is down does not block invokes or shutdown', async () => {
    const run = await withFunction(images.alpine, { env: { TELEMETRY_DEAD: '1' } }, async (fn) => {
      for (let i = 0; i < 3; i++) expect((await fn.pool.invoke(Buffer.from('{}'))).result.kind).toBe('response');
    });
    expect(run.platform.filter((l) => l.startsWith('REPORT '))).toHaveLength(3);
    expect(run.output).toContain('[telemetry-ext] SHUTDOWN spindown');
  });

  it('shutdown: SIGTERM to the runtime only when an extension registered; SHUTDOWN reasons timeout and failure', async () => {
    // No extension at all: Lambda sends no SIGTERM.
    const bare = await withFunction(
      images.alpinePlain,
      {},
      async (fn) => void (await fn.pool.invoke(Buffer.from('{}'))),
    );
    expect(bare.output).not.toContain('probe: SIGTERM received');
    // Only the runtime's own internal extension (aws-lambda-go's WithEnableSIGTERM): SIGTERM.
    const internal = await withFunction(
      images.alpinePlain,
      { env: { SIGTERM_EXT: '1' } },
      async (fn) => void (await fn.pool.invoke(Buffer.from('{}'))),
    );
    expect(internal.output).toContain('probe: SIGTERM received');
    // An external extension: the runtime gets SIGTERM and the extension SHUTDOWN spindown.
    const external = await withFunction(
      images.alpine,
      {},
      async (fn) => void (await fn.pool.invoke(Buffer.from('{}'))),
    );
    expect(external.output).toContain('probe: SIGTERM received');
    expect(external.output).toContain('[telemetry-ext] SHUTDOWN spindown');
    // A timeout ends the environment with reason timeout; a crash with failure.
    const timedOut = await withFunction(images.alpine, { timeoutSec: 1 }, async (fn) => {
      expect((await fn.pool.invoke(Buffer.from('{"action":"sleep","ms":3000}'))).timedOut).toBe(true);
    });
    expect(timedOut.output).toContain('[telemetry-ext] SHUTDOWN timeout');
    const crashed = await withFunction(images.alpine, {}, async (fn) => {
      const o = await fn.pool.invoke(Buffer.from('{"action":"crash"}'));
      expect(JSON.parse(o.result.body.toString())).toMatchObject({ errorType: 'Runtime.ExitError' });
    });
    expect(crashed.output).toContain('[telemetry-ext] SHUTDOWN failure');
    // Max Memory Used stays a measurement after the crash.
    expect(crashed.platform.find((l) => l.startsWith('REPORT '))).toMatch(/Max Memory Used: [1-9]\d* MB/);
  });

  it('only the environment itself reaches its Runtime API: another container on the bridge is refused, the runtime still gets the event', async () => {
    await withFunction(images.alpinePlain, { timeoutSec: 5 }, async (fn) => {
      const api = probeOf(await fn.pool.invoke(Buffer.from('{}'))).env.AWS_LAMBDA_RUNTIME_API;
      // Another container on the engine's default network asks for the next event, as a
      // hostile neighbour on a shared engine would, while the runtime's own /next waits.
      const thief = await startContainer(images.alpinePlain, repo, {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: [`wget -q -T 8 -O - http://${api}/2018-06-01/runtime/invocation/next; echo "thief-exit $?"`],
      });
      try {
        // Refused at once; before the fix it held its request (bounded wait either way).
        await waitFor(
          async () => ((await thief.inspect()).State.Running ? undefined : true),
          'the thief to be refused',
          4000,
        ).catch(() => undefined);
        const secret = await fn.pool.invoke(Buffer.from('{"secret":"s3cr3t"}'));
        expect(secret.result.kind).toBe('response');
        expect(probeOf(secret).requestId).toBe(secret.requestId);
        await thief.wait();
        const stolen = await containerLogs(thief.id);
        expect(stolen).not.toContain('s3cr3t');
        expect(stolen).toMatch(/thief-exit [1-9]/);
      } finally {
        await stopAndRemove(thief);
      }
    });
  });

  it('processes and threads are capped at 1,024 per environment, as on Lambda; the environment lives on', async () => {
    await withFunction(images.alpinePlain, { memoryMb: 1024, timeoutSec: 120 }, async (fn) => {
      const o = await fn.pool.invoke(Buffer.from('{"action":"procs","n":1100}'));
      const r = JSON.parse(o.result.body.toString()) as { started: number; forkError: string };
      expect(o.result.kind, o.result.body.toString()).toBe('response');
      expect(r.started).toBeLessThan(1024); // the runtime's own process and threads count too
      expect(r.started).toBeGreaterThan(900);
      expect(r.forkError).toMatch(/resource temporarily unavailable/);
      expect((await fn.pool.invoke(Buffer.from('{}'))).result.kind).toBe('response');
    });
  });

  it('orphans are reaped as on Lambda: a warm environment that leaves 400 per invoke keeps starting processes', async () => {
    await withFunction(images.alpinePlain, { memoryMb: 512, timeoutSec: 120 }, async (fn) => {
      // 3 x 400 orphans: past the 1,024-process cap if their zombies stayed (they did before).
      for (let i = 0; i < 3; i++) {
        const o = await fn.pool.invoke(Buffer.from('{"action":"orphans","n":400}'));
        expect(o.result.kind, o.result.body.toString()).toBe('response');
        const r = JSON.parse(o.result.body.toString()) as { zombies: number; forkError: string };
        expect(r.forkError).toBe('');
        expect(r.zombies).toBeLessThan(50);
      }
    });
  });

  for (const image of ['alpinePlain', 'alpine'] as const) {
    it(`${image}: 1,024 open files and no writable /dev/shm, as on Lambda`, async () => {
      await withFunction(images[image], {}, async (fn) => {
        const o = await fn.pool.invoke(Buffer.from('{"action":"limits"}'));
        const r = JSON.parse(o.result.body.toString()) as { nofileSoft: number; nofileHard: number; shmError: string };
        expect(r).toMatchObject({ nofileSoft: 1024, nofileHard: 1024 });
        expect(r.shmError).not.toBe('');
      });
    });
  }

  it('/tmp is not charged to the memory: 200 MB in /tmp with 128 MB works, and /tmp stays capped at its size', async () => {
    const run = await withFunction(
      images.alpinePlain,
      { memoryMb: 128, ephemeralMb: 512, timeoutSec: 60 },
      async (fn) => {
        const o = await fn.pool.invoke(Buffer.from('{"action":"tmpfill","n":200}'));
        expect(o.result.kind, o.result.body.toString()).toBe('response');
        expect(JSON.parse(o.result.body.toString())).toEqual({ writtenMB: 200, writeError: '' });
        const full = await fn.pool.invoke(Buffer.from('{"action":"tmpfill","n":600}'));
        const r = JSON.parse(full.result.body.toString()) as { writtenMB: number; writeError: string };
        expect(r.writeError).toMatch(/no space left on device/);
        expect(r.writtenMB).toBeLessThanOrEqual(512);
        expect((await fn.pool.invoke(Buffer.from('{}'))).result.kind).toBe('response');
      },
    );
    // Max Memory Used is the function's, not the files': well under 128 MB.
    const used = run.platform
      .filter((l) => l.startsWith('REPORT '))
      .map((l) => Number(/Max Memory Used: (\d+) MB/.exec(l)?.[1]));
    expect(used).toHaveLength(3);
    for (const mb of used) expect(mb).toBeLessThan(100);
  });

  it('a function over its memory is killed and named Runtime.OutOfMemory, with its real peak in REPORT', async () => {
    const run = await withFunction(images.alpinePlain, { memoryMb: 128, timeoutSec: 60 }, async (fn) => {
      const o = await fn.pool.invoke(Buffer.from('{"action":"alloc","n":400}'));
      expect(o.result.kind).toBe('error');
      expect(JSON.parse(o.result.body.toString())).toMatchObject({
        errorType: 'Runtime.OutOfMemory',
        errorMessage: expect.stringMatching(/Error: Runtime exited with error: signal: killed$/),
      });
      // the next invoke starts a fresh environment
      expect((await fn.pool.invoke(Buffer.from('{}'))).result.kind).toBe('response');
    });
    const report = run.platform.find((l) => l.startsWith('REPORT '))!;
    expect(report).toMatch(/Error Type: Runtime.OutOfMemory/);
    expect(Number(/Max Memory Used: (\d+) MB/.exec(report)?.[1])).toBeGreaterThanOrEqual(128);
  });

  it('a runtime that crashed with no later invoke: its extensions get SHUTDOWN failure, not spindown', async () => {
    const run = await withFunction(images.alpine, {}, async (fn, live) => {
      const o = await fn.pool.invoke(Buffer.from('{"action":"crash-after"}'));
      expect(o.result.body.toString()).toBe('"bye"');
      await waitFor(
        async () => (live.output.includes('probe: exiting after the answer') ? true : undefined),
        'the runtime to exit',
      );
      // the init shell reports the exit right after the process ends
      await new Promise((r) => setTimeout(r, 1000));
    });
    expect(run.output).toContain('[telemetry-ext] SHUTDOWN failure');
    expect(run.output).not.toContain('[telemetry-ext] SHUTDOWN spindown');
  });

  it('responses up to exactly 6,291,556 bytes pass; one more byte fails naming the size', async () => {
    await withFunction(images.alpinePlain, {}, async (fn) => {
      const ok = await fn.pool.invoke(Buffer.from('{"action":"size","n":6291556}'));
      expect(ok.result.kind).toBe('response');
      expect(ok.result.body.length).toBe(6_291_556);
      const tooBig = await fn.pool.invoke(Buffer.from('{"action":"size","n":6291557}'));
      expect(JSON.parse(tooBig.result.body.toString())).toEqual({
        errorType: 'Function.ResponseSizeTooLarge',
        errorMessage: 'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
      });
    });
  });

  it("an invoke's trace id and its own log (for Tail) come back with it", async () => {
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    await withFunction(images.alpinePlain, {}, async (fn) => {
      const o = await fn.pool.invoke(Buffer.from('{}'), { traceId: trace });
      expect(probeOf(o).traceId).toBe(trace);
      expect(o.traceId).toBe(trace);
      const log = (await o.log).split('\n');
      expect(log[0]).toBe(`START RequestId: ${o.requestId} Version: $LATEST`);
      expect(log).toContain(`END RequestId: ${o.requestId}`);
      expect(log.some((l) => l.startsWith(`probe-log ${o.requestId}`))).toBe(true);
      expect(log.at(-2)).toMatch(new RegExp(`^REPORT RequestId: ${o.requestId}\\t`));
    });
  });

  it('START, END and REPORT stay in order per environment at concurrency 2', async () => {
    const run = await withFunction(images.alpinePlain, { concurrency: 2 }, async (fn) => {
      await Promise.all(Array.from({ length: 12 }, () => fn.pool.invoke(Buffer.from('{}'))));
    });
    // Which environment ran each invoke: the probe logs its own address.
    const envOf = new Map(
      run.output.flatMap((l) => {
        const m = /^probe-log (\S+) sandbox=(\S+)$/.exec(l);
        return m ? [[m[1]!, m[2]!] as const] : [];
      }),
    );
    expect(envOf.size).toBe(12);
    for (const env of new Set(envOf.values())) {
      const mine = run.platform.filter((l) => {
        const id = /RequestId: (\S+)/.exec(l)?.[1];
        return id && envOf.get(id) === env;
      });
      // START a, END a, REPORT a, START b, ...: never a START before the previous REPORT.
      for (let i = 0; i < mine.length; i += 3) {
        const id = /RequestId: (\S+)/.exec(mine[i]!)![1];
        expect(mine[i]).toMatch(/^START /);
        expect(mine[i + 1]).toBe(`END RequestId: ${id}`);
        expect(mine[i + 2]).toMatch(new RegExp(`^REPORT RequestId: ${id}\\t`));
      }
    }
  });

  it('invoke removes containers whose owner process is gone, never those of a live one', async () => {
    const dead = spawn(process.execPath, ['-e', '0']);
    const deadPid = dead.pid!;
    await new Promise((r) => dead.on('close', r));
    const make = async (pid: number) =>
      (
        await docker.createContainer({
          Image: images.alpinePlain,
          Labels: { [SESSION_LABEL]: 'test-orphan', ...ownerLabels(pid) },
        })
      ).id;
    const orphan = await make(deadPid);
    const live = await make(process.pid);
    try {
      const r = await runCli(['invoke', '--image', images.alpinePlain]);
      expect(r.code, r.stderr).toBe(0);
      const ids = (await docker.listContainers({ all: true, filters: { label: [SESSION_LABEL] } })).map((c) => c.Id);
      expect(ids).not.toContain(orphan);
      expect(ids).toContain(live);
    } finally {
      for (const id of [orphan, live])
        await docker
          .getContainer(id)
          .remove({ force: true })
          .catch(() => {});
    }
  });

  afterAll(async () => {
    // Nothing this file's runs made outlives them.
    const left = (await docker.listContainers({ all: true, filters: { label: [SESSION_LABEL] } })).filter((c) =>
      c.Image.startsWith(repo),
    );
    expect(left.map((c) => `${c.Image} ${c.Status}`)).toEqual([]);
  });
});
