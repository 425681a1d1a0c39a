// An image that is NOT built on a lambda-image stand-in, for tests that must push and deploy
// successfully: `docker import` of a tiny root file system made here (Debian's static busybox
// and a shell bootstrap at /var/runtime/bootstrap). Stand-ins and everything built on them
// carry org.lambda-image.standin=true and are refused by push/deploy, and a label cannot be
// removed from an image; an imported root file system has no labels at all, honestly.
import { readFileSync } from 'node:fs';
import tar from 'tar-stream';
import { docker } from './docker.js';

/** Imports a root file system with `marker` inside the bootstrap (a new marker = a code change = a new digest). */
export async function importPlainImage(repo: string, tag: string, marker: string): Promise<string> {
  const pack = tar.pack();
  const busybox = readFileSync('/bin/busybox');
  const bootstrap = `#!/bin/sh\n# ${marker}\nexec /bin/busybox sh -c 'echo ready'\n`;
  const dir = (name: string) => pack.entry({ name, type: 'directory', mode: 0o755 });
  dir('bin/');
  dir('var/');
  dir('var/runtime/');
  dir('tmp/');
  pack.entry({ name: 'bin/busybox', mode: 0o755 }, busybox);
  pack.entry({ name: 'bin/sh', type: 'symlink', linkname: 'busybox' });
  pack.entry({ name: 'var/runtime/bootstrap', mode: 0o755 }, bootstrap);
  pack.finalize();
  const stream = (await docker.importImage(pack as unknown as NodeJS.ReadableStream, {
    repo,
    tag,
  })) as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => {
    let text = '';
    stream.on('data', (d) => (text += d));
    stream.on('error', reject);
    stream.on('end', () => (/errorDetail/.test(text) ? reject(new Error(text)) : resolve()));
  });
  return (await docker.getImage(`${repo}:${tag}`).inspect()).Id;
}
