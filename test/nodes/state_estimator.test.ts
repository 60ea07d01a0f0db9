import { test } from 'node:test';
import assert from 'node:assert/strict';
import definition from '../../nodes/state_estimator.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { defineParams } from '../../src/util/param_schema.js';
import {
  DiagnosticLevel,
  type DiagnosticArray,
  type JointState,
  type JointStateEstimate,
} from '../../framework/msgs/types.js';
import { nsToTime, timeToNs } from '../../framework/time/time.js';
import { gaussian } from '../estimation/signals.js';
import { until } from '../wait.js';

// The node on the embedded transport, messages checked against their schemas (CDR): joint states
// in, one estimate per accepted state out, counts in /diagnostics and in the metrics. Diagnostics
// come on the steady clock: the test waits for the report it needs (a generous deadline ends a
// hang), and checks that none comes while the node is inactive over a window with nothing queued.

const JOINTS = ['shoulder', 'elbow'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function start(values: Record<string, unknown> = {}) {
  const transport = new EmbeddedTransport({ checkMessages: true });
  const handle = await transport.createNode({
    name: 'state_estimator',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values, strict: true }],
  });
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const estimates: JointStateEstimate[] = [];
  const diagnostics: DiagnosticArray[] = [];
  probe.createSubscription(
    'dynastack_msgs/msg/JointStateEstimate',
    'estimated_joint_states',
    (m) => estimates.push(m),
    { qos: { history: 'keep_all' } },
  );
  probe.createSubscription('diagnostic_msgs/msg/DiagnosticArray', '/diagnostics', (m) => diagnostics.push(m), {
    qos: { history: 'keep_all' },
  });
  const states = probe.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const lifecycle = await definition.configure(handle, handle.params);
  /** publish a joint state; the node gets it at the bus's next turn */
  const publish = (stampNs: bigint, position: number[], name = JOINTS, effort: number[] = []): void => {
    const msg: JointState = {
      header: { stamp: nsToTime(stampNs), frame_id: 'base' },
      name,
      position,
      velocity: [],
      effort,
    };
    states.publish(msg);
  };
  /** publish a joint state and wait until the node has handled it */
  const send = async (stampNs: bigint, position: number[], name = JOINTS, effort: number[] = []): Promise<void> => {
    publish(stampNs, position, name, effort);
    await transport.bus.idle();
  };
  const stop = async (): Promise<void> => {
    await lifecycle.deactivate?.();
    await lifecycle.cleanup?.();
    await transport.shutdown();
  };
  return { transport, probe, lifecycle, estimates, diagnostics, publish, send, stop };
}

test('node: one estimate per accepted joint state, with its stamp; duplicates and out-of-order counted', async () => {
  const { lifecycle, estimates, send, stop } = await start();
  try {
    await lifecycle.activate?.();
    const noise = gaussian(11);
    const v = [0.4, -0.25];
    const stamp = (k: number): bigint => 5_000_000_000n + BigInt(k) * 10_000_000n;
    for (let k = 0; k < 200; k++)
      await send(
        stamp(k),
        v.map((vi) => 0.1 + vi * k * 0.01 + 1e-3 * noise()),
        JOINTS,
        [1.5, -0.5],
      );
    await send(stamp(199), [9, 9]); // a duplicate
    await send(stamp(190), [9, 9]); // from the past
    await send(
      stamp(200),
      v.map((vi) => 0.1 + vi * 2),
    );
    assert.equal(estimates.length, 201, 'one estimate per accepted state');
    const last = estimates.at(-1)!;
    assert.equal(timeToNs(last.state.header.stamp), stamp(200), "stamped with the measurement's stamp");
    assert.equal(last.state.header.frame_id, 'base');
    assert.deepEqual(last.state.name, JOINTS);
    assert.equal(last.covariance.length, 4 * JOINTS.length);
    for (let j = 0; j < 2; j++) {
      assert.ok(
        Math.abs(last.state.velocity[j]! - v[j]!) < 0.05,
        `velocity of ${JOINTS[j]}: ${last.state.velocity[j]} vs ${v[j]}`,
      );
      assert.ok(Math.abs(last.state.position[j]! - (0.1 + 2 * v[j]!)) < 3e-3);
    }
    assert.deepEqual([...estimates[100]!.state.effort], [1.5, -0.5], 'the measured effort passes through');
    assert.deepEqual([...last.state.effort], [], 'none measured, none passed');
    const m = lifecycle.metrics!();
    assert.equal(m.accepted, 201);
    assert.equal(m.duplicates, 1);
    assert.equal(m.out_of_order, 1);
    assert.equal(m.received, 203);
    assert.equal(m.joints, 'shoulder,elbow');
    assert.ok(
      Number(m.mean_abs_innovation) > 1e-4 && Number(m.mean_abs_innovation) < 3e-3,
      `mean |innovation| ${m.mean_abs_innovation}`,
    );
  } finally {
    await stop();
  }
});

test('node: /diagnostics about every diagnostics_period_s of the steady clock, with counts and innovations', async () => {
  const { transport, lifecycle, diagnostics, publish, send, stop } = await start({
    diagnostics_period_s: 0.1,
    joints: ['elbow'],
  });
  try {
    // nothing can come before activate: a report would be published by the timer and delivered
    // at the bus's next turn, so a window with the bus idle at its end shows any
    await sleep(150);
    await transport.bus.idle();
    assert.equal(diagnostics.length, 0, 'the timer starts on activate');
    await lifecycle.activate?.();
    for (let k = 0; k < 20; k++) await send(BigInt(k) * 10_000_000n, [0.1, 0.01 * k], ['shoulder', 'elbow']);
    // a duplicate, a state with a NaN in a joint that is not estimated (accepted), and one with a
    // NaN in the estimated joint, handled in one turn of the bus, so in one diagnostics period
    // (a report comes from a timer, which cannot run in the middle of a turn): that period has
    // an accepted state and two rejections, a WARN naming both
    publish(19n * 10_000_000n, [0.1, 0.19], ['shoulder', 'elbow']);
    publish(20n * 10_000_000n, [Number.NaN, 0.2], ['shoulder', 'elbow']);
    publish(21n * 10_000_000n, [0.1, Number.NaN], ['shoulder', 'elbow']);
    await transport.bus.idle();
    const valuesOf = (d: DiagnosticArray) => Object.fromEntries(d.status[0]!.values.map((kv) => [kv.key, kv.value]));
    const seen = (): string => diagnostics.map((d) => d.status[0]!.message).join(' | ');
    // the counts are cumulative: the first report after the last state has them all
    await until('a report that counts everything sent', () => diagnostics.some((d) => valuesOf(d).received === '23'), {
      seen,
    });
    const status = diagnostics.find((d) => valuesOf(d).received === '23')!.status[0]!;
    assert.equal(status.name, 'state_estimator: joint state estimation');
    const values = valuesOf(diagnostics.find((d) => valuesOf(d).received === '23')!);
    assert.deepEqual([values.accepted, values.duplicates, values.non_finite], ['21', '1', '1']);
    assert.equal(status.level, DiagnosticLevel.WARN, status.message);
    assert.match(status.message, /^\d+\.\d Hz; 1 duplicates, 1 non finite \(last: /);
    assert.ok(
      diagnostics.some(
        (d) =>
          Number(valuesOf(d)['mean_abs_innovation.elbow']) > 0 && 'mean_nis' in valuesOf(d) && 'rate_hz' in valuesOf(d),
      ),
      seen(),
    );
    await until(
      'a STALE report (no joint states in its period)',
      () => diagnostics.at(-1)!.status[0]!.level === DiagnosticLevel.STALE,
      { seen },
    );
    await lifecycle.deactivate?.();
    await transport.bus.idle(); // a report published before the timer stopped is delivered now
    const count = diagnostics.length;
    await sleep(250);
    await transport.bus.idle();
    assert.equal(diagnostics.length, count, 'the timer stops on deactivate');
  } finally {
    await stop();
  }
});

test('node: inactive, it filters but publishes nothing; the estimate stream follows a sim reset', async () => {
  const { transport, probe, lifecycle, estimates, send, stop } = await start();
  try {
    // a state that arrives before activation (a bridge in a worker starts at once) still initialises the filter
    await send(500_000_000n, [0, 0]);
    assert.equal(estimates.length, 0, 'nothing published before activate');
    assert.equal(lifecycle.metrics!().accepted, 1);
    await lifecycle.activate?.();
    for (let k = 0; k < 10; k++) await send(BigInt(100 + k) * 10_000_000n, [0.1, 0.2]);
    await send(0n, [0.5, 0.6]); // the sim restarted at t = 0
    assert.equal(estimates.length, 11);
    assert.deepEqual([...estimates.at(-1)!.state.position], [0.5, 0.6]);
    assert.equal(lifecycle.metrics!().resets, 1);
    // an explicit reset on ~/reset: the next state initialises, whatever its stamp
    probe.createPublisher('std_msgs/msg/Empty', '/state_estimator/reset').publish({});
    await transport.bus.idle();
    await send(0n, [0.7, 0.8]);
    assert.equal(estimates.length, 12);
    assert.deepEqual([...estimates.at(-1)!.state.velocity], [0, 0]);
    assert.equal(lifecycle.metrics!().resets, 2);
    await lifecycle.deactivate?.();
    await send(10_000_000n, [0.5, 0.6]);
    assert.equal(estimates.length, 12, 'nothing published after deactivate');
  } finally {
    await stop();
  }
});

test('node: the commanded effort from command_topic drives the prediction', async () => {
  const { transport, probe, lifecycle, estimates, send, stop } = await start({
    joints: ['shoulder'],
    inertia: [0.5],
    use_effort_input: true,
    command_topic: '/effort_controller/commands',
    process_noise: 1e-6,
  });
  try {
    await lifecycle.activate?.();
    const commands = probe.createPublisher('std_msgs/msg/Float64MultiArray', '/effort_controller/commands');
    await send(0n, [0], ['shoulder']);
    commands.publish({ layout: { dim: [], data_offset: 0 }, data: [1] }); // 2 rad/s² for the next second
    await transport.bus.idle();
    await send(1_000_000_000n, [1], ['shoulder']);
    assert.ok(
      Math.abs(estimates.at(-1)!.state.velocity[0]! - 2) < 0.01,
      `velocity ${estimates.at(-1)!.state.velocity[0]}`,
    );
    assert.equal(lifecycle.metrics!().commands, 1);
  } finally {
    await stop();
  }
});

test('node: inconsistent parameters stop it with the parameter named', async () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ inertia: [1, 2] }, /parameter 'inertia': its values follow the order of 'joints', which is empty/],
    [{ joints: ['a', 'b'], inertia: [1] }, /parameter 'inertia': 1 values for the 2 joints of 'joints'/],
    [{ joints: ['a'], damping: [1] }, /parameter 'damping': the effort model needs 'inertia'/],
    [{ use_effort_input: true }, /parameter 'use_effort_input': the effort model needs a positive 'inertia'/],
  ];
  for (const [values, message] of cases) {
    const transport = new EmbeddedTransport();
    const handle = await transport.createNode({
      name: 'state_estimator',
      parameters: definition.parameters,
      parameterSources: [{ origin: 'test', values, strict: true }],
    });
    await assert.rejects(async () => definition.configure(handle, handle.params), message);
    await transport.shutdown();
  }
});

test('node: a joint state published again unchanged (a lockstep bridge re-sending a tick) gets its estimate again', async () => {
  const { lifecycle, estimates, send, stop } = await start();
  try {
    await lifecycle.activate?.();
    await send(1_000_000_000n, [0.1, 0.2]);
    await send(1_010_000_000n, [0.11, 0.21]);
    assert.equal(estimates.length, 2);
    await send(1_010_000_000n, [0.11, 0.21]); // the same message again
    assert.equal(estimates.length, 3, 'the estimate of the repeated state went out again');
    assert.deepEqual(estimates[2], estimates[1]);
    await send(1_010_000_000n, [0.5, 0.5]); // the same stamp with other values: a duplicate, rejected
    assert.equal(estimates.length, 3);
    const m = lifecycle.metrics!();
    assert.equal(m.accepted, 2, 'nothing filtered twice');
  } finally {
    await stop();
  }
});
