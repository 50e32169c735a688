import type { Envelope } from './types.ts';

/** Where the parser is inside the outermost input. */
export interface EventContext {
  /** Path of this object inside the outermost input ('' at the root). */
  path: string;
  /** Envelopes already unwrapped, outermost first. */
  envelopes: Envelope[];
  /** SQS messageId of the record this object came in. */
  recordId?: string;
  /** How many envelopes deep we are (guards against SNS-in-SNS-in-… loops). */
  depth: number;
}

/** Fields every domain event carries besides its kind-specific ones. */
export interface EventMeta {
  time: string;
  region?: string;
  account?: string;
  envelopes: Envelope[];
  recordId?: string;
}

/** Drops undefined values so events carry no `key: undefined` noise. */
export function optional<T extends Record<string, unknown>>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}
