/**
 * Which part a `crs cdc` process plays, as its /readyz says (active, standby, starting,
 * stopped; the role is in the body whether ready or not): the drill and the tests ask the same
 * way.
 */
/** The role, or undefined while the process does not answer. */
export async function cdcRole(probeUrl: string): Promise<string | undefined> {
  try {
    const response = await fetch(`${probeUrl}/readyz`, { signal: AbortSignal.timeout(3_000) });
    const body = (await response.json()) as { role?: string; error?: { details?: { role?: string } } };
    return body.role ?? body.error?.details?.role;
  } catch {
    return undefined;
  }
}
