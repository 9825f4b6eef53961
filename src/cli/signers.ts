// How export and import say who signed the images that crossed (--require-signed-by): the key in
// each image's table row, and one summary line that counts images per key whatever their number
// (a mirror of 1,000 signed images printed a name per image: a 70 KB line, or 1,000 lines).

/** `N images, by KEY` or `N images: n by KEY, m by KEY2`. */
export function signersLine(images: ReadonlyArray<{ signedBy?: { keyId: string } }>): string | undefined {
  const byKey = new Map<string, number>();
  let signed = 0;
  for (const i of images) {
    if (!i.signedBy) continue;
    signed += 1;
    byKey.set(i.signedBy.keyId, (byKey.get(i.signedBy.keyId) ?? 0) + 1);
  }
  if (signed === 0) return undefined;
  const count = `${signed} image${signed === 1 ? '' : 's'}`;
  if (byKey.size === 1) return `${count}, by ${[...byKey.keys()][0]}`;
  return `${count}: ${[...byKey].map(([key, n]) => `${n} by ${key}`).join(', ')}`;
}
