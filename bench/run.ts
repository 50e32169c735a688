// `npm run bench [-- name ...]`: runs the benchmarks and writes each one's section of BENCHMARKS.md
// (sections not run are kept as they were), with the command and machine that produced it.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

interface BenchResult {
  title: string;
  markdown: string;
}

const benches: Record<string, () => Promise<{ run: () => Promise<BenchResult> }>> = {
  'sim-startup': () => import('./sim-startup.ts'),
  drain: () => import('./drain.ts'),
  storm: () => import('./storm.ts'),
  cold: () => import('./cold.ts'),
  bundle: () => import('./bundle.ts'),
  'drain-real': () => import('./drain-real.ts'),
  rebalance: () => import('./rebalance.ts'),
  'cordon-path': () => import('./cordon-path.ts'),
  traffic: () => import('./traffic.ts'),
};

const FILE = new URL('../BENCHMARKS.md', import.meta.url);

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let kubectl = 'kubectl not found';
  try {
    kubectl =
      execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).split('\n')[0] ?? kubectl;
  } catch {}
  return `Node ${process.version}, ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 2 ** 30)} GiB; ${kubectl}`;
}

function replaceSection(doc: string, name: string, body: string): string {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${body.trim()}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + end.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

async function main() {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((n) => !(n in benches));
  if (unknown.length) {
    process.stderr.write(
      `unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benches).join(', ')}\n`,
    );
    process.exit(2);
  }
  const names = wanted.length ? wanted : Object.keys(benches);
  let doc = existsSync(FILE)
    ? readFileSync(FILE, 'utf8')
    : '# Benchmarks\n\nWritten by `npm run bench` (all) or `npm run bench -- <name>` (one section). ' +
      'Each section says the command, the date and the machine that produced it. Targets come from the issues.\n';
  for (const name of names) {
    process.stderr.write(`bench ${name} …\n`);
    const { run } = await benches[name]!();
    const result = await run();
    const header =
      `## ${result.title}\n\n` +
      `Produced by \`npm run bench -- ${name}\` on ${new Date().toISOString().slice(0, 10)} — ${machine()}.\n\n`;
    doc = replaceSection(doc, name, header + result.markdown);
    writeFileSync(FILE, doc);
    process.stderr.write(`bench ${name} done\n`);
  }
}

await main();
// Benchmarks start servers and child processes; exit once the report is written.
process.exit(0);
