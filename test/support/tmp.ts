// Test helper: throw-away project directories, copied from fixtures.
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { REPO_ROOT } from './cli.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export function tmpDir(prefix = 'lambda-image-test-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

/** A fresh copy of a fixture (e.g. "go-hello") in a temporary directory. */
export function fixtureCopy(name: string): string {
  const d = path.join(tmpDir(), name);
  cpSync(path.join(REPO_ROOT, 'fixtures', name), d, { recursive: true });
  return d;
}

export function listFiles(dir: string): string[] {
  return readdirSync(dir).sort();
}
