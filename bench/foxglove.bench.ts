import { Worker } from 'node:worker_threads';
import { Launcher } from '../framework/runtime/launcher.js';
import type { NodeRegistry } from '../framework/runtime/registry.js';
import type { JointState, Plan } from '../framework/msgs/types.js';
import { nsToTime, periodNsFromHz } from '../framework/time/time.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { defineParams } from '../src/util/param_schema.js';
import { Figures, percentile, sortNumbers } from './report.js';
import type { ClientsData, ClientsMessage, ClientsRequest } from './nodes/foxglove_clients.js';

// The Foxglove bridge under a demo-like load: the foxglove_bridge node in its worker (as a launch
// runs it) serving JointState at 1 kHz, commands at 100 Hz, a plan at 10 Hz and diagnostics at
// 1 Hz, all published on the main thread, to 2 clients in another thread (bench/nodes/
// foxglove_clients.ts) that subscribe to everything. Figures: messages delivered per second per
// client, JointState publish → client latency p50/p99 (wall clock across threads), what the
// bridge dropped, and the period error of a 100 Hz timer loop on the main thread, first with the
// bridge serving no client, then with the 2 clients. FOXGLOVE_BENCH_S seconds each (default 10).

const SECONDS = Number(process.env['FOXGLOVE_BENCH_S'] ?? 10);
const none = defineParams({});
const registry: NodeRegistry = {
  pkg: 'dynastack',
  modules: { foxglove_bridge: new URL('../nodes/foxglove_bridge.js', import.meta.url).href },
};
const wallNs = (): bigint => BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));

const joints = ['shoulder_pan', 'shoulder_lift', 'elbow_flex', 'wrist_flex', 'wrist_roll', 'gripper'];
const jointState = (): JointState => ({
  header: { stamp: nsToTime(wallNs()), frame_id: '' },
  name: joints,
  position: new Float64Array(6).fill(0.1),
  velocity: new Float64Array(6),
  effort: new Float64Array(6),
});
const plan = (): Plan => ({
  header: { stamp: nsToTime(wallNs()), frame_id: '' },
  planner: 'icem',
  kind: 0,
  interpolation: 0,
  step: { sec: 0, nanosec: 20_000_000 },
  state_names: ['x', 'theta', 'x_dot', 'theta_dot'],
  action_names: ['force'],
  steps: 50,
  states: new Float64Array(200),
  actions: new Float64Array(50),
  cost: 1,
  iterations: 3,
  status: [],
});

/** The 100 Hz loop's period errors (µs, sorted) over `seconds`. */
async function loopErrors(transport: EmbeddedTransport, seconds: number): Promise<number[]> {
  const node = await transport.createNode({ name: `loop_${Date.now()}`, parameters: none });
  const stamps: number[] = [];
  node.createTimer(periodNsFromHz(100), () => stamps.push(performance.now()), node.steadyClock);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  node.destroy();
  const errors: number[] = [];
  for (let i = 1; i < stamps.length; i++) errors.push(Math.abs(stamps[i]! - stamps[i - 1]! - 10) * 1000);
  return sortNumbers(errors);
}

export async function foxgloveBenchmarks(figures: Figures): Promise<void> {
  const transport = new EmbeddedTransport();
  const launcher = new Launcher(
    {
      file: 'bench',
      args: {},
      nodes: [
        {
          pkg: 'dynastack',
          exec: 'foxglove_bridge',
          namespace: '/',
          parameters: [
            { kind: 'value', name: 'port', value: 0 },
            { kind: 'value', name: 'max_update_ms', value: 100, double: true },
          ],
          remaps: [],
          args: [],
          rosArgs: [],
          origin: 'bench',
        },
      ],
      warnings: [],
    },
    { transport, registry, logLevelSpec: 'warn' },
  );
  await launcher.configure();
  await launcher.activate();
  const port = Number((await launcher.report()).nodes[0]!.metrics['port']);

  // the demo's topics, published on the main thread: JointState at 1 kHz on average (a 1 ms timer
  // catching up on what it owes, since a timer cannot promise 1 kHz), the rest counted off it
  const demo = await transport.createNode({ name: 'demo', parameters: none });
  const states = demo.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const commands = demo.createPublisher('std_msgs/msg/Float64MultiArray', 'forward_command_controller/commands');
  const plans = demo.createPublisher('dynastack_msgs/msg/Plan', 'controller/plan');
  const diagnostics = demo.createPublisher('diagnostic_msgs/msg/DiagnosticArray', 'diagnostics');
  const t0 = performance.now();
  let sent = 0;
  demo.createTimer(
    1_000_000n,
    () => {
      const due = Math.floor(performance.now() - t0);
      for (let n = 0; sent < due && n < 50; n++) {
        sent++;
        states.publish(jointState());
        if (sent % 10 === 0)
          commands.publish({ layout: { dim: [], data_offset: 0 }, data: new Float64Array(6).fill(sent) });
        if (sent % 100 === 0) plans.publish(plan());
        if (sent % 1000 === 0) diagnostics.publish({ header: { stamp: nsToTime(wallNs()), frame_id: '' }, status: [] });
      }
    },
    demo.steadyClock,
  );

  const idle = await loopErrors(transport, SECONDS);
  figures.add('foxglove 100 Hz loop period error p50 (bridge, no client)', percentile(idle, 50), 'µs');
  figures.add('foxglove 100 Hz loop period error p99 (bridge, no client)', percentile(idle, 99), 'µs');
  figures.add('foxglove 100 Hz loop period error max (bridge, no client)', idle.at(-1) ?? Number.NaN, 'µs');

  const clients = new Worker(new URL('./nodes/foxglove_clients.js', import.meta.url), {
    workerData: { port, clients: 2, latencyTopic: '/joint_states' } satisfies ClientsData,
  });
  const ask = (request: ClientsRequest): void => clients.postMessage(request);
  const next = (kind: ClientsMessage['kind']): Promise<ClientsMessage> =>
    new Promise((resolve) => {
      const on = (m: ClientsMessage): void => {
        if (m.kind !== kind) return;
        clients.off('message', on);
        resolve(m);
      };
      clients.on('message', on);
    });
  for (;;) {
    const m = await next('subscribed');
    if (m.kind === 'subscribed' && m.topics.length >= 4) break;
  }
  const before = (await launcher.report()).nodes[0]!;
  ask('reset');
  const loaded = await loopErrors(transport, SECONDS);
  const reported = next('report');
  ask('report');
  const report = await reported;
  const after = (await launcher.report()).nodes[0]!;
  ask('stop');
  await clients.terminate();
  await launcher.shutdown();
  await transport.shutdown();

  if (report.kind !== 'report') return;
  for (const [i, n] of report.received.entries())
    figures.add(`foxglove client ${i + 1}: messages delivered/s (4 topics, ~1111 msg/s sent)`, n / SECONDS, 'msg/s');
  const latencies = sortNumbers(report.latenciesMs);
  figures.add('foxglove JointState publish → client latency p50', percentile(latencies, 50), 'ms');
  figures.add('foxglove JointState publish → client latency p99', percentile(latencies, 99), 'ms');
  const dropped = (n: typeof after): number =>
    Number(n.metrics['messages_dropped']) + n.topics.reduce((s, t) => s + t.dropped, 0);
  figures.add('foxglove messages dropped (slow clients + bridge queues)', dropped(after) - dropped(before), 'msg');
  figures.add('foxglove 100 Hz loop period error p50 (2 clients)', percentile(loaded, 50), 'µs');
  figures.add('foxglove 100 Hz loop period error p99 (2 clients)', percentile(loaded, 99), 'µs');
  figures.add('foxglove 100 Hz loop period error max (2 clients)', loaded.at(-1) ?? Number.NaN, 'µs');
}
