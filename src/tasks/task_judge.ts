import { defineParams, type ParamValues } from '../util/param_schema.js';

// Whether a run achieved its task, said the same way by every node that knows a task's success
// criterion (the controller, the goal sequencer, the episode monitor), so that a launch's summary
// and its --report JSON answer it without anyone reading logs. Two kinds of criterion:
//  - reach and hold (ReachHoldJudge): after each goal, the error gets within tolerance within a
//    deadline (of the goal, or of the run's start) and stays within it until the next goal or the
//    end of the run; JointGoalJudge applies it to selected joints of a state x = [q, q̇], their
//    errors wrapped to (−π, π] where the joint is an angle that goes round (an unlimited hinge);
//  - a share of judged items (shareVerdict): targets or episodes, each a success or not, of which
//    those after the first `skip` must succeed at least `share` of the time.
// Plain fields only (stamps in ns, names, arrays): no messages, no clocks. Messages give times as
// t = seconds since the first goal (the run's start; a simulation's first goal is at sim time 0).

/** A judge's answer: achieved or not, and one clause saying why. */
export interface TaskVerdict {
  readonly achieved: boolean;
  readonly detail: string;
}

/** The summary line: 'task achieved: yes — …' or 'task NOT achieved: …'. */
export function verdictLine(v: TaskVerdict): string {
  return v.achieved ? `task achieved: yes — ${v.detail}` : `task NOT achieved: ${v.detail}`;
}

/** An angle wrapped to (−π, π]. */
export function wrapAngle(a: number): number {
  const w = a % (2 * Math.PI); // (−2π, 2π), the sign of a
  if (w > Math.PI) return w - 2 * Math.PI;
  if (w <= -Math.PI) return w + 2 * Math.PI;
  return w;
}

/** One sample's error against the goal: `ratio` ≤ 1 is within tolerance; `text` names the worst part. */
export interface GoalError {
  readonly ratio: number;
  readonly text: string;
}

export interface ReachHoldOptions {
  /** a goal must be within tolerance this long after `from` (undefined: any time before the goal ends) */
  readonly reachWithinNs?: bigint;
  /** the deadline counts from each goal ('goal') or from the run's start, the first goal ('start') */
  readonly from?: 'goal' | 'start';
  /** what is judged, for messages ('pole_hinge', 'the end effector') */
  readonly what: string;
  /** the tolerance in words, for messages ('0.100 rad', '1.0 cm') */
  readonly tolerance: string;
}

interface Segment {
  readonly label: string;
  readonly goalNs: bigint;
  samples: number;
  lastNs: bigint;
  /** the first sample within tolerance */
  firstWithinNs?: bigint;
  /** the first sample outside it after that */
  lost?: { readonly ns: bigint; readonly text: string };
  /** where it has been within tolerance since (the first sample of the latest run within); undefined when outside now */
  reachedNs?: bigint;
  /** the latest sample outside tolerance */
  lastOut?: GoalError;
  closest?: GoalError;
}

const seconds = (ns: bigint): string => `${(Number(ns) / 1e9).toFixed(2)} s`;
/** a time in messages: from the first goal (the start; in a simulation, sim time) */
const at = (ns: bigint, startNs: bigint): string => `t=${seconds(ns - startNs)}`;

/**
 * Reach and hold, goal by goal: every goal must be reached (an error within tolerance) by its
 * deadline, and held from then until the next goal or the end of the run: the sample from which
 * every later one is within (where it settled) is at or before the deadline. A goal with no sample
 * after it, a run with no goal, or a failure reported by the caller is not achieved.
 */
export class ReachHoldJudge {
  readonly #options: ReachHoldOptions;
  readonly #segments: Segment[] = [];
  #failure: string | undefined;

  constructor(options: ReachHoldOptions) {
    if (options.reachWithinNs !== undefined && options.reachWithinNs < 0n)
      throw new Error(`reach and hold: the deadline must be ≥ 0, got ${options.reachWithinNs} ns`);
    this.#options = options;
  }

  /** A new goal at `timeNs`; the one before it ends here. */
  goal(timeNs: bigint, label = `goal ${this.#segments.length + 1}`): void {
    this.#segments.push({ label, goalNs: timeNs, samples: 0, lastNs: timeNs });
  }

  /** How many goals have been set. */
  get goals(): number {
    return this.#segments.length;
  }

  /** A sample of the error against the goal in force at `timeNs` (before any goal: ignored). */
  sample(timeNs: bigint, error: GoalError): void {
    const s = this.#segments.at(-1);
    if (!s || timeNs < s.goalNs) return;
    s.samples++;
    s.lastNs = timeNs;
    const within = error.ratio <= 1; // NaN is not within
    if (!s.closest || error.ratio < s.closest.ratio || (Number.isNaN(s.closest.ratio) && !Number.isNaN(error.ratio)))
      s.closest = error;
    if (within) {
      s.firstWithinNs ??= timeNs;
      s.reachedNs ??= timeNs;
    } else {
      if (s.firstWithinNs !== undefined && !s.lost) s.lost = { ns: timeNs, text: error.text };
      s.reachedNs = undefined;
      s.lastOut = error;
    }
  }

  /** The task failed whatever the samples say (a controller that failed for good). */
  fail(reason: string): void {
    this.#failure ??= reason;
  }

  verdict(): TaskVerdict {
    const { what, tolerance } = this.#options;
    if (this.#failure !== undefined) return { achieved: false, detail: this.#failure };
    if (this.#segments.length === 0) return { achieved: false, detail: `no goal was set for ${what}` };
    const startNs = this.#segments[0]!.goalNs;
    const judged = this.#segments.map((s) => ({ s, problem: this.#problem(s, startNs) }));
    const failed = judged.filter((j) => j.problem !== undefined);
    if (this.#segments.length === 1) {
      const { s, problem } = judged[0]!;
      const dueNs = this.#dueNs(s, startNs);
      return problem !== undefined
        ? { achieved: false, detail: `${what}: ${problem}` }
        : {
            achieved: true,
            detail: `${what} within ${tolerance} of the goal at ${at(s.reachedNs!, startNs)}${dueNs !== undefined ? ` (due by ${at(dueNs, startNs)})` : ''}, held to ${at(s.lastNs, startNs)}`,
          };
    }
    const deadline =
      this.#options.reachWithinNs !== undefined
        ? `, each within ${seconds(this.#options.reachWithinNs)} of ${this.#options.from === 'start' ? 'the start' : 'its goal'},`
        : '';
    if (failed.length === 0)
      return {
        achieved: true,
        detail: `${what} reached all ${this.#segments.length} goals within ${tolerance}${deadline} and held each until the next`,
      };
    return {
      achieved: false,
      detail: `${what}: ${failed.length} of ${this.#segments.length} goals missed: ${failed.map((j) => `${j.s.label} ${j.problem}`).join('; ')}`,
    };
  }

  /** When a goal must have been reached by, or undefined when any time will do. */
  #dueNs(s: Segment, startNs: bigint): bigint | undefined {
    const within = this.#options.reachWithinNs;
    return within === undefined ? undefined : (this.#options.from === 'start' ? startNs : s.goalNs) + within;
  }

  /** Why a goal was not achieved, or undefined when it was. */
  #problem(s: Segment, startNs: bigint): string | undefined {
    const { tolerance } = this.#options;
    if (s.samples === 0) return `had no sample after its goal at ${at(s.goalNs, startNs)}`;
    const closest = s.closest ? ` (closest: ${s.closest.text})` : '';
    const dueNs = this.#dueNs(s, startNs);
    const lost = s.lost ? `, lost at ${at(s.lost.ns, startNs)} (${s.lost.text})` : '';
    if (s.reachedNs === undefined) {
      if (s.firstWithinNs !== undefined)
        return `within ${tolerance} at ${at(s.firstWithinNs, startNs)}${lost}, and not at the end at ${at(s.lastNs, startNs)} (${s.lastOut!.text})`;
      return dueNs !== undefined && s.lastNs < dueNs
        ? `not within ${tolerance} by the end at ${at(s.lastNs, startNs)}${closest}`
        : `never within ${tolerance}${closest}`;
    }
    if (dueNs !== undefined && s.reachedNs > dueNs)
      return s.firstWithinNs! <= dueNs
        ? `within ${tolerance} at ${at(s.firstWithinNs!, startNs)}${lost}, and held only from ${at(s.reachedNs, startNs)}, after its deadline ${at(dueNs, startNs)}`
        : `within ${tolerance} only at ${at(s.reachedNs, startNs)}, after its deadline ${at(dueNs, startNs)}`;
    return undefined;
  }
}

/** A judged joint: its index in the state's positions, its tolerance, whether its error wraps round. */
export interface JudgedJoint {
  readonly name: string;
  readonly index: number;
  readonly tolerance: number;
  readonly wrap: boolean;
}

/** The error of state positions against a goal's, per judged joint: the worst as a share of its tolerance. */
export function jointGoalError(
  joints: readonly JudgedJoint[],
  x: ArrayLike<number>,
  goal: ArrayLike<number>,
): GoalError {
  let worst: GoalError = { ratio: 0, text: 'no joint judged' };
  for (const j of joints) {
    const raw = x[j.index]! - goal[j.index]!;
    const e = Math.abs(j.wrap ? wrapAngle(raw) : raw);
    const ratio = Number.isFinite(e) ? (j.tolerance > 0 ? e / j.tolerance : e === 0 ? 0 : Infinity) : Number.NaN;
    // NaN (a joint not measured) is the worst of all
    if (!Number.isNaN(worst.ratio) && !(ratio <= worst.ratio)) worst = { ratio, text: `${j.name} ${e.toFixed(3)} off` };
  }
  return worst;
}

/**
 * Reach and hold on selected joints of a state x = [q, q̇]: the goal is the controller's goal state
 * (goal()), or fixed targets for the judged joints, set at the first sample.
 */
export class JointGoalJudge {
  readonly #judge: ReachHoldJudge;
  readonly #joints: readonly JudgedJoint[];
  readonly #targets: Float64Array | undefined;
  #goal: Float64Array | undefined;

  constructor(
    joints: readonly JudgedJoint[],
    options: Omit<ReachHoldOptions, 'what' | 'tolerance'> & { readonly targets?: readonly number[] },
  ) {
    if (joints.length === 0) throw new Error('joint goal judge: no joint to judge');
    if (options.targets && options.targets.length !== joints.length)
      throw new Error(`joint goal judge: ${options.targets.length} targets for ${joints.length} joints`);
    this.#joints = joints;
    if (options.targets) {
      const size = Math.max(...joints.map((j) => j.index)) + 1;
      this.#targets = new Float64Array(size);
      joints.forEach((j, i) => (this.#targets![j.index] = options.targets![i]!));
    }
    const tolerances = [...new Set(joints.map((j) => j.tolerance))];
    this.#judge = new ReachHoldJudge({
      ...options,
      what: joints.map((j) => j.name).join(', '),
      tolerance:
        tolerances.length === 1
          ? tolerances[0]!.toFixed(3)
          : `(${joints.map((j) => j.tolerance.toFixed(3)).join(', ')})`,
    });
  }

  /** The controller's new goal state (ignored when the judge has fixed targets). */
  goal(goal: ArrayLike<number>, timeNs: bigint): void {
    if (this.#targets) return;
    this.#goal = Float64Array.from(goal);
    this.#judge.goal(timeNs);
  }

  sample(timeNs: bigint, x: ArrayLike<number>): void {
    if (this.#targets && !this.#goal) {
      this.#goal = this.#targets;
      this.#judge.goal(timeNs, 'the targets');
    }
    if (this.#goal) this.#judge.sample(timeNs, jointGoalError(this.#joints, x, this.#goal));
  }

  fail(reason: string): void {
    this.#judge.fail(reason);
  }

  verdict(): TaskVerdict {
    return this.#judge.verdict();
  }
}

/**
 * The controller's judge parameters (`judge.*`), declared once here: the controller spreads them
 * into its own, as it does the safety layer's.
 */
export const JOINT_JUDGE_PARAMETERS = defineParams({
  'judge.joints': {
    type: 'string_array',
    default: [],
    description:
      "say whether the task was achieved by these joints' positions reaching the goal and holding it (the summary's 'task achieved' line, task_achieved in the report); []: no judging",
  },
  'judge.tolerances': {
    type: 'double_array',
    default: [],
    range: [0, 1e6],
    description:
      "per judged joint, or one for all: how far (rad or m) from the goal a joint may be; an unlimited hinge's error is wrapped to (−π, π]",
  },
  'judge.targets': {
    type: 'double_array',
    default: [],
    range: [-1e6, 1e6],
    description:
      "per judged joint: a fixed goal (rad or m), in force from the first state (e.g. a swing-up's upright pole: 0); []: the controller's goal state, each new goal judged anew",
  },
  'judge.reach_within_s': {
    type: 'double',
    default: 0,
    range: [0, 1e6],
    description:
      "a goal must be reached within this (s of the node's clock) of judge.reach_from, then held until the next goal or the end of the run; 0: reached at any time, then held",
  },
  'judge.reach_from': {
    type: 'string',
    default: 'goal',
    choices: ['goal', 'start'],
    description: "where judge.reach_within_s counts from: each goal, or the run's first goal (the start)",
  },
});

type JointJudgeParams = ParamValues<typeof JOINT_JUDGE_PARAMETERS>;

/** A model joint as the judge needs it: its name, and whether its angle goes round (an unlimited hinge). */
export interface JudgeableJoint {
  readonly name: string;
  readonly wraps: boolean;
}

/**
 * The controller's judge from its `judge.*` parameters and the model's joints (in state order), or
 * undefined when judge.joints is empty. Throws naming the parameter when they do not fit.
 */
export function jointJudgeFromParams(
  p: JointJudgeParams,
  modelJoints: readonly JudgeableJoint[],
): JointGoalJudge | undefined {
  const names = p['judge.joints'];
  if (names.length === 0) return undefined;
  const tol = p['judge.tolerances'];
  if (tol.length !== 1 && tol.length !== names.length)
    throw new Error(
      `parameter 'judge.tolerances': expected 1 or ${names.length} values (one per judge.joints), got ${tol.length}`,
    );
  const targets = p['judge.targets'];
  if (targets.length !== 0 && targets.length !== names.length)
    throw new Error(
      `parameter 'judge.targets': expected [] or ${names.length} values (one per judge.joints), got ${targets.length}`,
    );
  const joints = names.map((name, i): JudgedJoint => {
    const index = modelJoints.findIndex((j) => j.name === name);
    if (index < 0)
      throw new Error(
        `parameter 'judge.joints': the model has no joint '${name}' (it has ${modelJoints.map((j) => j.name).join(', ')})`,
      );
    return { name, index, tolerance: tol.length === 1 ? tol[0]! : tol[i]!, wrap: modelJoints[index]!.wraps };
  });
  return new JointGoalJudge(joints, {
    ...(p['judge.reach_within_s'] > 0 ? { reachWithinNs: BigInt(Math.round(p['judge.reach_within_s'] * 1e9)) } : {}),
    from: p['judge.reach_from'] as 'goal' | 'start',
    ...(targets.length ? { targets } : {}),
  });
}

/**
 * Items judged one by one (targets, episodes): the task is achieved when at least `share` of those
 * after the first `skip` succeeded, and, with `expected`, all expected items were judged.
 */
export function shareVerdict(
  outcomes: readonly boolean[],
  o: {
    readonly noun: string;
    readonly criterion: string;
    readonly skip?: number;
    readonly share?: number;
    readonly expected?: number;
  },
): TaskVerdict {
  const skip = o.skip ?? 0;
  const share = o.share ?? 1;
  const after = skip > 0 ? ` after the first ${skip}` : '';
  if (o.expected !== undefined && outcomes.length < o.expected)
    return { achieved: false, detail: `only ${outcomes.length} of ${o.expected} ${o.noun} were judged` };
  const judged = outcomes.slice(skip);
  if (judged.length === 0) return { achieved: false, detail: `no ${o.noun}${after} were judged` };
  const ok = judged.filter(Boolean).length;
  const needed = share >= 1 ? `all ${judged.length}` : `${(share * 100).toFixed(0)} %`;
  const achieved = ok >= share * judged.length - 1e-9;
  return {
    achieved,
    detail: `${ok} of ${judged.length} ${o.noun}${after} ${o.criterion}${achieved ? '' : ` (needed: ${needed})`}`,
  };
}
