// Reproducible images (run by bench/run.mjs with a ctx of its helpers):
// 1. two cold (--no-cache) builds of two copies of one project, made at other times → the same
//    image ID (yes/no), with the builder named;
// 2. the layers a push to the same repository uploads after a one-line change (goal: 1, the
//    function's own layer; the config and manifest go with it), against a real docker-registry.
// A row that cannot be set up throws: run.mjs reports the failure, nothing falls back.
import { cpSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TestRegistry } from '../test/support/registry.mjs';

export default async function run(ctx) {
  const { row, say, work, root, build, cli, docker } = ctx;
  const builder = process.env.LAMBDA_IMAGE_BUILDER ?? 'buildkit';
  const env = { ...process.env, CI: 'true', LAMBDA_IMAGE_BUILDER: builder };
  const copy = (name, when) => {
    const dir = path.join(work, name);
    cpSync(path.join(root, 'fixtures', 'go-hello'), dir, { recursive: true });
    for (const f of ['go.mod', 'main.go']) utimesSync(path.join(dir, f), when, when);
    cli(['init', dir, '--base', 'alpine', '--name', 'li-repro2-bench'], { env });
    return dir;
  };
  const tags = [];
  const registry = await new TestRegistry().start();
  try {
    say(`repro: two cold builds (${builder})`);
    const a = copy('repro-a', 1_000_000_000);
    const b = copy('repro-b', 1_700_000_000);
    const first = build(a, ['--no-cache', '--tag', 'repro-a'], 'x86_64', env);
    const second = build(b, ['--no-cache', '--tag', 'repro-b'], 'x86_64', env);
    tags.push(first.images[0].tag, second.images[0].tag);
    const same = first.images[0].id === second.images[0].id;
    row(
      `two cold builds of one project: same image ID (${builder})`,
      same ? 'yes' : 'no',
      'yes',
      same,
      `${first.images[0].id.slice(7, 19)} / ${second.images[0].id.slice(7, 19)}; ${first.ms.toFixed(0)} / ${second.ms.toFixed(0)} ms`,
    );

    say('repro: push, one-line change, push again');
    const repository = `${registry.host}/repro`;
    const pushed = JSON.parse(cli(['push', a, '--repository', repository, '--tag', 'live', '--json'], { env }));
    const main = path.join(a, 'main.go');
    writeFileSync(main, `${readFileSync(main, 'utf8')}\n// one-line change ${Date.now()}\n`);
    const changed = build(a, ['--tag', 'repro-a'], 'x86_64', env);
    if (changed.images[0].id === first.images[0].id)
      throw new Error('repro: the one-line change did not change the image');
    const again = JSON.parse(cli(['push', a, '--repository', repository, '--tag', 'live', '--json'], { env }));
    row(
      'push after a one-line change: layers uploaded',
      `${again.layersPushed}`,
      '1',
      again.layersPushed === 1,
      `first push ${pushed.layersPushed} layers; then ${again.layersExisting} already in the registry (plus config and manifest)`,
    );
  } finally {
    await registry.stop();
    for (const t of tags)
      await docker
        .getImage(t)
        .remove({ force: true })
        .catch(() => undefined);
  }
}
