import { createRequire } from 'node:module';

/** ferry's version, from package.json (recorded in every bundle.json). */
export const TOOL_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
