import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MujocoSim } from '../../../sim/mujoco/sim.js';
import { SimulatedRobot, type SimulatedRobotConfig } from '../../../sim/robot/simulated_robot.js';
import { packagePath } from '../../../src/util/paths.js';

// The simulated robot on the cart-pole at a 10 ms control period: it reports each episode
// boundary it crosses with the stamps of the last state of the old episode and the first of the
// new (what the sim bridge publishes as EpisodeEvents), by length and by a reset asked for, with
// the sensors' latency taken into account; sim time runs on across episodes.

const PERIOD = 10_000_000n;

async function robot(config: Partial<SimulatedRobotConfig> = {}): Promise<SimulatedRobot> {
  const sim = await MujocoSim.fromFile(packagePath('sim/models/cartpole.xml'));
  return new SimulatedRobot(sim, {
    joints: ['cart_slide', 'pole_hinge'],
    commandJoints: ['cart_slide'],
    commandInterface: 'effort',
    controlPeriodNs: PERIOD,
    sensors: { positionNoise: 0, velocityNoise: 0, latencySteps: 0, seed: 1 },
    episodeLengthNs: 5n * PERIOD,
    resetKeyframe: 'upright',
    initialOffsets: [],
    initialPositionNoise: 0,
    seed: 3,
    ...config,
  });
}

/** The bridge's tick: publish the state (a sample), then step; what the step crossed. */
function tick(r: SimulatedRobot): { stampNs: bigint | undefined; boundary: ReturnType<SimulatedRobot['advance']> } {
  const stampNs = r.sample()?.stampNs;
  return { stampNs, boundary: r.advance() };
}

test('an episode ends by length: END at its last state, START at the next, two dead periods between', async () => {
  const r = await robot();
  try {
    assert.deepEqual(r.episodeStart(), { episode: 0, stampNs: 0n, reason: '' }, 'episode 0 is declared before tick 0');
    const ticks = Array.from({ length: 5 }, () => tick(r));
    assert.deepEqual(
      ticks.map((t) => t.stampNs),
      [0n, 1n, 2n, 3n, 4n].map((k) => k * PERIOD),
    );
    assert.deepEqual(
      ticks.slice(0, 4).map((t) => t.boundary),
      [undefined, undefined, undefined, undefined],
    );
    assert.deepEqual(ticks[4]!.boundary, {
      end: { episode: 0, stampNs: 4n * PERIOD, reason: 'length' },
      start: { episode: 1, stampNs: 7n * PERIOD, reason: '' },
    });
    assert.equal(r.episode, 1);
    assert.equal(r.timeNs, 7n * PERIOD, 'sim time never goes back');
    assert.equal(r.sample()?.stampNs, 7n * PERIOD, "the new episode's first state has START's stamp");
    assert.deepEqual(r.episodeEnd('shutdown'), { episode: 1, stampNs: 7n * PERIOD, reason: 'shutdown' });
  } finally {
    r.sim.dispose();
  }
});

test('a reset asked for ends the episode at the end of the period under way, with its reason', async () => {
  const r = await robot({ episodeLengthNs: 0n });
  try {
    r.command([20]);
    tick(r);
    const sample = r.sample();
    assert.ok(Math.abs(sample!.position[0]!) > 0, 'the cart moved');
    r.requestReset();
    const boundary = r.advance();
    assert.deepEqual(boundary, {
      end: { episode: 0, stampNs: sample!.stampNs, reason: 'reset' },
      start: { episode: 1, stampNs: 4n * PERIOD, reason: '' },
    });
    assert.deepEqual(Array.from(r.sample()!.position), [0, 0], 'back at the keyframe');
    assert.equal(r.advance(), undefined, 'one reset per request');
  } finally {
    r.sim.dispose();
  }
});

test('with sensor latency END has the stamp of the last state published, START that of the first measured', async () => {
  const r = await robot({ sensors: { positionNoise: 0, velocityNoise: 0, latencySteps: 2, seed: 1 } });
  try {
    const ticks = Array.from({ length: 5 }, () => tick(r));
    assert.deepEqual(
      ticks.map((t) => t.stampNs),
      [undefined, undefined, 0n, PERIOD, 2n * PERIOD],
    );
    assert.deepEqual(ticks[4]!.boundary, {
      end: { episode: 0, stampNs: 2n * PERIOD, reason: 'length' },
      start: { episode: 1, stampNs: 7n * PERIOD, reason: '' },
    });
    assert.deepEqual(
      [tick(r).stampNs, tick(r).stampNs, tick(r).stampNs],
      [undefined, undefined, 7n * PERIOD],
      'the first state of the new episode comes two ticks late, stamped as START said',
    );
  } finally {
    r.sim.dispose();
  }
});

test('an episode that published no state ends at its start', async () => {
  const r = await robot({ sensors: { positionNoise: 0, velocityNoise: 0, latencySteps: 9, seed: 1 } });
  try {
    let boundary;
    for (let k = 0; k < 5; k++) boundary = tick(r).boundary;
    assert.deepEqual(boundary?.end, { episode: 0, stampNs: 0n, reason: 'length' });
  } finally {
    r.sim.dispose();
  }
});

test('refused commands are counted', async () => {
  const r = await robot();
  try {
    assert.equal(typeof r.command([1, 2]), 'string');
    assert.equal(typeof r.command([Number.NaN]), 'string');
    assert.equal(r.command([1]), undefined);
    assert.equal(r.commandsRejected, 2);
  } finally {
    r.sim.dispose();
  }
});
