// The `go build` the rendered Dockerfile's build stage runs, as data: the environment and the
// arguments, so the watch's long-lived builder compiles exactly as the shipped image was compiled.
// A test holds it to the rendered Dockerfile's line, so the two cannot drift apart.
import { GO_MODULE_SETTINGS } from '../config/constants.js';
import { dockerArchitecture } from './images.js';
import type { RenderSpec } from './variant.js';

/** Where the compiled binary lands in the build stage, and where the final stage puts it. */
export const GO_BINARY_OUT = '/out/bootstrap';
export const FUNCTION_BINARY_PATH = '/var/runtime/bootstrap';

export interface GoCompile {
  /** The environment `go build` runs with (the stage's ENV, its ARGs that are set, and the command's own). */
  env: Record<string, string>;
  /** `go` and its arguments, up to (not including) the output path and the main package. */
  args: string[];
  /** The main package, as the Dockerfile names it. */
  main: string;
}

/**
 * The compile of one function's binary as the build stage makes it; undefined for what the dev
 * loop does not compile itself (not Go). In a project of several functions, `fn` names the
 * function: its main package alone, with the flags of the stage's one `go build` of them all.
 */
export function goCompileFor(spec: RenderSpec, buildArgs: Record<string, string>, fn?: string): GoCompile | undefined {
  if (spec.runtime !== 'go') return undefined;
  const main = spec.functions ? spec.functions.find((f) => f.name === fn)?.goMain : spec.goMain;
  if (!main) return undefined;
  const env: Record<string, string> = {};
  // Only the module settings are ARGs of the Go stages: any other build argument never reaches go.
  for (const name of GO_MODULE_SETTINGS) if (buildArgs[name] !== undefined) env[name] = buildArgs[name];
  Object.assign(env, {
    GOMODCACHE: '/go/pkg/mod',
    GOCACHE: '/root/.cache/go-build',
    CGO_ENABLED: '0',
    GOOS: 'linux',
    GOARCH: dockerArchitecture(spec.arch),
  });
  const args = [
    'go',
    'build',
    ...(spec.goVendor ? ['-mod=vendor'] : []),
    '-trimpath',
    '-ldflags=-s -w',
    '-tags',
    'lambda.norpc',
  ];
  return { env, args, main };
}

/** The compile as the Dockerfile writes it (shell quoting of -ldflags), for the drift test. */
export function goCompileLine(c: GoCompile): string {
  const quoted = c.args.map((a) => (a.startsWith('-ldflags=') ? `-ldflags="${a.slice('-ldflags='.length)}"` : a));
  return `${quoted.join(' ')} -o ${GO_BINARY_OUT} ${c.main}`;
}
