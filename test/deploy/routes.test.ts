// shared/routes.ts (what the simulator bridge follows) and serverless.yml + infra/rules.yml (what is
// deployed) must describe the same wiring: handler, timeout, delivery, event patterns.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { routes } from '../../shared/routes.ts';

// CloudFormation short-form tags (!Ref, !GetAtt, !Sub …) kept as plain values: only shapes matter here.
const cfnTags = [
  'Ref',
  'GetAtt',
  'Sub',
  'If',
  'Equals',
  'Not',
  'Join',
  'Select',
  'Split',
  'And',
  'Or',
  'Condition',
  'FindInMap',
  'ImportValue',
  'Base64',
  'GetAZs',
].flatMap((name) =>
  (['scalar', 'seq', 'map'] as const).map((collection) => ({
    tag: `!${name}`,
    collection: collection === 'scalar' ? undefined : collection,
    resolve: (value: unknown) => ({ [name]: value }),
  })),
);
const load = (file: string) =>
  parse(readFileSync(file, 'utf8'), { customTags: cfnTags as never, logLevel: 'error' });

const serverless = load('serverless.yml') as { functions: Record<string, Record<string, unknown>> };
const rules = JSON.stringify(load('infra/rules.yml'));

describe('routes ↔ serverless.yml', () => {
  for (const route of routes) {
    it(`${route.functionName}: handler, timeout and delivery agree`, () => {
      const fn = serverless.functions[route.serverlessName];
      expect(fn, `serverless.yml functions.${route.serverlessName}`).toBeDefined();
      expect(fn!.handler).toBe(`functions/${route.functionName}/handler.handler`);
      expect(fn!.timeout).toBe(route.timeoutSeconds);
      const events = JSON.stringify(fn!.events ?? []);
      if (route.delivery === 'sqs') {
        expect(events).toContain('"sqs"');
        expect(events).toContain('ReportBatchItemFailures');
      } else if (route.detailTypes.length > 0) {
        expect(events).toContain('"eventBridge"');
      } else {
        expect(fn!.events ?? []).toEqual([]);
      }
      for (const detailType of route.detailTypes) {
        // Direct rules live with the function; queue-fed ones in infra/rules.yml.
        expect(route.delivery === 'sqs' ? rules : events, detailType).toContain(detailType);
      }
    });
  }
});
