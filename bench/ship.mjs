// Benchmarks for push and deploy (run by bench/run.mjs with a ctx of its helpers):
// 1. a re-push of an image whose layers are already in the registry sends (almost) nothing:
//    bytes the engine sent through a counting TCP proxy in front of a real docker-registry,
//    against the image's compressed size;
// 2. deploy overhead beyond Lambda's own wait, against the local ECR/Lambda control planes:
//    the CLI's wall time minus the time it spent in Lambda's waiters (median of 5).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeEcr, FakeLambda, fakeAwsEnv } from '../test/support/fake-aws.mjs';
import { importPlainImage } from '../test/support/plain-image.mjs';
import { countingProxy, TestRegistry } from '../test/support/registry.mjs';

const PAYLOAD = 8 << 20;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * The CLI as a child process, asynchronously: ctx.cli blocks the event loop, and the fake
 * control planes and the counting proxy live in this process and must answer meanwhile.
 */
function cliAsync(root, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bin', 'lambda-image'), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`lambda-image ${args.join(' ')} failed (${code}): ${stderr}`)),
    );
  });
}

export default async function run(ctx) {
  const { row, say, work, docker, root } = ctx;
  const cli = async (args, { env }) => cliAsync(root, args, env);
  const registry = await new TestRegistry().start();
  // The engine pushes through the proxy: every byte of the push is counted there.
  const proxy = await countingProxy(registry.port);
  const viaProxy = `127.0.0.1:${proxy.port}`;
  const repo = `lambda-image-bench-ship-${process.pid}`;
  const ecr = await new FakeEcr(registry).start();
  const lambda = await new FakeLambda(registry).start();
  const env = {
    ...process.env,
    CI: 'true',
    ...fakeAwsEnv(ecr, lambda),
    DOCKER_CONFIG: path.join(work, 'ship-docker-config'),
  };
  try {
    const dir = path.join(work, 'ship');
    mkdirSync(dir, { recursive: true });
    mkdirSync(env.DOCKER_CONFIG, { recursive: true });
    writeFileSync(path.join(dir, 'bootstrap'), '#!/bin/sh\n');
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: repo,
        tag: 'bench',
        runtime: 'provided',
        binary: 'bootstrap',
        deploy: { region: 'eu-west-1' },
      }),
    );
    say('ship: importing a plain image with an 8 MiB random payload');
    await importPlainImage(docker, repo, 'bench', `bench ${Date.now()}`, PAYLOAD);

    // 1. First push sends the layers; the second (another tag, same image) must not.
    const first = JSON.parse(
      await cli(['push', dir, '--repository', `${viaProxy}/bench`, '--tag', 'one', '--json'], { env }),
    );
    const firstBytes = proxy.counts.sent;
    proxy.reset();
    const second = JSON.parse(
      await cli(['push', dir, '--repository', `${viaProxy}/bench`, '--tag', 'two', '--json'], { env }),
    );
    const again = proxy.counts.sent;
    const ratio = again / first.compressedSize;
    row(
      're-push with every layer in the registry: bytes sent / image size',
      `${(ratio * 100).toFixed(3)} %`,
      '<= 1 %',
      ratio <= 0.01 && second.layersPushed === 0,
      `${again} B of ${first.compressedSize} B (first push sent ${firstBytes} B); ${second.layersExisting} layers already there`,
    );

    // 2. Deploy overhead: create once, then time updates by --image-uri (nothing pushed).
    proxy.reset();
    ecr.repositories.set('bench', { immutable: false, scanOnPush: false });
    const uri = `${registry.host}/bench@${first.digest}`;
    await cli(
      [
        'deploy',
        dir,
        '--image-uri',
        uri,
        '--function-name',
        'bench-fn',
        '--role',
        'arn:aws:iam::123456789012:role/bench',
        '--json',
      ],
      { env },
    );
    const overheads = [];
    const totals = [];
    for (let i = 0; i < 5; i++) {
      const t0 = process.hrtime.bigint();
      const out = JSON.parse(
        await cli(['deploy', dir, '--image-uri', uri, '--function-name', 'bench-fn', '--json'], { env }),
      );
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      totals.push(ms);
      overheads.push(ms - out.lambdaWaitMs);
    }
    const m = median(overheads);
    row(
      "deploy overhead beyond Lambda's wait (update by --image-uri, median of 5)",
      `${m.toFixed(0)} ms`,
      '< 1000 ms',
      m < 1000,
      `whole CLI process incl. start-up, SDK load, ECR login, manifest check; total ${median(totals).toFixed(0)} ms`,
    );
  } finally {
    await lambda.close();
    await ecr.close();
    await proxy.close();
    await registry.stop();
    for (const img of await docker.listImages()) {
      for (const tag of img.RepoTags ?? [])
        if (tag.startsWith(`${repo}:`))
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => {});
    }
  }
}
