// An engine DOUBLE that answers the Engine API as Docker 29 with the containerd image store does
// (or, with store 'classic', as the same Docker with overlay2): /version with API 1.52, /info
// with the snapshotter in DriverStatus, image inspect whose Id is the index digest with a
// Descriptor (the index that also holds the attestation manifest), history, tag, remove, and
// a push that records its query and answers with the digest of what it was asked to push.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EngineDouble {
  port: number;
  /** "METHOD /path?query" of each request, version prefix dropped. */
  calls: string[];
  /** Digests of the image's parts: the index (its Id here), the amd64 manifest, the attestation manifest, the config. */
  digests: { index: string; manifest: string; attestation: string; config: string };
  close(): Promise<void>;
}

const hex = (c: string) => `sha256:${c.repeat(64)}`;

export async function containerdEngineDouble(
  opts: { store?: 'containerd' | 'classic'; apiVersion?: string; image?: string } = {},
): Promise<EngineDouble> {
  const store = opts.store ?? 'containerd';
  const image = opts.image ?? 'li-engines-fn:latest';
  const digests = { index: hex('a'), manifest: hex('b'), attestation: hex('c'), config: hex('d') };
  const layers = [hex('1'), hex('2'), hex('3')];
  const calls: string[] = [];
  const json = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://double');
    const p = url.pathname.replace(/^\/v1\.\d+/, '');
    calls.push(`${req.method} ${p}${url.search}`);
    req.resume();
    if (p === '/_ping') return res.end('OK');
    if (p === '/version')
      return json(res, 200, {
        Version: '29.1.3',
        ApiVersion: opts.apiVersion ?? '1.52',
        MinAPIVersion: '1.44',
        Os: 'linux',
        Arch: 'amd64',
        Components: [{ Name: 'Engine', Version: '29.1.3' }],
      });
    if (p === '/info')
      return json(res, 200, {
        Driver: store === 'containerd' ? 'overlayfs' : 'overlay2',
        DriverStatus:
          store === 'containerd'
            ? [['driver-type', 'io.containerd.snapshotter.v1']]
            : [
                ['Backing Filesystem', 'extfs'],
                ['Supports d_type', 'true'],
              ],
        CgroupVersion: '2',
      });
    const m = /^\/images\/(.+)\/(json|history|tag|push)$/.exec(p);
    const name = m ? decodeURIComponent(m[1]!) : decodeURIComponent(p.replace(/^\/images\//, ''));
    const known = (n: string) =>
      n === image || n === image.replace(/:latest$/, '') || n === digests.index || n.startsWith('127.0.0.1:');
    if (m?.[2] === 'json') {
      if (!known(name)) return json(res, 404, { message: `No such image: ${name}` });
      return json(res, 200, {
        // The containerd store: the ID is the digest of the index (manifest + attestation), not of the config.
        Id: store === 'containerd' ? digests.index : digests.config,
        RepoTags: [image],
        RepoDigests: [],
        Created: '2026-12-08T02:00:00Z',
        Architecture: 'amd64',
        Os: 'linux',
        Size: 12_345_678,
        RootFS: { Type: 'layers', Layers: layers },
        Config: { Labels: { 'org.lambda-image.function': 'fn' }, Entrypoint: ['/lambda-entrypoint.sh'] },
        ...(store === 'containerd'
          ? { Descriptor: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: digests.index, size: 856 } }
          : {}),
        ...(store === 'containerd' && url.searchParams.get('manifests') === '1'
          ? {
              Manifests: [
                {
                  ID: digests.manifest,
                  Descriptor: {
                    mediaType: 'application/vnd.oci.image.manifest.v1+json',
                    digest: digests.manifest,
                    size: 1021,
                    platform: { architecture: 'amd64', os: 'linux' },
                  },
                  Kind: 'image',
                  ImageData: { Platform: { architecture: 'amd64', os: 'linux' }, Containers: [] },
                },
                {
                  ID: digests.attestation,
                  Descriptor: {
                    mediaType: 'application/vnd.oci.image.manifest.v1+json',
                    digest: digests.attestation,
                    size: 566,
                    annotations: {
                      'vnd.docker.reference.digest': digests.manifest,
                      'vnd.docker.reference.type': 'attestation-manifest',
                    },
                    platform: { architecture: 'unknown', os: 'unknown' },
                  },
                  Kind: 'attestation',
                  AttestationData: { For: digests.manifest },
                },
              ],
            }
          : {}),
      });
    }
    if (m?.[2] === 'history')
      return json(res, 200, [
        {
          Id: digests.index,
          Created: 3,
          CreatedBy: 'COPY /out/bootstrap /var/runtime/bootstrap # buildkit',
          Size: 2_000_000,
          Tags: [image],
        },
        { Id: '<missing>', Created: 2, CreatedBy: 'ENTRYPOINT ["/lambda-entrypoint.sh"]', Size: 0, Tags: null },
        { Id: '<missing>', Created: 1, CreatedBy: 'ADD base.tar / # buildkit', Size: 10_345_678, Tags: null },
      ]);
    if (m?.[2] === 'tag') {
      res.writeHead(201);
      return res.end();
    }
    if (m?.[2] === 'push') {
      const platform = url.searchParams.get('platform');
      // Without a platform the containerd store pushes the whole index (attestation included).
      const pushed = store === 'containerd' && !platform ? digests.index : digests.manifest;
      const tag = url.searchParams.get('tag') ?? 'latest';
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const lines = [
        { status: `The push refers to repository [${name}]` },
        { status: 'Pushed', progressDetail: {}, id: layers[0]!.slice(7, 19) },
        { status: `${tag}: digest: ${pushed} size: 1021` },
        { progressDetail: {}, aux: { Tag: tag, Digest: pushed, Size: 1021 } },
      ];
      return res.end(lines.map((l) => `${JSON.stringify(l)}\r\n`).join(''));
    }
    if (req.method === 'DELETE' && p.startsWith('/images/')) return json(res, 200, [{ Untagged: name }]);
    json(res, 404, { message: `page not found: ${p}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    calls,
    digests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
