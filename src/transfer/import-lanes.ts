import { repositoryKey, type PlannedImage } from './import-plan.js';
import { inLanes } from './lanes.js';

/**
 * Requests in flight that move no blob: the HEADs that find what the target
 * lacks, and the landing's manifests and tags. --concurrency (blobs moved at
 * once) does not bound them; 16 is the client's connections per registry. At 4
 * the HEADs were 0.2-0.4 s of round trips before the first byte moved (43 for
 * the bench's 12 images, load 9-15), and each landing waited for the others'.
 */
export const METADATA_LANES = 16;

/**
 * Lands images of different repositories in parallel (each request still goes
 * through the shared limiter); images of one repository one after another, so
 * read-modify-write steps on it (the referrers tag-schema index) never race.
 * Sequential landing cost one manifest round trip after another: ~10% of an import.
 * At most `lanes` repositories at once: what a landing holds stays flat in the
 * number of images (all 1,000 at once held 1,000 landings' state for the requests
 * the limiter lets through a few at a time).
 */
export async function landAll(images: PlannedImage[], lanes: number, land: (image: PlannedImage) => Promise<void>, failed: (image: PlannedImage, err: unknown) => void): Promise<void> {
  const byRepository = new Map<string, PlannedImage[]>();
  for (const image of images) {
    const key = repositoryKey(image.target);
    const group = byRepository.get(key);
    if (group) group.push(image);
    else byRepository.set(key, [image]);
  }
  await inLanes(byRepository.values(), lanes, async (group) => {
    for (const image of group) {
      try {
        await land(image);
      } catch (err) {
        failed(image, err);
      }
    }
  });
}
