import { defineParams, type ParamValues } from '../src/util/param_schema.js';
import { packagePath } from '../src/util/paths.js';
import { Throttle, type Logger } from '../src/util/log.js';
import { FollowSource } from '../src/control/teleop/follow_source.js';
import { LeaderArm } from '../hw/arm/leader_arm.js';
import { LeaderFollowerMap } from '../hw/arm/leader_follower_map.js';
import { jointsOf, loadRobotConfig } from '../hw/robot_config.js';
import { calibrationTarget, defaultCalibrationPath, readCalibrationFile } from '../hw/calibration/file.js';
import { secondsToNs } from '../framework/time/time.js';

// The teleop node's `leader` source, wired: the leader arm (hw/arm/leader_arm.ts) read one sync
// read after another, each reading mapped joint by joint into the follower's joints
// (hw/arm/leader_follower_map.ts) and offered to a follow source (src/control/teleop/follow_source.ts),
// which the teleop stage ticks at its own rate. Its parameters (leader.*) are declared here.

export const LEADER_PARAMETERS = defineParams({
  'leader.robot_config': {
    type: 'string',
    default: '',
    description:
      "source leader: the leader arm's robot.yaml (port, protocol, baud rate, servos; absolute, or relative to the package root)",
  },
  'leader.calibration_file': {
    type: 'string',
    default: '',
    description:
      "source leader: the leader's calibration; '': $XDG_CONFIG_HOME (or ~/.config)/dynastack/calibration/<leader robot>.yaml",
  },
  'leader.port': {
    type: 'string',
    default: '',
    description: "source leader: the leader's serial device; '': its robot config's port",
  },
  'leader.follower_robot_config': {
    type: 'string',
    default: 'config/robots/so101_emulated.yaml',
    nonEmpty: true,
    description: "source leader: the follower arm's robot.yaml (whose calibration the targets are in)",
  },
  'leader.follower_calibration_file': {
    type: 'string',
    default: '',
    description:
      "source leader: the follower's calibration; '': $XDG_CONFIG_HOME (or ~/.config)/dynastack/calibration/<follower robot>.yaml",
  },
  'leader.by_range': {
    type: 'string_array',
    default: [],
    description:
      "source leader: joints mapped leader range onto follower range (e.g. ['gripper']) instead of angle for angle",
  },
  'leader.max_age_s': {
    type: 'double',
    default: 0.1,
    range: [0.001, 10],
    description: 'source leader: a leader reading older than this is no target (the follower holds where it is)',
  },
});

type LeaderParams = ParamValues<typeof LEADER_PARAMETERS>;

export interface LeaderInput {
  readonly source: FollowSource;
  /**
   * Called after every read (a reading offered to the source, or none), once per period: the
   * teleop tick, so a reading becomes a follower goal at once (one sync read per tick, as LeRobot's
   * record loop reads the leader and then sends the follower its action).
   */
  onRead: (() => void) | undefined;
  close(): Promise<void>;
}

/** Open the leader arm and start reading it into a follow source for `followerJoints` (command order). */
export async function openLeader(
  p: LeaderParams,
  followerJoints: readonly string[],
  logger: Logger,
  now: () => bigint,
  periodNs: bigint,
): Promise<LeaderInput> {
  if (!p['leader.robot_config'])
    throw new Error("parameter 'leader.robot_config': source leader needs the leader arm's robot.yaml");
  const leaderConfig = loadRobotConfig(packagePath(p['leader.robot_config']));
  const followerConfig = loadRobotConfig(packagePath(p['leader.follower_robot_config']));
  const leaderCal = readCalibrationFile(
    p['leader.calibration_file']
      ? packagePath(p['leader.calibration_file'])
      : defaultCalibrationPath(leaderConfig.robot),
    calibrationTarget(leaderConfig),
  );
  const followerCal = readCalibrationFile(
    p['leader.follower_calibration_file']
      ? packagePath(p['leader.follower_calibration_file'])
      : defaultCalibrationPath(followerConfig.robot),
    calibrationTarget(followerConfig),
  );
  const arm = await LeaderArm.open({
    port: p['leader.port'] || leaderConfig.port,
    baudRate: leaderConfig.baudRate,
    protocol: leaderConfig.protocol,
    joints: jointsOf(leaderConfig),
    calibration: leaderCal,
    logger,
  });
  let map: LeaderFollowerMap;
  try {
    map = new LeaderFollowerMap(leaderCal, followerCal, {
      leaderJointNames: arm.jointNames,
      followerJointNames: followerJoints,
      byRange: p['leader.by_range'],
    });
  } catch (err) {
    await arm.close();
    throw err;
  }
  const source = new FollowSource('leader', followerJoints.length, secondsToNs(p['leader.max_age_s']), now);
  const throttle = new Throttle(2000);
  const target = new Float64Array(followerJoints.length);
  const run: { closed: boolean } = { closed: false };
  const isClosed = (): boolean => run.closed;
  const periodMs = Number(periodNs) / 1e6;
  const input: LeaderInput = {
    source,
    onRead: undefined,
    async close() {
      run.closed = true;
      await loop.catch(() => {});
      await arm.close();
    },
  };
  // one read per period: a read starts on the period's beginning (or at once when the previous
  // overran it), and its reading goes to the tick as soon as it is in
  let due = performance.now();
  const loop = (async () => {
    while (!run.closed) {
      const angles = await arm.read();
      if (isClosed()) break;
      if (angles) {
        try {
          source.offer(map.map(angles, target));
        } catch (err) {
          if (throttle.allow('map')) logger.warn(`leader reading not used: ${(err as Error).message}`);
        }
      }
      input.onRead?.();
      due += periodMs;
      const wait = due - performance.now();
      if (wait < -periodMs) due = performance.now(); // more than a period behind: start afresh, no burst
      await new Promise((resolve) => (wait > 0 ? setTimeout(resolve, wait) : setImmediate(resolve)));
    }
  })();
  return input;
}
