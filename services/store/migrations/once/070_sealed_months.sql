-- Sealed months (plain PostgreSQL; with TimescaleDB these relations stay empty). A month of
-- observation_values that ended more than VIGIE_COMPRESS_AFTER_DAYS ago is rewritten sorted by
-- (series_id, time) into a partition of observation_values_sealed and its hot partition is
-- dropped (services/timeseries/sealing.ts). A sealed row costs its heap tuple only: no primary
-- key, a BRIN index on (series_id, time), which the sorted rows keep narrow. Late rows for a
-- sealed month stay idempotent through advisory locks (services/store/write-batch.ts).

-- Same columns, in the same order, as observation_values (once/050_narrow_observations.sql).
create table observation_values_sealed (
  time      timestamptz      not null,
  value     double precision not null,
  series_id integer          not null,
  batch_id  integer          not null,
  quality   smallint
) partition by range (time);

-- Late rows for a month that had no hot partition when it was sealed (rare, and few).
create table observation_values_sealed_default partition of observation_values_sealed default;

-- pages_per_range 16: chosen by measuring the reads of one series' day (docs/performance.md,
-- "npm run bench:storage"); about 2,400 rows per range, so that day is a range or two.
create index observation_values_sealed_brin on observation_values_sealed
  using brin (series_id, time) with (pages_per_range = 16);

-- Rows older than sealed_before belong to observation_values_sealed; later ones to
-- observation_values. Only the sealing step moves it forward, under the exclusive advisory
-- lock that every writer takes in shared mode.
create table observation_seal (
  one           boolean     primary key default true check (one),
  sealed_before timestamptz not null
);
insert into observation_seal (sealed_before) values ('-infinity');

-- Every raw row, hot or sealed. A plain UNION ALL with identical column lists: filters reach
-- both branches and their partitions are pruned.
create view observation_rows as
select time, value, series_id, batch_id, quality from observation_values
union all
select time, value, series_id, batch_id, quality from observation_values_sealed;
