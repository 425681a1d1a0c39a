// `extensions list` and `extensions remove`: the layers recorded in lambda-image.json.
// Removal edits the config under the project's lock and deletes only inside .lambda-image/layers.
import path from 'node:path';
import { dropExtension, extensionUsers, takeExtension } from '../config/function-extensions.js';
import { selectFunctions } from '../config/functions.js';
import type { Config, ExtensionEntry } from '../config/schema.js';
import { loadConfig } from '../config/store.js';
import { LambdaImageError } from '../errors.js';
import { ownLayerDir, removeOwnLayerDir, sweepUnrecorded, withConfigLock } from '../layers/project-tree.js';
import { checkConflicts, planProjectFiles, writePlan } from '../project/files.js';

/** A layer of the project, and (in a project of several) the functions whose images hold it. */
export type ListedExtension = ExtensionEntry & { functions?: string[] };

/**
 * The extensions (layers) recorded in the project's lambda-image.json, or those one function's
 * image holds (`--function`); the image's own /opt/extensions is listImageExtensions.
 */
export async function listProjectExtensions(dir: string, fns?: readonly string[]): Promise<ListedExtension[]> {
  const config = await loadConfig(dir);
  if (fns !== undefined && new Set(fns).size > 1)
    throw new LambdaImageError(
      'INVALID_INPUT',
      `extensions list shows one function's layers, and --function was given ${new Set(fns).size} times (${[...new Set(fns)].join(', ')})`,
      {
        hint: 'give --function once, or none: the list then says which functions hold each layer (FUNCTIONS)',
      },
    );
  if (fns?.length) return selectFunctions(config, fns)[0]!.config.extensions;
  if (!config.functions) return config.extensions;
  return config.extensions.map((e) => ({ ...e, functions: extensionUsers(config, e.name) }));
}

export interface RemoveResult {
  removed: ExtensionEntry;
  warnings: string[];
  /** With `--function`: the layer left that function only; the project keeps it for the others. */
  takenFrom?: string[];
  /** Functions given an explicit list so they keep what they hold. */
  pinned: string[];
  /** The layer left the project (config, files, Dockerfile): no function holds it any more. */
  removedFromProject: boolean;
}

export async function removeExtension(
  dir: string,
  name: string,
  force = false,
  fns?: readonly string[],
): Promise<RemoveResult> {
  const first = await loadConfig(dir); // a missing or invalid config is reported before any lock is taken
  const named = fns?.length ? selectFunctions(first, fns).filter((f) => f.entry) : [];
  const target = named.length ? named.map((f) => f.name) : undefined;
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
    const pinned: string[] = [];
    let shared: Config | undefined;
    if (target !== undefined) {
      // Every function named gives it up, or none does (checked before anything is written).
      let edited: Config = config;
      for (const fn of target) {
        const taken = takeExtension(edited, name, fn);
        if (!taken.changed)
          throw new LambdaImageError('INVALID_INPUT', `function ${fn} does not hold the extension "${name}"`, {
            hint: `it is in the images of: ${extensionUsers(config, name).join(', ') || 'no function'}`,
          });
        pinned.push(...taken.pinned);
        edited = { ...edited, functions: taken.functions };
      }
      // Other functions still hold it: only the named functions' lists change.
      if (extensionUsers(edited, name).length) shared = edited;
    }
    if (shared) {
      const plan = await planProjectFiles(dir, shared, { includeConfig: true, replaceGenerated: true });
      const warnings = [...plan.warnings, ...checkConflicts(plan, force)];
      await writePlan(dir, plan);
      return { removed, warnings, takenFrom: target, pinned, removedFromProject: false };
    }
    // Check the folder before writing anything, so a refusal leaves config and files as they were.
    await ownLayerDir(dir, removed.dir);
    const next: Config = {
      ...config,
      extensions: config.extensions.filter((e) => e.name !== name),
      // Out of every function's list too: a list may only name the project's layers.
      ...(config.functions ? { functions: dropExtension(config, name) } : {}),
    };
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
    return { removed, warnings, takenFrom: target, pinned: [], removedFromProject: true };
  });
}
