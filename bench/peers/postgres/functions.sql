-- The workload's write operations (WORKLOAD.md W1-W7) as PL/pgSQL
-- functions: each is one statement from the client, so one round trip and
-- one transaction (autocommit), durable at commit (synchronous_commit=on).
-- Each writes what the engine's operation writes (engine/ops/identity.cc,
-- rooms.cc, ledger.cc): the same rows, counters and audit rows, after the
-- same checks in the same order.
--
-- Refusals raise SQLSTATE 'VX' followed by the number of the absl::StatusCode
-- the engine answers with; bench/voxbench/pg_driver.cc maps them back:
--   VX003 InvalidArgument     VX005 NotFound           VX006 AlreadyExists
--   VX007 PermissionDenied    VX008 ResourceExhausted  VX009 FailedPrecondition
-- A unique index's refusal (23505, e.g. a username taken) is AlreadyExists.
--
-- Locks: a function that changes a room's participants locks the room's row
-- first (FOR NO KEY UPDATE, which foreign-key checks do not wait for), then
-- participant rows; W6 locks the users' wallets in id order, then the
-- revenue wallet. So no two operations wait for each other in a cycle.

-- ---- Shared steps ----------------------------------------------------------------

-- A user who may act: exists, not deleted, account ACTIVE (the engine's
-- ResolveActingUser).
CREATE FUNCTION vox_acting_user(p_user uuid) RETURNS users LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_user users;
BEGIN
  SELECT * INTO v_user FROM users WHERE id = p_user;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % not found', p_user USING ERRCODE = 'VX005';
  END IF;
  IF v_user.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'user % is deleted', p_user USING ERRCODE = 'VX009';
  END IF;
  IF v_user.account_status <> 'ACTIVE' THEN
    RAISE EXCEPTION 'user ''%'' is %', v_user.username, v_user.account_status
      USING ERRCODE = 'VX007';
  END IF;
  RETURN v_user;
END $$;

-- A room that is not soft-deleted, locked for a change of its participants
-- when p_lock (the engine's ResolveActive on rooms).
CREATE FUNCTION vox_room(p_room uuid, p_lock boolean) RETURNS rooms LANGUAGE plpgsql AS $$
DECLARE
  v_room rooms;
BEGIN
  IF p_lock THEN
    SELECT * INTO v_room FROM rooms WHERE id = p_room FOR NO KEY UPDATE;
  ELSE
    SELECT * INTO v_room FROM rooms WHERE id = p_room;
  END IF;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'room % not found', p_room USING ERRCODE = 'VX005';
  END IF;
  IF v_room.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'room % is deleted', p_room USING ERRCODE = 'VX009';
  END IF;
  RETURN v_room;
END $$;

-- The user's present participation in the room, or FailedPrecondition.
CREATE FUNCTION vox_present(p_room uuid, p_user uuid) RETURNS room_participants
LANGUAGE plpgsql AS $$
DECLARE
  v_participant room_participants;
BEGIN
  SELECT * INTO v_participant FROM room_participants
   WHERE user_id = p_user AND left_at IS NULL AND room_id = p_room
     FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % is not in room %', p_user, p_room USING ERRCODE = 'VX009';
  END IF;
  RETURN v_participant;
END $$;

-- Present participants leave now (the engine's LeaveInTxn): left_at, the
-- time they stayed, hand lowered, live state cleared, open call sessions
-- ended. Returns how many left; the caller lowers the room's
-- participant_count by that much and writes the audit rows.
-- REQUIRES: the caller holds the row lock of their room.
CREATE FUNCTION vox_leave(p_participants uuid[]) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  v_left integer;
BEGIN
  UPDATE room_participants
     SET left_at = now(),
         duration_seconds = greatest(0, floor(extract(epoch FROM now() - joined_at)))::integer,
         hand_raised = false,
         is_speaking = false,
         is_screen_sharing = false,
         mute_expires_at = NULL,
         connection_status = 'DISCONNECTED'
   WHERE id = ANY (p_participants) AND left_at IS NULL;
  GET DIAGNOSTICS v_left = ROW_COUNT;
  -- A call still connecting fails; a connected one ends.
  UPDATE call_sessions
     SET status = CASE WHEN status = 'CONNECTING' THEN 'FAILED' ELSE 'ENDED' END::call_session_status,
         failure_reason = CASE WHEN status = 'CONNECTING' THEN 'CLIENT_ERROR'::call_failure_reason
                               ELSE failure_reason END,
         failure_detail = CASE WHEN status = 'CONNECTING' THEN 'participant left'
                               ELSE failure_detail END,
         ended_at = now(),
         updated_at = now()
   WHERE participant_id = ANY (p_participants) AND ended_at IS NULL;
  RETURN v_left;
END $$;

-- ---- W1: register a user ------------------------------------------------------------
-- users + auth_providers(LOCAL) + wallets(COIN) + audit USER_REGISTERED.
-- Returns the user's id.
CREATE FUNCTION vox_register_user(p_username text, p_email text, p_password_hash text,
                                  p_display_name text) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_user uuid;
  v_at integer := strpos(p_email, '@');
BEGIN
  IF p_username !~ '^[A-Za-z0-9_.]{3,32}$' THEN
    RAISE EXCEPTION 'username ''%'' must be 3-32 of [A-Za-z0-9_.]', p_username
      USING ERRCODE = 'VX003';
  END IF;
  -- The engine's CheckEmail: printable ASCII without <>,; and one '@' with
  -- a dot in the domain part, not at its end.
  IF p_email !~ '^[!-~]{3,254}$' OR p_email ~ '[<>,;]' OR p_email !~ '^[^@]+@[^@]+$'
     OR strpos(substr(p_email, v_at + 2), '.') = 0 OR right(p_email, 1) = '.' THEN
    RAISE EXCEPTION '''%'' is not an email address', p_email USING ERRCODE = 'VX003';
  END IF;
  IF coalesce(p_display_name, '') = '' THEN
    RAISE EXCEPTION 'display_name may not be empty' USING ERRCODE = 'VX003';
  END IF;
  IF coalesce(p_password_hash, '') = '' THEN
    RAISE EXCEPTION 'password_hash is required' USING ERRCODE = 'VX003';
  END IF;
  -- A username or email already taken is refused by its unique index.
  INSERT INTO users (username, email, password_hash, display_name)
  VALUES (p_username, p_email, p_password_hash, p_display_name)
  RETURNING id INTO v_user;
  INSERT INTO auth_providers (user_id, provider_type, provider_id, provider_email)
  VALUES (v_user, 'LOCAL', v_user::text, p_email);
  INSERT INTO wallets (user_id) VALUES (v_user);
  INSERT INTO audit_logs (action, user_id) VALUES ('USER_REGISTERED', v_user);
  RETURN v_user;
END $$;

-- ---- W2: create and open a room ------------------------------------------------------
-- The seed's Create & Join Room Flow: the room, audit ROOM_CREATED, the
-- owner joins as HOST, audit USER_JOINED, the room goes LIVE, audit
-- ROOM_STARTED. The flow's intermediate state (CREATED, no one present) is
-- never seen outside the transaction, so the room row is written once in
-- its final state; and a new room has no bans nor participants to check.
-- Tags (1-4 names, any case) are created on first use. Returns the room's id.
CREATE FUNCTION vox_create_and_open_room(p_owner uuid, p_title text, p_tags text[],
                                         p_max_participants integer DEFAULT 100,
                                         p_is_public boolean DEFAULT true)
RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_tags text[] := ARRAY(SELECT lower(t) FROM unnest(p_tags) WITH ORDINALITY AS u (t, i) ORDER BY i);
  v_code text;
  v_room uuid;
BEGIN
  PERFORM vox_acting_user(p_owner);
  IF coalesce(p_title, '') = '' THEN
    RAISE EXCEPTION 'a room needs a title' USING ERRCODE = 'VX003';
  END IF;
  IF cardinality(v_tags) > 4 THEN
    RAISE EXCEPTION 'a room has at most 4 tags; % given', cardinality(v_tags)
      USING ERRCODE = 'VX003';
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(v_tags) t WHERE t !~ '^[a-z0-9_-]{1,32}$') THEN
    RAISE EXCEPTION 'tags % must each be 1-32 of [a-z0-9-_]', v_tags USING ERRCODE = 'VX003';
  END IF;
  IF (SELECT count(DISTINCT t) FROM unnest(v_tags) t) <> cardinality(v_tags) THEN
    RAISE EXCEPTION 'tags % name one twice', v_tags USING ERRCODE = 'VX003';
  END IF;
  INSERT INTO tags (name)
  SELECT t FROM unnest(v_tags) t WHERE NOT EXISTS (SELECT 1 FROM tags WHERE lower(name) = t)
  ON CONFLICT DO NOTHING;
  -- 8 characters without look-alikes (no 0/o, 1/l/i), as the engine makes them.
  LOOP
    v_code := (SELECT string_agg(substr('abcdefghjkmnpqrstuvwxyz23456789',
                                        1 + floor(random() * 31)::integer, 1), '')
                 FROM generate_series(1, 8));
    EXIT WHEN NOT EXISTS (SELECT 1 FROM rooms WHERE room_code = v_code);
  END LOOP;
  INSERT INTO rooms (owner_id, room_code, title, max_participants, is_public, tags, status,
                     started_at, peak_participants, total_joins, participant_count)
  VALUES (p_owner, v_code, p_title, p_max_participants, p_is_public, v_tags, 'LIVE',
          now(), 1, 1, 1)
  RETURNING id INTO v_room;
  INSERT INTO room_participants (user_id, room_id, role) VALUES (p_owner, v_room, 'HOST');
  INSERT INTO audit_logs (action, user_id, room_id)
  VALUES ('ROOM_CREATED', p_owner, v_room),
         ('USER_JOINED', p_owner, v_room),
         ('ROOM_STARTED', p_owner, v_room);
  RETURN v_room;
END $$;

-- ---- W3: join a room -------------------------------------------------------------------
-- A participant + audit USER_JOINED + the room's total_joins,
-- participant_count and peak_participants. The owner's join opens a CREATED
-- room (LIVE, started_at, audit ROOM_STARTED). Refused: banned
-- (PermissionDenied), already present (AlreadyExists), full
-- (ResourceExhausted), a room not open (FailedPrecondition).
-- Returns the participant's id.
CREATE FUNCTION vox_join_room(p_room uuid, p_user uuid) RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_room rooms := vox_room(p_room, true);
  v_owner boolean;
  v_muted boolean;
  v_participant uuid;
BEGIN
  PERFORM vox_acting_user(p_user);
  v_owner := v_room.owner_id = p_user;
  IF v_room.status = 'CREATED' AND NOT v_owner THEN
    RAISE EXCEPTION 'room ''%'' has not started; waiting for its host', v_room.room_code
      USING ERRCODE = 'VX009';
  END IF;
  IF v_room.status IN ('ENDED', 'CANCELLED') THEN
    RAISE EXCEPTION 'room ''%'' is %; cannot join', v_room.room_code, v_room.status
      USING ERRCODE = 'VX009';
  END IF;
  IF EXISTS (SELECT 1 FROM room_participants
              WHERE is_banned AND room_id = p_room AND user_id = p_user) THEN
    RAISE EXCEPTION 'user % is banned from room ''%''', p_user, v_room.room_code
      USING ERRCODE = 'VX007';
  END IF;
  IF EXISTS (SELECT 1 FROM room_participants
              WHERE user_id = p_user AND left_at IS NULL AND room_id = p_room) THEN
    RAISE EXCEPTION 'user % is already in room ''%''', p_user, v_room.room_code
      USING ERRCODE = 'VX006';
  END IF;
  IF v_room.invite_only AND NOT v_owner AND NOT EXISTS (
       SELECT 1 FROM notifications
        WHERE kind = 'ROOM_INVITATION' AND deleted_at IS NULL AND room_id = p_room
          AND recipient_id = p_user AND (expires_at IS NULL OR expires_at > now())) THEN
    RAISE EXCEPTION 'room ''%'' is invite-only and user % has no invitation',
      v_room.room_code, p_user USING ERRCODE = 'VX007';
  END IF;
  IF v_room.participant_count >= v_room.max_participants THEN
    RAISE EXCEPTION 'room ''%'' is full (% of %)', v_room.room_code,
      v_room.participant_count, v_room.max_participants USING ERRCODE = 'VX008';
  END IF;
  v_muted := NOT v_owner AND v_room.mute_on_join;
  INSERT INTO room_participants (user_id, room_id, role, is_muted, muted_by_host, muted_at)
  VALUES (p_user, p_room, CASE WHEN v_owner THEN 'HOST' ELSE 'PARTICIPANT' END::participant_role,
          v_muted, v_muted, CASE WHEN v_muted THEN now() END)
  RETURNING id INTO v_participant;
  INSERT INTO audit_logs (action, user_id, room_id) VALUES ('USER_JOINED', p_user, p_room);
  UPDATE rooms
     SET total_joins = total_joins + 1,
         participant_count = participant_count + 1,
         peak_participants = greatest(peak_participants, participant_count + 1),
         status = 'LIVE',
         started_at = CASE WHEN status = 'CREATED' THEN now() ELSE started_at END,
         updated_at = now()
   WHERE id = p_room;
  IF v_room.status = 'CREATED' THEN
    INSERT INTO audit_logs (action, user_id, room_id) VALUES ('ROOM_STARTED', p_user, p_room);
  END IF;
  RETURN v_participant;
END $$;

-- ---- W4: leave a room ------------------------------------------------------------------
-- The participation's left_at and duration (vox_leave), the room's
-- participant_count, audit USER_LEFT. A soft-deleted room may be left.
-- FailedPrecondition if the user is not present.
CREATE FUNCTION vox_leave_room(p_room uuid, p_user uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_participant room_participants;
BEGIN
  PERFORM 1 FROM rooms WHERE id = p_room FOR NO KEY UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'room % not found', p_room USING ERRCODE = 'VX005';
  END IF;
  PERFORM 1 FROM users WHERE id = p_user;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % not found', p_user USING ERRCODE = 'VX005';
  END IF;
  v_participant := vox_present(p_room, p_user);
  PERFORM vox_leave(ARRAY[v_participant.id]);
  UPDATE rooms SET participant_count = participant_count - 1, updated_at = now()
   WHERE id = p_room;
  INSERT INTO audit_logs (action, user_id, room_id) VALUES ('USER_LEFT', p_user, p_room);
END $$;

-- ---- W5: a participant's own live state --------------------------------------------------
-- p_action: 'mute', 'unmute', 'raise_hand' or 'lower_hand', by the user on
-- themselves (the engine's SetMuted and SetHandRaised with actor = target):
-- the participant's flag, time and counter, and its audit row. When the
-- state already is what was asked nothing is written and the call succeeds,
-- as in the engine. Refused (FailedPrecondition) when the user is not
-- present, and raising a hand where the room does not allow it; unmuting a
-- mute set by a host is PermissionDenied.
CREATE FUNCTION vox_set_live_state(p_room uuid, p_user uuid, p_action text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_room rooms := vox_room(p_room, false);
  v_participant room_participants;
  v_on boolean := p_action IN ('mute', 'raise_hand');
BEGIN
  PERFORM vox_acting_user(p_user);
  v_participant := vox_present(p_room, p_user);
  CASE p_action
    WHEN 'mute', 'unmute' THEN
      IF NOT v_on AND v_participant.muted_by_host THEN
        RAISE EXCEPTION 'user % was muted by a host and cannot unmute', p_user
          USING ERRCODE = 'VX007';
      END IF;
      IF v_participant.is_muted = v_on THEN
        RETURN;  -- already so: nothing to record (the engine answers OK too)
      END IF;
      UPDATE room_participants
         SET is_muted = v_on,
             muted_at = CASE WHEN v_on THEN now() ELSE muted_at END,
             mute_count = mute_count + v_on::integer
       WHERE id = v_participant.id;
      INSERT INTO audit_logs (action, user_id, room_id, target_user_id, metadata)
      VALUES (CASE WHEN v_on THEN 'USER_MUTED' ELSE 'USER_UNMUTED' END::audit_action,
              p_user, p_room, p_user, '{"self":true}');
    WHEN 'raise_hand', 'lower_hand' THEN
      IF v_on AND NOT v_room.hand_raise_allowed THEN
        RAISE EXCEPTION 'room ''%'' does not allow raising hands', v_room.room_code
          USING ERRCODE = 'VX009';
      END IF;
      IF v_participant.hand_raised = v_on THEN
        RETURN;  -- already so: nothing to record (the engine answers OK too)
      END IF;
      UPDATE room_participants
         SET hand_raised = v_on,
             hand_raised_at = CASE WHEN v_on THEN now() ELSE hand_raised_at END,
             hand_raise_count = hand_raise_count + v_on::integer
       WHERE id = v_participant.id;
      INSERT INTO audit_logs (action, user_id, room_id, target_user_id)
      VALUES (CASE WHEN v_on THEN 'HAND_RAISED' ELSE 'HAND_LOWERED' END::audit_action,
              p_user, p_room, p_user);
    ELSE
      RAISE EXCEPTION 'unknown action ''%''', p_action USING ERRCODE = 'VX003';
  END CASE;
END $$;

-- ---- W6: a gift ----------------------------------------------------------------------------
-- The sender pays p_amount in all: a GIFT of p_amount - fee to the
-- receiver and a FEE (parent: the gift) to the SYSTEM_REVENUE wallet, at
-- the GIFT rate in force (fee_schedule); the three wallets' counters; a
-- GIFT_RECEIVED notification; audit GIFT_SENT. An idempotency key seen
-- before answers the earlier gift's id if it was the same gift, else
-- AlreadyExists. FailedPrecondition: too few coins available, a frozen
-- wallet. Returns the gift's id.
CREATE FUNCTION vox_gift(p_sender uuid, p_receiver uuid, p_amount bigint,
                         p_idempotency_key text DEFAULT NULL, p_room uuid DEFAULT NULL,
                         p_currency text DEFAULT 'COIN') RETURNS uuid LANGUAGE plpgsql AS $$
DECLARE
  v_sender users;
  v_receiver users;
  v_from wallets;
  v_to uuid;
  v_revenue uuid;
  v_done transactions;
  v_done_fee bigint;
  v_bps integer;
  v_min_fee bigint;
  v_fee bigint := 0;
  v_gift uuid;
BEGIN
  IF p_amount <= 0 THEN
    RAISE EXCEPTION 'the gift amount must be positive; got %', p_amount USING ERRCODE = 'VX003';
  END IF;
  v_sender := vox_acting_user(p_sender);
  SELECT * INTO v_receiver FROM users WHERE id = p_receiver;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user % not found', p_receiver USING ERRCODE = 'VX005';
  END IF;
  IF v_receiver.deleted_at IS NOT NULL THEN
    RAISE EXCEPTION 'user % is deleted', p_receiver USING ERRCODE = 'VX009';
  END IF;
  IF p_sender = p_receiver THEN
    RAISE EXCEPTION 'user ''%'' cannot send a gift to themselves', v_sender.username
      USING ERRCODE = 'VX003';
  END IF;
  IF p_room IS NOT NULL THEN
    PERFORM vox_room(p_room, false);
  END IF;
  SELECT * INTO v_from FROM wallets WHERE user_id = p_sender AND currency = p_currency;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user ''%'' has no % wallet', v_sender.username, p_currency
      USING ERRCODE = 'VX005';
  END IF;
  SELECT id INTO v_to FROM wallets WHERE user_id = p_receiver AND currency = p_currency;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'user ''%'' has no % wallet', v_receiver.username, p_currency
      USING ERRCODE = 'VX005';
  END IF;

  IF p_idempotency_key IS NOT NULL AND p_idempotency_key <> '' THEN
    SELECT * INTO v_done FROM transactions WHERE idempotency_key = p_idempotency_key;
    IF FOUND THEN
      SELECT amount INTO v_done_fee FROM transactions
       WHERE debit_wallet_id = v_done.debit_wallet_id AND created_at = v_done.created_at
         AND parent_id = v_done.id;
      IF v_done.type = 'GIFT' AND v_done.debit_wallet_id = v_from.id
         AND v_done.credit_wallet_id = v_to AND v_done.room_id IS NOT DISTINCT FROM p_room
         AND v_done.amount + coalesce(v_done_fee, 0) = p_amount THEN
        RETURN v_done.id;  -- a retry: already done, nothing written
      END IF;
      RAISE EXCEPTION 'idempotency key ''%'' was already used for a different transfer',
        p_idempotency_key USING ERRCODE = 'VX006';
    END IF;
  END IF;

  -- The latest GIFT rate in force; among rates of the same start, the last set.
  SELECT fee_bps, min_fee INTO v_bps, v_min_fee FROM fee_schedule
   WHERE transfer_type = 'GIFT' AND effective_from <= now()
   ORDER BY effective_from DESC, id DESC LIMIT 1;
  IF FOUND THEN
    -- amount * bps / 10000 without overflow, then at least min_fee, at most amount.
    v_fee := least(greatest(v_min_fee, p_amount / 10000 * v_bps + p_amount % 10000 * v_bps / 10000),
                   p_amount);
  END IF;
  IF v_fee >= p_amount THEN
    RAISE EXCEPTION 'a gift of % % does not cover its fee of % %', p_amount, p_currency, v_fee,
      p_currency USING ERRCODE = 'VX003';
  END IF;
  IF v_fee > 0 THEN
    SELECT id INTO v_revenue FROM wallets WHERE kind = 'SYSTEM_REVENUE' AND currency = p_currency;
    IF NOT FOUND THEN  -- a system wallet is created on first use
      INSERT INTO wallets (kind, currency) VALUES ('SYSTEM_REVENUE', p_currency)
      ON CONFLICT (kind, currency) WHERE kind <> 'USER' DO NOTHING;
      SELECT id INTO v_revenue FROM wallets WHERE kind = 'SYSTEM_REVENUE' AND currency = p_currency;
    END IF;
  END IF;

  -- Lock the two users' wallets in id order, then read the sender's
  -- counters as of now. The revenue wallet, which every gift credits, is
  -- locked last (below).
  PERFORM 1 FROM wallets WHERE id IN (v_from.id, v_to) ORDER BY id FOR NO KEY UPDATE;
  SELECT * INTO v_from FROM wallets WHERE id = v_from.id;
  IF v_from.is_frozen OR (SELECT is_frozen FROM wallets WHERE id = v_to) THEN
    RAISE EXCEPTION 'a wallet of this gift is frozen' USING ERRCODE = 'VX009';
  END IF;
  IF v_from.posted_credits - v_from.posted_debits - v_from.pending_debits < p_amount THEN
    RAISE EXCEPTION 'wallet of user ''%'' has % % available; the gift needs %', v_sender.username,
      v_from.posted_credits - v_from.posted_debits - v_from.pending_debits, p_currency, p_amount
      USING ERRCODE = 'VX009';
  END IF;

  INSERT INTO transactions (debit_wallet_id, credit_wallet_id, amount, currency, type, status,
                            idempotency_key, room_id, posted_at)
  VALUES (v_from.id, v_to, p_amount - v_fee, p_currency, 'GIFT', 'POSTED',
          nullif(p_idempotency_key, ''), p_room, now())
  RETURNING id INTO v_gift;
  UPDATE wallets SET posted_debits = posted_debits + p_amount, updated_at = now()
   WHERE id = v_from.id;
  UPDATE wallets SET posted_credits = posted_credits + (p_amount - v_fee), updated_at = now()
   WHERE id = v_to;
  INSERT INTO notifications (recipient_id, kind, actor_id, room_id, title, payload)
  VALUES (p_receiver, 'GIFT_RECEIVED', p_sender, p_room,
          format('%s sent you %s %s', v_sender.username, p_amount - v_fee, p_currency),
          jsonb_build_object('transfer_id', v_gift));
  INSERT INTO audit_logs (action, user_id, room_id, target_user_id, metadata)
  VALUES ('GIFT_SENT', p_sender, p_room, p_receiver,
          jsonb_build_object('transfer_id', v_gift, 'type', 'GIFT', 'amount', p_amount - v_fee,
                             'currency', p_currency, 'fee', v_fee));
  -- The fee last, its wallet's row lock first: concurrent gifts then queue
  -- on that lock only for the time of a commit, and the FEE row's foreign
  -- key check finds the row locked by its own transaction. (Inserted first,
  -- every gift would share-lock the row for its key check: a multixact per
  -- gift, which makes concurrent gifts several times slower.)
  IF v_fee > 0 THEN
    UPDATE wallets SET posted_credits = posted_credits + v_fee, updated_at = now()
     WHERE id = v_revenue;
    INSERT INTO transactions (debit_wallet_id, credit_wallet_id, amount, currency, type, status,
                              parent_id, room_id, posted_at)
    VALUES (v_from.id, v_revenue, v_fee, p_currency, 'FEE', 'POSTED', v_gift, p_room, now());
  END IF;
  RETURN v_gift;
END $$;

-- ---- W7: end a room ------------------------------------------------------------------------
-- LIVE -> ENDED by its owner, a present HOST or a platform MODERATOR+:
-- ended_at, duration, every present participant leaves (no audit row
-- each), running recordings stop (audit RECORDING_STOPPED each), audit
-- ROOM_ENDED. FailedPrecondition unless LIVE; PermissionDenied for others.
CREATE FUNCTION vox_end_room(p_room uuid, p_actor uuid) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_room rooms := vox_room(p_room, true);
  v_actor users;
  v_present uuid[];
  v_left integer;
BEGIN
  v_actor := vox_acting_user(p_actor);
  IF v_room.owner_id <> p_actor AND v_actor.role < 'MODERATOR' AND NOT EXISTS (
       SELECT 1 FROM room_participants
        WHERE user_id = p_actor AND left_at IS NULL AND room_id = p_room AND role = 'HOST') THEN
    RAISE EXCEPTION 'user ''%'' may not end room ''%''', v_actor.username, v_room.room_code
      USING ERRCODE = 'VX007';
  END IF;
  IF v_room.status <> 'LIVE' THEN
    RAISE EXCEPTION 'room ''%'' is %; only a LIVE room can end', v_room.room_code, v_room.status
      USING ERRCODE = 'VX009';
  END IF;
  v_present := ARRAY(SELECT id FROM room_participants WHERE room_id = p_room AND left_at IS NULL);
  v_left := vox_leave(v_present);
  UPDATE rooms
     SET status = 'ENDED',
         ended_at = now(),
         duration_seconds =
           greatest(0, floor(extract(epoch FROM now() - coalesce(started_at, now()))))::integer,
         participant_count = participant_count - v_left,
         updated_at = now()
   WHERE id = p_room;
  WITH stopped AS (
    UPDATE recordings
       SET status = 'STOPPED',
           stopped_at = now(),
           duration_seconds = greatest(0, floor(extract(epoch FROM now() - started_at)))::integer,
           updated_at = now()
     WHERE room_id = p_room AND status IN ('STARTED', 'IN_PROGRESS') AND deleted_at IS NULL
    RETURNING id)
  INSERT INTO audit_logs (action, user_id, room_id, metadata)
  SELECT 'RECORDING_STOPPED', p_actor, p_room,
         jsonb_build_object('recording_id', id, 'reason', 'room_ended')
    FROM stopped;
  INSERT INTO audit_logs (action, user_id, room_id, metadata)
  VALUES ('ROOM_ENDED', p_actor, p_room, jsonb_build_object('participants_left', v_left));
END $$;
