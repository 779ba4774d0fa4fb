// WAL benchmarks: durable append rate and transactions per fdatasync with
// 1, 8 and 32 concurrent writers (each waits for its acknowledgement before
// its next write, as a client does), against this disk's raw fdatasync rate
// measured in the same run; the io_uring write+fdatasync device against
// O_DIRECT|O_DSYNC writes; and the recovery replay rate.
//
//   build/bench/wal_bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true
//
// VOX_BENCH_DIR (default /tmp) is where the log goes: point it at the disk
// the data directory will live on.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "engine/ops/identity.h"
#include "engine/ops/rooms.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"
#include "wal/checkpoint.h"
#include "wal/recovery.h"
#include "wal/wal_sink.h"
#include "wal/wal_writer.h"

namespace vox {
namespace {

constexpr Uuid kDb{0xabc, 0xdef};

std::string BenchDir() {
  const char* env = std::getenv("VOX_BENCH_DIR");
  std::string tmpl = StrCat(env ? env : "/tmp", "/voxdb-bench-XXXXXX");
  return ::mkdtemp(tmpl.data());
}

// The disk's own rate: 4 KiB pwrite + fdatasync, one at a time.
void BM_RawFdatasync(benchmark::State& state) {
  const std::string dir = BenchDir();
  const int fd = ::open((dir + "/raw").c_str(), O_WRONLY | O_CREAT, 0600);
  std::vector<char> page(4096, 'x');
  uint64_t off = 0;
  for (auto _ : state) {
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(off % (64 << 20))) < 0 ||
        ::fdatasync(fd) != 0) {
      return state.SkipWithError("write failed");
    }
    off += page.size();
  }
  ::close(fd);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawFdatasync)->UseRealTime();

// O_DIRECT | O_DSYNC: each 4 KiB write is durable when it returns.
void BM_DirectDsyncWrite(benchmark::State& state) {
  const std::string dir = BenchDir();
  const int fd = ::open((dir + "/direct").c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_DSYNC, 0600);
  if (fd < 0) return state.SkipWithError("O_DIRECT not supported on this file system");
  void* page = nullptr;
  if (posix_memalign(&page, 4096, 4096) != 0) return state.SkipWithError("no memory");
  std::memset(page, 'x', 4096);
  uint64_t off = 0;
  for (auto _ : state) {
    if (::pwrite(fd, page, 4096, static_cast<off_t>(off % (64 << 20))) != 4096) {
      free(page);
      return state.SkipWithError("write failed");
    }
    off += 4096;
  }
  free(page);
  ::close(fd);
  std::filesystem::remove_all(dir);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DirectDsyncWrite)->UseRealTime();

// N writers, each appending a 600-byte record (a join-room transaction's
// size) and waiting for its fsync acknowledgement before the next.
void BM_DurableAppend(benchmark::State& state) {
  const int writers = static_cast<int>(state.range(0));
  const std::string dir = BenchDir();
  auto device = UringLogDevice::Create();
  if (!device.ok()) return state.SkipWithError("no io_uring");
  auto w = WalWriter::Open(PosixFileIo(), **device, {.dir = dir + "/wal", .database_id = kDb}, {});
  if (!w.ok()) return state.SkipWithError("cannot open the WAL");
  WalWriter& writer = **w;
  const std::string payload(600, 'p');
  std::mutex engine;  // appends are serial, as on the engine thread
  for (auto _ : state) {
    const int per_writer = 200;
    std::vector<std::thread> threads;
    for (int t = 0; t < writers; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < per_writer; ++i) {
          std::mutex m;
          std::condition_variable cv;
          bool done = false;
          {
            std::lock_guard<std::mutex> lock(engine);
            if (!writer
                     .Append(payload,
                             [&](const absl::Status&) {
                               std::lock_guard<std::mutex> l(m);
                               done = true;
                               cv.notify_one();
                             })
                     .ok()) {
              return;
            }
          }
          std::unique_lock<std::mutex> l(m);
          cv.wait(l, [&] { return done; });
        }
      });
    }
    for (auto& t : threads) t.join();
  }
  const auto stats = writer.stats();
  state.SetItemsProcessed(static_cast<int64_t>(stats.records));
  state.counters["txn_per_fsync"] =
      stats.syncs == 0 ? 0 : static_cast<double>(stats.records) / static_cast<double>(stats.syncs);
  w->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_DurableAppend)->Arg(1)->Arg(8)->Arg(32)->UseRealTime()->Unit(benchmark::kMillisecond);

// Recovery replay of real transactions (registrations: 4 rows each).
void BM_RecoveryReplay(benchmark::State& state) {
  const std::string dir = BenchDir();
  const int kTxns = 20000;
  {
    Database db({.id_seed = 1});
    auto report = Recover(PosixFileIo(), {.data_dir = dir}, db);
    auto device = UringLogDevice::Create();
    if (!report.ok() || !device.ok()) return state.SkipWithError("setup failed");
    auto w = WalWriter::Open(
        PosixFileIo(), **device,
        {.dir = WalDir(dir), .database_id = report->database_id, .durability = Durability::kWrite},
        report->tail);
    if (!w.ok()) return state.SkipWithError("setup failed");
    WalCommitSink sink(**w);
    db.set_commit_sink(&sink);
    for (int i = 0; i < kTxns; ++i) {
      const std::string name = StrCat("user", i), email = StrCat("user", i, "@example.com");
      if (!RegisterUser(
               db, {.now = 1'000'000 + i},
               {.username = name, .email = email, .password_hash = "h", .display_name = name})
               .ok()) {
        return state.SkipWithError("setup failed");
      }
    }
    (void)(*w)->Sync();
  }
  for (auto _ : state) {
    Database db({.id_seed = 1});
    auto report = Recover(PosixFileIo(), {.data_dir = dir}, db);
    if (!report.ok() || report->records_replayed != kTxns) {
      return state.SkipWithError("recovery failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * kTxns);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RecoveryReplay)->Unit(benchmark::kMillisecond);

// Durable write latency (a join-room transaction acknowledged after its
// fdatasync, one client) with and without a snapshot being written at the
// same time, on generated data at VOX_BENCH_SCALE (default 0.05).
void BM_WriteLatencyDuringSnapshot(benchmark::State& state) {
  const bool with_snapshot = state.range(0) != 0;
  const std::string dir = BenchDir();
  const char* env = std::getenv("VOX_BENCH_SCALE");
  Database db(WorkloadDatabaseOptions(42));
  auto data = GenerateWorkload(db, {.scale = env ? std::atof(env) : 0.05});
  auto id = LoadOrCreateIdentity(PosixFileIo(), dir, true);
  auto device = UringLogDevice::Create();
  if (!data.ok() || !id.ok() || !device.ok()) return state.SkipWithError("setup failed");
  auto w = WalWriter::Open(PosixFileIo(), **device, {.dir = WalDir(dir), .database_id = *id}, {});
  if (!w.ok()) return state.SkipWithError("setup failed");
  WalCommitSink sink(**w);
  db.set_commit_sink(&sink);
  const Table& users = db.table(TableId::users);
  std::vector<double> latencies;
  Timestamp now = kWorkloadNow;
  size_t next = 0;
  double pause = 0;
  for (auto _ : state) {
    Checkpointer cp(PosixFileIo(), dir, *id, 2);
    if (with_snapshot) {
      auto p = cp.Start(db, sink.last_lsn());
      if (!p.ok()) return state.SkipWithError("checkpoint failed");
      pause = *p;
    }
    const RowId room = data->live_rooms[next % data->live_rooms.size()];
    const Uuid room_id = db.table(TableId::rooms).id(room);
    for (int i = 0; i < 500; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      now += 1000;
      auto j = JoinRoom(db, {.now = now}, room_id,
                        users.id(data->active_users[next++ % data->active_users.size()]));
      if (j.ok()) (void)(*w)->Sync();
      latencies.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      if (j.ok())
        (void)LeaveRoom(db, {.now = now}, room_id,
                        users.id(data->active_users[(next - 1) % data->active_users.size()]));
    }
    if (with_snapshot) (void)cp.Wait();
  }
  std::sort(latencies.begin(), latencies.end());
  state.counters["p50_us"] = latencies[latencies.size() / 2];
  state.counters["p99_us"] = latencies[latencies.size() * 99 / 100];
  state.counters["max_us"] = latencies.back();
  if (with_snapshot) state.counters["pin_pause_us"] = pause * 1e6;
  db.set_commit_sink(nullptr);
  w->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_WriteLatencyDuringSnapshot)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
