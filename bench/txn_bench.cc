// Transaction micro-benchmarks: Txn (engine/txn.h) applying and committing
// N row inserts or N row updates, and the join-room operation (W3), each
// with three commit paths:
//
//   sink:0  no CommitSink (the engine alone, as engine_bench measures it);
//   sink:1  WalCommitSink over a WalWriter with durability none: the
//           transaction is encoded as its WAL record (wal/change_codec.h) on
//           the engine thread, and nothing is written;
//   sink:2  WalCommitSink over a WalWriter with durability write, on a file
//           system and log device that discard every byte: the record is
//           also sealed (checksums), queued and handed to the WAL thread.
//
// No disk is involved (wal_bench measures the disk). Inserts are audit_logs
// rows (the most common row: two grouped indexes) for random rooms and
// users; updates set is_muted on present participants of LIVE rooms (no
// index on it).
//
//   VOX_BUILD_DIR=/work/build-micro scripts/build.sh txn_bench
//   /work/build-micro/bench/txn_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
//
// VOX_BENCH_SCALE (default 0.1) sets the scale factor of the generated data.
// Each benchmark checks that its transactions committed (rows there, values
// changed, one WAL record each) and aborts with a message if not.
#include <fcntl.h>

#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_workload.h"
#include "bench/null_io.h"
#include "benchmark/benchmark.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "engine/txn.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"
#include "wal/file_io.h"
#include "wal/log_device.h"
#include "wal/wal_sink.h"
#include "wal/wal_writer.h"

namespace vox {
namespace {

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
  std::vector<RowId> present;  // present participants of LIVE rooms
};

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    BenchWorkload w = LoadBenchWorkload(0.1);
    fx->db = std::move(w.db);
    fx->data = std::move(w.data);
    std::vector<ParticipantState> present;
    for (RowId room : fx->data.live_rooms) {
      PresentParticipants(*fx->db, room, &present);
      for (const ParticipantState& p : present) fx->present.push_back(p.participant);
    }
    return fx;
  }();
  return *f;
}

// The transactions' clock: after the data set's "now", and increasing over
// the whole run (a row older than its group's newest would be inserted
// mid-vector in the grouped indexes instead of appended).
Timestamp Tick(Timestamp step) {
  static Timestamp now = kWorkloadNow + 1'000'000'000;
  return now += step;
}

// The commit path of benchmark argument `sink` (see the top of the file),
// attached to the database for as long as it lives.
class CommitPath {
 public:
  CommitPath(Database& db, int64_t sink) : db_(db) {
    if (sink == 0) return;
    const WalOptions options{.dir = "/nowhere/wal",
                             .durability = sink == 1 ? Durability::kNone : Durability::kWrite};
    auto writer = WalWriter::Open(io_, device_, options, WalTail{});
    if (!writer.ok()) BenchFail(StrCat("cannot open the WAL: ", writer.status().message()));
    writer_ = *std::move(writer);
    sink_ = std::make_unique<WalCommitSink>(*writer_);
    db_.set_commit_sink(sink_.get());
  }
  ~CommitPath() {
    db_.set_commit_sink(nullptr);
    if (writer_ && !writer_->Sync().ok()) BenchFail("WAL sync");
  }

  // Checks that `records` transactions were logged (when there is a log).
  void CheckLogged(uint64_t records) const {
    if (!sink_) return;
    if (!sink_->status().ok()) BenchFail(StrCat("WAL: ", sink_->status().message()));
    if (sink_->last_lsn() != records) {
      BenchFail(StrCat("WAL holds ", sink_->last_lsn(), " records, expected ", records));
    }
  }

 private:
  Database& db_;
  NullFileIo io_;
  NullLogDevice device_;
  std::unique_ptr<WalWriter> writer_;
  std::unique_ptr<WalCommitSink> sink_;
};

// N audit rows in one transaction, each for a random room and user.
void BM_TxnInsertAudit(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Fixture& f = Data();
  Database& db = *f.db;
  CommitPath path(db, state.range(1));
  const Table& audit = db.table(TableId::audit_logs);
  std::mt19937_64 rng(11);
  const size_t rooms = db.table(TableId::rooms).row_count();
  std::vector<RowId> room(4096), user(4096);
  for (RowId& r : room) r = static_cast<RowId>(rng() % rooms);
  for (RowId& u : user) u = f.data.active_users[rng() % f.data.active_users.size()];
  Timestamp now = 0;
  size_t next = 0;
  uint64_t commits = 0;
  auto run = [&] {
    now = Tick(10);
    Txn txn(db, now);
    for (int i = 0; i < n; ++i, ++next) {
      txn.Insert(TableId::audit_logs, {{audit_logs::action, AuditAction::USER_MUTED},
                                       {audit_logs::user_id, user[next & 4095]},
                                       {audit_logs::room_id, room[next & 4095]}});
    }
    if (!txn.ok()) BenchFail(StrCat("insert: ", txn.status().message()));
    txn.Commit();
    ++commits;
  };
  // Once: the rows are there, with their values, live and indexed.
  const size_t before = audit.live_count();
  run();
  if (audit.live_count() != before + n) BenchFail("the inserted audit rows are not all live");
  const RowId last = static_cast<RowId>(audit.row_count() - 1);
  if (audit.GetRef(last, audit_logs::room_id) != room[(next - 1) & 4095] ||
      audit.GetTime(last, audit_logs::timestamp) != now) {
    BenchFail("the last audit row does not hold what was inserted");
  }
  for (auto _ : state) run();
  path.CheckLogged(commits);
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["rows_per_txn"] = n;
}
BENCHMARK(BM_TxnInsertAudit)->ArgNames({"rows", "sink"})->ArgsProduct({{1, 10, 100}, {0, 1, 2}});

// N present participants muted or unmuted in one transaction.
void BM_TxnUpdateParticipants(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  Fixture& f = Data();
  Database& db = *f.db;
  CommitPath path(db, state.range(1));
  const Table& parts = db.table(TableId::room_participants);
  const std::vector<RowId>& rows = f.present;
  if (rows.size() < static_cast<size_t>(n)) return state.SkipWithError("too few participants");
  size_t next = 0;
  uint64_t commits = 0;
  auto run = [&] {
    Txn txn(db, Tick(10));
    for (int i = 0; i < n; ++i) {
      const RowId r = rows[next++ % rows.size()];
      txn.Set(TableId::room_participants, r, room_participants::is_muted,
              !parts.GetBool(r, room_participants::is_muted));
    }
    if (!txn.ok()) BenchFail(StrCat("update: ", txn.status().message()));
    txn.Commit();
    ++commits;
  };
  // Once: every row of the transaction flipped.
  std::vector<bool> was;
  for (int i = 0; i < n; ++i) was.push_back(parts.GetBool(rows[i], room_participants::is_muted));
  run();
  for (int i = 0; i < n; ++i) {
    if (parts.GetBool(rows[i], room_participants::is_muted) == was[i]) BenchFail("a row did not change");
  }
  for (auto _ : state) run();
  path.CheckLogged(commits);
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["rows_per_txn"] = n;
}
BENCHMARK(BM_TxnUpdateParticipants)
    ->ArgNames({"rows", "sink"})
    ->ArgsProduct({{1, 10, 100}, {0, 1, 2}});

// W3, as engine_bench's BM_JoinRoomTxn (a participant row, an audit row,
// the room's counters, every index), through each commit path. Each room
// takes 200 joins, then ends (untimed) and a new one opens.
void BM_TxnJoinRoom(benchmark::State& state) {
  Fixture& f = Data();
  Database& db = *f.db;
  CommitPath path(db, state.range(0));
  const Table& users = db.table(TableId::users);
  const Table& parts = db.table(TableId::room_participants);
  const auto& people = f.data.active_users;
  static size_t next_user = 0;  // across calls: a user joins a room once
  Uuid room, owner;
  int joined = 200;  // a fresh room on the first iteration
  uint64_t commits = 0;
  for (auto _ : state) {
    if (joined == 200) {
      state.PauseTiming();
      if (!room.IsNil()) {
        if (!EndRoom(db, {.now = Tick(1000)}, room, owner).ok()) BenchFail("cannot end the room");
        ++commits;
      }
      owner = users.id(people[next_user++ % people.size()]);
      auto r = CreateAndOpenRoom(
          db, {.now = Tick(1000)},
          {.owner_id = owner, .title = "bench", .settings = {.max_participants = 1000}});
      if (!r.ok()) BenchFail(StrCat("cannot open a room: ", r.status().message()));
      ++commits;
      room = r->room_id;
      joined = 0;
      state.ResumeTiming();
    }
    auto j = JoinRoom(db, {.now = Tick(1000)}, room, users.id(people[next_user++ % people.size()]));
    if (!j.ok()) BenchFail(StrCat("join: ", j.status().message()));
    ++commits;
    if (joined++ == 0) {  // once per room: the participant row is there
      const RowId p = parts.FindById(j->participant_id);
      if (p == kNoRow ||
          parts.GetRef(p, room_participants::room_id) != db.table(TableId::rooms).FindById(room)) {
        BenchFail("the joined participant is not in the room");
      }
    }
  }
  path.CheckLogged(commits);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TxnJoinRoom)->ArgName("sink")->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
