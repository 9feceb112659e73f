-- Vigie base schema. Run once; never edit after release (the runner checks checksums).

create table devices (
  id             text primary key,
  name           text,
  kind           text,
  domain         text,
  -- true when the device is in the registry file; unregistered devices are kept, never dropped.
  registered     boolean not null default false,
  lat            double precision,
  lon            double precision,
  site           text,
  road           jsonb,
  building       jsonb,
  profile        text,
  period_seconds integer,
  tags           jsonb not null default '{}'::jsonb,
  first_seen     timestamptz,
  last_seen      timestamptz,
  updated_at     timestamptz not null default now()
);

-- One row per (device, metric, channel, observed time): the key makes redelivery idempotent.
create table observations (
  device_id   text             not null,
  metric      text             not null,
  channel     text             not null default '',
  time        timestamptz      not null,
  received_at timestamptz      not null,
  value       double precision not null,
  quality     smallint         not null default 0,
  constraint observations_pkey primary key (device_id, metric, channel, time)
);
create index observations_time_idx on observations (time);
create index observations_device_time_idx on observations (device_id, time);

-- Latest value per series, maintained at commit, so "now" views never scan history.
create table latest_observations (
  device_id   text             not null,
  metric      text             not null,
  channel     text             not null default '',
  time        timestamptz      not null,
  received_at timestamptz      not null,
  value       double precision not null,
  quality     smallint         not null default 0,
  primary key (device_id, metric, channel)
);

-- Rejected messages with the reason. Identical rejections (same topic, payload, code and
-- field, e.g. a QoS 1 redelivery or a device repeating itself) count up instead of piling up.
create table dead_letters (
  id               bigserial primary key,
  first_received   timestamptz not null,
  received_at      timestamptz not null,
  occurrences      integer     not null default 1,
  topic            text        not null,
  decoder          text,
  device_id        text,
  code             text        not null,
  reason           text        not null,
  field            text        not null default '',
  payload          bytea       not null,
  payload_size     integer     not null,
  payload_sha256   bytea       not null,
  constraint dead_letters_identity unique (payload_sha256, topic, code, field)
);
create index dead_letters_received_idx on dead_letters (received_at);
create index dead_letters_device_idx on dead_letters (device_id, received_at);
create index dead_letters_code_idx on dead_letters (code, received_at);
