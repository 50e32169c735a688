// Lambda entry point for CloudWatch alarm actions (EventBridge rule or direct alarm action): wiring only.
import { createHandler } from '../../shared/lambda.ts';

export const handler = createHandler('alarm-action');
