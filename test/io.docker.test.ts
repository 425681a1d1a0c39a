// Nothing lost, nothing altered, against a real engine: a response's bytes reach stdout as the
// runtime sent them, an unterminated last line stays with its invoke (Tail), accepted Event
// invokes run when `start` stops, and `push` leaves no temporary tag behind (Ctrl-C, a
// failure, or a run killed outright whose tag the next push sweeps).
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerIdentity } from '../src/emulator/owners.js';
import { BIN, runCli, startCliUntil } from './support/cli.js';
import { docker, dockerEnv, standin, uniqueRepo } from './support/docker.js';
import { importPlainImage } from './support/plain-image.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';

const tagExists = (ref: string) =>
  docker
    .getImage(ref)
    .inspect()
    .then(
      () => true,
      () => false,
    );

describe.skipIf(!dockerEnv.available)('nothing lost, nothing altered (real engine)', () => {
  describe('a function', () => {
    const repo = uniqueRepo('io');
    const image = `${repo}:fn`;

    beforeAll(async () => {
      const dir = fixtureCopy('go-test-function');
      expect((await runCli(['init', dir, '--base', 'alpine', '--name', repo, '--force'])).code).toBe(0);
      const b = await runCli(['build', dir, '--tag', image, ...standin()]);
      expect(b.code, b.stderr).toBe(0);
    });

    it('invoke writes the bytes the runtime sent (ff fe 00 c3), not replacement characters', async () => {
      const child = spawn(BIN, ['invoke', '--image', image, '--data', '{"action":"raw"}'], {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      const code = await new Promise((r) => child.on('close', r));
      expect(code).toBe(0);
      expect(Buffer.concat(out)).toEqual(Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x0a]));
    });

    it("invoke shows a function's terminal controls as escapes (no screen clear, OSC 52, forged REPORT); --raw keeps them", async () => {
      const run = async (extra: string[]) => {
        const child = spawn(BIN, ['invoke', '--image', image, '--data', '{"action":"hostile"}', ...extra], {
          env: { ...process.env, CI: 'true' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let err = '';
        child.stderr.on('data', (d: Buffer) => (err += d.toString('latin1')));
        const code = await new Promise((r) => child.on('close', r));
        expect(code).toBe(0);
        return err;
      };
      const shown = await run([]);
      expect(shown).not.toMatch(/[\u001b\u0007\r]/);
      expect(shown).toContain('\\e[2J\\e]52;c;aGk=\\x07cleared\\rREPORT RequestId: forged');
      // Only the platform's own REPORT line starts a line.
      expect(shown.split('\n').filter((l) => l.startsWith('REPORT '))).toHaveLength(1);
      const raw = await run(['--raw']);
      expect(raw).toContain('\u001b]52;c;aGk=\u0007cleared\rREPORT RequestId: forged');
    });

    it("start: an unterminated last line is in that invoke's Tail, before END, and not glued to the next invoke", async () => {
      const cli = await startCliUntil(['start', '--image', image, '--port', '0'], /curl .*127\.0\.0\.1:(\d+)\//);
      try {
        const port = /127\.0\.0\.1:(\d+)\//.exec(cli.stderr())![1];
        const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
        const tail = async (body: string) => {
          const res = await fetch(url, { method: 'POST', body, headers: { 'X-Amz-Log-Type': 'Tail' } });
          const id = res.headers.get('x-amzn-requestid')!;
          await res.arrayBuffer();
          return { id, log: Buffer.from(res.headers.get('x-amz-log-result')!, 'base64').toString() };
        };
        const first = await tail('{"action":"partial"}');
        expect(first.log).toContain(`last words of ${first.id}\nEND RequestId: ${first.id}\n`);
        const second = await tail('{}');
        expect(second.log).not.toContain('last words');
        expect(cli.stderr()).toMatch(new RegExp(`^last words of ${first.id}$`, 'm'));
        expect(cli.stderr()).toMatch(new RegExp(`^\\S+ \\S+ handling ${second.id}$`, 'm'));
      } finally {
        cli.child.kill('SIGINT');
        expect(await cli.exited).toBe(0);
      }
    });

    it('start: Ctrl-C right after ten Event invokes were accepted runs all ten before it stops', async () => {
      const cli = await startCliUntil(['start', '--image', image, '--port', '0'], /curl .*127\.0\.0\.1:(\d+)\//);
      const port = /127\.0\.0\.1:(\d+)\//.exec(cli.stderr())![1];
      const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
      for (let i = 0; i < 10; i++) {
        const res = await fetch(url, {
          method: 'POST',
          body: `{"action":"sleep","ms":200,"i":${i}}`,
          headers: { 'X-Amz-Invocation-Type': 'Event' },
        });
        expect(res.status).toBe(202);
      }
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      expect((cli.stderr().match(/^REPORT RequestId/gm) ?? []).length).toBe(10);
      expect(cli.stderr()).toContain('running the 10 accepted Event invokes first');
      expect(cli.stderr()).not.toContain('were not run');
    });
  });

  describe('push leaves no temporary tag', () => {
    const repo = uniqueRepo('io-push');
    let project: string;
    let env: NodeJS.ProcessEnv;
    let cache: string;
    /** A "registry" that accepts connections and never answers: the engine's push hangs on it. */
    let silent: net.Server;
    const sockets = new Set<net.Socket>();

    beforeAll(async () => {
      project = tmpDir('io-push-');
      writeFileSync(path.join(project, 'bootstrap'), '#!/bin/sh\n');
      writeFileSync(
        path.join(project, 'lambda-image.json'),
        JSON.stringify({ version: 1, name: repo, tag: 'a', runtime: 'provided', binary: 'bootstrap' }),
      );
      await importPlainImage(repo, 'a', `io ${Date.now()}`);
      cache = tmpDir('io-cache-');
      const dockerConfig = tmpDir('io-docker-config-');
      env = { DOCKER_CONFIG: dockerConfig, LAMBDA_IMAGE_CACHE_DIR: cache };
      silent = net.createServer((s) => sockets.add(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    });
    afterAll(() => {
      for (const s of sockets) s.destroy();
      silent?.close();
    });

    it('Ctrl-C mid-push: exit 130, one line, and the temporary tag is gone', async () => {
      const host = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
      const target = `${host}/io-interrupted:t1`;
      const cli = await startCliUntil(
        ['push', project, '--repository', `${host}/io-interrupted`, '--tag', 't1'],
        /pushing 127\.0\.0\.1/,
        env,
      );
      // The push is on its way once the tag exists (bounded wait).
      for (let i = 0; i < 100 && !(await tagExists(target)); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await tagExists(target)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(130);
      expect(cli.stderr()).toContain(
        `error: interrupted: the push of ${target} was stopped, and its temporary tag removed`,
      );
      expect(await tagExists(target)).toBe(false);
      expect(readdirSync(path.join(cache, 'push-tags'))).toEqual([]);
    }, 60_000);

    it('the next push removes a temporary tag a killed run left (and only one whose owner is gone)', async () => {
      // A run that was killed outright: its note names a pid that no longer exists.
      const dead = spawn(process.execPath, ['-e', '0']);
      await new Promise((r) => dead.on('close', r));
      const left = `127.0.0.1:1/io-left:${repo.split('/')[1]}`;
      const kept = `127.0.0.1:1/io-kept:${repo.split('/')[1]}`;
      const id = (await docker.getImage(`${repo}:a`).inspect()).Id;
      for (const ref of [left, kept]) {
        const [r, t] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
        await docker.getImage(`${repo}:a`).tag({ repo: r, tag: t });
      }
      mkdirSync(path.join(cache, 'push-tags'), { recursive: true });
      const note = (ref: string, pid: number) =>
        writeFileSync(
          path.join(cache, 'push-tags', `${pid}-test.json`),
          JSON.stringify({ ref, imageId: id, pid, owner: ownerIdentity() }),
        );
      note(left, dead.pid!);
      note(kept, process.pid); // alive: not the sweeper's
      // This push fails at once (nothing listens on port 1), after sweeping.
      const r = await runCli(['push', project, '--repository', '127.0.0.1:1/io-next', '--tag', 't2'], { env });
      expect(r.code, r.stderr).toBe(30);
      expect(await tagExists(left)).toBe(false);
      expect(await tagExists(kept)).toBe(true);
      expect(await tagExists('127.0.0.1:1/io-next:t2')).toBe(false); // a failed push removes its own too
      await docker.getImage(kept).remove({ noprune: true });
    }, 60_000);
  });
});
