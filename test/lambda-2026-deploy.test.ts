// What `deploy` sends of Lambda's 2026 settings, against a Lambda API stand-in on 127.0.0.1
// (test/support/fake-aws.mjs) through the real AWS SDK: TenancyConfig on CreateFunction only
// (Lambda cannot change it afterwards, so a mismatch with an existing function is refused);
// LoggingConfig with only the fields the config names, on create and when they differ.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lambdaLogging, settingsDiff, tenancyUnchangeable } from '../src/app/deploy.js';
import { LambdaApi } from '../src/aws/lambda.js';
import { projectFunctions } from '../src/config/functions.js';
import { makeConfig } from '../src/config/schema.js';
import { FakeLambda } from './support/fake-aws.mjs';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('deploy: Lambda 2026 settings', () => {
  let lambda: FakeLambda;
  let api: LambdaApi;
  const saved = { ...process.env };

  beforeAll(async () => {
    const registry = {
      host: 'registry.invalid',
      getManifest: async () => ({
        status: 200,
        digest: DIGEST,
        contentType: 'application/vnd.oci.image.manifest.v1+json',
      }),
    };
    lambda = await new FakeLambda(registry, 'eu-west-1').start();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-test',
      AWS_REGION: 'eu-west-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    api = await LambdaApi.open({ region: 'eu-west-1' }, { attempts: 2, firstDelayMs: 10 });
  });
  afterAll(async () => {
    api?.destroy();
    await lambda?.close();
    process.env = saved;
  });

  it('CreateFunction carries TenancyConfig when the config names it, and nothing when it does not', async () => {
    const uri = `registry.invalid/orders@${DIGEST}`;
    await api.createFunction('isolated', uri, 'arn:aws:iam::000000000000:role/r', 'x86_64', {
      tenantIsolationMode: 'PER_TENANT',
    });
    await api.createFunction('shared', uri, 'arn:aws:iam::000000000000:role/r', 'x86_64', {});
    expect(lambda.functions.get('isolated')!.tenancy).toEqual({ TenantIsolationMode: 'PER_TENANT' });
    expect(lambda.functions.get('shared')!.tenancy).toBeUndefined();
    expect((await api.getFunction('isolated'))!.tenantIsolationMode).toBe('PER_TENANT');
    expect((await api.getFunction('shared'))!.tenantIsolationMode).toBeUndefined();
  });

  it('refuses a tenant isolation the existing function does not have (or lacks one it has): Lambda cannot change it', () => {
    expect(() => tenancyUnchangeable('f', 'PER_TENANT', 'PER_TENANT')).not.toThrow();
    expect(() => tenancyUnchangeable('f', undefined, undefined)).not.toThrow();
    expect(() => tenancyUnchangeable('f', undefined, 'PER_TENANT')).toThrow(/only when a function is created/);
    expect(() => tenancyUnchangeable('f', 'PER_TENANT', undefined)).toThrow(/cannot remove it/);
  });

  it('tenantIsolationMode: project-wide, per function, and nothing but PER_TENANT', () => {
    const config = makeConfig({
      name: 'shop',
      runtime: 'provided',
      binary: 'bootstrap',
      tenantIsolationMode: 'PER_TENANT',
      url: { tenantIdHeader: 'x-tenant-id' },
    });
    expect(config.tenantIsolationMode).toBe('PER_TENANT');
    expect(config.url?.tenantIdHeader).toBe('x-tenant-id');
    const multi = makeConfig({
      name: 'shop',
      go: { module: 'example.com/shop', version: '1.23' },
      functions: { orders: { main: 'cmd/orders', tenantIsolationMode: 'PER_TENANT' }, admin: { main: 'cmd/admin' } },
    });
    const views = Object.fromEntries(projectFunctions(multi).map((f) => [f.name, f.config.tenantIsolationMode]));
    expect(views).toEqual({ orders: 'PER_TENANT', admin: undefined });
    expect(() => makeConfig({ name: 'shop', tenantIsolationMode: 'PER_REQUEST' as 'PER_TENANT' })).toThrow(
      /PER_TENANT/,
    );
    expect(() => makeConfig({ name: 'shop', url: { tenantIdHeader: 'bad header' } })).toThrow(/header name/);
  });
  it('LoggingConfig: the fields the config names, on create and on update when one differs', async () => {
    const config = makeConfig({
      name: 'shop',
      runtime: 'provided',
      binary: 'bootstrap',
      logging: { logFormat: 'JSON', applicationLogLevel: 'WARN' },
    });
    const logging = lambdaLogging(config.logging);
    expect(logging).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'WARN' });
    expect(lambdaLogging(undefined)).toBeUndefined();
    const uri = `registry.invalid/orders@${DIGEST}`;
    await api.createFunction('logged', uri, 'arn:aws:iam::000000000000:role/r', 'x86_64', { logging });
    const created = (await api.getFunction('logged'))!;
    // Lambda fills in the rest: SystemLogLevel INFO under JSON.
    expect(created.logging).toEqual({ LogFormat: 'JSON', ApplicationLogLevel: 'WARN', SystemLogLevel: 'INFO' });
    expect(settingsDiff(created, { logging })).toEqual({});
    // A function left at Lambda's default (Text) gets the JSON format; one asking for Text needs nothing.
    await api.createFunction('plain', uri, 'arn:aws:iam::000000000000:role/r', 'x86_64', {});
    const plain = (await api.getFunction('plain'))!;
    expect(settingsDiff(plain, { logging: { LogFormat: 'Text' } })).toEqual({});
    const diff = settingsDiff(plain, { logging });
    expect(diff).toEqual({ logging });
    lambda.functions.get('plain')!.state = 'Active';
    await api.updateConfiguration('plain', diff);
    expect((await api.getFunction('plain'))!.logging).toMatchObject({ LogFormat: 'JSON', ApplicationLogLevel: 'WARN' });
  });

  it('the levels need the JSON format, as Lambda requires', () => {
    expect(() => makeConfig({ name: 'shop', logging: { applicationLogLevel: 'DEBUG' } })).toThrow(/logFormat.*JSON/);
    expect(() => makeConfig({ name: 'shop', logging: { logFormat: 'Text', systemLogLevel: 'WARN' } })).toThrow(/JSON/);
    expect(() =>
      makeConfig({ name: 'shop', logging: { logFormat: 'JSON', systemLogLevel: 'ERROR' as 'WARN' } }),
    ).toThrow(/DEBUG, INFO, WARN/);
  });
});
