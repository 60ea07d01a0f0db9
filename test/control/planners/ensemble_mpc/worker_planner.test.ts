import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerPlanner } from '../../../../src/control/planners/ensemble_mpc/worker_planner.js';
import { planningTask, type LearnedPlanningSpec } from '../../../../src/control/planners/ensemble_mpc/spec.js';
import { CommandLoop, type StateSnapshot, type TickResult } from '../../../../src/control/command_loop.js';
import { SafetyLayer } from '../../../../src/control/safety.js';
import { evaluatePolicy, type SequencePolicy } from '../../../../src/control/policy.js';
import { packagePath } from '../../../../src/util/paths.js';
import { cartpoleModelBlob, specTakingAbout } from '../../planning_model.js';

// Planning in a worker for real time: a 100 Hz command loop on the wall clock, with iCEM over a
// learned cart-pole model whose every plan takes many control periods. The loop never waits for a
// plan: every tick uses the newest plan there is, planned from the state of an earlier tick (a loop
// that waited would use one from its own state), and the ticks outnumber the plans (a loop that
// waited for each plan would tick about once per plan); each tick sends the plan's action while the
// plan is younger than the age limit, and the stop action once it is older. When the worker stops,
// the newest plan ages past its limit and the loop sends the stop action; a restarted worker gets
// the model again and plans on. Nothing is a rate or a time against a threshold: each phase runs
// until what it checks has happened (a generous deadline ends a hang), so a loaded machine only
// makes it take longer.

const PERIOD_NS = 10_000_000n;
const MAX_AGE_NS = 4_000_000_000n;
const WALL_LIMIT_MS = 90_000;
const JOINTS = ['cart_slide', 'pole_hinge'];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): bigint => process.hrtime.bigint();

// the workload of a plan; the population is scaled so that one takes about 20 periods (200 ms) on
// this machine unloaded, well within the age limit even when load makes it many times longer
const BASE_SPEC: LearnedPlanningSpec = {
  modelPath: packagePath('sim/models/cartpole.xml'),
  optimizer: { planner: 'icem', iterations: 2, values: { 'sampling.population': 50 } },
  task: 'cartpole_swingup',
  taskTarget: [],
  actuation: 'torque',
  modelJoints: JOINTS,
  actuators: ['cart_force'],
  actionLow: Float32Array.of(-20),
  actionHigh: Float32Array.of(20),
  stepNs: PERIOD_NS,
  budget: { iterations: 2 },
  horizon: 20,
  particles: 5,
  propagation: 'ts1',
  explore: true,
  seed: 1,
};

interface Tick {
  readonly tNs: bigint;
  readonly u: number;
  readonly ok: boolean;
  /** the newest plan's action at this tick, if there was a plan */
  readonly planned: number | undefined;
  /** the newest plan at this tick, and the stamp of the state it was planned from */
  readonly plan: SequencePolicy | undefined;
  readonly planStampNs: bigint | undefined;
  readonly stale: boolean;
}

/** Ticks that found a plan younger than the age limit (their plan's action is what they must send). */
const onFreshPlans = (ticks: readonly Tick[]): Tick[] => ticks.filter((t) => t.plan !== undefined && !t.stale);

/** The largest number of ticks that used one and the same plan. */
function mostTicksOnOnePlan(ticks: readonly Tick[]): number {
  const counts = new Map<SequencePolicy, number>();
  for (const t of ticks) if (t.plan) counts.set(t.plan, (counts.get(t.plan) ?? 0) + 1);
  return Math.max(0, ...counts.values());
}

/**
 * Ticks of `loop` on the wall clock every period (a late tick skips the ones it missed), until
 * `done`; past `deadline` (performance.now()) it fails, saying that `what` did not happen.
 */
async function tickUntil(
  what: string,
  loop: CommandLoop,
  planner: WorkerPlanner,
  done: (ticks: Tick[]) => boolean,
  deadline: number,
): Promise<{ ticks: Tick[]; periods: number }> {
  const ticks: Tick[] = [];
  const start = now();
  let k = 0;
  const x = Float64Array.of(0, Math.PI, 0, 0);
  const expected = new Float64Array(1);
  while (!done(ticks)) {
    if (performance.now() > deadline)
      throw new Error(
        `${what} did not happen within ${WALL_LIMIT_MS / 1000} s (${ticks.length} ticks, ${planner.status().plans} plans, ` +
          `${ticks.filter((t) => t.plan !== undefined).length} ticks on a plan, ${onFreshPlans(ticks).length} on a fresh one, at most ${mostTicksOnOnePlan(ticks)} on one plan)`,
      );
    const dueNs = start + BigInt(k) * PERIOD_NS;
    // a timer may fire early by a fraction of a millisecond: sleep again until the tick is due
    for (let wait = dueNs - now(); wait > 0n; wait = dueNs - now()) await sleep(Math.max(1, Number(wait) / 1e6));
    const tNs = now();
    const state: StateSnapshot = { stampNs: tNs, x, position: x.subarray(0, 1), velocity: x.subarray(2, 3) };
    const staleBefore = loop.stalePolicies;
    const result: TickResult = loop.tick(tNs, state);
    const plan = planner.newestPlan;
    ticks.push({
      tNs,
      u: result.command[0]!,
      ok: result.verdict.ok,
      planned: plan && evaluatePolicy(plan.policy, tNs, x, expected)[0],
      plan: plan?.policy,
      planStampNs: plan?.stateStampNs,
      stale: loop.stalePolicies > staleBefore,
    });
    k = Math.max(k + 1, Number((now() - start) / PERIOD_NS) + 1);
  }
  return { ticks, periods: Number((now() - start) / PERIOD_NS) };
}

test(
  'planning worker: the loop never waits for a plan; plans are applied while fresh; a stale plan stops; stop and restart',
  { timeout: 150_000 },
  async () => {
    const blob = await cartpoleModelBlob(PERIOD_NS);
    const SPEC = await specTakingAbout(BASE_SPEC, blob, (20 * Number(PERIOD_NS)) / 1e6);
    const safety = new SafetyLayer({
      commandInterface: 'effort',
      positionLower: [-1],
      positionUpper: [1],
      velocityLimit: [Number.POSITIVE_INFINITY],
      effortLimit: [20],
      rateLimit: [Number.POSITIVE_INFINITY],
      periodNs: PERIOD_NS,
      watchdogTimeoutNs: 100_000_000n,
    });
    const events: string[] = [];
    const planner = new WorkerPlanner({
      spec: SPEC,
      task: planningTask(SPEC, undefined),
      onEvent: (e) =>
        events.push(e.kind === 'error' || e.kind === 'model_refused' ? `${e.kind}: ${e.message}` : e.kind),
    });
    const loop = new CommandLoop(planner, safety, 1, PERIOD_NS, { maxPolicyAgeNs: MAX_AGE_NS });
    const deadline = performance.now() + WALL_LIMIT_MS;
    try {
      planner.start();
      planner.setModel(blob.metadataJson, blob.data, 1);

      // 1. exploring until the first plan, then the plans: run until five plans have come, the
      // ticks on a plan outnumber the plans three to one, and ten ticks have sent a fresh plan's
      // action, two of them different (a loop that waited for each plan would tick about once per
      // plan; one that took fresh plans for stale ones would send none)
      const first = await tickUntil(
        'five plans, more than three ticks per plan, and ten ticks on two different fresh plans',
        loop,
        planner,
        (ts) => {
          const plans = Number(planner.status().plans);
          const fresh = onFreshPlans(ts);
          return (
            plans >= 5 &&
            ts.filter((t) => t.plan !== undefined).length > 3 * plans &&
            fresh.length >= 10 &&
            new Set(fresh.map((t) => t.planned)).size > 1
          );
        },
        deadline,
      );
      const status = planner.status();
      const ticks = first.ticks;
      const fromPlans = ticks.filter((t) => t.plan !== undefined);
      console.log(
        `planning worker: ${ticks.length} ticks in ${first.periods} periods, ${status.plans} plans (population ${String(SPEC.optimizer.values['sampling.population'])}) of ${Number(status.plan_ms_mean).toFixed(0)} ms mean (max ${Number(status.plan_ms_max).toFixed(0)} ms), ` +
          `${planner.explorationTicks} exploring ticks, ${fromPlans.length} ticks on a plan (at most ${mostTicksOnOnePlan(ticks)} on one), ${loop.stalePolicies} stale`,
      );
      assert.deepEqual(
        events.filter((e) => e.startsWith('error') || e.startsWith('model_refused')),
        [],
      );
      assert.ok(events.includes('ready') && events.includes('model'), `worker events: ${events.join(', ')}`);
      assert.equal(planner.modelVersion, 1);
      // exploring before the first plan: random actions across the box
      assert.ok(planner.explorationTicks > 0 && planner.explorationTicks === ticks.length - fromPlans.length);
      // the loop never waited for a plan: each tick's plan came from the state of an earlier tick
      for (const t of fromPlans)
        assert.ok(
          t.planStampNs! < t.tNs,
          `a tick at ${t.tNs} ns used a plan from the state at ${t.planStampNs} ns: it waited for its own plan`,
        );
      // a plan is stale exactly when it is older than the limit; a tick on a fresh plan sent the
      // plan's action at that time (within the effort limit), one on a stale plan the stop action
      for (const t of fromPlans) {
        const ageNs = t.tNs - t.plan!.startNs;
        assert.equal(t.stale, ageNs > MAX_AGE_NS, `a tick on a plan ${Number(ageNs) / 1e6} ms old (stale: ${t.stale})`);
        if (t.stale) assert.ok(!t.ok && t.u === 0, `a tick on a stale plan sent ${t.u}`);
        else
          assert.ok(
            t.ok && t.u === Math.max(-20, Math.min(20, t.planned!)),
            `a tick on a fresh plan sent ${t.u} (ok: ${t.ok}), the plan says ${t.planned}`,
          );
      }

      // 2. the worker stops: no plan comes any more, the newest one ages past the limit, and the
      // loop sends the stop action (zero effort) from then on
      await planner.stop();
      assert.equal(planner.running, false);
      assert.equal(planner.status().worker, 'stopped');
      const plansAtStop = Number(planner.status().plans);
      const lastPlan = planner.newestPlan!;
      const pastLimit = (ts: readonly Tick[]): Tick[] => ts.filter((t) => t.tNs - lastPlan.policy.startNs > MAX_AGE_NS);
      const stalled = await tickUntil(
        'five ticks past the age limit of the last plan',
        loop,
        planner,
        (ts) => pastLimit(ts).length >= 5,
        deadline,
      );
      assert.equal(Number(planner.status().plans), plansAtStop, 'no plan after the worker stopped');
      const past = pastLimit(stalled.ticks);
      assert.equal(past.length, 5);
      for (const t of past)
        assert.ok(
          t.stale && !t.ok && t.u === 0,
          `a tick ${(Number(t.tNs - lastPlan.policy.startNs) / 1e6).toFixed(0)} ms after the plan's state sent ${t.u} (stale: ${t.stale})`,
        );
      assert.match(
        loop.plannerError ?? '',
        /^stale plan: planned from the state of \d+ ms ago \(the limit is 4000 ms\)$/,
      );
      assert.equal(
        stalled.ticks.filter((t) => !t.stale).every((t) => t.tNs - lastPlan.policy.startNs <= MAX_AGE_NS),
        true,
        'fresh ticks only within the age limit',
      );

      // 3. started again (a re-activation): the worker gets the model again, plans on, and a tick
      // sends a new plan's action
      const restartNs = now();
      planner.start();
      const resumed = await tickUntil(
        'a tick on a plan from the restarted worker',
        loop,
        planner,
        (ts) => ts.length > 0 && !ts.at(-1)!.stale && (planner.newestPlan?.stateStampNs ?? 0n) > restartNs,
        deadline,
      );
      const t = resumed.ticks.at(-1)!;
      assert.ok(
        t.ok && t.u === Math.max(-20, Math.min(20, t.planned!)),
        `after the restart a tick sent ${t.u}, the plan says ${t.planned}`,
      );
      assert.equal(planner.modelVersion, 1);
      assert.equal(Number(planner.status().worker_starts), 2);
    } finally {
      await planner.stop();
    }
    assert.equal(planner.running, false);
  },
);
