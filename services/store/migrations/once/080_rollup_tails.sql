-- Plain-PostgreSQL rollups are brought up to date incrementally when they can be. With each
-- stale (series, hour) the ingest now records the earliest observation time it brought to that
-- hour. When that time is after the hour's materialized last_time, every row the rollup lacks
-- is after last_time (a row at or before it was either counted or marked the hour with an
-- earlier time), so the worker merges only those rows instead of re-reading the whole hour
-- (services/timeseries/rollups.ts). Marks without a time (written before this migration, or
-- by inserts through the observations view) mean "recompute the whole hour".
alter table ingest_batches add column stale_from timestamptz[];
alter table rollup_dirty add column from_time timestamptz not null default '-infinity';
