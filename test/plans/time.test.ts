// AWS Health deadlines can be weeks ahead; Node's timers overflow past 2^31−1 ms and fire at once.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_TIMER_MS, signalAt, sleepUntil } from '../../shared/time.ts';

const DAY = 86_400_000;
afterEach(() => {
  vi.useRealTimers();
});

describe('waiting for far-away moments', () => {
  it('AbortSignal.timeout would fire at once past 24.8 days; signalAt does not', async () => {
    vi.useFakeTimers();
    const signal = signalAt(new Date(Date.now() + 30 * DAY));
    await vi.advanceTimersByTimeAsync(1000);
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS); // past the first slice
    expect(signal.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(6 * DAY);
    expect(signal.aborted).toBe(true);
  });

  it('sleepUntil waits in slices and ends early when aborted', async () => {
    vi.useFakeTimers();
    let woke = false;
    const controller = new AbortController();
    void sleepUntil(new Date(Date.now() + 40 * DAY), controller.signal).then(() => {
      woke = true;
    });
    await vi.advanceTimersByTimeAsync(26 * DAY);
    expect(woke).toBe(false);
    controller.abort();
    await vi.advanceTimersByTimeAsync(1);
    expect(woke).toBe(true);
  });
});
