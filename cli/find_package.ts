import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/util/paths.js';

/** $(find-pkg-share pkg): this package's own root, else an ament prefix that has it. */
export function findPackageShare(pkg: string): string {
  if (pkg === 'dynastack') return packageRoot();
  for (const prefix of (process.env.AMENT_PREFIX_PATH ?? '').split(':').filter(Boolean)) {
    const share = join(prefix, 'share', pkg);
    if (existsSync(share)) return share;
  }
  throw new Error(`package '${pkg}' not found (not dynastack, and not under AMENT_PREFIX_PATH)`);
}
