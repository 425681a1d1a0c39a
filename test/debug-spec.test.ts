// The environment under delve: the runtime's command becomes dlv exec of the bootstrap, delve's
// port is published on 127.0.0.1 only, and every other limit of the sandbox stays as it was.
import { describe, expect, it } from 'vitest';
import { debugSpec, DELVE_PORT } from '../src/emulator/debug-spec.js';
import { environmentSpec, type EnvironmentSpecInput } from '../src/emulator/environment-spec.js';

const input = (extensions: string[]): EnvironmentSpecInput => ({
  identity: { functionName: 'fn', functionArn: 'arn', version: '$LATEST', handler: 'bootstrap' },
  memoryMb: 128,
  region: 'us-east-1',
  ephemeralMb: 512,
  isolated: true,
  session: 's',
  ownerLabels: {},
  image: { image: 'fn:debug', entrypoint: ['/lambda-entrypoint.sh'], cmd: ['bootstrap'], extensions },
  network: { hostConfig: { NetworkMode: 'bridge' }, hostname: 'sandbox', domainname: 'localdomain' },
  runtimeApi: '172.17.0.1:1234',
  logStreamName: 'x',
  credentials: {},
  env: {},
});
const opts = { delvePath: '/usr/local/bin/dlv', wait: false };

describe('debugSpec', () => {
  it('runs the real bootstrap under delve, continuing at once unless --debug-wait', () => {
    const s = debugSpec(environmentSpec(input([])), opts);
    expect(s.entrypoint).toEqual([
      '/usr/local/bin/dlv',
      'exec',
      '--headless',
      '--api-version=2',
      '--accept-multiclient',
      `--listen=:${DELVE_PORT}`,
      '--continue',
      '/var/runtime/bootstrap',
    ]);
    expect(debugSpec(environmentSpec(input([])), { ...opts, wait: true }).entrypoint).not.toContain('--continue');
  });

  it('keeps the init shell with extensions: delve is its runtime', () => {
    const base = environmentSpec(input(['ext']));
    const s = debugSpec(base, opts);
    expect(s.entrypoint).toEqual(base.entrypoint);
    expect(s.cmd?.[0]).toBe('/usr/local/bin/dlv');
  });

  it("publishes delve's port on 127.0.0.1 only and leaves user, read-only root, network and limits alone", () => {
    const base = environmentSpec(input([]));
    const s = debugSpec(base, opts);
    expect(s.hostConfig!.PortBindings).toEqual({ [`${DELVE_PORT}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '0' }] });
    expect(s.user).toBe(base.user);
    const { PortBindings, ...rest } = s.hostConfig!;
    expect(rest).toEqual(base.hostConfig);
    expect(rest.CapAdd).toBeUndefined();
    expect(rest.SecurityOpt).toBeUndefined();
    expect(rest.ReadonlyRootfs).toBe(true);
    expect(rest.NetworkMode).toBe('bridge');
  });
});
