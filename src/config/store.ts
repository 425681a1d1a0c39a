// Loading lambda-image.json from a project directory (writes go through the project's file plan, under the config lock).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';
import { readTextIfExists } from '../util/fs.js';
import { CONFIG_FILE, parseConfig, type Config } from './schema.js';

export async function loadConfigIfExists(dir: string): Promise<Config | undefined> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) {
    throw new LambdaImageError('INVALID_INPUT', `${dir} is not a directory`, {
      hint: "pass the function's directory (the one holding lambda-image.json)",
    });
  }
  const file = path.join(dir, CONFIG_FILE);
  const text = await readTextIfExists(file);
  if (text === undefined) return undefined;
  const result = parseConfig(text);
  if (result.errors.length) {
    throw new LambdaImageError('CONFIG_INVALID', `${file} is invalid: ${result.errors.join('; ')}`, {
      hint: `fix the file by hand, or recreate it with "lambda-image init --force"`,
    });
  }
  return result.config!;
}

export async function loadConfig(dir: string): Promise<Config> {
  const config = await loadConfigIfExists(dir);
  if (!config) {
    throw new LambdaImageError('CONFIG_INVALID', `no ${CONFIG_FILE} in ${path.resolve(dir)}`, {
      hint: 'run "lambda-image init" in the function\'s directory first',
    });
  }
  return config;
}
