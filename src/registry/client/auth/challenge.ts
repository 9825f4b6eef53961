// WWW-Authenticate parsing (RFC 9110 §11.6.1): one or more challenges, each a
// scheme and comma-separated parameters whose quoted values may hold commas
// (`scope="repository:a:pull,push"`). Linear: split on commas outside quotes,
// then classify each item; no backtracking regex over untrusted input.

export interface Challenge {
  /** Lowercased: 'bearer', 'basic', … */
  scheme: string;
  /** Parameter names lowercased; values unquoted. */
  params: Record<string, string>;
}

/** Splits on commas that are not inside a quoted string. */
function splitOutsideQuotes(text: string): string[] {
  const items: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

function unquote(value: string): string {
  const v = value.trim();
  if (!v.startsWith('"')) return v;
  let out = '';
  for (let i = 1; i < v.length; i++) {
    const c = v[i];
    if (c === '"') break;
    if (c === '\\' && i + 1 < v.length) {
      i++;
      out += v[i];
    } else out += c;
  }
  return out;
}

const PARAM = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(.*)$/s;
const SCHEME = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+(.*))?$/s;

export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let current: Challenge | undefined;
  for (const item of splitOutsideQuotes(header)) {
    const param = PARAM.exec(item);
    if (param && current) {
      current.params[(param[1] ?? '').toLowerCase()] = unquote(param[2] ?? '');
      continue;
    }
    const scheme = SCHEME.exec(item);
    if (!scheme) continue;
    current = { scheme: (scheme[1] ?? '').toLowerCase(), params: {} };
    out.push(current);
    const rest = PARAM.exec(scheme[2] ?? '');
    if (rest) current.params[(rest[1] ?? '').toLowerCase()] = unquote(rest[2] ?? '');
  }
  return out;
}
