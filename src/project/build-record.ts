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

/** The file: one function's record at the top (as before), and each function's of a project of several. */
interface BuildRecordFile extends Partial<BuildRecord> {
  functions?: Record<string, Partial<BuildRecord>>;
}

async function readRecordFile(dir: string): Promise<BuildRecordFile | undefined> {
  const text = await readTextIfExists(path.join(dir, BUILD_RECORD));
  if (text === undefined) return undefined;
  try {
    const raw = JSON.parse(text) as unknown;
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as BuildRecordFile) : undefined;
  } catch {
    return undefined;
  }
}

/** The function's part of the file (multi: under functions.<name>; one function: the top). */
function partOf(file: BuildRecordFile, fn: string | undefined): Partial<BuildRecord> | undefined {
  if (fn === undefined) return file;
  const functions = typeof file.functions === 'object' && file.functions !== null ? file.functions : {};
  return Object.hasOwn(functions, fn) ? functions[fn] : undefined;
}

/**
 * The record of the project (or, with `fn`, of that function of a project of several), or
 * undefined when there is none (or it is not one of ours: it is state, not input).
 */
export async function readBuildRecord(dir: string, fn?: string): Promise<BuildRecord | undefined> {
  const file = await readRecordFile(dir);
  if (!file) return undefined;
  return checkedRecord(partOf(file, fn));
}

function checkedRecord(raw: Partial<BuildRecord> | undefined): BuildRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const variants: BuildRecord['variants'] = {};
  for (const name of VARIANTS) {
    const v = raw.variants?.[name];
    if (v && typeof v.image === 'string' && typeof v.id === 'string' && /^sha256:[a-f0-9]{64}$/.test(v.id))
      variants[name] = { ...v, variant: name };
  }
  const latest = (Array.isArray(raw.latest) ? raw.latest : []).filter((n) => variants[n]);
  return { latest, variants };
}

/**
 * Records one build's images (the variants it made become `latest`); the others stay as they
 * were. With `fn`, the images are that function's (a project of several): the other
 * functions' records stay as they were.
 */
export async function recordBuild(dir: string, built: BuiltVariant[], fn?: string): Promise<void> {
  const file = (await readRecordFile(dir).catch(() => undefined)) ?? {};
  const previous = checkedRecord(partOf(file, fn));
  const record: BuildRecord = { latest: built.map((b) => b.variant), variants: { ...previous?.variants } };
  for (const b of built) record.variants[b.variant] = b;
  let next: BuildRecordFile;
  if (fn === undefined) next = { ...record, ...(file.functions ? { functions: file.functions } : {}) };
  else {
    const functions: Record<string, Partial<BuildRecord>> = {};
    for (const [name, part] of Object.entries(file.functions ?? {})) {
      const kept = checkedRecord(part);
      if (kept) functions[name] = kept;
    }
    functions[fn] = record;
    next = { ...checkedRecord(file), functions };
  }
  // Never through a link that leaves the project (util/fs's one rule for every write).
  await writeFileAtomic(path.join(dir, BUILD_RECORD), JSON.stringify(next, null, 2) + '\n', {
    root: dir,
    mkdir: true,
  });
}
