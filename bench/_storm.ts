import { run } from './storm.ts';
const r = await run(); console.log(r.markdown); process.exit(0);
