import { LOG_LEVELS, type Logger, type LogLevel } from '../../../src/util/log.js';
import type { QoS } from '../qos.js';

// A node's log lines on /rosout under ROS 2 (rqt_console, `ros2 topic echo /rosout`), on by default
// as in rclcpp, off with --ros-args --disable-rosout-logs. The node's console output stays
// dynastack's own (winston); the /rosout copy is published by the transport instead of going
// through rcutils, because rcutils' output handler (rcl_logging_multiple_output_handler, which
// rclnodejs installs in src/rcl_logging_bindings.cpp) would print every line on the console a
// second time. The message is what rcl's /rosout publisher sends (rcl/src/rcl/logging_rosout.c):
// rcl_interfaces/msg/Log with the node's logger name ('arm.controller' for /arm/controller), on
// rcl's rosout QoS (rcl/include/rcl/logging_rosout.h rcl_qos_profile_rosout_default: reliable,
// transient local, keep last 1000; its 10 s lifespan has no counterpart in rclnodejs's QoS).

/** rcl_qos_profile_rosout_default, without its lifespan. */
export const QOS_ROSOUT: QoS = {
  reliability: 'reliable',
  durability: 'transient_local',
  history: 'keep_last',
  depth: 1000,
};

/** rcl_interfaces/msg/Log's severity constants. */
export const ROSOUT_LEVEL: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40 };

/** rcl_interfaces/msg/Log as rclnodejs publishes a plain object of it. */
export interface RosoutLog {
  stamp: { sec: number; nanosec: number };
  level: number;
  name: string;
  msg: string;
  file: string;
  function: string;
  line: number;
}

/** One /rosout message; `nowNs` is the system time, as rcutils stamps a log line. */
export function rosoutLog(level: LogLevel, loggerName: string, text: string, nowNs: bigint): RosoutLog {
  return {
    stamp: { sec: Number(nowNs / 1_000_000_000n), nanosec: Number(nowNs % 1_000_000_000n) },
    level: ROSOUT_LEVEL[level],
    name: loggerName,
    msg: text,
    file: '',
    function: '',
    line: 0,
  };
}

/**
 * `base` (the console logger) that also hands each line it lets through to `publish`, with its
 * meta as JSON after the message, as the console shows it. A failing publish is not the caller's
 * problem: it is reported once on the console.
 */
export function teeLogger(base: Logger, publish: (level: LogLevel, text: string) => void): Logger {
  let failed = false;
  const forward = (level: LogLevel, message: string, meta?: Record<string, unknown>): void => {
    if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf(base.level as LogLevel)) return;
    const text = meta && Object.keys(meta).length ? `${message} ${JSON.stringify(meta)}` : message;
    try {
      publish(level, text);
    } catch (err) {
      if (failed) return;
      failed = true;
      base.warn(`cannot publish log lines on /rosout: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  return {
    error: (m, meta) => {
      base.error(m, meta);
      forward('error', m, meta);
    },
    warn: (m, meta) => {
      base.warn(m, meta);
      forward('warn', m, meta);
    },
    info: (m, meta) => {
      base.info(m, meta);
      forward('info', m, meta);
    },
    debug: (m, meta) => {
      base.debug(m, meta);
      forward('debug', m, meta);
    },
    get level() {
      return base.level;
    },
    set level(level: string) {
      base.level = level;
    },
  };
}
