import type { FerryCommand } from '../command.js';
import { copyCommand } from './copy.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { inspectCommand } from './inspect.js';
import { inventoryCommand } from './inventory.js';
import { k8sCommand } from './k8s.js';
import { keygenCommand } from './keygen.js';
import { serveCommand } from './serve.js';
import { storeCommand } from './store.js';
import { verifyCommand } from './verify.js';

/** Every command, in the order --help lists them. */
export const commands: FerryCommand[] = [exportCommand, importCommand, verifyCommand, inspectCommand, copyCommand, serveCommand, keygenCommand, storeCommand, inventoryCommand, doctorCommand, k8sCommand, demoCommand];
