// Lambda layer version ARNs: parsing and validation. Pure.
import { LambdaImageError } from '../errors.js';

export interface LayerArn {
  arn: string;
  partition: 'aws' | 'aws-cn' | 'aws-us-gov';
  region: string;
  account: string;
  name: string;
  version: number;
}

const SHAPE = 'arn:<aws|aws-cn|aws-us-gov>:lambda:<region>:<12-digit account>:layer:<name>:<version>';
const ARN =
  /^arn:(aws|aws-cn|aws-us-gov):lambda:([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+):(\d{12}):layer:([A-Za-z0-9_-]{1,140}):(\d+)$/;

export function parseLayerArn(arn: string): LayerArn {
  const m = ARN.exec(arn.trim());
  if (!m) {
    throw new LambdaImageError('INVALID_INPUT', `"${arn}" is not a Lambda layer version ARN`, {
      hint: `expected ${SHAPE}, e.g. arn:aws:lambda:ap-northeast-1:133490724326:layer:AWS-Parameters-and-Secrets-Lambda-Extension:2`,
    });
  }
  const version = Number(m[5]);
  if (version < 1) {
    throw new LambdaImageError('INVALID_INPUT', `layer version in "${arn}" must be 1 or more`, {
      hint: `expected ${SHAPE}`,
    });
  }
  return {
    arn: arn.trim(),
    partition: m[1] as LayerArn['partition'],
    region: m[2]!,
    account: m[3]!,
    name: m[4]!,
    version,
  };
}
