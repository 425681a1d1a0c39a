// lambda-image build against a real Docker engine, with stand-in base images (no registry
// is reachable here) and a stand-in emulator of our own (the AWS RIE cannot be downloaded).
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import {
  containerLogs,
  docker,
  dockerEnv,
  engineSocketPath,
  standin,
  startContainer,
  stopAndRemove,
  uniqueRepo,
  waitFor,
} from './support/docker.js';
import { TestRuntimeApi } from './support/runtime-api.js';
import { fixtureCopy } from './support/tmp.js';

interface BuildJson {
  images: Array<{
    variant: string;
    tag: string;
    id: string;
    architecture: string;
    size: number;
    layers: number;
    baseImage: string;
    breakdown: { base: number; binary: number; rie: number; extensions: number; other: number };
  }>;
  comparison: Array<{ variant: string; size: number; diffBytes: number; diffPercent: number }>;
  steps: Record<string, Array<{ name: string; cached: boolean }>>;
}

async function buildJson(dir: string, args: string[], arch: 'x86_64' | 'arm64' = 'x86_64'): Promise<BuildJson> {
  const r = await runCli(['build', dir, '--json', ...standin(arch), ...args]);
  if (r.code !== 0) throw new Error(`build failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as BuildJson;
}

const HELLO = '{"message":"Hello AWS Lambda"}';
// Unique per run: the engine's build cache outlives test runs, and a change seen before is no change.
const CHANGED = `Hello again ${Date.now().toString(36)}`;

describe.skipIf(!dockerEnv.available)('lambda-image build (real engine)', () => {
  const repo = uniqueRepo('build');
  let dir: string;
  let built: BuildJson;

  beforeAll(async () => {
    dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir, '--base', 'alpine', '--rie'])).code).toBe(0);
    built = await buildJson(dir, [
      '--tag',
      `${repo}:x86`,
      '--variants',
      'aws,alpine,alpine-rie',
      '--rie-from',
      dockerEnv.rie!.x86_64,
    ]);
  });

  it('tags each variant and reports sizes and a comparison', () => {
    expect(built.images.map((i) => i.tag)).toEqual([`${repo}:x86-aws`, `${repo}:x86-alpine`, `${repo}:x86-alpine-rie`]);
    for (const image of built.images) {
      expect(image.architecture).toBe('amd64');
      const b = image.breakdown;
      // The attribution accounts for every byte of the image.
      expect(b.base + b.binary + b.rie + b.extensions + b.other).toBe(image.size);
      expect(b.binary).toBeGreaterThan(1_000_000);
    }
    const byVariant = Object.fromEntries(built.images.map((i) => [i.variant, i]));
    const rieBytes = statSync(dockerEnv.rie!.x86_64).size;
    // The emulator is stored once: its layer is the size of the binary, not twice that.
    expect(byVariant['alpine-rie']!.breakdown.rie).toBe(rieBytes);
    expect(byVariant.alpine!.breakdown.rie).toBe(0);
    expect(byVariant.aws!.breakdown.rie).toBe(0); // the AWS base carries its own, counted as base
    const smallest = built.comparison.find((c) => c.diffBytes === 0)!;
    expect(smallest.variant).toBe('alpine');
    const rieRow = built.comparison.find((c) => c.variant === 'alpine-rie')!;
    expect(rieRow.diffBytes).toBe(byVariant['alpine-rie']!.size - byVariant.alpine!.size);
  });

  it('runs every variant as Lambda does: Runtime API on the host, AWS_LAMBDA_RUNTIME_API set', async () => {
    for (const image of built.images) {
      const api = await new TestRuntimeApi().start();
      const container = await startContainer(image.tag, repo, {
        Env: [`AWS_LAMBDA_RUNTIME_API=${api.address}`],
        HostConfig: { NetworkMode: 'host' },
      });
      try {
        const first = await api.invoke({ Records: [{ body: 'hi' }] });
        expect(first.kind).toBe('response');
        expect(first.body).toBe(HELLO);
        const second = await api.invoke({});
        expect(second.body).toBe(HELLO);
        const logs = await waitFor(async () => {
          const l = await containerLogs(container.id);
          return (l.match(/end handler/g) ?? []).length === 2 ? l : undefined;
        }, `two handler runs in ${image.variant}`);
        expect(logs.match(/cold start/g)).toHaveLength(1);
        expect(logs.match(/start handler/g)).toHaveLength(2);
      } finally {
        await stopAndRemove(container);
        await api.close();
      }
    }
  });

  // What lambda-image controls here is the wiring (entrypoint, entry.sh, emulator path); the
  // START/REPORT lines checked below are printed by the stand-in emulator, not by lambda-image.
  it.each(['aws', 'alpine-rie'])(
    'wires the %s image to its emulator as the seed runs it (-p PORT:8080, POST; stand-in emulator protocol)',
    async (variant) => {
      const image = built.images.find((i) => i.variant === variant)!;
      const container = await startContainer(image.tag, repo, {
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] } },
      });
      try {
        const info = await container.inspect();
        const port = info.NetworkSettings.Ports['8080/tcp']![0]!.HostPort;
        const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
        const invoke = () =>
          waitFor(async () => {
            const res = await fetch(url, { method: 'POST', body: '{"key":"value"}' });
            return res.status === 200 ? res.text() : undefined;
          }, 'the emulator to answer');
        expect(await invoke()).toBe(HELLO);
        expect(await invoke()).toBe(HELLO);
        const logs = await waitFor(async () => {
          const l = await containerLogs(container.id);
          return (l.match(/^REPORT /gm) ?? []).length === 2 ? l : undefined;
        }, 'two REPORT lines');
        const reports = logs.split('\n').filter((l) => l.startsWith('REPORT '));
        expect(reports[0]).toMatch(/Init Duration: [\d.]+ ms/);
        expect(reports[1]).not.toMatch(/Init Duration/);
        expect(logs.match(/cold start/g)).toHaveLength(1);
      } finally {
        await stopAndRemove(container);
      }
    },
  );

  it('rebuilds after a one-line change reusing the module download (BuildKit: caches in cache mounts)', async () => {
    const before = built.images.find((i) => i.variant === 'alpine')!;
    const main = path.join(dir, 'main.go');
    writeFileSync(main, readFileSync(main, 'utf8').replace('"Hello AWS Lambda"', JSON.stringify(CHANGED)));
    const rebuilt = await buildJson(dir, ['--tag', `${repo}:x86-alpine`, '--variant', 'alpine']);
    const steps = rebuilt.steps.alpine!;
    const download = steps.find((s) => s.name.includes('go mod download'))!;
    const compile = steps.find((s) => s.name.includes('-o /out/bootstrap'))!;
    expect(download.cached).toBe(true);
    expect(compile.name).toContain('--mount=type=cache');
    expect(compile.cached).toBe(false);
    expect(rebuilt.images[0]!.id).not.toBe(before.id);
  });

  it('fails a compile error with the build-failure code and the failing step', async () => {
    const broken = fixtureCopy('go-hello');
    await runCli(['init', broken, '--base', 'alpine']);
    writeFileSync(
      path.join(broken, 'main.go'),
      readFileSync(path.join(broken, 'main.go'), 'utf8').replace('func main() {', 'func main() {\n\tundefinedThing()'),
    );
    const r = await runCli(['build', broken, '--tag', `${repo}:broken`, ...standin()]);
    expect(r.code).toBe(12);
    expect(r.stderr).toMatch(/error: build failed at .*go build/);
    expect(r.stderr).toMatch(/undefined: undefinedThing/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a base image that is neither local nor reachable', async () => {
    const d = fixtureCopy('go-hello');
    await runCli(['init', d, '--base', 'alpine', '--base-image', 'lambda-image-test/no-such-base:1']);
    const r = await runCli(['build', d, '--tag', `${repo}:nobase`, '--builder-image', dockerEnv.refs!.x86_64.golang]);
    expect(r.code).toBe(11);
    expect(r.stderr).toMatch(/error: base image lambda-image-test\/no-such-base:1 is not on the engine/);
  });

  it('talks to an engine over TCP when DOCKER_HOST says so', async () => {
    // A TCP front for the local engine's socket stands in for a remote engine.
    const proxy = net.createServer((client) => {
      const upstream = net.connect(engineSocketPath());
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const port = (proxy.address() as net.AddressInfo).port;
      const r = await runCli(['build', dir, '--tag', `${repo}:tcp`, '--variant', 'alpine', '--json', ...standin()], {
        env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` },
      });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).images[0].tag).toBe(`${repo}:tcp`);
    } finally {
      proxy.close();
    }
  });

  it('builds with the classic builder from the same templates', async () => {
    const own = fixtureCopy('go-hello'); // its own copy: independent of the other tests' edits
    expect((await runCli(['init', own, '--base', 'alpine', '--rie'])).code).toBe(0);
    const image = await buildJson(own, [
      '--tag',
      `${repo}:classic`,
      '--variant',
      'alpine-rie',
      '--builder',
      'classic',
      '--rie-from',
      dockerEnv.rie!.x86_64,
    ]);
    expect(image.images[0]!.breakdown.rie).toBe(statSync(dockerEnv.rie!.x86_64).size);
    const api = await new TestRuntimeApi().start();
    const container = await startContainer(`${repo}:classic`, repo, {
      Env: [`AWS_LAMBDA_RUNTIME_API=${api.address}`],
      HostConfig: { NetworkMode: 'host' },
    });
    try {
      expect((await api.invoke({})).body).toBe(HELLO);
    } finally {
      await stopAndRemove(container);
      await api.close();
    }
    // Without cache mounts the classic builder keeps the imported packages compiled in a layer.
    const main = path.join(dir, 'main.go');
    writeFileSync(
      main,
      readFileSync(main, 'utf8').replace(JSON.stringify(CHANGED), JSON.stringify(`${CHANGED} twice`)),
    );
    const again = await buildJson(dir, ['--tag', `${repo}:classic`, '--variant', 'alpine', '--builder', 'classic']);
    const steps = again.steps.alpine!;
    expect(steps.find((s) => s.name.includes('$(cat /tmp/deps.txt)'))!.cached).toBe(true);
    expect(steps.find((s) => s.name.includes('-o /out/bootstrap'))!.cached).toBe(false);
  });

  it('says so when the Dockerfile on disk was edited by hand: the build renders its own', async () => {
    const own = fixtureCopy('go-hello');
    expect((await runCli(['init', own, '--base', 'alpine'])).code).toBe(0);
    const dockerfile = path.join(own, 'Dockerfile');
    writeFileSync(dockerfile, `${readFileSync(dockerfile, 'utf8')}RUN exit 7\n`);
    const r = await runCli(['build', own, '--tag', `${repo}:handedit`, ...standin()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Dockerfile was edited by hand: build renders its own from lambda-image.json');
  });
});

describe.skipIf(!dockerEnv.available)('arm64 images on an x86_64 engine', () => {
  const repo = uniqueRepo('arm64');

  it.each([
    ['aws', ['--base', 'aws'], 'aws', 'aws'],
    ['alpine', ['--base', 'alpine', '--rie'], 'alpine', 'alpine,alpine-rie'],
  ] as const)('%s: cross-compiled binary and an arm64 image', async (_label, initArgs, refKey, variants) => {
    const dir = fixtureCopy('go-hello');
    const base = dockerEnv.refs!.arm64[refKey];
    expect((await runCli(['init', dir, ...initArgs, '--arch', 'arm64', '--base-image', base])).code).toBe(0);
    const out = await buildJson(
      dir,
      ['--tag', `${repo}:${refKey}`, '--variants', variants, '--rie-from', dockerEnv.rie!.arm64],
      'arm64',
    );
    for (const image of out.images) {
      expect(image.architecture).toBe('arm64');
      expect(elfMachine(await readFileFromImage(image.tag, '/var/runtime/bootstrap'))).toBe('AArch64');
    }
  });
});

/** Copies one file out of an image (docker create + export of the path). */
async function readFileFromImage(image: string, file: string): Promise<Buffer> {
  const container = await docker.createContainer({ Image: image, Cmd: ['x'], Entrypoint: [''] });
  try {
    const archive = (await container.getArchive({ path: file })) as unknown as NodeJS.ReadableStream;
    const chunks: Buffer[] = [];
    for await (const c of archive) chunks.push(c as Buffer);
    const tarBuf = Buffer.concat(chunks);
    const size = parseInt(tarBuf.subarray(124, 136).toString().trim(), 8);
    return tarBuf.subarray(512, 512 + size);
  } finally {
    await container.remove({ force: true });
  }
}

function elfMachine(bin: Buffer): string {
  expect(bin.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
  const machine = bin.readUInt16LE(18);
  return machine === 0xb7 ? 'AArch64' : machine === 0x3e ? 'x86-64' : `0x${machine.toString(16)}`;
}
