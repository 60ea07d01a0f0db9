// Time inside dynastack is a bigint count of nanoseconds, as in rcl and rclnodejs; messages carry
// builtin_interfaces/Time. These convert between the two and to seconds.

/** builtin_interfaces/msg/Time: whole seconds and nanoseconds (0 ≤ nanosec < 1e9). */
export interface Stamp {
  sec: number;
  nanosec: number;
}

export const NS_PER_S = 1_000_000_000n;

export function timeToNs(t: Stamp): bigint {
  return BigInt(t.sec) * NS_PER_S + BigInt(t.nanosec);
}

export function nsToTime(ns: bigint): Stamp {
  let sec = ns / NS_PER_S;
  let nanosec = ns % NS_PER_S;
  if (nanosec < 0n) {
    nanosec += NS_PER_S;
    sec -= 1n;
  }
  return { sec: Number(sec), nanosec: Number(nanosec) };
}

export function nsToSeconds(ns: bigint): number {
  return Number(ns) / 1e9;
}

export function secondsToNs(s: number): bigint {
  if (!Number.isFinite(s)) throw new Error(`time ${s} s is not finite`);
  return BigInt(Math.round(s * 1e9));
}

/** The period of a rate in whole nanoseconds, as rclnodejs timers take it. */
export function periodNsFromHz(hz: number): bigint {
  if (!(hz > 0) || !Number.isFinite(hz)) throw new Error(`rate ${hz} Hz must be a positive finite number`);
  return BigInt(Math.round(1e9 / hz));
}
