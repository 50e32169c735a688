// The drain engine's public API.
export { cordonNode, uncordonNode } from './cordon.ts';
export { drainNode } from './executor.ts';
export { planDrain } from './planner.ts';
export { formatPlan, formatReport } from './report.ts';
export { nodeDrainStatus } from './status.ts';
export type * from './types.ts';
