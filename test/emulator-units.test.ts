// The Runtime and Extensions API server at the protocol level (real HTTP on 127.0.0.1, no
// containers), event examples with --set, and Lambda's log-line formats.
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaApiServer, type InvokeRequest } from '../src/emulator/lambda-api.js';
import { MAX_RESPONSE_BYTES } from '../src/emulator/limits.js';
import { planNetwork } from '../src/emulator/network.js';
import type { ContainerClient } from '../src/docker/containers.js';
import { inSubnet } from '../src/util/ipv4.js';
import { billedMs, reportLine, summarize, timeoutMessage } from '../src/emulator/report.js';
import { applySet, eventExample, listEventExamples } from '../src/events/events.js';
import { runCliInProcess as runCli } from './support/cli.js';

const identity = {
  functionName: 'fn',
  functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fn',
  version: '$LATEST',
  handler: 'bootstrap',
};
const request = (id: string, payload = '{"a":1}'): InvokeRequest => ({
  requestId: id,
  payload: Buffer.from(payload),
  deadlineMs: Date.now() + 3000,
  traceId: 'Root=1-abc',
});

describe('Runtime API server', () => {
  let server: LambdaApiServer;
  afterEach(() => server?.close());
  const start = async (extensions: string[] = []) => {
    server = new LambdaApiServer(identity, extensions);
    const port = await server.listen();
    return (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${port}${path}`, init);
  };

  it('hands the event to /next with every documented header and takes the response (202)', async () => {
    const call = await start();
    const next = call('/2018-06-01/runtime/invocation/next');
    expect(await server.waitForInit()).toEqual({ ok: true });
    const result = server.invoke({ ...request('req-1'), clientContext: '{"c":1}', cognitoIdentity: '{"id":"x"}' });
    const res = await next;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"a":1}');
    expect(res.headers.get('lambda-runtime-aws-request-id')).toBe('req-1');
    expect(Number(res.headers.get('lambda-runtime-deadline-ms'))).toBeGreaterThan(Date.now());
    expect(res.headers.get('lambda-runtime-invoked-function-arn')).toBe(identity.functionArn);
    expect(res.headers.get('lambda-runtime-trace-id')).toBe('Root=1-abc');
    expect(res.headers.get('lambda-runtime-client-context')).toBe('{"c":1}');
    expect(res.headers.get('lambda-runtime-cognito-identity')).toBe('{"id":"x"}');
    const posted = await call('/2018-06-01/runtime/invocation/req-1/response', { method: 'POST', body: '{"ok":true}' });
    expect(posted.status).toBe(202);
    expect(await result).toMatchObject({ kind: 'response', body: Buffer.from('{"ok":true}') });
    // Answering twice is a state error; an id never issued is a bad request.
    expect((await call('/2018-06-01/runtime/invocation/req-1/response', { method: 'POST', body: '{}' })).status).toBe(
      403,
    );
    expect((await call('/2018-06-01/runtime/invocation/nope/response', { method: 'POST', body: '{}' })).status).toBe(
      400,
    );
  });

  it('takes function errors with their error type, and refuses responses over 6 MB with 413', async () => {
    const call = await start();
    const first = call('/2018-06-01/runtime/invocation/next');
    await server.waitForInit();
    const errored = server.invoke(request('e1'));
    await first; // the event has reached the runtime
    const posted = await call('/2018-06-01/runtime/invocation/e1/error', {
      method: 'POST',
      headers: { 'Lambda-Runtime-Function-Error-Type': 'MyError' },
      body: '{"errorMessage":"m","errorType":"MyError"}',
    });
    expect(posted.status).toBe(202);
    expect(await errored).toMatchObject({ kind: 'error', errorType: 'MyError' });

    // Exactly Lambda's limit (6 MiB + 100 bytes) is accepted.
    const second = call('/2018-06-01/runtime/invocation/next');
    const limit = server.invoke(request('l1'));
    await second;
    expect(MAX_RESPONSE_BYTES).toBe(6_291_556);
    expect(
      (
        await call('/2018-06-01/runtime/invocation/l1/response', {
          method: 'POST',
          body: 'x'.repeat(MAX_RESPONSE_BYTES),
        })
      ).status,
    ).toBe(202);
    expect((await limit).body.length).toBe(MAX_RESPONSE_BYTES);

    // One byte more is refused with 413, and the caller's error names both sizes.
    const third = call('/2018-06-01/runtime/invocation/next');
    const big = server.invoke(request('b1'));
    await third;
    const tooBig = await call('/2018-06-01/runtime/invocation/b1/response', {
      method: 'POST',
      body: 'x'.repeat(MAX_RESPONSE_BYTES + 1),
    });
    expect(tooBig.status).toBe(413);
    const result = await big;
    expect(result.kind).toBe('error');
    expect(JSON.parse(result.body.toString())).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: 'Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).',
    });
  });

  it('refuses a second /next while one waits (403); the first keeps its place and gets the event', async () => {
    const call = await start();
    const first = call('/2018-06-01/runtime/invocation/next');
    expect(await server.waitForInit()).toEqual({ ok: true });
    // (bounded: the code before the fix held it, replacing the first)
    const second = await call('/2018-06-01/runtime/invocation/next', { signal: AbortSignal.timeout(5000) });
    expect(second.status).toBe(403);
    expect(await second.json()).toMatchObject({ errorType: 'InvalidStateTransition' });
    const result = server.invoke(request('req-9', '{"mine":true}'));
    const res = await first;
    expect(res.headers.get('lambda-runtime-aws-request-id')).toBe('req-9');
    expect(await res.text()).toBe('{"mine":true}');
    expect((await call('/2018-06-01/runtime/invocation/req-9/response', { method: 'POST', body: '1' })).status).toBe(
      202,
    );
    expect((await result).kind).toBe('response');
  });

  it('reports an init error from the runtime', async () => {
    const call = await start();
    const posted = await call('/2018-06-01/runtime/init/error', {
      method: 'POST',
      headers: { 'Lambda-Runtime-Function-Error-Type': 'Runtime.X' },
      body: '{"errorMessage":"bad","errorType":"Runtime.X"}',
    });
    expect(posted.status).toBe(202);
    expect(await server.waitForInit()).toMatchObject({ ok: false, errorType: 'Runtime.X' });
    // Init is over: a second init error is the wrong state, not accepted and ignored.
    const late = await call('/2018-06-01/runtime/init/error', { method: 'POST', body: '{}' });
    expect(late.status).toBe(403);
    expect(await late.json()).toMatchObject({ errorType: 'InvalidStateTransition' });
  });

  it('waits for every extension to register and ask for events before init completes; INVOKE waits for them', async () => {
    const call = await start(['ext']);
    let initDone = false;
    void server.waitForInit().then(() => (initDone = true));
    void call('/2018-06-01/runtime/invocation/next').catch(() => {}); // left waiting: closed with the server
    const unnamed = await call('/2020-01-01/extension/register', { method: 'POST', body: '{"events":["INVOKE"]}' });
    expect(unnamed.status).toBe(400);
    const reg = await call('/2020-01-01/extension/register', {
      method: 'POST',
      headers: { 'Lambda-Extension-Name': 'ext' },
      body: '{"events":["INVOKE","SHUTDOWN"]}',
    });
    expect(reg.status).toBe(200);
    expect(await reg.json()).toEqual({
      functionName: 'fn',
      functionVersion: '$LATEST',
      handler: 'bootstrap',
      accountId: '000000000000',
    });
    const extId = reg.headers.get('lambda-extension-identifier')!;
    // Registered, but it has not asked for an event yet: init cannot be complete.
    await new Promise((r) => setImmediate(r));
    expect(initDone).toBe(false);
    expect(
      (await call('/2020-01-01/extension/event/next', { headers: { 'Lambda-Extension-Identifier': 'wrong' } })).status,
    ).toBe(403);
    const firstEvent = call('/2020-01-01/extension/event/next', { headers: { 'Lambda-Extension-Identifier': extId } });
    expect(await server.waitForInit()).toMatchObject({ ok: true }); // now it completes
    expect(initDone).toBe(true);

    let finished = false;
    const result = server.invoke(request('i1'));
    void result.then(() => (finished = true));
    const event = await (await firstEvent).json();
    expect(event).toMatchObject({
      eventType: 'INVOKE',
      requestId: 'i1',
      invokedFunctionArn: identity.functionArn,
      tracing: { type: 'X-Amzn-Trace-Id', value: 'Root=1-abc' },
    });
    expect(typeof event.deadlineMs).toBe('number');
    expect((await call('/2018-06-01/runtime/invocation/i1/response', { method: 'POST', body: '{}' })).status).toBe(202);
    await new Promise((r) => setImmediate(r)); // let the answer's callbacks run
    expect(finished).toBe(false); // the extension has not asked for its next event yet
    const shutdownEvent = call('/2020-01-01/extension/event/next', {
      headers: { 'Lambda-Extension-Identifier': extId },
    });
    await result;
    const stopping = server.shutdown('spindown', 2000);
    expect(await (await shutdownEvent).json()).toMatchObject({ eventType: 'SHUTDOWN', shutdownReason: 'spindown' });
    void call('/2020-01-01/extension/event/next', { headers: { 'Lambda-Extension-Identifier': extId } }).catch(
      () => {},
    ); // left waiting: closed with the server
    await stopping;
  });

  it('fails init when an extension reports an init error', async () => {
    const call = await start(['ext']);
    const res = await call('/2020-01-01/extension/init/error', {
      method: 'POST',
      headers: { 'Lambda-Extension-Function-Error-Type': 'Extension.ConfigInvalid' },
      body: '{}',
    });
    expect(res.status).toBe(202);
    expect(await server.waitForInit()).toMatchObject({ ok: false, errorType: 'Extension.ConfigInvalid' });
  });
});

describe('container networking', () => {
  const fakeContainers = {
    bridgeNetwork: async () => ({ subnet: '172.17.0.0/16', gateway: '172.17.0.1' }),
  } as unknown as ContainerClient;

  it('puts each environment in its own namespace on the bridge, with the API on the gateway only, for bridge peers only', async () => {
    const plan = await planNetwork({ desktop: false }, fakeContainers, true);
    expect(plan.listenHost).toBe('172.17.0.1');
    expect(plan.runtimeApi(4000)).toBe('172.17.0.1:4000');
    expect(plan.hostConfig.NetworkMode).toBe('bridge');
    expect(`${plan.hostname}.${plan.domainname}`).toBe('sandbox.localdomain');
    expect(plan.allowPeer!('172.17.0.5')).toBe(true);
    expect(plan.allowPeer!('::ffff:172.17.3.9')).toBe(true);
    expect(plan.allowPeer!('192.168.1.20')).toBe(false);
    expect(plan.allowPeer!('fe80::1')).toBe(false);
  });

  it('on Podman (its bridge exists only while a container is attached) listens on all addresses, still for bridge peers only', async () => {
    const plan = await planNetwork({ desktop: false, kind: 'podman' }, fakeContainers, true);
    expect(plan.listenHost).toBe('0.0.0.0');
    expect(plan.runtimeApi(4000)).toBe('172.17.0.1:4000');
    expect(plan.allowPeer!('172.17.0.5')).toBe(true);
    expect(plan.allowPeer!('192.168.1.20')).toBe(false);
    expect(plan.allowPeer!('127.0.0.1')).toBe(false);
  });

  it('uses host.docker.internal on Docker Desktop, and the host network with the sandbox settings off', async () => {
    const desktop = await planNetwork({ desktop: true }, fakeContainers, true);
    expect(desktop.runtimeApi(4000)).toBe('host.docker.internal:4000');
    expect(desktop.listenHost).toBe('127.0.0.1');
    expect(desktop.hostConfig.ExtraHosts).toEqual(['host.docker.internal:host-gateway']);
    const shared = await planNetwork({ desktop: false }, fakeContainers, false);
    expect(shared.runtimeApi(4000)).toBe('127.0.0.1:4000');
    expect(shared.hostConfig.NetworkMode).toBe('host');
  });

  it('tells subnet members apart', () => {
    expect(inSubnet('10.1.2.3', '10.1.0.0/16')).toBe(true);
    expect(inSubnet('10.2.0.1', '10.1.0.0/16')).toBe(false);
    expect(inSubnet('not-an-ip', '10.1.0.0/16')).toBe(false);
  });
});

describe('Lambda log lines', () => {
  it('formats REPORT as Lambda does, Init Duration on cold invokes only', () => {
    expect(reportLine({ requestId: 'r', durationMs: 1.234, memoryMb: 128, maxMemoryMb: 20 })).toBe(
      'REPORT RequestId: r\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 20 MB\t',
    );
    expect(reportLine({ requestId: 'r', durationMs: 1, memoryMb: 128, maxMemoryMb: 20, initMs: 10.5 })).toMatch(
      /Billed Duration: 12 ms\t.*\tInit Duration: 10.50 ms\t$/,
    );
    expect(billedMs(0.2)).toBe(1);
    expect(timeoutMessage('id', 3, new Date('2026-01-01T00:00:00Z'))).toBe(
      '2026-01-01T00:00:00.000Z id Task timed out after 3.00 seconds',
    );
    expect(summarize([5, 1, 3, 2, 4])).toEqual({ count: 5, p50: 3, p95: 5, max: 5 });
  });
});

describe('example events', () => {
  it('bundles at least the ten documented sources', () => {
    const names = listEventExamples().map((e) => e.name);
    for (const n of [
      'sqs',
      'sns',
      's3-put',
      'apigw-rest',
      'apigw-http',
      'alb',
      'eventbridge',
      'dynamodb-stream',
      'kinesis',
      'scheduled',
    ])
      expect(names).toContain(n);
    expect((eventExample('apigw-http') as { version: string }).version).toBe('2.0');
    expect((eventExample('apigw-rest') as { httpMethod: string }).httpMethod).toBe('GET');
  });

  it('--set overrides fields by path, JSON values where they parse', () => {
    const e = eventExample('sqs', [
      'Records[0].body=hello',
      'Records.0.attributes.ApproximateReceiveCount=3',
      'extra.list[1]=true',
    ]) as {
      Records: Array<{ body: string; attributes: { ApproximateReceiveCount: number } }>;
      extra: { list: unknown[] };
    };
    expect(e.Records[0]!.body).toBe('hello');
    expect(e.Records[0]!.attributes.ApproximateReceiveCount).toBe(3);
    expect(e.extra.list).toEqual([undefined, true]);
    expect(() => applySet({}, 'novalue')).toThrow(/is not path=value/);
    // The bundled example itself is untouched.
    expect((eventExample('sqs') as { Records: Array<{ body: string }> }).Records[0]!.body).toBe('{"key": "value"}');
  });

  it('lambda-image events lists and prints them', async () => {
    const list = await runCli(['events']);
    expect(list.stdout).toMatch(/^dynamodb-stream\s+Amazon DynamoDB Streams/m);
    const one = await runCli(['events', 's3-put', '--set', 'Records[0].s3.object.key=a.txt']);
    expect(JSON.parse(one.stdout).Records[0].s3.object.key).toBe('a.txt');
    const bad = await runCli(['events', 'nope']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error: no example event named "nope"/);
  });
});
