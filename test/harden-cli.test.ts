// Regression tests for issue 9's hostile inputs, through the real CLI: deletes only inside
// .lambda-image/layers, parallel add-extension runs all land, Ctrl-C leaves nothing, the layer
// version option, bounded --set indexes, local image reference checks, --env-file read by
// lambda-image (not Node), and typed paths relative to the working directory.
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCliInProcess as runCli, startCliUntil, type CliResult } from './support/cli.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

/** No engine at all: what still fails with exit 2 was checked locally. */
const NO_ENGINE = { DOCKER_HOST: 'unix:///nonexistent/lambda-image-test.sock' };

function expectClean(r: CliResult, code: number, pattern: RegExp) {
  expect(r.stderr).toMatch(pattern);
  expect(r.code).toBe(code);
  expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
  expect(r.stderr.split('\n').filter((l) => l.startsWith('error:'))).toHaveLength(1);
}

/** Every file under dir (links as "-> target"), so a test can prove nothing was lost. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, p);
      const st = statSync(full, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else out[p] = st ? readFileSync(full, 'utf8') : '(dangling)';
    }
  };
  walk('');
  return out;
}

async function project(): Promise<string> {
  const dir = fixtureCopy('go-hello');
  expect((await runCli(['init', dir])).code).toBe(0);
  return dir;
}

function layerZip(name: string, extra = ''): string {
  const file = path.join(tmpDir('layer-zip-'), `${name}.zip`);
  writeFileSync(
    file,
    makeZip([
      { name: 'extensions/', mode: 0o040755 },
      { name: `extensions/${name}`, data: `#!/bin/sh\necho ${name}${extra}\n`, mode: 0o100755 },
    ]),
  );
  return file;
}

function config(dir: string): { extensions: Array<{ name: string; version: number; dir: string }> } {
  return JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
}

describe('extensions remove deletes only inside .lambda-image/layers', () => {
  it.each([['.'], ['src'], ['.lambda-image'], ['.lambda-image/layers'], ['.lambda-image/layers/../../src'], ['/tmp']])(
    'a config whose extension dir is "%s" is invalid, and nothing is deleted',
    async (bad) => {
      const dir = await project();
      mkdirSync(path.join(dir, 'src'));
      writeFileSync(path.join(dir, 'src/keep.go'), 'package src\n');
      const cfg = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
      cfg.extensions = [
        { name: 'evil', version: 1, sha256: 'a'.repeat(64), architectures: [], dir: bad, size: 0, files: 0 },
      ];
      writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify(cfg));
      const before = tree(dir);
      const r = await runCli(['extensions', 'remove', 'evil', dir]);
      expectClean(r, 3, /extensions\.0\.dir: must be a folder directly under \.lambda-image\/layers\//);
      expect(tree(dir)).toEqual(before);
    },
  );

  it('two layers sharing one folder are invalid', async () => {
    const dir = await project();
    const cfg = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    const ext = (name: string) => ({
      name,
      version: 1,
      sha256: 'a'.repeat(64),
      architectures: [],
      dir: '.lambda-image/layers/shared-1',
      size: 0,
      files: 0,
    });
    cfg.extensions = [ext('one'), ext('two')];
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify(cfg));
    expectClean(
      await runCli(['extensions', 'list', dir]),
      3,
      /extensions\.1\.dir: "\.lambda-image\/layers\/shared-1" is already the folder of another layer/,
    );
  });

  it.each([
    [
      'the layer folder',
      (dir: string) => symlinkSync(path.join(dir, 'src'), path.join(dir, '.lambda-image/layers/evil-1')),
    ],
    [
      '.lambda-image/layers',
      (dir: string) => {
        rmSync(path.join(dir, '.lambda-image/layers'), { recursive: true });
        mkdirSync(path.join(dir, 'src/evil-1'));
        writeFileSync(path.join(dir, 'src/evil-1/mine.txt'), 'mine');
        symlinkSync(path.join(dir, 'src'), path.join(dir, '.lambda-image/layers'));
      },
    ],
  ])('a link in place of %s is refused at the moment of deletion', async (_label, plant) => {
    const dir = await project();
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'src/keep.go'), 'package src\n');
    const zip = layerZip('evil');
    expect((await runCli(['add-extension', '--from-zip', zip, dir])).code).toBe(0);
    rmSync(path.join(dir, '.lambda-image/layers/evil-1'), { recursive: true });
    plant(dir);
    const before = tree(dir);
    const r = await runCli(['extensions', 'remove', 'evil', dir]);
    expectClean(r, 3, /refusing to delete \.lambda-image\/layers\/evil-1 .*is a link/);
    expect(tree(dir)).toEqual(before);
  });
});

describe('add-extension runs at the same time', () => {
  it('six parallel runs: all six recorded, exactly six folders, no staging or lock left', async () => {
    const dir = await project();
    const names = ['a1', 'b2', 'c3', 'd4', 'e5', 'f6'];
    const results = await Promise.all(names.map((n) => runCli(['add-extension', '--from-zip', layerZip(n), dir])));
    for (const r of results) expect(r.stderr + `exit ${r.code}`).toMatch(/exit 0$/);
    expect(
      config(dir)
        .extensions.map((e) => e.name)
        .sort(),
    ).toEqual(names);
    expect(readdirSync(path.join(dir, '.lambda-image/layers')).sort()).toEqual(names.map((n) => `${n}-1`));
    expect(readdirSync(path.join(dir, '.lambda-image/tmp'))).toEqual([]);
    expect(existsSync(path.join(dir, 'lambda-image.json.lock'))).toBe(false);
    const dockerfile = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    for (const n of names) expect(dockerfile).toContain(`.lambda-image/layers/${n}-1`);
  });

  it('init --force running alongside add-extension runs keeps every layer they record', async () => {
    const dir = await project();
    const names = ['g1', 'h2', 'i3'];
    const results = await Promise.all([
      ...names.map((n) => runCli(['add-extension', '--from-zip', layerZip(n), dir])),
      runCli(['init', dir, '--force']),
      runCli(['init', dir, '--force']),
    ]);
    for (const r of results) expect(r.stderr + `exit ${r.code}`).toMatch(/exit 0$/);
    expect(
      config(dir)
        .extensions.map((e) => e.name)
        .sort(),
    ).toEqual(names);
  });

  it('Ctrl-C while waiting for another run: exit 130, nothing added, nothing left behind', async () => {
    const dir = await project();
    const before = tree(dir);
    // Another run holds the lock (as proper-lockfile makes it: a fresh folder next to the config).
    const lock = path.join(dir, 'lambda-image.json.lock');
    mkdirSync(lock);
    const run = await startCliUntil(
      ['add-extension', '--from-zip', layerZip('late'), dir],
      /waiting for another lambda-image run/,
    );
    // It has unpacked into its staging folder by now.
    expect(readdirSync(path.join(dir, '.lambda-image/tmp')).length).toBe(1);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stderr()).toMatch(/error: interrupted: nothing was added/);
    rmSync(lock, { recursive: true });
    expect(tree(dir)).toEqual(before); // every file as it was, and no file under .lambda-image
    expect(readdirSync(path.join(dir, '.lambda-image/tmp'))).toEqual([]);
    expect(existsSync(path.join(dir, '.lambda-image/layers'))).toBe(false);
  });

  it('a staging folder left by a run that was killed outright is swept by the next run', async () => {
    const dir = await project();
    const orphan = path.join(dir, `.lambda-image/tmp/${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-999999-deadbeef`);
    const otherHost = path.join(dir, '.lambda-image/tmp/another-host-999999-deadbeef');
    mkdirSync(otherHost, { recursive: true });
    mkdirSync(orphan, { recursive: true });
    writeFileSync(path.join(orphan, 'half'), 'x');
    expect((await runCli(['add-extension', '--from-zip', layerZip('next'), dir])).code).toBe(0);
    // Another host's run may still be going (its pid means nothing here): its folder stays.
    expect(readdirSync(path.join(dir, '.lambda-image/tmp'))).toEqual(['another-host-999999-deadbeef']);
  });

  // Root writes into read-only folders anyway: as root, the CLI runs as nobody.
  it('a read-only project: a clear error, and nothing changed', async () => {
    const dir = await project();
    const zip = layerZip('ro');
    const before = tree(dir);
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const env = { LAMBDA_IMAGE_CACHE_DIR: path.join(tmpDir(), 'cache'), HOME: '/nonexistent' };
    if (asUser.uid !== undefined) {
      // The temporary parents are 0700: let nobody through to the zip, the project and a cache.
      for (const d of [path.dirname(zip), path.dirname(dir)]) chmodSync(d, 0o755);
      chmodSync(path.dirname(env.LAMBDA_IMAGE_CACHE_DIR), 0o777);
    }
    chmodSync(dir, 0o555);
    try {
      expectClean(await runCli(['add-extension', '--from-zip', zip, dir], { ...asUser, env }), 5, /cannot/);
    } finally {
      chmodSync(dir, 0o755);
    }
    expect(tree(dir)).toEqual(before);
  });
});

describe('add-extension --layer-version', () => {
  it('--layer-version and --version set the layer version (not the program version)', async () => {
    const dir = await project();
    const r = await runCli(['add-extension', '--from-zip', layerZip('v'), '--layer-version', '3', dir]);
    expect(r.stdout).toMatch(/added v version 3/);
    const alias = await runCli(['add-extension', '--from-zip', layerZip('w'), '--version', '2', dir]);
    expect(alias.stdout).toMatch(/added w version 2/);
    expect(config(dir).extensions.map((e) => [e.name, e.version])).toEqual([
      ['v', 3],
      ['w', 2],
    ]);
    expect((await runCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([
    [['--layer-version', '0'], /--layer-version 0 is not a positive whole number/],
    [['--layer-version', '1e3'], /--layer-version 1e3 is not a positive whole number/],
    [['--layer-version', '99999999999999999999'], /not a positive whole number/],
    [['--version', '2', '--layer-version', '3'], /disagree/],
  ])('%j is refused', async (args, pattern) => {
    const dir = await project();
    expectClean(await runCli(['add-extension', '--from-zip', layerZip('x'), ...args, dir]), 2, pattern);
  });
});

describe('events --set indexes are bounded', () => {
  it.each([
    ['Records[2000000000].x=1', /index 2000000000 is past the end of Records \(1 element\)/],
    ['Records[99999999]=1', /index 99999999 is past the end of Records/],
    ['fresh[99999999]=1', /index 99999999 is past the end of fresh \(0 elements\)/],
    ['a[99999999999999999999]=1', /is too large/],
    ['__proto__.polluted=1', /"__proto__" cannot be set/],
    ['Records.name=1', /Records is an array: use an index/],
    ['Records..body=1', /empty part/],
  ])('--set %s: exit 2, one clear line', async (set, pattern) => {
    expectClean(await runCli(['events', 'sqs', '--set', set]), 2, pattern);
  });

  it('an index may add to an array a little past its end; gaps are null', async () => {
    const r = await runCli(['events', 'sqs', '--set', 'Records[2].body=third', '--set', 'extra[1]=2']);
    expect(r.code).toBe(0);
    const event = JSON.parse(r.stdout);
    expect(event.Records).toHaveLength(3);
    expect(event.Records[1]).toBeNull();
    expect(event.Records[2]).toEqual({ body: 'third' });
    expect(event.extra).toEqual([null, 2]);
  });
});

describe('image references are checked locally (exit 2, the rule named), before any engine', () => {
  it.each([
    [
      ['build', '{dir}', '--tag', 'My-Fn:latest'],
      /--tag "My-Fn:latest" is not a valid image reference: "My-Fn" must be lower-case/,
    ],
    [['build', '{dir}', '--tag', 'fn:bad tag'], /white space/],
    [['build', '{dir}', '--tag', 'fn:-x'], /tag "-x" must be 1 to 128/],
    [['build', '{dir}', '--base-image', 'aws=bad image'], /--base-image "bad image"/],
    [['invoke', '--image', 'fn:a:b:c'], /--image "fn:a:b:c" is not a valid image reference/],
    [['invoke', '--image', 'fn@sha256:123'], /is not a digest|64 lower-case hex/],
    [['start', '--image', 'a//b'], /empty path component/],
    [['invoke', '{dir}', '--rie', '--image', 'x\ny'], /control character/],
  ])('%j', async (args, pattern) => {
    const dir = await project();
    const r = await runCli(
      args.map((a) => a.replace('{dir}', dir)),
      { env: NO_ENGINE },
    );
    expectClean(r, 2, pattern);
  });
});

describe('--env-file is read by lambda-image, never by Node', () => {
  it("a missing file: lambda-image says so, exit 2 (not Node's exit 9)", async () => {
    expectClean(
      await runCli(['invoke', '--image', 'fn:1', '--env-file', 'does-not-exist.env'], { env: NO_ENGINE }),
      2,
      /cannot read env file does-not-exist\.env/,
    );
    expectClean(
      await runCli(['start', '--image', 'fn:1', '--env-file=does-not-exist.env'], { env: NO_ENGINE }),
      2,
      /cannot read env file/,
    );
  });

  it('a present file is read by lambda-image (its bad line is reported by lambda-image; a good one passes)', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'bad.env'), 'A=1\nnot a pair\n');
    writeFileSync(path.join(dir, 'good.env'), '# comment\nexport A=1\nB=two=2\n');
    expectClean(
      await runCli(['invoke', '--image', 'fn:1', '--env-file', 'bad.env'], { cwd: dir, env: NO_ENGINE }),
      2,
      /--env-file line "not a pair" is not K=V/,
    );
    // Past the env file, the next thing that fails is the missing engine: the file was fine.
    expectClean(
      await runCli(['invoke', '--image', 'fn:1', '--env-file', 'good.env'], { cwd: dir, env: NO_ENGINE }),
      10,
      /cannot reach the Docker engine/,
    );
  });
});

describe('typed paths are relative to the working directory; config paths to the project', () => {
  function parentWithFunction() {
    const parent = tmpDir();
    const fn = path.join(parent, 'fn');
    mkdirSync(fn);
    writeFileSync(path.join(fn, 'bootstrap'), '#!/bin/sh\n', { mode: 0o755 });
    return { parent, fn };
  }

  it('init fn --binary fn/bootstrap from the parent directory', async () => {
    const { parent, fn } = parentWithFunction();
    const r = await runCli(['init', 'fn', '--runtime', 'provided', '--binary', 'fn/bootstrap', '--name', 'fn'], {
      cwd: parent,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(fn, 'lambda-image.json'), 'utf8')).binary).toBe('bootstrap');
  });

  it('init fn --binary bootstrap from the parent: not there, and the hint shows the path meant', async () => {
    const { parent, fn } = parentWithFunction();
    const r = await runCli(['init', 'fn', '--runtime', 'provided', '--binary', 'bootstrap'], { cwd: parent });
    expectClean(r, 2, /binary bootstrap is outside the project directory/);
    expect(r.stderr).toMatch(
      /hint: paths you type are relative to the working directory: did you mean fn\/bootstrap\?/,
    );
    expect(readdirSync(fn)).toEqual(['bootstrap']);
  });

  it('init --main from the parent directory, and from inside', async () => {
    const parent = tmpDir();
    const fn = path.join(parent, 'fn');
    cpSync(path.join(fixtureCopy('go-hello')), fn, { recursive: true });
    mkdirSync(path.join(fn, 'cmd/handler'), { recursive: true });
    writeFileSync(path.join(fn, 'cmd/handler/main.go'), 'package main\nfunc main() {}\n');
    expect((await runCli(['init', 'fn', '--main', 'fn/cmd/handler', '--dry-run'], { cwd: parent })).stdout).toMatch(
      /"main": "cmd\/handler"/,
    );
    expect((await runCli(['init', '.', '--main', './cmd/handler', '--dry-run'], { cwd: fn })).stdout).toMatch(
      /"main": "cmd\/handler"/,
    );
  });

  it('--rie-from and --event resolve against the working directory; rieFrom in the config against the project', async () => {
    const dir = await project();
    const cwd = tmpDir();
    writeFileSync(path.join(cwd, 'rie'), '#!/bin/sh\n', { mode: 0o755 });
    mkdirSync(path.join(cwd, 'a-dir'));
    writeFileSync(path.join(cwd, 'ev.json'), '{"x":1}');
    // Past the local checks, the missing engine is what fails (exit 10).
    expectClean(
      await runCli(['build', dir, '--rie-from', 'rie'], { cwd, env: NO_ENGINE }),
      10,
      /cannot reach the Docker engine/,
    );
    expectClean(
      await runCli(['build', dir, '--rie-from', 'a-dir'], { cwd, env: NO_ENGINE }),
      2,
      /--rie-from a-dir is not a file/,
    );
    expectClean(
      await runCli(['build', dir, '--rie-from', 'missing'], { cwd, env: NO_ENGINE }),
      2,
      /--rie-from missing does not exist/,
    );
    expectClean(
      await runCli(['invoke', dir, '--event', 'ev.json'], { cwd, env: NO_ENGINE }),
      10,
      /cannot reach the Docker engine/,
    );
    expectClean(
      await runCli(['invoke', dir, '--event', 'nope.json'], { cwd, env: NO_ENGINE }),
      2,
      /cannot read event file nope\.json/,
    );

    const cfg = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    writeFileSync(path.join(dir, 'rie-in-project'), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify({ ...cfg, rieFrom: 'rie-in-project' }));
    expectClean(await runCli(['build', dir], { cwd, env: NO_ENGINE }), 10, /cannot reach the Docker engine/);
    writeFileSync(path.join(dir, 'lambda-image.json'), JSON.stringify({ ...cfg, rieFrom: 'rie' }));
    expectClean(
      await runCli(['build', dir], { cwd, env: NO_ENGINE }),
      2,
      /rieFrom rie in lambda-image\.json does not exist/,
    );
  });

  it('--from-zip resolves against the working directory', async () => {
    const dir = await project();
    const zip = layerZip('rel');
    const r = await runCli(['add-extension', '--from-zip', path.basename(zip), dir], { cwd: path.dirname(zip) });
    expect(r.stdout).toMatch(/added rel version 1/);
  });
});

describe('inputs that would exhaust memory or hang are capped', () => {
  it.each([
    [['invoke', '--image', 'fn:1', '--event', '/dev/zero'], /event file \/dev\/zero is larger than 6291456 bytes/],
    [['invoke', '--image', 'fn:1', '--env-file', '/dev/zero'], /env file \/dev\/zero is larger than 1048576 bytes/],
    [['invoke', '--image', 'fn:1', '--concurrency', '100000'], /--concurrency 100000 is more than 64/],
    [['invoke', '--image', ''], /--image "" is not a valid image reference: it is empty/],
  ])('%j', async (args, pattern) => {
    expectClean(await runCli(args, { env: NO_ENGINE }), 2, pattern);
  });

  it('an event on stdin larger than Lambda accepts', async () => {
    const r = await runCli(['invoke', '--image', 'fn:1', '--event', '-'], {
      env: NO_ENGINE,
      input: 'x'.repeat(6 * 1024 * 1024 + 10),
    });
    expectClean(r, 2, /the event on stdin is larger than 6291456 bytes/);
  });
});

describe('the tree and the config stay in step', () => {
  it('a layer folder no layer records (an interrupted run, an older version) is removed by the next add, with a warning', async () => {
    const dir = await project();
    mkdirSync(path.join(dir, '.lambda-image/layers/orphan-1/extensions'), { recursive: true });
    writeFileSync(path.join(dir, '.lambda-image/layers/orphan-1/extensions/x'), 'x');
    const r = await runCli(['add-extension', '--from-zip', layerZip('kept'), dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: removed \.lambda-image\/layers\/orphan-1: no layer in lambda-image\.json uses it/,
    );
    expect(readdirSync(path.join(dir, '.lambda-image/layers'))).toEqual(['kept-1']);
  });

  it('a lambda-image.json linked in from outside the project is never written through (issue 15); one linked from inside is', async () => {
    const dir = await project();
    const elsewhere = path.join(tmpDir(), 'config.json');
    cpSync(path.join(dir, 'lambda-image.json'), elsewhere);
    rmSync(path.join(dir, 'lambda-image.json'));
    symlinkSync(elsewhere, path.join(dir, 'lambda-image.json'));
    const configBefore = readFileSync(elsewhere, 'utf8');
    const dockerfileBefore = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    const r = await runCli(['add-extension', '--from-zip', layerZip('linked'), dir]);
    expectClean(r, 2, /refusing to write .*lambda-image\.json: a link leads it to .*config\.json, outside/);
    expect(lstatSync(path.join(dir, 'lambda-image.json')).isSymbolicLink()).toBe(true);
    // Nothing half-done: the config outside, the Dockerfile and the layer folders are as they were.
    expect(readFileSync(elsewhere, 'utf8')).toBe(configBefore);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toBe(dockerfileBefore);
    expect(existsSync(path.join(dir, '.lambda-image/layers/linked-1'))).toBe(false);

    const inside = path.join(dir, 'config', 'lambda-image.json');
    mkdirSync(path.dirname(inside));
    cpSync(elsewhere, inside);
    rmSync(path.join(dir, 'lambda-image.json'));
    symlinkSync(inside, path.join(dir, 'lambda-image.json'));
    expect((await runCli(['add-extension', '--from-zip', layerZip('linked'), dir])).code).toBe(0);
    expect(lstatSync(path.join(dir, 'lambda-image.json')).isSymbolicLink()).toBe(true);
    expect(JSON.parse(readFileSync(inside, 'utf8')).extensions.map((e: { name: string }) => e.name)).toEqual([
      'linked',
    ]);
  });
});
