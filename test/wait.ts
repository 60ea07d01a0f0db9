// Waiting in tests: for a condition, never for a fixed time. `until` checks the condition every few
// milliseconds and returns as soon as it holds; if a deadline of wall time passes first it fails with
// a message saying what did not happen (and, when asked, what was seen instead). The deadline is
// there to end a test on a hung system, not to judge a slow one: tens of seconds, far beyond what
// the condition takes on a loaded machine, so only a real fault reaches it.

/** the default deadline: a hang, not a slow machine */
export const WAIT_LIMIT_MS = 60_000;

export interface UntilOptions {
  /** wall time before giving up (default WAIT_LIMIT_MS) */
  readonly timeoutMs?: number;
  /** how often to check (default 10 ms) */
  readonly intervalMs?: number;
  /** what was seen, for the failure message */
  readonly seen?: () => string;
}

/** Resolves once `ok` holds; rejects naming `what` if it does not within the deadline. */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  options: UntilOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? WAIT_LIMIT_MS;
  const end = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > end)
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}${options.seen ? ` (seen: ${options.seen()})` : ''}`,
      );
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 10));
  }
}
