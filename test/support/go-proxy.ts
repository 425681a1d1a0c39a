// Test helper: Go modules of the tests' own making, served the way GOPROXY=file://<dir> reads
// them (<module>/@v/list, .info, .mod, .zip), so no module ever comes from the network.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface ModuleSource {
  path: string;
  version: string;
  /** File name -> content, go.mod excluded (it is written from `path`). */
  files: Record<string, string>;
}

/** Adds one module version to a file proxy directory (created when absent). */
export function addToFileProxy(proxyDir: string, mod: ModuleSource): void {
  const vDir = path.join(proxyDir, mod.path, '@v');
  mkdirSync(vDir, { recursive: true });
  const goMod = `module ${mod.path}\n\ngo 1.19\n`;
  const stage = path.join(proxyDir, '.zip-src');
  const root = path.join(stage, `${mod.path}@${mod.version}`);
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'go.mod'), goMod);
  for (const [name, content] of Object.entries(mod.files)) writeFileSync(path.join(root, name), content);
  // -D: no directory entries (module zips hold files only).
  execFileSync('zip', ['-q', '-r', '-D', path.join(vDir, `${mod.version}.zip`), `${mod.path}@${mod.version}`], {
    cwd: stage,
  });
  rmSync(stage, { recursive: true, force: true });
  writeFileSync(path.join(vDir, `${mod.version}.mod`), goMod);
  writeFileSync(
    path.join(vDir, `${mod.version}.info`),
    JSON.stringify({ Version: mod.version, Time: '2024-01-01T00:00:00Z' }),
  );
  writeFileSync(path.join(vDir, 'list'), `${mod.version}\n`);
}

/** A `package <name>` with one function Message() returning `message`. */
export function messagePackage(name: string, message: string): string {
  return `package ${name}\n\n// Message is what the test function answers with.\nfunc Message() string { return ${JSON.stringify(message)} }\n`;
}

/** Turns a copy of fixtures/go-hello into a function answering with `<pkg>.Message()` of module `modPath`. */
export function useModuleInHello(dir: string, modPath: string, version: string, goDirective = '1.23'): void {
  const pkg = modPath.split('/').pop()!;
  const main = path.join(dir, 'main.go');
  const src = readFileSync(main, 'utf8')
    .replace('"os"\n)', `"os"\n\n\t"${modPath}"\n)`)
    .replace('response{Message: "Hello AWS Lambda"}', `response{Message: ${pkg}.Message()}`);
  writeFileSync(main, src);
  writeFileSync(
    path.join(dir, 'go.mod'),
    `module example.com/go-hello\n\ngo ${goDirective}\n\nrequire ${modPath} ${version}\n`,
  );
}
