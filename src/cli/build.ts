// `lambda-image build`: wiring and output only; the work is in src/app/build.ts.
import { buildProject, planBuild } from '../app/build.js';
import type { Arch } from '../app/inputs.js';
import { type BuildGroupCliOptions, buildOptionsFrom } from './build-options.js';
import { connectEngine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { parseVariant, type VariantName } from '../app/inputs.js';
import { compareImages, formatBytes, formatComparison, formatImage } from './format.js';
import { createUi } from '../ui.js';
import { withInterrupt } from './interrupt.js';

export interface BuildCliOptions extends BuildGroupCliOptions {
  tag?: string;
  function?: string[];
  variant?: string;
  variants?: string;
  arch?: Arch;
  platform?: string;
  json?: boolean;
  verbose?: boolean;
}

export async function runBuild(dir: string, opts: BuildCliOptions): Promise<void> {
  const ui = createUi();
  // The one plan: bad input fails here, before any engine is asked.
  const plan = await planBuild(dir, {
    tag: opts.tag,
    functions: opts.function,
    variants: parseVariantList(opts.variants ?? opts.variant),
    arch: opts.arch ?? archFromPlatform(opts.platform),
    ...buildOptionsFrom(opts),
  });
  const engine = await connectEngine({ builder: opts.builder ?? 'auto' });
  const progress = await ui.progress(
    `building with ${engine.name} (${engine.buildkit ? 'BuildKit' : 'classic builder'})`,
  );
  let label = '';
  const multi = plan.targets.some((t) => t.stage);
  try {
    // Ctrl-C stops the build (nothing more is tagged) and its packed context is removed.
    const result = await withInterrupt((signal) =>
      buildProject(engine, plan, {
        signal,
        onImage: ({ function: fn, variant, tag }) => {
          label = multi ? `${fn} ${variant}` : variant;
          progress.step(`[${label}] building ${tag}`);
        },
        onEvent: (_variant, e) => {
          if (e.type === 'step' && !e.step.name.startsWith('[internal]')) progress.step(`[${label}] ${e.step.name}`);
          if (e.type === 'log' && opts.verbose) process.stderr.write(`[${label}] ${e.line}\n`);
        },
        onWarning: (w) => ui.warn(w),
      }).catch((err: unknown) => {
        if (!signal.aborted) throw err;
        throw new LambdaImageError('INTERRUPTED', 'interrupted: the build was stopped', {
          hint: 'build again (the images already built are tagged; what was cached stays cached)',
          cause: err,
        });
      }),
    );
    progress.succeed(`built ${result.images.map((i) => i.tag).join(', ')}`);
    if (opts.json) {
      // Keyed by variant; in a project of several functions by <function>/<variant>.
      const steps = Object.fromEntries(
        result.outcomes.map(({ function: fn, variant, outcome }) => [
          multi ? `${fn}/${variant}` : variant,
          outcome.steps.map((st) => ({ name: st.name, cached: st.cached })),
        ]),
      );
      ui.out(
        JSON.stringify(
          { images: result.images, comparison: compareImages(result.images), context: result.context, steps },
          null,
          2,
        ),
      );
      return;
    }
    for (const image of result.images) ui.out(formatImage(image));
    // The project's files once; what was sent, summed over every build (one per function and variant).
    const ctx = result.context[0]!;
    const sent = result.context.reduce((n, c) => n + c.sentBytes, 0);
    const builds = result.context.length;
    ui.info(
      `build context: ${ctx.files} files, ${formatBytes(ctx.fileBytes)} (${formatBytes(sent)} sent${builds > 1 ? ` in ${builds} builds` : ''})`,
    );
    if (result.images.length > 1 || multi) {
      ui.out('');
      ui.out(formatComparison(compareImages(result.images), multi));
    }
  } catch (err) {
    progress.fail(`build failed${label ? ` (${label})` : ''}`);
    throw err;
  }
}

function parseVariantList(value?: string): VariantName[] | undefined {
  if (!value) return undefined;
  const names = value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  names.forEach(parseVariant); // throws a clear error for unknown names
  return [...new Set(names)] as VariantName[];
}

function archFromPlatform(platform?: string): Arch | undefined {
  if (!platform) return undefined;
  if (platform === 'linux/amd64' || platform === 'linux/x86_64') return 'x86_64';
  if (platform === 'linux/arm64' || platform === 'linux/arm64/v8') return 'arm64';
  throw new LambdaImageError('INVALID_INPUT', `unsupported platform "${platform}"`, {
    hint: 'Lambda runs linux/amd64 (x86_64) or linux/arm64',
  });
}
