// An engine that answers the handshake (/version) and refuses every other call with HTTP 500:
// each command ends with one known error line naming the call, the status and the engine's
// message, a hint and an exit code; never "internal error" and a dockerode stack (issue 23).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliInProcess } from './support/cli.js';
import { failingEngine, type FakeEngine } from './support/fake-engine.js';
import { fixtureCopy } from './support/tmp.js';

let engine: FakeEngine;
beforeAll(async () => {
  engine = await failingEngine('tcp');
});
afterAll(() => engine.close());

const env = () => ({ DOCKER_HOST: engine.dockerHost, LAMBDA_IMAGE_ENGINE_TIMEOUT: '5' });

function expectRefusal(r: { code: number; stderr: string }, call: RegExp, code: number) {
  expect(r.code, r.stderr).toBe(code);
  expect(r.stderr).toMatch(/^error: the Docker engine refused /m);
  expect(r.stderr).toMatch(call);
  expect(r.stderr).toContain('(HTTP 500): li-oneway: storage driver is broken');
  expect(r.stderr).toMatch(/^hint: /m);
  expect(r.stderr).not.toMatch(/internal error| {4}at /);
}

describe('an engine that refuses every call after /version', () => {
  it('invoke --image: the image inspect refused is exit 16 (the launcher, spawned: one run per exit path)', async () => {
    const r = await runCli(['invoke', '--image', 'li-oneway-x:1'], { env: env() });
    expectRefusal(r, /refused GET \/images\/li-oneway-x:1\/json \(HTTP 500\)/, 16);
  });

  it('start --image: the same line, in process', async () => {
    const r = await runCliInProcess(['start', '--image', 'li-oneway-x:1', '--port', '0'], { env: env() });
    expectRefusal(r, /refused GET \/images\/li-oneway-x:1\/json/, 16);
  });

  it('push --image: the refusal is named, not a stack', async () => {
    const r = await runCliInProcess(['push', '--image', 'li-oneway-x:1', '--repository', '127.0.0.1:1/li-oneway'], {
      env: env(),
    });
    // Named by its function, as every push is (a list of one; without a config: the image's name).
    expect(r.stderr).toMatch(/^error: li-oneway-x: the Docker engine refused (GET|POST) \/images\/li-oneway-x:1/m);
    expect(r.stderr).toContain('(HTTP 500): li-oneway: storage driver is broken');
    expect(r.stderr).not.toMatch(/internal error| {4}at /);
    expect([16, 30]).toContain(r.code);
  });

  it('build of a project: the first refused call ends the build with its exit code', async () => {
    const dir = fixtureCopy('go-hello');
    expect((await runCliInProcess(['init', dir])).code).toBe(0);
    const r = await runCliInProcess(['build', dir], { env: env() });
    expect(r.stderr).toMatch(/^error: the Docker engine refused /m);
    expect(r.stderr).toContain('(HTTP 500)');
    expect(r.stderr).not.toMatch(/internal error| {4}at /);
    expect([11, 12, 16]).toContain(r.code);
  });
});
