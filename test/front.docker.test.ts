// `invoke` and `start` against real engines when things go wrong: deadlines that do not cut
// long calls, an engine refusing containers (through a proxy that answers 500 like Podman on a
// host that forbids rlimits), a second engine killed mid-invoke, and `start` answering like the
// Invoke API (Tail, trace ids) and draining on Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { refusingProxy, type FakeEngine } from './support/fake-engine.js';
import { secondEngine, secondEngineProblem, type SecondEngine } from './support/second-engine.js';
import { fixtureCopy } from './support/tmp.js';

interface Echo {
  requestId: string;
  traceId: string;
  event: Record<string, unknown>;
}

/** A running CLI whose output is collected, with a way to wait for what it prints. */
function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, CI: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  const watchers: Array<() => void> = [];
  const notify = () => watchers.splice(0).forEach((w) => w());
  child.stdout!.on('data', (d) => ((out.stdout += d), notify()));
  child.stderr!.on('data', (d) => ((out.stderr += d), notify()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => (notify(), r(code))));
  /** Resolves when `test` holds for what was printed (bounded: rejects when the process ends first). */
  const printed = async (test: () => boolean, what: string) => {
    while (!test()) {
      if (child.exitCode !== null) throw new Error(`exited before ${what}: ${out.stderr}`);
      await new Promise<void>((r) => watchers.push(r));
    }
  };
  const port = async () => {
    await printed(() => /on http:\/\/127\.0\.0\.1:(\d+)/.test(out.stdout), 'serving');
    return Number(/on http:\/\/127\.0\.0\.1:(\d+)/.exec(out.stdout)![1]);
  };
  return { child, out, exited, printed, port };
}

const count = (text: string, re: RegExp) => (text.match(re) ?? []).length;
/** The main engine's socket, which the proxies forward to. */
const engineSocket = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice('unix://'.length)
  : '/var/run/docker.sock';

describe.skipIf(!dockerEnv.available)(
  'invoke and start when the engine misbehaves, and start as the Invoke API',
  () => {
    const repo = uniqueRepo('front');
    const image = `${repo}:fn`;

    beforeAll(async () => {
      const dir = fixtureCopy('go-test-function');
      expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo, '--force'])).code).toBe(0);
      const b = await runCli(['build', dir, '--tag', image, ...standin()]);
      expect(b.code, b.stderr).toBe(0);
    });

    const noContainersOf = async (img: string) =>
      expect(await docker.listContainers({ all: true, filters: { ancestor: [img] } })).toEqual([]);

    it('deadlines do not cut long calls: the wait and the output stream outlive a 3 s engine deadline', async () => {
      // With a tcp:// DOCKER_HOST (a plain proxy to the engine), docker-modem would take
      // DOCKER_CLIENT_TIMEOUT (seconds for docker-compose) as a socket idle timeout in ms, cutting
      // every silent stream after 0.5 s: lambda-image's own deadlines replace it.
      const proxy = await refusingProxy(() => undefined, engineSocket);
      // 3 s: a container's start (its network namespace made then) must fit in it on a busy machine too.
      const env = { LAMBDA_IMAGE_ENGINE_TIMEOUT: '3', DOCKER_CLIENT_TIMEOUT: '500', DOCKER_HOST: proxy.dockerHost };
      const r = await runCli(
        ['invoke', '--image', image, '--repeat', '2', '--timeout', '10', '--data', '{"action":"sleep","ms":5000}'],
        { env },
      ).finally(() => proxy.close());
      expect(r.code, r.stderr).toBe(0);
      const ids = r.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as Echo).requestId);
      expect(ids).toHaveLength(2);
      // The second invoke's own line came through the attach stream after 5 s of silence.
      expect(r.stderr).toContain(`handling ${ids[1]}`);
      expect(count(r.stderr, /^REPORT RequestId/gm)).toBe(2);
      await noContainersOf(image);
    });

    describe('an engine that refuses the container', () => {
      let proxy: FakeEngine | undefined;
      afterAll(async () => proxy?.close());
      const rlimits = 'crun: setrlimit `RLIMIT_NOFILE`: Operation not permitted: OCI permission denied';

      it.each([
        [
          'create',
          (call: string) => call === 'POST /containers/create',
          /the engine refused to create a container from \S+ \(HTTP 500\): crun: setrlimit/,
        ],
        [
          'start',
          (call: string) => /^POST \/containers\/[0-9a-f]+\/start$/.test(call),
          /the engine refused to start the container \(HTTP 500\): crun: setrlimit/,
        ],
      ])(
        "refused %s: CONTAINER_FAILED (exit 14) with the engine's message and a hint, nothing left behind",
        async (_what, match, message) => {
          proxy = await refusingProxy(
            (call) => (match(call) ? { status: 500, message: rlimits } : undefined),
            engineSocket,
          );
          const r = await runCli(['invoke', '--image', image], { env: { DOCKER_HOST: proxy.dockerHost } });
          expect(r.code, r.stderr).toBe(14);
          expect(r.stderr).toMatch(message);
          expect(r.stderr).toContain('OCI permission denied');
          expect(r.stderr).toMatch(/^hint: .*(Podman|rlimits)/m);
          expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
          await noContainersOf(image);
          await proxy.close();
          proxy = undefined;
        },
      );
    });

    describe('start: the Invoke API with Tail and trace ids, and Ctrl-C', () => {
      it("X-Amzn-Trace-Id becomes the invoke's trace id (Sampled kept); Tail returns the end of that invoke's log", async () => {
        const cli = spawnCli(['start', '--image', image, '--port', '0', '--function-name', 'front-fn']);
        try {
          const port = await cli.port();
          const base = `http://127.0.0.1:${port}/2015-03-31/functions/front-fn/invocations`;
          const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
          const traced = await fetch(base, { method: 'POST', body: '{}', headers: { 'X-Amzn-Trace-Id': trace } });
          expect(((await traced.json()) as Echo).traceId).toBe(trace);
          const fresh = (await (await fetch(base, { method: 'POST', body: '{}' })).json()) as Echo;
          expect(fresh.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);

          process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
          const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
          const client = new LambdaClient({
            region: 'us-east-1',
            endpoint: `http://127.0.0.1:${port}`,
            credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
            maxAttempts: 1,
          });
          try {
            const out = await client.send(
              new InvokeCommand({ FunctionName: 'front-fn', LogType: 'Tail', Payload: Buffer.from('{"tail":true}') }),
            );
            const id = (JSON.parse(Buffer.from(out.Payload!).toString()) as Echo).requestId;
            const log = Buffer.from(out.LogResult!, 'base64').toString();
            // This invoke's log only, in Lambda's order.
            expect(log).toMatch(
              new RegExp(
                `^START RequestId: ${id} Version: \\$LATEST\\n.*handling ${id}\\nEND RequestId: ${id}\\nREPORT RequestId: ${id}\\t`,
                's',
              ),
            );
            expect(log).not.toContain(fresh.requestId);
            const none = await client.send(new InvokeCommand({ FunctionName: 'front-fn', Payload: Buffer.from('{}') }));
            expect(none.LogResult).toBeUndefined();
            await expect(
              client.send(new InvokeCommand({ FunctionName: 'front-fn', Payload: Buffer.from('{"broken"') })),
            ).rejects.toMatchObject({ name: 'InvalidRequestContentException' });
          } finally {
            client.destroy();
          }
        } finally {
          cli.child.kill('SIGINT');
          expect(await cli.exited).toBe(0);
        }
        await noContainersOf(image);
      });

      it('Ctrl-C with 100 requests accepted: every one is answered (finished, or 503 if it never ran), then it stops', async () => {
        const cli = spawnCli(['start', '--image', image, '--port', '0', '--concurrency', '2']);
        const port = await cli.port();
        const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
        const answers = Array.from({ length: 100 }, (_, i) =>
          post(
            `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`,
            `{"action":"sleep","ms":150,"i":${i}}`,
            agent,
          ),
        );
        // Some have run: by then every one of the 100 local connections has long been accepted.
        await cli.printed(() => count(cli.out.stderr, /^REPORT RequestId/gm) >= 4, 'four invokes');
        cli.child.kill('SIGINT');
        const results = await Promise.all(answers);
        expect(await cli.exited).toBe(0);
        agent.destroy();
        const failures = results.filter((r) => r.status !== 200 && r.status !== 503);
        expect(failures).toEqual([]);
        const ran = results.filter((r) => r.status === 200);
        expect(ran.length).toBeGreaterThanOrEqual(4);
        for (const r of ran) expect(JSON.parse(r.body)).toHaveProperty('requestId');
        for (const r of results.filter((x) => x.status === 503))
          expect(JSON.parse(r.body).message).toContain('shutting down');
        // Every invoke that started also finished and was reported.
        expect(count(cli.out.stderr, /^START RequestId/gm)).toBe(ran.length);
        expect(count(cli.out.stderr, /^REPORT RequestId/gm)).toBe(ran.length);
        await noContainersOf(image);
      });
    });

    const problem = secondEngineProblem();
    describe.skipIf(problem !== undefined)(
      `a second engine killed mid-invoke${problem ? ` (skipped: ${problem})` : ''}`,
      () => {
        let engine: SecondEngine;
        beforeAll(async () => {
          engine = await secondEngine();
          // The function's image, copied over from the main engine.
          const saved = (await docker.getImage(image).get()) as unknown as NodeJS.ReadableStream;
          const loading = (await engine.docker.loadImage(saved)) as unknown as NodeJS.ReadableStream;
          await new Promise((resolve, reject) => {
            loading.on('end', resolve);
            loading.on('error', reject);
            loading.resume();
          });
        });
        afterAll(async () => engine?.destroy());

        it('invoke: reported (exit 10), the container it could not remove named, nothing hangs', async () => {
          const cli = spawnCli(
            ['invoke', '--image', image, '--timeout', '30', '--data', '{"action":"sleep","ms":20000}'],
            { DOCKER_HOST: engine.dockerHost },
          );
          await cli.printed(() => /handling [0-9a-f-]{36}/.test(cli.out.stderr), 'the invoke reaching the function');
          process.kill(engine.pid(), 'SIGKILL');
          expect(await cli.exited).toBe(10);
          expect(cli.out.stderr).toContain(`error: lost the Docker engine at ${engine.dockerHost} (`);
          expect(cli.out.stderr).not.toMatch(/internal error|\n\s+at /);
          expect(cli.out.stdout).toBe('');
          // The environment's container (and the one holding its network namespace).
          const named = /could not remove containers? ([0-9a-f]{12}(?:, [0-9a-f]{12})*)/.exec(cli.out.stderr);
          expect(named, cli.out.stderr).not.toBeNull();
          const left = named![1]!.split(', ');
          expect(cli.out.stderr).toMatch(new RegExp(`^hint: .*docker rm -f ${left.join(' ')}$`, 'm'));
          // What it says was left is what the engine has once it is back; then it goes.
          await engine.kill('SIGKILL');
          await engine.start();
          const after = await engine.docker.listContainers({ all: true });
          expect(after.map((c) => c.Id.slice(0, 12)).sort()).toEqual([...left].sort());
          for (const c of after) await engine.docker.getContainer(c.Id).remove({ force: true });
        });

        it('start: the request in progress is answered 500, start exits 10 instead of serving on without an engine', async () => {
          const cli = spawnCli(['start', '--image', image, '--port', '0'], { DOCKER_HOST: engine.dockerHost });
          const port = await cli.port();
          const answer = post(
            `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`,
            '{"action":"sleep","ms":20000}',
            new http.Agent(),
          );
          await cli.printed(() => /handling [0-9a-f-]{36}/.test(cli.out.stderr), 'the invoke reaching the function');
          process.kill(engine.pid(), 'SIGKILL');
          const res = await answer;
          expect(res.status).toBe(500);
          expect(JSON.parse(res.body).message).toContain('lost the Docker engine');
          expect(await cli.exited).toBe(10);
          expect(cli.out.stderr).toMatch(
            /^error: lost the Docker engine at unix:\/\/.*\n {2}the Docker engine could not remove containers? [0-9a-f]{12}/m,
          );
          await engine.kill('SIGKILL'); // reaped; destroy() starts it again to clean up
        });
      },
    );
  },
);

function post(target: string, body: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request(target, { method: 'POST', agent }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', (err) => resolve({ status: -1, body: String(err) }));
    });
    // A connection reset or refused is a request that got no answer: reported, not thrown.
    req.on('error', (err) => resolve({ status: -1, body: String(err) }));
    req.end(body);
  });
}
