-- Alerting: rules (file and API), per-key evaluation state, alerts with their timeline,
-- notification deliveries and silences. Run once; never edit after release.

-- Every rule the engine runs. File rules are re-synced from VIGIE_RULES_DIR at start;
-- API rules live only here. `source` tells the API where each rule came from.
create table alert_rules (
  id          text primary key,
  source      text        not null check (source in ('file', 'api')),
  origin      text,
  definition  jsonb       not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- Evaluation state per (rule, device, channel), so a restart in the middle of a `for`
-- window neither resets it nor fires twice (a timer kept only in memory would restart from zero).
create table alert_rule_state (
  rule_id     text        not null,
  device_id   text        not null,
  channel     text        not null default '',
  phase       text        not null check (phase in ('idle', 'pending', 'firing')),
  since       timestamptz,
  fired_at    timestamptz,
  last_eval   timestamptz,
  last_true   timestamptz,
  last_value  double precision,
  streak      jsonb,
  alert_id    bigint,
  updated_at  timestamptz not null default now(),
  primary key (rule_id, device_id, channel)
);

create table alerts (
  id           bigserial primary key,
  rule_id      text        not null,
  rule_name    text        not null,
  severity     text        not null,
  domain       text,
  device_id    text        not null,
  channel      text        not null default '',
  state        text        not null check (state in ('pending', 'firing', 'resolved')),
  -- Observed times: when the condition started to hold, when the alert fired, cleared.
  started_at   timestamptz not null,
  fired_at     timestamptz,
  resolved_at  timestamptz,
  last_value   double precision,
  summary      text        not null,
  silenced     boolean     not null default false,
  silence_id   bigint,
  acked_at     timestamptz,
  acked_by     text,
  ack_comment  text,
  escalated_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
-- One open alert per rule, device and channel: repeated triggers update it.
create unique index alerts_open_key on alerts (rule_id, device_id, channel) where state <> 'resolved';
create index alerts_started_idx on alerts (started_at);
create index alerts_device_idx on alerts (device_id, started_at);
create index alerts_state_idx on alerts (state, severity);

-- The timeline: every state change, acknowledgement, silence and escalation.
create table alert_events (
  id        bigserial primary key,
  alert_id  bigint      not null references alerts (id) on delete cascade,
  type      text        not null,
  -- Observed time for state changes; wall time for human actions and notifications.
  time      timestamptz not null,
  at        timestamptz not null default now(),
  value     double precision,
  detail    jsonb       not null default '{}'::jsonb
);
create index alert_events_alert_idx on alert_events (alert_id, id);

create table alert_deliveries (
  id          bigserial primary key,
  alert_id    bigint      not null references alerts (id) on delete cascade,
  event       text        not null,
  target      text        not null,
  attempt     integer     not null,
  status      text        not null check (status in ('delivered', 'failed')),
  http_status integer,
  error       text,
  at          timestamptz not null default now()
);
create index alert_deliveries_alert_idx on alert_deliveries (alert_id, id);

create table alert_silences (
  id          bigserial primary key,
  scope       jsonb       not null,
  starts_at   timestamptz not null,
  ends_at     timestamptz not null,
  reason      text        not null,
  created_by  text        not null,
  created_at  timestamptz not null default now(),
  deleted_at  timestamptz
);
create index alert_silences_time_idx on alert_silences (ends_at);
