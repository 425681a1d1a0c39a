// What `build` made, per variant, kept in the project's own state (.lambda-image/builds.json,
// never the user's lambda-image.json), so `push` and `deploy` ship that very image whatever
// --tag it was given. The build context never carries this file (it would bust the cache).
import path from 'node:path';
import { type Arch, OWN_DIR, VARIANTS, type VariantName } from '../config/constants.js';
import { readTextIfExists, writeFileAtomic } from '../util/fs.js';

export const BUILD_RECORD = `${OWN_DIR}/builds.json`;

export interface BuiltVariant {
  variant: VariantName;
  /** The tag the build gave it (name:tag, or name:tag-<variant> when several variants were built). */
  image: string;
  /** The image ID (sha256:...): what is shipped, even if the tag has moved since. */
  id: string;
  arch: Arch;
  builtAt: string;
}

export interface BuildRecord {
  /** The variants the latest `build` made, in order. */
  latest: VariantName[];
  variants: Partial<Record<VariantName, BuiltVariant>>;
}

/** The record, or undefined when there is none (or it is not one of ours: it is state, not input). */
export async function readBuildRecord(dir: string): Promise<BuildRecord | undefined> {
  const text = await readTextIfExists(path.join(dir, BUILD_RECORD));
  if (text === undefined) return undefined;
  try {
    const raw = JSON.parse(text) as BuildRecord;
    const variants: BuildRecord['variants'] = {};
    for (const name of VARIANTS) {
      const v = raw.variants?.[name];
      if (v && typeof v.image === 'string' && typeof v.id === 'string' && /^sha256:[a-f0-9]{64}$/.test(v.id))
        variants[name] = { ...v, variant: name };
    }
    const latest = (Array.isArray(raw.latest) ? raw.latest : []).filter((n) => variants[n]);
    return { latest, variants };
  } catch {
    return undefined;
  }
}

/** Records one build's images (the variants it made become `latest`); the others stay as they were. */
export async function recordBuild(dir: string, built: BuiltVariant[]): Promise<void> {
  const previous = await readBuildRecord(dir).catch(() => undefined);
  const record: BuildRecord = { latest: built.map((b) => b.variant), variants: { ...previous?.variants } };
  for (const b of built) record.variants[b.variant] = b;
  // Never through a link that leaves the project (util/fs's one rule for every write).
  await writeFileAtomic(path.join(dir, BUILD_RECORD), JSON.stringify(record, null, 2) + '\n', {
    root: dir,
    mkdir: true,
  });
}
