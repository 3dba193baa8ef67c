-- Accounts and access control (docs/ACCESS.md): client organisations, users and their roles, time-boxed
-- access, sessions, API keys, every login attempt, and the audit trail of every state change.
-- Secrets are never stored: passwords as argon2id hashes, session tokens and API keys as SHA-256 digests.

-- A client organisation. A user of role `client` belongs to exactly one; the rows a client owns elsewhere
-- (hosting_miners, plans, invoices) carry its id, and row-level security keys on it (1001).
CREATE TABLE clients (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (name = btrim(name) AND length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX clients_name ON clients (lower(name));

CREATE TABLE users (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email                 text NOT NULL CHECK (email = lower(btrim(email)) AND length(email) BETWEEN 3 AND 254),
    name                  text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role                  text NOT NULL CHECK (role IN ('owner', 'admin', 'user', 'client', 'guest')),
    status                text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    client_id             uuid REFERENCES clients,
    password_hash         text NOT NULL,
    -- Set by an administrator's reset: until the user chooses a password, only that is allowed.
    must_change_password  boolean NOT NULL DEFAULT false,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'client') = (client_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email ON users (email);

-- Time-boxed access: a user may act only while one of its windows covers the present (checked on every
-- request). ends_at NULL = until revoked; a revoke ends every open window now.
CREATE TABLE user_access (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz CHECK (ends_at >= starts_at),
    granted_by  uuid REFERENCES users,
    -- Who granted it, as the audit trail names actors (`user:<email>`, `cli:<account>@<host>`).
    granted_via text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_access_user ON user_access (user_id, starts_at);

CREATE TABLE sessions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id         uuid NOT NULL REFERENCES users,
    token_hash      bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    revoked_at      timestamptz,
    revoked_reason  text,
    ip              inet,
    user_agent      text CHECK (length(user_agent) <= 512)
);
CREATE INDEX sessions_user_open ON sessions (user_id) WHERE revoked_at IS NULL;

-- For scripts and Grafana: a key acts as its user, with at most the key's role.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users,
    name          text NOT NULL CHECK (name = btrim(name) AND length(name) BETWEEN 1 AND 100),
    role          text NOT NULL CHECK (role IN ('owner', 'admin', 'user', 'client', 'guest')),
    key_hash      bytea NOT NULL UNIQUE,
    -- The first characters of the key, shown in lists so a person can tell keys apart.
    prefix        text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    uuid REFERENCES users,
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE UNIQUE INDEX api_keys_user_name ON api_keys (user_id, name) WHERE revoked_at IS NULL;

-- Every login attempt, known email or not.
CREATE TABLE login_records (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         text NOT NULL CHECK (length(email) <= 320),
    user_id       uuid REFERENCES users,
    success       boolean NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('ok', 'bad_credentials', 'locked', 'suspended', 'no_access')),
    attempted_at  timestamptz NOT NULL DEFAULT now(),
    ip            inet,
    city          text CHECK (length(city) <= 100),
    country       text CHECK (length(country) <= 100),
    user_agent    text CHECK (length(user_agent) <= 512)
);
CREATE INDEX login_records_email ON login_records (email, attempted_at DESC);
CREATE INDEX login_records_ip ON login_records (ip, attempted_at DESC);
CREATE INDEX login_records_time ON login_records (attempted_at DESC);

-- Who did what to what, when, with the state before and after; written in the transaction of the change
-- (windhash_common.audit) together with its event in the outbox. Append-only: no role may update or delete.
CREATE TABLE audit_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    actor_user_id  uuid REFERENCES users,
    actor          text NOT NULL,
    action         text NOT NULL,
    target_type    text NOT NULL,
    target_id      text,
    before         jsonb,
    after          jsonb,
    ip             inet
);
CREATE INDEX audit_log_time ON audit_log (occurred_at DESC);
CREATE INDEX audit_log_target ON audit_log (target_type, target_id, occurred_at DESC);
