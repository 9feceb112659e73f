/** Pieces shared by the dashboards: the dashboard shell, value mappings, SQL fragments. */
import { DashboardBuilder, DashboardCursorSync, MappingType, type ValueMap } from '@grafana/grafana-foundation-sdk/dashboard';

export function dashboard(uid: string, title: string, tags: string[]) {
  return new DashboardBuilder(title)
    .uid(uid)
    .tags(['vigie', ...tags])
    .timezone('Europe/Paris')
    .tooltip(DashboardCursorSync.Crosshair)
    .refresh('1m')
    .time({ from: 'now-24h', to: 'now' })
    .readonly();
}

export function valueMap(entries: Array<{ value: number; text: string; color: string }>): ValueMap {
  const options: ValueMap['options'] = {};
  entries.forEach((e, index) => (options[String(e.value)] = { text: e.text, color: e.color, index }));
  return { type: MappingType.ValueToText, options };
}

/** Series name: the device, then the channel when there is one. */
export const DEVICE_CHANNEL = `d.id || case when x.channel <> '' then ' ' || x.channel else '' end`;
