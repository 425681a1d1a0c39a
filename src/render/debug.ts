// The debug variant of a Go function's Dockerfile (`invoke --debug`, `start --debug`): the same
// stages and base, the function compiled without optimisations or inlining (-gcflags=all=-N -l)
// and with its symbols (no -s -w), and delve added to the final stage. Pure apart from templates.
import { LambdaImageError } from '../errors.js';
import { renderDockerfile, renderTemplate } from './render.js';
import type { RenderSpec } from './variant.js';

/** The delve release the debug variant builds (`go install ...@DELVE_VERSION`). */
export const DELVE_VERSION = 'v1.21.2';
/** Where delve lands in the debug image. */
export const DELVE_PATH = '/usr/local/bin/dlv';
/** Where --delve-from's file goes in the build context. */
export const DELVE_CONTEXT_PATH = '.lambda-image/debug/dlv';

export type DelveSource = { kind: 'install'; version: string } | { kind: 'context'; path: string };

const RELEASE_FLAGS = '-ldflags="-s -w"';
const DEBUG_FLAGS = '-gcflags="all=-N -l"';

/** The debug variant's Dockerfile for a one-function Go project. */
export function renderDebugDockerfile(spec: RenderSpec, delve: DelveSource): string {
  if (spec.runtime !== 'go')
    throw new LambdaImageError('INVALID_INPUT', '--debug steps through Go functions, and this project is "provided"', {
      hint: 'a provided binary is built outside lambda-image: build it with symbols and run delve yourself',
    });
  if (spec.functions)
    throw new LambdaImageError('INVALID_INPUT', '--debug serves one function, and this project has several', {
      hint: 'not yet supported for a project of several functions: debug one function from its own project',
    });
  const release = renderDockerfile(spec);
  if (!release.includes(RELEASE_FLAGS))
    throw new Error(`the Go build no longer says ${RELEASE_FLAGS}: update debug.ts`);
  const text = release.replaceAll(RELEASE_FLAGS, DEBUG_FLAGS);
  // The final stage is the last FROM: delve's stage goes before it, its binary at its end.
  const lines = text.trimEnd().split('\n');
  let last = lines.length - 1;
  while (last > 0 && !lines[last]!.startsWith('FROM ')) last--;
  while (last > 0 && lines[last - 1]!.startsWith('#')) last--;
  const stage = template({
    builderImage: spec.builderImage ?? '',
    delveVersion: delve.kind === 'install' ? delve.version : '',
    delveFromContext: delve.kind === 'context' ? delve.path : '',
  });
  return [
    ...lines.slice(0, last),
    stage.trimEnd(),
    '',
    ...lines.slice(last),
    '# Debug variant: delve runs the bootstrap (lambda-image --debug starts it so).',
    `COPY --from=delve /out/dlv ${DELVE_PATH}`,
    '',
  ].join('\n');
}

function template(data: Record<string, string>): string {
  return renderTemplate('debug-delve.hbs', data);
}
