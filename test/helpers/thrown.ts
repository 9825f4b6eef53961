import { expect } from 'vitest';
import { FerryError } from '../../src/core/index.js';

// What a call threw or a promise rejected with, checked to be the expected class:
// the one helper for tests that inspect an error's code, exit code or message.

type ErrorClass<E> = abstract new (...args: never[]) => E;

/** The error `fn` throws synchronously (an instance of `type`, default FerryError); fails when it returns. */
export function failure<E extends Error = FerryError>(fn: () => unknown, type: ErrorClass<E> = FerryError as unknown as ErrorClass<E>): E {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error('expected an error, got none');
}

/** The error `p` rejects with (an instance of `type`, default FerryError); fails when it resolves. */
export async function rejection<E extends Error = FerryError>(p: Promise<unknown>, type: ErrorClass<E> = FerryError as unknown as ErrorClass<E>): Promise<E> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as E;
}
