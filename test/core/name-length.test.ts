import { describe, expect, it } from 'vitest';
import { FerryError, parseReference, validateRepository } from '../../src/core/index.js';
import { upstreamRepositoryName } from '../../src/core/upstream-repository.js';
import { useTempStores } from '../store/helpers/store-fixtures.js';

// distribution limits a repository name to 255 characters (reference.NameTotalLengthMax);
// core holds that limit once, so the store, the client and ferry serve refuse the same names.

function failure(fn: () => unknown): FerryError {
  try {
    fn();
  } catch (err) {
    return err as FerryError;
  }
  throw new Error('expected a failure');
}

const fresh = useTempStores();

describe('repository name length', () => {
  it('validateRepository: 255 passes, 256 is NAME_INVALID with a message saying the limit', () => {
    expect(validateRepository(`a/${'b'.repeat(253)}`)).toHaveLength(255);
    const err = failure(() => validateRepository(`a/${'b'.repeat(254)}`));
    expect(err.code).toBe('ERR_NAME_INVALID');
    expect(err.exitCode).toBe(2);
    expect(err.message).toBe('repository name of 256 characters is longer than 255, the most distribution allows');
  });

  it('the store refuses a name over 255 characters', async () => {
    const { store } = await fresh();
    expect(() => store.repository(`127.0.0.1_5000/${'x'.repeat(241)}`)).toThrow(/longer than 255/);
    expect(store.repository(`127.0.0.1_5000/${'x'.repeat(240)}`).name).toHaveLength(255);
  });

  it('every reference the parser accepts still has a store name within the limit', () => {
    for (const text of [`registry.example.com:5000/${'p'.repeat(229)}`, `docker.io/${'n'.repeat(237)}`, `nginx`]) {
      const ref = parseReference(text);
      const name = upstreamRepositoryName(ref.registry, ref.repository);
      expect(name.length).toBeLessThanOrEqual(255);
      expect(validateRepository(name)).toBe(name);
    }
  });
});
