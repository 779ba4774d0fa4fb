// The platform's searches (mission objective 2): users, rooms, call
// sessions, participants, moderation history, the audit trail, transfers
// and notifications. Each takes one request struct of optional filters (an
// unset optional or an empty list means "no filter"; all given filters must
// hold), a sort order, a page size and a cursor, and returns one page of row
// ids in that order. The caller turns rows into what it sends (RowToJson,
// engine/ops/generic.h).
//
// Pages are keyset pages: `next` encodes the last row's sort key and row id,
// not an offset, so a later page continues right after that position even
// when rows were inserted, changed or deleted in between. A row that matches
// the filters throughout, with an unchanged sort key, appears on exactly one
// page; a row whose sort key changes between pages may be seen twice or not
// at all (it moved behind or past the cursor). Every sort ends with the row
// id (in the sort's direction), so the order is total.
//
// A cursor is an opaque ASCII string (base64url); it is valid only for the
// search and sort that produced it (InvalidArgument otherwise), with any
// filters. Each search uses an index when a filter fits one and otherwise
// scans the table's columns; `plan` says which (see SearchPlan).
//
// Soft-deleted rows (users, rooms, notifications) are left out unless
// `include_deleted`; the other searched tables have no soft delete.
//
// Read-only; run on the engine thread (see Database). Thread-compatible.
#ifndef VOXDB_ENGINE_OPS_SEARCH_H_
#define VOXDB_ENGINE_OPS_SEARCH_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"

namespace vox {

inline constexpr size_t kDefaultSearchLimit = 100;
inline constexpr size_t kMaxSearchLimit = 1000;

// Times in [from, to): either end may be open. A null time never matches a
// range with an end given.
struct TimeRange {
  std::optional<Timestamp> from;  // inclusive
  std::optional<Timestamp> to;    // exclusive
};

// Integers in [min, max], both inclusive; either may be open. A null value
// never matches a range with an end given.
struct IntRange {
  std::optional<int64_t> min;
  std::optional<int64_t> max;
};

// How a page was found: for tests and for the operator.
struct SearchPlan {
  enum class Access : uint8_t {
    kIndexOrder,  // an index walked in the sort's order, stopping at the page's end
    kIndexRows,   // an index's rows for a key, filtered and sorted
    kScan,        // the table's columns, every row
    kNothing,     // no row can match (e.g. an unknown tag); nothing read
  };
  Access access = Access::kScan;
  std::string table;    // the table searched
  std::string index;    // the index (or indexes, '+'-joined) used; empty for a scan
  size_t examined = 0;  // rows read from the index or the table
  // "audit_logs: index audit_by_room in sort order, 101 rows examined".
  std::string Explain() const;
};

struct SearchPage {
  std::vector<RowId> rows;          // at most `limit`, in the sort's order
  std::optional<std::string> next;  // set when more rows follow: pass as `after`
  SearchPlan plan;
};

// Besides its filters, every request has:
//   sort   the order; each search's enum lists the orders that make sense
//   limit  rows per page, 1..kMaxSearchLimit (InvalidArgument otherwise)
//   after  a previous page's `next`; empty for the first page
// Values in enum lists must be valid enum values (InvalidArgument).

// ---- Users ------------------------------------------------------------------

enum class UserSort : uint8_t {
  kCreatedDesc,  // newest accounts first
  kCreatedAsc,
  kUsernameAsc,    // ASCII case-insensitive
  kLastLoginDesc,  // never-logged-in users last
};
struct UserSearch {
  std::string username_prefix;      // ASCII case-insensitive
  std::string display_name_prefix;  // ASCII case-insensitive
  std::string email;                // the whole address, case-insensitive
  std::vector<AccountStatus> statuses;
  std::vector<UserRole> roles;
  std::optional<bool> verified;
  TimeRange created, last_login;
  bool include_deleted = false;
  UserSort sort = UserSort::kCreatedDesc;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: users_email for an email; users_active (in order) for statuses
// {ACTIVE} sorted by creation; otherwise a scan (prefixes included).
absl::StatusOr<SearchPage> SearchUsers(const Database& db, const UserSearch& req);

// ---- Rooms ------------------------------------------------------------------

enum class RoomSort : uint8_t {
  kCreatedDesc,
  kCreatedAsc,
  kStartedDesc,       // never-started rooms last
  kParticipantsDesc,  // most present participants first
  kScheduledAsc,      // soonest scheduled start first; unscheduled last
};
struct RoomSearch {
  std::optional<bool> is_public;  // the room type: public or private
  std::vector<RoomStatus> statuses;
  bool live_now = false;              // status LIVE
  std::vector<std::string> tags_any;  // tag names: carries at least one (unknown names ignored)
  std::vector<std::string> tags_all;  // tag names: carries every one
  IntRange max_participants;          // the room's capacity
  IntRange participants;              // present now (participant_count)
  bool has_free_seat = false;         // participant_count < max_participants
  std::optional<RowId> owner;
  std::optional<RowId> category;
  TimeRange created;
  TimeRange scheduled;  // scheduled_start in the range
  bool include_deleted = false;
  RoomSort sort = RoomSort::kCreatedDesc;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: rooms_by_owner, rooms_by_category (a key's rows); rooms_live_by_tag
// for tags of public LIVE rooms (in order when sorted by start); rooms_by_status
// (in order) for statuses sorted by creation; otherwise a scan.
absl::StatusOr<SearchPage> SearchRooms(const Database& db, const RoomSearch& req);

// ---- Call sessions ----------------------------------------------------------

enum class CallSessionSort : uint8_t {
  kStartedDesc,
  kStartedAsc,
  kPacketLossDesc,  // worst first; sessions without a measurement last
  kRttDesc,         // worst first; sessions without a measurement last
};
struct CallSessionSearch {
  std::optional<RowId> user, room, participant;
  std::vector<CallSessionStatus> statuses;
  std::vector<CallFailureReason> failure_reasons;
  std::vector<CallTransport> transports;
  std::string region;  // exact
  TimeRange started;
  IntRange packet_loss_bp, rtt_ms, jitter_ms, bitrate_kbps;  // telemetry thresholds
  CallSessionSort sort = CallSessionSort::kStartedDesc;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: call_sessions_by_participant for a participant; for a room,
// call_sessions_open when only open statuses are asked for, else the room's
// participations (participants_by_room) and their sessions; otherwise (a
// user alone included: there is no index of sessions by user) a scan.
absl::StatusOr<SearchPage> SearchCallSessions(const Database& db, const CallSessionSearch& req);

// ---- Participants -----------------------------------------------------------

enum class ParticipantSort : uint8_t {
  kJoinedDesc,
  kJoinedAsc,
  kLeftDesc,      // most recently left first; present participants last
  kDurationDesc,  // longest stay first (duration_seconds: 0 while present)
};
struct ParticipantSearch {
  std::optional<RowId> room, user;
  std::vector<ParticipantRole> roles;
  std::optional<bool> present;  // true: left_at is null; false: has left
  TimeRange joined, left;
  IntRange duration_seconds;  // as stored: set when the participant leaves
  IntRange mute_count, hand_raise_count;
  std::optional<bool> kicked, banned;
  ParticipantSort sort = ParticipantSort::kJoinedDesc;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: participants_by_room for a room (in order when sorted by leave
// time; only its front when present); participants_present_by_user for a
// user's present participations; otherwise (a user's past participations
// included: no index lists them) a scan.
absl::StatusOr<SearchPage> SearchParticipants(const Database& db, const ParticipantSearch& req);

// ---- Moderation history -----------------------------------------------------

enum class ModerationSort : uint8_t { kCreatedDesc, kCreatedAsc };
struct ModerationSearch {
  std::optional<RowId> target, moderator, room;
  std::vector<ModerationActionType> types;
  TimeRange created;
  std::optional<bool> in_force;  // true: neither revoked nor lifted
  ModerationSort sort = ModerationSort::kCreatedDesc;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: moderation_by_target (in order) for a target; otherwise a scan.
absl::StatusOr<SearchPage> SearchModeration(const Database& db, const ModerationSearch& req);

// ---- Audit trail ------------------------------------------------------------

enum class AuditSort : uint8_t { kNewestFirst, kOldestFirst };
struct AuditSearch {
  std::optional<RowId> user;    // who acted (audit_logs.user_id)
  std::optional<RowId> target;  // who was acted on
  std::optional<RowId> room;
  std::vector<AuditAction> actions;
  TimeRange time;
  AuditSort sort = AuditSort::kNewestFirst;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: audit_by_room / audit_by_user (in order; the smaller group when
// both apply), starting at the time range; otherwise a scan.
absl::StatusOr<SearchPage> SearchAudit(const Database& db, const AuditSearch& req);

// ---- Transfers --------------------------------------------------------------

enum class TransferSort : uint8_t { kCreatedDesc, kCreatedAsc, kAmountDesc };
enum class TransferDirection : uint8_t {
  kAny,
  kOutgoing,  // the wallet was debited
  kIncoming,  // the wallet was credited
};
struct TransferSearch {
  std::optional<RowId> wallet;
  TransferDirection direction = TransferDirection::kAny;  // REQUIRES a wallet unless kAny
  std::vector<TransferType> types;
  std::vector<TransferStatus> statuses;
  IntRange amount;
  TimeRange created;
  std::optional<RowId> room;
  TransferSort sort = TransferSort::kCreatedDesc;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: transactions_by_debit_wallet / _credit_wallet (merged, in order
// when sorted by time) for a wallet; otherwise a scan.
absl::StatusOr<SearchPage> SearchTransfers(const Database& db, const TransferSearch& req);

// ---- Notifications ----------------------------------------------------------

enum class NotificationSort : uint8_t {
  kUnreadFirst,  // unread ones first, each part newest first
  kNewestFirst,
  kOldestFirst,
};
struct NotificationSearch {
  std::optional<RowId> recipient, actor, room;
  std::vector<NotificationKind> kinds;  // e.g. ROOM_INVITATION, MISSED_CALL
  std::optional<bool> unread;
  TimeRange created;
  std::optional<Timestamp> unexpired_at;  // leaves out those with expires_at <= it
  bool include_deleted = false;
  NotificationSort sort = NotificationSort::kUnreadFirst;
  size_t limit = kDefaultSearchLimit;
  std::string after;
};
// Index: notifications_by_recipient (in order unless unread first) for a
// recipient; notifications_invitations for a room's invitations; otherwise
// (deleted ones included) a scan.
absl::StatusOr<SearchPage> SearchNotifications(const Database& db, const NotificationSearch& req);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_SEARCH_H_
