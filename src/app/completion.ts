// What shell completion needs to know about the project in the current folder: its
// functions' names (for --function). Read leniently (a config that is still being written
// completes what it names) and never fails: no config, or an unreadable one, completes nothing.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_FILE } from '../config/constants.js';
import { FUNCTION_KEY } from '../config/schema.js';
import { MAX_CONFIG_BYTES } from '../config/store.js';

export function projectFunctionNames(dir: string): string[] {
  try {
    const file = path.join(dir, CONFIG_FILE);
    const st = statSync(file);
    if (!st.isFile() || st.size > MAX_CONFIG_BYTES) return [];
    const config = JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as { functions?: unknown };
    const functions = config.functions;
    if (!functions || typeof functions !== 'object' || Array.isArray(functions)) return [];
    return Object.keys(functions).filter((name) => FUNCTION_KEY.test(name));
  } catch {
    return [];
  }
}
