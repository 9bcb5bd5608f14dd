// Durations as written in the config file and on the command line: a whole number and a unit,
// optionally several of them from the largest unit down ("1h30m", "1m30s", "2s500ms").

const UNIT_MS = {
  w: 7 * 24 * 3_600_000,
  d: 24 * 3_600_000,
  h: 3_600_000,
  m: 60_000,
  s: 1_000,
  ms: 1,
} as const;

type Unit = keyof typeof UNIT_MS;

/** Units from the largest down: the order in which they may appear in a combined duration. */
const UNITS_DESCENDING: readonly Unit[] = ['w', 'd', 'h', 'm', 's', 'ms'];

/** Units formatDuration writes: days rather than weeks, so that "14d" stays "14d". */
const FORMAT_UNITS: readonly Unit[] = ['d', 'h', 'm', 's', 'ms'];

/**
 * The longest delay Node.js timers accept (2^31 - 1 ms, about 24.8 days): a longer one fires after 1 ms instead.
 * Durations that feed timers (probe timeouts and intervals) are refused beyond it.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Why `ms` cannot feed a timer, or null when it can. */
export function timerLimitProblem(ms: number): string | null {
  return ms > MAX_TIMER_MS ? `must be at most 24d (the longest wait Node.js timers support, about 24.8 days)` : null;
}

export class DurationError extends Error {
  constructor(readonly input: string, reason: string) {
    super(`${JSON.stringify(input)} is not a duration: ${reason}`);
    this.name = 'DurationError';
  }
}

const HOW_TO = 'write a whole number and a unit (ms, s, m, h, d, w), e.g. "500ms", "30s", "5m" or "1h30m"';

/**
 * Parses "500ms", "10s", "5m", "1h", "14d", "2w" or a combination from the largest unit down
 * ("1h30m") into milliseconds. Throws a DurationError saying what is wrong.
 */
export function parseDuration(input: string): number {
  const text = input.trim();
  if (text === '') throw new DurationError(input, HOW_TO);
  const part = /(\d+)(ms|s|m|h|d|w)/y; // sticky: each part must start where the previous one ended
  let total = 0;
  let previous = -1;
  while (part.lastIndex < text.length) {
    const match = part.exec(text);
    if (match === null) throw new DurationError(input, HOW_TO);
    const unit = match[2] as Unit;
    const rank = UNITS_DESCENDING.indexOf(unit);
    if (rank <= previous) {
      throw new DurationError(input, 'units must go from the largest down, each at most once, e.g. "1h30m"');
    }
    previous = rank;
    total += Number(match[1]) * UNIT_MS[unit];
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(input, 'too long');
  return total;
}

/** parseDuration, or null when the text is not a duration. */
export function tryParseDuration(input: string): number | null {
  try {
    return parseDuration(input);
  } catch (err) {
    if (err instanceof DurationError) return null;
    throw err;
  }
}

/** Writes milliseconds the way a person would configure them: 90000 -> "1m30s", 0 -> "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let text = '';
  for (const unit of FORMAT_UNITS) {
    const count = Math.floor(rest / UNIT_MS[unit]);
    if (count > 0) {
      text += `${count}${unit}`;
      rest -= count * UNIT_MS[unit];
    }
  }
  return text;
}
