#!/usr/bin/env node
// Entry point of the `spotguard` command. Plain JavaScript so that an old Node can still run it far
// enough to say what is wrong; the CLI itself is TypeScript that Node 24 runs by stripping types.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  process.stderr.write(
    `spotguard needs Node 24 (this is Node ${process.versions.node}); ` +
      'run it through npm/npx in the project so the pinned node is used, e.g. `npx spotguard --help`\n',
  );
  process.exit(1);
}

// Node may announce that type stripping is experimental; that is noise for CLI users.
const emitWarning = process.emitWarning;
process.emitWarning = function filterTypeStrippingWarning(warning, ...args) {
  const text = typeof warning === 'string' ? warning : warning?.message;
  if (typeof text === 'string' && /type stripping/i.test(text)) return;
  return emitWarning.call(process, warning, ...args);
};

const { main } = await import('./main.ts');
const code = await main(process.argv.slice(2));
// Exit explicitly (after stdout is flushed) so a leftover socket or timer cannot keep the CLI alive.
process.stdout.write('', () => process.exit(code));
