// MBPO's model rollout length over training (Janner et al. 2019, appendix C; mbrl-lib's
// `rollout_schedule`): [start_epoch, end_epoch, start_length, end_length] — the length is
// start_length until start_epoch, grows linearly to end_length at end_epoch and stays there. Short
// rollouts while the model is poor, longer ones as it improves: the paper's bound on the return's
// error grows with the rollout length times the model's error.

export type RolloutSchedule = readonly [startEpoch: number, endEpoch: number, startLength: number, endLength: number];

export function checkSchedule(s: RolloutSchedule): void {
  const [e0, e1, l0, l1] = s;
  if (!(e0 >= 0 && e1 >= e0) || !(Number.isInteger(l0) && Number.isInteger(l1) && l0 >= 1 && l1 >= 1))
    throw new Error(`rollout schedule [${s.join(', ')}]: needs 0 ≤ start_epoch ≤ end_epoch and lengths ≥ 1`);
}

/** the rollout length at `epoch` (fractional epochs allowed) */
export function rolloutLength(schedule: RolloutSchedule, epoch: number): number {
  const [e0, e1, l0, l1] = schedule;
  if (epoch <= e0 || e1 === e0) return epoch <= e0 ? l0 : l1;
  const t = Math.min(1, (epoch - e0) / (e1 - e0));
  return Math.floor(l0 + t * (l1 - l0));
}
