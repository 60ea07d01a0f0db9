import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ArmReporter,
  armMetrics,
  armSummary,
  busHealth,
  noStateAfterMs,
  servoHealth,
  type ArmSnapshot,
} from '../../hw/arm/arm_report.js';
import type { BusDiagnostics, ServoDiagnostics, ServoFault } from '../../hw/bus/servo_bus_api.js';
import type { CycleSummary } from '../../hw/arm/cycle_stats.js';
import type { ArmCounters } from '../../hw/arm/servo_arm.js';

// The serial arm's reports (hw_bridge's /diagnostics, summary line and launch figures) on
// snapshots built by hand: ERROR everywhere while the device is lost, WARN for failed cycles and
// error replies only when they are new since the previous report, servo faults and silent servos;
// ERROR whenever no joint state is published (naming why), for a torque state that could not be
// confirmed, for replies under a wrong id and for positions that jumped more than the motor can
// move; and the figures' keys and formats that tests and users read.

const PORT = '/dev/ttyACM0';
const PREFIX = '/hw_bridge';

interface ServoSpec {
  readonly joint: string;
  readonly timeouts?: number;
  readonly corrupt?: number;
  readonly errorReplies?: number;
  readonly responsive?: boolean;
  readonly fault?: ServoFault;
  readonly status?: ServoDiagnostics['status'];
  readonly mismatched?: number;
  readonly torque?: ServoDiagnostics['torque'];
  readonly torqueProblem?: string;
  readonly lastFailure?: ServoDiagnostics['lastFailure'];
}

function servo(index: number, s: ServoSpec): ServoDiagnostics {
  return {
    index,
    id: index + 1,
    joint: s.joint,
    model: 'STS3215',
    responsive: s.responsive ?? true,
    lastFailure: s.lastFailure,
    fault: s.fault,
    counters: {
      timeouts: s.timeouts ?? 0,
      corrupt: s.corrupt ?? 0,
      errorReplies: s.errorReplies ?? 0,
      mismatched: s.mismatched ?? 0,
    },
    status: s.status,
    torque: s.torque ?? 'on',
    torqueProblem: s.torqueProblem,
  };
}

interface SnapshotSpec {
  readonly servos?: readonly ServoSpec[];
  readonly cycles?: Partial<CycleSummary>;
  readonly counters?: Partial<ArmCounters>;
  readonly faults?: readonly ServoFault[];
  readonly lostReason?: string;
  readonly state?: BusDiagnostics['state'];
  readonly stateAgeMs?: number;
  readonly noStateReason?: string;
  readonly implausible?: ArmSnapshot['implausible'];
}

function snapshot(spec: SnapshotSpec = {}): ArmSnapshot {
  const servos = (spec.servos ?? [{ joint: 'shoulder_pan' }, { joint: 'gripper' }]).map((s, i) => servo(i, s));
  const lost = spec.lostReason !== undefined;
  return {
    bus: {
      state: spec.state ?? (lost ? 'lost' : 'open'),
      port: PORT,
      protocol: 'feetech_sts',
      baudRate: 1_000_000,
      counters: {
        transactions: 500,
        timeouts: 3,
        corrupt: 1,
        retries: 4,
        failures: 0,
        stale: 0,
        garbageBytes: 0,
        echoes: 0,
        mismatched: 0,
        receivedBytes: 6000,
        packets: 500,
        losses: lost ? 1 : 0,
        reconnects: 0,
      },
      servos,
    },
    cycles: {
      cycles: 250,
      failed: 0,
      overruns: 0,
      rateHz: 99.5,
      cycleP50Ms: 2.345,
      cycleP99Ms: 4.5678,
      cycleMaxMs: 6.1,
      ...spec.cycles,
    },
    counters: {
      commands: 120,
      rejected: 1,
      clamped: 2,
      commandTimeouts: 0,
      droppedWhileLost: 0,
      incomplete: 0,
      restores: 0,
      published: 250,
      implausible: 0,
      ...spec.counters,
    },
    faults: spec.faults ?? [],
    connected: !lost,
    lostReason: spec.lostReason,
    stateAgeMs: 'stateAgeMs' in spec ? spec.stateAgeMs : 4,
    noStateReason: spec.noStateReason,
    implausible: spec.implausible ?? servos.map(() => ({ count: 0, last: undefined })),
  };
}

const overload: ServoFault = {
  index: 1,
  id: 2,
  joint: 'gripper',
  flags: ['overload'],
  errorByte: 0x20,
  action: 'torque_off',
  at: 0,
};

test('arm report: a healthy arm is OK, the bus with its rate and cycle times, each servo with its status', () => {
  const ok = snapshot({
    servos: [
      { joint: 'shoulder_pan', status: { temperatureC: 35, voltageV: 12.04, errorFlags: [] } },
      { joint: 'gripper' },
    ],
  });
  const [bus, pan, gripper, ...rest] = new ArmReporter(PREFIX, 100, ok.bus).reports(ok);
  assert.equal(rest.length, 0, 'the bus, then one report per servo');
  assert.deepEqual(
    [bus!.level, bus!.name, bus!.message, bus!.hardwareId],
    ['ok', '/hw_bridge: bus', '99.5 Hz (target 100), cycle p50 2.35 ms, p99 4.57 ms', PORT],
  );
  assert.deepEqual(bus!.values, {
    state: 'open',
    protocol: 'feetech_sts',
    baud_rate: 1_000_000,
    loop_rate_hz: '99.50',
    cycle_p50_ms: '2.345',
    cycle_p99_ms: '4.568',
    cycle_max_ms: '6.100',
    cycles: 250,
    failed_cycles: 0,
    overruns: 0,
    losses: 0,
    reconnects: 0,
    transactions: 500,
    timeouts: 3,
    corrupt: 1,
    retries: 4,
    failures: 0,
    mismatched: 0,
    commands: 120,
    commands_rejected: 1,
    commands_clamped: 2,
    commands_dropped_while_lost: 0,
    command_timeouts: 0,
    incomplete_reads: 0,
    states: 250,
    state_age_ms: 4,
    implausible_samples: 0,
    torque_unconfirmed: 0,
  });
  assert.deepEqual(
    [pan!.level, pan!.name, pan!.message, pan!.hardwareId],
    ['ok', '/hw_bridge: shoulder_pan', '35 °C, 12.0 V', `${PORT} id 1 (STS3215)`],
  );
  assert.deepEqual(pan!.values, {
    temperature_c: '35',
    voltage_v: '12.04',
    error_flags: '',
    fault: '',
    responsive: true,
    timeouts: 0,
    corrupt: 0,
    error_replies: 0,
    mismatched: 0,
    implausible: 0,
    torque: 'on',
  });
  assert.deepEqual([gripper!.level, gripper!.message], ['ok', 'ok'], 'no status read yet');
  assert.deepEqual([gripper!.values.temperature_c, gripper!.values.voltage_v], ['', '']);
});

test('arm report: the bus is ERROR while the device is lost, and so is every servo', () => {
  const s = snapshot({ lostReason: 'device disconnected: bad file descriptor' });
  const reports = new ArmReporter(PREFIX, 100, s.bus).reports(s);
  assert.equal(reports[0]!.level, 'error');
  assert.equal(
    reports[0]!.message,
    `device lost (device disconnected: bad file descriptor): not commanding, reopening ${PORT}`,
  );
  for (const r of reports.slice(1)) assert.deepEqual([r.level, r.message], ['error', 'bus lost'], r.name);
  // open again but the arm not yet taken back: still lost, named by the bus state
  const back = { ...snapshot({ state: 'open' }), connected: false };
  assert.equal(busHealth('b', back, 100, 0).message, `device lost (open): not commanding, reopening ${PORT}`);
});

test('arm report: the bus is WARN for failed cycles new since the last report only, a slow loop, or a faulted servo', () => {
  const start = snapshot();
  const reporter = new ArmReporter(PREFIX, 100, start.bus);
  assert.equal(reporter.reports(start)[0]!.level, 'ok');
  const failing = reporter.reports(snapshot({ cycles: { failed: 2 } }))[0]!;
  assert.equal(failing.level, 'warn');
  assert.match(failing.message, /ms, 2 failed cycles$/);
  assert.equal(failing.values.failed_cycles, 2);
  const after = reporter.reports(snapshot({ cycles: { failed: 2 } }))[0]!;
  assert.equal(after.level, 'ok', 'the same two failures are not new');
  assert.doesNotMatch(after.message, /failed/);
  assert.equal(after.values.failed_cycles, 2, 'the figure stays cumulative');

  const slow = reporter.reports(snapshot({ cycles: { failed: 2, rateHz: 49.9 } }))[0]!;
  assert.equal(slow.level, 'warn', 'below half the target rate');
  assert.equal(reporter.reports(snapshot({ cycles: { failed: 2, rateHz: 50 } }))[0]!.level, 'ok');
  assert.equal(
    reporter.reports(snapshot({ cycles: { cycles: 0, failed: 2, rateHz: 0 } }))[0]!.level,
    'ok',
    'no cycle yet: not slow',
  );
  const faulted = reporter.reports(snapshot({ cycles: { failed: 2 }, faults: [overload] }))[0]!;
  assert.equal(faulted.level, 'warn');
  assert.match(faulted.message, /ms, 1 faulted servo\(s\)$/);
});

test('arm report: a servo is WARN for error replies or bus errors new in the period (the latter with failed cycles)', () => {
  const servos = (pan: Partial<ServoSpec>): ServoSpec[] => [{ joint: 'shoulder_pan', ...pan }, { joint: 'gripper' }];
  const status = { temperatureC: 40, voltageV: 7.4, errorFlags: [] };
  const initial = snapshot({ servos: servos({ timeouts: 5, errorReplies: 1, status }) });
  const reporter = new ArmReporter(PREFIX, 100, initial.bus);
  const pan = (s: ArmSnapshot) => reporter.reports(s)[1]!;

  const first = pan(initial);
  assert.equal(first.level, 'ok', 'the counts at the start are not new');
  assert.equal(first.message, '40 °C, 7.4 V');

  const retried = pan(snapshot({ servos: servos({ timeouts: 7, errorReplies: 1, status }) }));
  assert.equal(retried.level, 'ok', 'a retried timeout is counted, not warned about');
  assert.equal(retried.message, '40 °C, 7.4 V, 2 bus errors');
  assert.equal(retried.values.timeouts, 7);

  const failed = pan(snapshot({ servos: servos({ timeouts: 8, errorReplies: 1, status }), cycles: { failed: 1 } }));
  assert.equal(failed.level, 'warn', 'bus errors in a period with a failed cycle');
  assert.equal(failed.message, '40 °C, 7.4 V, 1 bus errors');

  const replied = pan(snapshot({ servos: servos({ timeouts: 8, errorReplies: 2, status }), cycles: { failed: 1 } }));
  assert.equal(replied.level, 'warn', 'an error reply');
  assert.equal(replied.values.error_replies, 2);

  const quiet = pan(snapshot({ servos: servos({ timeouts: 8, errorReplies: 2, status }), cycles: { failed: 1 } }));
  assert.equal(quiet.level, 'ok', 'nothing new since the last report');
  assert.equal(quiet.message, '40 °C, 7.4 V');

  const flagged = pan(
    snapshot({
      servos: servos({ timeouts: 8, errorReplies: 2, status: { ...status, errorFlags: ['overheating', 'voltage'] } }),
      cycles: { failed: 1 },
    }),
  );
  assert.equal(flagged.level, 'warn', 'error bits set');
  assert.equal(flagged.message, '40 °C, 7.4 V, overheating, voltage');
  assert.equal(flagged.values.error_flags, 'overheating voltage');
});

test('arm report: a faulted or silent servo is ERROR, with what to do about it', () => {
  const s = snapshot({
    servos: [
      { joint: 'shoulder_pan', responsive: false },
      {
        joint: 'gripper',
        fault: overload,
        status: { temperatureC: undefined, voltageV: undefined, errorFlags: ['overload'] },
      },
    ],
    faults: [overload],
  });
  const [bus, pan, gripper] = new ArmReporter(PREFIX, 100, s.bus).reports(s);
  assert.equal(bus!.level, 'warn');
  assert.deepEqual(
    [pan!.level, pan!.message, pan!.values.responsive],
    ['error', 'not answering: left out of cycles, pinged until it is back', false],
  );
  assert.deepEqual(
    [gripper!.level, gripper!.message, gripper!.values.fault],
    ['error', 'fault: overload (torque off); not commanded until ~/clear_faults', 'overload'],
  );
  const bare = servoHealth('x', PORT, servo(0, { joint: 'x', fault: { ...overload, flags: [], action: 'reboot' } }), {
    lost: false,
    newFailures: 0,
    newErrors: 0,
    newErrorReplies: 0,
    newMismatched: 0,
    newImplausible: 0,
    lastJump: undefined,
    noState: undefined,
  });
  assert.equal(bare.message, 'fault: hardware error (reboot); not commanded until ~/clear_faults');
  const unknown = servoHealth(
    'x',
    PORT,
    servo(0, { joint: 'x', status: { temperatureC: undefined, voltageV: undefined, errorFlags: [] } }),
    {
      lost: false,
      newFailures: 0,
      newErrors: 0,
      newErrorReplies: 0,
      newMismatched: 0,
      newImplausible: 0,
      lastJump: undefined,
      noState: undefined,
    },
  );
  assert.equal(unknown.message, '? °C, ? V');
});

test('arm report: no joint state published for a while — the bus and every joint are ERROR, saying why', () => {
  const start = snapshot();
  const reporter = new ArmReporter(PREFIX, 100, start.bus);
  const reason = "no reply from 'gripper' (id 2)";
  const [bus, pan, gripper] = reporter.reports(
    snapshot({
      servos: [{ joint: 'shoulder_pan' }, { joint: 'gripper', responsive: false }],
      stateAgeMs: 2500,
      noStateReason: reason,
      cycles: { rateHz: 0 },
    }),
  );
  assert.equal(bus!.level, 'error');
  assert.equal(bus!.message, `no joint state published for 2.5 s: ${reason}`);
  assert.equal(bus!.values.state_age_ms, 2500);
  assert.deepEqual([pan!.level, pan!.message], ['error', `no joint state published (${reason})`]);
  assert.deepEqual(
    [gripper!.level, gripper!.message],
    ['error', 'not answering: left out of cycles, pinged until it is back'],
    'the joint to blame says so itself',
  );
  // a gap shorter than the limit (five loop periods, at least half a second) is not one
  assert.equal(noStateAfterMs(100), 500);
  assert.equal(noStateAfterMs(2), 2500);
  assert.equal(reporter.reports(snapshot({ stateAgeMs: 499, noStateReason: reason }))[0]!.level, 'ok');
  // not cycling (before the first cycle, after deactivate): nothing is expected
  const idle = reporter.reports(snapshot({ stateAgeMs: undefined }));
  assert.ok(idle.every((r) => r.level === 'ok'));
  assert.equal(idle[0]!.values.state_age_ms, '');
  // the device lost says so first
  assert.match(reporter.reports(snapshot({ lostReason: 'gone', stateAgeMs: 5000 }))[0]!.message, /^device lost/);
});

test('arm report: torque not confirmed, replies under a wrong id and impossible jumps are ERROR on the servo', () => {
  const start = snapshot();
  const reporter = new ArmReporter(PREFIX, 100, start.bus);
  const problem = 'torque off not confirmed: no reply to the read-back';
  const [bus, pan] = reporter.reports(
    snapshot({ servos: [{ joint: 'shoulder_pan', torque: 'unknown', torqueProblem: problem }, { joint: 'gripper' }] }),
  );
  assert.equal(bus!.level, 'error');
  assert.equal(bus!.message, "torque off not confirmed on 'shoulder_pan' (id 1)");
  assert.equal(bus!.values.torque_unconfirmed, 1);
  assert.deepEqual([pan!.level, pan!.message, pan!.values.torque], ['error', problem, 'unknown']);

  // replies under a wrong id: WARN on a servo whose replies were refused in the period, ERROR once it is left out
  const wrong = reporter.reports(
    snapshot({
      servos: [
        { joint: 'shoulder_pan', mismatched: 3 },
        { joint: 'gripper', mismatched: 3, responsive: false, lastFailure: 'mismatch' },
      ],
      counters: {},
    }),
  );
  assert.equal(wrong[0]!.level, 'ok', 'states still come');
  assert.deepEqual(
    [wrong[1]!.level, wrong[1]!.message, wrong[1]!.values.mismatched],
    ['warn', '3 replies under a wrong id or out of order (not used)', 3],
  );
  assert.deepEqual(
    [wrong[2]!.level, wrong[2]!.message],
    ['error', 'answering under a wrong id or out of order: left out of cycles, pinged until it answers as itself'],
  );
  assert.equal(
    reporter.reports(
      snapshot({
        servos: [
          { joint: 'shoulder_pan', mismatched: 3 },
          { joint: 'gripper', mismatched: 3 },
        ],
      }),
    )[1]!.level,
    'ok',
    'not new',
  );

  // on the bus: WARN for transactions refused in the period
  const plain = snapshot();
  const refused = reporter.reports({
    ...plain,
    bus: { ...plain.bus, counters: { ...plain.bus.counters, mismatched: 2 } },
  });
  assert.equal(refused[0]!.level, 'warn');
  assert.match(refused[0]!.message, /ms, 2 transactions refused \(replies under a wrong id or out of order\)$/);
  assert.equal(refused[0]!.values.mismatched, 2);

  // a position that jumped further than the motor can move: the sample was not published
  const jump = 'position jumped 0.310 rad in 12 ms (at most 0.115 rad possible)';
  const jumped = reporter.reports(
    snapshot({
      counters: { implausible: 1 },
      implausible: [
        { count: 1, last: jump },
        { count: 0, last: undefined },
      ],
    }),
  );
  assert.equal(jumped[0]!.values.implausible_samples, 1);
  assert.deepEqual([jumped[1]!.level, jumped[1]!.message], ['error', `${jump}: samples not published`]);
  assert.equal(jumped[1]!.values.implausible, 1);
  const later = reporter.reports(
    snapshot({
      counters: { implausible: 1 },
      implausible: [
        { count: 1, last: jump },
        { count: 0, last: undefined },
      ],
    }),
  );
  assert.equal(later[1]!.level, 'ok', 'not new');
});

test('arm summary and metrics: the end-of-run line and the launch report figures', () => {
  const s = snapshot({
    cycles: { failed: 3, overruns: 4 },
    counters: { droppedWhileLost: 5, incomplete: 6 },
    faults: [overload],
  });
  assert.equal(
    armSummary(s),
    '250 bus cycles (3 failed, 4 overruns), cycle p50 2.35 ms p99 4.57 ms, 120 commands (1 rejected, 2 values clamped), 0 reconnects',
  );
  assert.deepEqual(armMetrics(s), {
    cycles: 250,
    failed_cycles: 3,
    overruns: 4,
    loop_rate_hz: 99.5,
    cycle_p50_ms: 2.345,
    cycle_p99_ms: 4.5678,
    commands: 120,
    commands_rejected: 1,
    commands_clamped: 2,
    commands_dropped_while_lost: 5,
    incomplete_reads: 6,
    implausible_samples: 0,
    mismatched: 0,
    reconnects: 0,
    losses: 0,
    faults: 1,
  });
});
