import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBagInfo, formatDuration, formatSize, type BagInfo } from '../../../framework/bag/bag_info.js';
import { metadataYaml, parseMetadataYaml } from '../../../framework/bag/metadata.js';
import { typeHashOf } from '../../../framework/bag/type_hash.js';
import { bagDefinitionText } from '../../../framework/msgs/schema_codec.js';

// metadata.yaml and the info text against what ROS 2 Jazzy itself wrote and printed for a bag
// recorded here with `ros2 bag record -s mcap -o real /js /chatter` (JointState and String from
// `ros2 topic pub`): parsed and written again, metadata.yaml comes out byte for byte, and the same
// figures print as `ros2 bag info real` printed them (times in UTC: the test sets TZ).

process.env.TZ = 'UTC';

/** rosbag2's metadata.yaml, as written (no final newline) */
const ROSBAG2_METADATA = [
  'rosbag2_bagfile_information:\n',
  '  version: 9\n',
  '  storage_identifier: mcap\n',
  '  duration:\n',
  '    nanoseconds: 3490966914\n',
  '  starting_time:\n',
  '    nanoseconds_since_epoch: 1796677742022153267\n',
  '  message_count: 245\n',
  '  topics_with_message_count:\n',
  '    - topic_metadata:\n',
  '        name: /js\n',
  '        type: sensor_msgs/msg/JointState\n',
  '        serialization_format: cdr\n',
  '        offered_qos_profiles:\n',
  '          - history: keep_last\n',
  '            depth: 10\n',
  '            reliability: reliable\n',
  '            durability: volatile\n',
  '            deadline:\n',
  '              sec: 9223372036\n',
  '              nsec: 854775807\n',
  '            lifespan:\n',
  '              sec: 9223372036\n',
  '              nsec: 854775807\n',
  '            liveliness: automatic\n',
  '            liveliness_lease_duration:\n',
  '              sec: 9223372036\n',
  '              nsec: 854775807\n',
  '            avoid_ros_namespace_conventions: false\n',
  '        type_description_hash: RIHS01_a13ee3a330e346c9d87b5aa18d24e11690752bd33a0350f11c5882bc9179260e\n',
  '      message_count: 175\n',
  '    - topic_metadata:\n',
  '        name: /chatter\n',
  '        type: std_msgs/msg/String\n',
  '        serialization_format: cdr\n',
  '        offered_qos_profiles:\n',
  '          - history: keep_last\n',
  '            depth: 10\n',
  '            reliability: reliable\n',
  '            durability: volatile\n',
  '            deadline:\n',
  '              sec: 9223372036\n',
  '              nsec: 854775807\n',
  '            lifespan:\n',
  '              sec: 9223372036\n',
  '              nsec: 854775807\n',
  '            liveliness: automatic\n',
  '            liveliness_lease_duration:\n',
  '              sec: 9223372036\n',
  '              nsec: 854775807\n',
  '            avoid_ros_namespace_conventions: false\n',
  '        type_description_hash: RIHS01_df668c740482bbd48fb39d76a70dfd4bd59db1288021743503259e948f6b1a18\n',
  '      message_count: 70\n',
  '  compression_format: ""\n',
  '  compression_mode: ""\n',
  '  relative_file_paths:\n',
  '    - real_0.mcap\n',
  '  files:\n',
  '    - path: real_0.mcap\n',
  '      starting_time:\n',
  '        nanoseconds_since_epoch: 1796677742022153267\n',
  '      duration:\n',
  '        nanoseconds: 3490966914\n',
  '      message_count: 245\n',
  '  custom_data: ~\n',
  '  ros_distro: jazzy',
].join('');

/** `ros2 bag info real` on that bag (TZ=UTC) */
const ROS2_BAG_INFO = [
  'Files:             real_0.mcap\n',
  'Bag size:          34.8 KiB\n',
  'Storage id:        mcap\n',
  'ROS Distro:        jazzy\n',
  'Duration:          3.490966914s\n',
  'Start:             Dec  7 2026 21:09:02.022153267 (1796677742.022153267)\n',
  'End:               Dec  7 2026 21:09:05.513120181 (1796677745.513120181)\n',
  'Messages:          245\n',
  'Topic information: Topic: /js | Type: sensor_msgs/msg/JointState | Count: 175 | Serialization Format: cdr\n',
  '                   Topic: /chatter | Type: std_msgs/msg/String | Count: 70 | Serialization Format: cdr\n',
  'Service:           0\n',
  'Service information: \n',
].join('');

test('metadata.yaml: rosbag2 (Jazzy) file parsed and written again is byte for byte the same', () => {
  const parsed = parseMetadataYaml(ROSBAG2_METADATA);
  assert.equal(parsed.version, 9);
  assert.equal(parsed.messageCount, 245);
  assert.equal(parsed.topics[0]!.topic.typeDescriptionHash.slice(0, 7), 'RIHS01_');
  assert.equal(parsed.topics[1]!.messageCount, 70);
  assert.equal(parsed.topics[0]!.topic.offeredQos[0]!.deadline.sec, 9223372036);
  assert.equal(metadataYaml(parsed), ROSBAG2_METADATA);
});

test('type hash: RIHS01 of our schema texts is the hash rosbag2 recorded for the type', () => {
  const parsed = parseMetadataYaml(ROSBAG2_METADATA);
  for (const { topic } of parsed.topics)
    assert.equal(typeHashOf(topic.type, bagDefinitionText(topic.type)), topic.typeDescriptionHash);
  // a text that lacks a type it names cannot be hashed
  assert.throws(
    () => typeHashOf('a/msg/B', 'c/D field\n'),
    /cannot hash a\/msg\/B: its schema has no definition of c\/msg\/D/,
  );
});

test('info: the figures of that bag print as ros2 bag info printed them', () => {
  const info: BagInfo = {
    path: '/tmp/real',
    files: ['real_0.mcap'],
    bytes: 33656 + 2009,
    storageId: 'mcap',
    rosDistro: 'jazzy',
    startNs: 1796677742022153267n,
    endNs: 1796677745513120181n,
    durationNs: 3490966914n,
    messageCount: 245,
    topics: [
      { name: '/js', type: 'sensor_msgs/msg/JointState', count: 175, serializationFormat: 'cdr' },
      { name: '/chatter', type: 'std_msgs/msg/String', count: 70, serializationFormat: 'cdr' },
    ],
    recovery: [],
  };
  assert.equal(formatBagInfo(info), ROS2_BAG_INFO);
  assert.equal(formatSize(1023), '1023 B');
  assert.equal(formatSize(5 * 1024 * 1024 + 1), '5.0 MiB');
  assert.equal(formatDuration(2_000_000_000n), '2.000000000s');
});
