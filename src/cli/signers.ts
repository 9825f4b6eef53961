import { countBy } from '../core/count-by.js';

// How export and import say who signed the images that crossed (--require-signed-by): the key in
// each image's table row, and one summary line that counts images per key whatever their number
// (a mirror of 1,000 signed images printed a name per image: a 70 KB line, or 1,000 lines).

/** `N images, by KEY` or `N images: n by KEY, m by KEY2`. */
export function signersLine(images: ReadonlyArray<{ signedBy?: { keyId: string } | undefined }>): string | undefined {
  const keys = images.flatMap((i) => (i.signedBy ? [i.signedBy.keyId] : []));
  if (keys.length === 0) return undefined;
  const byKey = countBy(keys, (k) => k);
  const count = `${keys.length} image${keys.length === 1 ? '' : 's'}`;
  if (byKey.size === 1) return `${count}, by ${[...byKey.keys()][0]}`;
  return `${count}: ${[...byKey].map(([key, n]) => `${n} by ${key}`).join(', ')}`;
}
