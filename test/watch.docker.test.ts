// `start --watch` against the real engine: scripted edits of a project while a client sends
// requests without pause. Every request is answered, by the old code or the new (never an
// error, never a half-built image); answers switch to the new code; a broken edit keeps the
// last good code answering and reports the failing step; a fixed edit recovers; --prewarm
// swaps without a cold start; Ctrl-C during a rebuild leaves no container behind.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCliUntil } from './support/cli.js';
import { docker, dockerEnv, removeContainersAndImages, standin, uniqueRepo } from './support/docker.js';
import { fixtureCopy } from './support/tmp.js';

const INVOKE = '/2015-03-31/functions/function/invocations';

interface Answer {
  status: number;
  message?: string;
  requestId?: string;
  error?: string;
}

/** A running `start --watch --json`: its events (stdout lines) and everything it printed. */
async function startWatch(dir: string, extra: string[] = []) {
  const run = await startCliUntil(
    ['start', dir, '--watch', '--json', '--port', '0', ...standin(), ...extra],
    /watching the project/,
  );
  const events: Array<Record<string, unknown>> = [];
  let buffered = '';
  const onData = (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      events.push(JSON.parse(buffered.slice(0, i)));
      buffered = buffered.slice(i + 1);
    }
  };
  run.child.stdout!.on('data', onData);
  const event = async (pred: (e: Record<string, unknown>) => boolean, what: string, from = 0, ms = 90_000) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const found = events.slice(from).find(pred);
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`no ${what} event within ${ms} ms: ${JSON.stringify(events)}\n${run.stderr()}`);
  };
  const ready = await event((e) => e.type === 'ready', 'ready');
  return { ...run, events, event, port: ready.port as number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function invoke(port: number): Promise<Answer> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${INVOKE}`, { method: 'POST', body: '{}' });
    const text = await res.text();
    const requestId = res.headers.get('x-amzn-requestid') ?? undefined;
    try {
      return { status: res.status, message: (JSON.parse(text) as { message?: string }).message, requestId };
    } catch {
      return { status: res.status, error: text, requestId };
    }
  } catch (err) {
    return { status: 0, error: (err as Error).message };
  }
}

/** A client that sends requests one after another, without pause, until stopped (bounded: 20,000 requests). */
function client(port: number) {
  const answers: Answer[] = [];
  let stopped = false;
  const done = (async () => {
    for (let i = 0; i < 20_000 && !stopped; i++) answers.push(await invoke(port));
  })();
  return {
    answers,
    async stop() {
      stopped = true;
      await done;
      return answers;
    },
    async until(message: string, ms = 90_000) {
      const end = Date.now() + ms;
      while (Date.now() < end && !answers.some((a) => a.message === message)) await sleep(50);
      if (!answers.some((a) => a.message === message))
        throw new Error(`no answer "${message}" within ${ms} ms; last: ${JSON.stringify(answers.slice(-3))}`);
    },
  };
}

function setGreeting(dir: string, text: string): void {
  const main = path.join(dir, 'main.go');
  writeFileSync(main, readFileSync(main, 'utf8').replace(/Message: "[^"]*"/, `Message: ${JSON.stringify(text)}`));
}

async function containersOf(pid: number | undefined): Promise<string[]> {
  const all = await docker.listContainers({ all: true, filters: { label: [`org.lambda-image.owner-pid=${pid}`] } });
  return all.map((c) => c.Id);
}

describe('start --watch', () => {
  const repo = uniqueRepo('watch');
  let dir: string;
  const running: ChildProcess[] = [];

  beforeAll(async () => {
    dir = fixtureCopy('go-hello');
    const init = await runCli(['init', dir, '--base', 'alpine', '--name', repo]);
    expect(init.code, init.stderr).toBe(0);
  });
  afterAll(() => {
    for (const c of running) if (c.exitCode === null) c.kill('SIGKILL');
  });

  it('swaps to each good edit without dropping a request, keeps the old code through a broken one, and stops clean', async () => {
    setGreeting(dir, 'v1');
    const w = await startWatch(dir);
    running.push(w.child);
    const c = client(w.port);
    try {
      await c.until('v1');
      // A good edit: the answers switch to it, once and for all (the client is sequential).
      let from = w.events.length;
      setGreeting(dir, 'v2');
      const swap = await w.event((e) => e.type === 'swap', 'swap', from);
      expect(swap.files).toEqual(['main.go']);
      await c.until('v2');

      // A file the build context holds but the image does not use: rebuilt, the same image, no swap;
      // a file .dockerignore leaves out (README.md) triggers nothing.
      from = w.events.length;
      writeFileSync(path.join(dir, 'README.md'), '# notes\n');
      writeFileSync(path.join(dir, 'notes.txt'), 'not compiled\n');
      const same = await w.event((e) => e.type === 'unchanged', 'unchanged', from);
      expect(same.files).toEqual(['notes.txt']);
      expect(w.events.slice(from).filter((e) => e.type === 'swap')).toEqual([]);

      // A broken edit: reported with the failing step and the compiler's words; v2 keeps answering.
      from = w.events.length;
      const main = path.join(dir, 'main.go');
      const good = readFileSync(main, 'utf8');
      writeFileSync(main, good.replace('func main() {', 'func main() {\n\tthis is not go'));
      const failed = await w.event((e) => e.type === 'rebuild-failed', 'rebuild-failed', from);
      expect(failed.step).toMatch(/go build/);
      expect((failed.lines as string[]).join('\n')).toMatch(/main\.go:\d+:\d+/);
      const afterFailure = c.answers.length;
      while (c.answers.length < afterFailure + 5) await sleep(20);

      // A config edit that makes the project invalid is reported the same way.
      from = w.events.length;
      const configFile = path.join(dir, 'lambda-image.json');
      const config = readFileSync(configFile, 'utf8');
      writeFileSync(configFile, config.replace('"handler"', '"memorySize": 1, "handler"'));
      const invalid = await w.event((e) => e.type === 'rebuild-failed', 'rebuild-failed', from);
      expect(invalid.error).toMatch(/memorySize/);
      expect(invalid.files).toEqual(['lambda-image.json']);

      // The fix recovers.
      from = w.events.length;
      writeFileSync(configFile, config);
      writeFileSync(main, good.replace(/Message: "[^"]*"/, 'Message: "v3"'));
      await w.event((e) => e.type === 'swap', 'swap', from);
      await c.until('v3');
      const answers = await c.stop();

      // Every request answered 200 by a complete image, and in order: v1*, v2+, v3+.
      expect(answers.filter((a) => a.status !== 200 || !a.message)).toEqual([]);
      const order = answers.map((a) => a.message);
      const firstOf = (m: string) => order.indexOf(m);
      const lastOf = (m: string) => order.lastIndexOf(m);
      expect(lastOf('v1')).toBeLessThan(firstOf('v2'));
      expect(lastOf('v2')).toBeLessThan(firstOf('v3'));
      expect(order.slice(afterFailure, afterFailure + 5)).toEqual(['v2', 'v2', 'v2', 'v2', 'v2']);
      // The first request after each swap was a cold start, and is reported as one.
      const v2First = answers[firstOf('v2')]!.requestId!;
      expect(w.stderr()).toMatch(new RegExp(`REPORT RequestId: ${v2First}\\t.*Init Duration: `));
    } finally {
      await c.stop();
    }

    // A change during a build aborts it and builds again: the last change wins, v5 is never served.
    {
      const from = w.events.length;
      setGreeting(dir, 'v5');
      await w.event((e) => e.type === 'rebuild-start', 'rebuild-start', from);
      setGreeting(dir, 'v6');
      await w.event((e) => e.type === 'rebuild-aborted', 'rebuild-aborted', from);
      await w.event((e) => e.type === 'swap', 'swap', from);
      expect(w.events.slice(from).filter((e) => e.type === 'swap')).toHaveLength(1);
      expect((await invoke(w.port)).message).toBe('v6');
    }

    // Ctrl-C during a rebuild: the build stops, nothing is tagged, no container is left.
    // (The check below looks at the right containers: this run has some now.)
    expect((await containersOf(w.child.pid)).length).toBeGreaterThan(0);
    const before = (await docker.getImage(`${repo}:latest`).inspect()).Id;
    const from = w.events.length;
    setGreeting(dir, 'v4');
    await w.event((e) => e.type === 'rebuild-start', 'rebuild-start', from);
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(w.events.slice(from).map((e) => e.type)).toContain('rebuild-aborted');
    expect(await containersOf(w.child.pid)).toEqual([]);
    expect((await docker.getImage(`${repo}:latest`).inspect()).Id).toBe(before);
  }, 300_000);

  it('--prewarm swaps to environments initialised ahead: no cold start after the swap', async () => {
    setGreeting(dir, 'p1');
    const w = await startWatch(dir, ['--prewarm']);
    running.push(w.child);
    try {
      expect((await invoke(w.port)).message).toBe('p1');
      const from = w.events.length;
      setGreeting(dir, 'p2');
      const swap = await w.event((e) => e.type === 'swap', 'swap', from);
      expect((swap.prewarmedInitMs as number[]).length).toBe(1);
      const first = await invoke(w.port);
      expect(first.message).toBe('p2');
      await sleep(300); // its REPORT line follows the answer
      const report = w
        .stderr()
        .split('\n')
        .find((l) => l.startsWith(`REPORT RequestId: ${first.requestId}`));
      expect(report).toBeDefined();
      expect(report).not.toMatch(/Init Duration/);

      // New code that fails its init is caught before the swap: the old code keeps answering.
      const main = path.join(dir, 'main.go');
      const good = readFileSync(main, 'utf8');
      const next = w.events.length;
      writeFileSync(main, good.replace('log.Println("cold start")', 'panic("no init today")'));
      const failed = await w.event((e) => e.type === 'rebuild-failed', 'rebuild-failed', next);
      expect(failed.error).toMatch(/failed its init/);
      expect(w.events.slice(next).some((e) => e.type === 'swap')).toBe(false);
      expect((await invoke(w.port)).message).toBe('p2');
      writeFileSync(main, good);
    } finally {
      w.child.kill('SIGINT');
      expect(await w.exited).toBe(0);
    }
    expect(await containersOf(w.child.pid)).toEqual([]);
  }, 180_000);

  it('refuses watch options without --watch, and --watch with --image', async () => {
    const a = await runCli(['start', dir, '--prewarm']);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--prewarm goes with --watch/);
    const b = await runCli(['start', '--watch', '--image', 'x:1']);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/cannot serve --image/);
  });
});

describe('start --watch, a project of several functions', () => {
  const repo = uniqueRepo('watchmulti');
  const image = (fn: string) => `${repo}-${fn}`;
  const FUNCTIONS = ['orders', 'users'];

  afterAll(async () => {
    for (const fn of FUNCTIONS) await removeContainersAndImages(image(fn));
  });

  it("a change in one function's folder rebuilds and swaps that function only; shared code, every one", async () => {
    const dir = fixtureCopy('go-multi');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        version: 1,
        name: 'shop',
        tag: 'watch',
        base: 'alpine',
        go: { module: 'example.com/shop', version: '1.23' },
        functions: Object.fromEntries(FUNCTIONS.map((fn) => [fn, { main: `./cmd/${fn}`, image: image(fn) }])),
      }),
    );
    const w = await startWatch(dir);
    const ask = async (fn: string) => {
      const res = await fetch(`http://127.0.0.1:${w.port}/2015-03-31/functions/${fn}/invocations`, {
        method: 'POST',
        body: '{}',
      });
      expect(res.status).toBe(200);
      return ((await res.json()) as { version: string }).version;
    };
    try {
      expect([await ask('orders'), await ask('users')]).toEqual(['v1', 'v1']);
      const orders = path.join(dir, 'cmd', 'orders', 'main.go');
      let from = w.events.length;
      writeFileSync(orders, readFileSync(orders, 'utf8').replace('const version = "v1"', 'const version = "v2"'));
      const start = await w.event((e) => e.type === 'rebuild-start', 'rebuild-start', from);
      expect(start.functions).toEqual(['orders']);
      const swap = await w.event((e) => e.type === 'swap', 'swap', from);
      expect(swap.function).toBe('orders');
      expect([await ask('orders'), await ask('users')]).toEqual(['v2', 'v1']);
      expect(
        w.events
          .slice(from)
          .filter((e) => e.type === 'swap')
          .map((e) => e.function),
      ).toEqual(['orders']);

      // Shared code concerns every function: both rebuilt, both swapped.
      from = w.events.length;
      const shop = path.join(dir, 'internal', 'shop', 'shop.go');
      writeFileSync(shop, `${readFileSync(shop, 'utf8')}\n// edited\n`);
      const shared = await w.event((e) => e.type === 'rebuild-start', 'rebuild-start', from);
      expect(shared.functions).toEqual(['orders', 'users']);
      await w.event((e) => e.type === 'rebuild-done', 'rebuild-done', from);
      const swapped = async () => w.events.slice(from).filter((e) => e.type === 'swap' || e.type === 'unchanged');
      for (let i = 0; i < 200 && (await swapped()).length < 2; i++) await sleep(50);
      expect((await swapped()).map((e) => e.function).sort()).toEqual(['orders', 'users']);
      expect([await ask('orders'), await ask('users')]).toEqual(['v2', 'v1']);
    } finally {
      w.child.kill('SIGINT');
      expect(await w.exited).toBe(0);
    }
    expect(await containersOf(w.child.pid)).toEqual([]);
  }, 300_000);
});

describe('start --watch, another variant than the config default', () => {
  const repo = uniqueRepo('watchvariant');
  afterAll(() => removeContainersAndImages(repo));

  it('rebuilds and swaps to the variant being served (--variant), not the config default', async () => {
    const dir = fixtureCopy('go-hello');
    const init = await runCli(['init', dir, '--base', 'alpine', '--name', repo]);
    expect(init.code, init.stderr).toBe(0);
    setGreeting(dir, 'rie v1');
    const w = await startWatch(dir, ['--variant', 'alpine-rie', '--rie-from', dockerEnv.rie!.x86_64]);
    try {
      expect((await invoke(w.port)).message).toBe('rie v1');
      const from = w.events.length;
      setGreeting(dir, 'rie v2');
      const swap = await w.event((e) => e.type === 'swap', 'swap', from);
      // The image swapped in is the served variant's, rebuilt: the emulator is in it.
      const image = await docker.getImage(swap.id as string).inspect();
      expect(image.Config.Labels?.['org.lambda-image.variant']).toBe('alpine-rie');
      expect(image.Config.Entrypoint).toEqual(['/entry.sh']);
      expect((await invoke(w.port)).message).toBe('rie v2');

      // The config renames the project's image: reported, never silently ignored; v2 keeps answering.
      const later = w.events.length;
      const configFile = path.join(dir, 'lambda-image.json');
      writeFileSync(
        configFile,
        readFileSync(configFile, 'utf8').replace(`"name": "${repo}"`, `"name": "${repo}-renamed"`),
      );
      const failed = await w.event((e) => e.type === 'rebuild-failed', 'rebuild-failed', later);
      expect(failed.error).toContain('no longer names the image this start serves');
      expect((await invoke(w.port)).message).toBe('rie v2');
    } finally {
      w.child.kill('SIGINT');
      await w.exited;
    }
  }, 180_000);
});
