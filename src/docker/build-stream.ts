// Reads the engine's build stream (newline-delimited JSON) for both builders: classic
// "Step n/m" text and BuildKit's protobuf trace. An errorDetail line fails the build.
import { createRequire } from 'node:module';
import path from 'node:path';
import { LineSplitter } from '../util/lines.js';

export interface BuildStep {
  id: string;
  name: string;
  cached: boolean;
  done: boolean;
  error?: string;
  logs: string[];
}

export type BuildEvent = { type: 'step'; step: BuildStep } | { type: 'log'; step: BuildStep | undefined; line: string };

export interface BuildOutcome {
  imageId?: string;
  steps: BuildStep[];
  /** The engine's error message, when the stream carried one. */
  error?: string;
}

interface Vertex {
  digest: string;
  name: string;
  cached: boolean;
  started?: unknown;
  completed?: unknown;
  error: string;
}
interface VertexLog {
  vertex: string;
  msg: Uint8Array;
}
interface StatusResponse {
  vertexes: Vertex[];
  logs: VertexLog[];
}

type Decoder = (aux: string) => StatusResponse;
let decoder: Decoder | undefined;

/** BuildKit's trace is a protobuf StatusResponse; dockerode ships its schema. */
async function loadDecoder(): Promise<Decoder> {
  if (decoder) return decoder;
  const require = createRequire(import.meta.url);
  const protoFile = path.join(
    path.dirname(require.resolve('dockerode/package.json')),
    'lib',
    'proto',
    'buildkit_status.proto',
  );
  const { default: protobuf } = await import('protobufjs');
  const type = protobuf.loadSync(protoFile).lookupType('moby.buildkit.v1.StatusResponse');
  decoder = (aux) => type.toObject(type.decode(Buffer.from(aux, 'base64')), { defaults: true }) as StatusResponse;
  return decoder;
}

export class BuildStreamParser {
  private readonly lines = new LineSplitter((line) => {
    if (line.trim()) this.line(line);
  });
  private readonly steps = new Map<string, BuildStep>();
  private readonly started = new Set<string>();
  private current: BuildStep | undefined;
  private imageId: string | undefined;
  private error: string | undefined;
  private decode: Decoder | undefined;

  constructor(private readonly onEvent: (e: BuildEvent) => void = () => {}) {}

  async init(): Promise<this> {
    this.decode = await loadDecoder();
    return this;
  }

  push(chunk: Buffer | string): void {
    this.lines.push(chunk);
  }

  end(): BuildOutcome {
    this.lines.end();
    return { imageId: this.imageId, steps: [...this.steps.values()], error: this.error };
  }

  private line(line: string): void {
    let msg: {
      stream?: string;
      error?: string;
      errorDetail?: { message?: string };
      aux?: { ID?: string } | string;
      id?: string;
      status?: string;
    };
    try {
      msg = JSON.parse(line);
    } catch {
      this.log(this.current, line);
      return;
    }
    if (msg.errorDetail || msg.error) {
      this.error = msg.errorDetail?.message ?? msg.error ?? 'build failed';
      if (this.current && !this.current.done) this.current.error ??= this.error;
      return;
    }
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
      this.trace(msg.aux);
      return;
    }
    if (msg.aux && typeof msg.aux === 'object' && msg.aux.ID) {
      this.imageId = msg.aux.ID;
      return;
    }
    if (msg.stream) for (const text of msg.stream.split('\n')) if (text.trim()) this.classic(text);
    if (msg.status) this.log(this.current, msg.id ? `${msg.id}: ${msg.status}` : msg.status);
  }

  /** Classic builder text: "Step 3/9 : RUN ...", " ---> Using cache", output, " ---> <id>". */
  private classic(text: string): void {
    const stepMatch = /^Step (\d+)\/(\d+) : (.*)$/.exec(text);
    if (stepMatch) {
      if (this.current) this.current.done = true;
      const step: BuildStep = {
        id: `step-${stepMatch[1]}`,
        name: `[${stepMatch[1]}/${stepMatch[2]}] ${stepMatch[3]}`,
        cached: false,
        done: false,
        logs: [],
      };
      this.steps.set(step.id, step);
      this.current = step;
      this.onEvent({ type: 'step', step });
      return;
    }
    if (this.current && /^ ---> Using cache$/.test(text)) {
      this.current.cached = true;
      return;
    }
    if (/^ ---> /.test(text) || /^Removing intermediate container /.test(text)) return;
    const built = /^Successfully built ([0-9a-f]+)$/.exec(text);
    if (built) {
      if (this.current) this.current.done = true;
      this.imageId ??= built[1];
      return;
    }
    if (/^Successfully tagged /.test(text)) return;
    this.log(this.current, text);
  }

  private trace(aux: string): void {
    const status = this.decode!(aux);
    for (const v of status.vertexes ?? []) {
      let step = this.steps.get(v.digest);
      const isNew = !step;
      if (!step) {
        step = { id: v.digest, name: v.name, cached: false, done: false, logs: [] };
        this.steps.set(v.digest, step);
      }
      step.name = v.name || step.name;
      step.cached = step.cached || v.cached;
      if (v.completed) step.done = true;
      if (v.error) step.error = v.error;
      // BuildKit announces every vertex up front; a step is news when it starts running.
      if (v.started && !this.started.has(v.digest)) {
        this.started.add(v.digest);
        this.current = step;
        this.onEvent({ type: 'step', step });
      } else if (isNew && !this.current) {
        this.current = step;
      }
    }
    for (const l of status.logs ?? []) {
      const step = this.steps.get(l.vertex);
      for (const text of Buffer.from(l.msg).toString('utf8').split('\n')) if (text.trim()) this.log(step, text);
    }
  }

  private log(step: BuildStep | undefined, line: string): void {
    if (step) {
      step.logs.push(line);
      if (step.logs.length > 200) step.logs.shift();
    }
    this.onEvent({ type: 'log', step, line });
  }
}

/** The step a failed build failed at: BuildKit marks it; for the classic builder it is the last one started. */
export function failingStep(outcome: BuildOutcome): BuildStep | undefined {
  const marked = outcome.steps.filter((s) => s.error && !/context canceled/i.test(s.error));
  if (marked.length) return marked[marked.length - 1];
  return outcome.steps.filter((s) => !s.done).at(-1) ?? outcome.steps.at(-1);
}
