import { packageRoot } from '../../../src/util/paths.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  LaunchError,
  loadLaunchFile,
  parseLaunchText,
  type LaunchContext,
  type LaunchDescription,
} from '../../../framework/launch/parse.js';
import { evalPython, floatRepr } from '../../../framework/launch/python_eval.js';

// fixtures are not compiled: the repository's test/fixtures/launch/
const FIXTURES = join(packageRoot(), 'test/fixtures/launch') + '/';

const context: LaunchContext = {
  findPackageShare: (pkg) => {
    if (pkg === 'demo_pkg') return '/opt/ros/jazzy/share/demo_pkg';
    throw new Error(`package '${pkg}' not found`);
  },
  env: { HOME: '/home/robot', ROBOT_ID: '7' },
  cwd: FIXTURES,
};

/** Strip the indentation of a template literal so launch files can be written inline. */
function yaml(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => l.match(/^ */)![0].length));
  return lines.map((l) => l.slice(indent)).join('\n');
}

const INLINE = join(FIXTURES, 'inline.launch.yaml');
const launch = (text: string, args: Record<string, string> = {}, ctx: LaunchContext = context): LaunchDescription =>
  parseLaunchText(yaml(text), INLINE, args, ctx);

/** Every message a test expects to fail with is a LaunchError, and says where. */
function throwsLaunchError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (err: unknown) => {
    assert.ok(err instanceof LaunchError, `expected a LaunchError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

const params = (d: LaunchDescription, i = 0) =>
  Object.fromEntries(d.nodes[i]!.parameters.map((p) => (p.kind === 'value' ? [p.name, p.value] : ['file', p.path])));

test('arguments: defaults, command-line overrides, choices, the resolved values returned', () => {
  const text = `
    launch:
    - arg:
        name: rate
        default: "50"
    - arg:
        name: robot
        default: arm
        description: which robot
    - arg:
        name: mode
        default: sim
        choice:
        - value: sim
        - value: hw
    - node:
        pkg: dynastack
        exec: controller
        name: $(var robot)_ctl
        param:
        - name: rate_hz
          value: $(var rate)
        - name: mode
          value: $(var mode)
  `;
  const d = launch(text);
  assert.equal(d.file, INLINE);
  assert.deepEqual(d.args, { rate: '50', robot: 'arm', mode: 'sim' });
  assert.equal(d.nodes[0]!.name, 'arm_ctl');
  assert.deepEqual(params(d), { rate_hz: 50, mode: 'sim' });
  assert.deepEqual(d.warnings, []);

  const o = launch(text, { rate: '12.5', robot: 'leg', mode: 'hw' });
  assert.deepEqual(o.args, { rate: '12.5', robot: 'leg', mode: 'hw' });
  assert.equal(o.nodes[0]!.name, 'leg_ctl');
  assert.deepEqual(params(o), { rate_hz: 12.5, mode: 'hw' });

  throwsLaunchError(
    () => launch(text, { mode: 'real' }),
    /^inline\.launch\.yaml:9: arg: argument 'mode' is 'real', not one of 'sim', 'hw'$/,
  );
});

test('a required argument not given is an error naming it; a conditional one only when reached', () => {
  const text = `
    launch:
    - arg:
        name: robot
    - log:
        message: robot $(var robot)
  `;
  throwsLaunchError(
    () => launch(text),
    /^inline\.launch\.yaml: launch argument 'robot' \(declared at inline\.launch\.yaml:2, no default\) is not given; given: none/,
  );
  assert.deepEqual(launch(text, { robot: 'arm' }).logs, ['robot arm']);

  const conditional = `
    launch:
    - arg:
        name: use_hw
        default: "false"
    - group:
        if: $(var use_hw)
        children:
        - arg:
            name: port
        - log:
            message: port $(var port)
  `;
  assert.deepEqual(launch(conditional).logs, []);
  throwsLaunchError(
    () => launch(conditional, { use_hw: 'true' }),
    /^inline\.launch\.yaml:8: arg: required launch argument 'port' was not given \(port:=value\)$/,
  );
  assert.deepEqual(launch(conditional, { use_hw: 'true', port: '/dev/ttyUSB0' }).logs, ['port /dev/ttyUSB0']);
});

test('an argument the file does not declare is set anyway, as ros2 launch does, with a warning', () => {
  const d = launch(
    `
    launch:
    - log:
        message: extra=$(var extra)
  `,
    { extra: 'yes' },
  );
  assert.deepEqual(d.logs, ['extra=yes']);
  assert.deepEqual(d.args, { extra: 'yes' });
  assert.deepEqual(d.warnings, [
    "launch argument 'extra' is not declared by inline.launch.yaml or the files it includes; it is set anyway, as ros2 launch does",
  ]);
});

test('let sets a launch configuration, later ones see earlier ones', () => {
  const d = launch(`
    launch:
    - arg: {name: id, default: "3"}
    - let: {name: ns, value: robot_$(var id)}
    - let: {name: ns, value: $(var ns)/arm}
    - node: {pkg: dynastack, exec: driver, namespace: $(var ns)}
  `);
  assert.equal(d.nodes[0]!.namespace, '/robot_3/arm');
  assert.equal(d.nodes[0]!.name, undefined);
  assert.ok(!('name' in d.nodes[0]!), 'no name: the executable default');
});

test('substitutions: var, env, find-pkg-share/prefix, dirname, filename, nesting, text mixing, escapes', () => {
  const d = launch(`
    launch:
    - arg: {name: which, default: robot}
    - arg: {name: robot, default: arm}
    - log: {message: "$(var $(var which))"}
    - log: {message: "$(var missing fallback) $(var missing 'two words')"}
    - log: {message: "$(env HOME)/.ros and $(env NOPE /tmp) and [$(env NOPE '')]"}
    - log: {message: "$(find-pkg-share demo_pkg)/config/a.yaml"}
    - log: {message: "$(find-pkg-prefix demo_pkg)"}
    - log: {message: "$(dirname)|$(filename)"}
    - log: {message: 'cost: \\$(var robot) and $5 (a bracket) \\\\'}
  `);
  assert.deepEqual(d.logs, [
    'arm',
    'fallback two words',
    '/home/robot/.ros and /tmp and []',
    '/opt/ros/jazzy/share/demo_pkg/config/a.yaml',
    '/opt/ros/jazzy',
    `${FIXTURES.replace(/\/$/, '')}|${INLINE}`,
    'cost: $(var robot) and $5 (a bracket) \\',
  ]);
});

test('substitutions: anon, boolean logic, equals, if', () => {
  const d = launch(`
    launch:
    - log: {message: "$(anon talker)"}
    - log: {message: "$(anon talker)"}
    - log: {message: "$(not true) $(and true 0) $(or false yes) $(any false false 1) $(all true on 1)"}
    - log: {message: "$(equals 1 1.0) $(equals True 1) $(equals a A) $(not-equals a b)"}
    - log: {message: "$(if $(equals $(env ROBOT_ID) 7) seven other) $(if false only-true)"}
  `);
  const [a, b, ...rest] = d.logs!;
  assert.equal(a, b, 'the same name gives the same anonymous name');
  assert.match(a!, new RegExp(`^talker_${hostname().replace(/[.\-:]/g, '_')}_${process.pid}_\\d+$`));
  assert.deepEqual(rest, ['false false true true true', 'true true false true', 'seven ']);
});

test('$(eval): a safe subset of Python, printed as Python prints it', () => {
  const d = launch(`
    launch:
    - arg: {name: n, default: "4"}
    - log: {message: "$(eval '$(var n) * 2 + 1')"}
    - log: {message: "$(eval $(var n)/8)"}
    - log: {message: "$(eval '$(var n) // 3, $(var n) % 3, 2 ** 10, -7 // 2, 2 ** -1')"}
    - log: {message: "$(eval '\\"$(var n)\\" == \\"4\\" and not False')"}
    - log: {message: "$(eval 'sqrt(16) if 1 < $(var n) <= 4 else 0')"}
    - log: {message: "$(eval 'math.pi / 2')"}
    - log: {message: "$(eval \\"'arm' + '_' + str($(var n))\\")"}
    - log: {message: "$(eval 'round(2.5), round(3.5), int(\\"12\\"), float(1), max(1, 5, 3), len(\\"abc\\"), 1e20, 0.1 + 0.2')"}
    - log: {message: "$(eval '\\"a\\" in [\\"a\\", \\"b\\"] or None')"}
  `);
  assert.deepEqual(d.logs, [
    '9',
    '0.5',
    '(1, 1, 1024, -4, 0.5)',
    'True',
    '4.0',
    '1.5707963267948966',
    'arm_4',
    '(2, 4, 12, 1.0, 5, 3, 1e+20, 0.30000000000000004)',
    'True',
  ]);
  assert.equal(floatRepr(1e16), '1e+16');
  assert.equal(floatRepr(123456789012345.6), '123456789012345.6');
  assert.equal(floatRepr(0.0001), '0.0001');
  assert.equal(floatRepr(0.00001), '1e-05');
  assert.equal(floatRepr(-2), '-2.0');
  assert.equal(evalPython('10 / 4 == 2.5'), 'True');
  throwsLaunchError(() => evalPython('true'), /NameError: name 'true' is not defined \(Python spells it True/);
  throwsLaunchError(() => evalPython('__import__("os").system("ls")'), /NameError: name '__import__' is not defined/);
  throwsLaunchError(() => evalPython('"a".upper()'), /AttributeError/);
  throwsLaunchError(() => evalPython('1 / 0'), /ZeroDivisionError: division by zero/);
  throwsLaunchError(() => evalPython('lambda x'), /SyntaxError: 'lambda' is not supported/);
  // unquoted spaces make three arguments, which eval does not take (as in launch's grammar)
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: "$(eval 1 + 2)"}
  `),
    /^inline\.launch\.yaml:2: log 'message': \$\(eval\) takes 1 or 2 arguments, got 3$/,
  );
});

test('an unknown substitution is an error naming it and the file, even where it would not run', () => {
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - group:
        if: "false"
        children:
        - log: {message: "$(arg robot)"}
  `),
    /^inline\.launch\.yaml:5: log 'message': unknown substitution '\$\(arg robot\)' \(ROS 2 writes \$\(var name\)\)$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: "$(var robot"}
  `),
    /^inline\.launch\.yaml:2: log 'message': bad substitution syntax in '\$\(var robot' at column 12: expected '\)' to close '\$\(var'$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: "$(command 'ls /')"}
  `),
    /^inline\.launch\.yaml:2: log: \$\(command\) works under ros2 launch but not in the embedded launcher$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: "$(env NOT_SET_ANYWHERE)"}
  `),
    /environment variable 'NOT_SET_ANYWHERE' does not exist/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: "$(find-pkg-share nowhere)"}
  `),
    /^inline\.launch\.yaml:2: log: \$\(find-pkg-share nowhere\): package 'nowhere' not found/,
  );
});

test('includes: arguments pass in, $(dirname) paths, push-ros-namespace applies, only groups scope', () => {
  const d = loadLaunchFile('parent.launch.yaml', {}, context);
  const controllerYaml = join(FIXTURES, 'config/controller.yaml');
  const driverFile = join(FIXTURES, 'sub/driver.launch.yaml');
  assert.deepEqual(
    d.nodes.map((n) => [n.name, n.namespace, n.origin]),
    [
      ['arm_driver', '/arm', 'sub/driver.launch.yaml:12: node #1 (arm_driver)'],
      ['before', '/', 'parent.launch.yaml:16: node #1 (before)'],
      ['spare_driver', '/', 'sub/driver.launch.yaml:12: node #1 (spare_driver)'],
      ['after', '/', 'parent.launch.yaml:31: node #2 (after)'],
    ],
  );
  assert.deepEqual(d.nodes[0]!.parameters, [
    { kind: 'file', path: controllerYaml },
    { kind: 'value', name: 'rate_hz', value: 50 },
    { kind: 'value', name: 'source', value: driverFile },
  ]);
  // the group kept the include's arguments inside it
  assert.deepEqual(params(d, 1), { robot: 'arm', rate: 'unset' });
  assert.equal(params(d, 2).rate_hz, 100);
  // the bare include leaked its arguments and lets into the including file, as ros2 launch's does
  assert.deepEqual(params(d, 3), { robot: 'spare', rate: 100, leaked: 'from_driver' });
  assert.deepEqual(d.args, { robot: 'arm' });
});

test('a relative include path is resolved from the working directory, as ros2 launch does', () => {
  const d = loadLaunchFile(join(FIXTURES, 'relative.launch.yaml'), {}, context);
  assert.deepEqual(
    d.nodes.map((n) => n.name),
    ['leg_driver'],
  );
  throwsLaunchError(
    () => loadLaunchFile(join(FIXTURES, 'relative.launch.yaml'), {}, { ...context, cwd: '/' }),
    /relative\.launch\.yaml:2: include: included file \/sub\/driver\.launch\.yaml does not exist; relative paths are resolved from the working directory, as ros2 launch does: write '\$\(dirname\)\/sub\/driver\.launch\.yaml'$/,
  );
});

test('includes: a missing file, a missing required argument, a cycle, an error inside', () => {
  throwsLaunchError(
    () => loadLaunchFile('missing_include.launch.yaml', {}, context),
    new RegExp(
      `^missing_include\\.launch\\.yaml:5: include: included file ${FIXTURES}sub/nothing_here\\.launch\\.yaml does not exist$`,
    ),
  );
  throwsLaunchError(
    () => loadLaunchFile('needs_robot.launch.yaml', {}, context),
    /^needs_robot\.launch\.yaml:2: include: launch argument 'robot' \(declared at sub\/driver\.launch\.yaml:3, no default\) is not given; given: none/,
  );
  throwsLaunchError(
    () => loadLaunchFile('cycle_a.launch.yaml', {}, context),
    /^cycle_b\.launch\.yaml:3: include: include cycle: cycle_a\.launch\.yaml → cycle_b\.launch\.yaml → cycle_a\.launch\.yaml\n {2}included from cycle_a\.launch\.yaml:2$/,
  );
  throwsLaunchError(
    () => loadLaunchFile('inner_error.launch.yaml', {}, context),
    /^sub\/bad_var\.launch\.yaml:2: node: \$\(var nobody_set_this\): launch configuration 'nobody_set_this' does not exist .*\n {2}included from inner_error\.launch\.yaml:2$/,
  );
});

test('groups: nested, relative and absolute pushed namespaces; scoped, unscoped and non-forwarding groups', () => {
  const d = launch(`
    launch:
    - let: {name: outer, value: o}
    - group:
      - push_ros_namespace: {namespace: fleet}
      - let: {name: inner, value: i}
      - node: {pkg: dynastack, exec: a, name: a}
      - group:
        - push-ros-namespace: {namespace: arm/}
        - node: {pkg: dynastack, exec: b, name: b}
        - node: {pkg: dynastack, exec: c, name: c, namespace: wrist}
        - node: {pkg: dynastack, exec: d, name: d, namespace: /abs}
        - group:
          - push-ros-namespace: {namespace: /other}
          - node: {pkg: dynastack, exec: e, name: e}
      - node: {pkg: dynastack, exec: f, name: f}
    - node: {pkg: dynastack, exec: g, name: g}
    - log: {message: "inner=$(var inner gone) outer=$(var outer)"}
    - group:
        scoped: false
        children:
        - let: {name: unscoped, value: kept}
        - push-ros-namespace: {namespace: leaky}
    - node: {pkg: dynastack, exec: h, name: h}
    - log: {message: "unscoped=$(var unscoped)"}
    - group:
        forwarding: false
        keep:
        - {name: passed, value: "$(var outer)!"}
        children:
        - log: {message: "outer=$(var outer hidden) passed=$(var passed)"}
        - node: {pkg: dynastack, exec: i, name: i}
    - log: {message: "passed=$(var passed gone)"}
  `);
  assert.deepEqual(
    d.nodes.map((n) => `${n.name}@${n.namespace}`),
    ['a@/fleet', 'b@/fleet/arm', 'c@/fleet/arm/wrist', 'd@/abs', 'e@/other', 'f@/fleet', 'g@/', 'h@/leaky', 'i@/'],
  );
  assert.deepEqual(d.logs, ['inner=gone outer=o', 'unscoped=kept', 'outer=hidden passed=o!', 'passed=gone']);
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - push-ros-namespace: {namespace: "bad ns"}
  `),
    /^inline\.launch\.yaml:2: push-ros-namespace: the resulting namespace is invalid \(previous '\/', pushed 'bad ns'\)/,
  );
});

test("remaps, set_remap and set_parameter: scoped, and ahead of the node's own", () => {
  const d = launch(`
    launch:
    - arg: {name: topic, default: /cmd}
    - group:
      - set_remap: {from: /tf, to: tf}
      - set_parameter: {name: use_sim_time, value: "true"}
      - set_parameters_from_file: {filename: config/controller.yaml}
      - node:
          pkg: dynastack
          exec: controller
          remap:
          - {from: cmd_vel, to: $(var topic)_vel}
          - {from: odom, to: /robot/odom}
          param:
          - {name: use_sim_time, value: false}
    - node: {pkg: dynastack, exec: plain}
  `);
  assert.deepEqual(d.nodes[0]!.remaps, [
    { from: '/tf', to: 'tf' },
    { from: 'cmd_vel', to: '/cmd_vel' },
    { from: 'odom', to: '/robot/odom' },
  ]);
  // set_parameter gives every node in scope the value, as launch_ros's global parameters (a '/**'
  // section): a node that does not declare it ignores it
  assert.deepEqual(d.nodes[0]!.parameters, [
    { kind: 'value', name: 'use_sim_time', value: true, global: true },
    { kind: 'file', path: join(FIXTURES, 'config/controller.yaml') },
    { kind: 'value', name: 'use_sim_time', value: false },
  ]);
  assert.deepEqual(d.nodes[1]!.remaps, []);
  assert.deepEqual(d.nodes[1]!.parameters, []);
});

test('parameters: YAML typing of plain values and of substitution results, nesting, type, files', () => {
  const d = launch(`
    launch:
    - arg: {name: rate, default: "1.5"}
    - arg: {name: gains, default: "[1, 2, 3]"}
    - arg: {name: word, default: hello}
    - node:
        pkg: dynastack
        exec: controller
        name: controller
        param:
        - {name: int, value: 1}
        - {name: float, value: 1.0}
        - {name: bool, value: true}
        - {name: yes_is_bool, value: yes}
        - {name: quoted_stays_string, value: "1.5"}
        - {name: sub_is_typed, value: $(var rate)}
        - {name: sub_list, value: $(var gains)}
        - {name: sub_word, value: $(var word)}
        - {name: sub_bool, value: "$(var missing true)"}
        - {name: typed_str, value: $(var rate), type: str}
        - {name: typed_float, value: "$(var missing 2)", type: float}
        - {name: list, value: [0.5, 1.5]}
        - {name: list_of_subs, value: ["$(var rate)", "$(var missing 2.5)"], type: list_of_float}
        - {name: empty, value: ""}
        - {name: empty_sub, value: "$(var missing '')"}
        - name: gains
          param:
          - {name: kp, value: [1.0, 2.0]}
          - name: inner
            param:
            - {name: ki, value: 0.1}
        - from: $(dirname)/config/controller.yaml
        - from: config/controller.yaml
        - from: config/nonexistent.yaml
  `);
  assert.deepEqual(d.nodes[0]!.parameters, [
    { kind: 'value', name: 'int', value: 1 },
    // a double JavaScript cannot tell from an integer (1.0) says so, as launch_ros passes it on
    { kind: 'value', name: 'float', value: 1, double: true },
    { kind: 'value', name: 'bool', value: true },
    { kind: 'value', name: 'yes_is_bool', value: true },
    { kind: 'value', name: 'quoted_stays_string', value: '1.5' },
    { kind: 'value', name: 'sub_is_typed', value: 1.5, double: true },
    { kind: 'value', name: 'sub_list', value: [1, 2, 3] },
    { kind: 'value', name: 'sub_word', value: 'hello' },
    { kind: 'value', name: 'sub_bool', value: true },
    { kind: 'value', name: 'typed_str', value: '1.5' },
    { kind: 'value', name: 'typed_float', value: 2, double: true },
    { kind: 'value', name: 'list', value: [0.5, 1.5], double: true },
    { kind: 'value', name: 'list_of_subs', value: [1.5, 2.5], double: true },
    { kind: 'value', name: 'empty', value: '' },
    { kind: 'value', name: 'empty_sub', value: '' },
    { kind: 'value', name: 'gains.kp', value: [1, 2], double: true },
    { kind: 'value', name: 'gains.inner.ki', value: 0.1, double: true },
    { kind: 'file', path: join(FIXTURES, 'config/controller.yaml') },
    { kind: 'file', path: join(FIXTURES, 'config/controller.yaml') },
  ]);
  assert.deepEqual(d.warnings, [
    `inline.launch.yaml:33: parameter file ${join(FIXTURES, 'config/nonexistent.yaml')} is not a file; skipped, as ros2 launch does`,
  ]);
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node:
        pkg: dynastack
        exec: x
        param:
        - {name: mixed, value: "$(var missing '[1, a]')"}
  `),
    /^inline\.launch\.yaml:6: param 'mixed': '\[1, a\]' read as YAML: list items must all have one type/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node:
        pkg: dynastack
        exec: x
        param:
        - {name: n, value: "5", type: int}
  `),
    /^inline\.launch\.yaml:6: param 'n': "5" is not of type int; ros2 launch converts a quoted value only when it holds a substitution/,
  );
  // a double is not an int, whatever its value
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node:
        pkg: dynastack
        exec: x
        param:
        - {name: n, value: 6.0, type: int}
  `),
    /^inline\.launch\.yaml:6: param 'n': 6\.0 is not of type int$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node:
        pkg: dynastack
        exec: x
        param:
        - {name: n, value: {a: 1}}
  `),
    /^inline\.launch\.yaml:6: param: a mapping is not a parameter value \(nest mappings with 'param' entries\)$/,
  );
});

test('node: args and ros_args split as ros2 launch splits them', () => {
  const d = launch(`
    launch:
    - arg: {name: file, default: /tmp/a b.txt}
    - node:
        pkg: dynastack
        exec: tool
        args: "--verbose --label 'two words' --path=$(var file) $(var file)"
        ros_args: "--log-level debug"
  `);
  assert.deepEqual(d.nodes[0]!.args, ['--verbose', '--label', 'two words', '--path=/tmp/a b.txt', '/tmp/a b.txt']);
  assert.deepEqual(d.nodes[0]!.rosArgs, ['--log-level', 'debug']);
});

test('if / unless: true, false, 1, 0 in any case; anything else is an error; a YAML boolean must be quoted', () => {
  const d = launch(`
    launch:
    - arg: {name: sim, default: "True"}
    - log: {message: a, if: $(var sim)}
    - log: {message: b, unless: $(var sim)}
    - log: {message: c, if: "1"}
    - log: {message: d, unless: "0"}
    - log: {message: e, if: " FALSE "}
    - log: {message: f, if: "$(eval '2 > 1')"}
  `);
  assert.deepEqual(d.logs, ['a', 'c', 'd', 'f']);
  // the condition of docs.ros.org's "Using Substitutions" YAML example
  const docs = `
    launch:
      - arg: {name: "use_provided_red", default: "False"}
      - arg: {name: "new_background_r", default: "200"}
      - log:
          message: set
          if: '$(eval "$(var new_background_r) == 200 and $(var use_provided_red)")'
  `;
  assert.deepEqual(launch(docs).logs, []);
  assert.deepEqual(launch(docs, { use_provided_red: 'True' }).logs, ['set']);
  assert.deepEqual(launch(docs, { use_provided_red: 'True', new_background_r: '100' }).logs, []);
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: a, if: "yes"}
  `),
    /^inline\.launch\.yaml:2: log: if: condition evaluated to 'yes'; expected true, false, 1 or 0$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: a, if: true}
  `),
    /^inline\.launch\.yaml:2: log: 'if' must be a string, got a boolean \(true\); ros2 launch wants a string here, so quote it: 'true'$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - log: {message: a, if: "1", unless: "1"}
  `),
    /'if' and 'unless' cannot be used together/,
  );
});

test('unknown entities and attributes are errors, even under a false condition; accepted node attributes warn', () => {
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - group:
        if: "false"
        children:
        - rosparam: {file: a.yaml}
  `),
    /^inline\.launch\.yaml:5: unknown entity 'rosparam' \(ros2 launch has no such action; ROS 2 has a node's 'param: \[\{from: file\.yaml\}\]'\)$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node:
        pkg: dynastack
        exec: talker
        ns: /robot
  `),
    /^inline\.launch\.yaml:2: node: unknown attribute 'ns'$/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node:
        exec: talker
  `),
    /^inline\.launch\.yaml:2: node needs 'pkg'/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - timer: {period: "1.0", children: []}
  `),
    /^inline\.launch\.yaml:2: timer: 'timer' works under ros2 launch, but the embedded launcher does not support it$/,
  );
  const d = launch(`
    launch:
    - node:
        pkg: dynastack
        exec: talker
        name: talker
        output: screen
        emulate_tty: true
        respawn: "true"
        respawn_delay: 2.0
  `);
  assert.equal(d.nodes.length, 1);
  assert.deepEqual(d.warnings, [
    "inline.launch.yaml:2: node talker: 'respawn' is ignored by the embedded launcher",
    "inline.launch.yaml:2: node talker: 'respawn_delay' is ignored by the embedded launcher",
  ]);
});

test('malformed YAML and a file that is not a launch file: errors with the file and line', () => {
  throwsLaunchError(
    () => loadLaunchFile('malformed.launch.yaml', {}, context),
    /^malformed\.launch\.yaml:8:1: not valid YAML: All mapping items must start at the same column$/,
  );
  throwsLaunchError(
    () => launch('nodes:\n- node: {pkg: a, exec: b}\n'),
    /^inline\.launch\.yaml:1: a launch file is a mapping with one key, 'launch'$/,
  );
  throwsLaunchError(
    () => launch('launch:\n- node: {pkg: a, exec: b}\n  extra: 1\n'),
    /^inline\.launch\.yaml:2: launch: each entry must be a mapping with one key, the entity type/,
  );
  throwsLaunchError(
    () => loadLaunchFile('no_such.launch.yaml', {}, context),
    /^launch file .*no_such\.launch\.yaml cannot be read: ENOENT$/,
  );
});

test("invalid node names and namespaces are errors with the node's location", () => {
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node: {pkg: dynastack, exec: talker, name: 2fast}
  `),
    /^inline\.launch\.yaml:2: node: invalid node name '2fast'/,
  );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node: {pkg: dynastack, exec: talker, namespace: "a//b"}
  `),
    /^inline\.launch\.yaml:2: node: namespace: invalid namespace/,
  );
});

test("launch_ros's own YAML frontend test (test_node_frontend.py) gives the values it asserts", () => {
  // test_launch_frontend_yaml, minus its second node (an executable by path, without pkg)
  const d = launch(String.raw`
    launch:
        - let:
            name: 'a_string'
            value: "'[2, 5, 8]'"
        - let:
            name: 'a_list'
            value: '[2, 5, 8]'
        - let:
            name: 'my_value'
            value: '100'
        - node:
            pkg: demo_nodes_py
            exec: talker_qos
            output: screen
            name: my_talker
            namespace: my_ns
            exec_name: my_talker_process
            args: '--number_of_cycles 1'
            ros_args: '--log-level info --log-file-name filename'
            param:
                -   name: param1
                    value: ads
                -   name: param_group1
                    param:
                    -   name: param_group2
                        param:
                        -   name: param2
                            value: 2
                    -   name: param3
                        value: [2, 5, 8]
                    -   name: param4
                        value: $(var a_list)
                    -   name: param5
                        value: $(var a_string)
                    -   name: param6
                        value: [2., 5., 8.]
                    -   name: param7
                        value: ['2', '5', '8']
                    -   name: param8
                        value: ["'2'", "'5'", "'8'"]
                    -   name: param9
                        value: ["\\'2\\'", "\\'5\\'", "\\'8\\'"]
                    -   name: param10
                        value: ["'asd'", "'bsd'", "'csd'"]
                    -   name: param11
                        value: ['\asd', '\bsd', '\csd']
                    -   name: param12
                        value: ''
                    -   name: param13
                        value: '$(var my_value)'
                        type: str
                    -   name: param14
                        value: ["'2'", "'5'", "'8'"]
                        type: list_of_str
                    -   name: param15
                        value: ['2', '5', '8']
                        type: list_of_str
                -   from: $(dirname)/config/controller.yaml
            env:
                -   name: var
                    value: '1'
            remap:
                -   from: "foo"
                    to: "bar"
                -   from: "baz"
                    to: "foobar"
  `);
  const [n] = d.nodes;
  assert.deepEqual(
    { name: n!.name, namespace: n!.namespace, args: n!.args, rosArgs: n!.rosArgs },
    {
      name: 'my_talker',
      namespace: '/my_ns',
      args: ['--number_of_cycles', '1'],
      rosArgs: ['--log-level', 'info', '--log-file-name', 'filename'],
    },
  );
  assert.deepEqual(params(d), {
    param1: 'ads',
    'param_group1.param_group2.param2': 2,
    'param_group1.param3': [2, 5, 8],
    'param_group1.param4': [2, 5, 8],
    'param_group1.param5': '[2, 5, 8]',
    'param_group1.param6': [2, 5, 8],
    'param_group1.param7': ['2', '5', '8'],
    'param_group1.param8': ["'2'", "'5'", "'8'"],
    'param_group1.param9': ["'2'", "'5'", "'8'"],
    'param_group1.param10': ["'asd'", "'bsd'", "'csd'"],
    'param_group1.param11': ['asd', 'bsd', 'csd'],
    'param_group1.param12': '',
    'param_group1.param13': '100',
    'param_group1.param14': ["'2'", "'5'", "'8'"],
    'param_group1.param15': ['2', '5', '8'],
    file: join(FIXTURES, 'config/controller.yaml'),
  });
  assert.deepEqual(n!.remaps, [
    { from: 'foo', to: 'bar' },
    { from: 'baz', to: 'foobar' },
  ]);
  assert.deepEqual(d.warnings, ["inline.launch.yaml:11: node my_talker: 'env' is ignored by the embedded launcher"]);
});

test('YAML as PyYAML reads it: anchors and merge keys, YAML 1.1 scalars, launch with children and deprecated', () => {
  const d = launch(`
    %YAML 1.2
    ---
    launch:
      deprecated: use robot.launch.yaml
      children:
      - node: &base {pkg: dynastack, exec: talker, name: a, remap: [{from: x, to: y}]}
      - node:
          <<: *base
          name: b
      - set_parameter: {name: sci, value: "1e3"}
      - set_parameter: {name: sci_signed, value: "1.0e+3"}
      - set_parameter: {name: letter, value: "y"}
      - set_parameter: {name: hex, value: "0x10"}
      - set_parameter: {name: switch, value: "on"}
      - node: {pkg: dynastack, exec: listener}
  `);
  assert.deepEqual(
    d.nodes.slice(0, 2).map((n) => [n.name, n.remaps]),
    [
      ['a', [{ from: 'x', to: 'y' }]],
      ['b', [{ from: 'x', to: 'y' }]],
    ],
  );
  assert.deepEqual(params(d, 2), { sci: '1e3', sci_signed: 1000, letter: 'y', hex: 16, switch: true });
  assert.deepEqual(d.warnings, ['launch file inline.launch.yaml is deprecated: use robot.launch.yaml']);
  // YAML 1.1 reads an unquoted on as true, which ros2 launch then refuses as a name
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - set_parameter: {name: on, value: "1"}
  `),
    /^inline\.launch\.yaml:2: set_parameter: 'name' must be a string, got a boolean \(true\); ros2 launch wants a string here, so quote it: 'on'$/,
  );
});

test("a node's on_exit: 'shutdown' as launch (Jazzy) takes it, anything else refused", () => {
  const d = launch(`
    launch:
    - node: {pkg: dynastack, exec: talker, on_exit: shutdown}
    - node: {pkg: dynastack, exec: listener}
  `);
  assert.equal(d.nodes[0]!.onExit, 'shutdown');
  assert.equal(d.nodes[1]!.onExit, undefined);
  assert.deepEqual(d.warnings, []);
  // launch compares the attribute with 'shutdown' as written: no substitutions, no other action
  const refused: [string, string][] = [
    ['restart', 'restart'],
    ['"$(var end)"', '$(var end)'],
  ];
  for (const [value, shown] of refused)
    throwsLaunchError(
      () =>
        launch(`
    launch:
    - arg: {name: end, default: shutdown}
    - node: {pkg: dynastack, exec: talker, on_exit: ${value}}
  `),
      new RegExp(
        `^inline\\.launch\\.yaml:3: node: on_exit must be 'shutdown' .*, got '${shown.replace(/[$()]/g, '\\$&')}'$`,
      ),
    );
  throwsLaunchError(
    () =>
      launch(`
    launch:
    - node: {pkg: dynastack, exec: talker, on_exit: true}
  `),
    /^inline\.launch\.yaml:2: node: 'on_exit' must be a string, got a boolean \(true\)/,
  );
});
