// Engines that misbehave: one that accepts connections and never answers, one that answers
// the handshake and then hangs. Every engine call has a deadline: the CLI ends with
// ENGINE_UNREACHABLE (exit 10), a message naming the engine and the call, and a hint.
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { silentEngine, stallingEngine, type FakeEngine } from './support/fake-engine.js';
import { fixtureCopy } from './support/tmp.js';

describe('an engine that does not answer', () => {
  let engine: FakeEngine | undefined;
  afterEach(async () => {
    await engine?.close();
    engine = undefined;
  });

  it('accepts over tcp and never answers: exit 10 after the 10 s ping deadline, not a hang', async () => {
    engine = await silentEngine('tcp');
    const r = await runCli(['invoke', '--image', 'fn:latest'], { env: { DOCKER_HOST: engine.dockerHost } });
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toContain(`error: cannot reach the Docker engine at ${engine.dockerHost} (no answer within 10 s)`);
    expect(r.stderr).toMatch(/^hint: /m);
  }, 60_000);

  it.each(['start', 'build'])(
    'accepts over a unix socket and never answers: %s exits 10 too (a shorter deadline shortens the ping)',
    async (command) => {
      engine = await silentEngine('unix');
      const r = await runCli(
        [command, ...(command === 'start' ? ['--image', 'fn:latest'] : [await initialised('go-hello')])],
        {
          env: { DOCKER_HOST: engine.dockerHost, LAMBDA_IMAGE_ENGINE_TIMEOUT: '2' },
        },
      );
      expect(r.code, r.stderr).toBe(10);
      expect(r.stderr).toContain(
        `error: cannot reach the Docker engine at ${engine.dockerHost} (no answer within 2 s)`,
      );
      expect(r.stderr).toMatch(/^hint: /m);
      expect(r.stderr).not.toMatch(/internal error| {4}at /);
    },
    60_000,
  );

  it('answers /version, then hangs on the image inspect: invoke exits 10 naming the call', async () => {
    engine = await stallingEngine('unix');
    const r = await runCli(['invoke', '--image', 'fn:latest'], {
      env: { DOCKER_HOST: engine.dockerHost, LAMBDA_IMAGE_ENGINE_TIMEOUT: '2' },
    });
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toContain(
      `error: the Docker engine at ${engine.dockerHost} did not answer GET /images/fn:latest/json within 2 s`,
    );
    expect(r.stderr).toMatch(/^hint: .*LAMBDA_IMAGE_ENGINE_TIMEOUT/m);
    expect(engine.calls).toContain('GET /version');
  }, 60_000);

  it('answers /version, then hangs on start too', async () => {
    engine = await stallingEngine('tcp');
    const r = await runCli(['start', '--image', 'fn:latest', '--port', '0'], {
      env: { DOCKER_HOST: engine.dockerHost, LAMBDA_IMAGE_ENGINE_TIMEOUT: '2' },
    });
    expect(r.code, r.stderr).toBe(10);
    expect(r.stderr).toContain('did not answer GET /images/fn:latest/json within 2 s');
  }, 60_000);

  // Classic: POST /build uploads the context, then waits for headers. BuildKit: dockerode first
  // opens the /session connection (an HTTP upgrade), whose answer never comes either.
  it.each([
    ['classic', 'POST /build'],
    ['buildkit', 'POST /session'],
  ])(
    'answers /version, then never answers the %s build (streaming calls): build exits 10',
    async (builder, call) => {
      const dir = fixtureCopy('go-hello');
      expect((await runCli(['init', dir, '--base', 'alpine', '--name', 'hang-test', '--force'])).code).toBe(0);
      engine = await stallingEngine('unix');
      const r = await runCli(['build', dir, '--builder', builder], {
        env: { DOCKER_HOST: engine.dockerHost, LAMBDA_IMAGE_ENGINE_TIMEOUT: '2' },
      });
      expect(r.code, r.stderr).toBe(10);
      expect(r.stderr).toContain(`did not answer ${call} within 2 s`);
      expect(engine.calls).toContain(call);
    },
    60_000,
  );
});

/** A fixture with its lambda-image.json: build checks its inputs before it asks the engine. */
async function initialised(fixture: string): Promise<string> {
  const dir = fixtureCopy(fixture);
  const r = await runCli(['init', dir]);
  if (r.code !== 0) throw new Error(`init failed: ${r.stderr}`);
  return dir;
}
