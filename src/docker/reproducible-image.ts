// Fixing a built image's config so that its ID (the config's digest) depends on the sources,
// config and bases only: created and history times set to SOURCE_DATE_EPOCH (else 0), and the
// build host's traces (container id, hostname, the engine's version, the classic builder's
// intermediate image) dropped. Engines whose builder honours SOURCE_DATE_EPOCH already give
// such a config and are left alone; on the others (Docker 20.10) the config is read with
// `docker save`, rewritten, and loaded back with the layers the engine already holds.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { LambdaImageError } from '../errors.js';
import { debug } from '../util/debug.js';
import type { Engine } from './engine.js';

const log = debug('reproducible');

/** The time an image's config names: whole seconds since 1970, in the engine's RFC 3339 form. */
export function configTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace('.000Z', 'Z');
}

/** Fields of an image config that say where and when it was built rather than what it holds. */
const HOST_FIELDS = ['container', 'container_config', 'docker_version'] as const;

/** The config with fixed times and without build-host data (pure: the same input gives the same bytes). */
export function reproducibleConfig(raw: Buffer | string, epochSeconds: number): Buffer {
  const config = JSON.parse(raw.toString()) as Record<string, unknown> & {
    config?: Record<string, unknown>;
    history?: Record<string, unknown>[];
  };
  const time = configTime(epochSeconds);
  config.created = time;
  for (const entry of config.history ?? []) entry.created = time;
  for (const field of HOST_FIELDS) delete config[field];
  if (config.config) {
    // The classic builder names its build container's id and the intermediate image here.
    if (config.config.Hostname) config.config.Hostname = '';
    if (config.config.Image) config.config.Image = '';
  }
  return Buffer.from(JSON.stringify(config));
}

export interface ReproducibleOutcome {
  /** The image's ID after the step (sha256:...). */
  id: string;
  /** false when the engine's builder had already made a reproducible config. */
  rewritten: boolean;
  /** What the step cost, in milliseconds. */
  ms: number;
}

/**
 * Makes the image `ref` names reproducible and moves `ref` onto the result. `keepOld`: leave
 * the image the builder made (the classic builder's cache finds its last step by it);
 * otherwise it is removed when nothing else names it.
 */
export async function makeImageReproducible(
  engine: Pick<Engine, 'docker'> & Partial<Pick<Engine, 'kind'>>,
  ref: string,
  epochSeconds: number,
  opts: { keepOld?: boolean } = {},
): Promise<ReproducibleOutcome> {
  const started = performance.now();
  const { docker } = engine;
  const info = await docker.getImage(ref).inspect();
  const time = configTime(epochSeconds);
  // The containerd image store (a `Descriptor` in the inspect): the ID is the manifest's digest
  // and its BuildKit honours the SOURCE_DATE_EPOCH the build passes; a config-only load (the
  // classic store's way below) has no meaning there, so the image is left as its builder made it.
  // Podman loads only whole archives (every layer's tar), so a config-only load is refused
  // there: its images keep the builder's config (their layers are still reproducible).
  if (engine.kind === 'podman') {
    log(`${ref}: Podman, the config is left as its builder made it`);
    return { id: info.Id, rewritten: false, ms: performance.now() - started };
  }
  if ((info as { Descriptor?: unknown }).Descriptor) {
    log(`${ref}: containerd image store, times left to BuildKit's SOURCE_DATE_EPOCH`);
    return { id: info.Id, rewritten: false, ms: performance.now() - started };
  }
  if (
    info.Created === time &&
    !info.Container &&
    !info.DockerVersion &&
    !info.Config?.Hostname &&
    !info.Config?.Image
  ) {
    return { id: info.Id, rewritten: false, ms: performance.now() - started };
  }
  const raw = await readConfig((await docker.getImage(info.Id).get()) as unknown as Readable, info.Id);
  const config = reproducibleConfig(raw, epochSeconds);
  const hex = createHash('sha256').update(config).digest('hex');
  const id = `sha256:${hex}`;
  if (id !== info.Id) {
    const diffIds = info.RootFS?.Layers ?? [];
    // Only the config and the manifest: the engine finds every layer it already holds by its
    // chain id and reads no layer file for it.
    const manifest = [
      { Config: `${hex}.json`, RepoTags: [ref], Layers: diffIds.map((d) => `${d.replace(/^sha256:/, '')}/layer.tar`) },
    ];
    await loadImage(engine, [
      { name: `${hex}.json`, data: config },
      { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
    ]);
    if (!opts.keepOld) {
      const old = await docker
        .getImage(info.Id)
        .inspect()
        .catch(() => undefined);
      if (old && !(old.RepoTags ?? []).length)
        await docker
          .getImage(info.Id)
          .remove({ noprune: true })
          .catch(() => undefined);
    }
  }
  const ms = performance.now() - started;
  log(`${ref}: ${info.Id.slice(7, 19)} -> ${hex.slice(0, 12)} in ${ms.toFixed(0)} ms`);
  return { id, rewritten: true, ms };
}

/** The image's config from a `docker save` stream (the other entries are read past). */
async function readConfig(stream: Readable, id: string): Promise<Buffer> {
  const want = `${id.replace(/^sha256:/, '')}.json`;
  const tar = extract();
  let found: Buffer | undefined;
  await new Promise<void>((resolve, reject) => {
    tar.on('entry', (header, body, next) => {
      const chunks: Buffer[] = [];
      const keep = header.name === want;
      body.on('data', (c: unknown) => {
        if (keep) chunks.push(c as Buffer);
      });
      body.on('end', () => {
        if (keep) found = Buffer.concat(chunks);
        next();
      });
      body.on('error', reject);
    });
    tar.on('finish', resolve);
    tar.on('error', reject);
    stream.on('error', reject);
    stream.pipe(tar);
  });
  if (!found) throw new LambdaImageError('BUILD_FAILED', `the engine's export of ${id} has no config`);
  return found;
}

async function loadImage(engine: Pick<Engine, 'docker'>, entries: { name: string; data: Buffer }[]): Promise<void> {
  const tar = pack();
  for (const e of entries) tar.entry({ name: e.name, mtime: new Date(0), mode: 0o644 }, e.data);
  tar.finalize();
  const answer = (await engine.docker.loadImage(tar as unknown as NodeJS.ReadableStream, {
    quiet: true,
  })) as unknown as Readable;
  let text = '';
  for await (const c of answer) text += c.toString();
  const failed = text
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      try {
        return JSON.parse(l) as { error?: string };
      } catch {
        return {};
      }
    })
    .find((l) => l.error);
  if (failed) throw new LambdaImageError('BUILD_FAILED', `the engine refused the reproducible image: ${failed.error}`);
}
