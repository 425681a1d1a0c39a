// What an IDE needs to attach to `--debug`: VS Code's launch.json entry and GoLand's settings,
// and the facts `--debug --json` prints. Pure. The binary is built with -trimpath, so the
// paths compiled into it start with the module path, not the project's folder: substitutePath
// maps one to the other.
import path from 'node:path';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { DELVE_VERSION } from '../render/debug.js';
import { type BuildHooks, type BuildPlan, buildProject } from './build.js';

export interface DebugAttachFacts {
  port: number;
  /** The project's folder on this machine. */
  projectDir: string;
  /** The Go module path (what -trimpath compiles into the binary's file names). */
  modulePath: string;
  /** Where delve came from: the pinned release built in the image, or --delve-from's file. */
  delve: string;
}

export function vscodeLaunch(f: DebugAttachFacts): Record<string, unknown> {
  return {
    name: 'lambda-image: attach',
    type: 'go',
    request: 'attach',
    mode: 'remote',
    host: '127.0.0.1',
    port: f.port,
    substitutePath: [{ from: f.projectDir, to: f.modulePath }],
  };
}

export function golandSettings(f: DebugAttachFacts): string[] {
  return [
    'GoLand: Run > Edit Configurations > + > Go Remote',
    `  Host: 127.0.0.1   Port: ${f.port}`,
    `  Settings > Go > Debugger > Path mappings (or substitutePath): ${f.modulePath} -> ${f.projectDir}`,
  ];
}

export function debugJson(f: DebugAttachFacts): Record<string, unknown> {
  return {
    debug: {
      host: '127.0.0.1',
      port: f.port,
      delve: f.delve,
      projectDir: f.projectDir,
      modulePath: f.modulePath,
      launch: vscodeLaunch(f),
    },
  };
}

/** `--debug[=port]` as given: true (no value) is delve's usual port. */
export function debugPortFlag(value: string | boolean | undefined): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return DEFAULT_DEBUG_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65535)
    throw new LambdaImageError('INVALID_INPUT', `--debug=${value}: not a port`, {
      hint: 'give a TCP port, e.g. --debug=2345 (0: any free port)',
    });
  return Number(value);
}

/** The port a client attaches to when --debug names none. */
export const DEFAULT_DEBUG_PORT = 2345;

/**
 * Builds the project's debug variant (BuildOptions.debug) and returns its tag: `invoke --debug`
 * runs it in place of the release image.
 */
export async function buildDebugImage(engine: Engine, plan: BuildPlan, hooks: BuildHooks = {}): Promise<string> {
  if (!plan.debug) throw new Error('buildDebugImage: a plan without debug');
  const built = await buildProject(engine, plan, hooks);
  return built.images[0]!.tag;
}

/** What the attach settings say, from the project's build plan and the port the proxy took. */
export function attachFacts(plan: BuildPlan, port: number): DebugAttachFacts {
  return {
    port,
    projectDir: path.resolve(plan.dir),
    modulePath: plan.config.go?.module ?? '',
    delve: plan.debug?.delveFile ?? `delve ${DELVE_VERSION}, built in the image`,
  };
}
