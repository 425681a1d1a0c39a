// Pure parts of the execution environment: trace ids from the caller's X-Amzn-Trace-Id, the
// container's output told apart (function, extension, the runtime's exit), the container spec,
// the lifecycle state and the Runtime API's state machine, all without an engine.
import { describe, expect, it } from 'vitest';
import {
  environmentSpec,
  LAMBDA_USER,
  logStreamName,
  type EnvironmentSpecInput,
} from '../src/emulator/environment-spec.js';
import { SESSION_LABEL } from '../src/emulator/function-image.js';
import { parseOutputLine } from '../src/emulator/init-shell.js';
import { FINISHED_REMEMBERED, LambdaState, type Outcome } from '../src/emulator/lambda-state.js';
import { Lifecycle } from '../src/emulator/lifecycle.js';
import { statField } from '../src/emulator/measurements.js';
import { missingInitBinary } from '../src/emulator/sandbox.js';
import { traceIdFor } from '../src/emulator/trace-id.js';

describe('trace id of an invoke', () => {
  it("keeps the caller's Root, Parent and Sampled decision", () => {
    expect(traceIdFor('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toBe(
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    expect(traceIdFor('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1')).toMatch(
      /^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/,
    );
  });

  it('makes an unsampled one when the caller sent none', () => {
    expect(traceIdFor()).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });
});

describe('container output lines', () => {
  const M = '\u001e';
  it('tells function lines, extension lines and the runtime exit apart', () => {
    expect(parseOutputLine('hello')).toEqual({ lines: [{ kind: 'function', text: 'hello' }] });
    expect(parseOutputLine(`${M}tele${M}[tele] ready`)).toEqual({
      lines: [{ kind: 'extension', text: '[tele] ready' }],
    });
    expect(parseOutputLine(`${M}${M}runtime-exit 3`)).toEqual({ lines: [], runtimeExit: 3 });
  });

  it("splits the runtime's unterminated last line off the mark that follows it", () => {
    expect(parseOutputLine(`last line without newline${M}tele${M}tele: SHUTDOWN spindown`)).toEqual({
      lines: [
        { kind: 'function', text: 'last line without newline' },
        { kind: 'extension', text: 'tele: SHUTDOWN spindown' },
      ],
    });
    expect(parseOutputLine(`partial${M}${M}runtime-exit 137`)).toEqual({
      lines: [{ kind: 'function', text: 'partial' }],
      runtimeExit: 137,
    });
  });
});

describe('the environment spec (no engine)', () => {
  const base: EnvironmentSpecInput = {
    identity: {
      functionName: 'fn',
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
      version: '$LATEST',
      handler: 'bootstrap',
    },
    memoryMb: 128,
    region: 'eu-west-1',
    ephemeralMb: 512,
    isolated: true,
    session: 's1',
    ownerLabels: { 'org.lambda-image.owner': 'me' },
    image: { image: 'img:1', entrypoint: ['/main'], cmd: [], extensions: [] },
    network: { hostConfig: { NetworkMode: 'bridge' }, hostname: 'sandbox', domainname: 'localdomain' },
    runtimeApi: '172.17.0.1:9001',
    logStreamName: logStreamName('$LATEST', new Date('2026-11-26T10:00:00Z'), 'ab'.repeat(16)),
    credentials: { AWS_ACCESS_KEY_ID: 'AKIA' },
    env: { MY: 'x', AWS_REGION: 'us-east-1' },
  };

  it("gives /tmp to Lambda's user with uid=/gid= on Docker, and with Podman's U option (it refuses uid=)", () => {
    expect(environmentSpec(base).hostConfig?.Tmpfs?.['/tmp']).toBe(
      'rw,exec,nosuid,nodev,size=512m,uid=993,gid=990,mode=1777',
    );
    expect(environmentSpec({ ...base, engineKind: 'podman' }).hostConfig?.Tmpfs?.['/tmp']).toBe(
      'rw,exec,nosuid,nodev,size=512m,U,mode=1777',
    );
  });

  it('names a process limit on Podman, which drops its defaults once any ulimit is given', () => {
    const names = (kind?: 'podman') =>
      environmentSpec({ ...base, engineKind: kind }).hostConfig?.Ulimits?.map((u) => u.Name);
    expect(names()).toEqual(['nofile']);
    expect(names('podman')).toEqual(['nofile', 'nproc']);
  });

  it("is Lambda's environment: user 993, read-only root, /tmp of the ephemeral size, memory limit, labels, variables", () => {
    const spec = environmentSpec(base);
    expect(spec.user).toBe(LAMBDA_USER);
    expect(spec.hostConfig).toMatchObject({
      NetworkMode: 'bridge',
      ReadonlyRootfs: true,
      Memory: 128 * 1024 * 1024,
      MemorySwap: 128 * 1024 * 1024,
      PidsLimit: 1024, // Lambda's 1,024 processes and threads
    });
    expect(spec.hostConfig?.Tmpfs?.['/tmp']).toContain('size=512m');
    expect(spec.labels).toEqual({ [SESSION_LABEL]: 's1', 'org.lambda-image.owner': 'me' });
    expect(spec.hostname).toBe('sandbox');
    expect(spec.env).toMatchObject({
      AWS_LAMBDA_RUNTIME_API: '172.17.0.1:9001',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
      AWS_LAMBDA_LOG_STREAM_NAME: `2026/11/26/[$LATEST]${'ab'.repeat(16)}`,
      AWS_ACCESS_KEY_ID: 'AKIA',
      MY: 'x',
      AWS_REGION: 'us-east-1', // the caller's --env comes last
    });
    expect(spec.entrypoint).toBeUndefined();
  });

  it('joins a namespace made ahead, starts extensions through the init shell, and is a plain container when not isolated', () => {
    const joined = environmentSpec({ ...base, netHolderId: 'abc', image: { ...base.image, extensions: ['tele'] } });
    expect(joined.hostConfig?.NetworkMode).toBe('container:abc');
    expect(joined.hostname).toBeUndefined();
    expect(joined.entrypoint?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(joined.cmd).toEqual(['/main']);
    const plain = environmentSpec({ ...base, isolated: false });
    expect(joined.hostConfig?.PidsLimit).toBe(1024);
    expect(plain.hostConfig?.PidsLimit).toBe(1024);
    expect(plain.user).toBeUndefined();
    expect(plain.hostConfig?.ReadonlyRootfs).toBeUndefined();
    expect(plain.hostConfig?.Tmpfs).toBeUndefined();
  });

  it("reaps with the engine's init, or with the init shell on an engine that has none (its refusal recognised)", () => {
    const spec = environmentSpec(base);
    expect(spec.hostConfig?.Init).toBe(true);
    expect(spec.hostConfig?.Ulimits).toEqual([{ Name: 'nofile', Soft: 1024, Hard: 1024 }]);
    expect(spec.hostConfig?.IpcMode).toBe('none');
    const shell = environmentSpec({ ...base, withoutInit: true });
    expect(shell.hostConfig?.Init).toBeUndefined();
    expect(shell.entrypoint?.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    expect(shell.cmd).toEqual(['/main']);
    expect(
      missingInitBinary(
        new Error('(HTTP code 500) server error - exec: "docker-init": executable file not found in $PATH'),
      ),
    ).toBe(true);
    expect(missingInitBinary(new Error('no such image'))).toBe(false);
  });
});

describe('/tmp outside the function memory (no engine)', () => {
  it('gives the container memory plus ephemeral storage when the sandbox holds the function to its memory', () => {
    const input = {
      identity: {
        functionName: 'fn',
        functionArn: 'arn:aws:lambda:us-east-1:1:function:fn',
        version: '$LATEST',
        handler: 'h',
      },
      memoryMb: 128,
      region: 'us-east-1',
      ephemeralMb: 512,
      isolated: true,
      session: 's',
      ownerLabels: {},
      image: { image: 'i', entrypoint: [], cmd: [], extensions: [] },
      network: { hostConfig: {} },
      runtimeApi: 'x:1',
      logStreamName: 'l',
      credentials: {},
      env: {},
    };
    expect(environmentSpec({ ...input, tmpOutsideMemory: true }).hostConfig?.Memory).toBe(640 * 1024 * 1024);
    expect(environmentSpec({ ...input, tmpOutsideMemory: false }).hostConfig?.Memory).toBe(128 * 1024 * 1024);
  });

  it("reads cgroup files' name-value lines (shmem, oom_kill)", () => {
    const stat = 'cache 1\nrss 2\nshmem 209715200\nmapped_file 3\n';
    expect(statField(stat, 'shmem')).toBe(209715200);
    expect(statField('oom_kill_disable 0\nunder_oom 0\noom_kill 1\n', 'oom_kill')).toBe(1);
    expect(statField('', 'oom_kill')).toBe(0);
  });
});

describe('the lifecycle state', () => {
  it('a crash fails what is in flight and makes the shutdown reason failure; the runtime gets no SIGTERM', () => {
    const life = new Lifecycle();
    expect(life.alive).toBe(true);
    expect(life.exited(2, 'runtime')).toBe(true);
    expect(life.alive).toBe(false);
    expect(life.processesGone).toBe(true);
    expect(life.beginStop()).toEqual({ reason: 'failure', containerRunning: true, runtimeRunning: false });
  });

  it('a runtime that crashed between invokes is shut down with failure even when the run ends (spindown asked)', () => {
    const life = new Lifecycle();
    life.exited(3, 'runtime');
    expect(life.beginStop('spindown').reason).toBe('failure');
  });

  it('a timeout stays the cause when the runtime exits afterwards; exits during shutdown fail nothing', () => {
    const life = new Lifecycle();
    life.doom('timeout');
    expect(life.alive).toBe(false);
    expect(life.exited(137, 'container')).toBe(true);
    expect(life.state).toMatchObject({ phase: 'crashed', cause: 'timeout', containerExited: true });
    const other = new Lifecycle();
    expect(other.beginStop('spindown')).toEqual({ reason: 'spindown', containerRunning: true, runtimeRunning: true });
    expect(other.exited(0, 'container')).toBe(false);
    expect(other.processesGone).toBe(true);
  });
});

describe('the Runtime API state machine (typed outcomes)', () => {
  const identity = {
    functionName: 'fn',
    functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
    version: '$LATEST',
    handler: 'h',
  };

  it('answers outcomes, not status codes; remembers only the recent finished request ids', async () => {
    const state = new LambdaState(identity, []);
    const handed: string[] = [];
    const waiter = {
      answer: (o: Outcome) => {
        if (o.kind === 'event' && 'Lambda-Runtime-Aws-Request-Id' in o.headers)
          handed.push(o.headers['Lambda-Runtime-Aws-Request-Id']!);
      },
    };
    expect(state.runtimeNext(waiter)).toBeUndefined();
    expect(await state.waitForInit()).toEqual({ ok: true });
    const n = FINISHED_REMEMBERED + 5;
    for (let i = 0; i < n; i++) {
      const done = state.invoke({ requestId: `r${i}`, payload: Buffer.from('{}'), deadlineMs: 0, traceId: 't' });
      expect(state.runtimeNext({ answer: () => undefined })).toEqual({
        kind: 'refused',
        refusal: 'invalid-state',
        message: 'Invalid state transition',
      });
      expect(state.runtimeResult(`r${i}`, 'response', { body: Buffer.from('1'), size: 1 })).toEqual({
        kind: 'accepted',
      });
      await done;
      state.runtimeNext(waiter);
    }
    expect(handed).toHaveLength(n);
    // a late post for a recent request is a state error, for one long forgotten an unknown id
    expect(state.runtimeResult(`r${n - 1}`, 'response', { body: Buffer.from('1'), size: 1 })).toMatchObject({
      refusal: 'invalid-state',
    });
    expect(state.runtimeResult('r0', 'response', { body: Buffer.from('1'), size: 1 })).toMatchObject({
      refusal: 'unknown-request',
    });
  });
});

describe('Lambda-Runtime-Invocation-Id and readiness (state machine)', () => {
  const identity = {
    functionName: 'f',
    functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
    version: '$LATEST',
    handler: 'h',
  };
  const nonceOf = (o: Outcome | undefined) => (o?.kind === 'event' ? o.headers['Lambda-Runtime-Invocation-Id'] : '');

  it('a result echoing an earlier invoke of the same request id is refused; an absent echo is accepted', async () => {
    const state = new LambdaState(identity, []);
    let last: Outcome | undefined;
    const waiter = { answer: (o: Outcome) => (last = o) };
    state.runtimeNext(waiter);
    await state.waitForInit();
    const first = state.invoke({ requestId: 'same', payload: Buffer.from('{}'), deadlineMs: 0, traceId: 't' });
    const firstNonce = nonceOf(last);
    expect(firstNonce).toMatch(/^[0-9a-f-]{36}$/);
    state.runtimeResult('same', 'response', { body: Buffer.from('1'), size: 1, invocationId: firstNonce });
    await first;
    // A retry reuses the request id: the first attempt's late answer must not become its answer.
    state.runtimeNext(waiter);
    const retry = state.invoke({ requestId: 'same', payload: Buffer.from('{}'), deadlineMs: 0, traceId: 't' });
    expect(nonceOf(last)).not.toBe(firstNonce);
    expect(
      state.runtimeResult('same', 'response', { body: Buffer.from('old'), size: 3, invocationId: firstNonce }),
    ).toEqual({ kind: 'refused', refusal: 'invoke-timeout', message: 'Invoke timeout' });
    expect(state.runtimeResponseStart('same', undefined, firstNonce)).toMatchObject({ refusal: 'invoke-timeout' });
    expect(state.runtimeResult('same', 'response', { body: Buffer.from('new'), size: 3 })).toEqual({
      kind: 'accepted',
    });
    expect((await retry).body.toString()).toBe('new');
  });

  it('is ready for another invoke only once the runtime asked for its next event', async () => {
    const state = new LambdaState(identity, []);
    state.runtimeNext({ answer: () => undefined });
    await state.waitForInit();
    const done = state.invoke({ requestId: 'a', payload: Buffer.from('{}'), deadlineMs: 0, traceId: 't' });
    let ready = false;
    void state.runtimeWaiting().then(() => (ready = true));
    state.runtimeResult('a', 'error', { body: Buffer.from('{"errorType":"runtime.Error"}'), size: 30 });
    await done;
    await new Promise((r) => setTimeout(r, 10));
    expect(ready).toBe(false); // answered, but has not asked again: it may be exiting
    state.runtimeNext({ answer: () => undefined });
    await new Promise((r) => setTimeout(r, 0));
    expect(ready).toBe(true);
  });
});
