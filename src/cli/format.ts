// The size report: per-image breakdown and the variant comparison table. Pure formatting.
import type { BuiltImage } from '../app/build.js';
import { printable } from '../util/printable.js';

export interface ComparisonRow {
  function: string;
  variant: string;
  base: string;
  size: number;
  diffBytes: number;
  diffPercent: number;
  layers: number;
  /** The image ID, and whether it differs from the previous build's of this function and variant. */
  id: string;
  changed: boolean;
  /** No previous build of this function and variant: the image is new, not changed. */
  new: boolean;
}

/** One row per image; each compared with the smallest variant of its own function. */
export function compareImages(images: BuiltImage[]): ComparisonRow[] {
  const smallestOf = new Map<string, number>();
  for (const i of images) smallestOf.set(i.function, Math.min(smallestOf.get(i.function) ?? Infinity, i.size));
  return images
    .map((i) => ({ i, smallest: smallestOf.get(i.function)! }))
    .map(({ i, smallest }) => ({
      function: i.function,
      variant: i.variant,
      base: i.baseIsStandin ? `${i.baseImage} (stand-in)` : i.baseImage,
      size: i.size,
      diffBytes: i.size - smallest,
      diffPercent: smallest > 0 ? ((i.size - smallest) / smallest) * 100 : 0,
      layers: i.layers,
      id: i.id,
      changed: i.changed,
      new: i.new,
    }));
}

export function formatBytes(n: number): string {
  const abs = Math.abs(n);
  if (abs < 1024) return `${n} B`;
  if (abs < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (abs < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** A table for the terminal; cells (layer names, paths) are escaped, so none can carry a control sequence. */
export function formatTable(header: string[], cells: string[][], rightAligned: Set<number> = new Set()): string {
  const rows = cells.map((r) => r.map(printable));
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((cell, c) => (rightAligned.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)].join('\n');
}

export function formatImage(i: BuiltImage): string {
  const b = i.breakdown;
  const parts: Array<[string, number]> = [
    ['base', b.base],
    ['function binary', b.binary],
    ['emulator (RIE)', b.rie],
    ['extensions', b.extensions],
    ['other', b.other],
  ];
  return [
    `${i.tag}  ${i.id.replace(/^sha256:/, '').slice(0, 12)}  linux/${i.architecture}  ${formatBytes(i.size)}` +
      (i.baseIsStandin ? `  (base ${i.baseImage} is a test stand-in: sizes not representative)` : ''),
    ...parts.map(([label, n]) => `  ${label.padEnd(16)}${formatBytes(n).padStart(10)}`),
  ].join('\n');
}

/**
 * The variant comparison; for a project of several functions, one row per function and variant,
 * with the image ID and whether it changed since the previous build.
 */
export function formatComparison(rows: ComparisonRow[], functions = false): string {
  const table = formatTable(
    [...(functions ? ['FUNCTION'] : []), 'VARIANT', 'BASE', 'SIZE', 'VS SMALLEST', '', 'LAYERS'].concat(
      functions ? ['IMAGE ID', ''] : [],
    ),
    rows.map((r) => [
      ...(functions ? [r.function] : []),
      r.variant,
      r.base,
      formatBytes(r.size),
      r.diffBytes === 0 ? 'smallest' : `+${formatBytes(r.diffBytes)}`,
      r.diffBytes === 0 ? '' : `+${r.diffPercent.toFixed(1)}%`,
      String(r.layers),
      ...(functions
        ? [r.id.replace(/^sha256:/, '').slice(0, 12), r.new ? 'new' : r.changed ? 'changed' : 'unchanged']
        : []),
    ]),
    new Set(functions ? [3, 4, 5, 6] : [2, 3, 4, 5]),
  );
  if (!functions) return table;
  const fresh = rows.filter((r) => r.new).length;
  const built = rows.length - fresh; // the images a previous build made too
  const changed = rows.filter((r) => r.changed && !r.new).length;
  const plural = (n: number) => `image${n === 1 ? '' : 's'}`;
  if (!built) return `${table}\n${fresh} new ${plural(fresh)} (no previous build)`;
  return `${table}\n${changed} of ${built} ${plural(built)} changed since the previous build${fresh ? `, ${fresh} new` : ''}`;
}
