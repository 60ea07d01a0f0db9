import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codecFor } from '../../../framework/msgs/codec.js';
import { definitionText } from '../../../framework/msgs/definitions.js';
import type { JointState } from '../../../framework/msgs/types.js';

// An independent little-endian XCDR1 writer, laid out by hand from the ROS 2 rules: 4-byte
// encapsulation header (00 01 00 00), then fields aligned to their size relative to the end of
// the header; strings are u32 length (with NUL) + bytes + NUL; sequences are u32 count + items.
class HandCdr {
  bytes: number[] = [0x00, 0x01, 0x00, 0x00];
  align(n: number): this {
    while ((this.bytes.length - 4) % n) this.bytes.push(0);
    return this;
  }
  u32(v: number): this {
    this.align(4);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.bytes.push(...b);
    return this;
  }
  i32(v: number): this {
    this.align(4);
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.bytes.push(...b);
    return this;
  }
  f64(v: number): this {
    this.align(8);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(v);
    this.bytes.push(...b);
    return this;
  }
  str(s: string): this {
    this.u32(s.length + 1);
    this.bytes.push(...Buffer.from(s, 'utf8'), 0);
    return this;
  }
  u8(v: number): this {
    this.bytes.push(v);
    return this;
  }
  f64seq(xs: number[]): this {
    this.u32(xs.length);
    for (const x of xs) this.f64(x);
    return this;
  }
  done(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

// a JointState whose ROS 2 CDR encoding is 216 bytes: what @foxglove/rosmsg2-serialization's
// MessageWriter produced for it (measured here), and what counting the CDR layout by hand gives
// (8-byte values aligned relative to the end of the 4-byte encapsulation header)
const jointState: JointState = {
  header: { stamp: { sec: 1700000000, nanosec: 123456789 }, frame_id: 'base_link' },
  name: ['joint_1', 'joint_2', 'joint_3', 'joint_4', 'joint_5', 'joint_6'],
  position: [0.1, -0.2, 0.3, -0.4, 0.5, -0.6],
  velocity: [0, 0, 0, 0, 0, 0],
  effort: [],
};

test('JointState encodes to the ROS 2 CDR bytes, laid out by hand', () => {
  const expected = new HandCdr().i32(1700000000).u32(123456789).str('base_link');
  expected.u32(6);
  for (const n of jointState.name) expected.str(n);
  expected
    .f64seq([...jointState.position])
    .f64seq([...jointState.velocity])
    .f64seq([]);
  const bytes = codecFor('sensor_msgs/msg/JointState').encode(jointState);
  assert.equal(bytes.length, 216);
  assert.deepEqual([...bytes], [...expected.done()]);
  // the prefix computed by hand: encapsulation header (CDR, little-endian), sec, nanosec, and the
  // frame_id's length 10 (9 characters and the NUL)
  assert.equal(Buffer.from(bytes.subarray(0, 16)).toString('hex'), '0001000000f1536515cd5b070a000000');
});

test('JointState round-trips; float64[] decode as Float64Array', () => {
  const codec = codecFor('sensor_msgs/msg/JointState');
  const back = codec.decode(codec.encode(jointState));
  assert.ok(back.position instanceof Float64Array);
  assert.deepEqual([...back.position], jointState.position);
  assert.deepEqual(back.name, jointState.name);
  assert.deepEqual(back.header, jointState.header);
});

test('Float64MultiArray, Clock, Empty, Bool and String match their hand layouts', () => {
  const f = codecFor('std_msgs/msg/Float64MultiArray').encode({
    layout: { dim: [{ label: 'joints', size: 2, stride: 2 }], data_offset: 0 },
    data: [1.5, -2.5],
  });
  assert.deepEqual([...f], [...new HandCdr().u32(1).str('joints').u32(2).u32(2).u32(0).f64seq([1.5, -2.5]).done()]);
  assert.equal(f.length, 52);

  const c = codecFor('rosgraph_msgs/msg/Clock').encode({ clock: { sec: 12, nanosec: 500_000_000 } });
  assert.deepEqual([...c], [...new HandCdr().i32(12).u32(500_000_000).done()]);
  assert.equal(c.length, 12);

  // rosidl gives an empty struct one uint8 member, so std_msgs/Empty is 5 bytes on the wire
  assert.deepEqual([...codecFor('std_msgs/msg/Empty').encode({})], [0, 1, 0, 0, 0]);
  assert.deepEqual([...codecFor('std_msgs/msg/Bool').encode({ data: true })], [0, 1, 0, 0, 1]);
  assert.deepEqual([...codecFor('std_msgs/msg/String').encode({ data: 'hi' })], [...new HandCdr().str('hi').done()]);
});

test('DiagnosticArray and PoseStamped round-trip', () => {
  const diag = {
    header: { stamp: { sec: 1, nanosec: 2 }, frame_id: '' },
    status: [
      {
        level: 2,
        name: 'controller',
        message: 'deadline missed',
        hardware_id: 'arm',
        values: [{ key: 'misses', value: '3' }],
      },
    ],
  };
  const dc = codecFor('diagnostic_msgs/msg/DiagnosticArray');
  assert.deepEqual(dc.decode(dc.encode(diag)), diag);
  const pose = {
    header: { stamp: { sec: 3, nanosec: 4 }, frame_id: 'world' },
    pose: { position: { x: 1, y: 2, z: 3 }, orientation: { x: 0, y: 0, z: 0, w: 1 } },
  };
  const pc = codecFor('geometry_msgs/msg/PoseStamped');
  assert.deepEqual(pc.decode(pc.encode(pose)), pose);
});

test("dynastack_msgs come from the repo's .msg files and round-trip", () => {
  assert.match(definitionText('dynastack_msgs/msg/ModelBlob'), /uint8\[\] data/);
  assert.match(definitionText('dynastack_msgs/msg/JointStateEstimate'), /MSG: sensor_msgs\/JointState/);
  const blob = {
    header: { stamp: { sec: 5, nanosec: 6 }, frame_id: '' },
    kind: 'dynamics_ensemble',
    version: 7,
    format: 'tfjs',
    metadata_json: '{"members":7}',
    data: new Uint8Array([1, 2, 3, 250]),
  };
  const bc = codecFor('dynastack_msgs/msg/ModelBlob');
  assert.deepEqual(bc.decode(bc.encode(blob)), blob);
  const tr = {
    header: { stamp: { sec: 0, nanosec: 0 }, frame_id: '' },
    episode: 2,
    step: 9,
    state: [1, 2],
    action: [0.5],
    next_state: [1.1, 2.1],
    reward: -0.25,
    terminated: false,
    truncated: true,
  };
  const tc = codecFor('dynastack_msgs/msg/Transition');
  const back = tc.decode(tc.encode(tr));
  assert.deepEqual({ ...back, state: [...back.state], action: [...back.action], next_state: [...back.next_state] }, tr);
});

test('bad input gets a message naming the type', () => {
  assert.throws(
    () => codecFor('sensor_msgs/msg/NoSuchThing'),
    /no definition for message type 'sensor_msgs\/NoSuchThing'/,
  );
  assert.throws(
    () => codecFor('sensor_msgs/msg/JointState').decode(new Uint8Array([0, 1, 0, 0, 5])),
    /cannot decode sensor_msgs\/msg\/JointState from 5 bytes/,
  );
  assert.throws(() => codecFor('sensor_msgs/msg/JointState').decode(new Uint8Array(2)), /shorter than the CDR header/);
  assert.throws(
    () => codecFor('std_msgs/msg/String').encode({ data: 42 } as never),
    /cannot encode std_msgs\/msg\/String/,
  );
});

test('encode checks every field: missing, unknown, wrong type, out of range', () => {
  const js = codecFor('sensor_msgs/msg/JointState');
  const ok = {
    header: { stamp: { sec: 1, nanosec: 2 }, frame_id: '' },
    name: ['a'],
    position: [1],
    velocity: new Float64Array(1),
    effort: [],
  };
  assert.equal(js.encode(ok).length > 0, true);
  assert.throws(
    () => js.encode({ ...ok, header: undefined } as never),
    /cannot encode sensor_msgs\/msg\/JointState: header: missing/,
  );
  assert.throws(() => js.encode({ ...ok, positon: [1] } as never), /positon: unknown field of sensor_msgs\/JointState/);
  assert.throws(() => js.encode({ ...ok, name: 'a' } as never), /name: expected an array of string, got string "a"/);
  assert.throws(
    () => js.encode({ ...ok, position: ['x'] } as never),
    /position\[0\]: expected float64, got string "x"/,
  );
  assert.throws(
    () => js.encode({ ...ok, header: { stamp: { sec: 1.5, nanosec: 0 }, frame_id: '' } }),
    /header\.stamp\.sec: expected int32, got number 1.5/,
  );
  const diag = codecFor('diagnostic_msgs/msg/DiagnosticArray');
  assert.throws(
    () =>
      diag.encode({ header: ok.header, status: [{ level: 300, name: '', message: '', hardware_id: '', values: [] }] }),
    /status\[0\]\.level: expected uint8, got number 300/,
  );
  // NaN is a valid float64 on the wire: keeping it off robot commands is the safety layer's job
  assert.equal(js.encode({ ...ok, position: [Number.NaN] }).length > 0, true);
});
