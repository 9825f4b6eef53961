import type { FerryCommand } from '../command.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { inspectCommand } from './inspect.js';
import { inventoryCommand } from './inventory.js';
import { keygenCommand } from './keygen.js';
import { storeCommand } from './store.js';
import { verifyCommand } from './verify.js';

/** Every command, in the order --help lists them. */
export const commands: FerryCommand[] = [exportCommand, importCommand, verifyCommand, inspectCommand, keygenCommand, storeCommand, inventoryCommand];
