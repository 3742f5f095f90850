/**
 * Which quota day a moment belongs to. Google resets RPD at midnight
 * America/Los_Angeles (DST observed); tests and benchmarks may instead use
 * fixed-length days so a "day" passes in seconds.
 */
const HOUR_MS = 3_600_000;

const pacificDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'America/Los_Angeles',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Pacific calendar date of `now`, e.g. "2025-03-09". */
export function pacificDayId(now: number): string {
  return pacificDate.format(now);
}

export type DayClock = (now: number) => string;

/**
 * A day-id function. The Pacific one caches per UTC hour: Los Angeles offsets
 * are whole hours, so a Pacific midnight always falls on a UTC hour boundary
 * and Intl formatting (slow) runs once an hour instead of once a call.
 */
export function createDayClock(dayLengthMs: number | null): DayClock {
  if (dayLengthMs !== null) return (now) => String(Math.floor(now / dayLengthMs));
  let cachedHour = Number.NaN;
  let cachedId = '';
  return (now) => {
    const hour = Math.floor(now / HOUR_MS);
    if (hour !== cachedHour) {
      cachedHour = hour;
      cachedId = pacificDayId(now);
    }
    return cachedId;
  };
}

/**
 * Google's per-day 429 carries a short RetryInfo (under a minute), not the
 * time until midnight; imitate it with the seconds left in the current minute.
 */
export function shortRetrySeconds(now: number): number {
  const left = 60 - Math.floor((now % 60_000) / 1000);
  return Math.min(60, Math.max(1, left));
}
