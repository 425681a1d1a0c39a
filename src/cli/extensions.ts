// `lambda-image add-extension` and `lambda-image extensions list|remove`: wiring and output.
import { LambdaImageError } from '../errors.js';
import { regionProblem } from '../app/inputs.js';
import { checkedFlag, positiveInt } from './args.js';
import { addExtension, type AddOptions } from '../app/add-extension.js';
import { listProjectExtensions, removeExtension } from '../app/extensions.js';
import { formatBytes, formatTable } from './format.js';
import { createUi } from '../ui.js';
import { withInterrupt } from './interrupt.js';

export async function runAddExtension(
  first: string | undefined,
  second: string | undefined,
  opts: Omit<AddOptions, 'version' | 'signal'> & { version?: string; layerVersion?: string },
): Promise<void> {
  const ui = createUi();
  // With --from-zip there is no ARN: the one positional argument is the directory.
  const [arn, dir] = opts.fromZip ? [undefined, first ?? '.'] : [first, second ?? '.'];
  if (opts.fromZip && second) {
    throw new LambdaImageError('INVALID_INPUT', 'give either a layer ARN or --from-zip, not both', {
      hint: 'lambda-image add-extension --from-zip <file> [dir]',
    });
  }
  if (!arn && !opts.fromZip) {
    throw new LambdaImageError('INVALID_INPUT', 'no layer ARN given', {
      hint: 'lambda-image add-extension <layer-arn> [dir], or --from-zip <file> [dir]',
    });
  }
  if (opts.version !== undefined && opts.layerVersion !== undefined && opts.version !== opts.layerVersion) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `--version ${opts.version} and --layer-version ${opts.layerVersion} disagree`,
      { hint: 'give the layer version once, with --layer-version' },
    );
  }
  const given = opts.layerVersion ?? opts.version;
  const flag = opts.layerVersion !== undefined ? '--layer-version' : '--version';
  const version = given === undefined ? undefined : positiveInt(given, flag);
  if (version !== undefined && !opts.fromZip) {
    throw new LambdaImageError('INVALID_INPUT', `${flag} only goes with --from-zip`, {
      hint: 'a layer ARN ends with its version: ...:layer:<name>:<version>',
    });
  }
  if (opts.name !== undefined && !opts.fromZip) {
    throw new LambdaImageError('INVALID_INPUT', '--name only goes with --from-zip', {
      hint: 'a layer ARN names its layer: ...:layer:<name>:<version>',
    });
  }
  checkedFlag(opts.region, '--region', regionProblem, 'eu-west-1');
  const progress = await ui.progress(arn ? `adding ${arn}` : `adding ${opts.fromZip}`);
  // Ctrl-C stops the work and lets it clean up (staging folder, partial download, lock).
  await withInterrupt(async (signal) => {
    try {
      const { layerVersion: _, ...rest } = opts;
      const result = await addExtension(
        dir,
        arn,
        { ...rest, version, signal },
        {
          onStep: (t) => progress.step(t),
          onDownload: (got, total) =>
            progress.step(`downloading: ${Math.floor((got / total) * 100)}% of ${formatBytes(total)}`),
        },
      );
      progress.stop();
      for (const w of result.warnings) ui.warn(w);
      const e = result.entry;
      const pinned = () => {
        if (result.pinned.length)
          ui.out(
            `wrote the extensions list of ${result.pinned.join(', ')} (the layers ${result.pinned.length === 1 ? 'it holds' : 'they hold'} today), so ${result.pinned.length === 1 ? 'it does' : 'they do'} not gain ${e.name}`,
          );
        if (result.without.length)
          ui.warn(
            `${result.without.join(', ')} ${result.without.length === 1 ? 'lists its' : 'list their'} own extensions and ${result.without.length === 1 ? 'does' : 'do'} not get ${e.name}: add it with --function ${result.without[0]}`,
          );
      };
      if (result.action === 'unchanged') {
        if (result.givenTo !== undefined) {
          ui.out(`gave ${e.name} version ${e.version} (already in the project) to ${result.givenTo.join(', ')}`);
          pinned();
          for (const f of result.files)
            if (f.action !== 'unchanged') ui.out(`${f.action === 'create' ? 'created' : 'updated'} ${f.path}`);
          return;
        }
        ui.out(
          `${e.name} version ${e.version} is already in the ${opts.function?.length ? `image${opts.function.length > 1 ? 's' : ''} of ${[...new Set(opts.function)].join(', ')}` : 'image'}; nothing changed`,
        );
        return;
      }
      if (result.action === 'replaced')
        ui.out(`replaced ${e.name} version ${result.replaced!.version} with version ${e.version}`);
      else
        ui.out(
          `added ${e.name} version ${e.version}${result.givenTo ? ` to ${result.givenTo.join(', ')}` : ''}: ${e.files} files, ${formatBytes(e.size)} under /opt`,
        );
      pinned();
      for (const f of result.files)
        if (f.action !== 'unchanged') ui.out(`${f.action === 'create' ? 'created' : 'updated'} ${f.path}`);
    } catch (err) {
      progress.fail('add-extension failed');
      throw err;
    }
  });
}

export async function runListExtensions(dir: string, opts: { json?: boolean; function?: string[] }): Promise<void> {
  const ui = createUi();
  const extensions = await listProjectExtensions(dir, opts.function);
  if (opts.json) {
    ui.out(JSON.stringify(extensions, null, 2));
    return;
  }
  if (!extensions.length) {
    const fn = opts.function?.length ? ` --function ${opts.function[0]}` : '';
    ui.info(
      `no extensions${opts.function?.length ? ` in the image of ${opts.function[0]}` : ''}: add one with "lambda-image add-extension${fn} <layer-arn>"`,
    );
    return;
  }
  // A project of several: which functions' images hold each layer.
  const users = extensions.some((e) => e.functions);
  ui.out(
    formatTable(
      ['NAME', 'VERSION', 'ARCHITECTURES', 'SIZE', 'FILES', ...(users ? ['FUNCTIONS'] : [])],
      extensions.map((e) => [
        e.name,
        String(e.version),
        e.architectures.join(',') || 'any',
        formatBytes(e.size),
        String(e.files),
        ...(users ? [e.functions?.join(',') || '-'] : []),
      ]),
      new Set([1, 3, 4]),
    ),
  );
}

export async function runRemoveExtension(
  name: string,
  dir: string,
  opts: { force?: boolean; function?: string[] },
): Promise<void> {
  const ui = createUi();
  const r = await removeExtension(dir, name, opts.force, opts.function);
  for (const w of r.warnings) ui.warn(w);
  const { removed } = r;
  if (!r.removedFromProject) {
    ui.out(
      `removed ${removed.name} version ${removed.version} from ${r.takenFrom!.join(', ')}; the other functions keep it`,
    );
    if (r.pinned.length)
      ui.out(`wrote the extensions list of ${r.pinned.join(', ')} (every other layer of the project)`);
    return;
  }
  ui.out(
    `removed ${removed.name} version ${removed.version} (config, files and Dockerfile)${r.takenFrom ? `: ${r.takenFrom.join(', ')} ${r.takenFrom.length === 1 ? 'was the last function' : 'were the last functions'} holding it` : ''}`,
  );
}
