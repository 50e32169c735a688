// Moved: the dispatch is shared/plans/dispatch.ts (observe → plan → execute). Kept for importers.
export { handleEvent } from '../plans/dispatch.ts';
