// Image references (`[host[:port]/]path[:tag][@digest]`) checked against the grammar of
// distribution/reference, the one the engine and registries use. Pure: every value that
// names an image (--tag, --base-image, --builder-image, push targets) passes through here,
// so a bad one fails locally with the rule it breaks, never as an engine's HTTP 500 or as
// text inside a Dockerfile.
import { LambdaImageError } from '../errors.js';

export interface ImageReference {
  /** Registry host (with port), when the reference names one: `123.dkr.ecr.eu-west-1.amazonaws.com`, `127.0.0.1:5000`. */
  domain?: string;
  /** Repository path without the domain: `lambda/provided`, `my-fn`. */
  path: string;
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const NAME_MAX = 255;

/** Parses a reference or explains the first rule it breaks (as a LambdaImageError naming `what`). */
export function parseImageReference(ref: string, what = 'image reference'): ImageReference {
  const result = readImageReference(ref);
  if ('problem' in result) {
    throw new LambdaImageError(
      'INVALID_INPUT',
      `${what} ${JSON.stringify(ref)} is not a valid image reference: ${result.problem}`,
      {
        hint: 'for example my-function:1.2 or 123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:v1',
      },
    );
  }
  return result;
}

/** The rule a reference breaks, or undefined when it is valid (for schema checks). */
export function imageReferenceProblem(ref: string): string | undefined {
  const result = readImageReference(ref);
  return 'problem' in result ? result.problem : undefined;
}

class Problem extends Error {}

function readImageReference(ref: string): ImageReference | { problem: string } {
  try {
    return readOrThrow(ref);
  } catch (err) {
    if (err instanceof Problem) return { problem: err.message };
    throw err;
  }
}

function readOrThrow(ref: string): ImageReference {
  const fail = (rule: string) => new Problem(rule);
  if (ref === '') throw fail('it is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\s]/.test(ref)) throw fail('it contains white space or a control character');

  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw fail(`"${digest}" is not a digest (algorithm:hex, e.g. sha256:<64 hex digits>)`);
    if (digest.startsWith('sha256:') && !/^sha256:[a-f0-9]{64}$/.test(digest))
      throw fail('a sha256 digest has 64 lower-case hex digits');
  }
  let tag: string | undefined;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw fail(`tag "${tag}" must be 1 to 128 letters, digits, _ . - and not start with . or -`);
  }
  if (rest.length > NAME_MAX) throw fail(`the name is longer than ${NAME_MAX} characters`);

  const parts = rest.split('/');
  let domain: string | undefined;
  // As in the docker CLI: the first part is a registry when it has a dot or a port, or is localhost.
  if (parts.length > 1 && (/[.:]/.test(parts[0]!) || parts[0] === 'localhost' || /[A-Z]/.test(parts[0]!))) {
    domain = parts.shift()!;
    const [host, port, ...extra] = domain.split(':');
    const ipv6 = /^\[[0-9a-fA-F:]+\]$/.test(domain.replace(/:\d+$/, ''));
    if (!ipv6) {
      if (extra.length || !host || !host.split('.').every((c) => DOMAIN_COMPONENT.test(c)))
        throw fail(`"${domain}" is not a registry host`);
      if (port !== undefined && !/^\d{1,5}$/.test(port)) throw fail(`"${port}" is not a port number`);
    }
  }
  for (const part of parts) {
    if (!PATH_COMPONENT.test(part)) {
      throw fail(
        part === ''
          ? 'it has an empty path component'
          : `"${part}" must be lower-case letters and digits, separated by . _ __ or -`,
      );
    }
  }
  return { domain, path: parts.join('/'), tag, digest };
}

/** The repository part (domain and path) of a parsed reference. */
export function repositoryOf(ref: ImageReference): string {
  return ref.domain ? `${ref.domain}/${ref.path}` : ref.path;
}

/** The rule a bare tag breaks (`v1.2`, a git SHA), or undefined when it is valid. */
export function tagProblem(tag: string): string | undefined {
  return TAG.test(tag) ? undefined : 'a tag is 1 to 128 letters, digits, _ . - and does not start with . or -';
}
