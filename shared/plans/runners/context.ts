// What the node-safety runners get: the invocation's deps and what was observed before planning.
import type { ActionDeps } from '../../actions/types.ts';
import type { CapacityReads } from '../../capacity/api.ts';
import type { Observed } from '../../observe.ts';
import type { ExecContext } from '../execute.ts';

export interface NodeContext extends ExecContext {
  deps: ActionDeps;
  capacity: CapacityReads;
  observed: Observed;
}
