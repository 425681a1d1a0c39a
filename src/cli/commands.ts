// Declares every command and its options; each action lazily imports its own module, so
// `--help` and `init` never load dockerode or the AWS SDK.
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import {
  ARCHES,
  BASES,
  GO_MODULE_MODES,
  HTTP_EVENTS,
  INVOKE_MODES,
  RUNTIMES,
  URL_AUTH_TYPES,
  VARIANTS,
  COMPILE_MODES,
} from '../app/inputs.js';
import { addBuildOptions } from './build-options.js';
import { SHELLS } from './completion.js';
import { applyExamples } from './examples.js';

const { Argument, Option } = createRequire(import.meta.url)('commander') as typeof import('commander');

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Every command that runs something takes --quiet (results and errors only) and ends its help with examples. */
function finishCommands(program: Command): void {
  const walk = (cmd: Command) => {
    for (const sub of cmd.commands) {
      if (sub.commands.length) walk(sub);
      else if (!sub.options.some((o) => o.long === '--quiet'))
        sub.option('-q, --quiet', 'print only results, warnings and errors');
    }
  };
  walk(program);
  applyExamples(program);
}

export function registerCommands(program: Command): void {
  program
    .command('init')
    .description('write a Dockerfile, entry.sh, .dockerignore and lambda-image.json for a Lambda function')
    .argument('[dir]', 'the function directory', '.')
    .addOption(new Option('--base <base>', 'base image family').choices(BASES))
    .option('--rie', 'add the Runtime Interface Emulator and entry.sh (alpine)')
    .option('--no-rie', 'leave the emulator out')
    .addOption(new Option('--arch <arch>', 'target architecture').choices(ARCHES))
    .addOption(
      new Option('--runtime <runtime>', 'build from Go sources, or package a prebuilt bootstrap').choices(RUNTIMES),
    )
    .option('--binary <path>', 'prebuilt bootstrap binary (with --runtime provided)')
    .option('--main <pkg>', 'directory of the Go main package (default: the one main package found)')
    .option(
      '--function <name=dir>',
      'a function of the project and its main package (repeatable; default: every main package found)',
      collect,
    )
    .option('--go-version <v>', 'Go version for the builder image (default: from go.mod)')
    .option(
      '--base-image <[family=]ref>',
      "base image for the project's base (a mirror, or a digest-pinned ref); as build takes it: <ref> or aws=<ref> / alpine=<ref>",
      collect,
    )
    .option('--builder-image <ref>', 'use this Go builder image (a mirror of golang:<version>-alpine)')
    .option('--name <name>', 'image name (default: the directory name)')
    .addOption(
      new Option(
        '--go-modules <mode>',
        "where Go modules come from: auto (vendor/ if present, else downloaded in the image) or host (fetched with this machine's Go and credentials, sent as vendor/)",
      ).choices(GO_MODULE_MODES),
    )
    .option('--force', 'overwrite existing files')
    .option('--dry-run', 'print what would be written, write nothing')
    .action(async (dir: string, opts) => (await import('./init.js')).runInit(dir, opts));

  addBuildOptions(
    program
      .command('build')
      .description('build and tag the image (or several variants) and report where the bytes are')
      .argument('[dir]', 'the function directory', '.')
      .option(
        '-t, --tag <name:tag>',
        'image tag (default: name:tag from lambda-image.json); :<tag> sets the tag alone (every function)',
      )
      .option('--function <name>', 'build this function of the project (repeatable; default: every function)', collect)
      .addOption(new Option('--variant <variant>', 'build one variant').choices(VARIANTS).conflicts('variants'))
      .option('--variants <list>', `comma-separated variants to build and compare (${VARIANTS.join(', ')})`)
      .addOption(new Option('--arch <arch>', 'target architecture').choices(ARCHES).conflicts('platform'))
      .option('--platform <platform>', 'target platform (linux/amd64 or linux/arm64)'),
  )
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
    .option('--layer-version <n>', 'layer version for --from-zip (default 1)')
    // The program's own -v/--version is scoped to the program (enablePositionalOptions in
    // main.ts), so "add-extension --version 2" reaches here; kept as an alias, unlisted.
    .addOption(new Option('--version <n>', 'same as --layer-version').hideHelp())
    .option(
      '--function <name>',
      'a project of several functions: give the layer to this function only (repeatable)',
      collect,
    )
    .option('--force', 'accept an architecture mismatch; replace a hand-edited Dockerfile')
    .action(async (first: string | undefined, second: string | undefined, opts) =>
      (await import('./extensions.js')).runAddExtension(first, second, opts),
    );

  const functionOptions = (cmd: Command) =>
    cmd
      .argument('[dir]', 'the function directory (its lambda-image.json names the image)', '.')
      .option('--image <ref>', "run this image instead of the project's")
      .option(
        '--function <name>',
        'a function of a project of several (invoke: the one to run; start: repeatable, default all)',
        collect,
      )
      .option('--function-name <name>', "function name (default: the config's name)")
      .option('--timeout <s>', 'function timeout in seconds (default: config, else 3)')
      .option('--memory <MB>', "memory size; the container's memory limit (default: config, else 128)")
      .option(
        '--ephemeral-storage <MB>',
        "size of /tmp, Lambda's ephemeral storage, 512 to 10240 (default: config, else 512)",
      )
      .option('--region <region>', 'AWS_REGION for the function (default: AWS_REGION, else us-east-1)')
      .option('--env <K=V>', 'environment variable for the function (repeatable)', collect)
      .option('--env-file <file>', 'environment variables from a file of KEY=value lines')
      .option('--concurrency <n>', 'warm environments to run at once', '1')
      .option(
        '--raw',
        "print the function's output and log lines byte for byte (default: control characters shown as escapes)",
      );

  addBuildOptions(
    functionOptions(
      program
        .command('invoke')
        .description(
          'run the image locally as Lambda runs it and invoke it: response on stdout, logs and REPORT lines on stderr',
        ),
    ),
    'with --debug: ',
  )
    .option(
      '--debug [port]',
      'build the debug variant and run the function under delve, a client attaching on 127.0.0.1:<port> (default 2345)',
    )
    .option('--debug-wait', 'with --debug: hold the function before its init() until a client continues')
    .option(
      '--delve-from <path>',
      "with --debug: a static delve of the image's architecture (offline), not the pinned release",
    )
    .option('--json', 'with --debug: print the port, delve and the attach settings as JSON on stdout first')
    .option('--event <file>', 'event JSON from a file, or - for stdin')
    .option(
      '-d, --data <json>',
      'event JSON inline; with --http, the request body as curl -d: @file reads a file (line breaks dropped), @- stdin',
    )
    .option('--data-binary <data>', 'with --http: the request body as curl --data-binary: @file and @- byte for byte')
    .option('--http <request>', "send an HTTP request through a front instead of an event, e.g. 'GET /items?x=1'")
    .option('-H, --header <header>', "with --http: a request header, 'Name: value' (repeatable)", collect)
    .addOption(new Option('--http-event <front>', 'with --http: the front whose event it builds').choices(HTTP_EVENTS))
    .option('--event-example <name>', 'a bundled example event ("lambda-image events" lists them)')
    .option('--set <path=value>', 'override a field of --event-example (repeatable)', collect)
    .option('--repeat <n>', 'invoke n times; prints cold and warm duration percentiles', '1')
    .option('--tenant-id <id>', "the invoke's tenant (tenant isolation): Lambda-Runtime-Aws-Tenant-Id for the runtime")
    .option('--rie', "use the image's own emulator (docker run -p PORT:8080 and POST), not lambda-image's")
    .action(async (dir: string, opts) => (await import('./invoke.js')).runInvoke(dir, opts));

  addBuildOptions(
    functionOptions(
      program
        .command('start')
        .description('keep warm environments and serve the emulator and Invoke API endpoints on a local port'),
    ),
    'with --watch: ',
  )
    .option('--port <port>', 'port of the Invoke API endpoints on 127.0.0.1', '9000')
    .option('--host <address>', 'address to listen on instead of 127.0.0.1 (0.0.0.0: every interface)')
    .option(
      '--http-port <port>',
      'also serve plain HTTP there, as a function URL or API Gateway front; several functions: each under /<name>, or <function>=<port> (repeatable)',
      collect,
    )
    .addOption(
      new Option('--http-event <front>', 'what --http-port plays: the event it builds and how it maps answers')
        .choices(HTTP_EVENTS)
        .default('url'),
    )
    .addOption(
      new Option(
        '--invoke-mode <mode>',
        'function URL invoke mode (default: config url.invokeMode, else BUFFERED)',
      ).choices(INVOKE_MODES),
    )
    .option('--watch', 'build first, then rebuild on every change and swap the running environments to the new image')
    .option('--prewarm', 'with --watch: initialise environments of the new image before swapping (no cold start)')
    .option('--json', 'with --watch: one JSON event per line on stdout (ready, rebuild-start, rebuild-done, swap, ...)')
    .addOption(
      new Option('--variant <variant>', "with --watch: the variant to build (default: the config's)").choices(VARIANTS),
    )
    .addOption(
      new Option(
        '--compile <where>',
        "with --watch: compile a Go edit in the long-lived builder (default), with the host's go, or rebuild the whole image",
      ).choices(COMPILE_MODES),
    )
    .action(async (dir: string, opts) => (await import('./start.js')).runStart(dir, opts));

  program
    .command('events')
    .description('list the bundled example events, or print one')
    .argument('[name]', 'example name')
    .option('--set <path=value>', 'override a field (repeatable), e.g. Records[0].body=hi', collect)
    .action(async (name: string | undefined, opts) => (await import('./invoke.js')).runEvents(name, opts));

  const repositoryOptions = (cmd: Command) =>
    cmd
      .option(
        '--repository <repo>',
        'an ECR repository name (looked up in --region) or a full host/path (default: config deploy.repository)',
      )
      .option('--tag <tag>', 'tag to push (default: img-<image id>, changes with the content)')
      .addOption(
        new Option(
          '--variant <variant>',
          'ship this variant of the latest build (needed when it made several)',
        ).choices(VARIANTS),
      )
      .option('--image <ref>', 'ship this local image instead of the one the latest build made')
      .option('--create-repository', 'create the ECR repository when it does not exist')
      .option('--immutable-tags', 'with --create-repository: tags cannot be overwritten')
      .option('--scan-on-push', 'with --create-repository: scan images on push')
      .option('--region <region>', 'AWS region (default: config deploy.region, else the SDK default)')
      .option('--profile <profile>', 'AWS profile for credentials')
      .option(
        '--function <name>',
        'a project of several functions: ship this one (repeatable; default: every function)',
        collect,
      )
      .option('--json', 'print the result as JSON on stdout');

  repositoryOptions(
    program
      .command('push')
      .description('push the built image, then read its manifest back and check Lambda can run it')
      .argument('[dir]', 'the function directory', '.'),
  ).action(async (dir: string, opts) => (await import('./push.js')).runPush(dir, opts));

  repositoryOptions(
    program
      .command('deploy')
      .description('push the image and point a Lambda function at it by digest (create or update), then wait')
      .argument('[dir]', 'the function directory', '.'),
  )
    .option('--function-name <name>', 'the function (default: config deploy.functionName)')
    .option('--dev', 'deploy to the dev function: config deploy.devFunctionName, else <functionName>-dev')
    .option('--image-uri <ref>', 'deploy this image, already in ECR, instead of pushing')
    .option('--role <arn>', 'execution role, needed only to create the function (default: config deploy.role)')
    .option('--force', 'update a function even when it already runs the image with these settings')
    .option('--publish', 'publish a version after the update')
    .option('--alias <name>', 'publish a version and point this alias at it')
    .option('--url', 'create or update the function URL (settings from config url) and print it')
    .addOption(
      new Option(
        '--url-auth <type>',
        'with --url: NONE (public) or AWS_IAM (default: config url.authType, else AWS_IAM)',
      ).choices(URL_AUTH_TYPES),
    )
    .addOption(
      new Option(
        '--invoke-mode <mode>',
        'with --url: BUFFERED or RESPONSE_STREAM (default: config url.invokeMode, else BUFFERED)',
      ).choices(INVOKE_MODES),
    )
    .action(async (dir: string, opts) => (await import('./deploy.js')).runDeploy(dir, opts));

  program
    .command('doctor')
    .description('check what the other commands need (engine, sandbox, images, AWS, disk), each finding with its fix')
    .argument('[dir]', 'the function directory (its lambda-image.json names the images and variant)', '.')
    .option('--json', 'the findings as JSON on stdout')
    .action(async (dir: string, opts) => (await import('./doctor.js')).runDoctorCommand(dir, opts));

  const ci = program.command('ci').description('write CI pipelines that build, push and deploy with lambda-image');
  ci.command('github')
    .description('write .github/workflows/lambda-image.yml: dev branch → dev function, main → production, OIDC only')
    .argument('[dir]', 'the function directory', '.')
    .option('--repository <repo>', 'ECR repository (default: config deploy.repository)')
    .option('--region <region>', 'AWS region (default: config deploy.region)')
    .option('--function-name <name>', 'production function, deployed from main (default: config deploy.functionName)')
    .option(
      '--dev-function-name <name>',
      'dev function, deployed from dev (default: config deploy.devFunctionName, else <function>-dev)',
    )
    .option('--role-to-assume <arn>', 'IAM role for OIDC (default: the repository variable LAMBDA_IMAGE_ROLE_ARN)')
    .option(
      '--function-role <arn>',
      'execution role for creating a missing function (default: the variable LAMBDA_IMAGE_FUNCTION_ROLE_ARN, else config deploy.role)',
    )
    .option('--github-repo <owner/name>', 'for the printed trust policy (default: from git remote origin)')
    .option(
      '--function <name>',
      'a project of several functions: deploy this one (repeatable; default: every function)',
      collect,
    )
    .option('--force', 'overwrite an existing workflow')
    .option('--dry-run', 'print the workflow, write nothing')
    .action(async (dir: string, opts) => (await import('./ci.js')).runCiGithub(dir, opts));

  const extensions = program.command('extensions').description('list or remove the layers baked into the image');
  extensions
    .command('list')
    .description('list the layers baked into the image: name, version, architecture, size, SHA-256')
    .argument('[dir]', 'the function directory', '.')
    .option('--function <name>', "a project of several functions: this function's extensions (once)", collect)
    .option('--json', 'print JSON on stdout')
    .action(async (dir: string, opts) => (await import('./extensions.js')).runListExtensions(dir, opts));
  extensions
    .command('remove')
    .description('take a layer out of the image (and out of lambda-image.json)')
    .argument('<name>', 'the layer name')
    .argument('[dir]', 'the function directory', '.')
    .option(
      '--function <name>',
      'a project of several functions: take the layer from this function only (repeatable)',
      collect,
    )
    .option('--force', 'replace a hand-edited Dockerfile')
    .action(async (name: string, dir: string, opts) =>
      (await import('./extensions.js')).runRemoveExtension(name, dir, opts),
    );

  program
    .command('completion')
    .description("print the shell completion script (commands, flags, choices, the project's function names)")
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action(async (shell: string) => (await import('./completion-command.js')).runCompletion(shell));

  finishCommands(program);
}
