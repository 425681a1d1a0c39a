// add-extension against a local server that speaks Lambda's REST protocol, real files and
// real zips; extensions list / remove. (The build-into-image path is in extensions.docker.test.ts.)
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readElf } from '../src/util/elf.js';
import { parseLayerArn } from '../src/layers/arn.js';
import { safeEntryPath } from '../src/layers/unzip.js';
import { runCliInProcess as runCli } from './support/cli.js';
import { FakeLambdaApi } from './support/lambda-api.js';
import { fixtureCopy, tmpDir } from './support/tmp.js';
import { fakeElf, makeZip } from './support/zip.js';

const ARN = 'arn:aws:lambda:ap-northeast-1:133490724326:layer:AWS-Parameters-and-Secrets-Lambda-Extension:2';
const arnFor = (name: string, version = 1) => `arn:aws:lambda:us-east-1:123456789012:layer:${name}:${version}`;

function goodZip(machine: 'x86-64' | 'AArch64' = 'x86-64', interp?: string): Buffer {
  return makeZip([
    { name: 'extensions/', mode: 0o040755 },
    { name: 'extensions/params-ext', data: fakeElf(machine, interp), mode: 0o100755 },
    { name: 'params-ext/', mode: 0o040755 },
    { name: 'params-ext/config.json', data: '{"port":2773}' },
    { name: 'params-ext/lib/helper.sh', data: '#!/bin/sh\necho hi\n', mode: 0o100755 },
  ]);
}

/** Project files, and the layer folder, as they are on disk. */
function snapshotProject(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const p = rel ? `${rel}/${name}` : name;
      if (statSync(path.join(dir, p)).isDirectory()) walk(p);
      else out[p] = readFileSync(path.join(dir, p), 'utf8');
    }
  };
  walk('');
  return out;
}

describe('add-extension', () => {
  let api: FakeLambdaApi;
  let cache: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    api = await new FakeLambdaApi().start();
    cache = tmpDir('lambda-image-cache-');
    env = api.env(cache);
  });
  afterAll(() => api.close());

  async function project(initArgs: string[] = []) {
    const dir = fixtureCopy('go-hello');
    expect((await runCli(['init', dir, ...initArgs])).code).toBe(0);
    return dir;
  }

  it('fetches by ARN, verifies, unpacks under .lambda-image/layers, records it and re-renders the Dockerfile', async () => {
    api.add({ arn: ARN, zip: goodZip(), architectures: ['x86_64'] });
    const dir = await project();
    const r = await runCli(['add-extension', ARN, dir], { env });
    expect(r.stderr + r.stdout).not.toContain(api.signature);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/added AWS-Parameters-and-Secrets-Lambda-Extension version 2: 3 files/);
    const layerDir = path.join(dir, '.lambda-image/layers/AWS-Parameters-and-Secrets-Lambda-Extension-2');
    expect(statSync(path.join(layerDir, 'extensions/params-ext')).mode & 0o777).toBe(0o755);
    expect(statSync(path.join(layerDir, 'params-ext/lib/helper.sh')).mode & 0o777).toBe(0o755);
    expect(readFileSync(path.join(layerDir, 'params-ext/config.json'), 'utf8')).toBe('{"port":2773}');
    const config = JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8'));
    expect(config.extensions).toEqual([
      {
        name: 'AWS-Parameters-and-Secrets-Lambda-Extension',
        version: 2,
        arn: ARN,
        sha256: (await import('node:crypto')).createHash('sha256').update(goodZip()).digest('hex'),
        architectures: ['x86_64'],
        dir: '.lambda-image/layers/AWS-Parameters-and-Secrets-Lambda-Extension-2',
        size: fakeElf('x86-64').length + '{"port":2773}'.length + '#!/bin/sh\necho hi\n'.length,
        files: 3,
      },
    ]);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(
      'COPY .lambda-image/layers/AWS-Parameters-and-Secrets-Lambda-Extension-2/ /opt/',
    );

    // Re-adding: nothing changes, and no network is needed (the cache answers).
    const before = snapshotProject(dir);
    const requests = api.requests.length;
    const again = await runCli(['add-extension', ARN, dir], { env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/already in the image; nothing changed/);
    expect(snapshotProject(dir)).toEqual(before);
    expect(api.requests.length).toBe(requests);

    // The cache serves another project too, without the network.
    const other = await project();
    expect(
      (await runCli(['add-extension', ARN, other], { env: { ...env, AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:1' } }))
        .code,
    ).toBe(0);
  });

  it('replaces an older version of the same layer and says so', async () => {
    const v1 = arnFor('replace-me', 1);
    const v2 = arnFor('replace-me', 2);
    api.add({ arn: v1, zip: goodZip() });
    api.add({
      arn: v2,
      zip: makeZip([
        { name: 'extensions/replace-me', data: fakeElf('x86-64'), mode: 0o100755 },
        { name: 'v2.txt', data: 'two' },
      ]),
    });
    const dir = await project();
    expect((await runCli(['add-extension', v1, dir], { env })).code).toBe(0);
    const r = await runCli(['add-extension', v2, dir], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/replaced replace-me version 1 with version 2/);
    expect(existsSync(path.join(dir, '.lambda-image/layers/replace-me-1'))).toBe(false);
    expect(readFileSync(path.join(dir, '.lambda-image/layers/replace-me-2/v2.txt'), 'utf8')).toBe('two');
    const dockerfile = readFileSync(path.join(dir, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain('COPY .lambda-image/layers/replace-me-2/ /opt/');
    expect(dockerfile).not.toContain('replace-me-1');
  });

  it('lists and removes extensions', async () => {
    const arn = arnFor('listed', 4);
    api.add({ arn, zip: goodZip(), architectures: ['x86_64', 'arm64'] });
    const dir = await project();
    expect((await runCli(['add-extension', arn, dir], { env })).code).toBe(0);
    const list = await runCli(['extensions', 'list', dir]);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME\s+VERSION\s+ARCHITECTURES\s+SIZE\s+FILES$/);
    expect(list.stdout).toMatch(/^listed\s+4\s+x86_64,arm64\s+[\d.]+ (B|KiB)\s+3$/m);
    const json = JSON.parse((await runCli(['extensions', 'list', dir, '--json'])).stdout);
    expect(json.map((e: { name: string }) => e.name)).toEqual(['listed']);
    const removed = await runCli(['extensions', 'remove', 'listed', dir]);
    expect(removed.code).toBe(0);
    expect(existsSync(path.join(dir, '.lambda-image/layers/listed-4'))).toBe(false);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).not.toContain('/opt/');
    expect(JSON.parse(readFileSync(path.join(dir, 'lambda-image.json'), 'utf8')).extensions).toEqual([]);
    const missing = await runCli(['extensions', 'remove', 'listed', dir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/error: no extension named "listed"/);
  });

  it('adds a layer zip from disk with --from-zip', async () => {
    const dir = await project();
    const zip = path.join(tmpDir(), 'my-ext.zip');
    writeFileSync(zip, goodZip());
    const r = await runCli(['add-extension', '--from-zip', zip, dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/added my-ext version 1/);
    expect(existsSync(path.join(dir, '.lambda-image/layers/my-ext-1/extensions/params-ext'))).toBe(true);
  });

  it('does not overwrite a hand-edited Dockerfile', async () => {
    const arn = arnFor('hand', 1);
    api.add({ arn, zip: goodZip() });
    const dir = await project();
    writeFileSync(path.join(dir, 'Dockerfile'), readFileSync(path.join(dir, 'Dockerfile'), 'utf8') + 'LABEL mine=1\n');
    const before = snapshotProject(dir);
    const r = await runCli(['add-extension', arn, dir], { env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/would overwrite Dockerfile \(hand-edited\)/);
    expect(snapshotProject(dir)).toEqual(before);
  });

  it('warns about a glibc extension on alpine and a non-executable file in extensions/', async () => {
    const arn = arnFor('glibc-ext', 1);
    api.add({
      arn,
      zip: makeZip([
        { name: 'extensions/glibc-ext', data: fakeElf('x86-64', '/lib64/ld-linux-x86-64.so.2'), mode: 0o100755 },
        { name: 'extensions/readme.txt', data: 'not a program', mode: 0o100644 },
      ]),
    });
    const dir = await project(['--base', 'alpine', '--force']);
    const r = await runCli(['add-extension', arn, dir], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: extensions\/glibc-ext needs glibc \(\/lib64\/ld-linux-x86-64\.so\.2\).*use --base aws/,
    );
    expect(r.stderr).toMatch(/warning: extensions\/readme\.txt is not executable/);
  });

  describe('failures leave nothing behind and never print the presigned URL', () => {
    const cases: Array<[string, (arn: string) => void, number, RegExp]> = [
      [
        'a wrong hash',
        (arn) => api.add({ arn, zip: goodZip(), announceSha256: Buffer.alloc(32, 1).toString('base64') }),
        23,
        /SHA-256 is [0-9a-f]{64}, AWS announced 0101/,
      ],
      [
        'a wrong size',
        (arn) => api.add({ arn, zip: goodZip(), announceSize: goodZip().length + 10 }),
        23,
        /has \d+ bytes, AWS announced \d+/,
      ],
      [
        'a truncated download',
        (arn) => api.add({ arn, zip: goodZip(), truncateAt: 100 }),
        22,
        /broke off after \d+ bytes|has 100 bytes/,
      ],
      ['404 ResourceNotFoundException', () => {}, 21, /layer missing version 1 was not found in us-east-1/],
      [
        '403 AccessDeniedException',
        (arn) => api.add({ arn, zip: goodZip(), error: { status: 403, type: 'AccessDeniedException', message: 'no' } }),
        20,
        /AWS denied GetLayerVersionByArn .*AccessDeniedException/,
      ],
      [
        'throttling (retried, then a clear error)',
        () => (api.throttleCount = 3),
        20,
        /kept throttling GetLayerVersionByArn/,
      ],
      [
        'a zip-slip entry',
        (arn) =>
          api.add({
            arn,
            zip: makeZip([
              { name: 'extensions/ok', data: 'x', mode: 0o100755 },
              { name: '../../evil', data: 'x' },
            ]),
          }),
        24,
        /entry "\.\.\/\.\.\/evil" would land outside/,
      ],
      [
        'an absolute path',
        (arn) => api.add({ arn, zip: makeZip([{ name: '/etc/evil', data: 'x' }]) }),
        24,
        /entry "\/etc\/evil" would land outside/,
      ],
      [
        'an escaping link',
        (arn) =>
          api.add({ arn, zip: makeZip([{ name: 'extensions/link', data: '../../../../etc/passwd', mode: 0o120777 }]) }),
        24,
        /link "extensions\/link" points outside/,
      ],
      [
        'a special file',
        (arn) => api.add({ arn, zip: makeZip([{ name: 'dev-null', data: '', mode: 0o020666 }]) }),
        24,
        /"dev-null" is a special file/,
      ],
      [
        'an architecture mismatch (CompatibleArchitectures)',
        (arn) => api.add({ arn, zip: goodZip(), architectures: ['arm64'] }),
        25,
        /published for arm64, and this image is x86_64/,
      ],
      [
        'an architecture mismatch (ELF machine)',
        (arn) => api.add({ arn, zip: goodZip('AArch64') }),
        25,
        /extensions\/params-ext is an AArch64 binary, and this image is x86_64/,
      ],
    ];
    it.each(cases)('%s', async (label, setup, code, pattern) => {
      const name =
        label === '404 ResourceNotFoundException'
          ? 'missing'
          : label.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '');
      const arn = arnFor(name, 1);
      setup(arn);
      const dir = await project();
      const before = snapshotProject(dir);
      const cacheBefore = existsSync(path.join(cache, 'layers')) ? readdirSync(path.join(cache, 'layers')).sort() : [];
      const r = await runCli(['add-extension', arn, dir], { env });
      expect(r.stderr).toMatch(pattern);
      expect(r.code).toBe(code);
      expect(r.stderr + r.stdout).not.toContain(api.signature);
      expect(r.stderr + r.stdout).not.toContain('X-Amz-Signature');
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // Nothing written: project unchanged, no staging folder, no partial download in the cache.
      expect(snapshotProject(dir)).toEqual(before);
      expect(existsSync(path.join(dir, '.lambda-image'))).toBe(false);
      const cacheAfter = existsSync(path.join(cache, 'layers')) ? readdirSync(path.join(cache, 'layers')).sort() : [];
      expect(cacheAfter.filter((f) => f.includes('.part'))).toEqual([]);
      if (code === 22 || code === 23) expect(cacheAfter).toEqual(cacheBefore);
    });
  });

  it('rejects a malformed ARN showing the expected shape', async () => {
    const dir = await project();
    const r = await runCli(['add-extension', 'arn:aws:lambda:us-east-1:123:layer:x', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error: "arn:aws:lambda:us-east-1:123:layer:x" is not a Lambda layer version ARN/);
    expect(r.stderr).toMatch(
      /hint: expected arn:<aws\|aws-cn\|aws-us-gov>:lambda:<region>:<12-digit account>:layer:<name>:<version>/,
    );
  });
});

describe('layer ARNs', () => {
  it('parses the three partitions and rejects the rest', () => {
    expect(parseLayerArn(ARN)).toMatchObject({
      partition: 'aws',
      region: 'ap-northeast-1',
      account: '133490724326',
      name: 'AWS-Parameters-and-Secrets-Lambda-Extension',
      version: 2,
    });
    expect(parseLayerArn('arn:aws-cn:lambda:cn-north-1:123456789012:layer:x:1').partition).toBe('aws-cn');
    expect(parseLayerArn('arn:aws-us-gov:lambda:us-gov-west-1:123456789012:layer:x:7').region).toBe('us-gov-west-1');
    for (const bad of [
      'arn:aws:lambda:us-east-1:123456789012:function:x:1',
      'arn:aws:s3:us-east-1:123456789012:layer:x:1',
      'arn:aws:lambda:us-east-1:12345:layer:x:1',
      'arn:aws:lambda:us-east-1:123456789012:layer:x',
      'arn:other:lambda:us-east-1:123456789012:layer:x:1',
    ]) {
      expect(() => parseLayerArn(bad), bad).toThrow(/is not a Lambda layer version ARN/);
    }
  });
});

describe('ELF and zip entry checks', () => {
  it('reads machine types and loaders of real binaries', () => {
    // The running node binary: a real dynamically linked ELF for this host, whatever it is.
    const hostMachine = ({ x64: 'x86-64', arm64: 'AArch64' } as Record<string, string>)[process.arch];
    const node = readElf(readFileSync(process.execPath));
    if (hostMachine) expect(node?.machine).toBe(hostMachine);
    expect(node?.interpreter).toMatch(/^\/lib.*\/ld-/);
    expect(readElf(fakeElf('x86-64', '/lib64/ld-linux-x86-64.so.2'))).toEqual({
      machine: 'x86-64',
      interpreter: '/lib64/ld-linux-x86-64.so.2',
    });
    expect(readElf(readFileSync('/bin/busybox'))?.interpreter).toBeUndefined(); // Debian's busybox-static
    expect(readElf(fakeElf('AArch64'))?.machine).toBe('AArch64');
    expect(readElf(Buffer.from('#!/bin/sh\n'))).toBeUndefined();
  });

  it('accepts names inside the target only', () => {
    expect(safeEntryPath('extensions/a')).toBe('extensions/a');
    expect(safeEntryPath('a/./b/')).toBe('a/b');
    for (const bad of ['../a', 'a/../../b', '/abs', 'C:/x', 'a\\..\\b'])
      expect(safeEntryPath(bad), bad).toBeUndefined();
  });
});
