import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { registry } from '../../../nodes/index.js';
import { codecFor } from '../../../framework/msgs/codec.js';
import type { StringMsg } from '../../../framework/msgs/types.js';
import { parseParamFile } from '../../../framework/params/file.js';
import { resolveParams } from '../../../framework/params/resolve.js';
import { defineParams } from '../../../src/util/param_schema.js';
import type { TimerInfo } from '../../../framework/time/clock.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from '../../../framework/transport/qos.js';
import { loadRclnodejs, ros2Available } from '../../../framework/transport/ros2/load.js';
import {
  fromRosParamValue,
  paramDeclaration,
  PARAMETER_TYPES,
  qosArguments,
  rclTimeArguments,
  rclTimeToNs,
  timerInfoFrom,
  toRosParamValue,
} from '../../../framework/transport/ros2/mapping.js';
import { parseRosArgs, remapsForNode, rosParamSources } from '../../../framework/transport/ros_args.js';
import type { QoSPolicies } from '../../../framework/transport/ros2/rclnodejs_types.js';
import type { Transport } from '../../../framework/transport/types.js';
import { packageRoot } from '../../../src/util/paths.js';

// (a) the pure mapping to rclnodejs's shapes, (b) the loader's message without ROS 2, (c) the
// transport against a real rcl — only where ROS 2 is sourced — and the ament executable wrappers.

// ---- (a) mapping -----------------------------------------------------------------------------

test('QoS maps every field to the rmw enum values rclnodejs.QoS takes', () => {
  // [history, depth, reliability, durability]; KEEP_LAST 1, KEEP_ALL 2; RELIABLE 1, BEST_EFFORT 2; TRANSIENT_LOCAL 1, VOLATILE 2
  assert.deepEqual(qosArguments(QOS_DEFAULT), [1, 10, 1, 2]);
  assert.deepEqual(qosArguments(QOS_SENSOR_DATA), [1, 5, 2, 2]);
  assert.deepEqual(qosArguments(QOS_LATCHED), [1, 1, 1, 1]);
  const keepAll: QoS = { reliability: 'best_effort', durability: 'transient_local', history: 'keep_all', depth: 7 };
  assert.deepEqual(qosArguments(keepAll), [2, 7, 2, 1]);
  // the loaded module's own tables are used when given
  const shifted: QoSPolicies = {
    HistoryPolicy: { RMW_QOS_POLICY_HISTORY_KEEP_LAST: 11, RMW_QOS_POLICY_HISTORY_KEEP_ALL: 12 },
    ReliabilityPolicy: { RMW_QOS_POLICY_RELIABILITY_RELIABLE: 21, RMW_QOS_POLICY_RELIABILITY_BEST_EFFORT: 22 },
    DurabilityPolicy: { RMW_QOS_POLICY_DURABILITY_TRANSIENT_LOCAL: 31, RMW_QOS_POLICY_DURABILITY_VOLATILE: 32 },
  };
  assert.deepEqual(qosArguments(keepAll, shifted), [12, 7, 22, 31]);
  assert.deepEqual(qosArguments(QOS_DEFAULT, shifted), [11, 10, 21, 32]);
});

const schema = defineParams({
  rate_hz: { type: 'double', default: 100, range: [0.5, 1000], description: 'command rate' },
  steps: { type: 'integer', default: 10, range: [1, 100], choices: [1, 10, 100], description: 'steps', readOnly: true },
  seed: { type: 'integer', default: 0, range: [0, Infinity], description: 'random seed' },
  gains: { type: 'double_array', default: [1, 2, 3], length: 3, range: [-10, 10], description: 'gains' },
  ids: { type: 'integer_array', default: [1, 2], description: 'servo ids' },
  mode: {
    type: 'string',
    default: 'lockstep',
    choices: ['lockstep', 'realtime'],
    nonEmpty: true,
    description: 'sim mode',
  },
  enabled: { type: 'bool', default: true, description: 'on' },
  joints: { type: 'string_array', default: ['a', 'b'], description: 'joint names' },
  flags: { type: 'bool_array', default: [true, false], description: 'flags' },
});

test('ParamSpec → ROS declaration: type, value (integers as bigint), description, read-only, ranges', () => {
  const T = PARAMETER_TYPES;
  const rate = paramDeclaration(schema.rate_hz);
  assert.equal(rate.type, T.PARAMETER_DOUBLE);
  assert.equal(rate.value, 100);
  assert.equal(rate.description, 'command rate');
  assert.equal(rate.readOnly, false);
  // step 0: rclnodejs's FloatingPointRange defaults to step 1, which would refuse 2.5
  assert.deepEqual(rate.range, { kind: 'floating_point', from: 0.5, to: 1000, step: 0 });
  assert.equal(rate.additionalConstraints, 'in [0.5, 1000]');

  const steps = paramDeclaration(schema.steps);
  assert.equal(steps.type, T.PARAMETER_INTEGER);
  assert.equal(steps.value, 10n);
  assert.equal(steps.readOnly, true);
  assert.deepEqual(steps.range, { kind: 'integer', from: 1n, to: 100n, step: 0n });
  assert.equal(steps.additionalConstraints, 'in [1, 100]; one of 1, 10, 100');

  // an open bound becomes int64's
  assert.deepEqual(paramDeclaration(schema.seed).range, { kind: 'integer', from: 0n, to: 2n ** 63n - 1n, step: 0n });

  // arrays: values converted, no Range object (rclnodejs's inRange does not handle arrays), constraints in text
  const gains = paramDeclaration(schema.gains, [0.5, -1, 2]);
  assert.equal(gains.type, T.PARAMETER_DOUBLE_ARRAY);
  assert.deepEqual(gains.value, [0.5, -1, 2]);
  assert.equal(gains.range, undefined);
  assert.equal(gains.additionalConstraints, 'each element in [-10, 10]; exactly 3 elements');
  const ids = paramDeclaration(schema.ids);
  assert.equal(ids.type, T.PARAMETER_INTEGER_ARRAY);
  assert.deepEqual(ids.value, [1n, 2n]);

  const mode = paramDeclaration(schema.mode, 'realtime');
  assert.equal(mode.type, T.PARAMETER_STRING);
  assert.equal(mode.value, 'realtime');
  assert.equal(mode.additionalConstraints, "one of 'lockstep', 'realtime'; not empty");
  assert.equal(paramDeclaration(schema.enabled).type, T.PARAMETER_BOOL);
  assert.deepEqual(paramDeclaration(schema.joints).value, ['a', 'b']);
  assert.equal(paramDeclaration(schema.joints).type, T.PARAMETER_STRING_ARRAY);
  assert.equal(paramDeclaration(schema.flags).type, T.PARAMETER_BOOL_ARRAY);
  assert.equal(paramDeclaration(schema.enabled).additionalConstraints, '');
});

test('parameter values: integers become bigint for rclnodejs and come back as safe numbers only', () => {
  assert.equal(toRosParamValue(schema.steps, 42), 42n);
  assert.deepEqual(toRosParamValue(schema.ids, [3, -4]), [3n, -4n]);
  assert.equal(toRosParamValue(schema.rate_hz, 3), 3); // an integer given for a double stays a number
  assert.throws(() => toRosParamValue(schema.steps, 1.5, 'steps'), /steps: 1.5 is not an integer/);
  assert.throws(() => toRosParamValue(schema.joints, ['a', 1], 'joints'), /joints: 1 is not a string/);

  assert.equal(fromRosParamValue(42n), 42);
  assert.equal(fromRosParamValue(BigInt(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  assert.equal(fromRosParamValue(BigInt(Number.MIN_SAFE_INTEGER)), Number.MIN_SAFE_INTEGER);
  assert.deepEqual(fromRosParamValue([1n, -2n]), [1, -2]);
  assert.deepEqual(fromRosParamValue(new Float64Array([0.5, 1.5])), [0.5, 1.5]);
  assert.deepEqual(fromRosParamValue(['x', true, 2.5]), ['x', true, 2.5]);
  assert.throws(
    () => fromRosParamValue(2n ** 53n, 'seed'),
    (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /seed: integer 9007199254740992 is outside the range a JavaScript number holds exactly/);
      return true;
    },
  );
  assert.throws(() => fromRosParamValue([1n, -(2n ** 60n)], 'ids'), RangeError);
});

test('time: bigint ns ↔ rclnodejs Time arguments and nanoseconds', () => {
  const ns = 1_700_000_000_123_456_789n;
  const [sec, nsec] = rclTimeArguments(ns);
  assert.equal(sec, 1_700_000_000n);
  assert.equal(nsec, 123_456_789n);
  assert.equal(sec * 1_000_000_000n + nsec, ns);
  assert.deepEqual(rclTimeArguments(0n), [0n, 0n]);
  assert.throws(() => rclTimeArguments(-1n), RangeError);
  assert.throws(() => rclTimeArguments(2n ** 63n), RangeError);
  assert.equal(rclTimeToNs({ nanoseconds: ns }), ns);
  assert.equal(rclTimeToNs({ nanoseconds: 12 }), 12n);
  assert.throws(() => rclTimeToNs({ nanoseconds: 1.5 }), RangeError);
});

test("timer info: rclnodejs's {expectedCallTime, actualCallTime} when given, else measured", () => {
  const measured: TimerInfo = { expectedNs: 1n, actualNs: 2n };
  assert.deepEqual(
    timerInfoFrom({ expectedCallTime: 100n, actualCallTime: 105n }, () => measured),
    { expectedNs: 100n, actualNs: 105n },
  );
  assert.equal(
    timerInfoFrom(undefined, () => measured),
    measured,
  );
  assert.equal(
    timerInfoFrom({ expectedCallTime: 1 }, () => measured),
    measured,
  );
});

test('--ros-args: remaps, -p and --params-file in order, node prefixes, -- ends a section', () => {
  const args = parseRosArgs([
    'node',
    'main.js',
    'run',
    'demo_talker',
    '-p',
    'not_ros:=1',
    '--ros-args',
    '-r',
    '__node:=talker',
    '-r',
    'talker:chatter:=/talk',
    '-r',
    'other:chatter:=/nope',
    '--params-file',
    '/tmp/a.yaml',
    '-p',
    'rate_hz:=5.0',
    '--log-level',
    'debug',
    '--disable-stdout-logs',
    '-p',
    'talker:steps:=100',
    '--',
    'after',
    '-p',
    'ignored:=1',
  ]);
  assert.deepEqual(args, [
    { kind: 'remap', from: '__node', to: 'talker' },
    { kind: 'remap', node: 'talker', from: 'chatter', to: '/talk' },
    { kind: 'remap', node: 'other', from: 'chatter', to: '/nope' },
    { kind: 'params_file', path: '/tmp/a.yaml' },
    { kind: 'param', assignment: 'rate_hz:=5.0', text: 'rate_hz:=5.0' },
    { kind: 'log_level', spec: 'debug' },
    { kind: 'param', node: 'talker', assignment: 'steps:=100', text: 'talker:steps:=100' },
  ]);
  // a prefix names the node before or after its __node remap
  assert.deepEqual(remapsForNode(args, 'demo_talker'), [
    { from: '__node', to: 'talker' },
    { from: 'chatter', to: '/talk' },
  ]);
  assert.throws(() => parseRosArgs(['--ros-args', '-r', 'nothing']), /expected \[node:\]name:=value/);
  assert.throws(() => parseRosArgs(['--ros-args', '--params-file']), /--params-file needs a value/);
});

test('--ros-args parameter sources resolve with our validation: file sections, wildcards, -p last', () => {
  const file = parseParamFile(
    [
      '/**:',
      '  ros__parameters:',
      '    rate_hz: 50',
      '    unknown_elsewhere: 1',
      '/arm/talker:',
      '  ros__parameters:',
      '    steps: 1',
      '    gains: [0.1, 0.2, 0.3]',
      'talker:',
      '  ros__parameters:',
      '    steps: 100',
    ].join('\n'),
    'demo.yaml',
  );
  const args = parseRosArgs([
    '--ros-args',
    '--params-file',
    'demo.yaml',
    '-p',
    'mode:=realtime',
    '-p',
    'talker:seed:=7',
    '-p',
    'listener:seed:=8',
  ]);
  const load = (path: string) => (assert.equal(path, 'demo.yaml'), file);
  const sources = rosParamSources(args, '/arm/talker', load);
  const values = resolveParams(schema, sources, '/arm/talker');
  assert.equal(values.rate_hz, 50); // /** section, integer accepted for a double
  assert.equal(values.steps, 1); // '/arm/talker' section; 'talker:' means /talker only
  assert.deepEqual(values.gains, [0.1, 0.2, 0.3]);
  assert.equal(values.mode, 'realtime');
  assert.equal(values.seed, 7); // -p with this node's prefix; listener's ignored
  // a bad -p value stops the node with a message naming it
  const bad = rosParamSources(parseRosArgs(['--ros-args', '-p', 'rate_hz:=fast']), '/arm/talker', load);
  assert.throws(
    () => resolveParams(schema, bad, '/arm/talker'),
    /command line \(--ros-args -p rate_hz:=fast\): node \/arm\/talker: parameter 'rate_hz': expected double, got string 'fast'/,
  );
  // a -p without prefix reaches every node of the process: undeclared names are ignored, as in rcl;
  // one that names the node must name a declared parameter
  const global = rosParamSources(parseRosArgs(['--ros-args', '-p', 'rate:=5.0']), '/arm/talker', load);
  assert.equal(resolveParams(schema, global, '/arm/talker').rate_hz, 100);
  const typo = rosParamSources(parseRosArgs(['--ros-args', '-p', 'talker:rate:=5.0']), '/arm/talker', load);
  assert.throws(
    () => resolveParams(schema, typo, '/arm/talker'),
    /has no parameter 'rate' \(did you mean 'rate_hz'\?\)/,
  );
});

// ---- (b) the loader --------------------------------------------------------------------------

test(
  'loadRclnodejs without ROS 2 rejects with one line naming what to source and install',
  { skip: ros2Available() && 'ROS 2 is sourced here' },
  async () => {
    await assert.rejects(loadRclnodejs(), (e: Error) => {
      assert.equal(e.message.includes('\n'), false, 'one line');
      assert.match(
        e.message,
        /^ROS 2 transport needs rclnodejs: source \/opt\/ros\/<distro>\/setup\.bash, then npm install rclnodejs/,
      );
      assert.match(e.message, /docs\/on-a-robot\.md/);
      assert.match(e.message, /cause \(ROS_DISTRO unset\): .*rclnodejs/);
      return true;
    });
  },
);

// ---- ament executable wrappers ---------------------------------------------------------------

const wrapperDir = join(packageRoot(), 'lib', 'dynastack');

test('every executable has a lib/dynastack wrapper, and every wrapper names an executable', () => {
  const wrappers = readdirSync(wrapperDir).sort();
  assert.deepEqual(wrappers, Object.keys(registry.modules).sort());
  assert.ok(wrappers.includes('demo_talker') && wrappers.includes('demo_listener'));
});

test('each wrapper is an executable (0755) sh script that runs `dynastack run <exec>` from its install prefix', () => {
  const root = mkdtempSync(join(tmpdir(), 'dynastack wrappers ')); // a space, to check the quoting
  try {
    // a fake install prefix whose CLI prints what it was given
    const cli = join(root, 'share', 'dynastack', 'dist', 'cli', 'main.js');
    mkdirSync(dirname(cli), { recursive: true });
    writeFileSync(cli, 'console.log(JSON.stringify(process.argv.slice(2)));\n');
    mkdirSync(join(root, 'lib', 'dynastack'), { recursive: true });
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
    for (const exec of readdirSync(wrapperDir)) {
      const file = join(wrapperDir, exec);
      assert.equal(statSync(file).mode & 0o777, 0o755, `${file} must be mode 0755 (chmod 755; git keeps it)`);
      const text = readFileSync(file, 'utf8');
      assert.equal(text.split('\n')[0], '#!/bin/sh', `${file}: first line`);
      assert.ok(
        text.includes(`exec node "$prefix/share/dynastack/dist/cli/main.js" run ${exec} "$@"`),
        `${file}: exec line`,
      );
      const installed = join(root, 'lib', 'dynastack', exec);
      copyFileSync(file, installed);
      chmodSync(installed, 0o755);
      const out = execFileSync(installed, ['--ros-args', '-p', 'rate_hz:=5.0', '-r', '__ns:=/arm'], {
        env,
        encoding: 'utf8',
      });
      assert.deepEqual(JSON.parse(out), ['run', exec, '--ros-args', '-p', 'rate_hz:=5.0', '-r', '__ns:=/arm']);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

// ---- (c) integration with rcl (ROS 2 sourced only) -------------------------------------------

const NOT_SOURCED = 'ROS 2 is not sourced (ROS_DISTRO unset); rclnodejs cannot be installed without it';

/** A test that needs a sourced ROS 2; elsewhere it is registered as skipped, saying why. */
function rosTest(name: string, fn: () => Promise<void>): void {
  if (ros2Available()) test(name, { timeout: 120_000 }, fn);
  else test(`${name} — skipped: ${NOT_SOURCED}`, { skip: true }, fn);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolve once `ok()` holds; reject after a generous deadline (discovery and delivery are slow under load). */
async function until(what: string, ok: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(20);
  }
}

async function withTransport(argv: string[], fn: (t: Transport) => Promise<void>): Promise<void> {
  const { Ros2Transport } = await import('../../../framework/transport/ros2/transport.js');
  const transport = await Ros2Transport.create({ argv: ['node', 'ros2.test.js', ...argv] });
  try {
    await fn(transport);
  } finally {
    await transport.shutdown();
  }
}

// one namespace per run, so parallel runs on one ROS domain do not hear each other
const ns = `/dynastack_test_${process.pid}`;

rosTest('pub/sub round trip over rcl with QoS; raw subscription gets the CDR bytes', async () => {
  await withTransport([], async (t) => {
    const talker = await t.createNode({ name: 'talker', namespace: ns, parameters: {} });
    const listener = await t.createNode({ name: 'listener', namespace: ns, parameters: {} });
    const got: string[] = [];
    const raw: Uint8Array[] = [];
    listener.createSubscription('std_msgs/msg/String', 'chatter', (m) => got.push(m.data), { qos: QOS_DEFAULT });
    listener.createRawSubscription('std_msgs/msg/String', 'chatter', (b) => raw.push(b));
    // a reliable reader does not match a best-effort writer (DDS request/offered)
    const mismatched: string[] = [];
    listener.createSubscription('std_msgs/msg/String', 'lossy', (m) => mismatched.push(m.data), {
      qos: { reliability: 'reliable' },
    });
    const pub = talker.createPublisher('std_msgs/msg/String', 'chatter', QOS_DEFAULT);
    const lossy = talker.createPublisher('std_msgs/msg/String', 'lossy', QOS_SENSOR_DATA);
    assert.equal(pub.topic, `${ns}/chatter`);
    await until('discovery', () => pub.subscriptionCount() >= 2);
    // publish until both readers have heard: a reader matched on the writer's side may not yet be
    // ready on its own, so the first samples can miss it
    let i = 0;
    await until('three messages and a raw one', () => {
      if (got.length >= 3 && raw.length >= 1) return true;
      pub.publish({ data: `hello ${i}` });
      lossy.publish({ data: `lossy ${i++}` });
      return false;
    });
    assert.match(got[0]!, /^hello \d+$/);
    assert.equal(codecFor('std_msgs/msg/String').decode(raw[0]!).data.startsWith('hello'), true);
    assert.deepEqual(mismatched, []);
    const stats = talker.stats().find((s) => s.topic === `${ns}/chatter`);
    assert.ok(stats && stats.count >= 3 && stats.direction === 'publish');
    // publishRaw sends our codec's bytes as they are
    const before = got.length;
    pub.publishRaw(codecFor('std_msgs/msg/String').encode({ data: 'raw' } satisfies StringMsg));
    await until('the raw message', () => got.length > before);
    assert.equal(got.at(-1), 'raw');
  });
});

rosTest('a transient-local subscriber that joins late gets the latched message', async () => {
  await withTransport([], async (t) => {
    const a = await t.createNode({ name: 'latcher', namespace: ns, parameters: {} });
    const pub = a.createPublisher('std_msgs/msg/String', 'model', QOS_LATCHED);
    pub.publish({ data: 'v1' });
    pub.publish({ data: 'v2' });
    await sleep(500);
    const b = await t.createNode({ name: 'late', namespace: ns, parameters: {} });
    const got: string[] = [];
    b.createSubscription('std_msgs/msg/String', 'model', (m) => got.push(m.data), { qos: QOS_LATCHED });
    await until('the latched message', () => got.length > 0);
    assert.deepEqual(got, ['v2']); // depth 1 keeps the newest
  });
});

rosTest('parameters from --params-file and -p are validated, declared, and bad ones stop the node', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-params-'));
  try {
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      `/**:\n  ros__parameters:\n    rate_hz: 250\n${ns}/tuned:\n  ros__parameters:\n    steps: 100\n    gains: [0.5, 0.5, 0.5]\n`,
    );
    await withTransport(['--ros-args', '--params-file', good, '-p', 'mode:=realtime'], async (t) => {
      const node = await t.createNode({ name: 'tuned', namespace: ns, parameters: schema });
      assert.equal(node.params.rate_hz, 250);
      assert.equal(node.params.steps, 100);
      assert.deepEqual(node.params.gains, [0.5, 0.5, 0.5]);
      assert.equal(node.params.mode, 'realtime');
      assert.equal(node.params.use_sim_time, false);
      assert.equal(node.clock.isSimTime, false);
    });
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, `${ns}/tuned:\n  ros__parameters:\n    steps: 1000\n`);
    await withTransport(['--ros-args', '--params-file', bad], async (t) => {
      await assert.rejects(
        t.createNode({ name: 'tuned', namespace: ns, parameters: schema }),
        /bad\.yaml .*node .*\/tuned: parameter 'steps': 1000 is outside the range \[1, 100\]/,
      );
    });
    // use_sim_time from a file switches the ROS clock to /clock (0 until a /clock message arrives)
    await withTransport(['--ros-args', '-p', 'use_sim_time:=true'], async (t) => {
      const node = await t.createNode({ name: 'simmed', namespace: ns, parameters: {} });
      assert.equal(node.params.use_sim_time, true);
      assert.equal(node.clock.isSimTime, true);
      assert.equal(node.clock.now(), 0n);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// What rcl's timer guarantees on a loaded machine, not a rate or a lateness: it keeps firing, at most
// once per period (rcl skips missed periods rather than bunching them), never before it is due, and
// not after cancel.
rosTest(
  'a 100 Hz timer on the steady clock: at most once per period, never early, none after cancel; the ROS clock reads system time',
  async () => {
    await withTransport([], async (t) => {
      const node = await t.createNode({ name: 'ticker', namespace: ns, parameters: {} });
      const periodNs = 10_000_000n;
      const infos: TimerInfo[] = [];
      const start = node.steadyClock.now();
      const timer = node.createTimer(periodNs, (info) => infos.push(info), node.steadyClock);
      await until('30 timer calls', () => infos.length >= 30);
      timer.cancel();
      const canceledNs = node.steadyClock.now();
      const count = infos.length;
      assert.ok(
        BigInt(count) <= (canceledNs - start) / periodNs + 1n,
        `${count} calls in ${Number(canceledNs - start) / 1e6} ms: more than one per 10 ms period`,
      );
      // (on Humble the expected time is derived from the next deadline, so it is not compared across calls)
      for (const [i, info] of infos.entries())
        assert.ok(info.expectedNs <= info.actualNs, `call ${i} ran before it was due`);
      // a call left armed would be due within a period: three periods on another timer come after it
      let probe = 0;
      const probeTimer = node.createTimer(periodNs, () => probe++, node.steadyClock);
      await until('three periods after cancel', () => probe >= 3);
      probeTimer.cancel();
      assert.equal(infos.length, count, 'no call after cancel');
      // the ROS clock (no use_sim_time) is the system clock: bracketed by two reads of it
      const before = BigInt(Date.now()) * 1_000_000n;
      const ros = node.clock.now();
      const after = BigInt(Date.now() + 1) * 1_000_000n;
      assert.ok(ros >= before - 1_000_000_000n && ros <= after + 1_000_000_000n, `ROS time ${ros}, system ${before}`);
    });
  },
);
