// Planning and writing the generated project files (Dockerfile, entry.sh, .dockerignore,
// lambda-image.json): what would change, what conflicts, and atomic writes.
import path from 'node:path';
import { CONFIG_FILE, serializeConfig, type Config } from '../config/schema.js';
import { LambdaImageError } from '../errors.js';
import { exists, readTextIfExists, resolveInside, writeFileAtomic } from '../util/fs.js';
import { dockerfileOrigin, renderDockerignore, renderEntryScript, renderVariantFiles } from '../render/render.js';
import { specFromConfig } from '../render/variant.js';

export type FileAction = 'create' | 'overwrite' | 'unchanged';

export interface PlannedFile {
  path: string;
  content: string;
  mode: number;
  action: FileAction;
  /** Set when an existing file differs and is not a lambda-image file left untouched. */
  conflict?: 'exists' | 'hand-edited';
}

export interface FilePlan {
  files: PlannedFile[];
  warnings: string[];
}

export interface PlanOptions {
  /** Write lambda-image.json too (init does; regenerations after a config change do as well). */
  includeConfig: boolean;
  /**
   * How to treat an existing generated Dockerfile that differs: init asks for --force for any
   * difference; a regeneration after a config change replaces an untouched generated file.
   */
  replaceGenerated: boolean;
}

/** Works out every file the config implies and how each compares with what is on disk. */
export async function planProjectFiles(dir: string, config: Config, opts: PlanOptions): Promise<FilePlan> {
  // The Dockerfile on disk is for BuildKit (every current Docker's default builder); build
  // renders its own for the engine it talks to. vendor/modules.txt means a vendored build.
  const goVendor = config.runtime === 'go' && (await exists(path.join(dir, 'vendor', 'modules.txt')));
  const { spec, warnings } = specFromConfig(config, { goVendor });
  const rendered = renderVariantFiles(spec);
  const wanted: Array<{ path: string; content: string; mode: number; onlyIfAbsent?: boolean }> = [
    { path: 'Dockerfile', content: rendered.Dockerfile, mode: 0o644 },
  ];
  if (rendered['entry.sh']) wanted.push({ path: 'entry.sh', content: rendered['entry.sh'], mode: 0o755 });
  wanted.push({ path: '.dockerignore', content: renderDockerignore(), mode: 0o644, onlyIfAbsent: true });
  if (opts.includeConfig) wanted.push({ path: CONFIG_FILE, content: serializeConfig(config), mode: 0o644 });

  const files: PlannedFile[] = [];
  for (const w of wanted) {
    const current = await readTextIfExists(path.join(dir, w.path));
    if (current === undefined) {
      files.push({ ...w, action: 'create' });
    } else if (current === w.content || w.onlyIfAbsent) {
      files.push({ ...w, content: current, action: 'unchanged' });
    } else {
      const conflict = opts.replaceGenerated && isOurs(w.path, current) ? undefined : conflictKind(w.path, current);
      files.push({ ...w, action: 'overwrite', conflict });
    }
  }
  return { files, warnings };
}

/** Whether a file on disk is one lambda-image wrote and nobody has edited since. */
function isOurs(file: string, current: string): boolean {
  if (file === 'Dockerfile') return dockerfileOrigin(current) === 'generated';
  if (file === 'entry.sh') return current === renderEntryScript();
  return file === CONFIG_FILE;
}

function conflictKind(file: string, current: string): 'exists' | 'hand-edited' {
  return file === 'Dockerfile' && dockerfileOrigin(current) === 'hand-edited' ? 'hand-edited' : 'exists';
}

/** Throws FILE_EXISTS listing every conflicting file, unless force is set. Returns warnings for forced overwrites. */
export function checkConflicts(plan: FilePlan, force: boolean): string[] {
  const conflicts = plan.files.filter((f) => f.conflict);
  if (!conflicts.length) return [];
  if (!force) {
    const handEdited = conflicts.some((f) => f.conflict === 'hand-edited');
    throw new LambdaImageError(
      'FILE_EXISTS',
      `would overwrite ${conflicts.map((f) => (f.conflict === 'hand-edited' ? `${f.path} (hand-edited)` : f.path)).join(', ')}`,
      {
        hint: handEdited
          ? 'move your edits into lambda-image.json, or pass --force to replace the file (your edits will be lost)'
          : 'pass --force to overwrite them, or run in another directory',
      },
    );
  }
  return conflicts
    .filter((f) => f.conflict === 'hand-edited')
    .map((f) => `replacing hand edits in ${f.path} (--force)`);
}

/** Writes every file that changes, each atomically. The config goes last: it records what was written. */
export async function writePlan(dir: string, plan: FilePlan): Promise<void> {
  const order = [...plan.files]
    .filter((f) => f.action !== 'unchanged')
    .sort((a, b) => Number(a.path === CONFIG_FILE) - Number(b.path === CONFIG_FILE));
  // Every target is checked before the first write: a link out of the project stops the plan with nothing written.
  for (const f of order) await resolveInside(dir, path.join(dir, f.path));
  for (const f of order) await writeFileAtomic(path.join(dir, f.path), f.content, { root: dir, mode: f.mode });
}
