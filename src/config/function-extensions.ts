// Which functions of a project of several hold which extensions (layers): `add-extension
// --function` and `extensions remove --function` edit one function's share without giving or
// taking a layer from the others. Pure: a config in, the `functions` to write out.
//
// A function with no `extensions` list holds every layer of the project; one with a list holds
// those. So giving a NEW layer to one function writes explicit lists (the layers they hold
// today) for the others that had none, or they would gain it too; taking a layer from a function
// with no list writes its list (every layer but that one).
import type { Config, FunctionEntry } from './schema.js';

export interface FunctionsEdit {
  /** The config's `functions` after the edit (undefined for a one-function project). */
  functions: Config['functions'];
  /** Functions that had no list and were given one, so that they keep what they hold. */
  pinned: string[];
  /** The function's own list changed. */
  changed: boolean;
}

/** The functions holding `layer` (every function without a list holds each project layer). */
export function extensionUsers(config: Config, layer: string): string[] {
  if (!config.functions) return [];
  return Object.entries(config.functions)
    .filter(([, f]) => (f.extensions ? f.extensions.includes(layer) : config.extensions.some((e) => e.name === layer)))
    .map(([name]) => name);
}

/**
 * `layer` given to the functions `fns` only (`config` is the project before the layer is
 * recorded): each lists it when it lists its layers; the others keep exactly what they hold now.
 */
export function giveExtension(config: Config, layer: string, fns: readonly string[]): FunctionsEdit {
  if (!config.functions) return { functions: undefined, pinned: [], changed: false };
  const known = config.extensions.map((e) => e.name);
  const isNew = !known.includes(layer);
  const pinned: string[] = [];
  let changed = false;
  const functions: Record<string, FunctionEntry> = {};
  for (const [name, f] of Object.entries(config.functions)) {
    if (fns.includes(name)) {
      if (f.extensions && !f.extensions.includes(layer)) {
        functions[name] = { ...f, extensions: [...f.extensions, layer] };
        changed = true;
      } else functions[name] = f;
    } else if (!f.extensions && isNew) {
      functions[name] = { ...f, extensions: known };
      pinned.push(name);
    } else functions[name] = f;
  }
  return { functions, pinned, changed };
}

/**
 * `layer` taken from function `fn` only: out of its list, or, when it had none, a list of every
 * other layer of the project. The others keep what they hold.
 */
export function takeExtension(config: Config, layer: string, fn: string): FunctionsEdit {
  if (!config.functions) return { functions: undefined, pinned: [], changed: false };
  const functions: Record<string, FunctionEntry> = { ...config.functions };
  const f = config.functions[fn]!;
  const holds = f.extensions ? f.extensions.includes(layer) : config.extensions.some((e) => e.name === layer);
  if (!holds) return { functions, pinned: [], changed: false };
  const list = (f.extensions ?? config.extensions.map((e) => e.name)).filter((n) => n !== layer);
  functions[fn] = { ...f, extensions: list };
  return { functions, pinned: f.extensions ? [] : [fn], changed: true };
}

/** `layer` out of every function's list (it leaves the project). */
export function dropExtension(config: Config, layer: string): Config['functions'] {
  if (!config.functions) return undefined;
  return Object.fromEntries(
    Object.entries(config.functions).map(([name, f]) => [
      name,
      f.extensions ? { ...f, extensions: f.extensions.filter((n) => n !== layer) } : f,
    ]),
  );
}
