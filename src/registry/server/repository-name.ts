import { validateRepository } from '../../core/index.js';
import { ServerError } from './respond.js';

// The repository names `ferry serve` answers for: the distribution spec's name
// grammar and distribution's 255-character total (reference.NameTotalLengthMax).
// One check for the path, the `?ns=` alias, a mount's `from` and a token scope, so a
// name refused in one place cannot be reached through another.

/** `name`, or 400 NAME_INVALID saying why (core validateRepository holds the grammar and the length limit). */
export function repositoryName(name: string): string {
  try {
    return validateRepository(name);
  } catch (err) {
    throw new ServerError('NAME_INVALID', (err as Error).message, { detail: { name: name.slice(0, 300) } });
  }
}

/** Would repositoryName accept `name`? */
export function isRepositoryName(name: string): boolean {
  try {
    repositoryName(name);
    return true;
  } catch {
    return false;
  }
}
