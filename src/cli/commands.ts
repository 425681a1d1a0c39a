// Declares every command and its options; each action lazily imports its own module, so
// `--help` and `init` never load dockerode or the AWS SDK.
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { ARCHES, BASES, RUNTIMES, VARIANTS } from '../config/constants.js';

const { Option } = createRequire(import.meta.url)('commander') as typeof import('commander');

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerCommands(program: Command): void {
  program
    .command('init')
    .description('write a Dockerfile, entry.sh, .dockerignore and lambda-image.json for a Lambda function')
    .argument('[dir]', 'the function directory', '.')
    .addOption(new Option('--base <base>', 'base image family').choices(BASES))
    .option('--rie', 'add the Runtime Interface Emulator and entry.sh (alpine)')
    .option('--no-rie', 'leave the emulator out')
    .addOption(new Option('--arch <arch>', 'target architecture').choices(ARCHES))
    .addOption(new Option('--runtime <runtime>', 'build from Go sources, or package a prebuilt bootstrap').choices(RUNTIMES))
    .option('--binary <path>', 'prebuilt bootstrap binary (with --runtime provided)')
    .option('--main <pkg>', 'directory of the Go main package', '.')
    .option('--go-version <v>', 'Go version for the builder image (default: from go.mod)')
    .option('--base-image <ref>', 'use this base image reference (a mirror, or a digest-pinned ref)')
    .option('--name <name>', 'image name (default: the directory name)')
    .option('--force', 'overwrite existing files')
    .option('--dry-run', 'print what would be written, write nothing')
    .action(async (dir: string, opts) => (await import('./init.js')).runInit(dir, opts));

  program
    .command('build')
    .description('build and tag the image (or several variants) and report where the bytes are')
    .argument('[dir]', 'the function directory', '.')
    .option('-t, --tag <name:tag>', 'image tag (default: name:tag from lambda-image.json)')
    .addOption(new Option('--variant <variant>', 'build one variant').choices(VARIANTS).conflicts('variants'))
    .option('--variants <list>', `comma-separated variants to build and compare (${VARIANTS.join(', ')})`)
    .addOption(new Option('--arch <arch>', 'target architecture').choices(ARCHES).conflicts('platform'))
    .option('--platform <platform>', 'target platform (linux/amd64 or linux/arm64)')
    .option('--build-arg <K=V>', 'build argument (repeatable)', collect)
    .option('--no-cache', 'do not use the build cache')
    .option('--pull', 'always pull newer base images')
    .option('--rie-from <path|url>', 'take the emulator from this file (offline builds) or URL')
    .addOption(new Option('--builder <builder>', 'force a builder').choices(['auto', 'buildkit', 'classic']).default('auto'))
    .option('--json', 'print the report as JSON on stdout')
    .option('--verbose', 'show the full build log')
    .action(async (dir: string, opts) => (await import('./build.js')).runBuild(dir, opts));

  program
    .command('add-extension')
    .description('fetch a Lambda layer by ARN (or from a zip), verify it, and bake it into the image under /opt')
    .argument('[layer-arn]', 'arn:aws:lambda:<region>:<account>:layer:<name>:<version>')
    .argument('[dir]', 'the function directory (default .)')
    .option('--region <region>', "AWS region to ask (default: the ARN's)")
    .option('--profile <profile>', 'AWS profile for credentials')
    .option('--from-zip <file>', 'add a layer zip from disk instead of an ARN')
    .option('--name <name>', 'layer name for --from-zip (default: the file name)')
    .option('--version <n>', 'layer version for --from-zip (default 1)')
    .option('--force', 'accept an architecture mismatch; replace a hand-edited Dockerfile')
    .action(async (first: string | undefined, second: string | undefined, opts) =>
      (await import('./extensions.js')).runAddExtension(first, second, opts),
    );

  const extensions = program.command('extensions').description('list or remove the layers baked into the image');
  extensions
    .command('list')
    .argument('[dir]', 'the function directory', '.')
    .option('--json', 'print JSON on stdout')
    .action(async (dir: string, opts) => (await import('./extensions.js')).runListExtensions(dir, opts));
  extensions
    .command('remove')
    .argument('<name>', 'the layer name')
    .argument('[dir]', 'the function directory', '.')
    .option('--force', 'replace a hand-edited Dockerfile')
    .action(async (name: string, dir: string, opts) => (await import('./extensions.js')).runRemoveExtension(name, dir, opts));
}
