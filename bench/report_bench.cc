// Report benchmarks (engine/report) on the WORKLOAD.md data set, scanning a
// pinned image as a report thread does:
//
//   build/bench/report_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//   VOX_BENCH_SCALE=0.1 build/bench/report_bench
//
// VOX_BENCH_SCALE (default 0.01: 500k audit rows, 200k participants) sets the
// scale factor; the data loads once, before the first benchmark. The data
// generator writes no call sessions, moderation actions or system events, so
// the fixture adds some through Txn (per SF 1: 20M, 100k and 10M) for their
// reports to have something to scan.
//
// `rows_per_second` counts the row slots of every column scan a run makes
// (a table scanned twice counts twice), over CPU time.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "engine/report/reports.h"
#include "engine/txn.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

constexpr Timestamp kDay = 24 * 3600 * kMicrosPerSecond;

struct Fixture {
  std::unique_ptr<Database> db;
  std::unique_ptr<ReportSnapshot> snap;
  double scale = 0.01;
};

// Inserts `n` rows of `table` through Txn in batches; `row(rng, i)` gives
// the values. Exits on a failed insert (the fixture is broken then).
template <typename Fn>
void InsertRows(Database& db, TableId table, size_t n, Fn&& row) {
  std::mt19937_64 rng(static_cast<uint64_t>(table) + 1);
  for (size_t done = 0; done < n;) {
    const size_t batch = std::min<size_t>(n - done, 10'000);
    Txn txn(db, kWorkloadNow);
    for (size_t i = 0; i < batch; ++i, ++done) {
      const std::vector<ColumnValue> values = row(rng, done);
      txn.Insert(table, values);
    }
    if (!txn.ok()) {
      std::cerr << "fixture insert into " << GetTable(table).name
                << " failed: " << txn.status().message() << "\n";
      std::exit(1);
    }
    txn.Commit();
  }
}

// Call sessions of generated participants, moderation actions and system
// events over the workload's 90 days.
void AddSyntheticRows(Database& db, double scale) {
  const Table& parts = db.table(TableId::room_participants);
  const Timestamp start = kWorkloadNow - 90 * kDay;
  auto when = [&](std::mt19937_64& rng) {
    return start + static_cast<Timestamp>(rng() % static_cast<uint64_t>(90 * kDay));
  };
  const size_t n_parts = parts.row_count();
  InsertRows(db, TableId::call_sessions, static_cast<size_t>(20e6 * scale), [&](auto& rng, size_t) {
    const RowId p = static_cast<RowId>(rng() % n_parts);
    const Timestamp t = when(rng);
    const int draw = static_cast<int>(rng() % 100);
    const auto status = draw < 5    ? CallSessionStatus::FAILED
                        : draw < 10 ? CallSessionStatus::DROPPED
                        : draw < 12 ? CallSessionStatus::CONNECTED
                                    : CallSessionStatus::ENDED;
    std::vector<ColumnValue> v = {
        {call_sessions::participant_id, p},
        {call_sessions::user_id, parts.GetRef(p, room_participants::user_id)},
        {call_sessions::room_id, parts.GetRef(p, room_participants::room_id)},
        {call_sessions::status, status},
        {call_sessions::started_at, t},
        {call_sessions::rtt_ms, static_cast<int32_t>(20 + rng() % 300)},
        {call_sessions::jitter_ms, static_cast<int32_t>(rng() % 50)},
        {call_sessions::packet_loss_bp, static_cast<int32_t>(rng() % 500)},
        {call_sessions::transport, static_cast<CallTransport>(rng() % 5)},
        {call_sessions::region, (rng() & 1) ? "eu-west" : "us-east"}};
    if (status != CallSessionStatus::FAILED) {
      v.push_back({call_sessions::connected_at, t + static_cast<Timestamp>(rng() % 3'000'000)});
    }
    if (status == CallSessionStatus::FAILED || status == CallSessionStatus::DROPPED) {
      v.push_back({call_sessions::failure_reason, static_cast<CallFailureReason>(rng() % 8)});
    }
    return v;
  });
  const size_t n_users = db.table(TableId::users).row_count();
  InsertRows(db, TableId::moderation_actions, static_cast<size_t>(100e3 * scale),
             [&](auto& rng, size_t) {
               std::vector<ColumnValue> v = {
                   {moderation_actions::action_type, ModerationActionType::WARNING},
                   {moderation_actions::moderator_id, static_cast<RowId>(rng() % 50)},
                   {moderation_actions::target_user_id, static_cast<RowId>(rng() % n_users)},
                   {moderation_actions::reason, "spam"},
                   {moderation_actions::created_at, when(rng)}};
               return v;
             });
  static constexpr std::string_view kComponents[] = {"wal", "net", "engine", "snapshot"};
  InsertRows(db, TableId::system_events, static_cast<size_t>(10e6 * scale), [&](auto& rng, size_t) {
    const uint64_t draw = rng() % 100;
    const Severity s = draw < 60   ? Severity::INFO
                       : draw < 85 ? Severity::DEBUG
                       : draw < 95 ? Severity::WARNING
                       : draw < 99 ? Severity::ERROR
                                   : Severity::CRITICAL;
    std::vector<ColumnValue> v = {{system_events::severity, s},
                                  {system_events::component, kComponents[rng() % 4]},
                                  {system_events::code, "CODE"},
                                  {system_events::message, "something happened"},
                                  {system_events::occurred_at, when(rng)}};
    return v;
  });
}

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->scale = BenchScale(0.01);
    fx->db = LoadBenchWorkload(0.01).db;
    AddSyntheticRows(*fx->db, fx->scale);
    fx->snap = std::make_unique<ReportSnapshot>(ReportSnapshot::Pin(*fx->db));
    return fx;
  }();
  return *f;
}

size_t Rows(TableId t) { return Data().snap->row_count(t); }

void SetRate(benchmark::State& state, size_t rows_per_run) {
  state.counters["rows_per_second"] = benchmark::Counter(
      static_cast<double>(rows_per_run) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
  state.SetItemsProcessed(static_cast<int64_t>(rows_per_run) * state.iterations());
}

BucketedRange Everything() {
  return {kWorkloadNow - 92 * kDay, kWorkloadNow + kDay, BucketWidth::kDay};
}

template <typename Result>
void Check(benchmark::State& state, const absl::StatusOr<Result>& r) {
  if (!r.ok()) state.SkipWithError(std::string(ToStd(r.status().message())).c_str());
}

// The scan target: a filtered count over audit_logs (action == USER_JOINED
// in the last 30 days): one pass over the action, timestamp and liveness arrays.
void BM_AuditFilteredCount(benchmark::State& state) {
  Fixture& f = Data();
  const AuditCountRequest req{
      .from = kWorkloadNow - 30 * kDay, .to = kWorkloadNow, .action = AuditAction::USER_JOINED};
  uint64_t hits = 0;
  for (auto _ : state) {
    auto n = CountAuditRows(*f.snap, req);
    Check(state, n);
    hits = n.ok() ? *n : 0;
    benchmark::DoNotOptimize(hits);
  }
  state.counters["matches"] = static_cast<double>(hits);
  SetRate(state, Rows(TableId::audit_logs));
}
BENCHMARK(BM_AuditFilteredCount);

void BM_AuditCountAnyAction(benchmark::State& state) {
  Fixture& f = Data();
  const AuditCountRequest req{.from = kWorkloadNow - 30 * kDay, .to = kWorkloadNow};
  for (auto _ : state) {
    auto n = CountAuditRows(*f.snap, req);
    Check(state, n);
    benchmark::DoNotOptimize(n);
  }
  SetRate(state, Rows(TableId::audit_logs));
}
BENCHMARK(BM_AuditCountAnyAction);

// The engine thread's pause: pinning every table for a report.
void BM_PinForReport(benchmark::State& state) {
  Fixture& f = Data();
  for (auto _ : state) {
    ReportSnapshot snap = ReportSnapshot::Pin(*f.db);
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_PinForReport)->Unit(benchmark::kMicrosecond);

void BM_IdentityReport(benchmark::State& state) {
  Fixture& f = Data();
  const IdentityReportRequest req{.range = Everything(),
                                  .by = static_cast<IdentityDimension>(state.range(0))};
  for (auto _ : state) {
    auto r = IdentityReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, Rows(TableId::users) + Rows(TableId::audit_logs) +
                     (req.by == IdentityDimension::kProvider ? Rows(TableId::auth_providers) : 0));
}
BENCHMARK(BM_IdentityReport)->Arg(0)->Arg(1)->ArgName("by")->Unit(benchmark::kMillisecond);

void BM_RoomReport(benchmark::State& state) {
  Fixture& f = Data();
  const RoomReportRequest req{.range = Everything(),
                              .by = static_cast<RoomDimension>(state.range(0))};
  for (auto _ : state) {
    auto r = RoomReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, 3 * Rows(TableId::rooms) + Rows(TableId::audit_logs));
}
BENCHMARK(BM_RoomReport)->Arg(0)->Arg(2)->ArgName("by")->Unit(benchmark::kMillisecond);

void BM_CallReport(benchmark::State& state) {
  Fixture& f = Data();
  const CallReportRequest req{.range = Everything(), .by = CallDimension::kTransport};
  for (auto _ : state) {
    auto r = CallReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, Rows(TableId::call_sessions));
}
BENCHMARK(BM_CallReport)->Unit(benchmark::kMillisecond);

void BM_EngagementReport(benchmark::State& state) {
  Fixture& f = Data();
  const EngagementReportRequest req{.range = Everything(), .by = EngagementDimension::kTag};
  for (auto _ : state) {
    auto r = EngagementReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, 3 * Rows(TableId::room_participants) + Rows(TableId::audit_logs));
}
BENCHMARK(BM_EngagementReport)->Unit(benchmark::kMillisecond);

void BM_ModerationReport(benchmark::State& state) {
  Fixture& f = Data();
  const ModerationReportRequest req{.range = Everything(), .by = ModerationDimension::kModerator};
  for (auto _ : state) {
    auto r = ModerationReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, 3 * Rows(TableId::moderation_actions));
}
BENCHMARK(BM_ModerationReport)->Unit(benchmark::kMillisecond);

void BM_EconomyReport(benchmark::State& state) {
  Fixture& f = Data();
  const EconomyReportRequest req{.range = Everything(), .by = EconomyDimension::kType};
  for (auto _ : state) {
    auto r = EconomyReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, 2 * Rows(TableId::transactions) + 2 * Rows(TableId::wallets));
}
BENCHMARK(BM_EconomyReport)->Unit(benchmark::kMillisecond);

void BM_SystemEventReport(benchmark::State& state) {
  Fixture& f = Data();
  const SystemEventReportRequest req{.range = Everything(), .by = SystemEventDimension::kComponent};
  for (auto _ : state) {
    auto r = SystemEventReport(*f.snap, req);
    Check(state, r);
    benchmark::DoNotOptimize(r);
  }
  SetRate(state, Rows(TableId::system_events));
}
BENCHMARK(BM_SystemEventReport)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
