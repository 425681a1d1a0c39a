// Which part of an image each layer is, from the instruction that made it, as both builders write it.
import { describe, expect, it } from 'vitest';
import { classifyLayer } from '../src/docker/image-report.js';

describe('classifyLayer', () => {
  it.each([
    ['COPY /tree/bootstrap/ / # buildkit', 'binary'],
    ['COPY /tree/fn-orders/ / # buildkit', 'binary'],
    ['/bin/sh -c #(nop) COPY dir:4c1b0b5ad2f3a6d8e1b0c9f7 in / ', 'binary'],
    ['COPY /out/bootstrap /var/runtime/bootstrap # buildkit', 'binary'],
    ['COPY /aws-lambda-rie /usr/local/bin/aws-lambda-rie # buildkit', 'rie'],
    ['COPY .lambda-image/layers/ext-1/ /opt/ # buildkit', 'extensions'],
    ['/bin/sh -c #(nop) COPY dir:77aa in /opt/ ', 'extensions'],
    ['/bin/sh -c #(nop) COPY file:0f3e in /entry.sh ', 'other'],
    ['/bin/sh -c #(nop) WORKDIR /var/task', 'other'],
  ])('%s → %s', (createdBy, part) => {
    expect(classifyLayer(createdBy)).toBe(part);
  });
});
