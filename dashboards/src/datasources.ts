/**
 * The datasources every dashboard refers to, by the uids that infra/grafana/provisioning/
 * gives them (a provisioned uid is stable, so dashboards survive a Grafana rebuild).
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const PG: DataSourceRef = { type: 'grafana-postgresql-datasource', uid: 'vigie-pg' };
export const PROM: DataSourceRef = { type: 'prometheus', uid: 'vigie-prom' };
