// Engine micro-benchmarks on the WORKLOAD.md data set, in memory, no WAL:
// the hot reads (R1, R2, R4, R7, R8, R9) and the join-room transaction (W3).
//
//   VOX_BENCH_SCALE=1 build/bench/engine_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// VOX_BENCH_SCALE (default 1: 1M users, 20M participants) sets the scale
// factor of the generated data; it loads once, before the first benchmark.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "engine/ops/ledger.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
  std::vector<RowId> rooms_with_100_present;  // R2: 90-110 present
  std::vector<RowId> rooms_with_100_audit;    // R4: a full page
};

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    // VOX_BENCH_TXN_LOAD=1: load through Txn, as before bulk loading (the
    // indexes then grow row by row instead of being built once).
    BenchWorkload w = LoadBenchWorkload(1.0, std::getenv("VOX_BENCH_TXN_LOAD") == nullptr);
    fx->db = std::move(w.db);
    fx->data = std::move(w.data);
    std::vector<ParticipantState> present;
    std::vector<RowId> page;
    for (RowId room : fx->data.live_rooms) {
      PresentParticipants(*fx->db, room, &present);
      if (present.size() >= 90 && present.size() <= 110) fx->rooms_with_100_present.push_back(room);
      RoomAuditTrail(*fx->db, room, 100, std::nullopt, &page);
      if (page.size() == 100) fx->rooms_with_100_audit.push_back(room);
    }
    return fx;
  }();
  return *f;
}

void BM_UserByEmail(benchmark::State& state) {
  Fixture& f = Data();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& email = f.data.sample_emails[i++ % f.data.sample_emails.size()];
    benchmark::DoNotOptimize(FindUserByEmail(*f.db, email));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UserByEmail);

void BM_PresentParticipants100(benchmark::State& state) {
  Fixture& f = Data();
  if (f.rooms_with_100_present.empty()) return state.SkipWithError("no room with ~100 present");
  std::vector<ParticipantState> out;
  out.reserve(256);
  size_t i = 0, rows = 0;
  for (auto _ : state) {
    PresentParticipants(*f.db, f.rooms_with_100_present[i++ % f.rooms_with_100_present.size()],
                        &out);
    rows += out.size();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK(BM_PresentParticipants100);

void BM_RoomAuditPage100(benchmark::State& state) {
  Fixture& f = Data();
  if (f.rooms_with_100_audit.empty()) return state.SkipWithError("no room with 100 audit rows");
  std::vector<RowId> out;
  out.reserve(128);
  size_t i = 0;
  for (auto _ : state) {
    RoomAuditTrail(*f.db, f.rooms_with_100_audit[i++ % f.rooms_with_100_audit.size()], 100,
                   std::nullopt, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_RoomAuditPage100);

void BM_LiveRoomsByTag50(benchmark::State& state) {
  Fixture& f = Data();
  std::vector<std::string> tags;
  for (const auto& [name, id] : f.data.tag_ids) tags.push_back(name);
  std::vector<RowId> out;
  size_t i = 0;
  for (auto _ : state) {
    LiveRoomsByTag(*f.db, tags[i++ % tags.size()], 50, std::nullopt, &out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_LiveRoomsByTag50);

void BM_BanCheck(benchmark::State& state) {
  Fixture& f = Data();
  size_t i = 0;
  for (auto _ : state) {
    const auto& pair = f.data.banned[i++ % f.data.banned.size()];
    // Half hits (a banned pair), half misses (the same room, another user).
    benchmark::DoNotOptimize(IsBanned(*f.db, pair.room, (i & 1) ? pair.user : pair.user + 1));
  }
}
BENCHMARK(BM_BanCheck);

void BM_WalletTransactions50(benchmark::State& state) {
  Fixture& f = Data();
  const Table& users = f.db->table(TableId::users);
  size_t i = 0;
  for (auto _ : state) {
    auto page = WalletTransactions(
        *f.db, users.id(f.data.funded_users[i++ % f.data.funded_users.size()]), "COIN", 50);
    benchmark::DoNotOptimize(page);
  }
}
BENCHMARK(BM_WalletTransactions50);

// W3: one join-room transaction (validation, ban and capacity checks, the
// participant row, the audit row, the room's counters, all index updates).
// Each room takes 200 joins, then ends (untimed) and a new one opens, so the
// number of present participants stays what a live platform has.
void BM_JoinRoomTxn(benchmark::State& state) {
  Fixture& f = Data();
  Database& db = *f.db;
  const Table& users = db.table(TableId::users);
  const auto& people = f.data.active_users;
  Timestamp now = kWorkloadNow;
  size_t next_user = 0;
  Uuid room, owner;
  int joined = 200;  // forces a fresh room on the first iteration
  for (auto _ : state) {
    if (joined == 200) {
      state.PauseTiming();
      if (!room.IsNil() && !EndRoom(db, {.now = now}, room, owner).ok()) {
        return state.SkipWithError("cannot end the room");
      }
      owner = users.id(people[next_user++ % people.size()]);
      auto r = CreateAndOpenRoom(
          db, {.now = now},
          {.owner_id = owner, .title = "bench", .settings = {.max_participants = 1000}});
      if (!r.ok()) return state.SkipWithError("cannot open a room");
      room = r->room_id;
      joined = 0;
      state.ResumeTiming();
    }
    now += 1000;
    auto j = JoinRoom(db, {.now = now}, room, users.id(people[next_user++ % people.size()]));
    if (!j.ok()) return state.SkipWithError(std::string(j.status().message()).c_str());
    ++joined;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_JoinRoomTxn);

// A top-up with an idempotency key: wallet lookup, two ledger rows' worth
// of counters, the transfer row, its key in the unique index.
void BM_TopUpTxn(benchmark::State& state) {
  Fixture& f = Data();
  Database& db = *f.db;
  const Table& users = db.table(TableId::users);
  const auto& people = f.data.active_users;
  Timestamp now = kWorkloadNow + 1'000'000'000;
  uint64_t n = 0;
  for (auto _ : state) {
    now += 10;
    const std::string key = StrCat("bench-topup-", n);
    auto r = TopUp(db, {.now = now},
                   {.user_id = users.id(people[n++ % people.size()]), .amount = 1,
                    .idempotency_key = key});
    if (!r.ok()) return state.SkipWithError(std::string(r.status().message()).c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TopUpTxn);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
