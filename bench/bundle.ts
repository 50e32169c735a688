// Bundle benchmark: what `npm run package` ships per function (zip size, bundle size, cold import
// time of the bundle in a fresh Node 24 process), then the same entry point built with variations
// of the esbuild options to show what each choice costs or saves.
// Targets (issue 6): zip ≤ 1 MB, cold import ≤ 120 ms.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { type BuildOptions, build, type Metafile, type Plugin } from 'esbuild';
import { esbuildOptions, packageService, repoRoot } from '../scripts/package.ts';
import { zipEntries } from '../test/deploy/support/zip.ts';

const ZIP_TARGET = 1024 * 1024;
const IMPORT_TARGET_MS = 120;
const RUNS = 9;
const NODE = path.join(repoRoot, 'node_modules', '.bin', 'node');

interface ImportTiming {
  wallMs: number;
  cpuMs: number;
  /** Interquartile range of the CPU samples: the noise a difference must beat. */
  cpuIqrMs: number;
}

/**
 * Median wall and CPU time of `await import(file)` in fresh Node processes (one import each).
 * With `thenLoad`, also awaits the module's `__load()` (the lazily imported rest) in the timing.
 */
function coldImport(file: string, thenLoad = false, runs = RUNS): ImportTiming {
  const probe = `
    const cpu0 = process.cpuUsage(); const t0 = performance.now();
    const mod = await import(${JSON.stringify(file)});
    ${thenLoad ? 'await mod.__load();' : ''}
    const t1 = performance.now(); const cpu = process.cpuUsage(cpu0);
    console.log(JSON.stringify({ wallMs: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));`;
  const env = {
    ...process.env,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'bench',
    CLUSTER_NAME: 'bench',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  const samples: ImportTiming[] = [];
  for (let i = 0; i < runs; i++) {
    let out: string;
    try {
      out = execFileSync(NODE, ['--input-type=module', '-e', probe], {
        env,
        encoding: 'utf8',
        stdio: 'pipe',
      });
    } catch (err) {
      const stderr = String((err as { stderr?: unknown }).stderr ?? '');
      const reason = stderr.split('\n').find((l) => /^\w*Error\b/.test(l)) ?? stderr.slice(-200);
      throw new Error(`importing ${path.relative(repoRoot, file)} failed: ${reason.slice(0, 300)}`);
    }
    samples.push(JSON.parse(out.trim().split('\n').at(-1)!));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cpu = samples.map((s) => s.cpuMs).sort((a, b) => a - b);
  const quartile = (q: number) => cpu[Math.floor((cpu.length - 1) * q)]!;
  return {
    wallMs: median(samples.map((s) => s.wallMs)),
    cpuMs: median(cpu),
    cpuIqrMs: quartile(0.75) - quartile(0.25),
  };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ms = (t: number) => `${t.toFixed(0)} ms`;
const mark = (ok: boolean) => (ok ? '✅' : '❌');
const cpuCell = (t: ImportTiming) => `${ms(t.cpuMs)} ±${ms(t.cpuIqrMs)}`;

interface PackagedFunction {
  name: string;
  zipBytes: number;
  bundleBytes: number;
  timing: ImportTiming;
}

/** Runs `osls package` into a temp dir and measures each function's artifact. */
async function measurePackaged(work: string): Promise<PackagedFunction[]> {
  const outDir = path.join(work, 'package');
  const result = packageService([], outDir);
  if (result.status !== 0) throw new Error(`osls package failed:\n${result.output}`);
  const zips = execFileSync('ls', [outDir], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.zip'));
  const measured: PackagedFunction[] = [];
  for (const zip of zips) {
    const name = zip.replace(/\.zip$/, '');
    const entries = await zipEntries(path.join(outDir, zip));
    const handler = entries.find((e) => e.name.endsWith('.mjs'));
    if (!handler) throw new Error(`${zip} has no .mjs bundle`);
    // extracted inside the repo so that a bundle with externals would still resolve node_modules
    const file = path.join(work, name, handler.name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, handler.data());
    measured.push({
      name,
      zipBytes: statSync(path.join(outDir, zip)).size,
      bundleBytes: handler.size,
      timing: coldImport(file),
    });
  }
  return measured;
}

interface Variant {
  name: string;
  why: string;
  options: (base: BuildOptions) => BuildOptions;
  /** Entry point source instead of the real handler (for sketches of code changes). */
  entrySource?: string;
}

/**
 * Sketch of a lazy handler: the module imported at cold start holds only the wrapper; shared/
 * (Kubernetes client, AWS SDK, zod schemas) is evaluated on the first invocation. esbuild keeps it
 * in the same file but defers its evaluation. `__load` lets the bench time that first-use cost.
 */
const LAZY_ENTRY = `
const load = () => import('${path.join(repoRoot, 'shared/lambda.ts')}');
let handlerPromise;
export const __load = load;
export const handler = async (event, context) => {
  handlerPromise ??= load().then((m) => m.createHandler('spot-interruption'));
  return (await handlerPromise)(event, context);
};
`;

/**
 * esbuild plugin replacing a package by a stub that absorbs any use (a chainable, callable,
 * constructible proxy): a what-if measurement of what the package costs at import, not a build to
 * ship.
 */
function stubPackage(pkg: string): Plugin {
  const escaped = pkg.replace(/[/@.-]/g, (c) => `\\${c}`);
  return {
    name: `stub-${pkg}`,
    setup(b) {
      b.onResolve({ filter: new RegExp(`^${escaped}(/.*)?$`) }, (args) => ({
        path: args.path,
        namespace: 'stub',
      }));
      b.onLoad({ filter: /.*/, namespace: 'stub' }, async (args) => {
        // the same export names as the real module, every one the absorbing proxy
        const real = await import(args.path);
        const names = Object.keys(real).filter((n) => n !== 'default');
        return {
          contents:
            "const p = new Proxy(function stub() {}, { get: (_t, k) => (k === 'then' ? undefined : " +
            "k === Symbol.toPrimitive ? () => '' : k === Symbol.iterator ? [][Symbol.iterator] : p), " +
            'apply: () => p, construct: () => p });\nexport default p;\n' +
            // string export names: `catch`, `function`… are valid export names, not identifiers
            `export { ${names.map((n) => `p as ${JSON.stringify(n)}`).join(', ')} };`,
          loader: 'js',
        };
      });
    },
  };
}

const whatIf = (pkg: string): Variant => ({
  name: `what if: no ${pkg}`,
  why: 'the package replaced by a stub: its share of the import cost',
  options: (b) => ({ ...b, plugins: [stubPackage(pkg)] }),
});

const VARIANTS: Variant[] = [
  { name: 'as configured', why: 'serverless.yml custom.esbuild', options: (b) => b },
  {
    name: '+ linked source map',
    why: 'readable stack traces; the .map ships in the zip',
    options: (b) => ({ ...b, sourcemap: 'linked', sourcesContent: false }),
  },
  { name: 'not minified', why: 'what minify buys', options: (b) => ({ ...b, minify: false }) },
  {
    name: 'CommonJS entry points first',
    why: 'mainFields [main, module] (esbuild default for platform node)',
    options: (b) => ({ ...b, mainFields: ['main', 'module'] }),
  },
  {
    name: 'without keepNames',
    why: 'what readable names in stack traces cost',
    options: (b) => ({ ...b, keepNames: false }),
  },
  {
    name: 'lazy handler (code sketch)',
    why: 'shared/ loaded via `await import()` on first invocation; import-only time',
    options: (b) => b,
    entrySource: LAZY_ENTRY,
  },
  {
    name: '@aws-sdk/* external',
    why: 'use the SDK in the Lambda runtime (loaded from node_modules here)',
    options: (b) => ({ ...b, external: [...(b.external ?? []), '@aws-sdk/*'] }),
  },
  whatIf('@aws-sdk/client-ec2'),
  whatIf('zod'),
  whatIf('@kubernetes/client-node'),
];

interface VariantResult {
  variant: Variant;
  /** Set when the variant's bundle could not be imported (e.g. a stub that is not enough). */
  failed?: string;
  bundleBytes: number;
  zipBytes: number;
  timing: ImportTiming;
  /** Import plus the deferred load, for the lazy sketch. */
  loadedTiming?: ImportTiming;
  topInputs: [string, number][];
}

/** Bytes in the output per npm package (or per repo folder). */
function bytesByPackage(meta: Metafile): [string, number][] {
  const totals = new Map<string, number>();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, info] of Object.entries(output.inputs)) {
      const pkg =
        /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? input.split('/').slice(0, 2).join('/');
      totals.set(pkg, (totals.get(pkg) ?? 0) + info.bytesInOutput);
    }
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
}

async function measureVariant(variant: Variant, entry: string, work: string): Promise<VariantResult> {
  const outdir = path.join(work, 'variants', variant.name.replace(/\W+/g, '-'));
  let entryFile = path.join(repoRoot, entry);
  if (variant.entrySource) {
    entryFile = path.join(outdir, 'src', 'handler.mjs');
    mkdirSync(path.dirname(entryFile), { recursive: true });
    writeFileSync(entryFile, variant.entrySource);
  }
  const result = await build({
    ...variant.options(esbuildOptions()),
    entryPoints: [entryFile],
    outdir,
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'error',
  });
  const files = Object.keys(result.metafile.outputs).map((f) => path.resolve(repoRoot, f));
  const bundle = files.find((f) => f.endsWith('.mjs'))!;
  // zip size estimate: deflate (what the zip uses) of every output file plus the headers
  const zipBytes = files.reduce(
    (sum, f) => sum + deflateRawSync(readFileSync(f), { level: 9 }).length + 120,
    22,
  );
  let timing: ImportTiming = { wallMs: Number.NaN, cpuMs: Number.NaN, cpuIqrMs: Number.NaN };
  let failed: string | undefined;
  try {
    timing = coldImport(bundle);
  } catch (err) {
    failed = (err as Error).message;
  }
  return {
    variant,
    ...(failed ? { failed } : {}),
    bundleBytes: statSync(bundle).size,
    zipBytes,
    timing,
    ...(variant.entrySource && !failed ? { loadedTiming: coldImport(bundle, true) } : {}),
    topInputs: bytesByPackage(result.metafile),
  };
}

export async function run(): Promise<{ title: string; markdown: string }> {
  // inside the repo so that external packages resolve from node_modules; not under .esbuild/,
  // which serverless-esbuild deletes after packaging
  const cache = path.join(repoRoot, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  const work = mkdtempSync(path.join(cache, 'spotguard-bench-'));
  const load = loadavg()[0]!.toFixed(1);
  try {
    const packaged = await measurePackaged(work);
    const entry = 'functions/spot-interruption/handler.ts';
    const variants: VariantResult[] = [];
    for (const v of VARIANTS) {
      try {
        variants.push(await measureVariant(v, entry, work));
      } catch (err) {
        if (v === VARIANTS[0]) throw err; // the configured build must work
        const failed = `build failed: ${(err as Error).message.split('\n')[1] ?? (err as Error).message}`;
        const none = { wallMs: Number.NaN, cpuMs: Number.NaN, cpuIqrMs: Number.NaN };
        variants.push({ variant: v, failed, bundleBytes: 0, zipBytes: 0, timing: none, topInputs: [] });
      }
    }
    const baseline = (
      await measureVariant({ name: 'node-only', why: '', options: (b) => b }, emptyEntry(work), work)
    ).timing;
    return {
      title: 'Lambda bundles (size and cold import)',
      markdown: report(packaged, variants, baseline, load),
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** An empty module: the floor of `await import()` in a fresh process. */
function emptyEntry(work: string): string {
  const file = path.join(work, 'empty.ts');
  writeFileSync(file, 'export const handler = async () => 0;\n');
  return path.relative(repoRoot, file);
}

function report(
  packaged: PackagedFunction[],
  variants: VariantResult[],
  floor: ImportTiming,
  load: string,
): string {
  const lines: string[] = [];
  lines.push(
    `Targets: zip ≤ ${kb(ZIP_TARGET)}, cold import ≤ ${IMPORT_TARGET_MS} ms. Import = \`await import(bundle)\` in a ` +
      `fresh \`node\` (Node 24 from node_modules), median of ${RUNS} runs (± = interquartile range); CPU = ` +
      'user+system time of that import, ' +
      `less sensitive to other load than wall time (1-min load average when the run started: ${load}). ` +
      `An empty module imports in ${ms(floor.wallMs)} (CPU ${ms(floor.cpuMs)}).`,
    '',
    '### What `npm run package` ships',
    '',
    '| function | zip | bundle | import (wall) | import (CPU) | zip ≤ 1 MB | import ≤ 120 ms |',
    '|---|---:|---:|---:|---:|:---:|:---:|',
  );
  for (const p of packaged) {
    lines.push(
      `| ${p.name} | ${kb(p.zipBytes)} | ${kb(p.bundleBytes)} | ${ms(p.timing.wallMs)} | ${cpuCell(p.timing)} | ` +
        `${mark(p.zipBytes <= ZIP_TARGET)} | ${mark(p.timing.wallMs <= IMPORT_TARGET_MS)} |`,
    );
  }
  lines.push(
    '',
    '### esbuild variations (spotInterruption entry point)',
    '',
    '| variant | why | bundle | zip (est.) | import (wall) | import (CPU) |',
    '|---|---|---:|---:|---:|---:|',
  );
  for (const v of variants) {
    if (v.failed) {
      lines.push(
        `| ${v.variant.name} | ${v.variant.why} | ${kb(v.bundleBytes)} | | import failed: ${v.failed} | |`,
      );
      continue;
    }
    lines.push(
      `| ${v.variant.name} | ${v.variant.why} | ${kb(v.bundleBytes)} | ${kb(v.zipBytes)} | ${ms(v.timing.wallMs)} | ` +
        `${cpuCell(v.timing)} |`,
    );
    if (v.loadedTiming) {
      lines.push(
        `| ↳ same, import + first-use load | the deferred cost, paid by the first invocation | | | ` +
          `${ms(v.loadedTiming.wallMs)} | ${cpuCell(v.loadedTiming)} |`,
      );
    }
  }
  const configured = variants[0]!;
  lines.push('', '### What the numbers say', '', ...findings(variants));
  lines.push(
    '',
    '### Largest contributors to the configured bundle',
    '',
    '| package | bytes in bundle |',
    '|---|---:|',
    ...configured.topInputs.slice(0, 8).map(([pkg, bytes]) => `| ${pkg} | ${kb(bytes)} |`),
  );
  return lines.join('\n');
}

/** Plain-language reading of the variant table (CPU time: the steadier measure on a shared machine). */
function findings(variants: VariantResult[]): string[] {
  const by = (name: string) => variants.find((v) => v.variant.name === name && !v.failed);
  const base = variants[0]!;
  /** "+137 ms CPU", or "no measurable change" when within the runs' interquartile ranges. */
  const delta = (v: VariantResult) => {
    const d = v.timing.cpuMs - base.timing.cpuMs;
    const noise = Math.max(base.timing.cpuIqrMs, v.timing.cpuIqrMs);
    if (Math.abs(d) <= noise) return `no measurable change in import CPU (${ms(d)}, noise ±${ms(noise)})`;
    return `${d >= 0 ? '+' : '−'}${ms(Math.abs(d))} import CPU`;
  };
  const out: string[] = [];
  const map = by('+ linked source map');
  if (map)
    out.push(
      `- Source maps: zip ${kb(base.zipBytes)} → ${kb(map.zipBytes)}; off, or the 1 MB target is lost.`,
    );
  const sdk = by('@aws-sdk/* external');
  if (sdk) {
    out.push(
      `- \`@aws-sdk/*\` external: ${kb(base.zipBytes - sdk.zipBytes)} less zip, ${delta(sdk)} (many small ` +
        'CommonJS files instead of one tree-shaken ESM file); the runtime copy is not pinned either: bundled.',
    );
  }
  const cjs = by('CommonJS entry points first');
  if (cjs)
    out.push(`- CommonJS entry points first instead of ESM (\`mainFields: [module, main]\`): ${delta(cjs)}.`);
  const plain = by('not minified');
  if (plain) out.push(`- Not minified: ${kb(plain.zipBytes - base.zipBytes)} more zip, ${delta(plain)}.`);
  const names = by('without keepNames');
  if (names) out.push(`- Without keepNames: ${delta(names)}; kept for readable stack traces.`);
  const lazy = by('lazy handler (code sketch)');
  if (lazy?.loadedTiming) {
    out.push(
      `- Lazy loading shared/ behind \`await import()\` cuts the import to ${ms(lazy.timing.cpuMs)} CPU but the ` +
        `first invocation then pays ${ms(lazy.loadedTiming.cpuMs - lazy.timing.cpuMs)} more: without code splitting ` +
        'the whole file is still parsed at import, and the work only moves. The 120 ms target needs a smaller ' +
        'bundle: the largest parts are listed below.',
    );
  }
  const bytesOf = (pkg: string) => base.topInputs.find(([p]) => p === pkg)?.[1] ?? 0;
  const rare = ['@aws-sdk/client-sqs', '@aws-sdk/client-eks', '@aws-sdk/client-sts'];
  out.push(
    `- Lazy \`await import()\` of the rarely used SDK clients would defer little: ` +
      `${rare.map((p) => `${p.replace('@aws-sdk/', '')} ${kb(bytesOf(p))}`).join(', ')} of the bundle ` +
      '(SQS only re-queues long lifecycle drains, EKS is one DescribeCluster per container). The large one, ' +
      `client-ec2 (${kb(bytesOf('@aws-sdk/client-ec2'))}), serves DescribeInstances on the interruption path itself.`,
  );
  const costs = variants
    .filter((v) => v.variant.name.startsWith('what if: no ') && !v.failed)
    .map(
      (v) =>
        `${v.variant.name.slice('what if: no '.length)} ≈ ${ms(base.timing.cpuMs - v.timing.cpuMs)} ` +
        `(±${ms(Math.max(base.timing.cpuIqrMs, v.timing.cpuIqrMs))})`,
    );
  if (costs.length) {
    out.push(
      `- Import CPU attributable to single packages (bundle with the package stubbed out): ${costs.join(', ')}. ` +
        'These are the levers for the 120 ms target; they are code choices (shared/), not bundler options.',
    );
  }
  return out;
}
