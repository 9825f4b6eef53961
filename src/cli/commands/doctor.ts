import { InternalError } from '../../core/errors.js';
import { defineCommand } from '../command.js';

// Placeholder: being written.
export const doctorCommand = defineCommand({
  command: 'doctor',
  describe: '(not yet available)',
  builder: (y) => y,
  async run() {
    throw new InternalError('ferry doctor is not implemented yet');
  },
});
