import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { JointState } from '../framework/msgs/types.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { WorkerNode } from '../framework/runtime/worker_node.js';
import type { QoS } from '../framework/transport/qos.js';
import type { NodeHandle, Transport } from '../framework/transport/types.js';
import { defineParams } from '../src/util/param_schema.js';
import { packageRoot } from '../src/util/paths.js';
import { Figures, percentile, sortNumbers } from './report.js';

// The ROS 2 transport's JointState figures beside the embedded transport's, in one run (issue 11,
// part 5). A dynastack node in this process publishes sensor_msgs/JointState (6 joints), stamped
// with CLOCK_MONOTONIC (process.hrtime.bigint()); a peer echoes each one on another topic with its
// header stamp replaced by the time it arrived, from the same clock; the node takes the echo. So
// each message gives the round trip and its two one-way legs (there: the echo's stamp minus the
// send time; back: the arrival minus the echo's stamp). Under ROS 2 the peer is an rclpy node in a
// process of its own (test/ros2/peers/joint_state_echo.py, Cyclone DDS on loopback as env.sh sets
// it, ROS_DOMAIN_ID 58); embedded it is a node in a worker thread (bench/nodes/stamp_echo.ts), the
// embedded transport's way across threads. Both ways are reliable, keep last DEPTH. Two paces:
// - 100 Hz, a control loop's: one message every 10 ms for PACED_S, on a deadline grid;
// - the maximum rate: as many as the echo returns for MAX_S, at most WINDOW messages in flight
//   (the rate is what the path sustains; latency then includes the queueing of the window).
// Figures: round trips per second, round-trip and one-way latency p50/p99, and the ratio ROS 2 /
// embedded for each. Where ROS 2 cannot run, one line says so and why, and the suite ends.

const DOMAIN = '58';
const DEPTH = 1000;
const WINDOW = 64;
const PACED_HZ = 100;
const PACED_S = 3;
const MAX_S = 3;
const WARMUP = 200;
/** an echo not back within this wall time counts as lost (the window then moves on) */
const LOST_AFTER_MS = 2000;
const TOPIC_IN = '/bench_ros2/joint_states';
const TOPIC_OUT = '/bench_ros2/joint_states_echo';
const QOS: QoS = { reliability: 'reliable', durability: 'volatile', history: 'keep_last', depth: DEPTH };

/** Why the ROS 2 side cannot run here, or undefined. */
function ros2Unavailable(): string | undefined {
  if (!process.env.ROS_DISTRO) return 'ROS 2 is not sourced (ROS_DISTRO unset)';
  // only ever on loopback: these machines send no DDS traffic beyond themselves
  if (!process.env.CYCLONEDDS_URI && !process.env.ROS_AUTOMATIC_DISCOVERY_RANGE)
    return 'ROS 2 is sourced without loopback-only DDS settings (source the env.sh that sets ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST)';
  return undefined;
}

interface Sample {
  readonly roundTripUs: number;
  readonly thereUs: number;
  readonly backUs: number;
}

interface Outcome {
  readonly perSecond: number;
  readonly samples: readonly Sample[];
  readonly sent: number;
  readonly lost: number;
}

/** The measuring node's side of one path: publish numbered messages, hear their echoes. */
class Prober {
  /** send time of each message out, and whether it is measured */
  readonly #out = new Map<number, { readonly ns: bigint; readonly measured: boolean }>();
  #next = 0;
  #onEcho: (() => void) | undefined;
  /** messages sent from now on are measured */
  measuring = false;
  samples: Sample[] = [];

  constructor(private readonly publish: (m: JointState) => void) {}

  /** handed every echo (subscription callback) */
  echo(m: JointState): void {
    const arrived = process.hrtime.bigint();
    const i = m.position[5]!;
    const out = this.#out.get(i);
    if (out === undefined) return;
    this.#out.delete(i);
    const stamped = BigInt(m.header.stamp.sec) * 1_000_000_000n + BigInt(m.header.stamp.nanosec);
    if (out.measured)
      this.samples.push({
        roundTripUs: Number(arrived - out.ns) / 1000,
        thereUs: Number(stamped - out.ns) / 1000,
        backUs: Number(arrived - stamped) / 1000,
      });
    this.#onEcho?.();
  }

  get inFlight(): number {
    return this.#out.size;
  }

  send(): void {
    const now = process.hrtime.bigint();
    const i = this.#next++;
    this.#out.set(i, { ns: now, measured: this.measuring });
    this.publish(jointState(i, now));
  }

  /** Resolves true at the next echo, or false after ms without one. */
  nextEcho(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onEcho = undefined;
        resolve(false);
      }, ms);
      this.#onEcho = () => {
        clearTimeout(timer);
        this.#onEcho = undefined;
        resolve(true);
      };
    });
  }

  /** Wait for every message out; those not back LOST_AFTER_MS after the last echo are lost. */
  async drain(): Promise<number> {
    while (this.#out.size > 0) if (!(await this.nextEcho(LOST_AFTER_MS))) break;
    let lost = 0;
    for (const out of this.#out.values()) if (out.measured) lost++;
    this.#out.clear();
    return lost;
  }
}

function jointState(i: number, stampNs: bigint): JointState {
  return {
    header: {
      stamp: { sec: Number(stampNs / 1_000_000_000n), nanosec: Number(stampNs % 1_000_000_000n) },
      frame_id: '',
    },
    name: ['joint_1', 'joint_2', 'joint_3', 'joint_4', 'joint_5', 'joint_6'],
    position: new Float64Array([0.1, -0.2, 0.3, -0.4, 0.5, i]),
    velocity: new Float64Array(6),
    effort: new Float64Array(6),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Start measuring: WARMUP messages at `pace` first (unmeasured), their echoes awaited. */
async function warmUp(p: Prober, pace: (p: Prober, n: number) => Promise<void>): Promise<void> {
  p.measuring = false;
  await pace(p, WARMUP);
  await p.drain();
  p.samples = [];
  p.measuring = true;
}

/** n messages at hz on a deadline grid. */
async function atRate(p: Prober, hz: number, n: number): Promise<void> {
  const periodMs = 1000 / hz;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await sleep(t0 + i * periodMs - performance.now());
    p.send();
  }
}

/** Keep WINDOW messages in flight until n have been sent, or for `seconds` when n is Infinity. */
async function windowed(p: Prober, n: number, seconds = Infinity): Promise<number> {
  const t0 = performance.now();
  let sent = 0;
  while (sent < n && performance.now() - t0 < seconds * 1000) {
    while (p.inFlight < WINDOW && sent < n) {
      p.send();
      sent++;
    }
    if (!(await p.nextEcho(LOST_AFTER_MS))) break;
  }
  return sent;
}

/** One message every 1/hz s for `seconds`, on a deadline grid. */
async function paced(p: Prober, hz: number, seconds: number): Promise<Outcome> {
  await warmUp(p, (q, n) => atRate(q, hz, n));
  const sent = Math.round(hz * seconds);
  await atRate(p, hz, sent);
  const lost = await p.drain();
  return { perSecond: p.samples.length / seconds, samples: p.samples, sent, lost };
}

/** As many round trips as the path returns for `seconds`, at most WINDOW in flight. */
async function maximum(p: Prober, seconds: number): Promise<Outcome> {
  await warmUp(p, async (q, n) => {
    await windowed(q, n);
  });
  const t0 = performance.now();
  const sent = await windowed(p, Infinity, seconds);
  const elapsed = (performance.now() - t0) / 1000;
  const back = p.samples.length;
  const lost = await p.drain();
  return { perSecond: back / elapsed, samples: p.samples, sent, lost };
}

interface PathFigures {
  readonly paced: Outcome;
  readonly max: Outcome;
}

/** Both paces over one path: `node` publishes TOPIC_IN and hears TOPIC_OUT. */
async function measurePath(node: NodeHandle, ready: () => boolean): Promise<PathFigures> {
  const pub = node.createPublisher('sensor_msgs/msg/JointState', TOPIC_IN, QOS);
  const prober = new Prober((m) => pub.publish(m));
  const sub = node.createSubscription('sensor_msgs/msg/JointState', TOPIC_OUT, (m) => prober.echo(m), { qos: QOS });
  const deadline = performance.now() + 60_000;
  while (!(ready() && pub.subscriptionCount() >= 1 && sub.publisherCount() >= 1)) {
    if (performance.now() > deadline) throw new Error('the echo peer did not match the bench topics within 60 s');
    await sleep(20);
  }
  // a first echo proves the path (discovery of both directions) before anything is timed
  for (;;) {
    prober.send();
    if (await prober.nextEcho(500)) break;
    if (performance.now() > deadline) throw new Error('no echo came back within 60 s');
  }
  await prober.drain();
  const pacedOutcome = await paced(prober, PACED_HZ, PACED_S);
  const maxOutcome = await maximum(prober, MAX_S);
  return { paced: pacedOutcome, max: maxOutcome };
}

async function embeddedPath(): Promise<PathFigures> {
  const transport = new EmbeddedTransport();
  const echo = new WorkerNode(transport.bus, {
    moduleUrl: new URL('./nodes/stamp_echo.js', import.meta.url).href,
    options: {
      name: 'bench_stamp_echo',
      parameters: defineParams({ depth: { type: 'integer', default: DEPTH, description: '' } }),
      remaps: [
        { from: 'in', to: TOPIC_IN },
        { from: 'out', to: TOPIC_OUT },
      ],
    },
    fullyQualifiedName: '/bench_stamp_echo',
    logLevelSpec: 'warn',
    checkMessages: false,
  });
  try {
    await echo.configure();
    await echo.activate();
    const node = await transport.createNode({ name: 'bench_ros2', parameters: {} });
    return await measurePath(node, () => true);
  } finally {
    await echo.cleanup();
    await transport.shutdown();
  }
}

/** The rclpy echo as a child process, its output kept for errors. */
function startPeer(): { child: ChildProcess; output: () => string; ready: () => boolean } {
  const script = join(packageRoot(), 'test', 'ros2', 'peers', 'joint_state_echo.py');
  const child = spawn('python3', [script, TOPIC_IN, TOPIC_OUT, String(DEPTH)], {
    env: { ...process.env, ROS_DOMAIN_ID: DOMAIN, PYTHONUNBUFFERED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (text += d));
  return {
    child,
    output: () => text,
    ready: () => {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`the rclpy echo peer ended (${child.exitCode ?? child.signalCode}):\n${text}`);
      return /^ready$/m.test(text);
    },
  };
}

async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('close', r));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function ros2Path(): Promise<PathFigures> {
  // this process's rcl context joins the peer's domain
  process.env.ROS_DOMAIN_ID = DOMAIN;
  const { Ros2Transport } = await import('../framework/transport/ros2/transport.js');
  const peer = startPeer();
  let transport: Transport | undefined;
  try {
    transport = await Ros2Transport.create({ argv: ['node', 'ros2.bench.js'] });
    const node = await transport.createNode({ name: 'bench_ros2', parameters: {} });
    return await measurePath(node, peer.ready);
  } catch (err) {
    throw new Error(`${(err as Error).message}\nrclpy echo peer output:\n${peer.output()}`, { cause: err });
  } finally {
    await transport?.shutdown();
    await stopPeer(peer.child);
  }
}

function report(figures: Figures, ros: PathFigures, embedded: PathFigures): void {
  const paces = [
    { label: `${PACED_HZ} Hz`, of: (f: PathFigures) => f.paced },
    { label: `max rate, ${WINDOW} in flight`, of: (f: PathFigures) => f.max },
  ];
  for (const { label, of } of paces) {
    const r = of(ros);
    const e = of(embedded);
    const pct = (o: Outcome, key: keyof Sample, q: number): number =>
      percentile(sortNumbers(o.samples.map((s) => s[key])), q);
    const row = (what: string, value: (o: Outcome) => number, unit: string): void => {
      figures.add(`ROS 2 JointState(6) → rclpy echo → back, ${label}: ${what}`, value(r), unit);
      figures.add(`  embedded (main → worker echo → main), ${label}: ${what}`, value(e), unit);
      figures.add(`  ratio ROS 2 / embedded, ${label}: ${what}`, value(r) / value(e), 'x');
    };
    row('round trips/s', (o) => o.perSecond, 'msg/s');
    row('round trip p50', (o) => pct(o, 'roundTripUs', 50), 'µs');
    row('round trip p99', (o) => pct(o, 'roundTripUs', 99), 'µs');
    row('one way there p50', (o) => pct(o, 'thereUs', 50), 'µs');
    row('one way there p99', (o) => pct(o, 'thereUs', 99), 'µs');
    row('one way back p50', (o) => pct(o, 'backUs', 50), 'µs');
    row('one way back p99', (o) => pct(o, 'backUs', 99), 'µs');
    for (const [side, o] of [
      ['ROS 2', r],
      ['embedded', e],
    ] as const)
      if (o.lost > 0) figures.add(`  ${side}, ${label}: echoes lost of ${o.sent} sent`, o.lost, 'msg');
  }
}

export async function ros2Benchmarks(figures: Figures): Promise<void> {
  const why = ros2Unavailable();
  if (why !== undefined) {
    process.stdout.write(`  skipped: ${why}; source ROS 2 (env.sh) to measure the ROS 2 transport\n`);
    return;
  }
  const embedded = await embeddedPath();
  const ros = await ros2Path();
  report(figures, ros, embedded);
}
