// Declares every command and its options; each action lazily imports its own module, so
// `--help` and `init` never load dockerode or the AWS SDK.
import { Command, Option } from 'commander';
import { ARCHES, BASES, RUNTIMES } from '../config/constants.js';

export const collect = (value: string, previous: string[] = []) => [...previous, value];

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
}
