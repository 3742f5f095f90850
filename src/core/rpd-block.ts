/**
 * RPD is reserved from the durable ledger in blocks, not one request at a
 * time: one conditional statement grants a block into a pool that workers
 * share (in Redis), and admissions spend from the pool. A block is what the
 * ledger counts as reserved the moment it is granted, so the day can never
 * go over its limit; what a lost pool held is stranded, never re-granted.
 *
 * The block adapts to what is left: large while the day has room (few
 * ledger statements per request), small near the limit and for small limits
 * (little to strand, and the last requests of the day still spread over
 * every worker that asks).
 */
export interface RpdBlockParams {
  /** the largest block one reservation grants */
  max: number;
  /** a block is at most 1/spread of what is left of the day */
  spread: number;
}

export const RPD_BLOCK: RpdBlockParams = Object.freeze({ max: 50, spread: 20 });

/**
 * How many requests one reservation grants when `used` of `limit` are
 * already reserved: min(max, max(1, floor(left / spread)), left); 0 when
 * the day is full. The ledger's statement computes the same expression on
 * the locked row (ledger-repo.ts).
 */
export function rpdBlockSize(limit: number, used: number, p: RpdBlockParams = RPD_BLOCK): number {
  const left = limit - used;
  if (left <= 0) return 0;
  return Math.min(p.max, Math.max(1, Math.floor(left / p.spread)), left);
}
