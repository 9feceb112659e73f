/**
 * `npm run dashboards`: writes the dashboards built in dashboards/src/ (Grafana's typed
 * builder, @grafana/grafana-foundation-sdk) as JSON into dashboards/, and removes JSON files
 * there that no longer come from the code. dashboards.test.ts fails when the committed JSON
 * differs from what the code builds.
 */
import { readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderDashboards } from './src/index.ts';

const dir = path.dirname(fileURLToPath(import.meta.url));
const files = renderDashboards();
for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
for (const f of readdirSync(dir)) if (f.endsWith('.json') && !(f in files)) unlinkSync(path.join(dir, f));
process.stdout.write(`${Object.keys(files).join('\n')}\n`);
