import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** One partition of the SDK's partition table, with one of its regions (not the `*-global` pseudo-region). */
export interface SdkPartition {
  readonly id: string;
  readonly region: string;
}

/**
 * The partitions the installed AWS SDK knows (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc, ...), read from
 * its own partition table (`@aws-sdk/core`'s util-endpoints `partitions`), so that a partition AWS adds is
 * tested as soon as the SDK knows it. Throws when the table cannot be found: a test must not pass on nothing.
 */
export function sdkPartitions(): SdkPartition[] {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('@aws-sdk/core/package.json'));
  const text = readFileSync(join(root, 'dist-es/submodules/client/util-endpoints/lib/aws/partitions.js'), 'utf8');
  const table = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as {
    partitions: { id: string; regions: Record<string, unknown> }[];
  };
  const out = table.partitions.map((p) => {
    const region = Object.keys(p.regions).find((r) => !r.endsWith('-global'));
    if (!region) throw new Error(`partition ${p.id} has no region in the SDK's table`);
    return { id: p.id, region };
  });
  if (out.length === 0) throw new Error("the SDK's partition table is empty");
  return out;
}
