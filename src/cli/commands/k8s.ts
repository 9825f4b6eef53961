import { InternalError } from '../../core/errors.js';
import { defineCommand } from '../command.js';

// Placeholder: being written.
export const k8sCommand = defineCommand({
  command: 'k8s',
  describe: '(not yet available)',
  builder: (y) => y,
  async run() {
    throw new InternalError('ferry k8s is not implemented yet');
  },
});
