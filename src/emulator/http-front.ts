// `start`: a local HTTP front for warm environments. It answers the emulator's endpoint
// (POST /2015-03-31/functions/function/invocations, so the seed's curl commands work) and
// Lambda's Invoke API path (so `aws lambda invoke --endpoint-url` and the SDKs work).
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LocalFunction } from '../app/invoke.js';
import { readCappedBody } from '../util/http-body.js';
import { MAX_PAYLOAD_BYTES } from './lambda-api.js';

export interface FrontServer {
  port: number;
  close(): Promise<void>;
}

const errorJson = (res: http.ServerResponse, status: number, type: string, message: string) => {
  res.writeHead(status, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': type, 'x-amzn-RequestId': randomUUID() });
  res.end(JSON.stringify({ Type: 'User', message }));
};

export async function startFront(fn: LocalFunction, port: number, host = '127.0.0.1'): Promise<FrontServer> {
  const background = new Set<Promise<unknown>>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://local');
    const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
    if (!m) return errorJson(res, 404, 'UnknownOperationException', `unknown path ${url.pathname}`);
    const target = decodeURIComponent(m[1]!);
    const emulatorStyle = target === 'function';
    if (!emulatorStyle && target !== fn.name && !target.endsWith(`:function:${fn.name}`)) {
      return errorJson(res, 404, 'ResourceNotFoundException', `Function not found: ${target} (this server runs ${fn.name})`);
    }
    if (!emulatorStyle && req.method !== 'POST') return errorJson(res, 405, 'InvalidRequestContentException', 'use POST');
    void readCappedBody(req, MAX_PAYLOAD_BYTES).then(({ body }) => {
      if (body === undefined) {
        return errorJson(res, 413, 'RequestEntityTooLargeException', `Request must be smaller than ${MAX_PAYLOAD_BYTES} bytes for the InvokeFunction operation`);
      }
      const payload = body.length ? body : Buffer.from('{}');
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (type === 'DryRun') {
        res.writeHead(204, { 'x-amzn-RequestId': randomUUID() });
        return res.end();
      }
      const clientContext = typeof req.headers['x-amz-client-context'] === 'string' ? Buffer.from(req.headers['x-amz-client-context'], 'base64').toString() : undefined;
      const run = fn.pool.invoke(payload, { clientContext });
      if (type === 'Event') {
        // Asynchronous: accepted now, run in the background.
        const p = run.catch(() => undefined).finally(() => background.delete(p));
        background.add(p);
        res.writeHead(202, { 'x-amzn-RequestId': randomUUID() });
        return res.end();
      }
      run.then(
        (o) => {
          const headers: http.OutgoingHttpHeaders = {
            'Content-Type': o.result.kind === 'response' ? (o.result.contentType ?? 'application/json') : 'application/json',
            'X-Amz-Executed-Version': '$LATEST',
            'x-amzn-RequestId': o.requestId || randomUUID(),
          };
          if (o.result.kind === 'error') headers['X-Amz-Function-Error'] = 'Unhandled';
          res.writeHead(200, headers);
          res.end(o.result.body);
        },
        (err: Error) => errorJson(res, 500, 'ServiceException', err.message),
      );
    }, () => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all(background);
    },
  };
}
