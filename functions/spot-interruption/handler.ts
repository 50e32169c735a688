// Lambda entry point for spot-interruption events: wiring only, the behaviour lives in shared/.
import { createHandler } from '../../shared/lambda.ts';

export const handler = createHandler('spot-interruption');
