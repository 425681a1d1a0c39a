// The one rule for paths: a path typed on the command line is relative to the working
// directory; a path written in lambda-image.json is relative to the project. Every path
// option and config path goes through these helpers, so the rule holds everywhere.
import path from 'node:path';
import { LambdaImageError } from '../errors.js';

/** A path the user typed (option or argument): absolute, against the working directory. */
export function typedPath(value: string): string {
  return path.resolve(process.cwd(), value);
}

/** A path from lambda-image.json: absolute, against the project directory. */
export function configPath(projectDir: string, value: string): string {
  return path.resolve(projectDir, value);
}

/**
 * The project-relative (posix) form of an absolute path that must lie inside the project,
 * e.g. a file the Docker build context has to carry. `shown` is how the user wrote it.
 */
export function insideProject(projectDir: string, absolute: string, shown: string, hint: string): string {
  const rel = path.relative(path.resolve(projectDir), absolute);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `${shown} is outside the project directory ${path.resolve(projectDir)}`,
      { hint },
    );
  }
  return rel === '' ? '.' : rel.split(path.sep).join('/');
}
