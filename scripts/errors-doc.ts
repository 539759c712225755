// Rewrites the code tables of docs/errors.md from the registry: `npx tsx scripts/errors-doc.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import { withCurrentTables } from '../src/errors/doc.ts';

const file = new URL('../docs/errors.md', import.meta.url);
writeFileSync(file, withCurrentTables(readFileSync(file, 'utf8')));
