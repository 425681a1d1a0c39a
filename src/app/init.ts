// `init`: reads the user's project and options, and plans the config and generated files.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import {
  CONFIG_FILE,
  validateConfig,
  type Arch,
  type Base,
  type Config,
  type FunctionEntry,
  type Runtime,
} from '../config/schema.js';
import { loadConfigIfExists } from '../config/store.js';
import { LambdaImageError } from '../errors.js';
import { withConfigLock } from '../layers/project-tree.js';
import { checkConflicts, planProjectFiles, writePlan, type FilePlan } from '../project/files.js';
import { checkBinary, checkMainPackage, readGoModule, typedHint } from '../project/go-module.js';
import { checkBinaryArch } from '../project/binary-arch.js';
import { type BuildTarget, lambdaTarget } from '../project/build-constraints.js';
import { findMainPackages, mainPackageProblem, nameMainPackages, parseFunctionFlag } from '../project/main-packages.js';
import type { GoModuleMode } from '../config/constants.js';
import { insideProject, typedPath } from '../util/paths.js';

export interface InitOptions {
  runtime?: Runtime;
  base?: Base;
  rie?: boolean;
  arch?: Arch;
  /** --base-image as build takes it: `own` (a bare <ref>) or per family (aws=<ref>); only this project's family is kept. */
  baseImages?: Partial<Record<Base | 'own', string>>;
  builderImage?: string;
  goVersion?: string;
  name?: string;
  /** Paths as the user typed them: relative to the working directory (see src/util/paths.ts). */
  main?: string;
  binary?: string;
  /** --function <name>=<dir> (repeatable, dirs as typed): the project's functions, named. */
  functions?: string[];
  force?: boolean;
  dryRun?: boolean;
  goModules?: GoModuleMode;
}

export interface InitResult {
  config: Config;
  /** The main packages found (or named with --function), each a function; one: a one-function project. */
  found: Array<{ name: string; main: string }>;
  /** Re-initialising a project of several: the functions it did not list before (their names). */
  added: string[];
  /** ... and the ones it listed whose main package is gone (dropped from the config). */
  dropped: Array<{ name: string; main: string }>;
  plan: FilePlan;
  warnings: string[];
  written: boolean;
}

export async function initProject(dir: string, opts: InitOptions): Promise<InitResult> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    throw new LambdaImageError('INVALID_INPUT', `${dir} is not a directory`, {
      hint: 'pass the directory of your function',
    });
  }
  const warnings: string[] = [];
  const runtime: Runtime = opts.runtime ?? (opts.binary ? 'provided' : 'go');
  let found: InitResult['found'] = [];
  let added: string[] = [];
  let dropped: InitResult['dropped'] = [];
  let functions: Array<{ name: string; main: string }> | undefined;
  const base = opts.base ?? 'aws';
  const draft: Record<string, unknown> = {
    name: opts.name ?? defaultImageName(dir),
    runtime,
    base,
    rie: opts.rie ?? false,
    arch: opts.arch ?? 'x86_64',
    baseImage: baseImageFor(base, opts.baseImages ?? {}),
    builderImage: opts.builderImage,
  };
  if (runtime === 'go') {
    if (opts.binary) {
      throw new LambdaImageError('INVALID_INPUT', '--binary only goes with --runtime provided', {
        hint: 'drop --binary to build from Go sources, or add --runtime provided',
      });
    }
    const mod = await readGoModule(dir);
    if (opts.functions?.length && opts.main !== undefined)
      throw new LambdaImageError('INVALID_INPUT', '--main and --function both name main packages', {
        hint: 'use --function <name>=<dir> for each function, or --main for a one-function project',
      });
    // --main is typed, so relative to the working directory; the config keeps it relative to the project.
    let main =
      opts.main === undefined
        ? '.'
        : normalizeMain(
            insideProject(
              dir,
              typedPath(opts.main),
              `main package ${opts.main}`,
              typedHint(dir, opts.main, 'pass --main as a path inside the module, such as ./cmd/handler'),
            ),
          );
    // Lambda's build (linux, the arch, no cgo): a main package it leaves out is no function.
    const target = lambdaTarget(opts.arch ?? 'x86_64', opts.goVersion ?? mod.goVersion);
    if (opts.functions?.length) {
      functions = await namedFunctions(dir, opts.functions, target);
      found = functions;
    } else if (opts.main === undefined) {
      // No main package named: every one of the module is a function (one: the project is it).
      const skipped: Array<{ dir: string; reason: string }> = [];
      const mains = nameMainPackages(await findMainPackages(dir, target, skipped), defaultImageName(dir));
      for (const s of skipped) warnings.push(`not a function: ./${s.dir}: ${s.reason}`);
      found = mains.map((m) => ({ name: m.name, main: m.dir }));
      if (mains.length > 1) functions = found;
      else if (mains.length === 1) main = mains[0]!.dir;
    }
    if (!functions) await checkMainPackage(dir, main);
    draft.go = {
      module: mod.module,
      version: opts.goVersion ?? mod.goVersion,
      main,
      ...(opts.goModules ? { modules: opts.goModules } : {}),
    };
    if (functions) draft.functions = Object.fromEntries(functions.map((f) => [f.name, { main: mainEntry(f.main) }]));
  } else {
    if (opts.functions?.length)
      throw new LambdaImageError('INVALID_INPUT', '--function needs Go sources (one main package per function)', {
        hint: 'drop --function, or build from Go sources (--runtime go)',
      });
    if (!opts.binary) {
      throw new LambdaImageError('INVALID_INPUT', '--runtime provided needs --binary <path>', {
        hint: 'pass the path of your prebuilt bootstrap binary inside the project',
      });
    }
    draft.binary = await checkBinary(dir, opts.binary);
    await checkBinaryArch(dir, draft.binary as string, draft.arch as Arch);
  }
  if (draft.base === 'aws' && opts.rie === false) {
    warnings.push('the AWS base always carries the emulator; --no-rie changes nothing there');
  }
  if (draft.base === 'aws') draft.rie = false;

  // Re-initialising keeps what other commands recorded (extensions, emulator source): read and
  // write the config holding its lock, so an add-extension running meanwhile is not undone.
  const finish = async (): Promise<InitResult> => {
    const previous = await loadConfigIfExists(dir).catch((err) => {
      if (opts.force) return undefined;
      throw err;
    });
    if (previous) {
      // Module settings and the modules mode are the user's choices, not init's to forget.
      if (runtime === 'go' && previous.go?.env) (draft.go as Record<string, unknown>).env = previous.go.env;
      if (runtime === 'go' && previous.go?.modules && !opts.goModules)
        (draft.go as Record<string, unknown>).modules = previous.go.modules;
      draft.extensions = previous.extensions;
      draft.rieVersion = previous.rieVersion;
      if (previous.rieFrom) draft.rieFrom = previous.rieFrom;
      if (previous.tag) draft.tag = previous.tag;
      // A function found again keeps its name and the settings the user gave it (memory,
      // environment, deploy...): matched by its main folder (by name for --function).
      if (functions && previous.functions) {
        const merged = mergeFunctions(functions, previous.functions, Boolean(opts.functions?.length));
        draft.functions = merged.entries;
        found = merged.found;
        added = merged.added;
        dropped = merged.dropped;
        const why = opts.functions?.length ? 'not named with --function' : 'no main package there any more';
        for (const d of dropped) warnings.push(`dropped function ${d.name} (${mainEntry(d.main)}): ${why}`);
      }
    }

    const parsed = validateConfig(draft);
    if (parsed.errors.length) {
      const [first] = parsed.errors;
      throw new LambdaImageError('INVALID_INPUT', `invalid ${first}`, {
        hint: first!.startsWith('name:') ? 'pass --name <image-name>' : 'check the options given to init',
      });
    }
    const config = parsed.config!;
    const plan = await planProjectFiles(dir, config, { includeConfig: true, replaceGenerated: false });
    warnings.push(...plan.warnings, ...checkConflicts(plan, opts.force ?? false));
    if (!opts.dryRun) await writePlan(dir, plan);
    return { config, found, added, dropped, plan, warnings, written: !opts.dryRun };
  };
  const hasConfig = (await fs.stat(path.join(dir, CONFIG_FILE)).catch(() => undefined))?.isFile();
  return hasConfig && !opts.dryRun ? withConfigLock(dir, finish) : finish();
}

/**
 * The functions of a re-initialised project from what was found and what the config listed:
 * a main found again keeps its entry (its name and settings), matched by main folder (with
 * --function, by name first: the user named them); new mains get their found name (made
 * unique); listed mains that are gone are dropped. In the order found.
 */
function mergeFunctions(
  now: Array<{ name: string; main: string }>,
  before: Record<string, FunctionEntry>,
  named: boolean,
): {
  entries: Record<string, FunctionEntry>;
  found: Array<{ name: string; main: string }>;
  added: string[];
  dropped: Array<{ name: string; main: string }>;
} {
  const byMain = new Map<string, string>();
  for (const [name, entry] of Object.entries(before)) {
    const main = normalizeMain(entry.main);
    if (!byMain.has(main)) byMain.set(main, name);
  }
  const matched = new Map<string, string>(); // found main -> previous name
  for (const f of now) {
    const previous = named && before[f.name] ? f.name : byMain.get(f.main);
    if (previous !== undefined && ![...matched.values()].includes(previous)) matched.set(f.main, previous);
  }
  const taken = new Set(matched.values());
  const entries: Record<string, FunctionEntry> = {};
  const found: Array<{ name: string; main: string }> = [];
  const added: string[] = [];
  for (const f of now) {
    const previous = matched.get(f.main);
    let name = previous ?? f.name;
    if (previous === undefined) {
      // A new main whose found name a kept function already has: the next free name-N.
      for (let n = 2; taken.has(name) && n < 10_000; n++) name = `${f.name}-${n}`;
      added.push(name);
    }
    taken.add(name);
    entries[name] =
      previous !== undefined ? { ...before[previous]!, main: mainEntry(f.main) } : { main: mainEntry(f.main) };
    found.push({ name, main: f.main });
  }
  const kept = new Set(matched.values());
  const dropped = Object.entries(before)
    .filter(([name]) => !kept.has(name))
    .map(([name, entry]) => ({ name, main: normalizeMain(entry.main) }));
  return { entries, found, added, dropped };
}

/** --function <name>=<dir> values: each name once, each dir inside the module and a main package. */
async function namedFunctions(
  dir: string,
  values: string[],
  target: BuildTarget,
): Promise<Array<{ name: string; main: string }>> {
  const named: Array<{ name: string; main: string }> = [];
  for (const value of values) {
    const { name, dir: typed } = parseFunctionFlag(value);
    if (named.some((f) => f.name === name))
      throw new LambdaImageError('INVALID_INPUT', `--function ${name} is given twice`, {
        hint: 'give each function one --function <name>=<dir>',
      });
    const main = normalizeMain(
      insideProject(
        dir,
        typedPath(typed),
        `--function ${value}`,
        typedHint(dir, typed, 'give a main package folder inside the module, such as ./cmd/orders'),
      ),
    );
    const problem = await mainPackageProblem(dir, main, target);
    if (problem)
      throw new LambdaImageError('INVALID_INPUT', `--function ${value}: ${problem}`, {
        hint: 'give each function the folder of its "package main" (with a func main), such as ./cmd/orders',
      });
    named.push({ name, main });
  }
  return named;
}

/** A function's main as the config writes it: ./cmd/orders (or . for the module root). */
function mainEntry(main: string): string {
  return main === '.' ? '.' : `./${main}`;
}

function normalizeMain(main: string): string {
  const n = path.posix.normalize(main.replace(/\\/g, '/')).replace(/\/$/, '');
  return n === '' ? '.' : n.replace(/^\.\//, '') || '.';
}

/** A Docker-legal image name from the directory name. */
export function defaultImageName(dir: string): string {
  const base = path
    .basename(path.resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  return base || 'lambda-function';
}

/** The config's baseImage from --base-image: `<ref>` or `<base>=<ref>` for the project's own base family. */
function baseImageFor(base: Base, images: Partial<Record<Base | 'own', string>>): string | undefined {
  const { own, ...families } = images;
  for (const family of Object.keys(families) as Base[]) {
    if (family !== base)
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--base-image ${family}=... names the ${family} base, and this project's base is ${base}`,
        { hint: `add --base ${family}, or give --base-image <ref> (or ${base}=<ref>) for the ${base} base` },
      );
  }
  if (own && families[base])
    throw new LambdaImageError('INVALID_INPUT', `--base-image names the ${base} base twice`, {
      hint: 'give the base one --base-image',
    });
  return own ?? families[base];
}
