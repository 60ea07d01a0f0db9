import type { HealthReport } from '../../src/util/health.js';
import type { SimulatedRobot } from './simulated_robot.js';
import type { SimRun } from './sim_run.js';

// What the sim bridge says about its run: the progress line and the end-of-run sentence, the
// figures for the launcher's report, and its health for /diagnostics. All from one snapshot of
// the figures, taken from the robot, the run's bookkeeping and the lockstep loop.

export interface SimFigures {
  /** sim time since activation (s) */
  readonly simSeconds: number;
  /** wall time since activation, up to the run's end (s) */
  readonly wallSeconds: number;
  /** sim time now (ns), as /clock says */
  readonly simTimeNs: bigint;
  readonly ticks: number;
  /** the index of the episode under way */
  readonly episode: number;
  readonly pushes: number;
  readonly commandsRejected: number;
  readonly commandTimeouts: number;
}

/** The figures now. */
export function simFigures(robot: SimulatedRobot, run: SimRun, commandTimeouts: number): SimFigures {
  const simTimeNs = robot.timeNs;
  return {
    simSeconds: run.simSeconds(simTimeNs),
    wallSeconds: run.wallSeconds(),
    simTimeNs,
    ticks: robot.steps,
    episode: robot.episode,
    pushes: robot.pushesSoFar(),
    commandsRejected: robot.commandsRejected,
    commandTimeouts,
  };
}

/** One sentence: sim and wall time, their ratio, ticks and episodes. */
export function simSummary(f: SimFigures): string {
  const { simSeconds: simS, wallSeconds: wallS } = f;
  return `simulated ${simS.toFixed(2)} s in ${wallS.toFixed(2)} s of wall time (${(simS / wallS).toFixed(1)}× real time, ${f.ticks} ticks, ${f.episode + 1} episode(s))`;
}

/** The progress line logged every progress period. */
export function simProgress(f: SimFigures): string {
  return `t = ${f.simSeconds.toFixed(1)} s: ${simSummary(f)}${f.pushes ? `, ${f.pushes} pushes` : ''}`;
}

/** The end-of-run sentence: the summary, with the pushes (of `pushForce` N) and what went wrong. */
export function simFinalSummary(f: SimFigures, pushForce: number): string {
  return `${simSummary(f)}${f.pushes ? `, ${f.pushes} pushes of ${pushForce} N` : ''}${f.commandsRejected ? `, ${f.commandsRejected} commands rejected` : ''}${f.commandTimeouts ? `, ${f.commandTimeouts} command timeouts` : ''}`;
}

/** The figures of the launcher's report. */
export function simMetrics(f: SimFigures): Record<string, number> {
  return {
    ticks: f.ticks,
    sim_time_s: f.simSeconds,
    wall_time_s: f.wallSeconds,
    real_time_factor: f.simSeconds / f.wallSeconds,
    ticks_per_s: f.ticks / f.wallSeconds,
    episodes: f.episode + 1,
    pushes: f.pushes,
    commands_rejected: f.commandsRejected,
    command_timeouts: f.commandTimeouts,
  };
}

/** The simulation's health: a warning once a command was rejected or a tick stepped without its command. */
export function simHealth(f: SimFigures, about: { name: string; mode: string; model: string }): HealthReport {
  return {
    level: f.commandsRejected || f.commandTimeouts ? 'warn' : 'ok',
    name: about.name,
    message: `${about.mode}, ${(f.simSeconds / f.wallSeconds).toFixed(1)}× real time`,
    hardwareId: about.model,
    values: {
      sim_time_s: (Number(f.simTimeNs) / 1e9).toFixed(3),
      ticks: String(f.ticks),
      episode: String(f.episode),
      commands_rejected: String(f.commandsRejected),
      command_timeouts: String(f.commandTimeouts),
    },
  };
}
