-- Indexes of the PostgreSQL peer, built after the data is loaded (one sort
-- per index instead of a B-tree insert per row). Exactly:
--   1. the seed's index strategy (schema-design.md, "Index Strategy") and
--      the seed's unique keys;
--   2. the engine's other unique keys: constraints the engine enforces on
--      every write, so PostgreSQL pays for them too;
--   3. what R7 and R9 need (WORKLOAD.md), which the seed has no index for;
--   4. what the write functions (functions.sql) need not to scan a table.
-- Nothing else: no index the engine has for operations the benchmark does
-- not run (e.g. the audit trail by user).

-- ---- 1. The seed ----------------------------------------------------------------

-- "Active users": users[is_active, deleted_at].
CREATE INDEX users_active ON users (is_active, deleted_at);
-- "Active rooms": rooms[status, deleted_at].
CREATE INDEX rooms_status ON rooms (status, deleted_at);
-- "Room participants" (R2, R6, W7): room_participants[room_id, left_at].
CREATE INDEX room_participants_room ON room_participants (room_id, left_at);
-- "User's active rooms" (R3; W3-W5 find the user's present participation):
-- room_participants[user_id, left_at].
CREATE INDEX room_participants_user ON room_participants (user_id, left_at);
-- "Audit trail" (R4): audit_logs[room_id, timestamp DESC].
CREATE INDEX audit_logs_room ON audit_logs (room_id, "timestamp" DESC);
-- "Ban enforcement" (R8, W3): room_participants[is_banned, room_id].
CREATE INDEX room_participants_banned ON room_participants (is_banned, room_id);
-- "Expired recordings cleanup" (R5): recordings[expires_at, deleted_at].
CREATE INDEX recordings_expiry ON recordings (expires_at, deleted_at);

-- The seed's unique keys. Usernames and emails are unique ignoring ASCII
-- case, as in the engine (R1 looks emails up the same way); the database
-- is created with the C locale, where lower() folds ASCII only.
CREATE UNIQUE INDEX users_username ON users (lower(username));
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE UNIQUE INDEX rooms_room_code ON rooms (room_code);
CREATE UNIQUE INDEX recordings_storage_key ON recordings (storage_key);

-- ---- 2. The engine's other unique keys ---------------------------------------------

CREATE UNIQUE INDEX auth_providers_provider ON auth_providers (provider_type, provider_id);
CREATE UNIQUE INDEX room_categories_name ON room_categories (lower(name));
-- Also W2's look-up of a tag by name.
CREATE UNIQUE INDEX tags_name ON tags (lower(name));
-- A user's wallet per currency; also how R9 and W6 find the COIN wallet.
CREATE UNIQUE INDEX wallets_user_currency ON wallets (user_id, currency) WHERE user_id IS NOT NULL;
-- One system wallet per kind and currency; also how W6 finds SYSTEM_REVENUE.
CREATE UNIQUE INDEX wallets_system ON wallets (kind, currency) WHERE kind <> 'USER';
-- Also W6's retry check.
CREATE UNIQUE INDEX transactions_idempotency_key ON transactions (idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX transactions_reversal_of ON transactions (reverses_id)
  WHERE reverses_id IS NOT NULL;
CREATE UNIQUE INDEX premium_features_code ON premium_features (code);

-- ---- 3. R7 and R9 -------------------------------------------------------------------

-- R7, public LIVE rooms by tag, newest started first: the rooms that can
-- match are a small share of the table (1% are LIVE), so a partial GIN
-- index over their tag arrays finds a tag's rooms (~150 at SF=1), which are
-- then sorted by started_at. The same partial B-tree on started_at would
-- instead read every LIVE public room until 50 carry the tag.
CREATE INDEX rooms_live_by_tag ON rooms USING gin (tags)
  WHERE status = 'LIVE' AND is_public AND deleted_at IS NULL;

-- R9, a user's transfers newest first: the wallet's debits and credits,
-- each read newest first and merged (the engine keeps the same two orders).
CREATE INDEX transactions_debit_wallet ON transactions (debit_wallet_id, created_at DESC);
CREATE INDEX transactions_credit_wallet ON transactions (credit_wallet_id, created_at DESC);

-- ---- 4. The write functions ------------------------------------------------------

-- W4 and W7: a participant who leaves ends their open call sessions
-- (the engine's LeaveInTxn).
CREATE INDEX call_sessions_participant ON call_sessions (participant_id);
-- W7: the room's running recordings stop with it.
CREATE INDEX recordings_room ON recordings (room_id);
-- W3: an invite-only room admits the invited (the engine's HasInvitation).
CREATE INDEX notifications_invitations ON notifications (room_id, recipient_id)
  WHERE kind = 'ROOM_INVITATION' AND deleted_at IS NULL;
-- Not indexed: fee_schedule, which W6 reads for the GIFT fee, holds a row
-- per fee change (one in the data set): a scan is the cheapest plan.
