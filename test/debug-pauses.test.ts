// Paused time read from delve's JSON-RPC traffic: a breakpoint hit pauses, continue resumes.
import { describe, expect, it } from 'vitest';
import { DebugPauses, runningTimeout } from '../src/emulator/debug-pauses.js';

const cmd = (id: number, name: string) => JSON.stringify({ method: 'RPCServer.Command', params: [{ name }], id });
const stopped = (id: number, exited = false) => JSON.stringify({ id, result: { State: { Running: false, exited } } });

describe('DebugPauses', () => {
  it('counts from a breakpoint reply to the next continue', () => {
    let t = 0;
    const p = new DebugPauses(() => t, false);
    p.fromClient(cmd(1, 'continue'));
    t = 100;
    p.fromDelve(stopped(1)); // breakpoint hit
    expect(p.paused).toBe(true);
    t = 20_100;
    expect(p.pausedMs()).toBe(20_000);
    p.fromClient(JSON.stringify({ method: 'RPCServer.Eval', params: [{}], id: 2 }));
    expect(p.paused).toBe(true);
    p.fromClient(cmd(3, 'continue'));
    t = 30_000;
    expect(p.paused).toBe(false);
    expect(p.pausedMs()).toBe(20_000);
  });

  it('--debug-wait starts paused; a halt pauses; an exit reply does not', () => {
    let t = 0;
    const p = new DebugPauses(() => t, true);
    t = 5;
    p.fromClient(cmd(1, 'continue'));
    expect(p.pausedMs()).toBe(5);
    p.fromDelve(stopped(1, true));
    expect(p.paused).toBe(false);
    p.fromClient(cmd(2, 'halt'));
    expect(p.paused).toBe(true);
    p.fromDelve('not json');
    expect(p.paused).toBe(true);
  });
});

describe('runningTimeout', () => {
  it('does not fire while paused, fires after the running time', async () => {
    let pausedMs = 0;
    const t = runningTimeout({ pausedMs: () => pausedMs }, 100, 10);
    const held = setInterval(() => (pausedMs += 10), 10); // paused the whole time
    const early = await Promise.race([t.done, new Promise((r) => setTimeout(() => r('held'), 300))]);
    clearInterval(held);
    expect(early).toBe('held');
    const began = Date.now();
    await t.done;
    expect(Date.now() - began).toBeLessThan(1000);
  });
});
