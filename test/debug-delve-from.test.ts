// --delve-from: a static linux delve of the image's architecture, refused with the reason otherwise.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDelveBinary } from '../src/project/delve-binary.js';
import { tmpDir } from './support/tmp.js';

// In CI shared/ sits beside the clone; on the development machines at /work/shared.
const DLV = [path.resolve('../shared/tools/dlv-1.21.2-linux-amd64'), '/work/shared/tools/dlv-1.21.2-linux-amd64'].find(
  (p) => existsSync(p),
);

describe('--delve-from', () => {
  it('needs the static delve of shared/tools (fails, not skips, when it is absent)', () => {
    expect(DLV, 'shared/tools/dlv-1.21.2-linux-amd64 is missing: the debug tests need it').toBeDefined();
  });

  it('takes the static delve for x86_64 and refuses it for arm64', async () => {
    await expect(checkDelveBinary('.', DLV!, 'x86_64')).resolves.toBe(DLV);
    await expect(checkDelveBinary('.', DLV!, 'arm64')).rejects.toThrow(/built for x86-64, but the image is arm64/);
  });

  it("refuses a glibc-linked binary (Debian's delve) with the reason", async () => {
    const glibc = ['/usr/bin/dlv', '/bin/ls'].find((p) => existsSync(p))!;
    await expect(checkDelveBinary('.', glibc, 'x86_64')).rejects.toThrow(/dynamically linked .*glibc's loader/);
  });

  it('refuses a script and a missing file', async () => {
    const script = path.join(tmpDir(), 'dlv');
    writeFileSync(script, '#!/bin/sh\necho dlv\n', { mode: 0o755 });
    await expect(checkDelveBinary('.', script, 'x86_64')).rejects.toThrow(/not a Linux executable/);
    await expect(checkDelveBinary('.', '/nonexistent/dlv', 'x86_64')).rejects.toThrow(/no such file/);
  });
});
