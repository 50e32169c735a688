// Lambda entry point for scheduled-change events: wiring only, the behaviour lives in shared/.
import { createHandler } from '../../shared/lambda.ts';

export const handler = createHandler('scheduled-change');
