// `add-extension`: fetch a layer (by ARN, or from a zip), verify it, unpack it safely into a
// staging folder, then, holding the config lock, check it fits the image, move it into place,
// record it in lambda-image.json and re-render the Dockerfile. Parallel runs all land; a failed
// or interrupted run leaves no folder behind.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, LAYERS_DIR } from '../config/constants.js';
import { type FunctionsEdit, giveExtension } from '../config/function-extensions.js';
import { selectFunctions } from '../config/functions.js';
import type { Config, ExtensionEntry } from '../config/schema.js';
import { loadConfig } from '../config/store.js';
import { LambdaImageError } from '../errors.js';
import { readDockerignore } from '../docker/dockerignore.js';
import { checkConflicts, planProjectFiles, writePlan, type PlannedFile } from '../project/files.js';
import { parseLayerArn } from '../layers/arn.js';
import { getLayerVersion, type AwsOptions } from '../layers/aws.js';
import { lookupLayer, recordLayer, zipPath } from '../layers/cache.js';
import { downloadVerified, hashFile } from '../layers/download.js';
import { elfMachineFor, isGlibcLoader, readElf } from '../util/elf.js';
import {
  makeStagingDir,
  ownLayerDir,
  pruneEmptyOwnDirs,
  removeOwnLayerDir,
  sweepStaging,
  sweepUnrecorded,
  withConfigLock,
} from '../layers/project-tree.js';
import { DEFAULT_LIMITS, unzipSafely, type UnzipResult } from '../layers/unzip.js';
import { ioError } from '../util/fs.js';
import { typedPath } from '../util/paths.js';

export { LAYERS_DIR };

export interface AddOptions extends AwsOptions {
  force?: boolean;
  /** Add from a zip on disk instead of an ARN. */
  fromZip?: string;
  /** Name and version for --from-zip (default: the file name, version 1). */
  name?: string;
  version?: number;
  /** Ctrl-C: stops downloading or unpacking, removes what this run made, throws INTERRUPTED. */
  signal?: AbortSignal;
  /** A project of several: give the layer to these functions only (`--function`, repeatable). */
  function?: string[];
}

export interface AddHooks {
  onStep?(text: string): void;
  onDownload?(received: number, total: number): void;
}

export interface AddResult {
  action: 'added' | 'replaced' | 'unchanged';
  entry: ExtensionEntry;
  replaced?: ExtensionEntry;
  warnings: string[];
  files: PlannedFile[];
  fromCache: boolean;
  /** With `--function` in a project of several: the functions named, given the layer (not all held it before). */
  givenTo?: string[];
  /** Functions that were given an explicit `extensions` list so they do not gain the layer. */
  pinned: string[];
  /** A project of several, no `--function`: functions whose own list leaves the layer out. */
  without: string[];
}

interface Source {
  name: string;
  version: number;
  arn?: string;
  zip: string;
  sha256: string;
  architectures: string[];
  fromCache: boolean;
}

export function interrupted(): LambdaImageError {
  return new LambdaImageError(
    'INTERRUPTED',
    'interrupted: nothing was added, and what this run had unpacked was removed',
    {
      hint: 'run the command again to add the layer',
    },
  );
}

export async function addExtension(
  dir: string,
  arn: string | undefined,
  opts: AddOptions,
  hooks: AddHooks = {},
): Promise<AddResult> {
  const { signal } = opts;
  try {
    return await addUnlessInterrupted(dir, arn, opts, hooks);
  } catch (err) {
    // Whatever broke while stopping (an aborted download, a half-read zip), the cause is Ctrl-C.
    if (signal?.aborted) throw interrupted();
    throw err;
  }
}

async function addUnlessInterrupted(
  dir: string,
  arn: string | undefined,
  opts: AddOptions,
  hooks: AddHooks,
): Promise<AddResult> {
  const { signal } = opts;
  const first = await loadConfig(dir);
  // The function is checked before anything is fetched (an unknown name lists the known ones).
  const named = opts.function?.length ? selectFunctions(first, opts.function).filter((f) => f.entry) : [];
  const target = named.length ? named.map((f) => f.name) : undefined;
  const edit = (config: Config, name: string): FunctionsEdit | undefined =>
    target === undefined ? undefined : giveExtension(config, name, target);
  const source = opts.fromZip ? await zipSource(opts) : await arnSource(arn!, first, opts, hooks);
  signal?.throwIfAborted();
  const known = first.extensions.find((e) => e.name === source.name);
  if (
    known &&
    known.version === source.version &&
    known.sha256 === source.sha256 &&
    !edit(first, source.name)?.changed
  ) {
    return {
      action: 'unchanged',
      entry: known,
      warnings: [],
      files: [],
      fromCache: source.fromCache,
      pinned: [],
      without: [],
    };
  }

  // Unpacking takes the time and needs no lock; parallel runs unpack side by side.
  const staging = await makeStagingDir(dir);
  let committed = false;
  try {
    hooks.onStep?.(`unpacking ${source.name} version ${source.version}`);
    const unpacked = await unzipSafely(source.zip, staging, DEFAULT_LIMITS, signal);
    signal?.throwIfAborted();
    const result = await withConfigLock(
      dir,
      async () => {
        await sweepStaging(dir);
        // Re-read inside the lock: another run may have added or replaced layers meanwhile.
        const config = await loadConfig(dir);
        if (source.arn) checkArchitectures(source.architectures, config, source.arn, opts.force);
        const existing = config.extensions.find((e) => e.name === source.name);
        const shares = edit(config, source.name);
        if (existing && existing.version === source.version && existing.sha256 === source.sha256) {
          if (!shares?.changed)
            return {
              action: 'unchanged' as const,
              entry: existing,
              warnings: [],
              files: [],
              fromCache: source.fromCache,
              pinned: [],
              without: [],
            };
          // The project has this very layer: only the function's list changes (config, Dockerfile).
          const plan = await planProjectFiles(
            dir,
            { ...config, functions: shares.functions },
            { includeConfig: true, replaceGenerated: true },
          );
          const warnings = [...plan.warnings, ...checkConflicts(plan, opts.force ?? false)];
          signal?.throwIfAborted();
          await writePlan(dir, plan);
          return {
            action: 'unchanged' as const,
            entry: existing,
            warnings,
            files: plan.files,
            fromCache: source.fromCache,
            givenTo: target,
            pinned: shares.pinned,
            without: [],
          };
        }
        const warnings = await checkContent(staging, unpacked, config, opts.force ?? false);
        const entryDir = `${LAYERS_DIR}/${source.name}-${source.version}`;
        const entry: ExtensionEntry = {
          name: source.name,
          version: source.version,
          ...(source.arn ? { arn: source.arn } : {}),
          sha256: source.sha256,
          architectures: source.architectures.filter((a): a is 'x86_64' | 'arm64' => a === 'x86_64' || a === 'arm64'),
          dir: entryDir,
          size: unpacked.bytes,
          files: unpacked.files,
        };
        const next: Config = {
          ...config,
          extensions: [...config.extensions.filter((e) => e.name !== source.name), entry],
          ...(shares ? { functions: shares.functions } : {}),
        };
        const plan = await planProjectFiles(dir, next, { includeConfig: true, replaceGenerated: true });
        warnings.push(...plan.warnings, ...checkConflicts(plan, opts.force ?? false));
        if ((await readDockerignore(dir)).ignores(`${entryDir}/x`)) {
          warnings.push(
            `.dockerignore excludes ${entryDir}: builds will not find the layer; add "!${LAYERS_DIR}" to it`,
          );
        }
        // The last moment to back out cleanly; from here on the commit runs to its end.
        signal?.throwIfAborted();
        for (const swept of await sweepUnrecorded(
          dir,
          config.extensions.map((e) => e.dir),
        )) {
          warnings.push(`removed ${swept}: no layer in ${CONFIG_FILE} uses it (left by an interrupted run)`);
        }
        await commit(dir, staging, entryDir, () => writePlan(dir, plan));
        committed = true;
        if (existing && existing.dir !== entryDir) await removeOwnLayerDir(dir, existing.dir);
        return {
          action: existing ? ('replaced' as const) : ('added' as const),
          entry,
          replaced: existing,
          warnings,
          files: plan.files,
          fromCache: source.fromCache,
          givenTo: shares?.changed || !existing ? target : undefined,
          pinned: shares?.pinned ?? [],
          // Without --function, the functions whose own lists leave it out (said, not changed).
          without: Object.entries(target === undefined ? (next.functions ?? {}) : {})
            .filter(([, f]) => f.extensions && !f.extensions.includes(source.name))
            .map(([name]) => name),
        };
      },
      { signal, onWait: () => hooks.onStep?.(`waiting for another lambda-image run to finish editing ${CONFIG_FILE}`) },
    );
    return result;
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
    // A failed first add leaves the project as it was: no empty .lambda-image folders either.
    // Only if no other run holds the lock (it may be about to move a layer into them); never wait.
    if (!committed) await withConfigLock(dir, () => pruneEmptyOwnDirs(dir), { waitMs: 0 }).catch(() => undefined);
  }
}

/**
 * Moves the staged layer to `entryDir` and writes the config and Dockerfile; if writing fails,
 * the folder goes and any folder it displaced comes back, so the config and the tree agree.
 */
async function commit(dir: string, staging: string, entryDir: string, write: () => Promise<void>): Promise<void> {
  const finalDir = path.join(dir, entryDir);
  await fs.mkdir(path.dirname(finalDir), { recursive: true }).catch((err) => {
    throw ioError(err, `cannot create ${LAYERS_DIR}`);
  });
  const displaced = await ownLayerDir(dir, entryDir);
  const aside = `${staging}.old`;
  if (displaced) await fs.rename(displaced, aside);
  let placed = false;
  try {
    await fs.rename(staging, finalDir).catch((err) => {
      throw ioError(err, `cannot move the layer into ${entryDir}`);
    });
    placed = true;
    await write();
  } catch (err) {
    if (placed) await fs.rm(finalDir, { recursive: true, force: true });
    if (displaced) await fs.rename(aside, finalDir);
    throw err;
  }
  if (displaced) await fs.rm(aside, { recursive: true, force: true });
}

async function arnSource(arn: string, config: Config, opts: AddOptions, hooks: AddHooks): Promise<Source> {
  const layer = parseLayerArn(arn);
  const cached = await lookupLayer(layer.arn);
  if (cached) {
    checkArchitectures(cached.architectures, config, layer.arn, opts.force);
    hooks.onStep?.(`using the cached copy of ${layer.name} version ${layer.version}`);
    return {
      name: layer.name,
      version: layer.version,
      arn: layer.arn,
      zip: cached.file,
      sha256: cached.sha256,
      architectures: cached.architectures,
      fromCache: true,
    };
  }
  hooks.onStep?.(`looking up ${layer.name} version ${layer.version} in ${opts.region ?? layer.region}`);
  const info = await getLayerVersion(layer, opts);
  checkArchitectures(info.architectures, config, layer.arn, opts.force);
  hooks.onStep?.(`downloading ${layer.name} version ${layer.version} (${info.size} bytes)`);
  const zip = zipPath(info.sha256);
  await downloadVerified(info.location, zip, {
    expectedSize: info.size,
    expectedSha256: info.sha256,
    onProgress: hooks.onDownload,
    signal: opts.signal,
  });
  await recordLayer(layer.arn, { sha256: info.sha256, size: info.size, architectures: info.architectures });
  return {
    name: layer.name,
    version: layer.version,
    arn: layer.arn,
    zip,
    sha256: info.sha256,
    architectures: info.architectures,
    fromCache: false,
  };
}

async function zipSource(opts: AddOptions): Promise<Source> {
  const zip = typedPath(opts.fromZip!); // typed: relative to the working directory
  const st = await fs.stat(zip).catch(() => undefined);
  if (!st?.isFile()) {
    throw new LambdaImageError('INVALID_INPUT', `${opts.fromZip} does not exist or is not a file`, {
      hint: 'pass the path of a layer zip to --from-zip',
    });
  }
  const name =
    opts.name ??
    path
      .basename(zip)
      .replace(/\.zip$/i, '')
      .replace(/[^A-Za-z0-9_-]+/g, '-');
  if (!/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new LambdaImageError('INVALID_INPUT', `"${name}" is not a usable layer name`, {
      hint: 'pass --name <letters, digits, - and _>',
    });
  }
  const { sha256 } = await hashFile(zip);
  return { name, version: opts.version ?? 1, zip, sha256, architectures: [], fromCache: false };
}

function checkArchitectures(architectures: string[], config: Config, arn: string, force = false): void {
  if (!architectures.length || architectures.includes(config.arch) || force) return;
  throw new LambdaImageError(
    'INCOMPATIBLE_LAYER',
    `${arn} is published for ${architectures.join(', ')}, and this image is ${config.arch}`,
    {
      hint: 'use the layer ARN for your architecture (extensions publish one per architecture), or --force if you know better',
    },
  );
}

/** ELF machine types against the target, glibc binaries on musl, non-executables in extensions/. */
async function checkContent(root: string, unpacked: UnzipResult, config: Config, force: boolean): Promise<string[]> {
  const warnings: string[] = [];
  const wanted = elfMachineFor(config.arch);
  for (const file of unpacked.entries) {
    if (!file.path.startsWith('extensions/')) continue;
    if ((file.mode & 0o111) === 0) {
      warnings.push(`${file.path} is not executable: Lambda only starts executable files in /opt/extensions`);
    }
    const handle = await fs.open(path.join(root, file.path), 'r');
    const head = Buffer.alloc(Math.min(file.size, 64 * 1024));
    try {
      await handle.read(head, 0, head.length, 0);
    } finally {
      await handle.close();
    }
    const elf = readElf(head);
    if (!elf) continue;
    if (elf.machine !== wanted && !force) {
      throw new LambdaImageError(
        'INCOMPATIBLE_LAYER',
        `${file.path} is an ${elf.machine} binary, and this image is ${config.arch}`,
        {
          hint: `use the layer built for ${config.arch}, or --force if you know better`,
        },
      );
    }
    if (elf.machine !== wanted)
      warnings.push(`${file.path} is an ${elf.machine} binary in an ${config.arch} image (--force)`);
    if (config.base === 'alpine' && isGlibcLoader(elf.interpreter)) {
      warnings.push(
        `${file.path} needs glibc (${elf.interpreter}), which alpine (musl) does not have: it will not start there; use --base aws`,
      );
    }
  }
  return warnings;
}
