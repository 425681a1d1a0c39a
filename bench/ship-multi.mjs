// Benchmark for shipping a project of several functions (fixtures/go-multi, five functions):
// after a one-line change in one function's own package and a build, `deploy` of all five
// must update exactly that one (the others already run their images and are left alone),
// and the time of deploying all five is compared with deploying the one, in the same run
// (medians of 3 rounds each), against a real registry and the local ECR/Lambda control planes.
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeEcr, FakeLambda, fakeAwsEnv } from '../test/support/fake-aws.mjs';
import { importPlainImage } from '../test/support/plain-image.mjs';
import { TestRegistry } from '../test/support/registry.mjs';

const FUNCTIONS = ['orders', 'users', 'payments', 'inventory', 'notify'];
const ROUNDS = 3;

/** The CLI as a child process, asynchronously: the fake control planes live in this process and must answer meanwhile. */
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
  const { row, say, work, docker, root, refs, median } = ctx;
  const password = `bench-${process.pid}`;
  const registry = await new TestRegistry([{ username: 'AWS', password }]).start();
  const ecr = await new FakeEcr(registry).start();
  const lambda = await new FakeLambda(registry).start();
  const repo = `lambda-image-bench-multiship-${process.pid}`;
  const env = {
    ...process.env,
    CI: 'true',
    ...fakeAwsEnv(ecr, lambda),
    DOCKER_CONFIG: path.join(work, 'ship-multi-docker-config'),
  };
  const cli = (args) => cliAsync(root, args, env);
  try {
    mkdirSync(env.DOCKER_CONFIG, { recursive: true });
    const dir = path.join(work, 'ship-multi');
    cpSync(path.join(root, 'fixtures', 'go-multi'), dir, { recursive: true });
    // Final stages on an imported image: push refuses anything built on a stand-in base.
    await importPlainImage(docker, repo, 'base', `base ${Date.now()}`);
    writeFileSync(
      path.join(dir, 'lambda-image.json'),
      JSON.stringify({
        name: 'shop',
        tag: 'bench',
        runtime: 'go',
        base: 'aws',
        go: { module: 'example.com/shop', version: '1.23' },
        baseImage: `${repo}:base`,
        builderImage: refs.x86_64.golang,
        deploy: { region: 'eu-west-1', repository: 'shop', role: 'arn:aws:iam::123456789012:role/bench' },
        functions: Object.fromEntries(FUNCTIONS.map((f) => [f, { main: `./cmd/${f}`, image: `${repo}-${f}` }])),
      }),
    );
    const main = path.join(dir, 'cmd', 'orders', 'main.go');
    let version = 1;
    const change = () => {
      const next = version + 1;
      writeFileSync(
        main,
        readFileSync(main, 'utf8').replace(`const version = "v${version}"`, `const version = "v${next}"`),
      );
      version = next;
    };
    const deploy = async (args) => {
      const t0 = process.hrtime.bigint();
      const out = JSON.parse(await cli(['deploy', dir, '--json', ...args]));
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const waited = out.functions.reduce((n, f) => n + f.lambdaWaitMs, 0);
      return { ms, own: ms - waited, summary: out.summary };
    };

    say('ship-multi: building five functions and deploying them all once');
    await cli(['build', dir]);
    await deploy(['--create-repository']);

    const all = [];
    const one = [];
    let counts;
    for (let i = 0; i < ROUNDS; i++) {
      change();
      await cli(['build', dir]);
      const a = await deploy([]);
      all.push(a);
      if (!counts || a.summary.updated !== 1 || a.summary.unchanged !== 4) counts = a.summary;
      change();
      await cli(['build', dir]);
      one.push(await deploy(['--function', 'orders']));
    }
    const exact = all.every((a) => a.summary.updated === 1 && a.summary.unchanged === 4 && a.summary.created === 0);
    row(
      'deploy of all 5 after a one-line change in one: functions updated / unchanged',
      `${counts.updated} / ${counts.unchanged}`,
      '1 / 4',
      exact,
      `${ROUNDS} rounds; every round ${exact ? 'updated exactly one' : 'did NOT update exactly one'}`,
    );
    const mAll = median(all.map((a) => a.ms));
    const mOne = median(one.map((a) => a.ms));
    row(
      'deploy all 5 vs deploy the changed one alone (median of 3 each)',
      `${(mAll / mOne).toFixed(2)} x`,
      '-',
      true,
      `${mAll.toFixed(0)} ms vs ${mOne.toFixed(0)} ms (beyond Lambda's waits: ${median(all.map((a) => a.own)).toFixed(0)} vs ${median(one.map((a) => a.own)).toFixed(0)} ms); whole CLI process, 4 pushes with no layer to send`,
    );
  } finally {
    await lambda.close();
    await ecr.close();
    await registry.stop();
    for (const img of await docker.listImages()) {
      for (const tag of img.RepoTags ?? [])
        if (tag.startsWith(`${repo}:`) || tag.startsWith(`${repo}-`))
          await docker
            .getImage(tag)
            .remove({ force: true })
            .catch(() => {});
    }
  }
}
