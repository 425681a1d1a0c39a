// `extensions list` and `extensions remove`: the layers recorded in lambda-image.json.
// Removal edits the config under the project's lock and deletes only inside .lambda-image/layers.
import path from 'node:path';
import type { ExtensionEntry } from '../config/schema.js';
import { loadConfig } from '../config/store.js';
import { LambdaImageError } from '../errors.js';
import { ownLayerDir, removeOwnLayerDir, sweepUnrecorded, withConfigLock } from '../layers/project-tree.js';
import { checkConflicts, planProjectFiles, writePlan } from '../project/files.js';

/** The extensions (layers) recorded in the project's lambda-image.json; the image's own /opt/extensions is listImageExtensions. */
export async function listProjectExtensions(dir: string): Promise<ExtensionEntry[]> {
  return (await loadConfig(dir)).extensions;
}

export async function removeExtension(
  dir: string,
  name: string,
  force = false,
): Promise<{ removed: ExtensionEntry; warnings: string[] }> {
  await loadConfig(dir); // a missing or invalid config is reported before any lock is taken
  return withConfigLock(dir, async () => {
    const config = await loadConfig(dir);
    const removed = config.extensions.find((e) => e.name === name);
    if (!removed) {
      const known = config.extensions.map((e) => e.name);
      throw new LambdaImageError(
        'INVALID_INPUT',
        `no extension named "${name}" in ${path.join(dir, 'lambda-image.json')}`,
        {
          hint: known.length ? `the project has: ${known.join(', ')}` : 'the project has no extensions',
        },
      );
    }
    // Check the folder before writing anything, so a refusal leaves config and files as they were.
    await ownLayerDir(dir, removed.dir);
    const next = { ...config, extensions: config.extensions.filter((e) => e.name !== name) };
    const plan = await planProjectFiles(dir, next, { includeConfig: true, replaceGenerated: true });
    const warnings = [...plan.warnings, ...checkConflicts(plan, force)];
    await writePlan(dir, plan);
    await removeOwnLayerDir(dir, removed.dir);
    for (const swept of await sweepUnrecorded(
      dir,
      next.extensions.map((e) => e.dir),
    )) {
      warnings.push(`removed ${swept}: no layer in lambda-image.json uses it (left by an interrupted run)`);
    }
    return { removed, warnings };
  });
}
