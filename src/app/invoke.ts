// `invoke` and `start`: which image and function identity to run, the environments behind
// them, and Lambda's platform lines for every invoke.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { parseImageReference } from '../config/image-reference.js';
import type { Config } from '../config/schema.js';
import { loadConfig } from '../config/store.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { MAX_PAYLOAD_BYTES } from '../emulator/lambda-api.js';
import { SandboxPool, type PoolInvoke } from '../emulator/pool.js';
import { endLine, initReportLine, reportLine, startLine, summarize, timeoutMessage, type DurationSummary } from '../emulator/report.js';
import { inspectFunctionImage, type ImageFacts } from '../emulator/sandbox.js';

export interface FunctionOptions {
  dir?: string;
  image?: string;
  functionName?: string;
  timeoutSec?: number;
  memoryMb?: number;
  region?: string;
  env?: Record<string, string>;
  concurrency?: number;
}

export interface LocalFunction {
  facts: ImageFacts;
  name: string;
  timeoutSec: number;
  memoryMb: number;
  pool: SandboxPool;
}

export interface PlatformHooks {
  /** START / END / REPORT / INIT_REPORT and timeout lines, in Lambda's format. */
  onPlatformLine(line: string): void;
  /** The function's and extensions' own output. */
  onOutput(line: string): void;
}

export interface FunctionSettings {
  config?: Config;
  image: string;
  name: string;
  timeoutSec: number;
  memoryMb: number;
}

/** The image and settings to run: flags, then lambda-image.json, then Lambda's defaults. */
export async function resolveFunctionSettings(opts: FunctionOptions): Promise<FunctionSettings> {
  if (opts.image !== undefined) parseImageReference(opts.image, '--image');
  const config = opts.image !== undefined ? undefined : await loadConfig(opts.dir ?? '.');
  const image = opts.image ?? `${config!.name}:${config!.tag}`;
  const name = opts.functionName ?? config?.name ?? path.basename(image.split(':')[0]!);
  const timeoutSec = opts.timeoutSec ?? config?.timeout ?? 3;
  const memoryMb = opts.memoryMb ?? config?.memorySize ?? 128;
  if (!(timeoutSec >= 1 && timeoutSec <= 900)) throw new LambdaImageError('INVALID_INPUT', `timeout ${timeoutSec} is out of range`, { hint: 'Lambda allows 1 to 900 seconds' });
  if (!(Number.isInteger(memoryMb) && memoryMb >= 128 && memoryMb <= 10240)) {
    throw new LambdaImageError('INVALID_INPUT', `memory ${memoryMb} MB is out of range`, { hint: 'Lambda allows 128 to 10240 MB' });
  }
  return { config, image, name, timeoutSec, memoryMb };
}

/** Works out the image and settings and makes the pool of environments. */
export async function prepareFunction(engine: Engine, opts: FunctionOptions, hooks: PlatformHooks): Promise<LocalFunction> {
  const { config, image, name, timeoutSec, memoryMb } = await resolveFunctionSettings(opts);
  const facts = await inspectFunctionImage(engine, image);
  const region = opts.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const handler = config?.handler ?? facts.cmd[0] ?? 'bootstrap';
  const pool = new SandboxPool(
    engine,
    facts,
    {
      identity: { functionName: name, functionArn: `arn:aws:lambda:${region}:000000000000:function:${name}`, version: '$LATEST', handler },
      memoryMb,
      region,
      env: opts.env ?? {},
      session: randomUUID(),
      onOutput: hooks.onOutput,
      timeoutSec,
    },
    Math.max(1, opts.concurrency ?? 1),
    {
      onStart: (id) => hooks.onPlatformLine(startLine(id)),
      onDone: (o, maxMemoryMb) => {
        for (const line of platformLines(o, memoryMb, timeoutSec, maxMemoryMb)) hooks.onPlatformLine(line);
      },
    },
  );
  return { facts, name, timeoutSec, memoryMb, pool };
}

/** The lines Lambda logs after an invoke (or a failed init). */
export function platformLines(o: PoolInvoke, memoryMb: number, timeoutSec: number, maxMemoryMb?: number): string[] {
  if (o.initError) return [initReportLine(o.initError.initMs, o.initError.errorType === 'Runtime.InitTimeout' ? 'timeout' : 'error', o.initError.errorType)];
  const lines: string[] = [];
  if (o.timedOut) lines.push(timeoutMessage(o.requestId, timeoutSec));
  lines.push(endLine(o.requestId));
  lines.push(
    reportLine({
      requestId: o.requestId,
      durationMs: o.durationMs,
      memoryMb,
      maxMemoryMb,
      initMs: o.initMs,
      status: o.timedOut ? 'timeout' : o.result.kind === 'error' && o.result.errorType === 'Runtime.ExitError' ? 'error' : undefined,
      errorType: o.result.kind === 'error' && o.result.errorType === 'Runtime.ExitError' ? 'Runtime.ExitError' : undefined,
    }),
  );
  return lines;
}

export function checkPayload(payload: Buffer): void {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new LambdaImageError('INVALID_INPUT', `the event is ${payload.length} bytes; Lambda accepts at most ${MAX_PAYLOAD_BYTES} for a synchronous invoke`, {
      hint: 'send a smaller event (large data belongs in S3, with its key in the event)',
    });
  }
}

export interface RepeatResult {
  outcomes: PoolInvoke[];
  cold?: DurationSummary;
  warm?: DurationSummary;
}

/** N invokes over the pool's warm environments, C at a time; each answered once, in any order. */
export async function invokeRepeatedly(fn: LocalFunction, payload: Buffer, count: number, concurrency: number): Promise<RepeatResult> {
  checkPayload(payload);
  const outcomes: PoolInvoke[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      outcomes.push(await fn.pool.invoke(payload));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const ok = outcomes.filter((o) => !o.initError);
  return {
    outcomes,
    cold: summarize(ok.filter((o) => o.cold).map((o) => o.durationMs + (o.initMs ?? 0))),
    warm: summarize(ok.filter((o) => !o.cold).map((o) => o.durationMs)),
  };
}
