-- Broker credentials: devices, gateways (network-server integrations, Sparkplug edge nodes,
-- NGSI partners) and integrations connect to the MQTT broker with a generated secret that is
-- shown once and stored only as hashes (services/broker-auth/password.ts): scrypt for the
-- embedded broker, Mosquitto's PBKDF2-SHA512 `$7$` form for `vigie mosquitto-config`.
create table broker_credentials (
  id text primary key,
  kind text not null check (kind in ('device', 'gateway', 'integration')),
  username text not null,
  -- Gateways: { tts: [...], chirpstack: [...], sparkplug: ["group/node"], ngsi: bool }.
  scopes jsonb,
  secret_hash text not null,
  mosquitto_hash text not null,
  label text,
  created_at timestamptz not null default now(),
  revoked_at timestamptz
);
create index broker_credentials_active on broker_credentials (username) where revoked_at is null;
