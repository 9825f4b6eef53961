// The one notion of "now" that anything with expiry takes by injection (the
// store's grace windows, the server's tokens, upload sessions and pins, the
// client's bearer tokens), so a test moves time instead of sleeping through it.

/** Milliseconds since the epoch, like Date.now. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
