// `extensions list` and `extensions remove`: the layers recorded in lambda-image.json.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExtensionEntry } from '../config/schema.js';
import { loadConfig } from '../config/store.js';
import { LambdaImageError } from '../errors.js';
import { checkConflicts, planProjectFiles, writePlan } from '../project/files.js';

/** The extensions (layers) recorded in the project's lambda-image.json; the image's own /opt/extensions is listImageExtensions. */
export async function listProjectExtensions(dir: string): Promise<ExtensionEntry[]> {
  return (await loadConfig(dir)).extensions;
}

export async function removeExtension(dir: string, name: string, force = false): Promise<{ removed: ExtensionEntry; warnings: string[] }> {
  const config = await loadConfig(dir);
  const removed = config.extensions.find((e) => e.name === name);
  if (!removed) {
    const known = config.extensions.map((e) => e.name);
    throw new LambdaImageError('INVALID_INPUT', `no extension named "${name}" in ${path.join(dir, 'lambda-image.json')}`, {
      hint: known.length ? `the project has: ${known.join(', ')}` : 'the project has no extensions',
    });
  }
  const next = { ...config, extensions: config.extensions.filter((e) => e.name !== name) };
  const plan = await planProjectFiles(dir, next, { includeConfig: true, replaceGenerated: true });
  const warnings = [...plan.warnings, ...checkConflicts(plan, force)];
  await writePlan(dir, plan);
  await fs.rm(path.join(dir, removed.dir), { recursive: true, force: true });
  return { removed, warnings };
}
