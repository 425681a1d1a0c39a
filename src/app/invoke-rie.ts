// `invoke --rie`: run the image under its own emulator (the AWS base's, or the RIE added
// with --rie), published on a loopback port, and POST the event to it as the seed does.
import { randomUUID } from 'node:crypto';
import { containerClient } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { LambdaImageError } from '../errors.js';
import { inspectFunctionImage } from '../emulator/function-image.js';
import { ownerLabels, SESSION_LABEL, sweepOrphans } from '../emulator/owners.js';
import type { FunctionSettings } from './invoke.js';
import { MAX_RESPONSE_BYTES } from '../emulator/limits.js';
import { readResponseCapped } from '../util/http-body.js';

export async function invokeThroughRie(
  engine: Engine,
  plan: FunctionSettings,
  payload: Buffer,
  onOutput: (line: string) => void,
): Promise<{ status: number; body: Buffer }> {
  const { image, name, timeoutSec, memoryMb } = plan;
  const containers = containerClient(engine.docker);
  await Promise.all([inspectFunctionImage(containers, image), sweepOrphans(containers)]);
  // The variables the emulator honours.
  const env = {
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(timeoutSec),
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_LAMBDA_FUNCTION_NAME: name,
    ...plan.env,
  };
  const container = await containers.create({
    image,
    env,
    exposedPorts: ['8080/tcp'],
    labels: { [SESSION_LABEL]: randomUUID(), ...ownerLabels() },
    hostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '0' }] } },
  });
  try {
    await container.attachLines((line) => onOutput(line));
    await container.start();
    const noEmulator = (code: number) =>
      new LambdaImageError(
        'CONTAINER_FAILED',
        `${image} exited (status ${code}) without serving an emulator on :8080`,
        {
          hint: 'this image has no emulator (alpine without --rie?): run "lambda-image invoke" without --rie, which needs none',
        },
      );
    // A container that exits (no emulator in the image) ends the wait at once.
    const exited = container.wait().then((code) => {
      throw noEmulator(code);
    });
    exited.catch(() => {});
    const info = await container.inspect();
    const port = info.NetworkSettings.Ports?.['8080/tcp']?.[0]?.HostPort;
    if (!port) {
      // Ports are gone once the container has stopped: say why it stopped.
      await exited;
      throw new LambdaImageError('CONTAINER_FAILED', 'the engine published no port for 8080', {
        hint: 'run without --rie',
      });
    }
    const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
    // The emulator needs a moment to listen: bounded retries.
    const timeoutMs = 1000 * (Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT) + 5);
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      const attempt = fetch(url, {
        method: 'POST',
        body: new Uint8Array(payload),
        signal: AbortSignal.timeout(timeoutMs),
      }).then(async (res) => {
        // The bytes as the function sent them; an emulator answering more than Lambda allows is cut off.
        const body = await readResponseCapped(res, MAX_RESPONSE_BYTES + 64 * 1024);
        if (body === undefined)
          throw new LambdaImageError('FUNCTION_FAILED', `the emulator answered more than ${MAX_RESPONSE_BYTES} bytes`, {
            hint: 'Lambda refuses responses over 6 MB; return less',
          });
        return { status: res.status, body };
      });
      try {
        const answer = await Promise.race([attempt, exited]);
        await new Promise((r) => setTimeout(r, 100)); // let the REPORT line arrive
        return answer;
      } catch (err) {
        if (err instanceof LambdaImageError) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new LambdaImageError('CONTAINER_FAILED', `the emulator in ${image} did not answer on :8080 within 10 s`, {
      hint: 'run without --rie',
    });
  } finally {
    await container.remove();
  }
}
