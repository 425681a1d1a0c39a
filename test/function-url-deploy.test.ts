// `deploy --url` against a Lambda API stand-in on 127.0.0.1 (test/support/fake-aws.mjs) through
// the real AWS SDK: the URL created then updated, the two public statements a NONE URL needs
// since October 2025 added once (a re-deploy adds nothing), and taken away again for AWS_IAM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployUrl, urlSettings } from '../src/app/deploy.js';
import { LambdaApi } from '../src/aws/lambda.js';
import { makeConfig } from '../src/config/schema.js';
import { FakeLambda } from './support/fake-aws.mjs';

describe('deploy --url', () => {
  let lambda: FakeLambda;
  let api: LambdaApi;
  const saved = { ...process.env };

  beforeAll(async () => {
    lambda = await new FakeLambda({ host: 'registry.invalid' }, 'eu-west-1').start();
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDTEST',
      AWS_SECRET_ACCESS_KEY: 'secret-test',
      AWS_REGION: 'eu-west-1',
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    lambda.functions.set('orders', { name: 'orders', state: 'Active', lastUpdateStatus: 'Successful' });
    api = await LambdaApi.open({ region: 'eu-west-1' }, { attempts: 2, firstDelayMs: 10 });
  });
  afterAll(async () => {
    api?.destroy();
    await lambda?.close();
    process.env = saved;
  });

  it('maps config url settings to the API, flags first, AWS_IAM unless asked', () => {
    const config = makeConfig({
      name: 'orders',
      runtime: 'provided',
      binary: 'bootstrap',
      url: { authType: 'NONE', invokeMode: 'RESPONSE_STREAM', cors: { allowOrigins: ['*'], maxAge: 60 } },
    });
    expect(urlSettings({}, config)).toEqual({
      authType: 'NONE',
      invokeMode: 'RESPONSE_STREAM',
      cors: { AllowOrigins: ['*'], MaxAge: 60 },
    });
    expect(urlSettings({ urlAuth: 'AWS_IAM', invokeMode: 'BUFFERED' }, config)).toMatchObject({
      authType: 'AWS_IAM',
      invokeMode: 'BUFFERED',
    });
    expect(urlSettings({}, undefined)).toEqual({ authType: 'AWS_IAM', invokeMode: 'BUFFERED', cors: undefined });
  });

  it('creates a public URL with both statements, adds nothing on a re-deploy, closes it for AWS_IAM', async () => {
    const settings = {
      authType: 'NONE' as const,
      invokeMode: 'RESPONSE_STREAM' as const,
      cors: { AllowOrigins: ['*'] },
    };
    lambda.requests.length = 0;
    const first = await deployUrl(api, 'orders', settings);
    expect(first.action).toBe('created');
    expect(first.url).toMatch(/^https:\/\/[a-z0-9]{32}\.lambda-url\.eu-west-1\.on\.aws\/$/);
    expect(first.permissionsAdded).toEqual(['FunctionURLAllowPublicAccess', 'FunctionURLInvokeAllowPublicAccess']);
    const fn = lambda.functions.get('orders');
    expect(fn.url).toMatchObject({ authType: 'NONE', invokeMode: 'RESPONSE_STREAM', cors: { AllowOrigins: ['*'] } });
    expect(fn.policy).toEqual([
      expect.objectContaining({
        Sid: 'FunctionURLAllowPublicAccess',
        Principal: '*',
        Action: 'lambda:InvokeFunctionUrl',
        Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'NONE' } },
      }),
      expect.objectContaining({
        Sid: 'FunctionURLInvokeAllowPublicAccess',
        Principal: '*',
        Action: 'lambda:InvokeFunction',
        Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': 'true' } },
      }),
    ]);

    lambda.requests.length = 0;
    const again = await deployUrl(api, 'orders', settings);
    expect(again).toMatchObject({ action: 'updated', url: first.url, permissionsAdded: [] });
    expect(lambda.requests).toEqual(['GetFunctionUrlConfig', 'UpdateFunctionUrlConfig', 'GetPolicy']);

    const closed = await deployUrl(api, 'orders', { authType: 'AWS_IAM', invokeMode: 'BUFFERED' });
    expect(closed.permissionsRemoved).toEqual(['FunctionURLAllowPublicAccess', 'FunctionURLInvokeAllowPublicAccess']);
    expect(fn.policy).toEqual([]);
    expect(fn.url).toMatchObject({ authType: 'AWS_IAM', invokeMode: 'BUFFERED' });
  });
});
