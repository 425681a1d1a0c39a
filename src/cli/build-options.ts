// The build option group: declared once, parsed once, for `build` and for `start --watch`
// (whose rebuilds are built as `build` builds), as docker/cli shares one flag group between
// `create` and `run`.
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import type { BuildOptions } from '../app/build.js';
import { emulatorSourceProblem, GO_MODULE_MODES } from '../app/inputs.js';
import { checkedFlag, parseBaseImageFlags, parsePairs } from './args.js';

const { Option } = createRequire(import.meta.url)('commander') as typeof import('commander');
const collect = (value: string, previous: string[] = []) => [...previous, value];

export interface BuildGroupCliOptions {
  buildArg?: string[];
  baseImage?: string[];
  builderImage?: string;
  goModules?: 'auto' | 'host';
  /** commander's --no-cache: false when given. */
  cache?: boolean;
  pull?: boolean;
  rieFrom?: string;
  builder?: 'auto' | 'buildkit' | 'classic';
}

/** Each option of the group and its flag (to name one given without --watch). */
export const BUILD_GROUP_FLAGS: ReadonlyArray<[keyof BuildGroupCliOptions, string]> = [
  ['buildArg', '--build-arg'],
  ['baseImage', '--base-image'],
  ['builderImage', '--builder-image'],
  ['goModules', '--go-modules'],
  ['cache', '--no-cache'],
  ['pull', '--pull'],
  ['rieFrom', '--rie-from'],
  ['builder', '--builder'],
];

/** Declares the group on a command; `prefix` starts each description (start's "with --watch: "). */
export function addBuildOptions(cmd: Command, prefix = ''): Command {
  return cmd
    .option('--build-arg <K=V>', `${prefix}build argument (repeatable)`, collect)
    .option(
      '--base-image <[family=]ref>',
      `${prefix}base image for the build, e.g. a mirror: <ref> for the project's base, or aws=<ref> / alpine=<ref> (repeatable)`,
      collect,
    )
    .option('--builder-image <ref>', `${prefix}Go builder image (a mirror of golang:<version>-alpine)`)
    .addOption(
      new Option(
        '--go-modules <mode>',
        `${prefix}where Go modules come from: auto (vendor/ if present, else downloaded in the image) or host (fetched with this machine's Go and credentials, sent as vendor/)`,
      ).choices(GO_MODULE_MODES),
    )
    .option('--no-cache', `${prefix}do not use the build cache`)
    .option('--pull', `${prefix}always pull newer base images`)
    .option('--rie-from <path|url>', `${prefix}take the emulator from this file (offline builds) or URL`)
    .addOption(
      new Option('--builder <builder>', `${prefix}force a builder (default auto)`).choices([
        'auto',
        'buildkit',
        'classic',
      ]),
    );
}

/** The group's flags as `build` takes them, each checked by the rule of the config key it overrides. */
export function buildOptionsFrom(opts: BuildGroupCliOptions): BuildOptions {
  return {
    buildArgs: parsePairs(opts.buildArg ?? [], '--build-arg'),
    baseImages: parseBaseImageFlags(opts.baseImage ?? []),
    builderImage: opts.builderImage,
    goModules: opts.goModules,
    noCache: opts.cache === false,
    pull: opts.pull,
    rieFrom: checkedFlag(opts.rieFrom, '--rie-from', emulatorSourceProblem, './aws-lambda-rie'),
  };
}

/** The first of the group's flags given (commander sets `cache` true unless --no-cache). */
export function givenBuildFlag(opts: BuildGroupCliOptions): string | undefined {
  return BUILD_GROUP_FLAGS.find(([key]) => (key === 'cache' ? opts.cache === false : opts[key] !== undefined))?.[1];
}
