// The containerd image store (Docker 29's default), against an engine double answering as it
// does: the image ID is the index digest, the size report still reads inspect and history, and
// a push names the image's platform so the registry gets its manifest, not the index with the
// attestation manifest that Lambda refuses.
import { afterEach, describe, expect, it } from 'vitest';
import { connectEngine, type Engine } from '../src/docker/engine.js';
import { inspectBuiltImage } from '../src/docker/image-report.js';
import { imageStoreOf, pushPlatformFor } from '../src/docker/image-store.js';
import { imageClient } from '../src/docker/images.js';
import { pushAs } from '../src/docker/push.js';
import { containerdEngineDouble, type EngineDouble } from './support/containerd-engine.js';
import { tmpDir } from './support/tmp.js';

let double: EngineDouble | undefined;
const saved = process.env.DOCKER_HOST;
afterEach(async () => {
  await double?.close();
  double = undefined;
  if (saved === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved;
});

async function engineFor(opts: Parameters<typeof containerdEngineDouble>[0]): Promise<Engine> {
  double = await containerdEngineDouble(opts);
  process.env.DOCKER_HOST = `tcp://127.0.0.1:${double.port}`;
  return connectEngine({ timeoutMs: 5000 });
}

async function pushAsThePushCommandDoes(engine: Engine) {
  const platform = await pushPlatformFor(engine.docker, engine.apiVersion, 'amd64');
  const outcome = await pushAs(
    engine.docker,
    'li-engines-fn:latest',
    '127.0.0.1:5999/li-engines-fn',
    'v1',
    undefined,
    undefined,
    {
      recordDir: tmpDir(),
      owner: 'test',
      platform,
    },
  );
  const push = double!.calls.find((c) => c.startsWith('POST /images/127.0.0.1'))!;
  return { outcome, push };
}

describe('the containerd image store', () => {
  it('is told apart from the classic store by the snapshotter in /info', () => {
    expect(imageStoreOf({ DriverStatus: [['driver-type', 'io.containerd.snapshotter.v1']] })).toBe('containerd');
    expect(imageStoreOf({ DriverStatus: [['Backing Filesystem', 'extfs']] })).toBe('classic');
    expect(imageStoreOf({ DriverStatus: null })).toBe('classic');
  });

  it('a push names the platform, so the registry gets the amd64 manifest and not the index with its attestation', async () => {
    const engine = await engineFor({ store: 'containerd' });
    expect(engine.apiVersion).toBe('1.52');
    const { outcome, push } = await pushAsThePushCommandDoes(engine);
    expect(new URLSearchParams(push.split('?')[1]).get('platform')).toBe('{"os":"linux","architecture":"amd64"}');
    expect(outcome.digest).toBe(double!.digests.manifest);
    expect(outcome.digest).not.toBe(double!.digests.index);
  });

  it('the classic store, and APIs before 1.46 (which cannot choose), push without a platform', async () => {
    const classic = await pushAsThePushCommandDoes(await engineFor({ store: 'classic' }));
    expect(classic.push).not.toContain('platform=');
    expect(classic.outcome.digest).toBe(double!.digests.manifest);
    await double!.close();
    const old = await pushAsThePushCommandDoes(await engineFor({ store: 'containerd', apiVersion: '1.45' }));
    expect(old.push).not.toContain('platform=');
    // What that engine pushes is the index: the manifest check after the push refuses it (registry/verify).
    expect(old.outcome.digest).toBe(double!.digests.index);
  });

  it('the build report reads the ID (the index digest), architecture, layers and sizes as that store gives them', async () => {
    const engine = await engineFor({ store: 'containerd' });
    const facts = await inspectBuiltImage(imageClient(engine), 'li-engines-fn:latest', 'li-engines-missing-base:1');
    expect(facts.id).toBe(double!.digests.index);
    expect(facts).toMatchObject({ architecture: 'amd64', os: 'linux', size: 12_345_678, layers: 3 });
    expect(facts.breakdown.binary).toBe(2_000_000);
    expect(facts.breakdown.other).toBe(10_345_678);
  });
});
