// The operations of the VoxDB protocol as C++ structs, for vox::Client
// (net/client.h). Fill one with designated initializers and pass it to
// Client::Call or Client::Send:
//
//   client.Call(rpc::SetMuted{.room_id = room, .actor_id = me, .target_id = me, .muted = true});
//
// Each struct names its answer (`Result`; void: only a status) and knows how
// to encode itself and decode the answer. Fields and refusals are those of
// the engine operation of the same name (engine/ops/*.h); docs/protocol.md
// lists them all, with the role each needs (read, write, admin). Timestamps
// are microseconds since the Unix epoch; engine enums travel as their names
// ("HOST", "GIFT", ...). Conventions of the fields:
//   - `Uuid`: a required id; `std::optional<Uuid>`: an optional one (nullopt
//     is sent absent).
//   - `std::string`: empty is sent absent (the server treats absent and empty
//     alike: "not given", the default, or null); an enum name left empty is
//     "not given" too (a required one is then INVALID_ARGUMENT).
//   - `std::optional<std::string>` where absent and empty differ: nullopt
//     leaves the field unchanged, "" clears it.
//   - `std::optional<T>` for the protocol's optional scalars: nullopt is
//     "not given".
// Fields are only ever appended, so positional initialisation keeps working.
#ifndef VOXDB_NET_RPC_H_
#define VOXDB_NET_RPC_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "schema/types.h"

namespace flatbuffers {
class FlatBufferBuilder;
}
namespace vox::wire {
struct Response;
}

namespace vox::rpc {

using Builder = flatbuffers::FlatBufferBuilder;
// An operation added to a Builder: its wire::Op type and table offset.
struct Encoded {
  uint8_t type;
  uint32_t offset;
};
template <typename T>
using Decoded = std::conditional_t<std::is_void_v<T>, absl::Status, absl::StatusOr<T>>;

// Declares what every operation struct has.
#define VOX_RPC_OP(ResultType)            \
  using Result = ResultType;              \
  Encoded Encode(Builder& builder) const; \
  static Decoded<Result> Decode(const wire::Response& response)

// ---- Results ----
// Operations that create one row answer its id (Uuid); those that change
// many answer how many (int64_t).

struct Registered {
  Uuid user_id, auth_provider_id, wallet_id;
};
// outcome: SUCCEEDED, BAD_CREDENTIALS, ACCOUNT_NOT_ACTIVE or UNKNOWN_USER
// (a failed sign-in is recorded, not refused).
struct LoginResult {
  std::string outcome, account_status;
};
struct OpenedRoom {
  Uuid room_id, host_participant_id;
  std::string room_code;
};
struct CreatedRoom {
  Uuid room_id;
  std::string room_code;
};
struct Joined {
  Uuid participant_id;
  std::string role;
  bool muted = false, room_started = false;
};
struct Transfer {
  Uuid transfer_id;
  std::optional<Uuid> fee_transfer_id;
  int64_t fee = 0;
  bool already_done = false;  // an idempotent retry: nothing was written
};
struct PresentParticipant {
  Uuid participant_id, user_id;
  std::string role;
  bool muted = false, hand_raised = false, speaking = false;
  Timestamp joined_at = 0;
  std::optional<Timestamp> hand_raised_at;  // set while the hand is raised
  bool screen_sharing = false;
};
// Rows as JSON objects (uuids, enum names, RFC 3339 times); pass `next` as
// the next request's `after` to page on.
struct Rows {
  std::vector<std::string> rows;
  std::optional<Uuid> next;
};
struct RoomStats {
  int64_t participations = 0;  // every join (a rejoin counts again)
  int64_t present = 0;
  int64_t total_duration_seconds = 0;  // of those who left
  double average_duration_seconds = 0;
};
// A call session; empty strings and nullopt: not set (yet).
struct CallSession {
  Uuid id, participant_id, user_id, room_id;
  std::string status;
  Timestamp started_at = 0;
  std::optional<Timestamp> connected_at, ended_at;
  std::string failure_reason, failure_detail;
  std::optional<int32_t> rtt_ms, jitter_ms, packet_loss_bp, bitrate_kbps;
  std::string region, transport;
};
struct WalletBalance {
  Uuid wallet_id;
  int64_t posted_debits = 0, posted_credits = 0, pending_debits = 0, pending_credits = 0;
  int64_t balance = 0;    // posted_credits - posted_debits
  int64_t available = 0;  // balance - pending_debits
  bool is_frozen = false;
  bool ledger_consistent = false;  // the counters equal the wallet's ledger rows
};
struct WalletMismatch {
  Uuid wallet_id;
  std::string detail;
};
struct LedgerAudit {
  int64_t wallets = 0, transfers = 0;
  std::vector<WalletMismatch> mismatches;  // counters that disagree with the rows
  std::vector<Uuid> overdrawn;             // non-issuance wallets below zero available
  bool balanced = false;                   // total debits == total credits
  bool ok = false;                         // no mismatch, none overdrawn, balanced
};
// One transfer as a wallet sees it.
struct TransferView {
  Uuid id;
  std::string type, status;
  int64_t amount = 0;
  bool outgoing = false;          // the wallet was debited
  std::string counterparty_kind;  // the other wallet's WalletKind
  std::optional<Uuid> counterparty_user, room_id, parent_id, reverses_id;
  std::string memo;
  Timestamp created_at = 0;
};
// Newest first; pass `next` as the next request's `after` to page on.
struct TransferPage {
  std::vector<TransferView> transfers;
  std::optional<Uuid> next;
};
struct Purchase {
  Uuid purchase_id, transfer_id;
  std::optional<Timestamp> expires_at;  // subscriptions
  bool already_done = false;            // an idempotent retry: nothing was written
};
struct Invite {
  Uuid notification_id;
  bool already_invited = false;  // an open invitation existed; nothing was written
};
struct Notification {
  Uuid id;
  std::string kind;
  std::optional<Uuid> actor_id, room_id;
  std::string title, body, payload;  // body, payload: empty when none
  Timestamp created_at = 0;
  std::optional<Timestamp> read_at, expires_at;
};
struct MaintenanceReport {
  int64_t restrictions_lifted = 0;    // mutes, room bans, suspensions, moderation actions
  int64_t recordings_deleted = 0;     // expired recordings soft-deleted
  int64_t reservations_voided = 0;    // pending call charges past their timeout
  int64_t subscriptions_expired = 0;  // premium subscriptions past their end
};
struct TableStats {
  std::string name;
  uint64_t rows = 0, column_bytes = 0, index_bytes = 0;
};
struct ServerStats {
  std::vector<TableStats> tables;
  uint64_t commits = 0, durable_lsn = 0;
  std::string durability;
  uint32_t connections = 0;           // open now
  uint64_t requests = 0, errors = 0;  // since the start
  double uptime_seconds = 0;
  uint64_t wal_batches = 0, wal_syncs = 0, wal_bytes = 0;
  std::optional<double> snapshot_age_seconds;  // none before the first checkpoint
};
struct CheckpointInfo {
  std::string path;
  uint64_t lsn = 0, bytes = 0;
  double pause_us = 0;
};
// A migration's outcome (engine/ops/migration.h).
struct MigrationInfo {
  uint32_t from_version = 0, to_version = 0;
  bool applied = false;  // false for a dry run
  bool destructive = false;
  // Per step: its canonical statement, then what it did (or would do):
  // "add column users.headline string(2000) null: 1004 rows hold null".
  std::vector<std::string> changes;
  std::string text;  // the migration in canonical form
};
// The schema as it stands: its version, the built-in schema's
// (schema/tables.h), each migration applied in order (canonical form), and
// every table, column, index and enum, what migrations added marked.
struct SchemaInfo {
  uint32_t version = 0;
  uint32_t builtin_version = 0;
  std::vector<std::string> history;
  std::string description;
};
struct SnapshotEntry {
  std::string path;
  uint64_t lsn = 0;
  Uuid database_id;
  uint32_t schema_version = 0;
  Timestamp created_at = 0;
  uint64_t total_rows = 0, bytes = 0;
  std::string error;  // set when the file's header could not be read
};

// A report's table of time series (docs/reports.md): rows keyed by (bucket
// start, dimension value), one number per named column. Rows exist only
// where something was counted (`buckets` lists every bucket of the range:
// fill gaps with 0); they are sorted by bucket then key, a top-N table (one
// row per key at the range's first bucket) in rank order.
struct ReportRow {
  Timestamp bucket_start = 0;
  std::string key;             // the dimension's value; "" without one; "(none)": no value
  std::vector<double> values;  // one per column; integers exact up to 2^53
};
struct ReportTable {
  std::string name;                  // which table of the report, e.g. "calls"
  std::string dimension;             // what `key` is, e.g. "provider"; "" for none
  std::vector<std::string> columns;  // the names of each row's values, in order
  std::vector<Timestamp> buckets;    // every bucket start of the range
  std::vector<ReportRow> rows;

  // -1 when there is no such column.
  int ColumnIndex(std::string_view column) const;
  // The row of (bucket, key), or null.
  const ReportRow* Find(Timestamp bucket_start, std::string_view key) const;
  // The cell, or 0 when the row is absent. REQUIRES: the column exists.
  double Get(Timestamp bucket_start, std::string_view key, std::string_view column) const;
  // The column summed over every row (meaningful for counts and sums).
  // REQUIRES: the column exists.
  double Sum(std::string_view column) const;
};
struct Report {
  std::vector<ReportTable> tables;  // named; see each report for which
  uint64_t snapshot_lsn = 0;        // the report saw every transaction up to here
  uint64_t rows_scanned = 0;        // 0: not measured
  double micros = 0;                // computing time on the server's report thread

  // The table named `name`, or null.
  const ReportTable* Find(std::string_view name) const;
};

// A page of a search (docs/searches.md): rows as JSON objects in the sort's
// order; pass `next` as the next request's `after` (nullopt: the last page).
// `plan` says how the server found them ("rooms: index rooms_by_status in
// sort order, 21 rows examined").
struct SearchPage {
  std::vector<std::string> rows;
  std::optional<std::string> next;
  std::string plan;
};

// ---- Arguments ----

// Search ranges; nullopt: that end is open.
struct TimeRange {
  std::optional<Timestamp> from, to;  // [from, to)
};
struct IntRange {
  std::optional<int64_t> min, max;  // [min, max]
};

// A room's settings: nullopt is "not given" (left unchanged by
// UpdateRoomSettings, the default on creation).
struct RoomSettings {
  std::optional<std::string> title, description, language;
  std::optional<Timestamp> scheduled_start, scheduled_end;
  std::optional<int32_t> max_participants;  // 2..10000
  std::optional<bool> is_public, is_recordable, require_auth;
  std::optional<bool> invite_only, mute_on_join, hand_raise_allowed;
  std::optional<std::vector<std::string>> tags;  // up to 4; empty: clears the tags
  std::optional<Uuid> category_id;               // the nil Uuid: clears the category
};

// A call's network measurements; only the fields given are written.
struct CallTelemetry {
  std::optional<int32_t> rtt_ms, jitter_ms;
  std::optional<int32_t> packet_loss_bp;  // basis points, 0..10000
  std::optional<int32_t> bitrate_kbps;
  std::optional<std::string> region;
  std::optional<std::string> transport;  // a CallTransport
};

// A column value for the generic writes.
struct Field {
  enum class Kind { kNull, kInt, kString, kUuid };
  std::string column;
  Kind kind = Kind::kNull;
  int64_t int_value = 0;
  std::string string_value;
  Uuid uuid_value;

  static Field Null(std::string column) { return {std::move(column)}; }
  static Field Int(std::string column, int64_t v) { return {std::move(column), Kind::kInt, v}; }
  static Field Text(std::string column, std::string v) {
    return {std::move(column), Kind::kString, 0, std::move(v)};
  }
  static Field Id(std::string column, const Uuid& v) {
    return {std::move(column), Kind::kUuid, 0, {}, v};
  }
};

// ---- Identity ----

// Creates a user with a LOCAL sign-in and a COIN wallet.
struct RegisterUser {
  std::string username, email, password_hash, display_name;
  std::string bio, avatar_url, locale, country, timezone;  // optional profile
  VOX_RPC_OP(Registered);
};
// Records a sign-in the platform checked itself (it holds the hashing scheme).
struct RecordLogin {
  std::optional<Uuid> user_id;  // nullopt: the identifier matched no user
  std::string identifier;       // what was typed, for the audit row
  std::string provider;         // an AuthProviderType; empty: LOCAL
  bool credentials_ok = false;
  std::string failure_reason;
  VOX_RPC_OP(LoginResult);
};
struct Logout {
  Uuid user_id;
  VOX_RPC_OP(void);
};
// Changes the given fields (nullopt: unchanged); for bio .. timezone an
// empty string clears the field. A new email clears is_verified.
struct UpdateProfile {
  Uuid user_id;
  std::optional<std::string> username, email, display_name;
  std::optional<std::string> bio, avatar_url, locale, country, timezone;
  VOX_RPC_OP(void);
};
struct VerifyEmail {
  Uuid user_id;
  VOX_RPC_OP(void);
};
// By a platform MODERATOR+ about a user of lower role. SUSPENDED may carry
// `until` (lifted by RunMaintenance); DELETED goes through DeleteUser.
struct SetAccountStatus {
  Uuid actor_id, user_id;
  std::string status;  // an AccountStatus
  std::string reason;
  std::optional<Timestamp> until;
  VOX_RPC_OP(void);
};
// By an ADMIN+: grants a role below their own to a user below it. Without
// an actor, the operator's grant (admin token): any role, e.g. the first
// ADMIN of a new platform.
struct SetUserRole {
  std::optional<Uuid> actor_id;
  Uuid user_id;
  std::string role;  // a UserRole
  VOX_RPC_OP(void);
};
// Answers the auth_providers row's id.
struct LinkAuthProvider {
  Uuid user_id;
  std::string provider;     // an AuthProviderType
  std::string provider_id;  // the provider's subject id
  std::string provider_email, access_token, refresh_token, metadata_json;
  std::optional<Timestamp> token_expires_at;
  VOX_RPC_OP(Uuid);
};
// Refused for a user's last provider.
struct UnlinkAuthProvider {
  Uuid user_id, auth_provider_id;
  VOX_RPC_OP(void);
};
// The seed's soft-delete flow; by the user or an ADMIN+.
struct DeleteUser {
  Uuid actor_id, user_id;
  VOX_RPC_OP(void);
};

// ---- Rooms and participants ----
// In-room authority: HOST > CO_HOST > PARTICIPANT; a host or co-host acts on
// lower roles; platform MODERATOR+ acts in any room as a host would.

// A CREATED room; its owner's first join takes it LIVE.
struct CreateRoom {
  Uuid owner_id;
  std::string title;
  std::string room_code;  // empty: one is generated
  RoomSettings settings;
  VOX_RPC_OP(CreatedRoom);
};
// Creates the room, joins its owner as HOST and takes it LIVE.
struct CreateAndOpenRoom {
  Uuid owner_id;
  std::string title;
  std::string room_code;         // empty: one is generated
  int32_t max_participants = 0;  // 0: the default
  bool is_public = true;
  std::vector<std::string> tags;
  RoomSettings settings;  // a field given here overrides the ones above
  VOX_RPC_OP(OpenedRoom);
};
// By the owner or MODERATOR+.
struct UpdateRoomSettings {
  Uuid room_id, actor_id;
  RoomSettings settings;
  VOX_RPC_OP(void);
};
struct JoinRoom {
  Uuid room_id, user_id;
  VOX_RPC_OP(Joined);
};
struct LeaveRoom {
  Uuid room_id, user_id;
  VOX_RPC_OP(void);
};
// Self-mute and self-unmute, or a host muting a lower role (a host mute may
// expire; the muted user cannot unmute themselves).
struct SetMuted {
  Uuid room_id, actor_id, target_id;
  bool muted = true;
  std::optional<Timestamp> expires_at;  // a host mute's expiry (lifted by RunMaintenance)
  VOX_RPC_OP(void);
};
// Mutes every present participant below the actor; answers how many.
struct MuteAll {
  Uuid room_id, actor_id;
  VOX_RPC_OP(int64_t);
};
// Raise: self only, where the room allows it. Lower: self or a host.
struct SetHandRaised {
  Uuid room_id, actor_id, target_id;
  bool raised = true;
  VOX_RPC_OP(void);
};
// The user's own state (as are SetSpeaking and SetConnectionStatus).
struct SetScreenSharing {
  Uuid room_id, user_id;
  bool sharing = true;
  VOX_RPC_OP(void);
};
// A live signal: no audit row.
struct SetSpeaking {
  Uuid room_id, user_id;
  bool speaking = true;
  VOX_RPC_OP(void);
};
// A live signal: no audit row.
struct SetConnectionStatus {
  Uuid room_id, user_id;
  std::string status;  // a ConnectionStatus
  VOX_RPC_OP(void);
};
// The HOST promotes to or demotes from CO_HOST.
struct ChangeParticipantRole {
  Uuid room_id, actor_id, target_id;
  std::string role;  // a ParticipantRole
  VOX_RPC_OP(void);
};
// Removes a present participant of lower role.
struct KickParticipant {
  Uuid room_id, actor_id, target_id;
  std::string reason;
  VOX_RPC_OP(void);
};
// Bans a user (present or not) of lower role, removing them if present.
struct BanFromRoom {
  Uuid room_id, actor_id, target_id;
  std::string reason;
  std::optional<Timestamp> expires_at;  // lifted by RunMaintenance
  VOX_RPC_OP(void);
};
struct UnbanFromRoom {
  Uuid room_id, actor_id, target_id;
  VOX_RPC_OP(void);
};
// LIVE -> ENDED by the owner, the HOST or MODERATOR+: everyone leaves,
// recordings stop, call sessions end.
struct EndRoom {
  Uuid room_id, actor_id;
  VOX_RPC_OP(void);
};
// CREATED -> CANCELLED by the owner or MODERATOR+.
struct CancelRoom {
  Uuid room_id, actor_id;
  VOX_RPC_OP(void);
};
// Soft delete by the owner or MODERATOR+ (a LIVE room is ended first).
struct DeleteRoom {
  Uuid room_id, actor_id;
  VOX_RPC_OP(void);
};

// ---- Moderation ----

// By a platform MODERATOR+, or for room actions a HOST or CO_HOST of the
// room; the moderator must outrank the target. Answers the action's id.
struct TakeModerationAction {
  Uuid moderator_id, target_user_id;
  std::string type;             // a ModerationActionType
  std::optional<Uuid> room_id;  // required for MUTE, KICK, ROOM_BAN
  std::string reason;           // required
  std::optional<Timestamp> expires_at;
  VOX_RPC_OP(Uuid);
};
// By a platform MODERATOR+: undoes the action's lasting effect.
struct RevokeModerationAction {
  Uuid action_id, revoker_id;
  std::string reason;
  VOX_RPC_OP(void);
};

// ---- Recordings ----
// STARTED -> IN_PROGRESS -> STOPPED -> PROCESSING -> READY, or FAILED.

// By a present HOST or CO_HOST of a LIVE, recordable room, or MODERATOR+.
// Answers the recording's id.
struct StartRecording {
  Uuid room_id, actor_id;
  std::string storage_key;  // required; unique
  std::string storage_bucket, filename, codec, resolution;
  std::optional<int32_t> fps, bitrate;
  bool is_public = false;
  VOX_RPC_OP(Uuid);
};
// The recorder reports capture running.
struct MarkRecordingInProgress {
  Uuid recording_id;
  VOX_RPC_OP(void);
};
// By the owner or a user who may act on the room.
struct StopRecording {
  Uuid recording_id, actor_id;
  int64_t size_bytes = 0;
  int32_t duration_seconds = 0;
  VOX_RPC_OP(void);
};
// A background job starts processing (or retries a FAILED recording).
struct BeginProcessing {
  Uuid recording_id;
  VOX_RPC_OP(void);
};
struct RecordingReady {
  Uuid recording_id;
  std::string storage_url;              // required
  std::optional<Timestamp> expires_at;  // after now; deleted then by RunMaintenance
  VOX_RPC_OP(void);
};
struct FailRecording {
  Uuid recording_id;
  std::string error_message;  // required
  VOX_RPC_OP(void);
};
// Soft delete by the owner or MODERATOR+; refused while capturing.
struct DeleteRecording {
  Uuid recording_id, actor_id;
  VOX_RPC_OP(void);
};
// Recordings past their expiry and not deleted, soonest-expired first.
struct ExpiredRecordings {
  uint32_t limit = 100;  // 1..1000
  VOX_RPC_OP(Rows);
};

// ---- Call sessions ----
// CONNECTING -> CONNECTED -> ENDED or DROPPED; CONNECTING -> FAILED.

// For a present participant; answers the session's id.
struct StartCallSession {
  Uuid participant_id;
  VOX_RPC_OP(Uuid);
};
struct ConnectCallSession {
  Uuid session_id;
  CallTelemetry telemetry;
  VOX_RPC_OP(void);
};
struct ReportTelemetry {
  Uuid session_id;
  CallTelemetry telemetry;
  VOX_RPC_OP(void);
};
// CONNECTING -> FAILED: the connection was never established.
struct FailCallSession {
  Uuid session_id;
  std::string reason;  // a CallFailureReason
  std::string detail;
  VOX_RPC_OP(void);
};
// CONNECTED -> DROPPED: an established connection was lost.
struct DropCallSession {
  Uuid session_id;
  std::string reason;  // a CallFailureReason
  std::string detail;
  VOX_RPC_OP(void);
};
// CONNECTED -> ENDED: a normal hang-up.
struct EndCallSession {
  Uuid session_id;
  VOX_RPC_OP(void);
};
struct GetCallSession {
  Uuid session_id;
  VOX_RPC_OP(CallSession);
};

// ---- Wallets, transfers, premium ----
// `currency` empty: COIN. Money-moving ops take an optional idempotency key:
// a retry answers `already_done` and writes nothing.

// A USER wallet in another currency; answers its id.
struct CreateWallet {
  Uuid user_id;
  std::string currency;
  VOX_RPC_OP(Uuid);
};
struct TopUp {
  Uuid user_id;
  int64_t amount = 0;
  std::string idempotency_key;
  std::string currency, memo;
  VOX_RPC_OP(Transfer);
};
struct Gift {
  Uuid sender_id, receiver_id;
  int64_t amount = 0;  // what the sender pays, fee included
  std::optional<Uuid> room_id;
  std::string idempotency_key;
  std::string currency;
  VOX_RPC_OP(Transfer);
};
// Holds `amount` of the payer's coins for a call charge (PENDING).
struct Reserve {
  Uuid payer_id;
  int64_t amount = 0;
  Timestamp timeout_at = 0;  // after now; voided then by RunMaintenance
  std::string currency;
  std::optional<Uuid> room_id;
  std::string idempotency_key;
  VOX_RPC_OP(Transfer);
};
// POSTED for `final_amount` (1..reserved); the rest of the hold is released.
struct PostReservation {
  Uuid transfer_id;
  int64_t final_amount = 0;
  VOX_RPC_OP(void);
};
struct VoidReservation {
  Uuid transfer_id;
  VOX_RPC_OP(void);
};
// Moves a POSTED transfer's amount back; answers the reversal's id.
struct Reverse {
  Uuid transfer_id;
  std::string reason;
  VOX_RPC_OP(Uuid);
};
// Appends a fee_schedule row; answers its id.
struct SetFee {
  std::string transfer_type;  // a TransferType
  int32_t fee_bps = 0;        // 0..10000
  int64_t min_fee = 0;
  Timestamp effective_from = 0;
  VOX_RPC_OP(Uuid);
};
// Answers the feature's id.
struct CreatePremiumFeature {
  std::string code, name, description;
  int64_t price = 0;
  std::string currency;
  std::string kind;                    // a PremiumKind
  std::optional<int32_t> period_days;  // SUBSCRIPTION only, and required there
  VOX_RPC_OP(Uuid);
};
struct PurchasePremium {
  Uuid user_id;
  std::string feature_code, idempotency_key;
  VOX_RPC_OP(Purchase);
};
// Pays back what was paid; answers the refund transfer's id.
struct RefundPurchase {
  Uuid purchase_id;
  std::string reason;
  VOX_RPC_OP(Uuid);
};
// An ACTIVE subscription -> CANCELLED.
struct CancelSubscription {
  Uuid purchase_id;
  VOX_RPC_OP(void);
};
struct GetWalletBalance {
  Uuid user_id;
  std::string currency;
  VOX_RPC_OP(WalletBalance);
};
// NotFound until the wallet's first use.
struct GetSystemWalletBalance {
  std::string kind;  // a system WalletKind: SYSTEM_ISSUANCE, SYSTEM_REVENUE, SYSTEM_PAYOUT
  std::string currency;
  VOX_RPC_OP(WalletBalance);
};
// Admin: recomputes every wallet from the ledger.
struct AuditAllWallets {
  VOX_RPC_OP(LedgerAudit);
};
struct WalletTransactions {
  Uuid user_id;
  std::string currency;
  int32_t limit = 100;  // 1..500
  std::optional<Uuid> after;
  VOX_RPC_OP(TransferPage);
};

// ---- Notifications and system events ----

// Answers the notification's id. ROOM_INVITATION goes through InviteToRoom.
struct SendNotification {
  Uuid recipient_id;
  std::string kind;  // a NotificationKind; empty: SYSTEM_MESSAGE
  std::optional<Uuid> actor_id, room_id;
  std::string title;  // required
  std::string body;
  std::string payload;  // a JSON value
  std::optional<Timestamp> expires_at;
  VOX_RPC_OP(Uuid);
};
// By the room's owner or a present HOST or CO_HOST.
struct InviteToRoom {
  Uuid room_id, inviter_id, invitee_id;
  VOX_RPC_OP(Invite);
};
// A MISSED_CALL notification; answers its id.
struct RecordMissedCall {
  Uuid recipient_id, caller_id;
  std::optional<Uuid> room_id;
  VOX_RPC_OP(Uuid);
};
// By the recipient only (as are MarkAllRead and DeleteNotification).
struct MarkNotificationRead {
  Uuid notification_id, recipient_id;
  VOX_RPC_OP(void);
};
// Answers how many were marked.
struct MarkAllRead {
  Uuid recipient_id;
  VOX_RPC_OP(int64_t);
};
struct DeleteNotification {
  Uuid notification_id, recipient_id;
  VOX_RPC_OP(void);
};
// Newest first, skipping deleted and expired ones.
struct ListNotifications {
  Uuid recipient_id;
  bool unread_only = false;
  uint32_t limit = 100;  // 1..1000
  VOX_RPC_OP(std::vector<Notification>);
};
// Appends to the operational event log; answers the event's id.
struct RecordSystemEvent {
  std::string severity;                  // a Severity; empty: INFO
  std::string component, code, message;  // required
  std::string details;                   // a JSON value
  std::optional<Uuid> user_id, room_id;
  std::optional<Timestamp> occurred_at;  // nullopt: now
  VOX_RPC_OP(Uuid);
};

// ---- Reads ----

// The user's row as a JSON object.
struct UserByEmail {
  std::string email;
  VOX_RPC_OP(std::string);
};
// The user's row as a JSON object.
struct UserByUsername {
  std::string username;
  VOX_RPC_OP(std::string);
};
struct PresentParticipants {
  Uuid room_id;
  VOX_RPC_OP(std::vector<PresentParticipant>);
};
// The present participants with a raised hand, earliest raised first.
struct HandRaiseQueue {
  Uuid room_id;
  VOX_RPC_OP(std::vector<PresentParticipant>);
};
// The user's present participations (room_participants rows).
struct UserPresentRooms {
  Uuid user_id;
  VOX_RPC_OP(Rows);
};
// The room's audit rows, newest first.
struct RoomAuditTrail {
  Uuid room_id;
  uint32_t limit = 100;  // 1..1000
  std::optional<Uuid> after;
  VOX_RPC_OP(Rows);
};
// The audit rows the user caused, newest first.
struct UserAuditTrail {
  Uuid user_id;
  uint32_t limit = 100;  // 1..1000
  std::optional<Uuid> after;
  VOX_RPC_OP(Rows);
};
struct RoomStatistics {
  Uuid room_id;
  VOX_RPC_OP(RoomStats);
};
// Public LIVE rooms with the tag, newest started first; `after` is a room id.
struct LiveRoomsByTag {
  std::string tag;
  uint32_t limit = 100;  // 1..1000
  std::optional<Uuid> after;
  VOX_RPC_OP(Rows);
};
// The tag's row as a JSON object.
struct FindTag {
  std::string name;
  VOX_RPC_OP(std::string);
};
struct IsBanned {
  Uuid room_id, user_id;
  VOX_RPC_OP(bool);
};
// A row of any table by primary key, as a JSON object (secret columns
// left out).
struct GetRow {
  std::string table;
  Uuid id;
  VOX_RPC_OP(std::string);
};

// ---- Searches (docs/searches.md) ----
// Reads (any role). Every filter is optional: empty strings and lists,
// nullopt and absent ranges are "not given"; all given filters must hold.
// Enum filters take value names and match any of them; ids name rows
// (NOT_FOUND naming the field when none has the id). `sort` names one of
// the search's orders (empty: the first listed); `after` is the previous
// page's `next`, valid only for the same search and sort.

// sort: created_desc, created_asc, username_asc, last_login_desc.
struct SearchUsers {
  std::string username_prefix, display_name_prefix;  // ASCII case-insensitive
  std::string email;                                 // the whole address
  std::vector<std::string> account_status;           // AccountStatus
  std::vector<std::string> role;                     // UserRole
  std::optional<bool> verified;
  TimeRange created, last_login;
  bool include_deleted = false;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: created_desc, created_asc, started_desc, participants_desc, scheduled_asc.
struct SearchRooms {
  std::vector<std::string> tags;      // carries at least one of them
  std::vector<std::string> tags_all;  // carries every one
  std::vector<std::string> status;    // RoomStatus
  bool live_now = false;              // status LIVE
  std::optional<bool> is_public;
  IntRange max_participants;  // the capacity
  IntRange participants;      // present now
  bool has_free_seat = false;
  std::optional<Uuid> owner_id, category_id;
  TimeRange created, scheduled;  // scheduled: scheduled_start
  bool include_deleted = false;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: started_desc, started_asc, packet_loss_desc, rtt_desc.
struct SearchCallSessions {
  std::vector<std::string> status;          // CallSessionStatus
  std::vector<std::string> failure_reason;  // CallFailureReason
  std::vector<std::string> transport;       // CallTransport
  std::string region;                       // exact
  std::optional<Uuid> user_id, room_id, participant_id;
  TimeRange started;
  IntRange packet_loss_bp, rtt_ms, jitter_ms, bitrate_kbps;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: joined_desc, joined_asc, left_desc, duration_desc.
struct SearchParticipants {
  std::vector<std::string> role;  // ParticipantRole
  std::optional<bool> present;    // true: not left; false: has left
  std::optional<Uuid> room_id, user_id;
  TimeRange joined, left;
  IntRange duration_seconds, mute_count, hand_raise_count;
  std::optional<bool> kicked, banned;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: created_desc, created_asc.
struct SearchModeration {
  std::vector<std::string> action_type;  // ModerationActionType
  std::optional<bool> in_force;          // true: neither revoked nor lifted
  std::optional<Uuid> target_user_id, moderator_id, room_id;
  TimeRange created;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: newest_first, oldest_first.
struct SearchAudit {
  std::vector<std::string> action;  // AuditAction
  std::optional<Uuid> user_id;      // who acted
  std::optional<Uuid> target_user_id, room_id;
  TimeRange time;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: created_desc, created_asc, amount_desc.
struct SearchTransfers {
  std::vector<std::string> type;    // TransferType
  std::vector<std::string> status;  // TransferStatus
  std::string direction;            // any (empty), outgoing, incoming: needs wallet_id
  std::optional<Uuid> wallet_id, room_id;
  IntRange amount;
  TimeRange created;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};
// sort: unread_first, newest_first, oldest_first.
struct SearchNotifications {
  std::vector<std::string> kind;  // NotificationKind
  std::optional<bool> unread;
  std::optional<Uuid> recipient_id, actor_id, room_id;
  TimeRange created;
  std::optional<Timestamp> unexpired_at;  // leaves out those with expires_at <= it
  bool include_deleted = false;
  std::string sort;
  uint32_t limit = 100;  // 1..1000
  std::string after;
  VOX_RPC_OP(SearchPage);
};

// ---- Reports (docs/reports.md) ----
// Reads (any role), computed on a snapshot off the engine thread; not in a
// batch. Each covers [from, to) (from < to) cut into `bucket`s ("hour",
// "day" or "week") and groups rows by the dimension `by` names (empty: no
// dimension). Filters left empty (nullopt) are not applied; enum filters
// take value names. A bad argument is INVALID_ARGUMENT; more than
// ServerOptions::max_reports at once RESOURCE_EXHAUSTED.

// Table "identity": sign-ups, logins, logouts, providers linked, status and
// role changes.
struct IdentityReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;              // provider, account_status, role
  std::string provider;        // an AuthProviderType
  std::string account_status;  // an AccountStatus (the user's now)
  std::string role;            // a UserRole (the user's now)
  VOX_RPC_OP(Report);
};
// Table "rooms": rooms created, started, ended, cancelled; durations, peaks
// and joins of the rooms that ended.
struct RoomReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;                 // room_type, tag
  std::optional<bool> is_public;  // only public (true) or private (false) rooms
  std::string tag;                // only rooms with this tag
  VOX_RPC_OP(Report);
};
// Tables "calls" (attempts, outcomes, connect time, telemetry percentiles)
// and "failure_reasons".
struct CallReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;         // transport, region, room_type
  std::string transport;  // a CallTransport
  std::string region;
  VOX_RPC_OP(Report);
};
// Table "engagement": joins, leaves, kicks, time in room, mutes, hand
// raises, screen shares.
struct EngagementReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;  // room_type, tag
  std::optional<bool> is_public;
  std::string tag;
  VOX_RPC_OP(Report);
};
// Tables "actions" and "moderators" (the top_n moderators).
struct ModerationReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;                    // action_type, moderator
  std::string type;                  // a ModerationActionType
  std::optional<Uuid> moderator_id;  // only this moderator's actions
  uint32_t top_n = 10;               // 1..1000
  VOX_RPC_OP(Report);
};
// Tables "volume", "top_spenders" (the top_n users) and "ledger" (the
// ledger audit, one row).
struct EconomyReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;        // transfer_type, status
  std::string type;      // a TransferType
  std::string currency;  // empty: COIN
  uint32_t top_n = 10;   // 1..1000
  VOX_RPC_OP(Report);
};
// Tables "events" and "bursts" (buckets with more ERROR+CRITICAL events
// than burst_threshold).
struct SystemEventReport {
  Timestamp from = 0, to = 0;
  std::string bucket = "day";
  std::string by;            // severity, component
  std::string min_severity;  // a Severity: only events at least this severe
  std::string component;
  int64_t burst_threshold = 10;
  VOX_RPC_OP(Report);
};
// How many audit rows with `action` (empty: any) have from <= timestamp < to.
struct AuditCount {
  Timestamp from = 0, to = 0;
  std::string action;  // an AuditAction
  VOX_RPC_OP(int64_t);
};

// ---- Generic writes (admin): the table's deletion policy and invariants
// apply as on every other path ----

struct InsertRow {
  std::string table;
  std::vector<Field> values;
  VOX_RPC_OP(Uuid);
};
struct UpdateRow {
  std::string table;
  Uuid id;
  std::vector<Field> values;
  VOX_RPC_OP(void);
};
struct DeleteRow {
  std::string table;
  Uuid id;
  VOX_RPC_OP(void);
};

// ---- Administration ----

// Admin: lifts expired restrictions, deletes expired recordings, voids
// timed-out reservations, expires subscriptions (the server also runs it on
// a schedule).
struct RunMaintenance {
  VOX_RPC_OP(MaintenanceReport);
};
// Any role; not in a batch.
struct Stats {
  VOX_RPC_OP(ServerStats);
};
// Admin: a snapshot, now. Not in a batch.
struct Checkpoint {
  VOX_RPC_OP(CheckpointInfo);
};
// Admin: the data directory's snapshots, newest first. Not in a batch.
struct ListSnapshots {
  VOX_RPC_OP(std::vector<SnapshotEntry>);
};

// ---- Schema migrations (engine/ops/migration.h; docs/schema.md) ----

// Admin: applies the migration in `text` (`version N`, then one statement a
// line) as one transaction, answered once durable. `dry_run`: checked and
// described, nothing changes. A destructive step (narrow, drop) is
// FAILED_PRECONDITION without `confirm_destructive`. Errors name the line.
// Not in a batch.
struct ApplyMigration {
  std::string text;
  bool confirm_destructive = false;
  bool dry_run = false;
  VOX_RPC_OP(MigrationInfo);
};
// Any role: the schema's version, the migrations applied and a description.
struct GetSchema {
  VOX_RPC_OP(SchemaInfo);
};

// ---- Change streams (docs/streams.md; for a resuming, typed stream use
// vox::Subscription in net/subscription.h) ----

// One changed row of a committed transaction: the transaction's LSN and
// commit time, the table, the row's primary key, and its after-image as a
// JSON object (empty when `deleted`); for an audit_logs row, its action
// ("USER_MUTED", "HAND_RAISED", ...).
struct StreamEvent {
  uint64_t lsn = 0;
  Timestamp commit_time = 0;
  std::string table;
  Uuid id;
  bool deleted = false;
  std::string row, action;
  bool operator==(const StreamEvent&) const = default;
};
// The answer to Subscribe: the subscription's id on this connection and
// the LSN after which its events start.
struct Subscribed {
  uint64_t subscription = 0, from_lsn = 0;
};
// A pushed batch of a stream (a Response with the Subscribe's id):
// `last_lsn`: every transaction up to it has been sent; `ended` non-empty:
// the stream's last batch, and why ("fell behind at LSN X": resubscribe
// from the last LSN received; "unsubscribed"; "the server is stopping").
struct EventBatchInfo {
  uint64_t subscription = 0;
  std::vector<StreamEvent> events;
  uint64_t last_lsn = 0;
  std::string ended;
};
// Decodes a pushed EventBatch response (INTERNAL for another result).
absl::StatusOr<EventBatchInfo> DecodeEventBatch(const wire::Response& response);

// Any role. Exactly one of `room_id`, `user_id` or `table` ("*": every
// table). `from_lsn`: events of the transactions after it (nullopt: from
// now); OUT_OF_RANGE when older than the server's history. The answer
// opens a stream of EventBatch responses with the same request id: send it
// with Client::OpenStream (net/client.h), not Call.
struct Subscribe {
  std::optional<Uuid> room_id;
  std::optional<Uuid> user_id;
  std::string table;
  std::optional<uint64_t> from_lsn;
  VOX_RPC_OP(Subscribed);
};
// Ends a subscription of this connection; its stream then ends with
// "unsubscribed".
struct Unsubscribe {
  uint64_t subscription = 0;
  VOX_RPC_OP(void);
};

#undef VOX_RPC_OP

}  // namespace vox::rpc

#endif  // VOXDB_NET_RPC_H_
