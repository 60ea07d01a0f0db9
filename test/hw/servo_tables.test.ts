import { test } from 'node:test';
import assert from 'node:assert/strict';
import { protocolByName, PROTOCOL_NAMES } from '../../hw/protocol/index.js';
import {
  hardwareErrorRegister,
  SERVO_MODELS,
  servoModel,
  servoModelByNumber,
  sts3215,
  xl330M288,
  xl430W250,
  xm430W350,
} from '../../hw/servos/index.js';
import {
  byteOrderOf,
  decodeBlock,
  decodeRegister,
  encodeRegister,
  fromSI,
  hardwareErrorNames,
  representableRange,
  toSI,
  writableRange,
} from '../../hw/servos/registers.js';
import type { Register, RegisterName, ServoModel } from '../../hw/servos/control_table.js';

// The control tables (hw/servos) against the ROBOTIS e-manual's X-series control tables (XL330-M288,
// XL430-W250, XM430-W350) and the STS3215 memory table (Feetech's SCServo SDK sms_sts, as LeRobot's
// motors/feetech/tables.py transcribes it): known addresses, no overlapping registers, EEPROM/RAM
// split, every register's encoding round trip, and the SI factors.

const registersOf = (model: ServoModel): Register[] => Object.values(model.registers);
const close = (actual: number, expected: number, tolerance: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('the four models, by name (any case) and by the model number a servo reports', () => {
  assert.deepEqual(
    SERVO_MODELS.map((m) => [m.name, m.protocol, m.modelNumber]),
    [
      ['XL330-M288', 'dynamixel2', 1200],
      ['XL430-W250', 'dynamixel2', 1060],
      ['XM430-W350', 'dynamixel2', 1020],
      ['STS3215', 'feetech_sts', 777],
    ],
  );
  assert.equal(servoModel('sts3215'), sts3215);
  assert.equal(servoModel('xl430-w250'), xl430W250);
  assert.throws(
    () => servoModel('STS3250'),
    /unknown servo model 'STS3250' \(known: XL330-M288, XL430-W250, XM430-W350, STS3215\)/,
  );
  assert.equal(servoModelByNumber('dynamixel2', 1020), xm430W350);
  assert.equal(servoModelByNumber('feetech_sts', 777), sts3215);
  assert.throws(
    () => servoModelByNumber('feetech_scs', 777),
    /no control table for model number 777 on a feetech_scs bus \(known: .*STS3215 = 777 \(feetech_sts\)/,
  );
  for (const model of SERVO_MODELS) assert.equal(model.registers.model_number!.initial, model.modelNumber, model.name);
});

// (model, register, address, size) as the e-manual and the STS memory table list them
const KNOWN: readonly [ServoModel, RegisterName, number, number][] = [
  ...[xl330M288, xl430W250, xm430W350].flatMap((m): [ServoModel, RegisterName, number, number][] => [
    [m, 'model_number', 0, 2],
    [m, 'baud_rate', 8, 1],
    [m, 'return_delay_time', 9, 1],
    [m, 'drive_mode', 10, 1],
    [m, 'operating_mode', 11, 1],
    [m, 'homing_offset', 20, 4],
    [m, 'shutdown', 63, 1],
    [m, 'torque_enable', 64, 1],
    [m, 'led', 65, 1],
    [m, 'status_return_level', 68, 1],
    [m, 'registered_instruction', 69, 1],
    [m, 'hardware_error_status', 70, 1],
    [m, 'bus_watchdog', 98, 1],
    [m, 'goal_velocity', 104, 4],
    [m, 'profile_acceleration', 108, 4],
    [m, 'profile_velocity', 112, 4],
    [m, 'goal_position', 116, 4],
    [m, 'present_velocity', 128, 4],
    [m, 'present_position', 132, 4],
    [m, 'present_voltage', 144, 2],
    [m, 'present_temperature', 146, 1],
  ]),
  ...[xl330M288, xm430W350].flatMap((m): [ServoModel, RegisterName, number, number][] => [
    [m, 'current_limit', 38, 2],
    [m, 'goal_current', 102, 2],
    [m, 'present_current', 126, 2],
  ]),
  [xl430W250, 'present_load', 126, 2],
  [sts3215, 'firmware_version', 0, 1],
  [sts3215, 'firmware_minor_version', 1, 1],
  [sts3215, 'model_number', 3, 2],
  [sts3215, 'id', 5, 1],
  [sts3215, 'baud_rate', 6, 1],
  [sts3215, 'return_delay_time', 7, 1],
  [sts3215, 'status_return_level', 8, 1],
  [sts3215, 'min_position_limit', 9, 2],
  [sts3215, 'max_position_limit', 11, 2],
  [sts3215, 'max_temperature_limit', 13, 1],
  [sts3215, 'max_torque_limit', 16, 2],
  [sts3215, 'phase', 18, 1],
  [sts3215, 'current_limit', 28, 2],
  [sts3215, 'homing_offset', 31, 2],
  [sts3215, 'operating_mode', 33, 1],
  [sts3215, 'torque_enable', 40, 1],
  [sts3215, 'acceleration', 41, 1],
  [sts3215, 'goal_position', 42, 2],
  [sts3215, 'goal_time', 44, 2],
  [sts3215, 'goal_velocity', 46, 2],
  [sts3215, 'torque_limit', 48, 2],
  [sts3215, 'lock', 55, 1],
  [sts3215, 'present_position', 56, 2],
  [sts3215, 'present_velocity', 58, 2],
  [sts3215, 'present_load', 60, 2],
  [sts3215, 'present_voltage', 62, 1],
  [sts3215, 'present_temperature', 63, 1],
  [sts3215, 'status', 65, 1],
  [sts3215, 'moving', 66, 1],
  [sts3215, 'present_current', 69, 2],
];

test("known addresses and sizes from the vendors' control tables", () => {
  for (const [model, name, address, size] of KNOWN) {
    const r = model.registers[name];
    assert.ok(r, `${model.name} has ${name}`);
    assert.deepEqual([r.address, r.size], [address, size], `${model.name} ${name}`);
    assert.equal(r.name, name, `${model.name} ${name} is filed under its own name`);
  }
  // the XL430 senses no current: Present Load in its place, no current limit or goal
  for (const name of ['current_limit', 'goal_current', 'present_current'] as const)
    assert.equal(xl430W250.registers[name], undefined, name);
  assert.equal(xm430W350.registers.present_load, undefined);
});

test('no two registers of a model overlap, and every one lies inside the table', () => {
  for (const model of SERVO_MODELS) {
    const sorted = registersOf(model).sort((a, b) => a.address - b.address);
    for (let i = 1; i < sorted.length; i++) {
      const [prev, next] = [sorted[i - 1]!, sorted[i]!];
      assert.ok(
        prev.address + prev.size <= next.address,
        `${model.name}: ${prev.name} (${prev.address}, ${prev.size} B) overlaps ${next.name} (${next.address})`,
      );
    }
    const last = sorted[sorted.length - 1]!;
    assert.ok(
      last.address + last.size <= model.tableSize,
      `${model.name}: ${last.name} ends past the ${model.tableSize}-byte table`,
    );
  }
});

test('EEPROM is below address 64 on the X series and below 40 on the STS3215', () => {
  for (const [models, eepromEnd] of [
    [[xl330M288, xl430W250, xm430W350], 64],
    [[sts3215], 40],
  ] as const) {
    for (const model of models) {
      for (const r of registersOf(model))
        assert.equal(r.memory, r.address < eepromEnd ? 'eeprom' : 'ram', `${model.name} ${r.name} at ${r.address}`);
    }
  }
  // the ones calibration and the driver depend on
  for (const model of SERVO_MODELS) {
    for (const name of [
      'id',
      'baud_rate',
      'operating_mode',
      'homing_offset',
      'min_position_limit',
      'max_position_limit',
    ] as const)
      assert.equal(model.registers[name]!.memory, 'eeprom', `${model.name} ${name}`);
    for (const name of ['torque_enable', 'goal_position', 'present_position'] as const)
      assert.equal(model.registers[name]!.memory, 'ram', `${model.name} ${name}`);
  }
  assert.equal(sts3215.registers.lock!.memory, 'ram');
  assert.equal(sts3215.registers.lock!.initial, 1);
});

test('status replies, LED and the firmware a real servo reports: the factory values of the vendor tables', () => {
  for (const model of [xl330M288, xl430W250, xm430W350]) {
    // X-series control table: Status Return Level(68) 0–2, factory 2 (every instruction answered);
    // Registered Instruction(69) 0 until a REG_WRITE waits; LED(65) 0 off, 1 on
    const level = model.registers.status_return_level!;
    assert.deepEqual([level.range, level.initial, level.memory], [[0, 2], 2, 'ram'], model.name);
    assert.equal(model.registers.registered_instruction!.initial, 0, model.name);
    assert.deepEqual(model.registers.led!.range, [0, 1], model.name);
    assert.equal(model.registers.led!.initial, 0, model.name);
  }
  // STS memory table: Response Status Level(8) 0–1, factory 1 (reply to every instruction), EEPROM;
  // firmware 3.10 (major at 0, minor at 1), what SO-101 STS3215 servos report to LeRobot
  const response = sts3215.registers.status_return_level!;
  assert.deepEqual([response.range, response.initial, response.memory], [[0, 1], 1, 'eeprom']);
  assert.deepEqual(
    [sts3215.registers.firmware_version!.initial, sts3215.registers.firmware_minor_version!.initial],
    [3, 10],
  );
});

test('read-only registers are the present values, model, firmware and error registers', () => {
  for (const model of SERVO_MODELS) {
    for (const r of registersOf(model)) {
      const readOnly =
        r.name.startsWith('present_') ||
        [
          'model_number',
          'firmware_version',
          'firmware_minor_version',
          'registered_instruction',
          'hardware_error_status',
          'status',
          'moving',
        ].includes(r.name);
      assert.equal(r.access, readOnly ? 'r' : 'rw', `${model.name} ${r.name}`);
      if (r.access === 'r')
        assert.equal(r.range, undefined, `${model.name} ${r.name}: a write range on a read-only register`);
    }
  }
});

/** Values to round-trip: every one for 1- and 2-byte registers, a spread for 4-byte ones. */
function valuesOf(r: Register): number[] {
  const [lo, hi] = writableRange(r);
  if (hi - lo <= 0x10000) return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const out = [lo, lo + 1, -1, 0, 1, hi - 1, hi].filter((v) => v >= lo && v <= hi);
  for (let i = 0; i < 2000; i++) out.push(Math.round(lo + ((hi - lo) * i) / 1999));
  return out;
}

test('every register of every model: encode → decode is exact over its writable range, and a value outside is refused', () => {
  for (const model of SERVO_MODELS) {
    for (const r of registersOf(model)) {
      for (const v of valuesOf(r)) {
        const bytes = encodeRegister(model, r.name, v);
        assert.equal(bytes.length, r.size);
        const back = decodeRegister(model, r.name, bytes);
        if (back !== v) assert.fail(`${model.name} ${r.name}: ${v} → [${[...bytes].join(',')}] → ${back}`);
      }
      const [lo, hi] = writableRange(r);
      assert.throws(() => encodeRegister(model, r.name, lo - 1), RangeError, `${model.name} ${r.name} below ${lo}`);
      assert.throws(() => encodeRegister(model, r.name, hi + 1), RangeError, `${model.name} ${r.name} above ${hi}`);
      assert.throws(() => encodeRegister(model, r.name, lo + 0.5), /not an integer/);
      assert.throws(
        () => decodeRegister(model, r.name, new Uint8Array(r.size + 1)),
        new RegExp(`expected ${r.size} byte`),
      );
    }
  }
});

test("encodings: two's complement on Dynamixel, sign-magnitude with the STS3215 sign bits, byte order from the protocol", () => {
  assert.deepEqual(encodeRegister(xl430W250, 'goal_position', -1), Uint8Array.of(0xff, 0xff, 0xff, 0xff));
  assert.deepEqual(encodeRegister(xl430W250, 'goal_position', 512), Uint8Array.of(0x00, 0x02, 0x00, 0x00)); // e-manual WRITE example
  assert.equal(decodeRegister(xl430W250, 'present_position', Uint8Array.of(0x1f, 0x08, 0x00, 0x00)), 2079);
  assert.equal(decodeRegister(xl430W250, 'present_load', Uint8Array.of(0x18, 0xfc)), -1000);
  assert.equal(decodeRegister(xl330M288, 'bus_watchdog', Uint8Array.of(0xff)), -1); // after the watchdog fired
  const signBits = Object.fromEntries(
    registersOf(sts3215)
      .filter((r) => r.encoding.kind === 'sign_magnitude')
      .map((r) => [r.name, r.encoding.kind === 'sign_magnitude' ? r.encoding.signBit : -1]),
  );
  assert.deepEqual(signBits, {
    homing_offset: 11,
    goal_position: 15,
    goal_velocity: 15,
    present_position: 15,
    present_velocity: 15,
    present_load: 10,
  });
  assert.deepEqual(representableRange(sts3215.registers.present_load!), [-1023, 1023]);
  // bits above the sign bit are ignored, as LeRobot does
  assert.equal(decodeRegister(sts3215, 'present_load', Uint8Array.of(0x64, 0x0c)), -100);
  // the tables' byte order agrees with what each protocol declares
  for (const name of PROTOCOL_NAMES) assert.equal(byteOrderOf(name), protocolByName(name).byteOrder, name);
  assert.equal(byteOrderOf('feetech_scs'), 'big');
  assert.throws(
    () => encodeRegister(xl430W250, 'goal_current', 0),
    /XL430-W250 has no register 'goal_current' \(it has: model_number/,
  );
});

test('SI: pulses and steps in rad, 0.229 rpm and steps/s in rad/s, currents in A, load, volts', () => {
  for (const model of SERVO_MODELS) {
    close(toSI(model, 'present_position', 2048), Math.PI, 1e-12, `${model.name} 2048 pulses`);
    close(toSI(model, 'present_position', model.resolution), 2 * Math.PI, 1e-12, `${model.name} one turn`);
    close(toSI(model, 'present_voltage', 121), 12.1, 1e-12, `${model.name} voltage`);
    assert.equal(toSI(model, 'present_temperature', 35), 35);
    assert.equal(model.registers.present_velocity!.unit.quantity, 'angular_velocity');
  }
  for (const model of [xl330M288, xl430W250, xm430W350]) {
    close(toSI(model, 'present_velocity', 1), 0.0239808, 1e-7, `${model.name} 0.229 rpm`);
    close(toSI(model, 'goal_velocity', -1000), (-229 * 2 * Math.PI) / 60, 1e-9, `${model.name} 229 rpm`);
    close(toSI(model, 'return_delay_time', 250), 500e-6, 1e-15, `${model.name} return delay`);
    close(
      toSI(model, 'profile_acceleration', 1),
      (214.577 * 2 * Math.PI) / 3600,
      1e-12,
      `${model.name} profile acceleration`,
    );
  }
  close(toSI(xm430W350, 'present_current', 100), 0.269, 1e-12, 'XM430 current');
  close(toSI(xm430W350, 'goal_current', -1193), -3.20917, 1e-9, 'XM430 goal current');
  close(toSI(xl330M288, 'present_current', 100), 0.1, 1e-12, 'XL330 current');
  close(toSI(xl430W250, 'present_load', 1000), 1, 1e-12, 'XL430 load');
  close(toSI(sts3215, 'present_velocity', 3400), (3400 * 2 * Math.PI) / 4096, 1e-12, 'STS3215 3400 steps/s');
  close(toSI(sts3215, 'present_velocity', 1), 0.0146 * ((2 * Math.PI) / 60), 1e-5, 'STS3215 0.0146 rpm');
  close(toSI(sts3215, 'present_current', 100), 0.65, 1e-12, 'STS3215 current');
  close(toSI(sts3215, 'present_load', -500), -0.5, 1e-12, 'STS3215 load');
  close(toSI(sts3215, 'acceleration', 50), (50 * 100 * 2 * Math.PI) / 4096, 1e-12, 'STS3215 acceleration');
});

test('SI → raw rounds to the nearest unit, inverts toSI exactly, and is checked as a write', () => {
  for (const model of SERVO_MODELS) {
    for (const r of registersOf(model)) {
      const [lo, hi] = writableRange(r);
      for (const raw of [lo, hi, Math.floor((lo + hi) / 2)])
        assert.equal(fromSI(model, r.name, toSI(model, r.name, raw)), raw, `${model.name} ${r.name} ${raw}`);
    }
  }
  assert.equal(fromSI(sts3215, 'goal_position', Math.PI), 2048);
  assert.equal(fromSI(sts3215, 'goal_position', Math.PI + 0.0007), 2048);
  assert.equal(fromSI(xl330M288, 'goal_current', 0.0994), 99);
  assert.ok(Object.is(fromSI(sts3215, 'goal_velocity', -0.0001), 0));
  assert.throws(
    () => fromSI(sts3215, 'goal_position', 100),
    /STS3215 goal_position: 100 rad \(65190 × 1 step \(0.088°\)\) does not fit its 2-byte sign magnitude encoding \[-32767, 32767\]/,
  );
  assert.throws(
    () => fromSI(sts3215, 'max_position_limit', 7),
    /STS3215 max_position_limit: 7 rad \(4563 × 1 step \(0.088°\)\) is outside its documented range \[0, 4095\]/,
  );
  assert.throws(
    () => fromSI(xm430W350, 'goal_current', 4),
    /goal_current: 4 A .* outside its documented range \[-1193, 1193\]/,
  );
  assert.throws(() => fromSI(sts3215, 'present_voltage', 30), /does not fit its 1-byte unsigned encoding/);
  assert.throws(() => fromSI(sts3215, 'goal_position', Number.NaN), /not a finite number/);
});

test('a sync read block decodes into the registers it covers', () => {
  // X series: 10 bytes from 126 = current/load, velocity, position
  const block = new Uint8Array(10);
  block.set(encodeRegister(xm430W350, 'present_current', -50), 0);
  block.set(encodeRegister(xm430W350, 'goal_velocity', -3), 2);
  block.set(encodeRegister(xm430W350, 'goal_position', 2079), 6);
  assert.deepEqual(decodeBlock(xm430W350, 126, block), {
    present_current: -50,
    present_velocity: -3,
    present_position: 2079,
  });
  assert.deepEqual(Object.keys(decodeBlock(xl430W250, 126, block)).sort(), [
    'present_load',
    'present_position',
    'present_velocity',
  ]);
  // a register cut by the block's end is left out
  assert.deepEqual(decodeBlock(sts3215, 56, Uint8Array.of(0x00, 0x08, 0x05)), { present_position: 2048 });
});

test('hardware error bits, baud tables and operating modes', () => {
  assert.deepEqual(hardwareErrorNames(xl430W250, 0x24), ['overheating', 'overload']);
  assert.deepEqual(hardwareErrorNames(xm430W350, 0x19), ['input_voltage', 'motor_encoder', 'electrical_shock']);
  assert.deepEqual(hardwareErrorNames(sts3215, 0x21), ['voltage', 'overload']);
  assert.deepEqual(hardwareErrorNames(sts3215, 0x42), ['angle_sensor', 'undefined_bit_6']);
  assert.equal(hardwareErrorRegister(xl330M288).address, 70);
  assert.equal(hardwareErrorRegister(sts3215).address, 65);
  // Feetech's own baud table, not LeRobot's (which has 57600 at 5 and 38400 at 6)
  assert.deepEqual(
    [...sts3215.baudRates],
    [
      [0, 1_000_000],
      [1, 500_000],
      [2, 250_000],
      [3, 128_000],
      [4, 115_200],
      [5, 76_800],
      [6, 57_600],
      [7, 38_400],
    ],
  );
  assert.equal(xl330M288.baudRates.get(6), 4_000_000);
  assert.equal(xl330M288.baudRates.has(7), false);
  assert.equal(xm430W350.baudRates.get(7), 4_500_000);
  for (const model of SERVO_MODELS) {
    const [, maxIndex] = writableRange(model.registers.baud_rate!);
    assert.deepEqual(
      [...model.baudRates.keys()],
      Array.from({ length: maxIndex + 1 }, (_, i) => i),
      `${model.name}: one rate per register value`,
    );
  }
  assert.deepEqual(xl430W250.operatingModes, { velocity: 1, position: 3, extended_position: 4, pwm: 16 });
  assert.equal(xm430W350.operatingModes.current_based_position, 5);
  assert.deepEqual(sts3215.operatingModes, { position: 0, velocity: 1, pwm: 2, step: 3 });
  for (const model of SERVO_MODELS) {
    assert.equal(
      model.registers.operating_mode!.initial,
      model.operatingModes.position,
      `${model.name} starts in position mode`,
    );
    assert.equal(model.centerPosition, 2047, `${model.name}: LeRobot's half-turn homing reads 2047`);
  }
});
