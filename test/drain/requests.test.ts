import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { RequestMeter } from '../../shared/drain/requests.ts';
import { classifyEvictionError } from '../../shared/k8s/eviction.ts';

const status = (
  code: number,
  reason: string,
  causes: { reason: string; message?: string }[] = [],
  retryAfter?: number,
) =>
  new ApiException(
    code,
    reason,
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason,
      message: `${reason}!`,
      code,
      details: { causes },
    }),
    retryAfter !== undefined ? { 'retry-after': String(retryAfter) } : {},
  );

const pdbRefusal = () =>
  status(429, 'TooManyRequests', [
    {
      reason: 'DisruptionBudget',
      message: 'The disruption budget web-pdb needs 2 healthy pods and has 2 currently',
    },
  ]);

describe('RequestMeter', () => {
  it('never has more than `limit` requests in flight and counts every one', async () => {
    const meter = new RequestMeter(3);
    let inFlight = 0;
    let peak = 0;
    const send = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    };
    await Promise.all(Array.from({ length: 20 }, () => meter.call(send)));
    expect(peak).toBe(3);
    expect(meter.count).toBe(20);
  });

  it('retries API Priority and Fairness 429s and 5xx, counting each attempt', async () => {
    const meter = new RequestMeter(1);
    const answers = [status(429, 'TooManyRequests', [], 0), status(503, 'ServiceUnavailable'), 'ok'];
    const result = await meter.call(async () => {
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next;
    });
    expect(result).toBe('ok');
    expect(meter.count).toBe(3);
  });

  it('hands a PDB refusal straight back (the caller waits on the budget) and gives up on 5xx after `retries`', async () => {
    const meter = new RequestMeter(1);
    await expect(meter.call(async () => Promise.reject(pdbRefusal()))).rejects.toBeInstanceOf(ApiException);
    expect(meter.count).toBe(1);
    await expect(
      meter.call(async () => Promise.reject(status(500, 'InternalError')), { retries: 1 }),
    ).rejects.toThrow();
    expect(meter.count).toBe(3);
  });
});

describe('classifyEvictionError', () => {
  it.each([
    [pdbRefusal(), { kind: 'budget', budget: 'web-pdb' }],
    [status(429, 'TooManyRequests', [], 2), { kind: 'retry', retryAfterMs: 2000 }],
    [status(503, 'ServiceUnavailable'), { kind: 'retry' }],
    [new Error('socket hang up'), { kind: 'retry' }],
    [status(404, 'NotFound'), { kind: 'gone' }],
    // 409 is "gone" only on the uid precondition; a concurrent PDB update is retried (kubectl parity)
    [status(409, 'Conflict'), { kind: 'retry' }],
    [
      new ApiException(
        409,
        'Conflict',
        JSON.stringify({
          kind: 'Status',
          reason: 'Conflict',
          message: 'Precondition failed: UID in precondition: a, UID in object meta: b',
          code: 409,
        }),
        {},
      ),
      { kind: 'gone' },
    ],
    [
      new ApiException(
        403,
        'Forbidden',
        JSON.stringify({
          kind: 'Status',
          reason: 'Forbidden',
          message:
            'pods "p" is forbidden: unable to create new content in namespace x because it is being terminated',
          code: 403,
          details: { causes: [{ reason: 'NamespaceTerminating' }] },
        }),
        {},
      ),
      { kind: 'namespace-terminating' },
    ],
    [status(403, 'Forbidden'), { kind: 'fatal', code: 403 }],
  ])('%s', (err, expected) => {
    expect(classifyEvictionError(err)).toMatchObject(expected);
  });

  it('treats "more than one PodDisruptionBudget" (a 500) as final', () => {
    const err = new ApiException(
      500,
      'InternalError',
      JSON.stringify({
        code: 500,
        reason: 'InternalError',
        message:
          'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      }),
      {},
    );
    expect(classifyEvictionError(err)).toMatchObject({ kind: 'fatal', code: 500 });
  });
});
