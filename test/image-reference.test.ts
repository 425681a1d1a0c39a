// The image reference grammar (distribution/reference, as the engine and registries apply it):
// what it accepts, how it splits, and the rule it names for what it refuses.
import { describe, expect, it } from 'vitest';
import { imageReferenceProblem, parseImageReference } from '../src/config/image-reference.js';
import { LambdaImageError } from '../src/errors.js';

describe('image references', () => {
  it.each([
    ['fn', { path: 'fn' }],
    ['fn:latest', { path: 'fn', tag: 'latest' }],
    ['my_fn__x.y-z:V1.2_rc-3', { path: 'my_fn__x.y-z', tag: 'V1.2_rc-3' }],
    ['team/orders/api:1', { path: 'team/orders/api', tag: '1' }],
    ['localhost/fn', { domain: 'localhost', path: 'fn' }],
    ['127.0.0.1:5000/fn:t', { domain: '127.0.0.1:5000', path: 'fn', tag: 't' }],
    [
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:v1',
      { domain: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', path: 'orders', tag: 'v1' },
    ],
    ['public.ecr.aws/lambda/provided:al2023', { domain: 'public.ecr.aws', path: 'lambda/provided', tag: 'al2023' }],
    [`fn@sha256:${'a'.repeat(64)}`, { path: 'fn', digest: `sha256:${'a'.repeat(64)}` }],
    [`fn:t@sha256:${'0'.repeat(64)}`, { path: 'fn', tag: 't', digest: `sha256:${'0'.repeat(64)}` }],
    [`fn:${'t'.repeat(128)}`, { path: 'fn', tag: 't'.repeat(128) }],
  ])('accepts %s', (ref, parts) => {
    expect(parseImageReference(ref)).toEqual({ domain: undefined, tag: undefined, digest: undefined, ...parts });
    expect(imageReferenceProblem(ref)).toBeUndefined();
  });

  it.each([
    ['', /it is empty/],
    ['My-Fn', /"My-Fn" must be lower-case letters and digits/],
    ['fn:bad tag', /white space or a control character/],
    ['fn\nRUN evil', /white space or a control character/],
    ['fn\u0000', /control character/],
    ['fn:-x', /tag "-x" must be 1 to 128 letters/],
    ['fn:.x', /tag "\.x" must be 1 to 128/],
    [`fn:${'t'.repeat(129)}`, /tag "t+" must be 1 to 128/],
    ['fn:a:b', /"fn:a" must be lower-case|tag/],
    ['a//b', /empty path component/],
    ['/fn', /empty path component/],
    ['fn/', /empty path component/],
    ['fn-', /"fn-" must be lower-case letters and digits, separated by/],
    ['fn..x', /separated by \. _ __ or -/],
    ['fn___x', /separated by/],
    ['fn@sha256:123', /64 lower-case hex digits|is not a digest/],
    [`fn@sha256:${'A'.repeat(64)}`, /64 lower-case hex digits/],
    ['fn@nodigest', /is not a digest/],
    ['bad_host:5000/fn', /"bad_host:5000" is not a registry host/],
    ['host:port/fn', /"port" is not a port number|not a registry host/],
    ['-host.com/fn', /is not a registry host/],
    [`${'a'.repeat(256)}`, /longer than 255 characters/],
  ])('refuses %j, naming the rule', (ref, rule) => {
    const problem = imageReferenceProblem(ref);
    expect(problem).toMatch(rule);
    let err: unknown;
    try {
      parseImageReference(ref, '--tag');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LambdaImageError);
    expect((err as LambdaImageError).code).toBe('INVALID_INPUT');
    expect((err as LambdaImageError).message).toContain(
      `--tag ${JSON.stringify(ref)} is not a valid image reference: ${problem}`,
    );
  });
});
