export { EventParseError, type ParseIssue } from './errors.ts';
export { registry, registryKey, SPOT_INTERRUPTION_NOTICE_SECONDS } from './eventbridge.ts';
export { type ManualPayload, ManualPayloadSchema } from './manual.ts';
export { type ParsedItem, parse, parseBatch } from './parse.ts';
export type * from './types.ts';
