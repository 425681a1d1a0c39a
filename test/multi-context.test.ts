// A build of several functions packs the project once per variant: every function's build is
// sent the same snapshot (a file saved meanwhile cannot give functions different sources), from
// a temporary tar that is removed afterwards, also when a build fails.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildProject, planBuild } from '../src/app/build.js';
import type { Engine } from '../src/docker/engine.js';
import { runCli } from './support/cli.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';

const packedFolders = (names: string[]) => names.filter((f) => f.startsWith('lambda-image-context-'));

interface Seen {
  target: string;
  sha: string;
  bytes: number;
  tempFolders: string[];
}

/** An engine that reads each context to its end and remembers what it was sent. */
function recordingEngine(seen: Seen[], tmp: string, fail?: string): Engine {
  return {
    buildkit: true,
    platform: 'linux/amd64',
    docker: {
      buildImage: async (context: NodeJS.ReadableStream, options: Record<string, unknown>) => {
        const hash = createHash('sha256');
        let bytes = 0;
        for await (const chunk of context) {
          hash.update(chunk as Buffer);
          bytes += (chunk as Buffer).length;
        }
        seen.push({ target: String(options.target), sha: hash.digest('hex'), bytes, tempFolders: readdirSync(tmp) });
        const line = options.target === fail ? { errorDetail: { message: 'recorded' } } : { stream: 'done' };
        return Readable.from([JSON.stringify(line) + '\n']);
      },
      getImage: () => ({
        inspect: async () => ({
          Id: `sha256:${'1'.repeat(64)}`,
          Os: 'linux',
          Architecture: 'amd64',
          Size: 100,
          RootFS: { Layers: ['a'] },
          // As a reproducible build leaves it (config time fixed): nothing to rewrite.
          Created: '1970-01-01T00:00:00Z',
        }),
        history: async () => [{ CreatedBy: 'COPY /out/x /var/runtime/bootstrap', Size: 100 }],
      }),
    },
  } as unknown as Engine;
}

describe('the build context of a project of several functions', () => {
  let tmp: string;
  const saved = process.env.TMPDIR;
  beforeEach(() => {
    tmp = path.join(tmpDir(), 'os-tmp');
    mkdirSync(tmp);
    process.env.TMPDIR = tmp; // os.tmpdir() reads it: the packed context lands where the test looks
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  });

  async function project() {
    const dir = fixtureCopy('go-multi');
    expect((await runCli(['init', dir, '--base', 'alpine'])).code).toBe(0);
    mkdirSync(path.join(dir, 'assets'));
    appendFileSync(path.join(dir, 'assets/blob.bin'), Buffer.alloc(200_000, 7));
    return dir;
  }

  it('sends every function the one snapshot packed for the variant, and removes it after', async () => {
    const dir = await project();
    const seen: Seen[] = [];
    const plan = await planBuild(dir, { registryAuth: async () => undefined, variants: ['alpine', 'aws'] });
    const result = await buildProject(recordingEngine(seen, tmp), plan, {
      // A file saved while the functions build (after the first one started).
      onImage: ({ function: fn }) => {
        if (fn === 'notify') appendFileSync(path.join(dir, 'assets/blob.bin'), 'saved meanwhile');
      },
    });
    expect(seen).toHaveLength(10);
    const alpine = seen.slice(0, 5);
    const aws = seen.slice(5);
    // One snapshot per variant: the same bytes for each function (the variants' Dockerfiles differ).
    expect(new Set(alpine.map((s) => s.sha)).size).toBe(1);
    expect(new Set(aws.map((s) => s.sha)).size).toBe(1);
    expect(alpine[0]!.sha).not.toBe(aws[0]!.sha);
    // Packed to one temporary file while building, gone afterwards.
    for (const s of seen) expect(packedFolders(s.tempFolders)).toHaveLength(1);
    expect(packedFolders(readdirSync(tmp))).toEqual([]);
    // The report counts what each build was sent.
    expect(result.context.map((c) => c.sentBytes)).toEqual(seen.map((s) => s.bytes));
  });

  it('removes the packed context when a function build fails', async () => {
    const dir = await project();
    const seen: Seen[] = [];
    const plan = await planBuild(dir, { registryAuth: async () => undefined });
    await expect(buildProject(recordingEngine(seen, tmp, 'fn-orders'), plan)).rejects.toMatchObject({
      code: 'BUILD_FAILED',
    });
    expect(seen.map((s) => s.target)).toEqual(['fn-inventory', 'fn-notify', 'fn-orders']);
    expect(packedFolders(seen[0]!.tempFolders)).toHaveLength(1);
    expect(packedFolders(readdirSync(tmp))).toEqual([]);
  });
});
