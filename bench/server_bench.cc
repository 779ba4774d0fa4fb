// Server round trips over loopback TCP: a user-by-email read (R1) with one
// client (latency percentiles) and with 32 clients (throughput), against an
// in-process server on the WORKLOAD.md data at VOX_BENCH_SCALE (default
// 0.01), durability fsync.
//
//   build/bench/server_bench
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "bench/bench_log.h"
#include "benchmark/benchmark.h"
#include "net/client.h"
#include "schema/str.h"
#include "net/server.h"
#include "tools/datagen/datagen.h"
#include "wal/recovery.h"

namespace vox {
namespace {

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
  std::vector<Uuid> users;  // active users' ids, read before the server owns the db
  std::unique_ptr<BenchLog> log;
  std::unique_ptr<Checkpointer> checkpointer;
  std::unique_ptr<Server> server;
};

Fixture& Get() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->db = std::make_unique<Database>(WorkloadDatabaseOptions(42));
    const char* env = std::getenv("VOX_BENCH_SCALE");
    fx->data = *GenerateWorkload(*fx->db, {.scale = env ? std::atof(env) : 0.01});
    for (RowId u : fx->data.active_users) fx->users.push_back(fx->db->table(TableId::users).id(u));
    fx->log = OpenBenchLog("server-bench", *fx->db);
    const Uuid id = fx->log->database_id;
    fx->checkpointer = std::make_unique<Checkpointer>(PosixFileIo(), fx->log->dir, id, 1);
    fx->server = std::move(*Server::Start({.port = 0}, {.db = fx->db.get(),
                                                        .wal = fx->log->wal.get(),
                                                        .sink = fx->log->sink.get(),
                                                        .checkpointer = fx->checkpointer.get(),
                                                        .database_id = id,
                                                        .durability = Durability::kFsync}));
    return fx;
  }();
  return *f;
}

void BM_UserByEmailRoundTrip(benchmark::State& state) {
  Fixture& f = Get();
  auto client = Client::Connect({.port = f.server->port()});
  if (!client.ok()) return state.SkipWithError("cannot connect");
  std::vector<double> us;
  size_t i = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto row = (*client)->Call(rpc::UserByEmail{f.data.sample_emails[i++ % f.data.sample_emails.size()]});
    if (!row.ok()) return state.SkipWithError("a read failed");
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  state.counters["p50_us"] = us[us.size() / 2];
  state.counters["p99_us"] = us[us.size() * 99 / 100];
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UserByEmailRoundTrip)->UseRealTime();

// 32 clients, each keeping `depth` requests in flight (depth 1: a
// synchronous client). Reads by email, or top-ups (durable writes).
template <bool kWrites>
void BM_32Clients(benchmark::State& state) {
  Fixture& f = Get();
  const int depth = static_cast<int>(state.range(0));
  constexpr int kClients = 32, kPerClient = 512;
  static std::atomic<uint64_t> key{0};  // the database lives across runs
  const WalWriter::Stats wal_before = f.log->wal->stats();
  std::atomic<bool> failed{false};
  std::string error;
  for (auto _ : state) {
    std::atomic<int64_t> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kClients; ++t) {
      threads.emplace_back([&, t] {
        auto client = Client::Connect({.port = f.server->port(), .max_in_flight = depth});
        if (!client.ok()) return;
        std::vector<Future<std::string>> reads;
        std::vector<Future<rpc::Transfer>> writes;
        for (int i = 0; i < kPerClient; ++i) {
          const size_t n = (t * kPerClient + i) % f.data.sample_emails.size();
          if constexpr (kWrites) {
            writes.push_back((*client)->Send(rpc::TopUp{
                f.users[n % f.users.size()], 1, StrCat("bench-", key.fetch_add(1))}));
          } else {
            reads.push_back((*client)->Send(rpc::UserByEmail{f.data.sample_emails[n]}));
          }
        }
        for (auto& r : reads) {
          auto row = r.Get();
          done += row.ok();
          if (!row.ok() && !failed.exchange(true)) error = std::string(row.status().message());
        }
        for (auto& w : writes) {
          auto r = w.Get();
          done += r.ok();
          if (!r.ok() && !failed.exchange(true)) error = std::string(r.status().message());
        }
      });
    }
    for (auto& th : threads) th.join();
    if (done.load() != kClients * kPerClient) return state.SkipWithError(error.c_str());
    state.SetItemsProcessed(state.items_processed() + done.load());
  }
  const WalWriter::Stats wal = f.log->wal->stats();
  if (kWrites && wal.syncs > wal_before.syncs) {
    // Group commit: transactions made durable per fdatasync.
    state.counters["txn_per_sync"] = static_cast<double>(wal.records - wal_before.records) /
                                     static_cast<double>(wal.syncs - wal_before.syncs);
  }
}
BENCHMARK(BM_32Clients<false>)->Name("BM_UserByEmail32Clients")->ArgName("depth")->Arg(1)->Arg(16)
    ->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_32Clients<true>)->Name("BM_TopUp32Clients")->ArgName("depth")->Arg(1)->Arg(16)
    ->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
