// Roles per repository pattern, the AcrPull / AcrPush / AcrDelete model:
// `{ pattern: "team-a/*", roles: ["pull", "push"] }`. `*` matches any run of
// characters, '/' included, so `team-a/*` covers `team-a/x/y`; `*` alone is
// every repository. push implies pull (AcrPush can pull too); delete does not.

export const ROLES = ['pull', 'push', 'delete'] as const;
export type Role = (typeof ROLES)[number];

export interface AccessRule {
  readonly pattern: string;
  readonly roles: readonly Role[];
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Does `pattern` match repository `name`? Linear, no regex built from user input. */
export function patternMatches(pattern: string, name: string): boolean {
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  if (parts.length === 1) return pattern === name;
  if (!name.startsWith(first)) return false;
  let at = first.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? '';
    const found = name.indexOf(part, at);
    if (found < 0) return false;
    at = found + part.length;
  }
  const last = parts[parts.length - 1] ?? '';
  return name.length - last.length >= at && name.endsWith(last);
}

/** Every role `rules` grant on repository `name`. */
export function rolesFor(rules: readonly AccessRule[], name: string): Set<Role> {
  const roles = new Set<Role>();
  for (const rule of rules) {
    if (!patternMatches(rule.pattern, name)) continue;
    for (const role of rule.roles) roles.add(role);
  }
  if (roles.has('push')) roles.add('pull');
  return roles;
}
