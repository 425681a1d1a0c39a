// Go build benchmarks (issue 10): rebuild after adding one vendored dependency and after a
// one-line change, each against a cold build, and a vendored build against the same project
// built from a warm module cache. Called by bench/run.mjs with its context:
// { cli, build, project, row, say, work, root, refs, docker }.
//
// "Cold" means what a user's first build of a function is: no layer cache (--no-cache) and an
// empty Go build cache. BuildKit keeps Go's build cache in a cache mount per builder image, so
// each cold build here uses the stand-in builder under a fresh tag of its own (same image, new
// name): its build cache starts empty without pruning anything on the shared engine. (Seen on
// Docker 20.10: a --no-cache BuildKit build does not reuse cache mounts either.)
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tar from 'tar-fs';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

export default async function run(ctx) {
  const { cli, build, row, say, work, root, refs, docker } = ctx;
  const repo = `lambda-image-bench-go-${process.pid}`;
  const made = [];
  let n = 0;
  /** A fresh name for the stand-in Go builder: a build cache of its own, empty. */
  async function coldBuilder() {
    const tag = `cold-${++n}`;
    await docker.getImage(refs.x86_64.golang).tag({ repo: `${repo}/golang`, tag });
    made.push(`${repo}/golang:${tag}`);
    return `${repo}/golang:${tag}`;
  }
  function vendoredProject(name) {
    const dir = path.join(work, name);
    cpSync(path.join(root, 'fixtures', 'go-vendored'), dir, { recursive: true });
    cli(['init', dir, '--base', 'alpine', '--name', 'bench-go']);
    return dir;
  }
  const tagOf = (label) => {
    made.push(`${repo}:${label}`);
    return `${repo}:${label}`;
  };

  try {
    // 1. One-line change / cold (3 rounds, medians).
    {
      const colds = [];
      const warms = [];
      for (let i = 0; i < 3; i++) {
        const dir = vendoredProject(`go-line-${i}`);
        const builder = await coldBuilder();
        const tag = tagOf(`line-${i}`);
        colds.push(build(dir, ['--tag', tag, '--no-cache', '--builder-image', builder]).ms);
        const main = path.join(dir, 'main.go');
        // Unique text: the engine's build cache outlives runs, and a change seen before is no change.
        writeFileSync(
          main,
          readFileSync(main, 'utf8').replace(
            'log.Println("start handler")',
            `log.Println("start handler ${Date.now()}-${i}")`,
          ),
        );
        warms.push(build(dir, ['--tag', tag, '--builder-image', builder]).ms);
      }
      const r = median(warms) / median(colds);
      row(
        'go: rebuild after a one-line change / cold build (BuildKit, median of 3)',
        r.toFixed(2),
        '<= 0.10',
        r <= 0.1,
        `${secs(median(warms))} / ${secs(median(colds))}`,
      );
    }

    // 2. Adding one vendored dependency / cold (3 rounds, medians).
    {
      const colds = [];
      const warms = [];
      for (let i = 0; i < 3; i++) {
        const dir = vendoredProject(`go-dep-${i}`);
        const builder = await coldBuilder();
        const tag = tagOf(`dep-${i}`);
        colds.push(build(dir, ['--tag', tag, '--no-cache', '--builder-image', builder]).ms);
        addVendoredDependency(dir, `example.com/extra${Date.now()}x${i}`);
        warms.push(build(dir, ['--tag', tag, '--builder-image', builder]).ms);
      }
      const r = median(warms) / median(colds);
      row(
        'go: rebuild after adding one vendored dependency / cold build (BuildKit, median of 3)',
        r.toFixed(2),
        '<= 0.30',
        r <= 0.3,
        `${secs(median(warms))} / ${secs(median(colds))}`,
      );
    }

    // 3. Vendored build / the same project built from a warm module cache. The module comes
    // from a file proxy inside a builder of the benchmark's own making (no network here).
    {
      const ctxDir = path.join(work, 'go-proxy-builder');
      mkdirSync(ctxDir, { recursive: true });
      const greeting = readFileSync(
        path.join(root, 'fixtures', 'go-vendored', 'vendor', 'example.com', 'greeting', 'greeting.go'),
        'utf8',
      );
      makeFileProxy(path.join(ctxDir, 'goproxy'), 'example.com/greeting', 'v1.0.0', { 'greeting.go': greeting });
      writeFileSync(path.join(ctxDir, 'Dockerfile'), `FROM ${refs.x86_64.golang}\nCOPY goproxy /goproxy\n`);
      const builder = `${repo}/golang:proxy`;
      made.push(builder);
      const stream = await docker.buildImage(tar.pack(ctxDir), { t: builder });
      await new Promise((resolve, reject) =>
        docker.modem.followProgress(stream, (err, out) =>
          err || out.some((o) => o.error)
            ? reject(err ?? new Error(JSON.stringify(out.find((o) => o.error))))
            : resolve(),
        ),
      );
      const vendored = vendoredProject('go-vendored-cmp');
      const fetched = vendoredProject('go-fetched-cmp');
      rmSync(path.join(fetched, 'vendor'), { recursive: true, force: true });
      const fetchArgs = [
        '--build-arg',
        'GOPROXY=file:///goproxy',
        '--build-arg',
        'GONOSUMDB=example.com',
        '--build-arg',
        'GOFLAGS=-mod=mod',
      ];
      // Warm the module cache (a cache mount shared by every builder) and the layers.
      build(fetched, ['--tag', tagOf('fetched'), '--builder-image', builder, ...fetchArgs]);
      build(vendored, ['--tag', tagOf('vendored'), '--builder-image', builder]);
      // Each measured build compiles everything (a fresh builder tag: empty build cache; a
      // changed main.go: the source layers rerun) while the module download layer and the
      // module cache stay warm. --no-cache is not used: it also leaves cache mounts unused.
      const v = [];
      const f = [];
      for (let i = 0; i < 4; i++) {
        const pair = [
          [fetched, 'fetched', fetchArgs, f],
          [vendored, 'vendored', [], v],
        ];
        // Alternate which goes first: the machine is shared and its load drifts.
        for (const [dir, label, extra, out] of i % 2 ? pair.reverse() : pair) {
          const main = path.join(dir, 'main.go');
          writeFileSync(
            main,
            readFileSync(main, 'utf8').replace(
              /log\.Println\("start handler[^"]*"\)/,
              `log.Println("start handler ${Date.now()}-${label}-${i}")`,
            ),
          );
          out.push(build(dir, ['--tag', tagOf(label), '--builder-image', await coldBuilder(), ...extra]).ms);
        }
      }
      const r = median(v) / median(f);
      row(
        'go: vendored build / same project from a warm module cache (full compile, median of 4, order alternated)',
        r.toFixed(2),
        '<= 1.10',
        r <= 1.1,
        `${secs(median(v))} / ${secs(median(f))}`,
      );
    }
  } finally {
    for (const ref of new Set(made))
      await docker
        .getImage(ref)
        .remove({ force: true, noprune: false })
        .catch(() => {});
    say('go: removed the benchmark images and builder tags');
  }
}

/** Adds a second vendored module to a copy of fixtures/go-vendored and uses it from main.go. */
function addVendoredDependency(dir, modPath) {
  const pkg = modPath.split('/').pop();
  const pkgDir = path.join(dir, 'vendor', ...modPath.split('/'));
  mkdirSync(pkgDir, { recursive: true });
  writeFileSync(
    path.join(pkgDir, `${pkg}.go`),
    `package ${pkg}\n\nimport "strings"\n\n// Shout upper-cases a message.\nfunc Shout(s string) string { return strings.ToUpper(s) + "!" }\n`,
  );
  const modules = path.join(dir, 'vendor', 'modules.txt');
  writeFileSync(modules, readFileSync(modules, 'utf8') + `# ${modPath} v1.0.0\n## explicit; go 1.19\n${modPath}\n`);
  const goMod = path.join(dir, 'go.mod');
  writeFileSync(
    goMod,
    readFileSync(goMod, 'utf8').replace(
      'require example.com/greeting v1.0.0',
      `require (\n\texample.com/greeting v1.0.0\n\t${modPath} v1.0.0\n)`,
    ),
  );
  const main = path.join(dir, 'main.go');
  writeFileSync(
    main,
    readFileSync(main, 'utf8')
      .replace('"example.com/greeting"', `"example.com/greeting"\n\t"${modPath}"`)
      .replace('response{Message: greeting.Message()}', `response{Message: ${pkg}.Shout(greeting.Message())}`),
  );
}

/** One module version in GOPROXY=file:// layout (list, .info, .mod, .zip). */
function makeFileProxy(proxyDir, modPath, version, files) {
  const vDir = path.join(proxyDir, modPath, '@v');
  mkdirSync(vDir, { recursive: true });
  const goMod = `module ${modPath}\n\ngo 1.19\n`;
  const stage = path.join(proxyDir, '..', 'zip-src');
  const rootDir = path.join(stage, `${modPath}@${version}`);
  mkdirSync(rootDir, { recursive: true });
  writeFileSync(path.join(rootDir, 'go.mod'), goMod);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(rootDir, name), content);
  execFileSync('zip', ['-q', '-r', '-D', path.join(vDir, `${version}.zip`), `${modPath}@${version}`], {
    cwd: stage,
    stdio: 'pipe',
  });
  writeFileSync(path.join(vDir, `${version}.mod`), goMod);
  writeFileSync(path.join(vDir, `${version}.info`), JSON.stringify({ Version: version, Time: '2024-01-01T00:00:00Z' }));
  writeFileSync(path.join(vDir, 'list'), `${version}\n`);
}
