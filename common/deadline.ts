/**
 * A bound on one wait: the work's own result, or a rejection with `message` once `ms` have
 * passed (the work itself goes on; callers drop or destroy what it holds). Every wait on a
 * peer that may never answer goes through this: probe checks, the AMQP handshake and close,
 * publisher confirms, a bucket's answer, Redis for the rate limits.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
