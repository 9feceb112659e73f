/**
 * Rules: list (with where each comes from), create/replace/delete API rules, and backtests
 * of a saved rule or of a rule body not saved yet. File rules are read-only here: they
 * change with the deployment's rules folder.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { bodyDateSchema, ruleIdSchema, ruleSchema } from '../../../schemas/alerting.ts';
import { badRequest, notFound } from '../../api/errors.ts';
import { errorSchema, listParam } from '../../api/query-params.ts';
import { scopeVisible, scopeWithin } from '../../auth/scope.ts';
import { VigieError } from '../../errors.ts';
import type { FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Rule } from '../../../schemas/alerting.ts';
import { runBacktest } from '../backtest.ts';
import type { AlertingRuntime } from '../runtime.ts';
import { deleteApiRule, getRule, insertApiRule, listRules, ruleSource, updateApiRule } from '../store/rules.ts';
import { ruleViewSchema } from './schemas.ts';

const MAX_BACKTEST_DAYS = 400;

const rangeSchema = {
  from: bodyDateSchema,
  to: bodyDateSchema,
  devices: z.array(z.string().max(128)).max(10_000).optional(),
};

const backtestResultSchema = z.object({
  ruleId: z.string(),
  from: z.string(),
  to: z.string(),
  devices: z.number(),
  observations: z.number(),
  transitions: z.array(z.object({ time: z.string(), kind: z.string(), deviceId: z.string(), channel: z.string(), value: z.number().nullable(), reason: z.string() })),
  alerts: z.array(z.object({ deviceId: z.string(), channel: z.string(), pendingAt: z.string().nullable(), firedAt: z.string().nullable(), resolvedAt: z.string().nullable() })),
});

function checkRange(from: Date, to: Date): void {
  if (!(to > from)) throw badRequest('to must be after from', 'to');
  if (to.getTime() - from.getTime() > MAX_BACKTEST_DAYS * 86_400_000) throw badRequest(`a backtest covers at most ${MAX_BACKTEST_DAYS} days`, 'to');
}

function readOnly(id: string): VigieError {
  return new VigieError('VIGIE_ERR_RULE_READONLY', `rule ${id} comes from a rule file; change the file in the rules folder instead`, { statusCode: 409 });
}

/** A scoped identity sees rules of its domains (and domain-less ones naming nothing of others). */
async function visible(req: FastifyRequest, rule: Rule): Promise<boolean> {
  const id = req.identity!;
  return id.domains === 'all' || scopeVisible(rule.scope, id.domains, await req.deviceScope());
}

/** A scoped identity writes only rules confined to its domains. */
function writable(req: FastifyRequest, rule: Rule): void {
  if (!scopeWithin(rule.scope, req.identity!.domains)) {
    throw new VigieError('VIGIE_ERR_FORBIDDEN', 'this identity may only write rules whose scope stays inside its domains (scope.domain, and its routes or buildings)', { statusCode: 403 });
  }
}

/**
 * The rule a write (PUT, DELETE) replaces: 404 if absent or out of the caller's view, 409 if it
 * comes from a file. A stored rule that no longer validates cannot show its scope, so only an
 * identity granted every domain may replace or delete it.
 */
async function loadForWrite(req: FastifyRequest, pool: pg.Pool, id: string): Promise<void> {
  const source = await ruleSource(pool, id);
  if (!source) throw notFound(`no rule ${id}`);
  let row: Awaited<ReturnType<typeof getRule>> = null;
  try {
    row = await getRule(pool, id);
  } catch (err) {
    if ((err as VigieError).code !== 'VIGIE_ERR_RULE_UNLOADABLE') throw err;
    if (req.identity!.domains !== 'all') throw notFound(`no rule ${id}`);
  }
  if (row && !(await visible(req, row.rule))) throw notFound(`no rule ${id}`);
  if (source === 'file') throw readOnly(id);
  if (row) writable(req, row.rule);
}

function notifyAllowed(problem: string | null): void {
  if (problem) throw new VigieError('VIGIE_ERR_TARGET_NOT_ALLOWED', `notify: ${problem}`, { statusCode: 400 });
}

export async function ruleRoutes(app: FastifyInstance, opts: { runtime: AlertingRuntime }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { runtime } = opts;
  const { pool } = runtime;
  const idParams = z.object({ id: ruleIdSchema });

  r.get(
    '/rules',
    {
      schema: {
        tags: ['rules'],
        summary: 'Every rule, with its source (file or api) and origin file',
        querystring: z.object({ source: z.enum(['file', 'api']).optional(), severity: listParam.optional() }),
        response: { 200: z.object({ items: z.array(ruleViewSchema) }), 400: errorSchema },
      },
    },
    async (req) => {
      let items = await listRules(pool);
      const shown = await Promise.all(items.map((i) => visible(req, i.rule)));
      items = items.filter((_, i) => shown[i]);
      if (req.query.source) items = items.filter((i) => i.source === req.query.source);
      if (req.query.severity) items = items.filter((i) => req.query.severity!.includes(i.rule.severity));
      return { items };
    },
  );
  r.get('/rules/:id', { schema: { tags: ['rules'], summary: 'One rule', params: idParams, response: { 200: ruleViewSchema, 400: errorSchema, 404: errorSchema } } }, async (req) => {
    const row = await getRule(pool, req.params.id);
    if (!row || !(await visible(req, row.rule))) throw notFound(`no rule ${req.params.id}`);
    return row;
  });
  r.post(
    '/rules',
    { config: { access: 'engineer' }, schema: { tags: ['rules'], summary: 'Create an API rule', body: ruleSchema, response: { 201: ruleViewSchema, 400: errorSchema, 403: errorSchema, 409: errorSchema } } },
    async (req, reply) => {
      writable(req, req.body);
      notifyAllowed(await runtime.checkTargets(req.body));
      if (!(await insertApiRule(pool, req.body))) throw new VigieError('VIGIE_ERR_RULE_EXISTS', `rule ${req.body.id} already exists`, { statusCode: 409 });
      await runtime.reloadRules();
      reply.status(201);
      return (await getRule(pool, req.body.id))!;
    },
  );
  r.put(
    '/rules/:id',
    { config: { access: 'engineer' }, schema: { tags: ['rules'], summary: 'Replace an API rule (its open alerts and state are kept)', params: idParams, body: ruleSchema, response: { 200: ruleViewSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema } } },
    async (req) => {
      if (req.body.id !== req.params.id) throw badRequest('the body id must match the path id', 'id');
      await loadForWrite(req, pool, req.params.id);
      writable(req, req.body);
      notifyAllowed(await runtime.checkTargets(req.body));
      await updateApiRule(pool, req.body);
      await runtime.reloadRules();
      return (await getRule(pool, req.params.id))!;
    },
  );
  r.delete(
    '/rules/:id',
    { config: { access: 'engineer' }, schema: { tags: ['rules'], summary: 'Delete an API rule; its open alerts are resolved', params: idParams, response: { 204: z.null(), 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema } } },
    async (req, reply) => {
      await loadForWrite(req, pool, req.params.id);
      await deleteApiRule(pool, req.params.id);
      await runtime.reloadRules();
      reply.status(204);
      return null;
    },
  );
  r.post(
    '/rules/:id/backtest',
    {
      config: { access: 'engineer' },
      schema: {
        tags: ['rules'],
        summary: 'Run a saved rule over stored history; nobody is notified',
        params: idParams,
        body: z.object(rangeSchema).strict(),
        response: { 200: backtestResultSchema, 400: errorSchema, 404: errorSchema, 413: errorSchema },
      },
    },
    async (req) => {
      const row = await getRule(pool, req.params.id);
      if (!row || !(await visible(req, row.rule))) throw notFound(`no rule ${req.params.id}`);
      checkRange(req.body.from, req.body.to);
      return runBacktest(pool, runtime.deviceInfo, { rule: row.rule, from: req.body.from, to: req.body.to, devices: (await req.deviceScope()).restrict(req.body.devices) });
    },
  );
  r.post(
    '/rules/backtest',
    {
      config: { access: 'engineer' },
      schema: {
        tags: ['rules'],
        summary: 'Run a rule body (not saved) over stored history; nobody is notified',
        body: z.object({ rule: ruleSchema, ...rangeSchema }).strict(),
        response: { 200: backtestResultSchema, 400: errorSchema, 413: errorSchema },
      },
    },
    async (req) => {
      checkRange(req.body.from, req.body.to);
      return runBacktest(pool, runtime.deviceInfo, { rule: req.body.rule, from: req.body.from, to: req.body.to, devices: (await req.deviceScope()).restrict(req.body.devices) });
    },
  );
}
