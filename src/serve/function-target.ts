// Which function an Invoke API path names, and which function a path of a shared HTTP front
// reaches. Pure: the routing rules of `start` serving several functions, apart from its sockets.

/**
 * The forms of FunctionName the Invoke API takes (AWS's pattern for it): a name (`orders`), a
 * name with a qualifier (`orders:$LATEST`), a partial ARN (`123456789012:function:orders`) or
 * a full ARN (`arn:aws:lambda:us-east-1:123456789012:function:orders[:qualifier]`).
 */
const FUNCTION_NAME =
  /^(?:arn:aws[a-zA-Z-]*:lambda:)?(?:[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d:)?(?:\d{12}:)?(?:function:)?([a-zA-Z0-9_.-]+)(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/;

export interface FunctionTarget {
  /** The function's name, whatever form named it. */
  name: string;
  /** A version or alias, when the name carried one. */
  qualifier?: string;
}

/** The function a FunctionName names, or undefined when it is not a form the Invoke API takes. */
export function parseFunctionTarget(target: string): FunctionTarget | undefined {
  const m = FUNCTION_NAME.exec(target);
  if (!m) return undefined;
  return m[2] === undefined ? { name: m[1]! } : { name: m[1]!, qualifier: m[2] };
}

/**
 * The function among `names` an Invoke API path names: by name, partial or full ARN; `function`
 * (the emulator's own path, as the RIE serves it) is the one function when only one is served.
 * Only `$LATEST` runs locally: another qualifier (a version, an alias) names nothing here.
 */
export function routeFunction(target: string, names: readonly string[], qualifier?: string): string | undefined {
  const parsed = parseFunctionTarget(target);
  if (!parsed) return undefined;
  const q = parsed.qualifier ?? qualifier;
  if (q !== undefined && q !== '$LATEST') return undefined;
  // A served name may itself be an ARN (--function-name takes one): compare the names inside.
  const found = names.find((n) => n === target || (parseFunctionTarget(n)?.name ?? n) === parsed.name);
  if (found !== undefined) return found;
  if (target === 'function' && names.length === 1) return names[0];
  return undefined;
}

/**
 * A request target on a front that serves several functions, each under `/<name>`: the function
 * and the target the function sees (the prefix stripped, the query kept; `/<name>` alone is
 * `/`). An absolute-form target (`http://host/orders/a`) is its path; undefined when no served
 * function's prefix starts the path.
 */
export function routePrefixed(target: string, names: readonly string[]): { name: string; target: string } | undefined {
  let pathAndQuery = target;
  if (!target.startsWith('/')) {
    try {
      const u = new URL(target);
      pathAndQuery = u.pathname + u.search;
    } catch {
      return undefined;
    }
  }
  const m = /^\/([^/?#]+)([^?#]*)(.*)$/s.exec(pathAndQuery);
  if (!m) return undefined;
  let first: string;
  try {
    first = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  if (!names.includes(first)) return undefined;
  return { name: first, target: `${m[2] || '/'}${m[3]}` };
}
