import definition from '../../nodes/controller.js';
import { EmbeddedTransport } from '../../framework/transport/embedded/transport.js';
import { SteppedClock } from '../../framework/time/clock.js';
import { nsToTime } from '../../framework/time/time.js';
import { defineParams } from '../../src/util/param_schema.js';
import { LOG_LEVELS, type LogLevel } from '../../src/util/log.js';
import type { NodeLifecycle } from '../../framework/runtime/node_definition.js';
import type { NodeHandle, Publisher } from '../../framework/transport/types.js';
import type { DiagnosticStatus, ModelBlob } from '../../framework/msgs/types.js';
import { QOS_LATCHED } from '../../framework/transport/qos.js';

// The controller node on its own, driven by a test: a shared stepped clock (each tick is the
// clock set to the tick's time), a probe that publishes the state estimate and goals and records
// the commands and /diagnostics, and the node's log lines captured instead of printed. Configure
// errors reach the caller as they reach the launcher.

export const PERIOD_NS = 10_000_000n;

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
}

export interface ControllerUnderTest {
  readonly lifecycle: NodeLifecycle;
  readonly logs: LogLine[];
  /** each command published, in order */
  readonly commands: number[][];
  /** the controller's statuses on /diagnostics */
  readonly diagnostics: DiagnosticStatus[];
  /** the joint names of the state the probe publishes */
  readonly joints: readonly string[];
  /** Tick k: the state x = [q, q̇] stamped k periods, then the clock set to that time. */
  tick(k: number, x: readonly number[]): Promise<void>;
  /** The state x stamped k periods alone, the clock left as it is (a lockstep bridge re-sending a tick). */
  state(k: number, x: readonly number[]): Promise<void>;
  /** The clock set to k periods alone, no state (a robot whose state has not come yet). */
  advance(k: number): Promise<void>;
  /** An end-effector goal (m) on the goal topic. */
  goal(x: number, y: number, z: number): Promise<void>;
  /** true on /emergency_stop, delivered. */
  estop(): Promise<void>;
  /** A model blob on a topic, latched as learners and trainers publish them (stamped now), delivered. */
  modelBlob(topic: string, blob: Omit<ModelBlob, 'header'>): Promise<void>;
  /** The lifecycle's deactivate (as the runtime runs it), then every message it sent delivered. */
  deactivate(): Promise<void>;
  /** The lifecycle's activate again, then every message it sent delivered. */
  activate(): Promise<void>;
  /** Deactivate (when active) and clean up, then release the nodes. */
  close(): Promise<void>;
}

/** Log lines of a level. */
export const linesOf = (logs: readonly LogLine[], level: LogLevel): string[] =>
  logs.filter((l) => l.level === level).map((l) => l.message);

/** Capture a node's log lines (they are not printed). */
function capture(handle: NodeHandle, logs: LogLine[]): void {
  for (const level of LOG_LEVELS) handle.logger[level] = (message: string) => void logs.push({ level, message });
}

/**
 * Configure the controller with these parameter values (names as in a parameter file, e.g.
 * 'lqr.r'); rejects with the configure error. `logs` receives its lines from the start.
 */
export async function startController(
  values: Record<string, unknown>,
  joints: readonly string[],
  logs: LogLine[] = [],
): Promise<ControllerUnderTest> {
  const clock = new SteppedClock('ros', true);
  const transport = new EmbeddedTransport({ checkMessages: true, rosClock: clock });
  const handle = await transport.createNode({
    name: 'controller',
    parameters: definition.parameters,
    parameterSources: [{ origin: 'test', values, strict: true }],
  });
  capture(handle, logs);
  let lifecycle: NodeLifecycle;
  try {
    lifecycle = await definition.configure(handle, handle.params);
  } catch (err) {
    handle.destroy();
    await transport.shutdown();
    throw err;
  }
  const probe = await transport.createNode({ name: 'probe', parameters: defineParams({}) });
  const states = probe.createPublisher('dynastack_msgs/msg/JointStateEstimate', 'estimated_joint_states');
  const goals = probe.createPublisher('geometry_msgs/msg/PoseStamped', 'goal', QOS_LATCHED);
  const estop = probe.createPublisher('std_msgs/msg/Bool', '/emergency_stop');
  const blobPublishers = new Map<string, Publisher<ModelBlob>>();
  const commands: number[][] = [];
  const diagnostics: DiagnosticStatus[] = [];
  const all = { qos: { history: 'keep_all' as const } };
  probe.createSubscription(
    'std_msgs/msg/Float64MultiArray',
    'forward_command_controller/commands',
    (m) => commands.push(Array.from(m.data)),
    all,
  );
  probe.createSubscription(
    'diagnostic_msgs/msg/DiagnosticArray',
    '/diagnostics',
    (m) => diagnostics.push(...m.status.filter((s) => s.name.includes('controller'))),
    all,
  );
  await lifecycle.activate?.();
  let active = true;
  const n = joints.length;
  /** The state x = [q, q̇] stamped k periods on the state topic, delivered. */
  async function publishState(k: number, x: readonly number[]): Promise<void> {
    const stamp = nsToTime(BigInt(k) * PERIOD_NS);
    states.publish({
      state: {
        header: { stamp, frame_id: '' },
        name: [...joints],
        position: Float64Array.from(x.slice(0, n)),
        velocity: Float64Array.from(x.slice(n, 2 * n)),
        effort: new Float64Array(n),
      },
      covariance: new Float64Array(0),
    });
    await transport.bus.idle();
  }
  return {
    lifecycle,
    logs,
    commands,
    diagnostics,
    joints,
    async tick(k, x) {
      await publishState(k, x);
      clock.set(BigInt(k) * PERIOD_NS);
      await transport.bus.idle();
    },
    state: publishState,
    async advance(k) {
      clock.set(BigInt(k) * PERIOD_NS);
      await transport.bus.idle();
    },
    async goal(x, y, z) {
      goals.publish({
        header: { stamp: nsToTime(clock.now()), frame_id: 'world' },
        pose: { position: { x, y, z }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
      });
      await transport.bus.idle();
    },
    async estop() {
      estop.publish({ data: true });
      await transport.bus.idle();
    },
    async modelBlob(topic, blob) {
      let publisher = blobPublishers.get(topic);
      if (!publisher) {
        publisher = probe.createPublisher('dynastack_msgs/msg/ModelBlob', topic, QOS_LATCHED);
        blobPublishers.set(topic, publisher);
      }
      publisher.publish({ header: { stamp: nsToTime(clock.now()), frame_id: '' }, ...blob });
      await transport.bus.idle();
    },
    async deactivate() {
      await lifecycle.deactivate?.();
      active = false;
      await transport.bus.idle();
    },
    async activate() {
      await lifecycle.activate?.();
      active = true;
      await transport.bus.idle();
    },
    async close() {
      if (active) await lifecycle.deactivate?.();
      await lifecycle.cleanup?.();
      probe.destroy();
      handle.destroy();
      await transport.shutdown();
    },
  };
}
