// Token scopes as the token endpoint receives them (distribution docs/spec/auth/scope.md):
// `repository:team/app:pull,push`, `registry:catalog:*`. Repository names may hold
// ':' only in theory (a host with a port in a mirror name), so the name is what
// lies between the first and the last ':'.

export type Action = 'pull' | 'push' | 'delete' | '*';

export interface ResourceScope {
  readonly type: 'repository' | 'registry';
  readonly name: string;
  readonly actions: readonly Action[];
}

const ACTIONS: readonly string[] = ['pull', 'push', 'delete', '*'];
const MAX_SCOPES = 32;

function isAction(value: string): value is Action {
  return ACTIONS.includes(value);
}

/** Parses every `scope` query value (each may hold several space-separated scopes); unknown parts are dropped. */
export function parseScopes(values: readonly string[]): ResourceScope[] {
  const out: ResourceScope[] = [];
  for (const value of values) {
    for (const part of value.split(' ')) {
      const first = part.indexOf(':');
      const last = part.lastIndexOf(':');
      if (first <= 0 || last <= first) continue;
      const type = part.slice(0, first);
      if (type !== 'repository' && type !== 'registry') continue;
      const actions = part.slice(last + 1).split(',').filter(isAction);
      out.push({ type, name: part.slice(first + 1, last), actions });
      if (out.length >= MAX_SCOPES) return out;
    }
  }
  return out;
}

export function formatScope(scope: ResourceScope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(',')}`;
}
