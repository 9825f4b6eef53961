// A deadline for steps that have none of their own (getaddrinfo has no timeout).
// The step keeps running in the background; its result is ignored.

export function withTimeout<T>(work: Promise<T>, ms: number, code: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code })), ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
