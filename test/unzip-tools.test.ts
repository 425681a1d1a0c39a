// The layer unpacker against zips made by real tools (zip(1), Python's zipfile, the JDK's jar)
// and their conventions: empty stored files, empty directories, data descriptors (sizes after
// the data), zip64, MS-DOS "made by", encrypted entries; and links that try to leave the target.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  readdirSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LambdaImageError } from '../src/errors.js';
import { unzipSafely } from '../src/layers/unzip.js';
import { tmpDir } from './support/tmp.js';
import { makeZip } from './support/zip.js';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** A small layer tree, as a Python or Go layer looks: an empty __init__.py, an empty folder, a script. */
function layerTree(): string {
  const src = tmpDir('unzip-src-');
  mkdirSync(path.join(src, 'python/pkg'), { recursive: true });
  mkdirSync(path.join(src, 'extensions'), { recursive: true });
  mkdirSync(path.join(src, 'empty-dir'), { recursive: true });
  writeFileSync(path.join(src, 'python/pkg/__init__.py'), '');
  writeFileSync(path.join(src, 'python/pkg/mod.py'), 'X = 1\n'.repeat(500));
  writeFileSync(path.join(src, 'extensions/ext'), '#!/bin/sh\necho ext\n', { mode: 0o755 });
  return src;
}

async function unpack(zip: string): Promise<string> {
  const out = path.join(tmpDir('unzip-out-'), 'layer');
  await unzipSafely(zip, out);
  return out;
}

function expectLayer(out: string, opts: { dirs?: boolean; modes?: boolean } = {}) {
  expect(readFileSync(path.join(out, 'python/pkg/__init__.py'), 'utf8')).toBe('');
  expect(readFileSync(path.join(out, 'python/pkg/mod.py'), 'utf8')).toBe('X = 1\n'.repeat(500));
  expect(readFileSync(path.join(out, 'extensions/ext'), 'utf8')).toBe('#!/bin/sh\necho ext\n');
  if (opts.modes !== false) expect(statSync(path.join(out, 'extensions/ext')).mode & 0o111).not.toBe(0);
  if (opts.dirs !== false) expect(statSync(path.join(out, 'empty-dir')).isDirectory()).toBe(true);
}

/** How many entries have general purpose bit 3 (sizes in a data descriptor after the data). */
function descriptorEntries(zip: string): number {
  const out = execFileSync('python3', [
    '-c',
    'import sys, zipfile; print(sum(1 for i in zipfile.ZipFile(sys.argv[1]).infolist() if i.flag_bits & 8))',
    zip,
  ]);
  return Number(out.toString().trim());
}

function python(script: string, ...args: string[]): void {
  execFileSync('python3', ['-c', script, ...args], { stdio: 'pipe' });
}

const PY_TREE = `
import os, sys, zipfile
src, dest = sys.argv[1], sys.argv[2]
def add(zf, **kw):
    for root, dirs, files in os.walk(src):
        for d in dirs:
            p = os.path.join(root, d)
            zf.write(p, os.path.relpath(p, src) + '/', **kw)
        for f in files:
            p = os.path.join(root, f)
            zf.write(p, os.path.relpath(p, src), **kw)
`;

async function expectRefused(zip: string | Buffer, pattern: RegExp) {
  const file = typeof zip === 'string' ? zip : path.join(tmpDir('unzip-bad-'), 'bad.zip');
  if (typeof zip !== 'string') writeFileSync(file, zip);
  const out = path.join(tmpDir('unzip-out-'), 'layer');
  const err = await unzipSafely(file, out).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LambdaImageError);
  expect((err as LambdaImageError).code).toBe('UNSAFE_ARCHIVE');
  expect((err as LambdaImageError).message).toMatch(pattern);
  return out;
}

describe.skipIf(!has('zip'))('zips made by zip(1) (Info-ZIP)', () => {
  it('zip -r: an empty stored __init__.py, an empty folder, executable bits', async () => {
    const src = layerTree();
    const zip = path.join(tmpDir(), 'layer.zip');
    execFileSync('zip', ['-qr', zip, '.'], { cwd: src });
    expectLayer(await unpack(zip));
  });

  it('zip -r -0 (everything stored) and zip -fz (zip64 records)', async () => {
    const src = layerTree();
    for (const flags of [['-0'], ['-fz']]) {
      const zip = path.join(tmpDir(), 'layer.zip');
      execFileSync('zip', ['-qr', ...flags, zip, '.'], { cwd: src });
      expectLayer(await unpack(zip));
    }
  });

  it('zip to a pipe: data descriptors (bit 3, sizes after the data) and zip64 local records', async () => {
    const src = layerTree();
    const zip = path.join(tmpDir(), 'streamed.zip');
    // Writing to stdout, zip cannot seek back: it sets bit 3 and writes sizes after each entry.
    execFileSync('sh', ['-c', `zip -qr - . | cat > "${zip}"`], { cwd: src });
    expect(descriptorEntries(zip)).toBeGreaterThanOrEqual(3);
    expectLayer(await unpack(zip));
  });

  it('refuses an encrypted entry (zip -P) clearly', async () => {
    const src = layerTree();
    const zip = path.join(tmpDir(), 'secret.zip');
    execFileSync('zip', ['-qr', '-P', 'secret', zip, '.'], { cwd: src });
    const out = await expectRefused(zip, /encrypted entry/);
    expect(readdirSync(out).filter((n) => !statSync(path.join(out, n)).isDirectory())).toEqual([]);
  });

  it('keeps a link inside the layer (zip -y), as library layers have', async () => {
    const src = layerTree();
    mkdirSync(path.join(src, 'lib'));
    writeFileSync(path.join(src, 'lib/libx.so.1'), 'elf');
    execFileSync('ln', ['-s', 'libx.so.1', path.join(src, 'lib/libx.so')]);
    execFileSync('ln', ['-s', '../lib/libx.so.1', path.join(src, 'python/libx')]);
    const zip = path.join(tmpDir(), 'links.zip');
    execFileSync('zip', ['-qry', zip, '.'], { cwd: src });
    const out = await unpack(zip);
    expect(readlinkSync(path.join(out, 'lib/libx.so'))).toBe('libx.so.1');
    expect(readFileSync(path.join(out, 'python/libx'), 'utf8')).toBe('elf');
  });
});

describe.skipIf(!has('python3'))("zips made by Python's zipfile", () => {
  it('deflated and stored, with empty files and folders', async () => {
    const src = layerTree();
    for (const method of ['ZIP_DEFLATED', 'ZIP_STORED']) {
      const zip = path.join(tmpDir(), 'py.zip');
      python(`${PY_TREE}\nwith zipfile.ZipFile(dest, 'w', zipfile.${method}) as zf: add(zf)`, src, zip);
      expectLayer(await unpack(zip));
    }
  });

  it('force_zip64=True on every entry', async () => {
    const src = layerTree();
    const zip = path.join(tmpDir(), 'py64.zip');
    python(
      `${PY_TREE}
with zipfile.ZipFile(dest, 'w', zipfile.ZIP_DEFLATED) as zf:
    for root, dirs, files in os.walk(src):
        for d in dirs:
            p = os.path.join(root, d); zf.write(p, os.path.relpath(p, src) + '/')
        for f in files:
            p = os.path.join(root, f)
            info = zipfile.ZipInfo.from_file(p, os.path.relpath(p, src))
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(p, 'rb') as fh, zf.open(info, 'w', force_zip64=True) as w: w.write(fh.read())`,
      src,
      zip,
    );
    expect(readFileSync(zip).includes(Buffer.from([0x01, 0x00]))).toBe(true); // zip64 extra field id
    expectLayer(await unpack(zip));
  });

  it('written to an unseekable stream: data descriptors on every entry', async () => {
    const src = layerTree();
    const zip = path.join(tmpDir(), 'pystream.zip');
    python(
      `${PY_TREE}
class Pipe:
    def __init__(self, f): self.f = f
    def write(self, b): return self.f.write(b)
    def flush(self): self.f.flush()
with open(dest, 'wb') as f:
    with zipfile.ZipFile(Pipe(f), 'w', zipfile.ZIP_DEFLATED) as zf: add(zf)`,
      src,
      zip,
    );
    expect(descriptorEntries(zip)).toBeGreaterThanOrEqual(3);
    expectLayer(await unpack(zip));
  });

  it('7-Zip / Windows conventions: made by MS-DOS, folders by trailing slash and attribute 0x10, no Unix modes', async () => {
    const zip = path.join(tmpDir(), 'dos.zip');
    python(
      `
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as zf:
    for name, data in [('empty-dir/', None), ('python/', None), ('python/pkg/', None), ('python/pkg/__init__.py', b''), ('python/pkg/mod.py', b'X = 1\\n' * 500), ('extensions/ext', b'#!/bin/sh\\necho ext\\n')]:
        info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
        info.create_system = 0
        info.external_attr = 0x10 if name.endswith('/') else 0x20
        info.compress_type = zipfile.ZIP_STORED if data is None else zipfile.ZIP_DEFLATED
        zf.writestr(info, data or b'')`,
      '',
      zip,
    );
    // No Unix modes: files get 0644, so the extension is not executable (add-extension warns).
    expectLayer(await unpack(zip), { modes: false });
  });
});

describe.skipIf(!has('jar'))("zips made by the JDK's jar (Java's ZipOutputStream)", () => {
  it('data descriptors on deflated entries, made by MS-DOS, no Unix modes', async () => {
    const src = layerTree();
    const zip = path.join(tmpDir(), 'layer.jar');
    execFileSync('jar', ['--create', '--file', zip, '--no-manifest', '-C', src, '.'], { stdio: 'pipe' });
    expect(descriptorEntries(zip)).toBeGreaterThanOrEqual(2); // ZipOutputStream streams its deflated entries: bit 3
    expectLayer(await unpack(zip), { modes: false });
  });
});

const SEVEN_ZIP = ['7zz', '7z', '7za'].find(has);

describe.skipIf(!SEVEN_ZIP)('zips made by 7-Zip', () => {
  const sevenZip = (src: string, zip: string, ...flags: string[]) =>
    execFileSync(SEVEN_ZIP!, ['a', '-tzip', '-bso0', '-bsp0', ...flags, zip, '.'], { cwd: src, stdio: 'pipe' });

  it('deflated (its default) and stored (-mm=Copy), with empty files and folders', async () => {
    const src = layerTree();
    for (const flags of [[], ['-mm=Copy'], ['-mx=9']]) {
      const zip = path.join(tmpDir(), 'layer.zip');
      sevenZip(src, zip, ...flags);
      expectLayer(await unpack(zip));
    }
  });

  it('refuses ZipCrypto (-p) and AES (-mem=AES256) entries as encrypted', async () => {
    for (const flags of [['-psecret'], ['-psecret', '-mem=AES256']]) {
      const zip = path.join(tmpDir(), 'secret.zip');
      sevenZip(layerTree(), zip, ...flags);
      await expectRefused(zip, /has an encrypted entry/);
    }
  });

  it('refuses Deflate64 (-mm=Deflate64), which Lambda layers do not use, by name', async () => {
    const zip = path.join(tmpDir(), 'd64.zip');
    sevenZip(layerTree(), zip, '-mm=Deflate64');
    await expectRefused(zip, /compression method 9/);
  });
});

describe('links that try to leave the target', () => {
  const link = (name: string, target: string) => ({ name, data: target, mode: 0o120777 });

  it('a link placed through another link, with a target that resolves outside from there', async () => {
    // sub/x -> .. is the layer root; sub/y -> x/../escape reads as sub/escape, but through
    // x it is <root>/../escape: outside. Refused whichever order the entries come in.
    for (const entries of [
      [{ name: 'sub/', mode: 0o040755 }, link('sub/x', '..'), link('sub/y', 'x/../escape')],
      [{ name: 'sub/', mode: 0o040755 }, link('sub/y', 'x/../escape'), link('sub/x', '..')],
    ]) {
      await expectRefused(makeZip(entries), /link "sub\/y" climbs/);
    }
  });

  it('a link written through a link to another folder of the layer, pointing out from there', async () => {
    // deep -> a/b; deep/l -> ../../.. looks like <root>/.. only from a/b, i.e. <root>/..: refused.
    const out = await expectRefused(
      makeZip([{ name: 'a/b/', mode: 0o040755 }, link('deep', 'a/b'), link('deep/l', '../../..')]),
      /link "deep\/l" points outside/,
    );
    expect(existsSync(path.join(out, 'a/b/l'))).toBe(false);
  });

  it('absolute targets and a climb out of the root', async () => {
    await expectRefused(makeZip([link('abs', '/etc/passwd')]), /link "abs" is absolute/);
    await expectRefused(makeZip([link('up', '..')]), /link "up" points outside/);
    await expectRefused(makeZip([link('long', 'a/'.repeat(3000))]), /link "long" has a \d+-byte target/);
  });

  it('a file or folder entry where a link already is', async () => {
    await expectRefused(makeZip([link('x', 'y'), { name: 'x', data: 'over' }]), /entry "x" appears twice/);
    await expectRefused(makeZip([link('x', 'y'), { name: 'x/', mode: 0o040755 }]), /directory "x" is also a link/);
  });

  it('keeps links that stay inside, through other links too', async () => {
    const file = path.join(tmpDir(), 'ok.zip');
    writeFileSync(
      file,
      makeZip([
        { name: 'lib/libx.so.1', data: 'elf' },
        link('lib/libx.so', 'libx.so.1'),
        link('bin/x', '../lib/libx.so'),
        link('libdir', 'lib'),
        link('via', 'libdir/libx.so'),
      ]),
    );
    const out = await unpack(file);
    expect(readFileSync(path.join(out, 'via'), 'utf8')).toBe('elf');
    expect(realpathSync(path.join(out, 'bin/x'))).toBe(path.join(realpathSync(out), 'lib/libx.so.1'));
    expect(lstatSync(path.join(out, 'libdir')).isSymbolicLink()).toBe(true);
  });
});
