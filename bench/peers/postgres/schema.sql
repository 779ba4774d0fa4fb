-- VoxDB's schema in PostgreSQL 15: the peer system of the benchmark
-- (WORKLOAD.md). The seed's schema (shared/seeds/schema-design.md) as the
-- engine declares it in schema/tables.h: every table, every column with
-- the engine's name, in the engine's order, so that the engine's CSV export
-- (tools/datagen/csv_export.h) loads with COPY as it is.
--
-- Type mapping: uuid (ids and references), timestamptz (microseconds, as
-- the engine), the engine's enums as enum types of the same values, varchar(n)
-- for strings of at most n bytes (PostgreSQL counts characters: the same for
-- ASCII), jsonb for JSON, inet, and rooms.tags as an array of tag names
-- (the engine packs up to 4 tag ids).
--
-- Constraints here: primary keys, foreign keys (with the engine's delete
-- rules), NOT NULL, defaults, and CHECKs for the ranges the engine declares.
-- Every other index, unique keys included, is in indexes.sql, built after
-- the load (cluster.sh load). The write operations are in functions.sql.

-- Ids are UUIDv7 as in the engine (48 bits of milliseconds first), so that
-- new rows land at the right edge of the primary key's B-tree: a v4 uuid
-- would scatter the inserts over the whole index.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  -- A random (v4) uuid with its first 6 bytes replaced by the time in ms
  -- and its version nibble turned from 4 (0100) into 7 (0111).
  SELECT encode(
           set_bit(set_bit(
             overlay(uuid_send(gen_random_uuid())
                     PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
                     FROM 1 FOR 6),
             52, 1), 53, 1),
           'hex')::uuid
$$;

-- ---- Enums: the engine's (schema/tables.h VOX_ENUMS), in the same order ----
-- Type names are the engine's in snake_case, as the seed's migrations name
-- them ("room_status").

CREATE TYPE auth_provider_type AS ENUM ('LOCAL', 'GOOGLE', 'GITHUB', 'MICROSOFT', 'APPLE', 'SAML');
CREATE TYPE room_status AS ENUM ('CREATED', 'LIVE', 'ENDED', 'CANCELLED');
CREATE TYPE participant_role AS ENUM ('HOST', 'CO_HOST', 'PARTICIPANT');
CREATE TYPE recording_status AS ENUM (
  'STARTED', 'IN_PROGRESS', 'STOPPED', 'FAILED', 'PROCESSING', 'READY');
CREATE TYPE audit_action AS ENUM (
  -- the seed's 30
  'USER_REGISTERED', 'USER_LOGIN_SUCCESS', 'USER_LOGIN_FAILED', 'USER_LOGOUT',
  'ROOM_CREATED', 'ROOM_STARTED', 'ROOM_ENDED', 'ROOM_CANCELLED',
  'USER_JOINED', 'USER_LEFT', 'USER_KICKED', 'USER_BANNED',
  'ROLE_CHANGED', 'ROLE_PROMOTION', 'ROLE_DEMOTION',
  'USER_MUTED', 'USER_UNMUTED', 'ALL_MUTED', 'SCREEN_SHARE_STARTED', 'SCREEN_SHARE_STOPPED',
  'RECORDING_STARTED', 'RECORDING_STOPPED', 'RECORDING_DELETED',
  'PRODUCER_CREATED', 'PRODUCER_CLOSED', 'CONSUMER_CREATED', 'CONSUMER_CLOSED',
  'UNAUTHORIZED_ACCESS_ATTEMPT', 'RATE_LIMIT_EXCEEDED', 'SUSPICIOUS_ACTIVITY',
  -- appended by the engine for the mission
  'HAND_RAISED', 'HAND_LOWERED', 'USER_UNBANNED', 'PROFILE_UPDATED', 'ACCOUNT_STATUS_CHANGED',
  'ROOM_UPDATED', 'RECORDING_FAILED', 'RECORDING_READY', 'CALL_CONNECTED', 'CALL_FAILED',
  'CALL_ENDED', 'MODERATION_ACTION_TAKEN', 'MODERATION_ACTION_REVOKED',
  'MODERATION_ACTION_EXPIRED', 'WALLET_TOP_UP', 'GIFT_SENT', 'PREMIUM_PURCHASED',
  'PREMIUM_REFUNDED', 'TRANSFER_RESERVED', 'TRANSFER_POSTED', 'TRANSFER_VOIDED',
  'TRANSFER_REVERSED', 'AUTH_PROVIDER_LINKED', 'AUTH_PROVIDER_UNLINKED',
  'SCHEMA_MIGRATED');
CREATE TYPE account_status AS ENUM ('ACTIVE', 'SUSPENDED', 'BANNED', 'DELETED');
CREATE TYPE user_role AS ENUM ('USER', 'MODERATOR', 'ADMIN', 'SUPER_ADMIN');
CREATE TYPE connection_status AS ENUM ('CONNECTING', 'CONNECTED', 'RECONNECTING', 'DISCONNECTED');
CREATE TYPE call_session_status AS ENUM ('CONNECTING', 'CONNECTED', 'FAILED', 'DROPPED', 'ENDED');
CREATE TYPE call_failure_reason AS ENUM (
  'ICE_FAILED', 'DTLS_FAILED', 'TIMEOUT', 'NETWORK_CHANGED', 'SERVER_ERROR',
  'MEDIA_PERMISSION_DENIED', 'CLIENT_ERROR', 'UNKNOWN');
CREATE TYPE call_transport AS ENUM ('UDP', 'TCP', 'TURN_UDP', 'TURN_TCP', 'TURN_TLS');
CREATE TYPE moderation_action_type AS ENUM (
  'WARNING', 'MUTE', 'KICK', 'ROOM_BAN', 'SUSPENSION', 'PLATFORM_BAN');
CREATE TYPE wallet_kind AS ENUM ('USER', 'SYSTEM_ISSUANCE', 'SYSTEM_REVENUE', 'SYSTEM_PAYOUT');
CREATE TYPE transfer_type AS ENUM (
  'TOP_UP', 'GIFT', 'FEE', 'PURCHASE', 'REFUND', 'PAYOUT', 'CALL_CHARGE', 'REVERSAL');
CREATE TYPE transfer_status AS ENUM ('PENDING', 'POSTED', 'VOIDED');
CREATE TYPE premium_kind AS ENUM ('ONE_TIME', 'SUBSCRIPTION');
CREATE TYPE purchase_status AS ENUM ('ACTIVE', 'EXPIRED', 'CANCELLED', 'REFUNDED');
CREATE TYPE notification_kind AS ENUM (
  'ROOM_INVITATION', 'MISSED_CALL', 'GIFT_RECEIVED', 'ROOM_STARTING', 'MODERATION_NOTICE',
  'SYSTEM_MESSAGE');
CREATE TYPE severity AS ENUM ('DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL');

-- ---- The seed's tables: every seed field in seed order, then the engine's ----

CREATE TABLE users (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  username              varchar(32) NOT NULL,   -- unique, case-insensitive (indexes.sql)
  email                 varchar(254),           -- unique, case-insensitive; null once deleted
  password_hash         varchar(255),
  display_name          varchar(64) NOT NULL,
  is_active             boolean NOT NULL DEFAULT true,
  is_verified           boolean NOT NULL DEFAULT false,
  deleted_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  last_login_at         timestamptz,
  account_status        account_status NOT NULL DEFAULT 'ACTIVE',
  role                  user_role NOT NULL DEFAULT 'USER',
  status_reason         varchar(500),
  suspended_until       timestamptz,
  failed_login_count    integer NOT NULL DEFAULT 0,
  bio                   varchar(1000),
  avatar_url            varchar(2048),
  locale                varchar(35),
  country               varchar(2),
  timezone              varchar(64)
);

CREATE TABLE auth_providers (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  user_id               uuid NOT NULL REFERENCES users,
  provider_type         auth_provider_type NOT NULL,
  provider_id           varchar(255) NOT NULL,
  provider_email        varchar(254),
  access_token          varchar(4096),
  refresh_token         varchar(4096),
  token_expires_at      timestamptz,
  metadata              jsonb,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  last_used_at          timestamptz
);

CREATE TABLE room_categories (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  name                  varchar(100) NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);

-- The tag vocabulary. Rooms carry tag names (rooms.tags); W2 adds a tag
-- here the first time a room uses it, as the engine does.
CREATE TABLE tags (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  name                  varchar(32) NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rooms (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  owner_id              uuid NOT NULL REFERENCES users,
  room_code             varchar(32) NOT NULL,
  title                 varchar(200) NOT NULL,
  description           varchar(2000),
  scheduled_start       timestamptz,
  scheduled_end         timestamptz,
  max_participants      integer NOT NULL DEFAULT 100 CHECK (max_participants BETWEEN 2 AND 10000),
  is_public             boolean NOT NULL DEFAULT true,
  is_recordable         boolean NOT NULL DEFAULT true,
  require_auth          boolean NOT NULL DEFAULT true,
  status                room_status NOT NULL DEFAULT 'CREATED',
  started_at            timestamptz,
  ended_at              timestamptz,
  peak_participants     integer NOT NULL DEFAULT 0,
  total_joins           integer NOT NULL DEFAULT 0,
  duration_seconds      integer NOT NULL DEFAULT 0,
  deleted_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now(),
  invite_only           boolean NOT NULL DEFAULT false,
  mute_on_join          boolean NOT NULL DEFAULT false,
  hand_raise_allowed    boolean NOT NULL DEFAULT true,
  tags                  text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 4),
  category_id           uuid REFERENCES room_categories ON DELETE SET NULL,
  language              varchar(35),
  participant_count     integer NOT NULL DEFAULT 0  -- present now (left_at null)
);

CREATE TABLE room_participants (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  user_id               uuid NOT NULL REFERENCES users,
  room_id               uuid NOT NULL REFERENCES rooms ON DELETE CASCADE,
  role                  participant_role NOT NULL DEFAULT 'PARTICIPANT',
  joined_at             timestamptz NOT NULL DEFAULT now(),
  left_at               timestamptz,            -- null: present
  is_kicked             boolean NOT NULL DEFAULT false,
  kicked_at             timestamptz,
  kicked_by             uuid REFERENCES users,
  kick_reason           varchar(500),
  is_banned             boolean NOT NULL DEFAULT false,
  banned_at             timestamptz,
  banned_by             uuid REFERENCES users,
  ban_reason            varchar(500),
  duration_seconds      integer NOT NULL DEFAULT 0,
  is_muted              boolean NOT NULL DEFAULT false,
  muted_by_host         boolean NOT NULL DEFAULT false,
  muted_at              timestamptz,
  mute_expires_at       timestamptz,
  hand_raised           boolean NOT NULL DEFAULT false,
  hand_raised_at        timestamptz,
  is_speaking           boolean NOT NULL DEFAULT false,
  is_screen_sharing     boolean NOT NULL DEFAULT false,
  connection_status     connection_status NOT NULL DEFAULT 'CONNECTED',
  mute_count            integer NOT NULL DEFAULT 0,
  hand_raise_count      integer NOT NULL DEFAULT 0,
  ban_expires_at        timestamptz
);

CREATE TABLE call_sessions (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  participant_id        uuid NOT NULL REFERENCES room_participants ON DELETE CASCADE,
  user_id               uuid NOT NULL REFERENCES users,
  room_id               uuid NOT NULL REFERENCES rooms,
  status                call_session_status NOT NULL DEFAULT 'CONNECTING',
  started_at            timestamptz NOT NULL DEFAULT now(),
  connected_at          timestamptz,
  ended_at              timestamptz,
  failure_reason        call_failure_reason,
  failure_detail        varchar(500),
  rtt_ms                integer CHECK (rtt_ms BETWEEN 0 AND 600000),
  jitter_ms             integer CHECK (jitter_ms BETWEEN 0 AND 600000),
  packet_loss_bp        integer CHECK (packet_loss_bp BETWEEN 0 AND 10000),
  bitrate_kbps          integer CHECK (bitrate_kbps BETWEEN 0 AND 100000000),
  region                varchar(32),
  transport             call_transport,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE recordings (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  room_id               uuid NOT NULL REFERENCES rooms,
  owner_id              uuid NOT NULL REFERENCES users,
  storage_key           varchar(512) NOT NULL,
  storage_url           varchar(2048),
  storage_bucket        varchar(255),
  filename              varchar(255),
  size_bytes            bigint NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
  duration_seconds      integer NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
  codec                 varchar(32),
  resolution            varchar(32),
  fps                   integer CHECK (fps BETWEEN 0 AND 1000),
  bitrate               integer CHECK (bitrate >= 0),
  status                recording_status NOT NULL DEFAULT 'STARTED',
  started_at            timestamptz NOT NULL DEFAULT now(),
  stopped_at            timestamptz,
  error_message         varchar(2000),
  retry_count           integer NOT NULL DEFAULT 0,
  is_public             boolean NOT NULL DEFAULT false,
  expires_at            timestamptz,
  deleted_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- Immutable: written by the operations, never updated or deleted.
CREATE TABLE audit_logs (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  action                audit_action NOT NULL,
  user_id               uuid REFERENCES users,
  room_id               uuid REFERENCES rooms,
  target_user_id        uuid REFERENCES users,
  metadata              jsonb,
  ip_address            inet,
  user_agent            varchar(512),
  "timestamp"           timestamptz NOT NULL DEFAULT now()
);

-- ---- The engine's tables beyond the seed (docs/schema.md) ----

CREATE TABLE moderation_actions (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  action_type           moderation_action_type NOT NULL,
  moderator_id          uuid NOT NULL REFERENCES users,
  target_user_id        uuid NOT NULL REFERENCES users,
  room_id               uuid REFERENCES rooms,
  reason                varchar(1000) NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz,
  revoked_at            timestamptz,
  revoked_by            uuid REFERENCES users,
  revoke_reason         varchar(1000),
  lifted_at             timestamptz
);

-- A wallet's balance is posted_credits - posted_debits; it may spend that
-- minus pending_debits. The counters move with every transfer.
CREATE TABLE wallets (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  user_id               uuid REFERENCES users,  -- null for the system wallets
  kind                  wallet_kind NOT NULL DEFAULT 'USER',
  currency              varchar(8) NOT NULL DEFAULT 'COIN',
  posted_debits         bigint NOT NULL DEFAULT 0,
  posted_credits        bigint NOT NULL DEFAULT 0,
  pending_debits        bigint NOT NULL DEFAULT 0,
  pending_credits       bigint NOT NULL DEFAULT 0,
  is_frozen             boolean NOT NULL DEFAULT false,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

-- The double-entry ledger: one row per movement of coins.
CREATE TABLE transactions (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  debit_wallet_id       uuid NOT NULL REFERENCES wallets,
  credit_wallet_id      uuid NOT NULL REFERENCES wallets,
  amount                bigint NOT NULL CHECK (amount >= 1),
  currency              varchar(8) NOT NULL,
  type                  transfer_type NOT NULL,
  status                transfer_status NOT NULL,
  idempotency_key       varchar(128),
  parent_id             uuid REFERENCES transactions,  -- a fee's gift
  reverses_id           uuid REFERENCES transactions,
  room_id               uuid REFERENCES rooms,
  memo                  varchar(500),
  timeout_at            timestamptz,
  created_at            timestamptz NOT NULL DEFAULT now(),
  posted_at             timestamptz,
  voided_at             timestamptz
);

-- Append-only; the latest row in force for a type applies.
CREATE TABLE fee_schedule (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  transfer_type         transfer_type NOT NULL,
  fee_bps               integer NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
  min_fee               bigint NOT NULL DEFAULT 0 CHECK (min_fee >= 0),
  effective_from        timestamptz NOT NULL,
  created_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE premium_features (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  code                  varchar(64) NOT NULL,
  name                  varchar(200) NOT NULL,
  description           varchar(2000),
  price                 bigint NOT NULL CHECK (price >= 1),
  currency              varchar(8) NOT NULL DEFAULT 'COIN',
  kind                  premium_kind NOT NULL,
  period_days           integer CHECK (period_days BETWEEN 1 AND 3660),
  is_active             boolean NOT NULL DEFAULT true,
  created_at            timestamptz NOT NULL DEFAULT now(),
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE premium_purchases (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  user_id               uuid NOT NULL REFERENCES users,
  feature_id            uuid NOT NULL REFERENCES premium_features,
  transaction_id        uuid NOT NULL REFERENCES transactions,
  status                purchase_status NOT NULL DEFAULT 'ACTIVE',
  price                 bigint NOT NULL,
  purchased_at          timestamptz NOT NULL DEFAULT now(),
  expires_at            timestamptz,
  cancelled_at          timestamptz,
  refunded_at           timestamptz,
  refund_transaction_id uuid REFERENCES transactions,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  recipient_id          uuid NOT NULL REFERENCES users,
  kind                  notification_kind NOT NULL,
  actor_id              uuid REFERENCES users,
  room_id               uuid REFERENCES rooms,
  title                 varchar(200) NOT NULL,
  body                  varchar(2000),
  payload               jsonb,
  created_at            timestamptz NOT NULL DEFAULT now(),
  read_at               timestamptz,
  expires_at            timestamptz,
  deleted_at            timestamptz
);

CREATE TABLE system_events (
  id                    uuid PRIMARY KEY DEFAULT uuid_v7(),
  severity              severity NOT NULL,
  component             varchar(64) NOT NULL,
  code                  varchar(64) NOT NULL,
  message               varchar(2000) NOT NULL,
  details               jsonb,
  user_id               uuid REFERENCES users,
  room_id               uuid REFERENCES rooms,
  occurred_at           timestamptz NOT NULL DEFAULT now()
);
