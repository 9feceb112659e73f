/**
 * A map of stations (devices.lat/lon from the registry's `position`) coloured by a level
 * column, with the level's value mapping as legend.
 */
import { FrameGeometrySourceMode, type MapLayerOptions } from '@grafana/grafana-foundation-sdk/common';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { PanelBuilder as GeomapPanel } from '@grafana/grafana-foundation-sdk/geomap';
import { valueMap } from './common.ts';
import { sql } from './postgres-query.ts';

const layer = (field: string): cog.Builder<MapLayerOptions> => ({
  build: () => ({
    type: 'markers',
    name: 'Stations',
    location: { mode: FrameGeometrySourceMode.Coords, latitude: 'latitude', longitude: 'longitude' },
    tooltip: true,
    config: { showLegend: true, style: { color: { field, fixed: 'text' }, size: { fixed: 8 }, opacity: 0.9, symbol: { fixed: 'img/icons/marker/circle.svg', mode: 'fixed' } } },
  }),
});

const basemap: cog.Builder<MapLayerOptions> = { build: () => ({ type: 'default', name: 'Basemap' }) };

export function stationsMap(title: string, query: string, field: string, levels: Array<{ value: number; text: string; color: string }>) {
  return new GeomapPanel()
    .title(title)
    .description('Stations without a position in the registry are not drawn.')
    .mappings([valueMap(levels)])
    .basemap(basemap)
    .layers([layer(field)])
    .view({ build: () => ({ id: 'fit', lat: 46.5, lon: 2.5, zoom: 8, allLayers: true }) })
    .withTarget(sql(`select * from (${query}) m where m.latitude is not null and m.longitude is not null`, 'table'));
}
