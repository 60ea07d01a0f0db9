import { join } from 'node:path';
import { packageRoot } from '../../../src/util/paths.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  loadParamFile,
  parseOverride,
  parseParamFile,
  patternMatches,
  sourcesForNode,
} from '../../../framework/params/file.js';
import { resolveParams } from '../../../framework/params/resolve.js';
import { defineParams } from '../../../src/util/param_schema.js';
import { nonRosArgs, parseRosArgs, remapsForNode, rosParamSources } from '../../../framework/transport/ros_args.js';

// Parameters as ROS 2 has them: parameter files with wildcards and namespaces, checks against
// declarations, source precedence, and --ros-args.

const fixture = (name: string): string => join(packageRoot(), 'test/fixtures/params', name);

const schema = defineParams({
  rate_hz: { type: 'double', default: 100, range: [1, 1000], description: 'command rate' },
  mode: { type: 'string', default: 'lockstep', choices: ['lockstep', 'realtime'], description: 'sim mode' },
  'gains.kp': { type: 'double_array', default: [0, 0, 0], length: 3, description: 'proportional gains' },
  steps: { type: 'integer', default: 10, range: [1, 100], description: 'steps' },
});

function resolveFrom(file: string, fqn: string) {
  return resolveParams(schema, sourcesForNode(loadParamFile(fixture(file)), fqn, fixture(file)), fqn);
}

test('a parameter file: node sections, /** wildcard, nested namespaces, nested parameter names', () => {
  const ctl = resolveFrom('good.yaml', '/controller');
  assert.equal(ctl.rate_hz, 250);
  assert.equal(ctl.mode, 'realtime');
  assert.deepEqual(ctl['gains.kp'], [1, 2, 3]);
  assert.equal(ctl.use_sim_time, true);
  assert.equal(ctl.steps, 10); // default
  const sim = resolveFrom('good.yaml', '/arm/sim_bridge');
  assert.equal(sim.rate_hz, 500);
  assert.equal(sim.use_sim_time, true);
  // a node with the same name in another namespace does not take /controller's section
  assert.equal(resolveFrom('good.yaml', '/arm/controller').rate_hz, 100);
});

test('bad files and values stop with a message naming file, node and parameter', () => {
  assert.throws(
    () => resolveFrom('bad_value.yaml', '/controller'),
    (e: Error) => {
      assert.match(e.message, /bad_value\.yaml/);
      assert.match(e.message, /node \/controller: parameter 'rate_hz': expected double, got string 'fast'/);
      return true;
    },
  );
  // one line: the file, line and column, then the first line of the YAML parser's message (no code frame)
  assert.throws(
    () => loadParamFile(fixture('bad_yaml.yaml')),
    (e: Error) => {
      assert.equal(
        e.message,
        `${fixture('bad_yaml.yaml')}:4:5: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]`,
      );
      return true;
    },
  );
  assert.throws(
    () => resolveFrom('typo.yaml', '/controller'),
    /typo\.yaml \(\/controller\): node \/controller has no parameter 'rate_hzz' \(did you mean 'rate_hz'\?\)/,
  );
  assert.throws(
    () => loadParamFile(fixture('no_section.yaml')),
    /'controller\/rate_hz' has no 'ros__parameters' section/,
  );
  assert.throws(() => loadParamFile(fixture('missing.yaml')), /parameter file .*missing\.yaml cannot be read: ENOENT/);
});

test('values are checked against type, range, choices and length', () => {
  const src = (values: Record<string, unknown>) => [{ origin: 'test', values, strict: true }];
  assert.throws(
    () => resolveParams(schema, src({ rate_hz: 5000 }), '/n'),
    /'rate_hz': 5000 is outside the range \[1, 1000\]/,
  );
  assert.throws(
    () => resolveParams(schema, src({ mode: 'fast' }), '/n'),
    /'mode': 'fast' is not one of 'lockstep', 'realtime'/,
  );
  assert.throws(() => resolveParams(schema, src({ steps: 2.5 }), '/n'), /'steps': expected integer, got double 2.5/);
  assert.throws(() => resolveParams(schema, src({ 'gains.kp': [1, 2] }), '/n'), /expected 3 elements, got 2/);
  assert.throws(() => resolveParams(schema, src({ rate_hz: Number.NaN }), '/n'), /expected double/);
  assert.throws(
    () => defineParams({ x: { type: 'double', default: 5, range: [0, 1], description: '' } }),
    /default 5 is invalid/,
  );
});

test('later sources win: file, then launch, then command line', () => {
  const values = resolveParams(
    schema,
    [
      { origin: 'file', values: { rate_hz: 10, mode: 'realtime' }, strict: true },
      parseOverride('rate_hz:=20.0', 'launch'),
      parseOverride('rate_hz:=30', 'command line'),
    ],
    '/n',
  );
  assert.equal(values.rate_hz, 30);
  assert.equal(values.mode, 'realtime');
});

test('wildcards match as rcl does: * one token, ** any number', () => {
  assert.ok(patternMatches('/**', '/a/b/c'));
  assert.ok(patternMatches('/**/controller', '/arm/left/controller'));
  assert.ok(patternMatches('/**/controller', '/controller'));
  assert.ok(patternMatches('/*/controller', '/arm/controller'));
  assert.ok(!patternMatches('/*/controller', '/controller'));
  assert.ok(patternMatches('/arm/ctl*', '/arm/ctl_left'));
  assert.ok(!patternMatches('/controller', '/arm/controller'));
});

test('--ros-args: -p, --params-file, -r and --log-level, as ros2 launch passes them', () => {
  const argv = [
    'talker',
    '--ros-args',
    '-r',
    '__node:=t2',
    '--params-file',
    fixture('good.yaml'),
    '-p',
    'rate_hz:=42.0',
    '-p',
    'gains.kp:=[3, 2, 1]',
    '--log-level',
    'debug',
    '--',
    'extra',
  ];
  const args = parseRosArgs(argv, true);
  assert.deepEqual(nonRosArgs(argv), ['talker', 'extra']);
  assert.deepEqual(remapsForNode(args, 'talker'), [{ from: '__node', to: 't2' }]);
  assert.deepEqual(
    args.filter((a) => a.kind === 'log_level'),
    [{ kind: 'log_level', spec: 'debug' }],
  );
  const values = resolveParams(schema, rosParamSources(args, '/controller', loadParamFile), '/controller');
  assert.equal(values.rate_hz, 42);
  assert.deepEqual(values['gains.kp'], [3, 2, 1]);
  assert.equal(values.mode, 'realtime');
  assert.throws(() => parseRosArgs(['--ros-args', '-p', 'novalue']), /expected \[node:\]name:=value/);
  assert.throws(() => parseRosArgs(['--ros-args', '--bogus'], true), /unknown argument '--bogus'/);
  // node-targeted rules apply to that node only; rcl's logging flags are accepted
  const targeted = parseRosArgs(
    [
      '--ros-args',
      '-p',
      'other:rate_hz:=7.0',
      '-p',
      'controller:steps:=3',
      '-r',
      'other:a:=b',
      '--disable-stdout-logs',
      '--log-file-name',
      'x',
    ],
    true,
  );
  const mine = resolveParams(schema, rosParamSources(targeted, '/controller'), '/controller');
  assert.equal(mine.rate_hz, 100);
  assert.equal(mine.steps, 3);
  assert.deepEqual(remapsForNode(targeted, 'controller'), []);
  assert.deepEqual(remapsForNode(targeted, 'other'), [{ from: 'a', to: 'b' }]);
});

test('parameter files type plain scalars as rcl_yaml_param_parser does; quoted ones stay strings', () => {
  const [section, ...rest] = loadParamFile(fixture('rcl_typing.yaml'));
  assert.equal(rest.length, 0);
  assert.equal(section!.pattern, '/typed');
  assert.deepEqual(section!.values, {
    trues: Array(11).fill(true),
    falses: Array(11).fill(false),
    mixed_case: 'yEs',
    octal: 8,
    hex: 31,
    negative_hex: -16,
    plus: 42,
    not_octal: 9,
    written_double: 6,
    exponent: 1000,
    hex_float: 8,
    dot_inf: Infinity,
    minus_inf: -Infinity,
    plain_inf: Infinity,
    dot_nan: NaN,
    double_quoted: '5',
    single_quoted: 'yes',
    null_word: 'null',
    tilde: '~',
    date: '2024-01-01',
    underscores: '1_000',
    yaml12_octal: '0o10',
    too_big: '1e400',
    block: '5\n',
    doubles: [1, 2],
    integers: [8, 16, 3],
  });
  // which numbers were written as doubles: JavaScript numbers cannot tell 6.0 from 6
  assert.deepEqual(section!.doubles, [
    'not_octal',
    'written_double',
    'exponent',
    'hex_float',
    'dot_inf',
    'minus_inf',
    'plain_inf',
    'dot_nan',
    'doubles',
  ]);
  // rcl refuses a sequence whose items have different types, and a parameter without a value
  assert.throws(
    () => parseParamFile('n:\n  ros__parameters:\n    x: [1, 2.5]\n', 'mixed.yaml'),
    /mixed\.yaml:3:\d+: parameter 'x': the items of a sequence must have one type \('2\.5' is a double, '1' an integer\)/,
  );
  assert.throws(
    () => parseParamFile('n:\n  ros__parameters:\n    x:\n', 'empty.yaml'),
    /empty\.yaml:3:\d+: parameter 'x' has no value/,
  );
  // -p values are typed the same way (rcl_parse_yaml_value)
  const p = (text: string) => parseOverride(text, 'command line');
  assert.deepEqual(p('flag:=yes').values, { flag: true });
  assert.deepEqual(p('flag:=Off').values, { flag: false });
  assert.deepEqual(p('n:=010').values, { n: 8 });
  assert.deepEqual(p('s:="010"').values, { s: '010' });
  assert.deepEqual(p('x:=6.0').doubles, ['x']);
  assert.deepEqual(p('x:=6').doubles, []);
  assert.deepEqual(p('l:=[1.0, 2.0]').doubles, ['l']);
});

test('a double for an integer parameter is refused (file, -p), as rclcpp refuses it; an integer for a double is not', () => {
  const numbers = defineParams({
    steps: { type: 'integer', default: 1, description: 'an integer' },
    counts: { type: 'integer_array', default: [], description: 'integers' },
    rate_hz: { type: 'double', default: 1, description: 'a double' },
    gains: { type: 'double_array', default: [], description: 'doubles' },
  });
  const fromFile = (text: string) =>
    resolveParams(numbers, sourcesForNode(parseParamFile(text, 'f.yaml'), '/n', 'f.yaml'), '/n');
  assert.throws(
    () => fromFile('n:\n  ros__parameters:\n    steps: 6.0\n'),
    /f\.yaml \(\/n\): node \/n: parameter 'steps': expected integer, got double 6\.0$/,
  );
  assert.throws(
    () => fromFile('n:\n  ros__parameters:\n    counts: [1.0, 2.0]\n'),
    /parameter 'counts': expected integer array, got double array \[1\.0, 2\.0\]$/,
  );
  assert.deepEqual(fromFile('n:\n  ros__parameters:\n    {steps: 6, counts: [1, 2], rate_hz: 6, gains: [1, 2]}\n'), {
    use_sim_time: false,
    embedded_thread: '',
    steps: 6,
    counts: [1, 2],
    rate_hz: 6,
    gains: [1, 2],
  });
  const fromCommandLine = (...assignments: string[]) =>
    resolveParams(
      numbers,
      rosParamSources(parseRosArgs(['--ros-args', ...assignments.flatMap((a) => ['-p', a])]), '/n'),
      '/n',
    );
  assert.throws(
    () => fromCommandLine('steps:=6.0'),
    /command line \(--ros-args -p steps:=6\.0\): node \/n: parameter 'steps': expected integer, got double 6\.0$/,
  );
  assert.throws(() => fromCommandLine('counts:=[3.0]'), /'counts': expected integer array, got double array \[3\.0\]/);
  const ok = fromCommandLine('steps:=6', 'counts:=[1]', 'rate_hz:=6', 'gains:=[2]');
  assert.equal(ok.steps, 6);
  assert.equal(ok.rate_hz, 6);
});
