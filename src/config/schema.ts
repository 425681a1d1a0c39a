// lambda-image.json: its schema, defaults and validation. Pure: text in, config or errors out.
import { z } from 'zod';
import { RIE_VERSION } from '../render/images.js';

import { ARCHES, BASES, CONFIG_FILE, RUNTIMES } from './constants.js';

export { ARCHES, BASES, CONFIG_FILE, RUNTIMES };
export type { Arch, Base, Runtime } from './constants.js';
export const CONFIG_VERSION = 1;

/** Docker repository name rules (lower case, separators, optional registry host). */
const IMAGE_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const HEX64 = /^[a-f0-9]{64}$/;

const relativePath = z
  .string()
  .min(1)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), 'must be a path inside the project (relative, no "..")');

export const extensionSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9_-]+$/, 'must be a layer name (letters, digits, - and _)'),
  version: z.number().int().positive(),
  arn: z.string().optional(),
  sha256: z.string().regex(HEX64, 'must be 64 lower-case hex digits'),
  architectures: z.array(z.enum(ARCHES)).default([]),
  dir: relativePath,
  size: z.number().int().nonnegative(),
  files: z.number().int().nonnegative(),
});

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(CONFIG_VERSION).default(CONFIG_VERSION),
    name: z.string().regex(IMAGE_NAME, 'must be a Docker image name: lower case letters, digits, and . _ - / between them'),
    tag: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be a Docker tag').default('latest'),
    runtime: z.enum(RUNTIMES).default('go'),
    base: z.enum(BASES).default('aws'),
    rie: z.boolean().default(false),
    arch: z.enum(ARCHES).default('x86_64'),
    baseImage: z.string().min(1).optional(),
    handler: z.string().min(1).default('bootstrap'),
    go: z
      .object({
        module: z.string().min(1),
        version: z.string().regex(/^\d+\.\d+(\.\d+)?$/, 'must be a Go version such as 1.23 or 1.23.4'),
        main: relativePath.default('.'),
      })
      .optional(),
    binary: relativePath.optional(),
    rieVersion: z.string().regex(/^v\d+\.\d+(\.\d+)?$/, 'must be an emulator release tag such as v1.30').default(RIE_VERSION),
    rieFrom: z.string().min(1).optional(),
    extensions: z.array(extensionSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.runtime === 'go' && !c.go) ctx.addIssue({ code: 'custom', path: ['go'], message: 'is required when runtime is "go"' });
    if (c.runtime === 'provided' && !c.binary)
      ctx.addIssue({ code: 'custom', path: ['binary'], message: 'is required when runtime is "provided"' });
    const names = new Set<string>();
    for (const [i, e] of c.extensions.entries()) {
      if (names.has(e.name)) ctx.addIssue({ code: 'custom', path: ['extensions', i, 'name'], message: `"${e.name}" is listed twice` });
      names.add(e.name);
    }
  });

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type ExtensionEntry = z.infer<typeof extensionSchema>;

export type ParseResult = { config: Config; errors: [] } | { config?: undefined; errors: string[] };

/** Parses and validates config text. Never throws: returns the config or one message per problem. */
export function parseConfig(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { errors: [`not valid JSON (${(err as Error).message})`] };
  }
  const result = configSchema.safeParse(raw);
  if (result.success) return { config: result.data, errors: [] };
  return {
    errors: result.error.issues.map((i) => {
      const where = i.path.length ? i.path.join('.') : '(top level)';
      return `${where}: ${i.message}`;
    }),
  };
}

/** The stable JSON form written to disk (defaults made explicit, keys in schema order). */
export function serializeConfig(config: Config): string {
  return JSON.stringify(configSchema.parse(config), null, 2) + '\n';
}
