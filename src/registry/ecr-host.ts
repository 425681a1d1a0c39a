// Amazon ECR registry host names (pure): which hosts are ECR, in which region and account,
// and which of them Lambda refuses (FIPS endpoints, ECR Public).

export interface EcrHost {
  account: string;
  region: string;
  fips: boolean;
}

const ECR_HOST = /^(\d{12})\.dkr\.ecr(-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** Parses `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`; undefined for any other host. */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = ECR_HOST.exec(host.toLowerCase());
  if (!m) return undefined;
  return { account: m[1]!, fips: Boolean(m[2]), region: m[3]! };
}

export function isEcrPublicHost(host: string): boolean {
  return host.toLowerCase() === 'public.ecr.aws';
}

/** ECR repository names: lower-case letters, digits and -_./ between them (what CreateRepository accepts). */
export function ecrRepositoryNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 256) return 'must be 2 to 256 characters';
  if (!/^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/.test(name)) {
    return 'must be lower-case letters and digits, with - _ . between them and / between path parts';
  }
  return undefined;
}
