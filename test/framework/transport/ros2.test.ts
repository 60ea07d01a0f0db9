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
import { parseParamFile } from '../../../framework/params/file.js';
import { resolveParams } from '../../../framework/params/resolve.js';
import { defineParams } from '../../../src/util/param_schema.js';
import type { TimerInfo } from '../../../framework/time/clock.js';
import { QOS_DEFAULT, QOS_LATCHED, QOS_SENSOR_DATA, type QoS } from '../../../framework/transport/qos.js';
import { importRclnodejs } from '../../../framework/transport/ros2/load.js';
import {
  endpointQos,
  fromRosParamValue,
  graphParameterFromRos,
  paramDeclaration,
  PARAMETER_TYPES,
  qosArguments,
  rclTimeArguments,
  rclTimeToNs,
  timerInfoFrom,
  toRosParamValue,
} from '../../../framework/transport/ros2/mapping.js';
import {
  parseRosArgs,
  rclArgv,
  remapsForNode,
  rosoutLogsEnabled,
  rosParamSources,
} from '../../../framework/transport/ros_args.js';
import { QOS_ROSOUT, rosoutLog, teeLogger } from '../../../framework/transport/ros2/rosout.js';
import type { Logger } from '../../../src/util/log.js';
import type { QoSPolicies } from '../../../framework/transport/ros2/rclnodejs_types.js';
import { packageRoot } from '../../../src/util/paths.js';

// (a) the pure mapping to rclnodejs's shapes and of the process's --ros-args, (b) the loader
// (what it refuses to import and its messages), and the ament executable wrappers. The transport
// against a real rcl is tested in test/ros2/transport.test.ts (npm run test:ros2).

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

test("a discovered endpoint's QoS and another node's parameters in dynastack's terms", () => {
  assert.deepEqual(endpointQos({ reliability: 1, durability: 1, depth: 1 }), {
    reliability: 'reliable',
    durability: 'transient_local',
    depth: 1,
  });
  assert.deepEqual(endpointQos({ reliability: 2, durability: 2, depth: 5 }), {
    reliability: 'best_effort',
    durability: 'volatile',
    depth: 5,
  });
  // rclnodejs Parameters as a get_parameters reply gives them (integers bigint)
  const P = PARAMETER_TYPES;
  assert.deepEqual(graphParameterFromRos('/n', { name: 'rate_hz', type: P.PARAMETER_DOUBLE, value: 2 }), {
    node: '/n',
    name: 'rate_hz',
    type: 'double',
    value: 2,
  });
  assert.deepEqual(graphParameterFromRos('/n', { name: 'ids', type: P.PARAMETER_INTEGER_ARRAY, value: [1n, 2n] }), {
    node: '/n',
    name: 'ids',
    type: 'integer_array',
    value: [1, 2],
  });
  assert.deepEqual(graphParameterFromRos('/n', { name: 'blob', type: P.PARAMETER_BYTE_ARRAY, value: [1, 255] }), {
    node: '/n',
    name: 'blob',
    type: 'byte_array',
    value: Uint8Array.from([1, 255]),
  });
  // not set, an unknown type, an integer a number cannot hold: left out
  assert.equal(graphParameterFromRos('/n', { name: 'x', type: P.PARAMETER_NOT_SET, value: undefined }), undefined);
  assert.equal(graphParameterFromRos('/n', { name: 'x', type: 99, value: 1 }), undefined);
  assert.equal(graphParameterFromRos('/n', { name: 'x', type: P.PARAMETER_INTEGER, value: 2n ** 60n }), undefined);
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

test('rcl gets the --ros-args without -p/--param/--params-file (dynastack resolves parameters); the rest stays', () => {
  const argv = [
    'node',
    'main.js',
    'run',
    'demo_talker',
    '-p',
    'outside:=1', // not in a --ros-args section: not rcl's, kept
    '--ros-args',
    '-r',
    '__ns:=/arm',
    '--params-file',
    '/tmp/a.yaml',
    '-p',
    'ids:=[1, 2]',
    '--param',
    'talker:rate_hz:=5.0',
    '--log-level',
    'debug',
    '-e',
    '/enclave',
    '-r',
    '-p:=x', // a remap's value is never taken for an option
    '--disable-rosout-logs',
    '--',
    '--params-file',
    'not_ros.yaml',
    '--ros-args',
    '-p',
    'again:=1',
    '--enable-stdout-logs',
  ];
  assert.deepEqual(rclArgv(argv), [
    'node',
    'main.js',
    'run',
    'demo_talker',
    '-p',
    'outside:=1',
    '--ros-args',
    '-r',
    '__ns:=/arm',
    '--log-level',
    'debug',
    '-e',
    '/enclave',
    '-r',
    '-p:=x',
    '--disable-rosout-logs',
    '--',
    '--params-file',
    'not_ros.yaml',
    '--ros-args',
    '--enable-stdout-logs',
  ]);
  assert.deepEqual(rclArgv(['node', 'x']), ['node', 'x']);
});

test('/rosout logging: on by default, --disable-rosout-logs turns it off, the last flag wins', () => {
  assert.equal(rosoutLogsEnabled(['node', 'x']), true);
  assert.equal(rosoutLogsEnabled(['node', 'x', '--ros-args', '--disable-rosout-logs']), false);
  assert.equal(rosoutLogsEnabled(['--ros-args', '--disable-rosout-logs', '--enable-rosout-logs']), true);
  assert.equal(rosoutLogsEnabled(['--disable-rosout-logs']), true, "outside --ros-args it is not rcl's");
  assert.equal(rosoutLogsEnabled(['--ros-args', '--', '--disable-rosout-logs']), true);
});

test('/rosout messages: rcl_interfaces/msg/Log fields, rcl QoS, and only the lines the console logger lets through', () => {
  assert.deepEqual(QOS_ROSOUT, {
    reliability: 'reliable',
    durability: 'transient_local',
    history: 'keep_last',
    depth: 1000,
  });
  assert.deepEqual(rosoutLog('warn', 'arm.controller', 'hot', 1_700_000_000_123_456_789n), {
    stamp: { sec: 1_700_000_000, nanosec: 123_456_789 },
    level: 30,
    name: 'arm.controller',
    msg: 'hot',
    file: '',
    function: '',
    line: 0,
  });
  assert.deepEqual(
    (['debug', 'info', 'warn', 'error'] as const).map((l) => rosoutLog(l, 'n', '', 0n).level),
    [10, 20, 30, 40],
  );
  const console: string[] = [];
  const base: Logger = {
    level: 'info',
    error: (m) => console.push(`error ${m}`),
    warn: (m) => console.push(`warn ${m}`),
    info: (m) => console.push(`info ${m}`),
    debug: (m) => console.push(`debug ${m}`),
  };
  const published: string[] = [];
  let fail = false;
  const log = teeLogger(base, (level, text) => {
    if (fail) throw new Error('publisher gone');
    published.push(`${level} ${text}`);
  });
  log.info('started', { rate_hz: 5 });
  log.debug('hidden');
  log.error('bad');
  assert.deepEqual(published, ['info started {"rate_hz":5}', 'error bad']);
  log.level = 'debug';
  assert.equal(base.level, 'debug');
  log.debug('shown');
  assert.equal(published.at(-1), 'debug shown');
  // a failing publish is said once on the console, never thrown at the caller
  fail = true;
  log.info('a');
  log.info('b');
  assert.equal(console.filter((l) => l.includes('cannot publish log lines on /rosout: publisher gone')).length, 1);
  // the console logger gets every call and filters by its own level (the mock keeps them all)
  assert.deepEqual(console.slice(0, 4), ['info started', 'debug hidden', 'error bad', 'debug shown']);
});

// ---- (b) the loader --------------------------------------------------------------------------

// a module that says when it is imported: rclnodejs must not be imported where it cannot load
const probeKey = '__dynastack_rclnodejs_probe_imported';
const probe = `data:text/javascript,globalThis.${probeKey}=true;export default {}`;
const probeImported = (): boolean => (globalThis as Record<string, unknown>)[probeKey] === true;

test('without ROS 2 rclnodejs is not imported (it would rebuild itself and delete its build); one line names what to source and install', async () => {
  await assert.rejects(importRclnodejs({ env: {}, specifier: probe }), (e: Error) => {
    assert.equal(e.message.includes('\n'), false, 'one line');
    assert.match(
      e.message,
      /^ROS 2 transport needs rclnodejs: source \/opt\/ros\/<distro>\/setup\.bash, then npm install rclnodejs/,
    );
    assert.match(e.message, /docs\/on-a-robot\.md/);
    assert.match(e.message, /cause \(ROS_DISTRO unset\): rclnodejs is not loaded without ROS 2 sourced/);
    return true;
  });
  assert.equal(probeImported(), false, 'the module was imported without ROS 2');
});

test('ROS 2 sourced but rclnodejs missing (npm dropped it when its build failed): the error says so and what to run', async () => {
  await assert.rejects(
    importRclnodejs({ env: { ROS_DISTRO: 'jazzy' }, specifier: 'rclnodejs-not-installed-here' }),
    (e: Error) => {
      assert.equal(e.message.includes('\n'), false, 'one line');
      assert.match(
        e.message,
        /^rclnodejs is not installed: npm drops it silently when its build fails during npm ci with ROS 2 sourced; run `npm ci` again with ROS 2 sourced and read its output, or npm install rclnodejs --foreground-scripts; cause \(ROS_DISTRO=jazzy\): Cannot find package 'rclnodejs-not-installed-here'/,
      );
      return true;
    },
  );
});

test('ROS 2 sourced but the built addon does not load: reported, and rclnodejs is not imported (no rebuild over the build)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynastack-rclnodejs-'));
  try {
    mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
    writeFileSync(join(dir, 'build', 'Release', 'rclnodejs.node'), 'not a shared object');
    await assert.rejects(
      importRclnodejs({ env: { ROS_DISTRO: 'jazzy' }, specifier: probe, packageDir: dir }),
      (e: Error) => {
        assert.match(
          e.message,
          /^rclnodejs's native addon does not load with the ROS 2 sourced here \(ROS_DISTRO=jazzy\): .*npm rebuild rclnodejs --foreground-scripts$/,
        );
        return true;
      },
    );
    assert.equal(probeImported(), false, 'the module was imported although its addon does not load');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

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
