// Token scopes (distribution docs/spec/auth/scope.md): `repository:NAME:pull,push`,
// `registry:catalog:*`. A host's scopes accumulate, so one token covers pulling
// from repository A and pushing to B — what a cross-repository mount needs
// (oras auth.AppendRepositoryScope).

export type Action = 'pull' | 'push' | 'delete' | '*';

export interface Scope {
  resourceType: 'repository' | 'registry';
  name: string;
  actions: readonly Action[];
}

export function repositoryScope(name: string, ...actions: Action[]): Scope {
  return { resourceType: 'repository', name, actions };
}

export const CATALOG_SCOPE: Scope = { resourceType: 'registry', name: 'catalog', actions: ['*'] };

export function formatScope(s: Scope): string {
  return `${s.resourceType}:${s.name}:${[...s.actions].sort().join(',')}`;
}

/** Parses a challenge's `scope` parameter (space-separated scopes). */
export function parseScopes(text: string | undefined): Scope[] {
  if (!text) return [];
  const out: Scope[] = [];
  for (const part of text.split(' ')) {
    const last = part.lastIndexOf(':');
    const first = part.indexOf(':');
    if (first <= 0 || last <= first) continue;
    const type = part.slice(0, first);
    if (type !== 'repository' && type !== 'registry') continue;
    const actions = part.slice(last + 1).split(',').filter((a): a is Action => a === 'pull' || a === 'push' || a === 'delete' || a === '*');
    out.push({ resourceType: type, name: part.slice(first + 1, last), actions });
  }
  return out;
}

const MAX_RESOURCES = 16;

/**
 * The scopes one host's token should carry: a map resource → actions, most
 * recently used last. Bounded, so a long import across hundreds of repositories
 * does not grow the token request without end.
 */
export class ScopeSet {
  private readonly byResource = new Map<string, Set<Action>>();

  /** Adds scopes; true when something new was added (the current token no longer covers them). */
  add(scopes: readonly Scope[]): boolean {
    let grew = false;
    for (const s of scopes) {
      const key = `${s.resourceType}:${s.name}`;
      const actions = this.byResource.get(key) ?? new Set<Action>();
      this.byResource.delete(key);
      this.byResource.set(key, actions);
      for (const a of s.actions) {
        if (!actions.has(a)) {
          actions.add(a);
          grew = true;
        }
      }
    }
    while (this.byResource.size > MAX_RESOURCES) {
      const oldest = this.byResource.keys().next().value;
      if (oldest === undefined) break;
      this.byResource.delete(oldest);
    }
    return grew;
  }

  /** True when every action of every scope is in this set. */
  covers(scopes: readonly Scope[]): boolean {
    return scopes.every((s) => {
      const have = this.byResource.get(`${s.resourceType}:${s.name}`);
      return have !== undefined && s.actions.every((a) => have.has(a) || have.has('*'));
    });
  }

  /** `scope` query values, one per resource. */
  toStrings(): string[] {
    return [...this.byResource.entries()].map(([key, actions]) => `${key}:${[...actions].sort().join(',')}`);
  }

  clone(): ScopeSet {
    const copy = new ScopeSet();
    for (const [key, actions] of this.byResource) copy.byResource.set(key, new Set(actions));
    return copy;
  }
}
