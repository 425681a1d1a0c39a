// `lambda-image init`: wiring only; the work is in src/app/init.ts.
import { initProject, type InitOptions } from '../app/init.js';
import { createUi } from '../ui.js';
import { parseBaseImageFlags } from './args.js';

export async function runInit(
  dir: string,
  opts: Omit<InitOptions, 'baseImages'> & { rie?: boolean; baseImage?: string[] },
): Promise<void> {
  const ui = createUi();
  const { baseImage, ...rest } = opts;
  const result = await initProject(dir, { ...rest, baseImages: parseBaseImageFlags(baseImage ?? []) });
  for (const w of result.warnings) ui.warn(w);
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
