// How an engine's refusal to set up a container reads: Podman's "cannot raise the limits"
// (a host without CAP_SYS_RESOURCE) gets the containers.conf fix, any other refusal the
// engine's own message on one line; errors that are not the engine's answer pass through.
import { describe, expect, it } from 'vitest';
import { startRefusal } from '../src/docker/containers.js';
import { EngineRefusalError } from '../src/docker/engine.js';
import { LambdaImageError } from '../src/errors.js';

const engineError = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), { statusCode });

describe('engine refusals on attach and start', () => {
  it("names the containers.conf fix when Podman cannot set the container's rlimits", () => {
    const err = startRefusal(
      engineError(
        409,
        'preparing container 3c66 for attach: runc: runc create failed: unable to start container process: error during container init: error setting rlimits for ready process: error setting rlimit type 7: operation not permitted: OCI permission denied',
      ),
    ) as LambdaImageError;
    expect(err).toBeInstanceOf(LambdaImageError);
    expect(err.exitCode).toBe(14);
    expect(err.message).toMatch(/no CAP_SYS_RESOURCE/);
    expect(err.hint).toContain('default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]');
    expect(err.details).toBeUndefined();
  });

  it("any other refusal is the engine's own message, without dockerode's prefix", () => {
    const err = startRefusal(engineError(500, 'OCI runtime error: no such device')) as LambdaImageError;
    expect(err.message).toBe('the engine refused to start the container: OCI runtime error: no such device');
  });

  it('reads a refusal the engine connection already framed (Podman refuses on attach)', () => {
    const framed = new EngineRefusalError(
      'POST /containers/3c66/attach',
      409,
      'preparing container 3c66 for attach: runc create failed: error setting rlimits for ready process: error setting rlimit type 6: operation not permitted',
      undefined,
    );
    const err = startRefusal(framed) as LambdaImageError;
    expect(err.exitCode).toBe(14);
    expect(err.message).toMatch(/no CAP_SYS_RESOURCE/);
  });

  it('leaves errors that are not an engine answer (a lost connection) alone', () => {
    const lost = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(startRefusal(lost)).toBe(lost);
  });
});
