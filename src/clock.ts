/**
 * Injected time. Machines never read the wall clock; services and actors take
 * a {@link Clock} so tests drive time with {@link SimulatedClock} and never
 * sleep for real backoff delays.
 *
 * @module
 */

/** Opaque timer handle. */
export type TimerHandle = unknown;

/**
 * A clock: current time plus timers. Compatible with XState's `clock` actor
 * option (`setTimeout`/`clearTimeout`).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds of this clock's time. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer made by {@link Clock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock (wall time, Node timers). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

interface PendingTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that moves only when told. Timers fire in deadline order during
 * {@link SimulatedClock.advance}.
 *
 * @example
 * const clock = new SimulatedClock(Date.parse('2026-01-01T00:00:00Z'));
 * clock.setTimeout(() => console.log('fired'), 1000);
 * clock.advance(1000); // logs "fired"
 */
export class SimulatedClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];
  /** Every delay ever scheduled, in order (tests read backoff delays here). */
  readonly scheduledDelays: number[] = [];

  constructor(startMs = 0) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const delay = Math.max(0, ms);
    this.scheduledDelays.push(delay);
    this.timers.push({ id, at: this.current + delay, fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  /** Number of timers waiting to fire. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in deadline order. */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      const due = this.timers
        .filter((timer) => timer.at <= target)
        .sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((timer) => timer.id !== due.id);
      this.current = Math.max(this.current, due.at);
      due.fn();
    }
    this.current = target;
  }

  /** Jumps to the next timer's deadline and fires it; false when none is pending. */
  runNext(): boolean {
    const next = [...this.timers].sort((a, b) => a.at - b.at || a.id - b.id)[0];
    if (next === undefined) return false;
    this.advance(next.at - this.current);
    return true;
  }
}

/** ISO-8601 string of a clock's current time. */
export function isoNow(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}
