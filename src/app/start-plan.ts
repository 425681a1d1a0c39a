// `start`'s one plan, pure: the functions served (a list, one or many), the Invoke API's
// address, each function's HTTP front, and the watch's build options. A rebuild under --watch
// plans again from the same flags and the config as it is then (src/app/start.ts).
import type { CompileMode } from './dev-loop.js';
import type { InvokeMode } from '../config/constants.js';
import type { HttpFront } from '../serve/http-events.js';
import { describeWholeNumber, PORT_RULE, wholeNumberTextProblem } from '../config/value-rules.js';
import { LambdaImageError } from '../errors.js';
import type { HttpFrontSettings } from '../serve/http-front.js';
import type { HttpListen } from '../serve/invoke-api.js';
import type { BuildOptions } from './build.js';
import { type FunctionOptions, type FunctionSettings, type ProjectState, planFunctions } from './invoke.js';

/** `start`'s flags, each checked already by the rule of the config key it overrides (the CLI does). */
export interface StartFlags {
  function: FunctionOptions;
  port: number;
  host: string;
  /** `--http-port <port>` or `<function>=<port>` values, as given. */
  httpPorts: readonly string[];
  httpEvent?: HttpFront;
  invokeMode?: InvokeMode;
  watch?: WatchFlags;
}

/** `--watch` and the build option group it shares with `build`. */
export interface WatchFlags {
  build: BuildOptions;
  prewarm: boolean;
  json: boolean;
  builder?: 'auto' | 'buildkit' | 'classic';
  /** How a Go edit is compiled under --watch (src/app/dev-loop.ts). */
  compile: CompileMode;
}

/** One function served: its settings and, with an HTTP front, how that front plays it. */
export interface FunctionPlan extends FunctionSettings {
  http?: HttpFrontSettings;
}

export interface StartPlan {
  dir: string;
  functions: FunctionPlan[];
  invokeApi: { host: string; port: number };
  /** The HTTP fronts' ports: `functions` undefined serves every function (a function added under watch too). */
  httpPorts: HttpListen[];
  watch?: WatchFlags;
  /** The flags it was planned from: a rebuild plans again from them. */
  flags: StartFlags;
}

/** `start`'s plan from its flags and the project as read (pure; bad input fails here, before any engine). */
export function planStart(flags: StartFlags, project: ProjectState): StartPlan {
  const { port, host } = flags;
  const ports = parseHttpPorts(flags.httpPorts, port);
  if (!ports.length && (flags.invokeMode || (flags.httpEvent !== undefined && flags.httpEvent !== 'url')))
    throw new LambdaImageError('INVALID_INPUT', '--http-event and --invoke-mode need --http-port', {
      hint: 'for example --http-port 8080',
    });
  if (flags.watch && flags.function.image !== undefined)
    throw new LambdaImageError('INVALID_INPUT', '--watch rebuilds the project: it cannot serve --image', {
      hint: 'run start --watch in the project folder (or give its path), without --image',
    });
  const settings = planFunctions(flags.function, project, 'start');
  const names = settings.map((p) => p.name);
  const httpPorts: HttpListen[] = [];
  for (const p of ports) {
    if (p.function !== undefined && !names.includes(p.function))
      throw new LambdaImageError(
        'INVALID_INPUT',
        `${p.flag}: no function named ${JSON.stringify(p.function)} is served (${names.join(', ')})`,
        { hint: `name one of them: ${names.map((n) => `--http-port ${n}=<port>`).join(', ')}` },
      );
    httpPorts.push({ port: p.port, ...(p.function === undefined ? {} : { functions: [p.function] }) });
  }
  const front = flags.httpEvent ?? 'url';
  const functions = settings.map((plan): FunctionPlan => {
    if (!httpPorts.length) return plan;
    const url = plan.config?.url;
    const invokeMode = flags.invokeMode ?? url?.invokeMode ?? 'BUFFERED';
    if (front !== 'url' && invokeMode === 'RESPONSE_STREAM')
      throw new LambdaImageError(
        'INVALID_INPUT',
        `--invoke-mode RESPONSE_STREAM is a function URL mode, not ${front}'s${settings.length > 1 ? ` (function ${plan.name})` : ''}`,
        { hint: 'use --http-event url to stream, or leave the invoke mode BUFFERED' },
      );
    const binaryMediaTypes = plan.config?.restApi?.binaryMediaTypes;
    return {
      ...plan,
      http: {
        front,
        invokeMode,
        cors: url?.cors,
        tenantIdHeader: url?.tenantIdHeader,
        ...(url?.domain ? { domain: url.domain } : {}),
        ...(binaryMediaTypes ? { binaryMediaTypes } : {}),
      },
    };
  });
  const watch = flags.watch && {
    ...flags.watch,
    build: {
      ...flags.watch.build,
      ...(flags.function.functions?.length ? { functions: flags.function.functions } : {}),
    },
  };
  return {
    dir: flags.function.dir ?? '.',
    functions,
    invokeApi: { host, port },
    httpPorts,
    ...(watch ? { watch } : {}),
    flags,
  };
}

/** What a re-plan changed in one function's settings (its names for the watch's line and events). */
export function settingsChanged(before: FunctionPlan, after: FunctionPlan): string[] {
  const changed: string[] = [];
  if (before.memoryMb !== after.memoryMb) changed.push('memorySize');
  if (before.timeoutSec !== after.timeoutSec) changed.push('timeout');
  if (before.ephemeralMb !== after.ephemeralMb) changed.push('ephemeralStorage');
  if (JSON.stringify(before.env) !== JSON.stringify(after.env)) changed.push('environment');
  if (JSON.stringify(before.http?.cors) !== JSON.stringify(after.http?.cors)) changed.push('url.cors');
  if (before.http?.invokeMode !== after.http?.invokeMode) changed.push('url.invokeMode');
  if (before.http?.domain !== after.http?.domain) changed.push('url.domain');
  if (JSON.stringify(before.http?.binaryMediaTypes) !== JSON.stringify(after.http?.binaryMediaTypes))
    changed.push('restApi.binaryMediaTypes');
  return changed;
}

/** `--http-port` values: `<port>` (every function served, by `/<name>` prefix when several) or `<function>=<port>`. */
interface HttpPortFlag {
  port: number;
  function?: string;
  flag: string;
}

function portOf(value: string, flag: string): number {
  if (wholeNumberTextProblem(value, PORT_RULE))
    throw new LambdaImageError(
      'INVALID_INPUT',
      `${flag} ${JSON.stringify(value)} is not ${describeWholeNumber(PORT_RULE)}`,
      {
        hint: `for example ${flag} 9000`,
      },
    );
  return Number(value);
}

function parseHttpPorts(values: readonly string[], apiPort: number): HttpPortFlag[] {
  const out: HttpPortFlag[] = [];
  for (const value of values) {
    const eq = value.indexOf('=');
    const name = eq < 0 ? undefined : value.slice(0, eq);
    const flag = `--http-port ${value}`;
    if (name === '')
      throw new LambdaImageError('INVALID_INPUT', `${flag}: no function before the =`, {
        hint: 'give --http-port <port> (every function) or --http-port <function>=<port>',
      });
    const port = portOf(eq < 0 ? value : value.slice(eq + 1), '--http-port');
    if (port !== 0 && port === apiPort)
      throw new LambdaImageError('INVALID_INPUT', `--http-port ${port} is also the --port`, {
        hint: 'give the HTTP front a port of its own',
      });
    const taken = out.find((o) => port !== 0 && o.port === port);
    if (taken)
      throw new LambdaImageError('INVALID_INPUT', `${flag} and ${taken.flag} ask for the same port`, {
        hint: 'give each HTTP front a port of its own; one port serves several functions by /<name> prefix',
      });
    if (name === undefined && out.some((o) => o.function === undefined))
      throw new LambdaImageError('INVALID_INPUT', `${flag}: give one port for every function`, {
        hint: 'one --http-port <port> serves every function (under /<name> when there are several); others name theirs: --http-port orders=8081',
      });
    if (name !== undefined && out.some((o) => o.function === name))
      throw new LambdaImageError('INVALID_INPUT', `${flag}: ${name} has a port already`, {
        hint: 'give each function one --http-port <function>=<port>',
      });
    out.push({ port, function: name, flag });
  }
  return out;
}
