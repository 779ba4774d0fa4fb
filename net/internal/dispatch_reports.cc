// The report operations (engine/report/reports.h, docs/reports.md) on the
// wire. Split in two halves so that reports never hold the engine thread:
//   - on the engine thread, PrepareReport reads and checks the request's
//     arguments (no table is read) and pins the tables its report needs
//     (ReportSnapshot::Pin: O(chunks));
//   - on a report thread, the job it returns runs the report over that
//     snapshot and builds the ReportResult (AuditCount: a CountResult).
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "engine/report/reports.h"
#include "net/internal/dispatch.h"
#include "net/internal/dispatch_util.h"

namespace vox::net {
namespace {

using wire::Op;

// A report's answer may hold at most this many rows, all tables together
// (about 20 MB of frame); more is RESOURCE_EXHAUSTED.
constexpr size_t kMaxReportRows = 100'000;

// ---- Arguments ----

// A dimension's wire name (the `dimension` of the table it makes).
template <typename D>
struct DimensionName {
  std::string_view name;
  D value;
};

// `by`: absent, "" or "none" is D::kNone; a name not in `names` fails `a`.
template <typename D>
D Dimension(Args& a, const fb::String* by, std::string_view report,
            std::span<const DimensionName<D>> names) {
  const std::string_view given = View(by);
  if (given.empty() || given == "none") return D::kNone;
  std::string legal = "none";
  for (const DimensionName<D>& n : names) {
    if (n.name == given) return n.value;
    legal += StrCat(", ", n.name);
  }
  a.Fail(StrCat("by: '", given.substr(0, 32), "' is not a dimension of ", report, " (one of ",
                legal, ")"));
  return D::kNone;
}

// from, to and bucket (absent: day). Checked as the report will check them
// (from < to, at most kMaxReportBuckets buckets): O(1).
BucketedRange Range(Args& a, int64_t from, int64_t to, const fb::String* bucket) {
  BucketedRange range{.from = from, .to = to, .bucket = BucketWidth::kDay};
  if (bucket != nullptr && bucket->size() > 0) {
    absl::StatusOr<BucketWidth> width = ParseBucketWidth(View(bucket));
    if (!width.ok()) {
      a.Fail(StrCat("bucket: ", width.status().message()));
      return range;
    }
    range.bucket = *width;
  }
  if (absl::StatusOr<TimeBuckets> b = TimeBuckets::Make(range); !b.ok()) {
    a.Fail(std::string(b.status().message()));
  }
  return range;
}

// An optional string filter: absent or empty is "not given".
std::optional<std::string> Filter(const fb::String* s) {
  if (s == nullptr || s->size() == 0) return std::nullopt;
  return s->str();
}

size_t TopN(Args& a, uint32_t top_n) {
  if (top_n < 1 || top_n > kMaxTopN) a.Fail(StrCat("top_n must be 1..", kMaxTopN));
  return top_n;
}

// ---- Results ----

fb::Offset<wire::ReportTable> BuildTable(fb::FlatBufferBuilder& fbb, std::string_view name,
                                         const ReportTable& t) {
  std::vector<fb::Offset<wire::ReportRow>> rows;
  rows.reserve(t.rows.size());
  for (const ReportRow& r : t.rows) {
    auto key = fbb.CreateString(r.key);
    auto values = fbb.CreateVector(r.values);
    rows.push_back(wire::CreateReportRow(fbb, r.bucket_start, key, values));
  }
  auto rows_vec = fbb.CreateVector(rows);
  auto buckets = fbb.CreateVector(t.buckets);
  std::vector<fb::Offset<fb::String>> columns;
  columns.reserve(t.columns.size());
  for (const std::string& c : t.columns) columns.push_back(fbb.CreateString(c));
  auto columns_vec = fbb.CreateVector(columns);
  auto name_str = fbb.CreateString(name.data(), name.size());
  auto dimension = fbb.CreateString(t.dimension);
  return wire::CreateReportTable(fbb, name_str, dimension, columns_vec, buckets, rows_vec);
}

// The ledger audit as a one-row table at the range's first bucket.
ReportTable LedgerTable(const LedgerAudit& audit, std::vector<Timestamp> buckets) {
  ReportTable t{.columns = {"wallets", "transfers", "mismatches", "overdrawn", "balanced", "ok"},
                .buckets = std::move(buckets)};
  t.rows.push_back(
      ReportRow{.bucket_start = t.buckets.empty() ? 0 : t.buckets.front(),
                .values = {static_cast<double>(audit.wallets), static_cast<double>(audit.transfers),
                           static_cast<double>(audit.mismatches.size()),
                           static_cast<double>(audit.overdrawn.size()), audit.balanced ? 1.0 : 0.0,
                           audit.ok() ? 1.0 : 0.0}});
  return t;
}

using NamedTables = std::vector<std::pair<std::string_view, const ReportTable*>>;

// The ReportResult of `tables`; `started` is when the computation began.
Outcome BuildReport(fb::FlatBufferBuilder& fbb, const NamedTables& tables, uint64_t snapshot_lsn,
                    std::chrono::steady_clock::time_point started) {
  size_t rows = 0;
  for (const auto& [name, t] : tables) rows += t->rows.size();
  if (rows > kMaxReportRows) {
    return absl::ResourceExhaustedError(
        StrCat("the report has ", rows, " rows (at most ", kMaxReportRows,
               "): narrow the range, use wider buckets, a filter or no dimension"));
  }
  std::vector<fb::Offset<wire::ReportTable>> built;
  for (const auto& [name, t] : tables) built.push_back(BuildTable(fbb, name, *t));
  auto vec = fbb.CreateVector(built);
  const double micros =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
  // rows_scanned: the engine's reports do not count what they scan yet.
  auto result = wire::CreateReportResult(fbb, vec, snapshot_lsn, /*rows_scanned=*/0, micros);
  return Built{wire::Result::ReportResult, result.Union()};
}

// A job that runs `report(snapshot, request)` and builds its tables with
// `tables(result) -> NamedTables`.
template <typename Request, typename ReportFn, typename TablesFn>
ReportJob MakeJob(const Database& db, std::span<const TableId> pin, Request request,
                  uint64_t snapshot_lsn, ReportFn report, TablesFn tables) {
  auto snap = std::make_shared<const ReportSnapshot>(ReportSnapshot::Pin(db, pin));
  return [snap, request = std::move(request), snapshot_lsn, report,
          tables](fb::FlatBufferBuilder& fbb) -> Outcome {
    const auto started = std::chrono::steady_clock::now();
    auto result = report(*snap, request);
    if (!result.ok()) return result.status();
    return BuildReport(fbb, tables(*result), snapshot_lsn, started);
  };
}

// ---- One preparer per report ----

absl::StatusOr<ReportJob> PrepareIdentity(const Database& db, const wire::IdentityReport& op,
                                          uint64_t lsn) {
  static constexpr DimensionName<IdentityDimension> kBy[] = {
      {"provider", IdentityDimension::kProvider},
      {"account_status", IdentityDimension::kAccountStatus},
      {"role", IdentityDimension::kRole}};
  Args a;
  IdentityReportRequest req{
      .range = Range(a, op.from(), op.to(), op.bucket()),
      .by = Dimension<IdentityDimension>(a, op.by(), "IdentityReport", kBy),
      .provider = a.OptEnum<AuthProviderType>(EnumId::AuthProviderType, op.provider(), "provider"),
      .account_status =
          a.OptEnum<AccountStatus>(EnumId::AccountStatus, op.account_status(), "account_status"),
      .role = a.OptEnum<UserRole>(EnumId::UserRole, op.role(), "role")};
  VOX_RETURN_IF_ERROR(a.status());
  return MakeJob(db, kIdentityReportTables, std::move(req), lsn, IdentityReport,
                 [](const ReportTable& t) {
                   return NamedTables{{"identity", &t}};
                 });
}

absl::StatusOr<ReportJob> PrepareRooms(const Database& db, const wire::RoomReport& op,
                                       uint64_t lsn) {
  static constexpr DimensionName<RoomDimension> kBy[] = {{"room_type", RoomDimension::kType},
                                                         {"tag", RoomDimension::kTag}};
  Args a;
  RoomReportRequest req{.range = Range(a, op.from(), op.to(), op.bucket()),
                        .by = Dimension<RoomDimension>(a, op.by(), "RoomReport", kBy),
                        .is_public = op.is_public(),
                        .tag = Filter(op.tag())};
  VOX_RETURN_IF_ERROR(a.status());
  return MakeJob(db, kRoomReportTables, std::move(req), lsn, RoomReport, [](const ReportTable& t) {
    return NamedTables{{"rooms", &t}};
  });
}

absl::StatusOr<ReportJob> PrepareCalls(const Database& db, const wire::CallReport& op,
                                       uint64_t lsn) {
  static constexpr DimensionName<CallDimension> kBy[] = {{"transport", CallDimension::kTransport},
                                                         {"region", CallDimension::kRegion},
                                                         {"room_type", CallDimension::kRoomType}};
  Args a;
  CallReportRequest req{
      .range = Range(a, op.from(), op.to(), op.bucket()),
      .by = Dimension<CallDimension>(a, op.by(), "CallReport", kBy),
      .transport = a.OptEnum<CallTransport>(EnumId::CallTransport, op.transport(), "transport"),
      .region = Filter(op.region())};
  VOX_RETURN_IF_ERROR(a.status());
  return MakeJob(
      db, kCallReportTables, std::move(req), lsn, CallReport, [](const CallReportResult& r) {
        return NamedTables{{"calls", &r.sessions}, {"failure_reasons", &r.failure_reasons}};
      });
}

absl::StatusOr<ReportJob> PrepareEngagement(const Database& db, const wire::EngagementReport& op,
                                            uint64_t lsn) {
  static constexpr DimensionName<EngagementDimension> kBy[] = {
      {"room_type", EngagementDimension::kRoomType}, {"tag", EngagementDimension::kTag}};
  Args a;
  EngagementReportRequest req{
      .range = Range(a, op.from(), op.to(), op.bucket()),
      .by = Dimension<EngagementDimension>(a, op.by(), "EngagementReport", kBy),
      .is_public = op.is_public(),
      .tag = Filter(op.tag())};
  VOX_RETURN_IF_ERROR(a.status());
  return MakeJob(db, kEngagementReportTables, std::move(req), lsn, EngagementReport,
                 [](const ReportTable& t) {
                   return NamedTables{{"engagement", &t}};
                 });
}

absl::StatusOr<ReportJob> PrepareModeration(const Database& db, const wire::ModerationReport& op,
                                            uint64_t lsn) {
  static constexpr DimensionName<ModerationDimension> kBy[] = {
      {"action_type", ModerationDimension::kType}, {"moderator", ModerationDimension::kModerator}};
  Args a;
  ModerationReportRequest req{
      .range = Range(a, op.from(), op.to(), op.bucket()),
      .by = Dimension<ModerationDimension>(a, op.by(), "ModerationReport", kBy),
      .type = a.OptEnum<ModerationActionType>(EnumId::ModerationActionType, op.type(), "type"),
      .moderator_id = OptId(op.moderator_id()),
      .top_n = TopN(a, op.top_n())};
  VOX_RETURN_IF_ERROR(a.status());
  return MakeJob(db, kModerationReportTables, std::move(req), lsn, ModerationReport,
                 [](const ModerationReportResult& r) {
                   return NamedTables{{"actions", &r.actions}, {"moderators", &r.moderators}};
                 });
}

absl::StatusOr<ReportJob> PrepareEconomy(const Database& db, const wire::EconomyReport& op,
                                         uint64_t lsn) {
  static constexpr DimensionName<EconomyDimension> kBy[] = {
      {"transfer_type", EconomyDimension::kType}, {"status", EconomyDimension::kStatus}};
  Args a;
  EconomyReportRequest req{.range = Range(a, op.from(), op.to(), op.bucket()),
                           .by = Dimension<EconomyDimension>(a, op.by(), "EconomyReport", kBy),
                           .type = a.OptEnum<TransferType>(EnumId::TransferType, op.type(), "type"),
                           .currency = Filter(op.currency()).value_or("COIN"),
                           .top_n = TopN(a, op.top_n())};
  VOX_RETURN_IF_ERROR(a.status());
  // The result holds the ledger table the wire answer lists by pointer.
  struct Economy {
    EconomyReportResult r;
    ReportTable ledger;
  };
  auto run = [](const ReportSnapshot& snap,
                const EconomyReportRequest& r) -> absl::StatusOr<Economy> {
    VOX_ASSIGN_OR_RETURN(EconomyReportResult result, EconomyReport(snap, r));
    ReportTable ledger = LedgerTable(result.ledger, result.volume.buckets);
    return Economy{std::move(result), std::move(ledger)};
  };
  return MakeJob(db, kEconomyReportTables, std::move(req), lsn, run, [](const Economy& e) {
    return NamedTables{
        {"volume", &e.r.volume}, {"top_spenders", &e.r.top_spenders}, {"ledger", &e.ledger}};
  });
}

absl::StatusOr<ReportJob> PrepareSystemEvents(const Database& db, const wire::SystemEventReport& op,
                                              uint64_t lsn) {
  static constexpr DimensionName<SystemEventDimension> kBy[] = {
      {"severity", SystemEventDimension::kSeverity},
      {"component", SystemEventDimension::kComponent}};
  Args a;
  SystemEventReportRequest req{
      .range = Range(a, op.from(), op.to(), op.bucket()),
      .by = Dimension<SystemEventDimension>(a, op.by(), "SystemEventReport", kBy),
      .min_severity = a.OptEnum<Severity>(EnumId::Severity, op.min_severity(), "min_severity"),
      .component = Filter(op.component()),
      .burst_threshold = op.burst_threshold()};
  if (req.burst_threshold < 0) a.Fail("burst_threshold must be >= 0");
  VOX_RETURN_IF_ERROR(a.status());
  return MakeJob(db, kSystemEventReportTables, std::move(req), lsn, SystemEventReport,
                 [](const SystemEventReportResult& r) {
                   return NamedTables{{"events", &r.events}, {"bursts", &r.bursts}};
                 });
}

// AuditCount answers a CountResult: one number, no buckets.
absl::StatusOr<ReportJob> PrepareAuditCount(const Database& db, const wire::AuditCount& op) {
  Args a;
  AuditCountRequest req{
      .from = op.from(),
      .to = op.to(),
      .action = a.OptEnum<AuditAction>(EnumId::AuditAction, op.action(), "action")};
  if (req.from >= req.to) {
    a.Fail(StrCat("the range is empty: from ", req.from, " is not before to ", req.to));
  }
  VOX_RETURN_IF_ERROR(a.status());
  static constexpr TableId kPin[] = {TableId::audit_logs};
  auto snap = std::make_shared<const ReportSnapshot>(ReportSnapshot::Pin(db, kPin));
  return [snap, req](fb::FlatBufferBuilder& fbb) -> Outcome {
    VOX_ASSIGN_OR_RETURN(const uint64_t n, CountAuditRows(*snap, req));
    auto result = wire::CreateCountResult(fbb, static_cast<int64_t>(n));
    return Built{wire::Result::CountResult, result.Union()};
  };
}

}  // namespace

bool IsReport(Op op) {
  switch (op) {
    case Op::IdentityReport:
    case Op::RoomReport:
    case Op::CallReport:
    case Op::EngagementReport:
    case Op::ModerationReport:
    case Op::EconomyReport:
    case Op::SystemEventReport:
    case Op::AuditCount:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<ReportJob> PrepareReport(const Database& db, Op type, const void* op,
                                        uint64_t snapshot_lsn) {
  VOX_DCHECK(IsReport(type));
  if (op == nullptr) {
    return absl::InvalidArgumentError(StrCat(wire::EnumNameOp(type), ": its table is missing"));
  }
  switch (type) {
    case Op::IdentityReport:
      return PrepareIdentity(db, *As<wire::IdentityReport>(op), snapshot_lsn);
    case Op::RoomReport:
      return PrepareRooms(db, *As<wire::RoomReport>(op), snapshot_lsn);
    case Op::CallReport:
      return PrepareCalls(db, *As<wire::CallReport>(op), snapshot_lsn);
    case Op::EngagementReport:
      return PrepareEngagement(db, *As<wire::EngagementReport>(op), snapshot_lsn);
    case Op::ModerationReport:
      return PrepareModeration(db, *As<wire::ModerationReport>(op), snapshot_lsn);
    case Op::EconomyReport:
      return PrepareEconomy(db, *As<wire::EconomyReport>(op), snapshot_lsn);
    case Op::SystemEventReport:
      return PrepareSystemEvents(db, *As<wire::SystemEventReport>(op), snapshot_lsn);
    case Op::AuditCount:
      return PrepareAuditCount(db, *As<wire::AuditCount>(op));
    default:
      return absl::InternalError(StrCat(wire::EnumNameOp(type), " is not a report"));
  }
}

}  // namespace vox::net
