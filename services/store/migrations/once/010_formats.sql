-- Wire formats: device online state (Sparkplug B BIRTH/DEATH) and dead-letter replay.

-- null: the wire format says nothing about presence (most devices); true/false: the last
-- BIRTH or DEATH said so, at status_changed_at.
alter table devices add column online boolean;
alter table devices add column status_changed_at timestamptz;
alter table devices add column status_reason text;

-- A replay that stored the message marks it replayed (it is never replayed again); a replay
-- that failed again counts the attempt and keeps the newest reason.
alter table dead_letters add column replayed_at timestamptz;
alter table dead_letters add column replay_attempts integer not null default 0;
create index dead_letters_open_idx on dead_letters (received_at) where replayed_at is null;
