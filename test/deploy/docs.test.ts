// The README's deployment section documents every serverless.yml param and every environment
// variable the functions get, so the table cannot silently fall behind the configuration.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../scripts/package.ts';

const passThrough = (tag: string) => ({ tag, resolve: (v: string) => v });
const sls = parse(readFileSync(path.join(repoRoot, 'serverless.yml'), 'utf8'), {
  customTags: ['!Sub', '!GetAtt', '!Ref'].map(passThrough),
}) as {
  params: { default: Record<string, unknown> };
  provider: { environment: Record<string, unknown> };
  functions: Record<string, { environment?: Record<string, unknown> }>;
};
const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const deployment = readme.slice(
  readme.indexOf('<!-- section:deployment -->'),
  readme.indexOf('## Development'),
);

describe('README § Deployment', () => {
  it('documents every param of serverless.yml', () => {
    const missing = Object.keys(sls.params.default).filter((p) => !deployment.includes(`\`${p}\``));
    expect(missing).toEqual([]);
  });

  it('names every environment variable the functions are given', () => {
    const vars = [
      ...Object.keys(sls.provider.environment),
      ...Object.values(sls.functions).flatMap((f) => Object.keys(f.environment ?? {})),
    ];
    expect(vars.filter((v) => !deployment.includes(v))).toEqual([]);
  });
});
