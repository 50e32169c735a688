import { describe, expect, it } from 'vitest';
import { executePlan, formatPlan, type RunnerMap } from '../../shared/plans/execute.ts';
import type { Plan, StepBase } from '../../shared/plans/steps.ts';

type Demo =
  | (StepBase & { kind: 'add'; n: number; undo?: Demo })
  | (StepBase & { kind: 'fail' })
  | (StepBase & { kind: 'log'; text: string });

function harness() {
  const calls: string[] = [];
  const runners: RunnerMap<Demo> = {
    add: async (s) => {
      calls.push(`add ${s.n}`);
      return { status: 'done', detail: `added ${s.n}` };
    },
    fail: async () => {
      calls.push('fail');
      throw new Error('boom');
    },
    log: async (s) => {
      calls.push(s.text);
      return { status: 'done', detail: s.text, ...(s.text === 'keep' ? { keep: ['up'] } : {}) };
    },
  };
  return { calls, runners, ctx: { dryRun: false, now: () => new Date(0) } };
}

const up: Demo = {
  kind: 'add',
  id: 'up',
  why: 'capacity',
  n: 1,
  undo: { kind: 'add', id: 'up-undo', why: 'give back', n: -1 },
};

describe('executePlan', () => {
  it('dry run returns every step as planned and calls no runner', async () => {
    const h = harness();
    const plan: Plan<Demo> = {
      target: 'node/a',
      trigger: 't',
      steps: [up, { kind: 'fail', id: 'f', why: 'x' }],
    };
    const r = await executePlan(plan, h.runners, { ...h.ctx, dryRun: true });
    expect(h.calls).toEqual([]);
    expect(r.steps.map((s) => s.status)).toEqual(['planned', 'planned']);
  });

  it('runs undo on exit, cancels steps whose requirement failed, still runs `after` steps', async () => {
    const h = harness();
    const plan: Plan<Demo> = {
      target: 'node/a',
      trigger: 't',
      steps: [
        up,
        { kind: 'fail', id: 'drain', why: 'drain', after: ['up'] },
        { kind: 'log', id: 'terminate', why: 'only after a drain', text: 'terminate', requires: ['drain'] },
        { kind: 'log', id: 'hook', why: 'always', text: 'complete hook', after: ['drain'] },
      ],
    };
    const r = await executePlan(plan, h.runners, h.ctx);
    expect(h.calls).toEqual(['add 1', 'fail', 'complete hook', 'add -1']);
    expect(r.steps.map((s) => [s.id, s.status])).toEqual([
      ['up', 'done'],
      ['drain', 'failed'],
      ['terminate', 'cancelled'],
      ['hook', 'done'],
    ]);
    expect(r.steps[1]!.detail).toContain('boom');
    expect(r.undone.map((u) => u.id)).toEqual(['up-undo']);
    expect(r.ok).toBe(false);
  });

  it('a step can keep an earlier step (its undo does not run)', async () => {
    const h = harness();
    const plan: Plan<Demo> = {
      target: 'node/a',
      trigger: 't',
      steps: [up, { kind: 'log', id: 'k', why: 'keep it', text: 'keep', requires: ['up'] }],
    };
    const r = await executePlan(plan, h.runners, h.ctx);
    expect(h.calls).toEqual(['add 1', 'keep']);
    expect(r.undone).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('refuses a plan naming a step that does not exist', async () => {
    const h = harness();
    const plan: Plan<Demo> = {
      target: 'n',
      trigger: 't',
      steps: [{ kind: 'log', id: 'a', why: 'w', text: 'a', after: ['nope'] }],
    };
    await expect(executePlan(plan, h.runners, h.ctx)).rejects.toThrow(/unknown step nope/);
  });

  it('formatPlan prints steps, dependencies and undos; an empty plan says why', () => {
    expect(
      formatPlan({ target: 'node/a', trigger: 't', steps: [], nothingBecause: 'foreign instance' }),
    ).toBe('node/a: nothing to do (foreign instance)');
    const text = formatPlan({
      target: 'node/a',
      trigger: 'spot',
      steps: [up, { kind: 'fail', id: 'd', why: 'drain', requires: ['up'] }],
    });
    expect(text).toContain('undo on exit: add — give back');
    expect(text).toContain('d: fail — drain [needs up]');
  });
});
