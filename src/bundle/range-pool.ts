import { RangePool as CoreRangePool, type RangePoolOptions } from '../core/range-pool.js';
import { outputError } from './output-errors.js';

export type { RangeJob, RangePoolOptions } from '../core/range-pool.js';

/**
 * core's RangePool (sha256 of file ranges on every core) for bundles: a write
 * into the bundle that fails for want of space or a file-size limit says so in
 * the bundle's words (outputError) rather than as an unreadable range.
 */
export class RangePool extends CoreRangePool {
  constructor(options: RangePoolOptions = {}) {
    super({ outputError, ...options });
  }
}
