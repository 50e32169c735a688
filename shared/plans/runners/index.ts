// One runner per node-safety step kind (the executor refuses a plan whose kind has none).
import type { RunnerMap } from '../execute.ts';
import type { NodeStep } from '../node-steps.ts';
import { runAwaitReplacement, runDetach, runGiveBack, runIncrement, runScaleOut } from './capacity.ts';
import type { NodeContext } from './context.ts';
import { runAwaitNodeReady, runCompleteHook, runHeartbeat, runRequeue } from './hooks.ts';
import { runAnnotate, runCordon, runDrain, runUncordon } from './node.ts';

export const nodeRunners: RunnerMap<NodeStep, NodeContext> = {
  cordon: runCordon,
  drain: runDrain,
  uncordon: runUncordon,
  annotate: runAnnotate,
  detach: runDetach,
  increment: runIncrement,
  'give-back': runGiveBack,
  'scale-out': runScaleOut,
  'await-replacement': runAwaitReplacement,
  heartbeat: runHeartbeat,
  requeue: runRequeue,
  'complete-hook': runCompleteHook,
  'await-node-ready': runAwaitNodeReady,
};

export type { NodeContext } from './context.ts';
export { drainSummary } from './node.ts';
