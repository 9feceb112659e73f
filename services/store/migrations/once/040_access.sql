-- Access control: API tokens (stored as SHA-256 digests of their random secret, never in
-- clear) and the audit log of every write. Run once; never edit after release.

create table api_tokens (
  -- Public id, shown in listings and in the token itself (vgt_<id>_<secret>); not a secret.
  id            text primary key,
  name          text        not null default '',
  role          text        not null check (role in ('viewer', 'operator', 'engineer', 'admin', 'integration')),
  -- null: every domain; else a JSON array of grants [{domain, routes?, buildings?}].
  domains       jsonb,
  -- SHA-256 of the whole token string: a 256-bit random secret needs no slow hash.
  secret_sha256 bytea       not null unique,
  created_at    timestamptz not null default now(),
  created_by    text        not null,
  expires_at    timestamptz,
  revoked_at    timestamptz,
  revoked_by    text,
  -- Updated at most once per VIGIE_TOKEN_TOUCH_MS per process, not at every request.
  last_used_at  timestamptz
);

create table audit_log (
  id          bigserial   primary key,
  at          timestamptz not null default now(),
  -- Who: `token:<id>`, `oidc:<user>`, `cli:<os user>`, `system`, or null when anonymous.
  subject     text,
  role        text,
  token_id    text,
  -- What: `POST /api/v1/rules/:id`, `token.create`, ...; target: path parameters or ids.
  action      text        not null,
  target      jsonb       not null default '{}'::jsonb,
  status      integer,
  -- From where: client address (VIGIE_HTTP_TRUST_PROXY decides whether X-Forwarded-For counts) or `cli`.
  source      text,
  user_agent  text
);
create index audit_log_at_idx on audit_log (at);
create index audit_log_subject_idx on audit_log (subject, at);
