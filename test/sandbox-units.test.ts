// Pure parts of the execution environment: trace ids from the caller's X-Amzn-Trace-Id.
import { describe, expect, it } from 'vitest';
import { traceIdFor } from '../src/emulator/sandbox.js';

describe('trace id of an invoke', () => {
  it("keeps the caller's Root, Parent and Sampled decision", () => {
    expect(traceIdFor('Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1')).toBe(
      'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    );
    expect(traceIdFor('Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1')).toMatch(/^Root=1-5759e988-bd862e3fe1be46a994272793;Parent=[0-9a-f]{16};Sampled=1$/);
  });

  it('makes an unsampled one when the caller sent none', () => {
    expect(traceIdFor()).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });
});
