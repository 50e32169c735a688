// Lambda entry point for manual events: wiring only, the behaviour lives in shared/.
import { createHandler } from '../../shared/lambda.ts';

export const handler = createHandler('manual');
