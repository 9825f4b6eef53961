import { InternalError } from '../../core/errors.js';
import { defineCommand } from '../command.js';

// Placeholder: being written.
export const demoCommand = defineCommand({
  command: 'demo',
  describe: '(not yet available)',
  builder: (y) => y,
  async run() {
    throw new InternalError('ferry demo is not implemented yet');
  },
});
