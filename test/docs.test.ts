// Documentation that cannot drift: the command pages' flag tables are what the commander
// definitions say, every `lambda-image <command> --flag` the docs show exists, every config key
// of the schema is documented once (and no documented key is unknown), every relative link
// resolves, and the README stays a short front door.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../src/cli/program.js';
import { commandReference, withReference } from '../src/cli/reference.js';
import { configSchema } from '../src/config/schema.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (rel: string) => readFileSync(path.join(ROOT, rel), 'utf8');

function markdownFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? markdownFiles(path.join(dir, e.name)) : e.name.endsWith('.md') ? [path.join(dir, e.name)] : [],
  );
}
const DOCS = ['README.md', ...markdownFiles('docs')];

/** The command a `lambda-image a b ...` line names (the longest path that exists). */
function commandAt(program: Command, words: string[]): { cmd: Command; used: number } | undefined {
  let node: Command | undefined;
  let cmds = program.commands;
  let used = 0;
  for (const w of words) {
    const next = cmds.find((c) => c.name() === w);
    if (!next) break;
    node = next;
    cmds = next.commands;
    used++;
  }
  return node ? { cmd: node, used } : undefined;
}

describe('docs', () => {
  const program = buildProgram();
  const refs = commandReference(program);

  it('each command page holds the reference generated from the commander definitions (npm run docs)', () => {
    const pages = new Map<string, typeof refs>();
    for (const r of refs) pages.set(r.page, [...(pages.get(r.page) ?? []), r]);
    const stale = [...pages].filter(([page, rs]) => {
      const text = read(`docs/commands/${page}`);
      return withReference(text, rs) !== text;
    });
    expect(stale.map(([p]) => p)).toEqual([]);
  });

  it('every command has two or three examples at the end of its --help', () => {
    const without = refs.filter((r) => r.examples.length < 2 || r.examples.length > 3).map((r) => r.path);
    expect(without).toEqual([]);
    for (const r of refs)
      for (const e of r.examples) expect(e.startsWith(`lambda-image ${r.path.split(' ')[0]}`)).toBe(true);
  });

  it('every flag the docs show on a lambda-image command line exists on that command', () => {
    const problems: string[] = [];
    for (const file of DOCS) {
      const text = read(file);
      // Command lines in code blocks and inline code: `lambda-image <command> ... --flag`.
      const snippets = [...text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
      snippets.push(...[...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!));
      for (const line of snippets) {
        for (const m of line.matchAll(/lambda-image((?: [a-z][a-z-]*)+)([^|;&#]*)/g)) {
          const words = m[1]!.trim().split(' ');
          const found = commandAt(program, words);
          if (!found) continue;
          const rest = [...words.slice(found.used), ...m[2]!.split(/\s+/)].join(' ');
          const longs = new Set(found.cmd.options.map((o) => o.long));
          for (const flag of rest.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)) {
            if (flag[1] !== '--help' && !longs.has(flag[1]!))
              problems.push(`${file}: lambda-image ${words.slice(0, found.used).join(' ')} ${flag[1]}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every config key is documented once in docs/configuration.md, and every key documented exists', () => {
    const schemaKeys = configKeys();
    const table = read('docs/configuration.md')
      .split('\n')
      .filter((l) => /^\| `[^`]+` \|/.test(l))
      .map((l) => l.match(/^\| `([^`]+)`/)![1]!);
    const counts = new Map<string, number>();
    for (const k of table) counts.set(k, (counts.get(k) ?? 0) + 1);
    expect(
      schemaKeys.filter((k) => !counts.has(k)),
      'keys not documented',
    ).toEqual([]);
    expect(
      table.filter((k) => !schemaKeys.includes(k)),
      'documented keys the schema does not have',
    ).toEqual([]);
    expect(
      [...counts].filter(([, n]) => n > 1).map(([k]) => k),
      'keys documented twice',
    ).toEqual([]);
  });

  it('every relative link resolves to a file, and every #anchor to a heading', () => {
    const broken: string[] = [];
    for (const file of DOCS) {
      for (const m of read(file).matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [p, anchor] = target.split('#');
        const dest = p ? path.normalize(path.join(path.dirname(file), p)) : file;
        let text: string;
        try {
          text = read(dest);
        } catch {
          broken.push(`${file}: ${target}`);
          continue;
        }
        if (anchor && !anchorsOf(text).has(anchor)) broken.push(`${file}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('the README is a short front door (under 250 lines)', () => {
    expect(read('README.md').split('\n').length).toBeLessThan(250);
  });
});

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fence = !fence;
    const m = !fence && line.match(/^#{1,6} (.*)$/);
    if (m) {
      out.add(
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      );
    }
  }
  return out;
}

type AnySchema = {
  type: string;
  entries?: Record<string, AnySchema>;
  wrapped?: AnySchema;
  pipe?: AnySchema[];
  value?: AnySchema;
};
const unwrap = (s: AnySchema): AnySchema => {
  while (s.type === 'optional' || s.type === 'nullable' || s.type === 'nullish') s = s.wrapped!;
  return s;
};

/** The schema's keys as documented: two levels (`deploy.repository`), and each function's (`functions.<name>.main`). */
function configKeys(): string[] {
  const out: string[] = [];
  const walk = (s: AnySchema, prefix: string, depth: number) => {
    const u = unwrap(s);
    if (u.type === 'record' && prefix === 'functions') {
      out.push('functions.<name>');
      const fn = unwrap(u.value!);
      for (const k of Object.keys(fn.entries ?? {})) out.push(`functions.<name>.${k}`);
      return;
    }
    if (u.entries && depth < 2) {
      for (const [k, child] of Object.entries(u.entries)) {
        const key = prefix ? `${prefix}.${k}` : k;
        const c = unwrap(child);
        if ((c.entries && depth + 1 < 2) || (c.type === 'record' && key === 'functions')) walk(child, key, depth + 1);
        else out.push(key);
      }
    }
  };
  walk(configSchema as unknown as AnySchema, '', 0);
  return out;
}
