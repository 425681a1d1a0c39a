// start --watch's events on the terminal (one line per rebuild) or as JSON lines on stdout (--json).
import type { WatchEvent } from '../app/watch.js';
import { printable, printableLines } from '../util/printable.js';

/** Where events go: JSON lines on stdout (--json), or lines for people on stderr. */
export function watchPrinter(json: boolean): (e: WatchEvent) => void {
  if (json) return (e) => process.stdout.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
  return (e) => {
    for (const line of watchLines(e)) process.stderr.write(`${line}\n`);
  };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function changed(files: string[]): string {
  if (!files.length) return 'start';
  const shown = files.slice(0, 3).map(printable).join(', ');
  return `${shown}${files.length > 3 ? ` and ${files.length - 3} more` : ''} changed`;
}

/** The terminal's lines for one event: one per rebuild (at its swap, or its failure), and the first build's. */
export function watchLines(e: WatchEvent): string[] {
  switch (e.type) {
    case 'rebuild-start':
      return e.files.length ? [] : ['watch: building the project before serving it'];
    case 'rebuild-done':
      return e.files.length
        ? []
        : [`watch: built ${e.images.map((i) => printable(i.image)).join(', ')} in ${seconds(e.ms)}`];
    case 'swap': {
      const id = e.id.replace(/^sha256:/, '').slice(0, 12);
      const old = [
        e.retiredIdle ? `${e.retiredIdle} idle old environment${e.retiredIdle === 1 ? '' : 's'} spun down` : '',
        e.retiringBusy
          ? `${e.retiringBusy} finishing ${e.retiringBusy === 1 ? 'its invoke' : 'their invokes'} first`
          : '',
      ].filter(Boolean);
      const warm = e.prewarmedInitMs.length
        ? `${e.prewarmedInitMs.length} environment${e.prewarmedInitMs.length === 1 ? '' : 's'} prewarmed (init ${e.prewarmedInitMs.map((m) => `${m} ms`).join(', ')})`
        : 'the next invoke is a cold start';
      return [
        `watch: ${changed(e.files)}: rebuilt in ${seconds(e.buildMs)}, swapped ${printable(e.function)} to ${printable(e.image)} (${id})${e.settings?.length ? ` with the new ${e.settings.join(', ')}` : ''}: ${[warm, ...old].join('; ')}`,
      ];
    }
    case 'unchanged':
      return [
        `watch: ${changed(e.files)}: rebuilt in ${seconds(e.buildMs)}, and ${printable(e.image)} is the image already served: nothing to swap`,
      ];
    case 'rebuild-failed':
      return [
        `watch: rebuild failed after ${seconds(e.ms)} (${changed(e.files)}): ${printable(e.error)}`,
        ...e.lines.map((l) => `  ${printableLines(l)}`),
        'watch: the old image keeps serving; waiting for the next change',
      ];
    case 'settings':
      return [
        `watch: ${changed(e.files)}: ${printable(e.function)} now runs with the new ${e.settings.join(', ')} (nothing restarted)`,
      ];
    case 'function-added':
      return [
        `watch: ${changed(e.files)}: ${printable(e.function)} added to functions, built in ${seconds(e.buildMs)}, now served (${printable(e.image)})`,
      ];
    case 'function-removed':
      return [`watch: ${changed(e.files)}: ${printable(e.function)} removed from functions, no longer served`];
    case 'rebuild-aborted':
    case 'ready':
      return [];
    case 'warning':
      return [`warning: ${printable(e.message)}`];
  }
}
