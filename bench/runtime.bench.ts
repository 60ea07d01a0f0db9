import { Worker } from 'node:worker_threads';
import { Subject } from 'rxjs';
import type { JointState } from '../framework/msgs/types.js';
import { codecFor } from '../framework/msgs/codec.js';
import { defineParams } from '../src/util/param_schema.js';
import { WallClock } from '../framework/time/clock.js';
import { periodNsFromHz } from '../framework/time/time.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { WorkerNode } from '../framework/runtime/worker_node.js';
import { Figures, percentile, sortNumbers } from './report.js';

// The node runtime's figures: same-thread and cross-thread message rates, round-trip latency,
// and the period error of wall-clock timers with the machine idle and under load.

const jointState = (i: number): JointState => ({
  header: { stamp: { sec: 1700000000, nanosec: i }, frame_id: '' },
  name: ['joint_1', 'joint_2', 'joint_3', 'joint_4', 'joint_5', 'joint_6'],
  position: new Float64Array([0.1, -0.2, 0.3, -0.4, 0.5, i]),
  velocity: new Float64Array(6),
  effort: new Float64Array(6),
});

const none = defineParams({});

async function sameThread(figures: Figures): Promise<void> {
  const transport = new EmbeddedTransport();
  const pubNode = await transport.createNode({ name: 'pub', parameters: none });
  const subNode = await transport.createNode({ name: 'sub', parameters: none });
  let received = 0;
  subNode.createSubscription('sensor_msgs/msg/JointState', 'joint_states', () => received++, { qos: { depth: 1000 } });
  const pub = pubNode.createPublisher('sensor_msgs/msg/JointState', 'joint_states');
  const msgs = Array.from({ length: 1000 }, (_, i) => jointState(i));
  const run = async (seconds: number): Promise<number> => {
    received = 0;
    const t0 = performance.now();
    let sent = 0;
    while (performance.now() - t0 < seconds * 1000) {
      for (const m of msgs) pub.publish(m);
      sent += msgs.length;
      await transport.bus.idle();
    }
    if (received !== sent) throw new Error(`lost ${sent - received} of ${sent} messages`);
    return received / ((performance.now() - t0) / 1000);
  };
  await run(0.2);
  const rate = await run(1);
  // baseline: a bare RxJS Subject, synchronous delivery, no QoS, no executor
  const subject = new Subject<JointState>();
  let baseCount = 0;
  subject.subscribe(() => baseCount++);
  const t0 = performance.now();
  while (performance.now() - t0 < 1000) for (const m of msgs) subject.next(m);
  const base = baseCount / ((performance.now() - t0) / 1000);
  figures.add('embedded same-thread JointState(6) msgs/s', rate, 'msg/s');
  figures.add('  baseline: bare RxJS Subject msgs/s', base, 'msg/s');
  figures.add('  ratio embedded / bare Subject', rate / base, 'x');
  await transport.shutdown();
}

async function crossThread(figures: Figures): Promise<void> {
  const transport = new EmbeddedTransport();
  const main = await transport.createNode({ name: 'main', parameters: none });
  const moduleUrl = new URL('./nodes/echo.js', import.meta.url).href;
  const opts = (echo: boolean, name: string) => ({
    name,
    parameters: defineParams({ echo: { type: 'bool', default: true, description: '' } }),
    parameterSources: [{ origin: 'bench', values: { echo }, strict: true }],
  });

  // one way: main publishes, the worker decodes and counts
  const counter = new WorkerNode(transport.bus, {
    moduleUrl,
    options: {
      ...opts(false, 'counter'),
      remaps: [
        { from: 'in', to: 'count_in' },
        { from: 'out', to: 'count_out' },
      ],
    },
    fullyQualifiedName: '/counter',
    logLevelSpec: 'warn',
    checkMessages: false,
  });
  await counter.configure();
  await counter.activate();
  const pub = main.createPublisher('sensor_msgs/msg/JointState', 'count_in', { history: 'keep_all' });
  const msgs = Array.from({ length: 1000 }, (_, i) => jointState(i));
  const oneWay = async (total: number): Promise<number> => {
    const before = Number((await counter.report()).metrics.received);
    const t0 = performance.now();
    for (let sent = 0; sent < total; sent += msgs.length) {
      for (const m of msgs) pub.publish(m);
      await transport.bus.idle();
    }
    while (Number((await counter.report()).metrics.received) < before + total)
      await new Promise((r) => setTimeout(r, 1));
    return total / ((performance.now() - t0) / 1000);
  };
  await oneWay(20_000);
  figures.add('embedded main → worker JointState(6) as CDR msgs/s', await oneWay(200_000), 'msg/s');
  await counter.cleanup();

  // round trip, one message in flight: main → worker echo → main
  const echo = new WorkerNode(transport.bus, {
    moduleUrl,
    options: opts(true, 'echo'),
    fullyQualifiedName: '/echo',
    logLevelSpec: 'warn',
    checkMessages: false,
  });
  await echo.configure();
  await echo.activate();
  const out = main.createPublisher('sensor_msgs/msg/JointState', 'in');
  let resolveEcho: (() => void) | undefined;
  main.createSubscription('sensor_msgs/msg/JointState', 'out', () => resolveEcho?.());
  await new Promise((r) => setTimeout(r, 50));
  const rtt = async (n: number): Promise<number[]> => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = process.hrtime.bigint();
      await new Promise<void>((r) => {
        resolveEcho = r;
        out.publish(msgs[i % msgs.length]!);
      });
      samples.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
    return sortNumbers(samples);
  };
  await rtt(500);
  const samples = await rtt(5000);
  figures.add('embedded worker round trip latency p50', percentile(samples, 50), 'µs');
  figures.add('embedded worker round trip latency p99', percentile(samples, 99), 'µs');
  await echo.cleanup();

  // baseline: raw MessagePort ping-pong of the same CDR bytes with a worker that returns them
  const bytes = codecFor('sensor_msgs/msg/JointState').encode(msgs[0]!);
  const raw = new Worker(
    'const { parentPort } = require("node:worker_threads"); parentPort.on("message", (b) => parentPort.postMessage(b));',
    { eval: true },
  );
  const rawSamples: number[] = [];
  for (let i = 0; i < 5500; i++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((r) => {
      raw.once('message', () => r());
      raw.postMessage(bytes);
    });
    if (i >= 500) rawSamples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  await raw.terminate();
  const rawSorted = sortNumbers(rawSamples);
  figures.add('  baseline: raw postMessage round trip p50', percentile(rawSorted, 50), 'µs');
  figures.add(
    '  ratio embedded / raw postMessage round trip p50',
    percentile(samples, 50) / percentile(rawSorted, 50),
    'x',
  );
  await transport.shutdown();
}

async function periodErrors(hz: number, seconds: number, make: 'dynastack' | 'setInterval'): Promise<number[]> {
  const periodMs = 1000 / hz;
  const stamps: number[] = [];
  await new Promise<void>((done) => {
    const tick = (): void => {
      stamps.push(performance.now());
    };
    if (make === 'dynastack') {
      const timer = new WallClock('steady').createTimer(periodNsFromHz(hz), tick);
      setTimeout(() => {
        timer.cancel();
        done();
      }, seconds * 1000);
    } else {
      const h = setInterval(tick, periodMs);
      setTimeout(() => {
        clearInterval(h);
        done();
      }, seconds * 1000);
    }
  });
  const errors: number[] = [];
  for (let i = 1; i < stamps.length; i++) errors.push(Math.abs(stamps[i]! - stamps[i - 1]! - periodMs) * 1000);
  return sortNumbers(errors);
}

async function timers(figures: Figures): Promise<void> {
  const report = async (label: string): Promise<void> => {
    for (const hz of [100, 500]) {
      const ours = await periodErrors(hz, 3, 'dynastack');
      const base = await periodErrors(hz, 3, 'setInterval');
      figures.add(`timer ${hz} Hz period error p50 (${label})`, percentile(ours, 50), 'µs');
      figures.add(`timer ${hz} Hz period error p99 (${label})`, percentile(ours, 99), 'µs');
      figures.add(`  baseline: setInterval ${hz} Hz period error p99 (${label})`, percentile(base, 99), 'µs');
    }
  };
  await report('idle');
  for (const nice of [0, 10]) {
    const burners = [0, 1].map(() => new Worker(new URL('./nodes/burn.js', import.meta.url), { workerData: { nice } }));
    await new Promise((r) => setTimeout(r, 200));
    await report(`2 workers at nice ${nice} burning both cores`);
    for (const b of burners) b.postMessage('stop');
    await Promise.all(burners.map((b) => b.terminate()));
  }
}

export async function runtimeBenchmarks(figures: Figures): Promise<void> {
  await sameThread(figures);
  await crossThread(figures);
  await timers(figures);
}
