// Token scopes (distribution docs/spec/auth/scope.md): `repository:NAME:pull,push`,
// `registry:catalog:*`. A token is asked for the scopes of one request, no more:
// a cross-repository mount's request names both repositories (push on the
// target, pull on the source), so its one token covers both; a catalog listing's
// `registry:catalog:*` rides on no repository's token (least privilege, and a
// token request that does not grow with the repositories an import touches).

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

/**
 * The scopes one request needs (its repository's, a mount's source, what a 401
 * challenge named for it): resource → actions. `key()` is the same for the same
 * set whatever the order it was given in, so a token is cached per set.
 */
export class ScopeSet {
  private readonly byResource = new Map<string, Set<Action>>();

  constructor(scopes: readonly Scope[] = []) {
    this.add(scopes);
  }

  /** Adds scopes; true when something new was added (a token for the set before no longer covers it). */
  add(scopes: readonly Scope[]): boolean {
    let grew = false;
    for (const s of scopes) {
      const key = `${s.resourceType}:${s.name}`;
      let actions = this.byResource.get(key);
      if (!actions) {
        actions = new Set<Action>();
        this.byResource.set(key, actions);
      }
      for (const a of s.actions) {
        if (!actions.has(a)) {
          actions.add(a);
          grew = true;
        }
      }
    }
    return grew;
  }

  /** True when every action of every scope of `other` is in this set. */
  covers(other: ScopeSet): boolean {
    return [...other.byResource].every(([key, wanted]) => {
      const have = this.byResource.get(key);
      return have !== undefined && [...wanted].every((a) => have.has(a) || have.has('*'));
    });
  }

  /** `scope` query values, one per resource, sorted. */
  toStrings(): string[] {
    return [...this.byResource.entries()].map(([key, actions]) => `${key}:${[...actions].sort().join(',')}`).sort();
  }

  /** The normalised set as one string: equal for equal sets. */
  key(): string {
    return this.toStrings().join(' ');
  }

  clone(): ScopeSet {
    const copy = new ScopeSet();
    for (const [key, actions] of this.byResource) copy.byResource.set(key, new Set(actions));
    return copy;
  }
}
