import { run } from './cold.ts';

const r = await run();
console.log(r.markdown);
process.exit(0);
