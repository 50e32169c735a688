// Scenario functions of the differential suite. Each one runs against any Cluster, in a namespace of
// its own, and returns an observation with what legitimately differs between clusters normalised
// away (uids, timestamps, resourceVersions, random name suffixes → placeholders, node names → node
// indexes). The test compares the simulator's observation with the real control plane's.
export * from './scenarios/api.ts';
export * from './scenarios/eviction.ts';
export * from './scenarios/scheduler.ts';
export * from './scenarios/support.ts';
