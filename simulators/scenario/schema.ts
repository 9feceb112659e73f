/**
 * Scenario files (YAML or JSON, simulators/scenarios/*.yaml): which devices of a registry to
 * simulate, from which model instant and for how long, what the world does to them
 * (conditions), which faults to inject, and what a Vigie must make of it (expected alerts,
 * alerts that must not happen, value bounds). Times inside a scenario are durations from its
 * start (`2h30m`). Validated with zod; an invalid file is refused with the path of the error.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../fleet/durations.ts';
import { faultSpecSchema } from '../fleet/faults.ts';

const offset = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `not a duration: ${v} (500ms, 30s, 10m, 2h, 1d, 1h30m)` });
    return z.NEVER;
  }
  return ms;
});
const ids = z.array(z.string().min(1)).min(1).optional();

const windowShape = { from: offset.default(0), to: offset.optional() };

export const scenarioSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/),
    description: z.string().optional(),
    /** Registry file the devices come from, relative to the scenario file (the Vigie under test must load the same). */
    registry: z.string().default('../../infra/demo/devices.yaml'),
    devices: z.array(z.string().min(1)).min(1),
    /** Model time of the start: ISO 8601 with a zone. The run moves observation times so the scenario ends now. */
    start: z.string().refine((s) => /(Z|[+-]\d\d:?\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time with a zone'),
    span: offset,
    seed: z.number().int().default(1),
    /**
     * Model seconds per wall second when run (the command line's --speed wins). Default 3600. `max`
     * publishes the whole scenario in one burst: right for rules judged by Vigie's own clock
     * (offline devices), wrong for rules on values (Vigie evaluates a commit on its latest values).
     */
    speed: z.union([z.number().positive(), z.literal('max')]).optional(),
    /** Every device reports at this period (seconds) instead of its registry period. */
    periodSeconds: z.number().int().positive().optional(),
    conditions: z
      .object({
        weather: z.array(z.object({ ...windowShape, devices: ids, cloud: z.number().min(0).max(1).optional(), precipitation: z.number().min(0).max(200).optional(), airOffset: z.number().min(-40).max(40).optional(), dewDepression: z.number().min(0).max(40).optional(), wind: z.number().min(0).max(60).optional() }).strict()).default([]),
        salting: z.array(z.object({ at: offset, grams: z.number().positive().max(100), devices: ids }).strict()).default([]),
        incidents: z.array(z.object({ ...windowShape, device: z.string(), lanes: z.array(z.string()).min(1), capacity: z.number().min(0).max(3000), distance: z.number().min(0).max(20_000) }).strict()).default([]),
        buildings: z.array(z.object({ ...windowShape, kind: z.enum(['boiler-fault', 'ventilation']), building: z.string().optional(), devices: ids, factor: z.number().min(0).max(10).optional() }).strict()).default([]),
        holidays: z.array(z.tuple([z.string(), z.string()])).default([]),
      })
      .strict()
      .default({ weather: [], salting: [], incidents: [], buildings: [], holidays: [] }),
    faults: z.array(faultSpecSchema).default([]),
    expect: z
      .object({
        /** Each must be found: an alert of `rule` on `device` (and `channel`) that started within [from, to]. */
        alerts: z.array(z.object({ rule: z.string(), device: z.string(), channel: z.string().optional(), ...windowShape }).strict()).default([]),
        /** None may be found during the run: `rule` on `device` (every scenario device when absent). */
        absent: z.array(z.object({ rule: z.string(), device: z.string().optional(), channel: z.string().optional() }).strict()).default([]),
        /**
         * Stored observations of `metric` within [from, to]: their minimum and maximum must lie in
         * the bounds given, and there must be at least `count` and at most `maxCount` of them.
         */
        values: z
          .array(
            z
              .object({ device: z.string(), metric: z.string(), channel: z.string().optional(), ...windowShape, min: z.object({ atLeast: z.number().optional(), atMost: z.number().optional() }).strict().optional(), max: z.object({ atLeast: z.number().optional(), atMost: z.number().optional() }).strict().optional(), count: z.number().int().min(0).optional(), maxCount: z.number().int().min(0).optional() })
              .strict(),
          )
          .default([]),
      })
      .strict()
      .default({ alerts: [], absent: [], values: [] }),
  })
  .strict()
  .superRefine((s, ctx) => {
    const known = new Set(s.devices);
    const check = (id: string | undefined, p: (string | number)[]) => {
      if (id !== undefined && !known.has(id)) ctx.addIssue({ code: 'custom', path: p, message: `device ${id} is not in the scenario's devices` });
    };
    s.expect.alerts.forEach((a, i) => check(a.device, ['expect', 'alerts', i, 'device']));
    s.expect.absent.forEach((a, i) => check(a.device, ['expect', 'absent', i, 'device']));
    s.expect.values.forEach((a, i) => check(a.device, ['expect', 'values', i, 'device']));
  });
export type Scenario = z.infer<typeof scenarioSchema> & { file: string; dir: string };

/** Shipped scenarios: `--scenario ice-night` finds simulators/scenarios/ice-night.yaml. */
export const SCENARIOS_DIR = path.resolve(import.meta.dirname, '../scenarios');

export function scenarioPath(nameOrFile: string): string {
  return /[/\\]|\.(ya?ml|json)$/.test(nameOrFile) ? path.resolve(nameOrFile) : path.join(SCENARIOS_DIR, `${nameOrFile}.yaml`);
}

export function loadScenario(nameOrFile: string): Scenario {
  const file = scenarioPath(nameOrFile);
  if (!existsSync(file)) {
    const shipped = readdirSync(SCENARIOS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5));
    throw new Error(`no scenario ${nameOrFile} (${file}); shipped: ${shipped.join(', ')}`);
  }
  const text = readFileSync(file, 'utf8');
  const parsed = scenarioSchema.safeParse(file.endsWith('.json') ? JSON.parse(text) : parseYaml(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { ...parsed.data, file, dir: path.dirname(file) };
}
