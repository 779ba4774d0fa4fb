// Migrations on the WORKLOAD.md data set: how long each kind of step holds
// the engine thread (reads and writes wait that long, no longer), with a
// point read and a small write measured in the same run for scale.
//
//   scripts/build.sh migration_bench
//   VOX_BENCH_SCALE=1 build/bench/migration_bench --benchmark_repetitions=3 \
//       --benchmark_report_aggregates_only=true
//
// Each iteration applies one migration and, untimed, a second that undoes it
// (the schema version grows by two an iteration). Counters: rows, the
// table's live rows the step went over.
#include <string>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "engine/ops/generic.h"
#include "engine/ops/migration.h"
#include "schema/str.h"

namespace vox {
namespace {

Database& Db() {
  static BenchWorkload* w = new BenchWorkload(LoadBenchWorkload(0.1));
  return *w->db;
}

OpContext Ctx() {
  static Timestamp now = 1793491200LL * kMicrosPerSecond;
  return {.now = now += 1000};
}

void Migrate(const std::string& text) {
  auto r = ApplyMigration(Db(), Ctx(), text, {.confirm_destructive = true});
  if (!r.ok()) BenchFail(StrCat(text, ": ", r.status().message()));
}

// `step` and `undo` are statements; %s in them is replaced by a fresh name.
void RunStep(benchmark::State& state, const std::string& step, const std::string& undo,
             TableId table) {
  Database& db = Db();
  static int n = 0;  // across benchmarks and repetitions: names never repeat
  for (auto _ : state) {
    const std::string name = StrCat("bench_", ++n);
    auto fill = [&](std::string s) {
      for (size_t at = s.find("%s"); at != std::string::npos; at = s.find("%s")) {
        s.replace(at, 2, name);
      }
      return s;
    };
    Migrate(StrCat("version ", db.schema_version() + 1, "\n", fill(step)));
    state.PauseTiming();
    Migrate(StrCat("version ", db.schema_version() + 1, "\n", fill(undo)));
    state.ResumeTiming();
  }
  state.counters["rows"] = static_cast<double>(db.table(table).live_count());
}

void BM_AddNullableColumn(benchmark::State& state) {
  RunStep(state, "add column users.%s string(2000) null", "drop column users.%s", TableId::users);
}
BENCHMARK(BM_AddNullableColumn)->Unit(benchmark::kMillisecond);

void BM_AddColumnWithDefault(benchmark::State& state) {
  RunStep(state, "add column room_participants.%s int32 default 7",
          "drop column room_participants.%s", TableId::room_participants);
}
BENCHMARK(BM_AddColumnWithDefault)->Unit(benchmark::kMillisecond);

void BM_AddStringColumnWithDefault(benchmark::State& state) {
  RunStep(state, "add column users.%s string(40) default 'hello'", "drop column users.%s",
          TableId::users);
}
BENCHMARK(BM_AddStringColumnWithDefault)->Unit(benchmark::kMillisecond);

void BM_AddEnumValue(benchmark::State& state) {
  // Enum values cannot be dropped: a few hundred iterations would fill the
  // enum's 256 values, so this one undoes nothing and runs a fixed count.
  Database& db = Db();
  static int n = 0;  // across repetitions: each value is new
  for (auto _ : state) {
    Migrate(StrCat("version ", db.schema_version() + 1, "\nadd enum value Severity B", ++n));
  }
}
BENCHMARK(BM_AddEnumValue)->Unit(benchmark::kMicrosecond)->Iterations(40);  // x 5 repetitions < 256

void BM_AddOrderedIndex(benchmark::State& state) {
  RunStep(state, "add index %s on room_participants (joined_at)", "drop index %s",
          TableId::room_participants);
}
BENCHMARK(BM_AddOrderedIndex)->Unit(benchmark::kMillisecond);

void BM_AddUniqueIndex(benchmark::State& state) {
  RunStep(state, "add unique index %s on rooms (room_code)", "drop index %s", TableId::rooms);
}
BENCHMARK(BM_AddUniqueIndex)->Unit(benchmark::kMillisecond);

void BM_NarrowStringColumn(benchmark::State& state) {
  // Checks every value before it narrows (and widens back, untimed).
  RunStep(state, "narrow column users.display_name string(63)",
          "widen column users.display_name string(64)", TableId::users);
}
BENCHMARK(BM_NarrowStringColumn)->Unit(benchmark::kMillisecond);

void BM_AddTable(benchmark::State& state) {
  RunStep(state, "add table %s", "drop table %s", TableId::users);
}
BENCHMARK(BM_AddTable)->Unit(benchmark::kMicrosecond);

// For scale, in the same run: a point read and a one-row write.
void BM_PointReadForScale(benchmark::State& state) {
  Database& db = Db();
  const Table& users = db.table(TableId::users);
  RowId r = 0;
  for (auto _ : state) {
    r = (r + 7919) % static_cast<RowId>(users.row_count());
    benchmark::DoNotOptimize(RowToJson(db, TableId::users, users.IsLive(r) ? r : 0));
  }
}
BENCHMARK(BM_PointReadForScale)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
