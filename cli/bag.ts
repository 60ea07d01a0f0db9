import { parseArgs } from 'node:util';
import { BagReader } from '../framework/bag/bag_reader.js';
import { bagInfoOf, formatBagInfo } from '../framework/bag/bag_info.js';
import { playBag } from '../framework/bag/bag_player.js';
import { repairBag } from '../framework/bag/repair.js';
import type { BagQos } from '../framework/bag/metadata.js';
import { codecFor } from '../framework/msgs/codec.js';
import type { MessageTypeName } from '../framework/msgs/types.js';
import { EmbeddedTransport } from '../framework/transport/embedded/transport.js';
import { QOS_CLOCK_PUBLISHER, QOS_DEFAULT, type QoS } from '../framework/transport/qos.js';
import type { Publisher, Transport } from '../framework/transport/types.js';
import { defineParams } from '../src/util/param_schema.js';
import { createLogger } from '../src/util/log.js';

// `dynastack bag info|play|reindex`: what `ros2 bag info` and `ros2 bag play` do, on rosbag2 MCAP
// bags (ours, or ones `ros2 bag record` wrote), without needing ROS 2 for info and reindex:
//  - info: the bag's files, size, duration, times and topics in ros2 bag info's layout; a bag whose
//    writer was killed is read without its index and says what was recovered;
//  - play: each message published again, at its recorded pace × --rate, in a --loop, for some
//    --topics, with /clock (the bag's time) at --clock Hz; on ROS 2 when it is sourced (or
//    --transport ros2), each topic with the QoS it was recorded with;
//  - reindex: a bag whose writer was killed rewritten whole (chunked, indexed, with its summary).

export const BAG_USAGE = `usage:
  dynastack bag info <bag>
  dynastack bag play <bag> [--rate R] [--loop] [--topics T,…] [--clock HZ] [--transport embedded|ros2]
  dynastack bag reindex <bag>`;

const log = createLogger('bag');

/** A bag's QoS as the transport's, for a publisher (an unknown or best-available field takes the default). */
function publisherQos(offered: readonly BagQos[]): QoS {
  const q = offered[0];
  if (!q) return QOS_DEFAULT;
  return {
    reliability: q.reliability === 'best_effort' ? 'best_effort' : 'reliable',
    durability: q.durability === 'transient_local' ? 'transient_local' : 'volatile',
    history: q.history === 'keep_all' ? 'keep_all' : 'keep_last',
    depth: q.depth > 0 ? q.depth : QOS_DEFAULT.depth,
  };
}

async function info(path: string): Promise<number> {
  const reader = await BagReader.open(path);
  try {
    process.stdout.write(formatBagInfo(bagInfoOf(reader)));
  } finally {
    reader.close();
  }
  return 0;
}

async function play(argv: string[], signal: AbortSignal): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      rate: { type: 'string' },
      loop: { type: 'boolean', default: false },
      topics: { type: 'string' },
      clock: { type: 'string' },
      transport: { type: 'string' },
    },
  });
  const path = positionals[0];
  if (!path) throw new Error(`bag play needs a bag\n${BAG_USAGE}`);
  const rate = values.rate === undefined ? 1 : Number(values.rate);
  const clockHz = values.clock === undefined ? 0 : Number(values.clock);
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`--rate '${values.rate}' must be a positive number`);
  if (!(clockHz >= 0) || !Number.isFinite(clockHz)) throw new Error(`--clock '${values.clock}' must be a rate in Hz`);
  const kind = values.transport ?? (process.env.ROS_DISTRO ? 'ros2' : 'embedded');
  if (kind !== 'embedded' && kind !== 'ros2') throw new Error(`--transport '${kind}' is not one of embedded, ros2`);
  const reader = await BagReader.open(path);
  let transport: Transport | undefined;
  try {
    const wanted = values.topics?.split(',').map((t) => (t.startsWith('/') ? t : `/${t}`));
    for (const t of wanted ?? [])
      if (!reader.topics.some((b) => b.name === t)) throw new Error(`topic ${t} is not in ${path}`);
    if (kind === 'ros2') {
      const { Ros2Transport } = await import('../framework/transport/ros2/transport.js');
      transport = await Ros2Transport.create({ argv: [] });
    } else {
      transport = new EmbeddedTransport();
      log.warn(
        'playing on the embedded transport: nothing outside this process receives it (source ROS 2 to play to a ROS graph)',
      );
    }
    const node = await transport.createNode({ name: 'dynastack_bag_player', parameters: defineParams({}) });
    const publishers = new Map<string, Publisher<unknown>>();
    for (const t of reader.topics) {
      if (wanted && !wanted.includes(t.name)) continue;
      try {
        codecFor(t.type);
      } catch {
        log.warn(`${t.name}: type ${t.type} is not one this package carries; not played`);
        continue;
      }
      publishers.set(t.name, node.createPublisher(t.type as MessageTypeName, t.name, publisherQos(t.offeredQos)));
    }
    const clock =
      clockHz > 0 ? node.createPublisher('rosgraph_msgs/msg/Clock', '/clock', QOS_CLOCK_PUBLISHER) : undefined;
    // DDS discovery: give subscribers a moment to match before the first message, as ros2 bag play's --delay
    if (kind === 'ros2') await new Promise((r) => setTimeout(r, 500));
    log.info(`playing ${path}: ${publishers.size} topics at ×${rate}${values.loop ? ', looping' : ''}`);
    const result = await playBag(reader, {
      rate,
      loop: values.loop,
      ...(wanted ? { topics: [...publishers.keys()] } : {}),
      clockHz,
      signal,
      onMessage: (m) => publishers.get(m.topic)?.publishRaw(m.data),
      onClock: (stamp) => clock?.publish(stamp),
    });
    log.info(`played ${result.messages} messages${result.stopped ? ' (stopped)' : ''}`);
    node.destroy();
  } finally {
    reader.close();
    await transport?.shutdown();
  }
  return 0;
}

async function reindex(path: string): Promise<number> {
  const result = await repairBag(path);
  for (const f of result.files)
    log.info(
      f.rewritten
        ? `${f.file}: rewritten with its index, ${f.messages} messages (${f.truncatedBytes} bytes of a cut-off record dropped)`
        : `${f.file}: whole already, left as it was`,
    );
  if (result.metadataWritten) log.info(`${path}/metadata.yaml written`);
  return 0;
}

export async function bagMain(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(BAG_USAGE + '\n');
    return verb ? 0 : 2;
  }
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    switch (verb) {
      case 'info':
        if (!rest[0]) throw new Error(`bag info needs a bag\n${BAG_USAGE}`);
        return await info(rest[0]);
      case 'play':
        return await play(rest, controller.signal);
      case 'reindex':
        if (!rest[0]) throw new Error(`bag reindex needs a bag\n${BAG_USAGE}`);
        return await reindex(rest[0]);
      default:
        process.stderr.write(`unknown bag command '${verb}'\n${BAG_USAGE}\n`);
        return 2;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}
