// The import direction README's design section draws, checked over every import in src/
// (static, type-only, re-exports and lazy import()s alike): no module cycle, and no area
// importing one it may not. A small reader of our own: the rules are a table in this file,
// and the whole check reads ~120 files in a few milliseconds without a dependency.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/** What each area may import besides itself (README "Design"). errors/util are the floor. */
const ALLOWED: Record<string, string[]> = {
  // Thin CLI: parse, call one app function, print (ui, cli/format). Below app/ only the engine
  // connection (see MODULES_ALLOWED).
  cli: ['app', 'util', 'ui', 'errors'],
  app: [
    'config',
    'render',
    'events',
    'serve',
    'project',
    'docker',
    'emulator',
    'layers',
    'aws',
    'registry',
    'watch',
    'util',
    'errors',
  ],
  // Adapters: each over its own outside thing; three lean on another adapter, never back.
  // The HTTP servers in front of the local Lambda: over the emulator's pool, never the reverse.
  serve: ['emulator', 'config', 'util', 'errors'],
  emulator: ['docker', 'config', 'util', 'errors'],
  registry: ['aws', 'config', 'util', 'errors'],
  layers: ['aws', 'config', 'util', 'errors'],
  project: ['config', 'render', 'util', 'errors'],
  // start --watch: what a change means (pure) and the folder watcher (file system).
  watch: ['config', 'util', 'errors'],
  docker: ['config', 'util', 'errors'],
  aws: ['util', 'errors'],
  // The pure core.
  render: ['config', 'util', 'errors'],
  events: ['serve', 'util', 'errors'],
  config: ['util', 'errors'],
  ui: ['util', 'errors'],
  util: ['errors'],
  errors: [],
};

/** Single modules an area may import outside its table row. */
const MODULES_ALLOWED: Record<string, string[]> = {
  // The engine connection: connectEngine for the command's engine, askEngineEarly's probe.
  cli: ['docker/engine'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Relative module specifiers a file imports: `import ... from`, `export ... from`, `import(...)` (quoted or a template literal), bare `import '...'`, createRequire's require. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\bfrom\s+['"](\.[^'"]+)['"]/g,
    /\bimport\s*\(\s*['"`](\.[^'"`$]+)['"`]\s*\)/g,
    /^import\s+['"](\.[^'"]+)['"]/gm,
  ];
  // require('./x.js') through createRequire, under whatever name that require was given.
  const requires = new Set(['require']);
  for (const m of text.matchAll(/\b(\w+)\s*=\s*createRequire\s*\(/g)) requires.add(m[1]!);
  for (const name of requires) patterns.push(new RegExp(`\\b${name}\\s*\\(\\s*['"\`](\\.[^'"\`$]+)['"\`]\\s*\\)`, 'g'));
  for (const re of patterns) for (const m of text.matchAll(re)) found.push(m[1]!);
  return found;
}

/** src-relative module ids (`app/build`) and what each imports. */
function importGraph(files: Array<{ file: string; text: string }>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const { file, text } of files) {
    const id = file.replace(/\.ts$/, '');
    const targets = importsOf(text).map((spec) => path.posix.join(path.posix.dirname(id), spec).replace(/\.js$/, ''));
    graph.set(id, [...new Set(targets)]);
  }
  return graph;
}

const areaOf = (id: string) => id.split('/')[0]!;

/** Imports against ALLOWED, as "from -> to" lines. */
function directionProblems(graph: Map<string, string[]>): string[] {
  const problems: string[] = [];
  for (const [from, targets] of graph) {
    const allowed = ALLOWED[areaOf(from)];
    for (const to of targets) {
      if (areaOf(to) === areaOf(from)) continue;
      if (MODULES_ALLOWED[areaOf(from)]?.includes(to)) continue;
      if (!allowed) problems.push(`${from} -> ${to} (${areaOf(from)} is not in the table)`);
      else if (!allowed.includes(areaOf(to)))
        problems.push(`${from} -> ${to} (${areaOf(from)} may not import ${areaOf(to)})`);
    }
  }
  return problems;
}

/** Every module cycle, each as "a -> b -> a" (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[] {
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) === order.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)!.includes(v)) found.push([...component.reverse(), v].join(' -> '));
    }
  };
  for (const v of graph.keys()) if (!order.has(v)) visit(v);
  return found;
}

const srcGraph = () =>
  importGraph(
    sourceFiles(SRC).map((f) => ({
      file: path.relative(SRC, f).split(path.sep).join('/'),
      text: readFileSync(f, 'utf8'),
    })),
  );

describe('layering: the import direction README draws', () => {
  it('src/ has no import cycle', () => {
    expect(cycles(srcGraph())).toEqual([]);
  });

  it('every import in src/ goes in an allowed direction', () => {
    const graph = srcGraph();
    expect(graph.size).toBeGreaterThan(50); // the reader found the tree
    expect(directionProblems(graph)).toEqual([]);
  });

  it('the check itself sees cycles, lazy imports, re-exports and backward imports', () => {
    const graph = importGraph([
      { file: 'emulator/a.ts', text: "import type { X } from '../app/b.js';" },
      { file: 'app/b.ts', text: "export { y } from '../emulator/a.js';" },
      { file: 'docker/c.ts', text: "const m = await import('../registry/d.js');" },
      { file: 'registry/d.ts', text: "import '../util/e.js';" },
      { file: 'util/e.ts', text: '' },
      { file: 'aws/f.ts', text: 'const m = await import(`../registry/d.js`);' },
      { file: 'config/g.ts', text: "const load = createRequire(import.meta.url);\nconst h = load('../docker/h.js');" },
      { file: 'cli/i.ts', text: "import { connectEngine } from '../docker/engine.js';\nimport '../config/schema.js';" },
    ]);
    expect(cycles(graph)).toEqual(['emulator/a -> app/b -> emulator/a']);
    expect(directionProblems(graph)).toEqual([
      'emulator/a -> app/b (emulator may not import app)',
      'docker/c -> registry/d (docker may not import registry)',
      'aws/f -> registry/d (aws may not import registry)',
      'config/g -> docker/h (config may not import docker)',
      'cli/i -> config/schema (cli may not import config)',
    ]);
  });
});
