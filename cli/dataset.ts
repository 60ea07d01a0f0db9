import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { BagReader } from '../framework/bag/bag_reader.js';
import { recordedStreams } from '../framework/bag/recorded_streams.js';
import { cutEpisodes } from '../src/data/lerobot/episodes.js';
import { resampleEpisode } from '../src/data/lerobot/resample.js';
import { writeLeRobotDataset } from '../src/data/lerobot/writer.js';
import type { LeRobotEpisodeInput } from '../src/data/lerobot/writer.js';
import { createLogger } from '../src/util/log.js';

// `dynastack dataset export <bag…> --format lerobot <dir>`: recorded sessions (rosbag2 bags the
// recorder wrote, or any with a JointState topic and a command topic) as one LeRobot v3.0 dataset:
// each bag's streams read (framework/bag/recorded_streams.ts), cut into its kept episodes by the
// recorded episode events (a take discarded or re-recorded is left out), each episode resampled
// from its stamps onto the dataset's frame grid (zero-order hold: the state and the command in
// force at each frame), and the whole written atomically (src/data/lerobot/writer.ts). A bag with
// no episode events is one episode.

export const DATASET_USAGE = `usage:
  dynastack dataset export <bag> [<bag> …] --format lerobot --out <dir> [--fps N] [--robot-type NAME] [--task TEXT]
      [--state-topic T] [--joints A,B,…] [--positions-only] [--action-topic T] [--action-names A,B,…] [--overwrite]`;

const log = createLogger('dataset');

async function exportDataset(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'lerobot' },
      out: { type: 'string', short: 'o' },
      fps: { type: 'string', default: '30' },
      'robot-type': { type: 'string' },
      task: { type: 'string', default: '' },
      'state-topic': { type: 'string' },
      joints: { type: 'string' },
      'positions-only': { type: 'boolean', default: false },
      'action-topic': { type: 'string' },
      'action-names': { type: 'string' },
      overwrite: { type: 'boolean', default: false },
    },
  });
  if (values.format !== 'lerobot') throw new Error(`--format '${values.format}': only lerobot is written`);
  // `export <bag…> --format lerobot <dir>`: the last positional is the dataset when --out is not given
  const bags = [...positionals];
  const out = values.out ?? (bags.length > 1 ? bags.pop() : undefined);
  if (!out || bags.length === 0) throw new Error(`dataset export needs bags and a dataset folder\n${DATASET_USAGE}`);
  const fps = Number(values.fps);
  if (!(fps > 0) || !Number.isFinite(fps)) throw new Error(`--fps '${values.fps}' must be a positive number`);
  const episodes: LeRobotEpisodeInput[] = [];
  let stateNames: string[] | undefined;
  let actionNames: string[] | undefined;
  for (const bag of bags) {
    const reader = await BagReader.open(bag);
    try {
      for (const r of reader.recovery)
        log.warn(`${bag}: ${r.reason}; read without the index (${r.recoveredMessages} messages recovered)`);
      const streams = await recordedStreams(reader, {
        ...(values['state-topic'] ? { stateTopic: values['state-topic'] } : {}),
        ...(values.joints ? { joints: values.joints.split(',') } : {}),
        stateFields: values['positions-only'] ? 'position' : 'position_velocity',
        ...(values['action-topic'] ? { actionTopic: values['action-topic'] } : {}),
        ...(values['action-names'] ? { actionNames: values['action-names'].split(',') } : {}),
      });
      if (streams.skippedCount)
        log.warn(`${bag}: ${streams.skippedCount} messages not used, e.g. ${streams.skipped.slice(0, 3).join('; ')}`);
      if (stateNames && streams.stateNames.join() !== stateNames.join())
        throw new Error(
          `${bag}: its state (${streams.stateNames.join(', ')}) is not the first bag's (${stateNames.join(', ')})`,
        );
      if (actionNames && streams.actionNames.join() !== actionNames.join())
        throw new Error(
          `${bag}: its command (${streams.actionNames.join(', ')}) is not the first bag's (${actionNames.join(', ')})`,
        );
      stateNames = streams.stateNames;
      actionNames = streams.actionNames;
      const cut = cutEpisodes({
        state: streams.state,
        action: streams.action,
        events: streams.events,
        defaultTask: values.task,
      });
      for (const d of cut.discarded) log.info(`${bag}: episode ${d.sourceEpisode} was discarded: left out`);
      for (const e of cut.episodes) {
        const { frames, gaps } = resampleEpisode(
          { state: e.state, action: e.action },
          { fps, startNs: e.startNs, endNs: e.endNs },
        );
        for (const g of gaps)
          log.warn(
            `${bag}: episode ${e.sourceEpisode}: ${g.stream} silent for ${g.frames} frames from frame ${g.firstFrame}`,
          );
        if (frames.length === 0) {
          log.warn(`${bag}: episode ${e.sourceEpisode} has no frame at ${fps} fps: left out`);
          continue;
        }
        episodes.push({ task: e.task, frames });
      }
      log.info(`${bag}: ${cut.episodes.length} episodes (${cut.discarded.length} discarded)`);
    } finally {
      reader.close();
    }
  }
  if (!episodes.length) throw new Error(`no episode to export from ${bags.join(', ')}`);
  const result = await writeLeRobotDataset(resolve(out), {
    fps,
    robotType: values['robot-type'] ?? null,
    stateNames: stateNames!,
    actionNames: actionNames!,
    episodes,
    overwrite: values.overwrite,
    logger: log,
  });
  log.info(
    `LeRobot v3.0 dataset written to ${result.dir}: ${result.info.total_episodes} episodes, ${result.info.total_frames} frames at ${fps} fps`,
  );
  return 0;
}

export async function datasetMain(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === '--help' || verb === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(DATASET_USAGE + '\n');
    return verb ? 0 : 2;
  }
  if (verb !== 'export') {
    process.stderr.write(`unknown dataset command '${verb}'\n${DATASET_USAGE}\n`);
    return 2;
  }
  return exportDataset(rest);
}
