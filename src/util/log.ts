import winston from 'winston';

// One winston logger per node, named after it; levels per node via DYNASTACK_LOG_LEVEL
// ('info', or 'warn,controller=debug,/arm/sim_bridge=error') or the launcher's --log-level.

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  level: string;
}

let levelSpec = process.env.DYNASTACK_LOG_LEVEL ?? 'info';

/** Set the level specification for loggers created from now on. */
export function setLogLevelSpec(spec: string): void {
  levelFor('', spec); // validate
  levelSpec = spec;
}

/** The level a logger name gets under a specification: the last matching 'name=level', else the default. */
export function levelFor(name: string, spec = levelSpec): LogLevel {
  let level: LogLevel = 'info';
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [who, lvl] = part.includes('=') ? (part.split('=') as [string, string]) : ['', part];
    if (!LOG_LEVELS.includes(lvl as LogLevel))
      throw new Error(`log level '${lvl}' is not one of ${LOG_LEVELS.join(', ')}`);
    if (!who || who === name || who === name.replace(/^\//, '') || name.endsWith('/' + who)) level = lvl as LogLevel;
  }
  return level;
}

const format = winston.format.printf(({ level, message, label, timestamp, ...meta }) => {
  const extra = Object.keys(meta).length ? ' ' + JSON.stringify(meta) : '';
  return `[${String(timestamp)}] [${level.toUpperCase()}] [${String(label)}] ${String(message)}${extra}`;
});

export interface ClosableLogger extends Logger {
  /** release the logger's console transport (when its node is destroyed) */
  close(): void;
}

export function createLogger(name: string, level: LogLevel = levelFor(name)): ClosableLogger {
  // a transport of its own: a shared one would collect a pipe per logger and never lose them
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's d.ts declares Console as an interface; the value is a TransportStream (lib/winston/transports/console.js: class Console extends TransportStream)
  const transport: winston.transport = new winston.transports.Console({ stderrLevels: ['error', 'warn'] });
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.label({ label: name }), winston.format.timestamp(), format),
    transports: [transport],
  });
  return Object.assign(logger, { close: () => void logger.remove(transport) });
}

/** Log at most once per period per key (as RCLCPP_WARN_THROTTLE does). */
export class Throttle {
  readonly #last = new Map<string, number>();
  constructor(private readonly periodMs: number) {}
  allow(key: string): boolean {
    const now = performance.now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < this.periodMs) return false;
    this.#last.set(key, now);
    return true;
  }
}
