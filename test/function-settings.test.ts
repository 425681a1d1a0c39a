// The function's identity when an image is run by reference: named after the repository's
// last path component, whatever registry, port, tag or digest the reference carries.
import { describe, expect, it } from 'vitest';
import { resolveFunctionSettings } from '../src/app/invoke.js';

describe('function settings from --image', () => {
  it.each([
    ['my-fn:latest', 'my-fn'],
    ['localhost:5000/team/fn:1', 'fn'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders', 'orders'],
    [`repo/fn@sha256:${'a'.repeat(64)}`, 'fn'],
  ])('%s runs as %s', async (image, name) => {
    expect((await resolveFunctionSettings({ image })).name).toBe(name);
  });

  it('an explicit --function-name wins', async () => {
    expect((await resolveFunctionSettings({ image: 'localhost:5000/fn:1', functionName: 'orders-api' })).name).toBe(
      'orders-api',
    );
  });
});
