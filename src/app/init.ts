// `init`: reads the user's project and options, and plans the config and generated files.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE, validateConfig, type Arch, type Base, type Config, type Runtime } from '../config/schema.js';
import { loadConfigIfExists } from '../config/store.js';
import { LambdaImageError } from '../errors.js';
import { withConfigLock } from '../layers/project-tree.js';
import { checkConflicts, planProjectFiles, writePlan, type FilePlan } from '../project/files.js';
import { checkBinary, checkMainPackage, readGoModule, typedHint } from '../project/go-module.js';
import { checkBinaryArch } from '../project/binary-arch.js';
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
  force?: boolean;
  dryRun?: boolean;
  goModules?: GoModuleMode;
}

export interface InitResult {
  config: Config;
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
    // --main is typed, so relative to the working directory; the config keeps it relative to the project.
    const main =
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
    await checkMainPackage(dir, main);
    draft.go = {
      module: mod.module,
      version: opts.goVersion ?? mod.goVersion,
      main,
      ...(opts.goModules ? { modules: opts.goModules } : {}),
    };
  } else {
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
    return { config, plan, warnings, written: !opts.dryRun };
  };
  const hasConfig = (await fs.stat(path.join(dir, CONFIG_FILE)).catch(() => undefined))?.isFile();
  return hasConfig && !opts.dryRun ? withConfigLock(dir, finish) : finish();
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
