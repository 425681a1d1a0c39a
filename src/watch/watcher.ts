// Watches a project's folders for `start --watch`: one non-recursive fs.watch per folder, so
// folders that can never enter the build context (.git, node_modules, lambda-image's own,
// those .dockerignore drops whole) are never walked or watched; new folders are picked up as
// they appear. Reports project-relative paths; deciding what they mean is triggers.ts's job.
import { type FSWatcher, promises as fs, watch } from 'node:fs';
import path from 'node:path';
import { debug } from '../util/debug.js';

const log = debug('watch');

/** A bound on folders watched: past it the project is too big to watch folder by folder. */
const MAX_FOLDERS = 5_000;

export interface WatcherOptions {
  /** Whether a folder (project-relative, posix) is left out whole. */
  skipsDir(rel: string): boolean;
  onChange(rel: string): void;
  /** A folder could not be watched (permissions, the watch limit): said once per cause. */
  onWarning?(message: string): void;
}

export class ProjectWatcher {
  private watchers = new Map<string, FSWatcher>();
  private closed = false;
  private warned = new Set<string>();

  constructor(
    private readonly dir: string,
    private readonly opts: WatcherOptions,
  ) {}

  /** Starts watching; resolves once every folder present now is watched. */
  async start(): Promise<void> {
    await this.add('', false);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
  }

  /** Watches `rel` and the folders under it; with `report`, also reports the files found (a folder moved in). */
  private async add(rel: string, report: boolean): Promise<void> {
    if (this.closed || this.watchers.has(rel) || (rel && this.opts.skipsDir(rel))) return;
    if (this.watchers.size >= MAX_FOLDERS)
      return this.warn(
        'limit',
        `more than ${MAX_FOLDERS} folders: the rest are not watched (leave them out with .dockerignore)`,
      );
    const abs = rel ? path.join(this.dir, rel) : this.dir;
    let watcher: FSWatcher;
    try {
      watcher = watch(abs, { persistent: false }, (_event, name) => {
        if (name) void this.changed(rel ? `${rel}/${name.toString()}` : name.toString());
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      if (code !== 'ENOENT')
        this.warn(
          code,
          `cannot watch ${rel || '.'} (${code})${code === 'ENOSPC' ? ': raise fs.inotify.max_user_watches' : ''}`,
        );
      return;
    }
    // The folder went away (or its watch broke): its watcher goes; a parent's event brings it back if it returns.
    watcher.on('error', () => this.remove(rel));
    this.watchers.set(rel, watcher);
    const items = await fs.readdir(abs, { withFileTypes: true }).catch(() => []);
    for (const item of items) {
      const child = rel ? `${rel}/${item.name}` : item.name;
      if (item.isDirectory()) await this.add(child, report);
      else if (report) this.opts.onChange(child);
    }
  }

  private remove(rel: string): void {
    for (const [key, w] of this.watchers)
      if (key === rel || key.startsWith(`${rel}/`)) {
        w.close();
        this.watchers.delete(key);
      }
  }

  private async changed(rel: string): Promise<void> {
    if (this.closed) return;
    const st = await fs.lstat(path.join(this.dir, rel)).catch(() => undefined);
    if (st?.isDirectory()) {
      // A new (or moved-in) folder: watch it and report what it holds.
      if (!this.watchers.has(rel)) await this.add(rel, true);
      return;
    }
    if (!st && this.watchers.has(rel)) this.remove(rel);
    log(`changed: ${rel}`);
    this.opts.onChange(rel);
  }

  private warn(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.onWarning?.(message);
  }
}
