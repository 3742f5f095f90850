/**
 * The quota day. Google resets RPD at midnight America/Los_Angeles, DST
 * observed, so a day is 23 or 25 hours long twice a year. Tests and
 * benchmarks use fixed-length days instead so a "day" passes in seconds.
 */
export interface DayClock {
  /** the day `nowMs` belongs to: 'YYYY-MM-DD' (Pacific) or 'd<n>' (fixed length) */
  dayId(nowMs: number): string;
  /** the UTC instant (ms) at which the next day starts */
  nextDayStartMs(nowMs: number): number;
}

const HOUR_MS = 3_600_000;
const ZONE = 'America/Los_Angeles';

const wallClock = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

interface Wall {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
}

function wallAt(ms: number): Wall {
  const get = (parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): number =>
    Number(parts.find((p) => p.type === type)?.value ?? Number.NaN);
  const parts = wallClock.formatToParts(ms);
  return {
    year: get(parts, 'year'),
    month: get(parts, 'month'),
    day: get(parts, 'day'),
    hour: get(parts, 'hour'),
    minute: get(parts, 'minute'),
    second: get(parts, 'second'),
  };
}

/** Local wall time minus UTC at instant `ms` (e.g. -7 h in PDT). */
function offsetAt(ms: number): number {
  const w = wallAt(ms);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

function computeDay(nowMs: number): { id: string; nextStartMs: number } {
  const w = wallAt(nowMs);
  const id = `${pad(w.year, 4)}-${pad(w.month, 2)}-${pad(w.day, 2)}`;
  // Date.UTC normalises day overflow (Jan 31 + 1 => Feb 1).
  const nextMidnightAsUtc = Date.UTC(w.year, w.month - 1, w.day + 1);
  // Two passes: the offset at the guessed instant may differ from the offset
  // at midnight when DST changes in between. Los Angeles switches at 02:00,
  // so local midnight always exists and is unique.
  let start = nextMidnightAsUtc - offsetAt(nextMidnightAsUtc);
  start = nextMidnightAsUtc - offsetAt(start);
  return { id, nextStartMs: start };
}

/**
 * Pacific day clock. Intl formatting is slow and leases ask on every call;
 * Los Angeles offsets are whole hours, so a midnight always falls on a UTC
 * hour boundary and one cached answer per UTC hour is exact.
 */
export function createPacificDay(): DayClock {
  let cachedHour = Number.NaN;
  let cached = { id: '', nextStartMs: 0 };
  const at = (nowMs: number): typeof cached => {
    const hour = Math.floor(nowMs / HOUR_MS);
    if (hour !== cachedHour) {
      cached = computeDay(nowMs);
      cachedHour = hour;
    }
    return cached;
  };
  return {
    dayId: (nowMs) => at(nowMs).id,
    nextDayStartMs: (nowMs) => at(nowMs).nextStartMs,
  };
}

export const pacificDay: DayClock = createPacificDay();

/** Days of a fixed length from the epoch, for tests and benchmarks with a short simulated day. */
export function fixedLengthDay(lengthMs: number): DayClock {
  if (!(lengthMs > 0)) throw new RangeError(`day length must be positive, got ${lengthMs}`);
  const index = (nowMs: number): number => Math.floor(nowMs / lengthMs);
  return {
    dayId: (nowMs) => `d${index(nowMs)}`,
    nextDayStartMs: (nowMs) => (index(nowMs) + 1) * lengthMs,
  };
}

/**
 * The billing month a quota day belongs to: 'YYYY-MM' for a Pacific day,
 * 'm<n>' (thirty simulated days) for a fixed-length day.
 */
export function monthOfDay(dayId: string): string {
  if (/^\d{4}-\d{2}-\d{2}$/.test(dayId)) return dayId.slice(0, 7);
  const n = /^d(\d+)$/.exec(dayId)?.[1];
  return n === undefined ? dayId : `m${Math.floor(Number(n) / 30)}`;
}
