// An image that is NOT built on a lambda-image stand-in, for tests and benchmarks that must
// push and deploy successfully: `docker import` of a tiny root file system made here
// (Debian's static busybox, a shell bootstrap at /var/runtime/bootstrap, optionally a random
// payload). Stand-ins and everything built on them carry org.lambda-image.standin and are
// refused by push/deploy, and a label cannot be removed from an image; an imported root
// file system honestly has no labels at all. Plain ES module: bench/ship.mjs shares it.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import tar from 'tar-stream';

/**
 * Imports the root file system as repo:tag; `marker` goes into the bootstrap (a new marker is
 * a code change, so a new digest). Returns the image ID.
 */
export async function importPlainImage(docker, repo, tag, marker, payloadBytes = 0) {
  const pack = tar.pack();
  const dir = (name) => pack.entry({ name, type: 'directory', mode: 0o755 });
  dir('bin/');
  dir('var/');
  dir('var/runtime/');
  dir('tmp/');
  pack.entry({ name: 'bin/busybox', mode: 0o755 }, readFileSync('/bin/busybox'));
  pack.entry({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' });
  pack.entry(
    { name: 'var/runtime/bootstrap', mode: 0o755 },
    `#!/bin/sh\n# ${marker}\nexec /bin/busybox sh -c 'echo ready'\n`,
  );
  // Random bytes do not compress: the pushed size is what the benchmark says it is.
  if (payloadBytes) pack.entry({ name: 'var/runtime/payload.bin', mode: 0o644 }, randomBytes(payloadBytes));
  pack.finalize();
  const stream = await docker.importImage(pack, { repo, tag });
  await new Promise((resolve, reject) => {
    let text = '';
    stream.on('data', (d) => (text += d));
    stream.on('error', reject);
    stream.on('end', () => (/errorDetail/.test(text) ? reject(new Error(text)) : resolve()));
  });
  return (await docker.getImage(`${repo}:${tag}`).inspect()).Id;
}
