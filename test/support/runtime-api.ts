// A minimal Lambda Runtime API (2018-06-01) on 127.0.0.1 for tests: queue an event, let the
// function in a container fetch it with /next, and resolve with its response or error.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InvokeOutcome {
  requestId: string;
  kind: 'response' | 'error';
  body: string;
}

export class TestRuntimeApi {
  private server = http.createServer((req, res) => this.handle(req, res));
  private queue: Array<{ id: string; event: string }> = [];
  private waiting: Array<(e: { id: string; event: string }) => void> = [];
  private outcomes = new Map<string, (o: InvokeOutcome) => void>();
  port = 0;

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  invoke(event: unknown, timeoutMs = 30_000): Promise<InvokeOutcome> {
    const id = randomUUID();
    const item = { id, event: JSON.stringify(event) };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the function did not answer in time')), timeoutMs);
      this.outcomes.set(id, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
      const w = this.waiting.shift();
      if (w) w(item);
      else this.queue.push(item);
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      const send = (e: { id: string; event: string }) => {
        res.writeHead(200, {
          'Content-Type': 'application/json',
          'Lambda-Runtime-Aws-Request-Id': e.id,
          'Lambda-Runtime-Deadline-Ms': String(Date.now() + 30_000),
          'Lambda-Runtime-Invoked-Function-Arn': 'arn:aws:lambda:us-east-1:123456789012:function:test',
          'Lambda-Runtime-Trace-Id': 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1',
        });
        res.end(e.event);
      };
      const next = this.queue.shift();
      if (next) send(next);
      else this.waiting.push(send);
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const done = this.outcomes.get(m[1]!);
        if (!done) {
          res.writeHead(400).end();
          return;
        }
        this.outcomes.delete(m[1]!);
        res.writeHead(202).end('{"status":"OK"}');
        done({ requestId: m[1]!, kind: m[2] as 'response' | 'error', body });
      });
      return;
    }
    res.writeHead(404).end();
  }
}
