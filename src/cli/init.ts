// `lambda-image init`: wiring only; the work is in src/app/init.ts.
import { initProject, type InitOptions } from '../app/init.js';
import { createUi } from '../ui.js';
import { parseBaseImageFlags } from './args.js';

export async function runInit(
  dir: string,
  opts: Omit<InitOptions, 'baseImages' | 'functions'> & { rie?: boolean; baseImage?: string[]; function?: string[] },
): Promise<void> {
  const ui = createUi();
  const { baseImage, function: functions, ...rest } = opts;
  const result = await initProject(dir, { ...rest, functions, baseImages: parseBaseImageFlags(baseImage ?? []) });
  for (const w of result.warnings) ui.warn(w);
  // What the module holds: several main packages make a project of several functions.
  if (result.found.length > 1 || result.config.functions) {
    ui.out(
      `found ${result.found.length} function${result.found.length === 1 ? '' : 's'} (lambda-image.json "functions"):`,
    );
    const width = Math.max(...result.found.map((f) => f.name.length));
    // Re-initialised: the functions it did not list before are marked (the dropped ones are warned of).
    const isNew = new Set(result.added);
    for (const f of result.found)
      ui.out(
        `  ${f.name.padEnd(width)}  ${f.main === '.' ? '.' : `./${f.main}`}${isNew.has(f.name) ? '  (new)' : ''}`.trimEnd(),
      );
  } else if (result.found.length === 1 && result.found[0]!.main !== '.') {
    ui.out(`found one main package: ./${result.found[0]!.main}`);
  }
  for (const f of result.plan.files) {
    if (opts.dryRun) {
      ui.out(`==> ${f.path} (${f.action === 'unchanged' ? 'unchanged' : `would ${f.action}`})`);
      if (f.action !== 'unchanged') ui.out(f.content.trimEnd());
    } else {
      ui.out(`${f.action === 'create' ? 'created' : f.action === 'overwrite' ? 'overwrote' : 'unchanged'} ${f.path}`);
    }
  }
  if (opts.dryRun) ui.info('dry run: nothing was written');
}
