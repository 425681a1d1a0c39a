// The inner loop side by side with the docker CLI (issue 16), run by bench/run.mjs with its
// context. Both sides run in the same run, on the same engine, in alternating order (the
// machine is shared and its load drifts), and each row is a ratio of medians:
// - rebuild after a one-line change, and with nothing changed: `lambda-image build` against
//   `docker build` of the same Dockerfile (rendered by lambda-image, written to disk), the
//   same build arguments and labels, the same builder. The docker CLI without buildx only
//   has the classic builder, and then both sides use it (said in the note);
// - one-shot invoke of an alpine+RIE image: `lambda-image invoke` (its own emulator, the
//   sandbox kept) against the seed's way: `docker run -p`, `curl` until it answers, `docker rm -f`;
// - start-up: the CLI's CPU time until its first command engine call (a fake engine on a
//   socket answers the /version handshake and records the first other call), beyond `node -e 0`.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

const ROUNDS = 5;

export default async function run(ctx) {
  const { cli, project, row, say, work, root, refs, rie, docker, repo, median, timeMs } = ctx;
  const bin = path.join(root, 'bin', 'lambda-image');
  const part = (name) => ctx.want('loop') || ctx.want(name);
  // BuildKit on both sides: Debian's docker 20.10 CLI speaks BuildKit with DOCKER_BUILDKIT=1 (the
  // newer CLI first on PATH has no buildx and falls back to the classic builder). A row whose
  // comparison cannot be set up fails; it never compares another builder silently.
  const DOCKER = '/usr/bin/docker';
  const dockerBuildkit = spawnSync(DOCKER, ['version', '--format', '{{.Client.Version}}'], { encoding: 'utf8' });
  const buildkit = dockerBuildkit.status === 0;
  const builder = 'buildkit';
  const builderNote = `BuildKit on both sides (lambda-image --builder buildkit; ${DOCKER} ${dockerBuildkit.stdout?.trim()} with DOCKER_BUILDKIT=1)`;
  const standin = ['--base-image', `alpine=${refs.x86_64.alpine}`, '--builder-image', refs.x86_64.golang];
  const made = [];
  const tagOf = (label) => {
    made.push(`${repo}:${label}`);
    return `${repo}:${label}`;
  };
  const ms = (x) => `${x.toFixed(0)} ms`;

  // The Dockerfile lambda-image renders for this build, as a file the docker CLI can build.
  async function renderedDockerfile(dir, extra = {}) {
    const { loadConfig } = await import('../dist/config/store.js');
    const { specFromConfig } = await import('../dist/render/variant.js');
    const { renderVariantFiles } = await import('../dist/render/render.js');
    const config = await loadConfig(dir);
    const { spec } = specFromConfig(config, {
      arch: 'x86_64',
      baseImages: { alpine: refs.x86_64.alpine },
      builderImage: refs.x86_64.golang,
      goVendor: false,
      builder,
      ...extra,
    });
    return renderVariantFiles(spec);
  }
  const edit = (dir, text) => {
    const main = path.join(dir, 'main.go');
    writeFileSync(
      main,
      readFileSync(main, 'utf8').replace(/"Hello AWS Lambda[^"]*"/, JSON.stringify(`Hello AWS Lambda ${text}`)),
    );
  };

  try {
    if (part('loop-build') && !buildkit) {
      row('loop: rebuild, lambda-image / docker build', 'n/a', 'BuildKit both sides', false, `${DOCKER} not usable`);
    } else if (part('loop-build')) {
      const ours = project('loop-ours', ['--base', 'alpine']);
      const theirs = path.join(work, 'loop-docker');
      cpSync(ours, theirs, { recursive: true });
      writeFileSync(path.join(theirs, 'Dockerfile'), (await renderedDockerfile(theirs)).Dockerfile);
      const ourTag = tagOf('loop-ours');
      const theirTag = tagOf('loop-docker');
      const oursOnce = () => cli(['build', ours, '--tag', ourTag, '--builder', builder, ...standin]);
      // The same request lambda-image makes: build arguments and labels included.
      const theirsOnce = () =>
        execFileSync(
          DOCKER,
          [
            'build',
            '-q',
            '-t',
            theirTag,
            '--platform',
            'linux/amd64',
            '--build-arg',
            'BUILDPLATFORM=linux/amd64',
            '--build-arg',
            'TARGETARCH=amd64',
            '--label',
            'org.lambda-image.variant=alpine',
            '--label',
            'org.lambda-image.arch=x86_64',
            theirs,
          ],
          { env: { ...process.env, DOCKER_BUILDKIT: '1' }, stdio: 'pipe' },
        );
      say(`loop: warming both build caches (${builderNote})`);
      oursOnce();
      theirsOnce();
      const changed = { ours: [], theirs: [] };
      const same = { ours: [], theirs: [] };
      for (let i = 0; i < ROUNDS; i++) {
        const stamp = `${Date.now()}-${i}`; // unique: the build cache outlives runs
        const pair = [
          () => {
            edit(ours, `ours ${stamp}`);
            changed.ours.push(timeMs(oursOnce));
          },
          () => {
            edit(theirs, `docker ${stamp}`);
            changed.theirs.push(timeMs(theirsOnce));
          },
        ];
        for (const step of i % 2 ? pair.reverse() : pair) step();
      }
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [() => same.ours.push(timeMs(oursOnce)), () => same.theirs.push(timeMs(theirsOnce))];
        for (const step of i % 2 ? pair.reverse() : pair) step();
      }
      // The goals: a one-line change no slower than docker build; nothing changed within
      // 150 ms of a bare `node -e 0` (what any Node CLI costs before its first line), both measured here.
      const bare = [];
      for (let i = 0; i < ROUNDS; i++) bare.push(timeMs(() => spawnSync(process.execPath, ['-e', '0'])));
      const r = median(changed.ours) / median(changed.theirs);
      row(
        `loop: rebuild after a one-line change, lambda-image / docker build (median of ${ROUNDS})`,
        r.toFixed(2),
        '<= 1.0',
        r <= 1.0,
        `${ms(median(changed.ours))} / ${ms(median(changed.theirs))}; ${builderNote}`,
      );
      const beyond = median(same.ours) - median(bare);
      row(
        `loop: rebuild with nothing changed, lambda-image beyond node -e 0 (median of ${ROUNDS})`,
        ms(beyond),
        '<= 150 ms',
        beyond <= 150,
        `${ms(median(same.ours))}, node -e 0 ${ms(median(bare))}, docker build ${ms(median(same.theirs))} (ratio ${(median(same.ours) / median(same.theirs)).toFixed(2)}); ${builderNote}`,
      );
    }

    if (part('loop-invoke')) {
      const dir = project('loop-rie', ['--base', 'alpine', '--rie']);
      const image = tagOf('loop-rie');
      cli(['build', dir, '--tag', image, '--rie-from', rie.x86_64, ...standin]);
      const port = await freePort();
      const seed = [
        `id=$(docker run -d -p 127.0.0.1:${port}:8080 ${image}) || exit 1`,
        // curl until the emulator answers (bounded: 10 s), as the seed's README loop did.
        'i=0; until out=$(curl -sf -XPOST -d "{}" ' +
          `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations); do`,
        '  i=$((i+1)); [ $i -gt 500 ] && break; sleep 0.02; done',
        'docker rm -f "$id" >/dev/null',
        'printf "%s" "$out"',
      ].join('\n');
      const oursOnce = () => cli(['invoke', '--image', image, '--data', '{}']);
      const theirsOnce = () =>
        execFileSync('sh', ['-c', seed], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      // Both answer with the function's response, or the measurement means nothing.
      const a = JSON.parse(oursOnce());
      const b = JSON.parse(theirsOnce());
      if (JSON.stringify(a) !== JSON.stringify(b))
        throw new Error(`loop: invoke answers differ: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
      const o = [];
      const t = [];
      for (let i = 0; i < ROUNDS; i++) {
        const pair = [() => o.push(timeMs(oursOnce)), () => t.push(timeMs(theirsOnce))];
        for (const step of i % 2 ? pair.reverse() : pair) step();
      }
      const r = median(o) / median(t);
      row(
        `loop: one-shot invoke, alpine+RIE image, lambda-image / docker run+curl+rm (median of ${ROUNDS})`,
        r.toFixed(2),
        '<= 1.15',
        r <= 1.15,
        `${ms(median(o))} / ${ms(median(t))}; sandboxed (own network, read-only, non-root)`,
      );
    }

    if (part('loop-startup')) {
      {
        const dir = project('loop-startup', ['--base', 'alpine']);
        const bare = [];
        const firstCall = { build: [], invoke: [] };
        const commands = {
          build: ['build', dir, '--tag', tagOf('loop-startup'), ...standin],
          invoke: ['invoke', dir, '--data', '{}'],
        };
        for (let i = 0; i < 9; i++) {
          bare.push(bareNodeCpuMs());
          for (const [name, args] of Object.entries(commands))
            firstCall[name].push(await untilFirstEngineCall(bin, args, work));
        }
        const floor = median(bare);
        for (const [name, times] of Object.entries(firstCall)) {
          const beyond = median(times) - floor;
          row(
            `loop: start-up of ${name}: CPU before its first command engine call (not the /version probe), beyond node -e 0 (median of 9)`,
            ms(beyond),
            '<= 150 ms',
            beyond <= 150,
            `${ms(median(times))} CPU; node -e 0 ${ms(floor)} CPU`,
          );
        }
      }
    }
  } finally {
    for (const ref of made)
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => {});
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU time of `node -e 0`, as that process counts it at its end. */
function bareNodeCpuMs() {
  const out = spawnSync(process.execPath, [
    '-e',
    'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000))',
  ]);
  return Number(out.stdout.toString());
}

/**
 * Spawns the CLI with DOCKER_HOST on a socket of the benchmark's own that answers the
 * handshake (/_ping, /version) as Docker 20.10 does, and resolves with the CPU time the CLI
 * has used when its first COMMAND call arrives (anything else: an image inspect, a build),
 * not the early /version probe; the process is then stopped (nothing reaches an engine).
 */
async function untilFirstEngineCall(bin, args, work) {
  const sock = path.join(work, `engine-${process.hrtime.bigint()}.sock`);
  mkdirSync(path.dirname(sock), { recursive: true });
  let child;
  const sockets = new Set();
  let server;
  const seen = new Promise((resolve) => {
    server = http.createServer((req, res) => {
      const call = (req.url ?? '/').split('?')[0].replace(/^\/v1\.\d+/, '');
      if (call === '/_ping') return res.end('OK');
      if (call === '/version') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        return res.end(
          JSON.stringify({
            Version: '20.10.24',
            ApiVersion: '1.41',
            Os: 'linux',
            Arch: 'amd64',
            Components: [{ Name: 'Engine' }],
          }),
        );
      }
      resolve(cpuMsOf(child.pid));
      req.socket.destroy();
    });
    server.on('connection', (c) => {
      sockets.add(c);
      c.on('close', () => sockets.delete(c));
    });
    server.listen(sock);
  });
  child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, CI: 'true', DOCKER_HOST: `unix://${sock}` },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const timeout = new Promise((_, reject) =>
    setTimeout(
      () => reject(new Error(`lambda-image ${args[0]} made no command engine call within 30 s`)),
      30_000,
    ).unref(),
  );
  try {
    return await Promise.race([
      seen,
      exited.then(() => Promise.reject(new Error(`lambda-image ${args[0]} exited before a command engine call`))),
      timeout,
    ]);
  } finally {
    child.kill('SIGKILL');
    await exited;
    for (const c of sockets) c.destroy();
    server.close();
  }
}
