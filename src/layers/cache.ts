// The local cache of verified layer zips: keyed by SHA-256, with an index from layer version
// ARN to hash, so re-adding a layer needs no network.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readTextIfExists, writeFileAtomic } from '../util/fs.js';

export function cacheDir(): string {
  if (process.env.LAMBDA_IMAGE_CACHE_DIR) return process.env.LAMBDA_IMAGE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'lambda-image');
}

export interface CachedLayer {
  sha256: string;
  size: number;
  architectures: string[];
}

const indexFile = () => path.join(cacheDir(), 'layers', 'index.json');
export const zipPath = (sha256: string) => path.join(cacheDir(), 'layers', `${sha256}.zip`);

async function readIndex(): Promise<Record<string, CachedLayer>> {
  const text = await readTextIfExists(indexFile());
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, CachedLayer>;
  } catch {
    return {}; // a damaged index only costs a download
  }
}

/** The cached zip for a layer version ARN, if present with the recorded size. */
export async function lookupLayer(arn: string): Promise<(CachedLayer & { file: string }) | undefined> {
  const entry = (await readIndex())[arn];
  if (!entry) return undefined;
  const file = zipPath(entry.sha256);
  const st = await fs.stat(file).catch(() => undefined);
  return st?.size === entry.size ? { ...entry, file } : undefined;
}

export async function recordLayer(arn: string, entry: CachedLayer): Promise<void> {
  await fs.mkdir(path.dirname(indexFile()), { recursive: true });
  // Parallel add-extension runs each add their own ARN: read, change and write under a lock,
  // or one run's entry is lost (it would only cost a download, but it is avoidable).
  const lockfile = (await import('proper-lockfile')).default;
  const release = await lockfile
    .lock(indexFile(), { realpath: false, stale: 10_000, retries: { retries: 40, minTimeout: 25, maxTimeout: 250 } })
    .catch(() => undefined); // a cache we cannot lock is still worth writing
  try {
    const index = await readIndex();
    index[arn] = entry;
    await writeFileAtomic(indexFile(), JSON.stringify(index, null, 2) + '\n', { root: cacheDir() });
  } finally {
    await release?.().catch(() => undefined);
  }
}
