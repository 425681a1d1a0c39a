#!/usr/bin/env node
// The main job: build the bundled example function (fixtures/go-hello) in every variant and
// compare the images. Uses the real base images when the engine has them or can pull them;
// otherwise says so and uses labelled stand-ins (numbers then not representative).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { ALPINE_BASE_IMAGE, AWS_BASE_IMAGE, goBuilderImage } from '../dist/render/images.js';
import {
  buildStandinRie,
  ensureStandins,
  findTools,
  removeLegacyStandins,
  standinBuildArgs,
  STANDIN_LABEL,
} from './standins.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = path.join(root, 'bin', 'lambda-image');
const say = (s) => process.stderr.write(`demo: ${s}\n`);

const docker = new Docker();
try {
  await docker.ping();
} catch (err) {
  say(`no Docker engine answers (${err.message}); start one (npm run demo starts dockerd when run as root)`);
  process.exit(10);
}

// Earlier versions loaded stand-ins under the real images' names: take those away first,
// so the check below sees what really is on this engine.
for (const name of await removeLegacyStandins(docker))
  say(`removed ${name}: a stand-in an earlier lambda-image version left under a real image's name`);

const GO_VERSION = '1.23';
const wanted = [AWS_BASE_IMAGE, ALPINE_BASE_IMAGE, goBuilderImage(GO_VERSION)];

/** True when the engine has the real image (not a stand-in) or can pull it now. */
async function haveReal(ref) {
  try {
    const info = await docker.getImage(ref).inspect();
    if (!info.Config?.Labels?.[STANDIN_LABEL]) return true;
  } catch {
    /* not local */
  }
  try {
    const stream = await docker.pull(ref);
    await new Promise((resolve, reject) =>
      docker.modem.followProgress(stream, (err) => (err ? reject(err) : resolve())),
    );
    return true;
  } catch {
    return false;
  }
}

const real = [];
for (const ref of wanted) real.push(await haveReal(ref));
const online = real.every(Boolean);
let rieArgs = [];
if (!online) {
  say('no container registry is reachable and the real base images are not on this engine:');
  say('using stand-in base images (busybox-based, labelled org.lambda-image.standin) and a stand-in emulator.');
  say('The sizes below show how lambda-image attributes bytes; they are NOT the sizes of the real images.');
  const tools = findTools(true);
  if ('missing' in tools) {
    say(`cannot make stand-ins: missing ${tools.missing}`);
    process.exit(1);
  }
  const refs = await ensureStandins(docker, ['x86_64'], GO_VERSION, say);
  // Pointed at like a registry mirror: the stand-ins never take a real image's name.
  rieArgs = ['--rie-from', await buildStandinRie('x86_64'), ...standinBuildArgs(refs.x86_64)];
}

const work = mkdtempSync(path.join(os.tmpdir(), 'lambda-image-demo-'));
const dir = path.join(work, 'go-hello');
cpSync(path.join(root, 'fixtures', 'go-hello'), dir, { recursive: true });
const run = (args) => {
  say(`lambda-image ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
try {
  run(['init', dir, '--base', 'alpine', '--rie', '--name', 'go-hello']);
  run(['build', dir, '--tag', 'go-hello:demo', '--variants', 'aws,alpine,alpine-rie', ...rieArgs]);
  if (!online) say('(stand-in bases: not representative of the real images)');
  say('images go-hello:demo-aws, go-hello:demo-alpine, go-hello:demo-alpine-rie are in the engine; run one with');
  say(
    '  docker run --rm -p 9000:8080 go-hello:demo-alpine-rie   and POST to http://localhost:9000/2015-03-31/functions/function/invocations',
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
