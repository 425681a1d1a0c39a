// The config rewrite that makes an image's ID reproducible: fixed times, no build-host data,
// and the same bytes whatever the build's clock and host were.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Engine } from '../src/docker/engine.js';
import { configTime, makeImageReproducible, reproducibleConfig } from '../src/docker/reproducible-image.js';

function built(clock: string, host: string): string {
  return JSON.stringify({
    architecture: 'amd64',
    config: { Hostname: host, Env: ['PATH=/bin'], Image: `sha256:${host}`, Entrypoint: ['/var/runtime/bootstrap'] },
    container: `${host}0000`,
    container_config: { Hostname: host },
    created: clock,
    docker_version: '20.10.24',
    history: [
      { created: '2024-01-01T00:00:00Z', created_by: 'base' },
      { created: clock, created_by: 'COPY /tree/fn/ /', comment: 'buildkit.dockerfile.v0' },
    ],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: ['sha256:aa', 'sha256:bb'] },
  });
}

const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('reproducibleConfig', () => {
  it('gives the same bytes for builds at other times on other hosts', () => {
    const a = reproducibleConfig(built('2026-12-08T01:39:24.367471138Z', '02108a77a815'), 0);
    const b = reproducibleConfig(built('2026-12-09T11:00:00.1Z', 'ffee00112233'), 0);
    expect(digest(a)).toBe(digest(b));
    const config = JSON.parse(a.toString());
    expect(config.created).toBe('1970-01-01T00:00:00Z');
    expect(config.history.map((h: { created: string }) => h.created)).toEqual([configTime(0), configTime(0)]);
    expect(config).not.toHaveProperty('container');
    expect(config).not.toHaveProperty('container_config');
    expect(config).not.toHaveProperty('docker_version');
    expect(config.config).toMatchObject({ Hostname: '', Image: '', Entrypoint: ['/var/runtime/bootstrap'] });
    expect(config.rootfs.diff_ids).toEqual(['sha256:aa', 'sha256:bb']);
  });

  it('uses SOURCE_DATE_EPOCH seconds, so another epoch gives another ID', () => {
    const a = reproducibleConfig(built('2026-12-08T01:39:24Z', 'x'), 1_700_000_000);
    expect(JSON.parse(a.toString()).created).toBe('2023-11-14T22:13:20Z');
    expect(digest(a)).not.toBe(digest(reproducibleConfig(built('2026-12-08T01:39:24Z', 'x'), 0)));
  });
});

describe('which images the build rewrites', () => {
  const engineWith = (inspect: Record<string, unknown>, calls: string[]) =>
    ({
      docker: {
        getImage: (ref: string) => ({
          inspect: async () => (calls.push(`inspect ${ref}`), inspect),
          get: async () => {
            calls.push(`save ${ref}`);
            throw new Error('docker save asked for');
          },
        }),
      },
    }) as unknown as Pick<Engine, 'docker'>;

  it('leaves an image of the containerd store (inspect has a Descriptor) as its BuildKit made it', async () => {
    const calls: string[] = [];
    const id = `sha256:${'c'.repeat(64)}`;
    const engine = engineWith(
      { Id: id, Created: '2026-12-08T02:00:00Z', Descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json' } },
      calls,
    );
    expect(await makeImageReproducible(engine, 'fn:1', 0)).toMatchObject({ id, rewritten: false });
    expect(calls).toEqual(['inspect fn:1']);
  });

  it('leaves an image built by Podman (which loads only whole archives) as its builder made it', async () => {
    const calls: string[] = [];
    const engine = {
      ...engineWith({ Id: `sha256:${'e'.repeat(64)}`, Created: '2026-12-08T02:00:00Z' }, calls),
      kind: 'podman' as const,
    };
    expect(await makeImageReproducible(engine, 'fn:1', 0)).toMatchObject({ rewritten: false });
    expect(calls).toEqual(['inspect fn:1']);
  });

  it('reads the classic store image whose time is the build clock (docker save)', async () => {
    const calls: string[] = [];
    const engine = engineWith({ Id: `sha256:${'d'.repeat(64)}`, Created: '2026-12-08T02:00:00Z' }, calls);
    await expect(makeImageReproducible(engine, 'fn:1', 0)).rejects.toThrow('docker save asked for');
    expect(calls.some((c) => c.startsWith('save '))).toBe(true);
  });
});
