// invoke --debug against the real engine, with a scripted delve client over delve's JSON-RPC
// API (through lambda-image's proxy on 127.0.0.1): breakpoints in init() (--debug-wait) and in
// the handler, a local variable read, a 20 s pause under --timeout 3 that does not time the
// invoke out (REPORT says how long it was paused), and a bad --delve-from refused with the reason.
// Needs the static delve in ../shared/tools (Go modules cannot be downloaded here to build one).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runCli } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { SESSION_LABEL } from '../src/emulator/sandbox.js';
import { fixtureCopy } from './support/tmp.js';

const DELVE = '/work/shared/tools/dlv-1.21.2-linux-amd64';
const haveDelve = existsSync(DELVE);
const required = process.env.LAMBDA_IMAGE_REQUIRE_DOCKER === '1';

/** One JSON-RPC connection to delve: one message a line each way. */
class DelveClient {
  private next = 1;
  private waiting = new Map<number, (reply: { result?: any; error?: string | null }) => void>();
  private constructor(private socket: net.Socket) {
    let rest = '';
    socket.on('data', (chunk) => {
      rest += chunk.toString();
      for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
        const msg = JSON.parse(rest.slice(0, i));
        rest = rest.slice(i + 1);
        this.waiting.get(msg.id)?.(msg);
        this.waiting.delete(msg.id);
      }
    });
  }
  static connect(port: number): Promise<DelveClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new DelveClient(s)));
      s.once('error', reject);
    });
  }
  async call(method: string, params: unknown): Promise<any> {
    const id = this.next++;
    const reply = await new Promise<{ result?: any; error?: string | null }>((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(`${JSON.stringify({ method: `RPCServer.${method}`, params: [params], id })}\n`);
    });
    if (reply.error) throw new Error(`${method}: ${reply.error}`);
    return reply.result;
  }
  command(name: string) {
    return this.call('Command', { name });
  }
  eval(expr: string) {
    return this.call('Eval', { Scope: { GoroutineID: -1, Frame: 0 }, Expr: expr });
  }
  close() {
    this.socket.destroy();
  }
}

describe.skipIf(!dockerEnv.available)('invoke --debug (real engine, delve)', () => {
  const repo = uniqueRepo('debug');

  it.skipIf(!haveDelve && !required)(
    'breaks in init() (--debug-wait) and in the handler, reads a local, holds 20 s under --timeout 3 without a timeout',
    async () => {
      expect(haveDelve, `${DELVE} is missing: this test needs the static delve (see ../shared/tools/README.md)`).toBe(
        true,
      );
      const dir = fixtureCopy('go-debug-function');
      expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo, '--force'])).code).toBe(0);
      const source = readFileSync(path.join(dir, 'main.go'), 'utf8').split('\n');
      const line = (text: string) => source.findIndex((l) => l.includes(text)) + 1;
      const file = 'example.com/go-debug-function/main.go';
      const child = spawn(
        BIN,
        [
          'invoke',
          dir,
          '--debug=0',
          '--debug-wait',
          '--json',
          '--delve-from',
          DELVE,
          '--timeout',
          '3',
          '-d',
          '{"n":20}',
          ...standin(),
        ],
        { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
      // The attach facts come first on stdout (the build may take a while on a loaded machine).
      const deadline = Date.now() + 400_000;
      while (!stdout.includes('\n') && Date.now() < deadline && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 200));
      const facts = JSON.parse(stdout.split('\n')[0]!).debug;
      expect(facts.host).toBe('127.0.0.1');
      expect(facts.launch).toMatchObject({ request: 'attach', mode: 'remote', port: facts.port });
      const dlv = await DelveClient.connect(facts.port);
      try {
        // --debug-wait: stopped before init; breakpoints in init() and in the handler.
        await dlv.call('CreateBreakpoint', { Breakpoint: { file, line: line('initialised = "yes"') } });
        await dlv.call('CreateBreakpoint', { Breakpoint: { file, line: line('return doubled + 1') } });
        let state = (await dlv.command('continue')).State;
        expect(state.currentThread.function.name).toBe('main.init.0');
        expect((await dlv.eval('initialised')).Variable.value).toBe('');
        state = (await dlv.command('continue')).State;
        expect(state.currentThread.line).toBe(line('return doubled + 1'));
        expect((await dlv.eval('doubled')).Variable.value).toBe('40');
        // Held at the breakpoint for 20 s, with a 3 s timeout; meanwhile the sandbox is what it is without --debug.
        const held = Date.now();
        const [c] = (await docker.listContainers({ filters: { label: [SESSION_LABEL] } })).filter((x) =>
          x.Image.startsWith(repo),
        );
        const info = await docker.getContainer(c!.Id).inspect();
        expect(info.Config.User).toBe('993:990');
        expect(info.HostConfig.ReadonlyRootfs).toBe(true);
        expect(info.HostConfig.NetworkMode).toBe('bridge');
        expect(info.HostConfig.CapAdd ?? []).toEqual([]);
        expect(info.HostConfig.Privileged).toBe(false);
        expect(info.HostConfig.SecurityOpt ?? []).toEqual([]);
        expect(
          Object.values(info.HostConfig.PortBindings ?? {})
            .flat()
            .map((b: any) => b.HostIp),
        ).toEqual(['127.0.0.1']);
        await new Promise((r) => setTimeout(r, 20_000 - (Date.now() - held)));
        void dlv.command('continue').catch(() => undefined);
        const code = await exited;
        expect(code, stderr).toBe(0);
      } finally {
        dlv.close();
        child.kill();
      }
      const answer = JSON.parse(stdout.split('\n')[1]!);
      expect(answer.answer).toBe(41);
      expect(answer.initialised).toBe('yes');
      expect(answer.deadlineInS).toBeGreaterThan(3600); // a far deadline while debugged
      const report = stderr.split('\n').find((l) => l.startsWith('REPORT '))!;
      expect(report).not.toMatch(/Status: timeout/);
      expect(stderr).not.toMatch(/Task timed out/);
      const paused = Number(/Debugger Paused: ([\d.]+) ms/.exec(report)![1]);
      expect(paused).toBeGreaterThan(19_000);
    },
    600_000,
  );

  it('refuses a --delve-from that cannot run in the image, with the reason, before any build', async () => {
    const dir = fixtureCopy('go-debug-function');
    expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo, '--force'])).code).toBe(0);
    const r = await runCli(['invoke', dir, '--debug', '--delve-from', path.join(dir, 'main.go'), ...standin()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--delve-from .*main\.go is not a Linux executable \(ELF\)/);
    const missing = await runCli(['invoke', dir, '--debug', '--delve-from', 'no-such-dlv']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-dlv: no such file/);
    const alone = await runCli(['invoke', dir, '--debug-wait']);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toMatch(/--debug-wait goes with --debug/);
  });
});
