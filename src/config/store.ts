// Loading lambda-image.json from a project directory (writes go through the project's file plan, under the config lock).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { LambdaImageError } from '../errors.js';
import { ioError } from '../util/fs.js';
import { readRegularFileCapped } from '../util/read-capped.js';
import { CONFIG_FILE, parseConfig, type Config } from './schema.js';

/** Far more than any real config (a few hundred bytes), far less than a runaway file. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

export async function loadConfigIfExists(dir: string): Promise<Config | undefined> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (st && !st.isDirectory()) {
    throw new LambdaImageError('INVALID_INPUT', `${dir} is not a directory`, {
      hint: "pass the function's directory (the one holding lambda-image.json)",
    });
  }
  const file = path.join(dir, CONFIG_FILE);
  const read = await readRegularFileCapped(file, MAX_CONFIG_BYTES).catch((err: unknown) => {
    throw ioError(err, `cannot read ${file}`);
  });
  if (read.kind === 'missing') return undefined;
  if (read.kind === 'not-regular')
    throw new LambdaImageError('CONFIG_INVALID', `${file} is ${read.what}, not a regular file`, {
      hint: `replace it with the JSON file itself (lambda-image init --force writes a new one)`,
    });
  if (read.kind === 'too-large')
    throw new LambdaImageError('CONFIG_INVALID', `${file} is larger than ${MAX_CONFIG_BYTES} bytes`, {
      hint: `a ${CONFIG_FILE} is a few hundred bytes: check that it is the right file`,
    });
  const result = parseConfig(read.text);
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
