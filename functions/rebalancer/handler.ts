// Lambda entry point for the AZ rebalancer (schedule, debounced ASG launches, zone-skew alarm):
// wiring only, the behaviour lives in shared/rebalancer/.
export { rebalancerHandler as handler } from '../../shared/rebalancer/lambda.ts';
