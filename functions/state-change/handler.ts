// Lambda entry point for state-change events: wiring only, the behaviour lives in shared/.
import { createHandler } from '../../shared/lambda.ts';

export const handler = createHandler('state-change');
