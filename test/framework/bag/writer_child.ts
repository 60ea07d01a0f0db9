import { BagWriter } from '../../../framework/bag/bag_writer.js';
import { codecFor } from '../../../framework/msgs/codec.js';

// Run by crash.test.ts and killed with SIGKILL while it records: writes a JointState every 2 ms of
// wall time into the bag it is given (default chunking: 786432 bytes or 1 s), its log time the wall
// time, position[0] its index, and prints `wrote <index> <logTimeNs>` after each write, so the test
// knows what the bag should hold.

const path = process.argv[2]!;
const codec = codecFor('sensor_msgs/msg/JointState');
const writer = await BagWriter.open(path, { diskSpace: { minFreeBytes: 0, minFreeFraction: 0 } });
const epoch = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  const now = epoch + process.hrtime.bigint();
  const stamp = { sec: Number(now / 1_000_000_000n), nanosec: Number(now % 1_000_000_000n) };
  const cdr = codec.encode({
    header: { stamp, frame_id: 'base' },
    name: ['j0', 'j1', 'j2', 'j3', 'j4', 'j5'],
    position: [i, 0, 0, 0, 0, 0],
    velocity: [0, 0, 0, 0, 0, 0],
    effort: [0, 0, 0, 0, 0, 0],
  });
  writer.write('/joint_states', 'sensor_msgs/msg/JointState', now, cdr);
  process.stdout.write(`wrote ${i} ${now}\n`);
  await new Promise((resolve) => setTimeout(resolve, 2));
}
