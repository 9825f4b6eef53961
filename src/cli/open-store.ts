import { defaultStoreDir, openStore, type Store } from '../store/index.js';
import type { GlobalArgs } from './command.js';

/** The store named by --store, else $FERRY_STORE / XDG default. */
export function openStoreFromArgs(args: GlobalArgs, options: { readOnly?: boolean } = {}): Promise<Store> {
  return openStore(args.store ?? defaultStoreDir(), { create: !options.readOnly, ...(options.readOnly ? { readOnly: true } : {}) });
}
