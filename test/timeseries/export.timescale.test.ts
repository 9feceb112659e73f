/** export.test.ts again, in the TimescaleDB storage mode (see runInStorageMode in test/helpers/database.ts). */
import { runInStorageMode } from '../helpers/database.ts';

await runInStorageMode('timescale', () => import('./export.test.ts'));
