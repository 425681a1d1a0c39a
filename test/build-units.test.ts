// Build pieces that need no engine: the context packer, the build-stream reader, layer
// attribution, endpoint resolution, and the unreachable-engine error.
import { createHash } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import protobuf from 'protobufjs';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { createBuildContext } from '../src/docker/build-context.js';
import { BuildStreamParser, failingStep } from '../src/docker/build-stream.js';
import { resolveEndpoint } from '../src/docker/engine.js';
import { attributeLayers } from '../src/docker/image-report.js';
import { runCli } from './support/cli.js';
import { tmpDir } from './support/tmp.js';

async function tarEntries(
  stream: NodeJS.ReadableStream,
  counted?: { bytes: number },
): Promise<Array<{ name: string; mode: number; body: string }>> {
  const extract = tarStream.extract();
  if (counted) stream.on('data', (c: Buffer) => (counted.bytes += c.length));
  const entries: Array<{ name: string; mode: number; body: string }> = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, body, next) => {
      let text = '';
      body.on('data', (c: Buffer) => (text += c.toString()));
      body.on('end', () => {
        entries.push({ name: header.name, mode: header.mode ?? 0, body: text });
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return entries;
}

describe('build context', () => {
  it('leaves out what .dockerignore names, keeps re-included paths, and adds generated entries', async () => {
    const dir = tmpDir();
    const files: Record<string, string> = {
      'main.go': 'package main',
      'go.mod': 'module x',
      'README.md': '# docs',
      'secret.env': 'TOKEN=1',
      Dockerfile: 'FROM user-file',
      '.git/HEAD': 'ref',
      'node_modules/big/file.js': 'x'.repeat(1000),
      '.lambda-image/cache/layer.zip': 'zip',
      '.lambda-image/layers/ext-1/extensions/ext': 'bin',
      'pkg/util.go': 'package pkg',
    };
    for (const [name, body] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), body);
    }
    writeFileSync(
      path.join(dir, '.dockerignore'),
      ['.git', '*.md', 'secret.env', 'node_modules', '.lambda-image/*', '!.lambda-image/layers'].join('\n'),
    );
    const ctx = await createBuildContext(dir, [
      { name: 'Dockerfile', mode: 0o644, content: 'FROM generated' },
      { name: 'entry.sh', mode: 0o755, content: '#!/bin/sh' },
    ]);
    const received = { bytes: 0 };
    const entries = await tarEntries(ctx.stream, received);
    expect(entries.map((e) => e.name).sort()).toEqual(
      [
        '.dockerignore',
        '.lambda-image/layers/ext-1/extensions/ext',
        'Dockerfile',
        'entry.sh',
        'go.mod',
        'main.go',
        'pkg/util.go',
      ].sort(),
    );
    // The generated Dockerfile replaces the user's in the context; the user's file is untouched.
    expect(entries.find((e) => e.name === 'Dockerfile')!.body).toBe('FROM generated');
    expect(entries.find((e) => e.name === 'entry.sh')!.mode & 0o777).toBe(0o755);
    const kept = ['.dockerignore', 'go.mod', 'main.go', 'pkg/util.go', '.lambda-image/layers/ext-1/extensions/ext'];
    expect(ctx.files.bytes).toBe(kept.reduce((n, f) => n + statSync(path.join(dir, f)).size, 0));
    // What the build reports as sent is exactly what the engine would read.
    expect(await ctx.sentBytes).toBe(received.bytes);
    expect(received.bytes).toBeGreaterThan(ctx.files.bytes);
  });
});

describe('build stream', () => {
  it('fails on an errorDetail line from the classic builder and names the step', () => {
    const parser = new BuildStreamParser();
    const lines = [
      { stream: 'Step 1/3 : FROM golang:1.23-alpine AS build\n' },
      { stream: ' ---> 9fb486d1b32c\n' },
      { stream: 'Step 2/3 : RUN go mod download\n' },
      { stream: ' ---> Using cache\n' },
      { stream: ' ---> 1234\n' },
      { stream: 'Step 3/3 : RUN go build -o /out/bootstrap .\n' },
      { stream: ' ---> Running in abc\n' },
      { stream: './main.go:5:2: undefined: nope\n' },
      {
        errorDetail: { code: 1, message: "The command '/bin/sh -c go build' returned a non-zero code: 1" },
        error: 'The command ...',
      },
    ];
    // Split mid-line to prove the reader buffers partial lines.
    const text = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
    parser.push(text.slice(0, 37));
    parser.push(text.slice(37));
    const outcome = parser.end();
    expect(outcome.error).toMatch(/returned a non-zero code: 1/);
    expect(outcome.steps.map((s) => [s.name, s.cached])).toEqual([
      ['[1/3] FROM golang:1.23-alpine AS build', false],
      ['[2/3] RUN go mod download', true],
      ['[3/3] RUN go build -o /out/bootstrap .', false],
    ]);
    const step = failingStep(outcome)!;
    expect(step.name).toBe('[3/3] RUN go build -o /out/bootstrap .');
    expect(step.logs).toEqual(['./main.go:5:2: undefined: nope']);
  });

  it('decodes BuildKit trace messages: steps, cache hits, logs and the failing vertex', async () => {
    const require = createRequire(import.meta.url);
    const proto = path.join(path.dirname(require.resolve('dockerode/package.json')), 'lib/proto/buildkit_status.proto');
    const type = protobuf.loadSync(proto).lookupType('moby.buildkit.v1.StatusResponse');
    const trace = (msg: object) => ({
      id: 'moby.buildkit.trace',
      aux: Buffer.from(type.encode(type.fromObject(msg)).finish()).toString('base64'),
    });
    const ts = { seconds: 1, nanos: 0 };
    const lines = [
      trace({
        vertexes: [
          { digest: 'sha256:a', name: '[build 4/6] RUN go mod download', cached: true, started: ts, completed: ts },
        ],
      }),
      trace({ vertexes: [{ digest: 'sha256:b', name: '[build 6/6] RUN go build .', started: ts }] }),
      trace({ logs: [{ vertex: 'sha256:b', msg: Buffer.from('./main.go:3: undefined: x\n') }] }),
      trace({
        vertexes: [
          { digest: 'sha256:b', name: '[build 6/6] RUN go build .', started: ts, completed: ts, error: 'exit code: 2' },
        ],
      }),
      { errorDetail: { message: 'executor failed running [/bin/sh -c go build .]: exit code: 2' } },
    ];
    const parser = await new BuildStreamParser().init();
    parser.push(lines.map((l) => JSON.stringify(l)).join('\n'));
    const outcome = parser.end();
    expect(outcome.steps.map((s) => [s.name, s.cached])).toEqual([
      ['[build 4/6] RUN go mod download', true],
      ['[build 6/6] RUN go build .', false],
    ]);
    expect(outcome.error).toMatch(/exit code: 2/);
    expect(failingStep(outcome)!.logs).toEqual(['./main.go:3: undefined: x']);
  });

  it('takes the image ID from an aux line', () => {
    const parser = new BuildStreamParser();
    parser.push(JSON.stringify({ aux: { ID: 'sha256:abc' } }) + '\n');
    expect(parser.end()).toMatchObject({ imageId: 'sha256:abc', error: undefined });
  });
});

describe('layer attribution', () => {
  it('splits base and added layers and classifies what each added layer carries', () => {
    const history = [
      { CreatedBy: 'ENTRYPOINT ["/entry.sh"]', Size: 0 },
      { CreatedBy: 'COPY /out/bootstrap /var/runtime/bootstrap # buildkit', Size: 4000 },
      { CreatedBy: 'COPY .lambda-image/layers/ext-1/ /opt/ # buildkit', Size: 3000 },
      { CreatedBy: 'COPY entry.sh /entry.sh # buildkit', Size: 300 },
      { CreatedBy: '/bin/sh -c #(nop) COPY file:abc in /usr/local/bin/aws-lambda-rie ', Size: 2000 },
      { CreatedBy: 'WORKDIR /var/task', Size: 0 },
      { CreatedBy: '/bin/sh -c #(nop)  CMD ["/bin/sh"]', Size: 0 },
      { CreatedBy: '/bin/sh -c #(nop) ADD file:xyz in / ', Size: 1000 },
    ];
    expect(attributeLayers(history, 2)).toEqual({ base: 1000, binary: 4000, rie: 2000, extensions: 3000, other: 300 });
  });
});

describe('engine endpoint', () => {
  it('prefers DOCKER_HOST, then the current docker context, then the default socket', () => {
    const home = tmpDir();
    expect(resolveEndpoint({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }, home).address).toBe('tcp://127.0.0.1:2375');
    expect(resolveEndpoint({}, home).options).toEqual({ socketPath: '/var/run/docker.sock' });
    const id = createHash('sha256').update('remote').digest('hex');
    mkdirSync(path.join(home, '.docker/contexts/meta', id), { recursive: true });
    writeFileSync(path.join(home, '.docker/config.json'), JSON.stringify({ currentContext: 'remote' }));
    writeFileSync(
      path.join(home, '.docker/contexts/meta', id, 'meta.json'),
      JSON.stringify({ Name: 'remote', Endpoints: { docker: { Host: 'unix:///run/user/1000/podman/podman.sock' } } }),
    );
    const ep = resolveEndpoint({}, home);
    expect(ep.options).toEqual({ socketPath: '/run/user/1000/podman/podman.sock' });
    expect(ep.address).toMatch(/docker context "remote"/);
  });

  it('says which endpoint it tried when no engine answers', async () => {
    const dir = tmpDir();
    writeFileSync(path.join(dir, 'go.mod'), 'module x\n\ngo 1.23\n');
    writeFileSync(path.join(dir, 'main.go'), 'package main\nfunc main() {}\n');
    expect((await runCli(['init', dir])).code).toBe(0);
    const r = await runCli(['build', dir], { env: { DOCKER_HOST: `unix://${dir}/no-engine.sock` } });
    expect(r.code).toBe(10);
    expect(r.stderr).toMatch(
      new RegExp(`error: cannot reach the Docker engine at unix://${dir}/no-engine.sock \\(ENOENT\\)`),
    );
    expect(r.stderr).toMatch(/hint: start Docker .*DOCKER_HOST/);
  });
});
