// The platform's reports (mission objectives, section 4): one function per
// reporting objective, each over a time range cut into hour/day/week buckets
// (BucketedRange) and grouped by the dimension that report is about. Each scans
// the pinned columns of a ReportSnapshot in plain loops over arrays (no
// per-row virtual call, no row materialised) and returns plain tables
// (ReportTable: rows keyed by bucket start and dimension value).
//
// What is counted where, in one line each (the columns are listed below):
//   identity     users.created_at (sign-ups); audit_logs USER_LOGIN_SUCCESS /
//                _FAILED / USER_LOGOUT / AUTH_PROVIDER_LINKED /
//                ACCOUNT_STATUS_CHANGED / ROLE_CHANGED at their timestamp
//   rooms        rooms.created_at / started_at / ended_at, audit ROOM_CANCELLED
//                (rooms keep no cancel time); durations, peaks and joins of
//                the rooms that ended in the bucket
//   calls        call_sessions by started_at: outcome by status, connect time
//                (connected_at - started_at) and telemetry percentiles;
//                failure reasons of the FAILED and DROPPED ones
//   engagement   room_participants joined_at / left_at / kicked_at and
//                duration_seconds; audit USER_MUTED (+ ALL_MUTED's count),
//                HAND_RAISED, SCREEN_SHARE_STARTED
//   moderation   moderation_actions by created_at (type, moderator, revoked,
//                lifted), revocations by revoked_at, per-moderator totals
//   economy      transactions by created_at (type, status, amount) in one
//                currency; top spenders by posted outgoing volume; the
//                ledger audit (wallet counters against their rows)
//   system       system_events by occurred_at (severity, component); error
//                bursts: buckets whose ERROR+CRITICAL count exceeds a threshold
//
// Common rules. A row is counted in the bucket of the timestamp named for
// its column, only when that timestamp is in [from, to) (a row exactly at
// `from` or at a bucket start counts there; one at `to` does not). Only live
// rows are read; soft-deleted rows (deleted users, rooms) still count: the
// sign-up or the room happened. Dimensions that describe a user or room
// (account status, role, room type, tags) use its value as of the snapshot,
// not as of the event. Rows lacking a dimension value go under kNoKey
// "(none)". A room with several tags counts once under each tag, so per-tag
// rows may add up to more than the untagged total. Percentiles are exact,
// by nearest rank over every value (p-th = the ceil(p * n)-th smallest; p50
// of {1, 2, 3, 4} is 2), found by selection, not interpolated and not from a
// histogram; averages are means. Durations are whole seconds, connect
// times whole milliseconds (truncated).
// Amounts are integer coins, exact in a double up to 2^53.
//
// Errors: InvalidArgument for a bad request (from >= to, an unknown bucket
// width or dimension, more than kMaxReportBuckets buckets, top_n outside
// 1..kMaxTopN, a negative threshold, an empty currency); FailedPrecondition
// when the snapshot lacks a table the report reads (kXxxReportTables).
//
// Thread safety: pure functions of an immutable snapshot; run them on any
// thread, several at once.
#ifndef VOXDB_ENGINE_REPORT_REPORTS_H_
#define VOXDB_ENGINE_REPORT_REPORTS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "engine/ops/ledger.h"
#include "engine/report/report_snapshot.h"
#include "engine/report/report_table.h"
#include "engine/report/time_buckets.h"

namespace vox {

inline constexpr size_t kMaxTopN = 1000;

// ---- Filtered count (the scan benchmark's shape) ------------------------------

struct AuditCountRequest {
  Timestamp from = 0, to = 0;         // [from, to); from < to
  std::optional<AuditAction> action;  // all actions when unset
};
// Live audit_logs rows with `action` and from <= timestamp < to: one
// branch-free pass over the action, timestamp and liveness arrays.
absl::StatusOr<uint64_t> CountAuditRows(const ReportSnapshot& snap, const AuditCountRequest& req);

// ---- Identity and access ----------------------------------------------------

inline constexpr TableId kIdentityReportTables[] = {TableId::users, TableId::auth_providers,
                                                    TableId::audit_logs};
enum class IdentityDimension : uint8_t { kNone, kProvider, kAccountStatus, kRole };
struct IdentityReportRequest {
  BucketedRange range;
  IdentityDimension by = IdentityDimension::kNone;
  // Filters: only rows of this provider (rows that carry none are dropped),
  // only users now in this status / role (rows about no user are dropped).
  std::optional<AuthProviderType> provider;
  std::optional<AccountStatus> account_status;
  std::optional<UserRole> role;
};
// Columns: signups (users by created_at; provider = the type of the user's
// earliest auth_providers row, "(none)" when none is left, e.g. a deleted
// user's), logins_succeeded, logins_failed (audit rows; provider from their
// metadata), login_failure_rate (failed / (succeeded + failed)),
// unique_login_users (distinct users with a successful login), logouts,
// providers_linked, account_status_changes, role_changes (the subject user
// is the audit row's target for these two).
absl::StatusOr<ReportTable> IdentityReport(const ReportSnapshot& snap,
                                           const IdentityReportRequest& req);

// ---- Room utilization and lifecycle ---------------------------------------------

inline constexpr TableId kRoomReportTables[] = {TableId::rooms, TableId::tags, TableId::audit_logs};
enum class RoomDimension : uint8_t { kNone, kType, kTag };  // type: PUBLIC / PRIVATE
struct RoomReportRequest {
  BucketedRange range;
  RoomDimension by = RoomDimension::kNone;
  std::optional<bool> is_public;   // only public (or private) rooms
  std::optional<std::string> tag;  // only rooms with this tag (InvalidArgument if unknown)
};
// Columns: created, started, ended, cancelled; over the rooms that ended in
// the bucket: total_duration_seconds, avg_duration_seconds,
// p50/p90/p99_duration_seconds, avg_peak_participants, max_peak_participants,
// total_joins, avg_capacity_used_pct (peak_participants / max_participants).
absl::StatusOr<ReportTable> RoomReport(const ReportSnapshot& snap, const RoomReportRequest& req);

// ---- Call connectivity ------------------------------------------------------------

inline constexpr TableId kCallReportTables[] = {TableId::call_sessions, TableId::rooms};
enum class CallDimension : uint8_t { kNone, kTransport, kRegion, kRoomType };
struct CallReportRequest {
  BucketedRange range;
  CallDimension by = CallDimension::kNone;
  std::optional<CallTransport> transport;
  std::optional<std::string> region;
};
struct CallReportResult {
  // Sessions by started_at. Columns: attempts, connected (connected_at set),
  // failed, dropped, ended, open (CONNECTING or CONNECTED now),
  // success_rate (connected / attempts), failure_rate (failed / attempts),
  // drop_rate (dropped / connected), p50/p90/p99_connect_ms,
  // p50/p90/p99_rtt_ms, p50/p90/p99_jitter_ms, p50/p90/p99_packet_loss_bp,
  // avg_bitrate_kbps (telemetry: the last reported, non-null values).
  ReportTable sessions;
  // FAILED and DROPPED sessions by started_at, keyed by failure_reason.
  // Columns: failed, dropped, share (of the bucket's failed + dropped).
  ReportTable failure_reasons;
};
absl::StatusOr<CallReportResult> CallReport(const ReportSnapshot& snap,
                                            const CallReportRequest& req);

// ---- Participant engagement ------------------------------------------------------------

inline constexpr TableId kEngagementReportTables[] = {TableId::room_participants, TableId::rooms,
                                                      TableId::tags, TableId::audit_logs};
enum class EngagementDimension : uint8_t { kNone, kRoomType, kTag };
struct EngagementReportRequest {
  BucketedRange range;
  EngagementDimension by = EngagementDimension::kNone;
  std::optional<bool> is_public;
  std::optional<std::string> tag;
};
// Columns: joins (joined_at), unique_users (distinct users among them),
// leaves (left_at), kicks (kicked_at); over participations that left in the
// bucket: total/avg/p50/p90_time_in_room_seconds (duration_seconds); mutes
// (audit USER_MUTED, plus the count an ALL_MUTED row carries), hand_raises
// (HAND_RAISED), screen_shares (SCREEN_SHARE_STARTED).
absl::StatusOr<ReportTable> EngagementReport(const ReportSnapshot& snap,
                                             const EngagementReportRequest& req);

// ---- Safety and moderation accountability --------------------------------------------------

inline constexpr TableId kModerationReportTables[] = {TableId::moderation_actions, TableId::users,
                                                      TableId::room_participants};
enum class ModerationDimension : uint8_t { kNone, kType, kModerator };  // moderator: username
struct ModerationReportRequest {
  BucketedRange range;
  ModerationDimension by = ModerationDimension::kNone;
  std::optional<ModerationActionType> type;
  std::optional<Uuid> moderator_id;  // InvalidArgument if no such user
  size_t top_n = 10;                 // rows of `moderators`
};
// There is no record of when an incident was reported, so "time to act"
// has no direct source. Two honest measures instead: seconds_to_revoke
// (revoked_at - created_at: how long a revoked action stood) and, for room
// actions, target_presence_seconds (created_at - the target's joined_at in
// that room: how long the target had been in the room when acted on, an
// upper bound on the reaction time to anything they did there).
struct ModerationReportResult {
  // Actions by created_at. Columns: actions, revoked (of these, revoked
  // since), revoke_rate, lifted (expired), distinct_targets,
  // p50/p90_seconds_to_revoke, p50/p90_target_presence_seconds, and
  // revocations (actions revoked in the bucket, by revoked_at).
  ReportTable actions;
  // The top_n moderators by actions taken in the range (ties: username),
  // one row each at the range's first bucket, keyed by username. Columns:
  // actions, one count per ModerationActionType (warnings, mutes, kicks,
  // room_bans, suspensions, platform_bans), revoked, revoke_rate,
  // distinct_targets, revocations_made (actions they revoked in the range).
  ReportTable moderators;
};
absl::StatusOr<ModerationReportResult> ModerationReport(const ReportSnapshot& snap,
                                                        const ModerationReportRequest& req);

// ---- Virtual economy -----------------------------------------------------------------------

inline constexpr TableId kEconomyReportTables[] = {TableId::transactions, TableId::wallets,
                                                   TableId::users};
enum class EconomyDimension : uint8_t { kNone, kType, kStatus };
struct EconomyReportRequest {
  BucketedRange range;
  EconomyDimension by = EconomyDimension::kNone;
  std::optional<TransferType> type;
  std::string currency = "COIN";  // amounts of different currencies never mix
  size_t top_n = 10;              // rows of `top_spenders`
};
struct EconomyReportResult {
  // Transfers by created_at. Columns: transfers, posted, pending, voided,
  // posted_amount, pending_amount, avg_posted_amount, and for POSTED
  // transfers by type: top_ups, top_up_amount, gifts, gift_amount,
  // fee_amount, purchases, purchase_amount, refunds, refund_amount,
  // call_charge_amount, payouts, payout_amount, reversals, reversal_amount.
  ReportTable volume;
  // The top_n users by posted outgoing volume in the range (transfers
  // debiting their USER wallet; ties: username), one row each at the
  // range's first bucket, keyed by username. Columns: outgoing_amount,
  // outgoing_transfers, gift_amount, fee_amount, purchase_amount,
  // call_charge_amount, incoming_amount (posted credits in the range).
  ReportTable top_spenders;
  // Every wallet (all time, all currencies): its counters recomputed from
  // the transactions against the stored ones (as AuditAllWallets does on
  // the live database).
  LedgerAudit ledger;
};
absl::StatusOr<EconomyReportResult> EconomyReport(const ReportSnapshot& snap,
                                                  const EconomyReportRequest& req);

// ---- System events ----------------------------------------------------------------------

inline constexpr TableId kSystemEventReportTables[] = {TableId::system_events};
enum class SystemEventDimension : uint8_t { kNone, kSeverity, kComponent };
struct SystemEventReportRequest {
  BucketedRange range;
  SystemEventDimension by = SystemEventDimension::kNone;
  std::optional<Severity> min_severity;  // only events at least this severe
  std::optional<std::string> component;
  int64_t burst_threshold = 10;  // a burst: more ERROR+ events than this in a bucket
};
struct SystemEventReportResult {
  // Events by occurred_at. Columns: events, debug, info, warning, error,
  // critical, errors (error + critical), distinct_codes.
  ReportTable events;
  // The buckets whose errors exceed burst_threshold, keyed by the
  // component with most errors in it (ties: name). Columns: errors,
  // critical, components (distinct components with errors),
  // top_component_errors, first_error_at, last_error_at (microseconds).
  ReportTable bursts;
};
absl::StatusOr<SystemEventReportResult> SystemEventReport(const ReportSnapshot& snap,
                                                          const SystemEventReportRequest& req);

}  // namespace vox

#endif  // VOXDB_ENGINE_REPORT_REPORTS_H_
