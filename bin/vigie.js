#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `vigie` works from a clean checkout without a build.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
