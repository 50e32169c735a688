// Waiting for far-away moments. Node's timers take at most 2^31−1 ms (~24.8 days); a longer delay
// fires at once. AWS Health deadlines can be weeks ahead, so waits are cut into slices.

export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves at `at` (or at once when it is past); aborts with `signal`. Never overflows a timer. */
export async function sleepUntil(at: Date, signal?: AbortSignal): Promise<void> {
  for (;;) {
    const left = at.getTime() - Date.now();
    if (left <= 0 || signal?.aborted) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(left, MAX_TIMER_MS));
      function done() {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      }
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}

/** An AbortSignal that fires at `at`, however far away (AbortSignal.timeout overflows the same way). */
export function signalAt(at: Date): AbortSignal {
  const controller = new AbortController();
  const arm = () => {
    const left = at.getTime() - Date.now();
    if (left <= 0) return controller.abort(new DOMException('deadline reached', 'TimeoutError'));
    setTimeout(arm, Math.min(left, MAX_TIMER_MS)).unref();
  };
  arm();
  return controller.signal;
}
