import { contentSuite } from './helpers/content-suite.js';
import { tempStore } from './helpers/store-fixtures.js';

contentSuite('store repository', async () => {
  const t = await tempStore();
  return { repository: t.store.repository('suite/repo'), cleanup: t.cleanup };
});
