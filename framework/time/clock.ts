// Clocks and the timers that run on them. A node reads time only from its clocks:
//  - WallClock: the system (epoch) or steady (monotonic) time of the machine, with timers
//    scheduled against absolute deadlines so that periods do not drift;
//  - SteppedClock: time that moves only when told — by /clock under use_sim_time, or by a test.

export type ClockType = 'system' | 'steady' | 'ros';

export interface TimerInfo {
  /** when the callback was due, in the timer's clock (ns) */
  readonly expectedNs: bigint;
  /** when it ran (ns) */
  readonly actualNs: bigint;
}

export type TimerCallback = (info: TimerInfo) => void;

export interface Timer {
  readonly periodNs: bigint;
  cancel(): void;
  /** restart the period from now */
  reset(): void;
  isCanceled(): boolean;
}

export interface Clock {
  readonly type: ClockType;
  /** true when time follows /clock (use_sim_time) */
  readonly isSimTime: boolean;
  now(): bigint;
  createTimer(periodNs: bigint, callback: TimerCallback): Timer;
}

function checkPeriod(periodNs: bigint): void {
  if (typeof periodNs !== 'bigint' || periodNs <= 0n)
    throw new Error(`timer period must be a positive bigint of nanoseconds, got ${String(periodNs)}`);
}

/** The next deadline after `now`, skipping missed periods as rcl does (no burst of late calls). */
function nextDeadline(previous: bigint, periodNs: bigint, now: bigint): bigint {
  const next = previous + periodNs;
  if (next > now) return next;
  return now + periodNs - ((now - next) % periodNs);
}

const hrtime = (): bigint => process.hrtime.bigint();
// system time = a fixed epoch offset on the monotonic clock, so it never runs backwards in a run
const EPOCH_OFFSET = BigInt(Date.now()) * 1_000_000n - hrtime();

/**
 * Wall time. Timers sleep with setTimeout until shortly before the deadline, then yield with
 * setImmediate until it is reached: setTimeout alone wakes up to a millisecond late.
 */
export class WallClock implements Clock {
  readonly isSimTime = false;
  /**
   * How long before a deadline the timer stops sleeping and starts polling: setTimeout counts
   * whole milliseconds and may wake up to about one late. Capped at an eighth of the period. The
   * price of microsecond precision is CPU: polling takes the last 1–2 ms of each period (about a
   * fifth of a core at 100 Hz, measured); set 0 for plain setTimeout behaviour (±1 ms, no polling).
   */
  static spinWindowNs = 1_200_000n;

  constructor(readonly type: 'system' | 'steady' | 'ros' = 'steady') {}

  now(): bigint {
    return this.type === 'steady' ? hrtime() : hrtime() + EPOCH_OFFSET;
  }

  createTimer(periodNs: bigint, callback: TimerCallback): Timer {
    checkPeriod(periodNs);
    let next = this.now() + periodNs;
    let handle: NodeJS.Timeout | NodeJS.Immediate | undefined;
    let canceled = false;

    const clear = (): void => {
      if (handle === undefined) return;
      clearTimeout(handle as NodeJS.Timeout);
      clearImmediate(handle as NodeJS.Immediate);
      handle = undefined;
    };
    const wake = (): void => {
      handle = undefined;
      if (canceled) return;
      const now = this.now();
      if (now < next) {
        arm(now);
        return;
      }
      const expected = next;
      next = nextDeadline(next, periodNs, now);
      arm(now);
      callback({ expectedNs: expected, actualNs: now });
    };
    const spin = WallClock.spinWindowNs < periodNs / 8n ? WallClock.spinWindowNs : periodNs / 8n;
    const arm = (now: bigint): void => {
      const wait = next - now - spin;
      // setTimeout counts whole milliseconds (0 means 1): below one, poll instead of oversleeping
      handle = wait >= 1_000_000n ? setTimeout(wake, Number(wait / 1_000_000n)) : setImmediate(wake);
    };
    arm(this.now());

    return {
      periodNs,
      cancel: () => {
        canceled = true;
        clear();
      },
      reset: () => {
        canceled = false;
        clear();
        next = this.now() + periodNs;
        arm(this.now());
      },
      isCanceled: () => canceled,
    };
  }
}

interface SteppedTimer {
  next: bigint;
  readonly periodNs: bigint;
  readonly callback: TimerCallback;
  canceled: boolean;
}

/**
 * Time that moves only by `set`/`advance`: sim time fed by /clock, or a test's hand. Timers fire
 * inside `set`, in deadline order, once per timer per step (missed periods are skipped, as rcl
 * does when sim time jumps). Before the first `set` the time is 0.
 */
export class SteppedClock implements Clock {
  readonly isSimTime: boolean;
  #now = 0n;
  #started = false;
  #timers: SteppedTimer[] = [];
  #firing = false;

  constructor(
    readonly type: ClockType = 'ros',
    isSimTime = true,
  ) {
    this.isSimTime = isSimTime;
  }

  now(): bigint {
    return this.#now;
  }

  /** Whether any time has been received yet. */
  get started(): boolean {
    return this.#started;
  }

  advance(dtNs: bigint): void {
    this.set(this.#now + dtNs);
  }

  set(timeNs: bigint): void {
    if (timeNs < this.#now) {
      // time went backwards (a sim reset): re-base every timer on the new time, as a ROS time jump does
      for (const t of this.#timers) t.next = timeNs + t.periodNs;
    }
    // as in rcl, a timer created before time started counts its period from 0: the first /clock
    // at or past it fires it (even if earlier /clock messages were missed), then it realigns
    this.#now = timeNs;
    this.#started = true;
    if (this.#firing) return; // a callback moved the clock; the outer loop fires what is due
    this.#firing = true;
    try {
      const due = this.#timers
        .filter((t) => !t.canceled && t.next <= this.#now)
        .sort((a, b) => (a.next < b.next ? -1 : a.next > b.next ? 1 : 0));
      for (const t of due) {
        if (t.canceled || t.next > this.#now) continue;
        const expected = t.next;
        t.next = nextDeadline(t.next, t.periodNs, this.#now);
        t.callback({ expectedNs: expected, actualNs: this.#now });
      }
    } finally {
      this.#firing = false;
    }
  }

  createTimer(periodNs: bigint, callback: TimerCallback): Timer {
    checkPeriod(periodNs);
    const timer: SteppedTimer = { next: this.#now + periodNs, periodNs, callback, canceled: false };
    this.#timers.push(timer);
    return {
      periodNs,
      cancel: () => {
        timer.canceled = true;
        this.#timers = this.#timers.filter((t) => t !== timer);
      },
      reset: () => {
        timer.next = this.#now + periodNs;
        if (timer.canceled) {
          timer.canceled = false;
          this.#timers.push(timer);
        }
      },
      isCanceled: () => timer.canceled,
    };
  }
}
