// A durable log for in-process server benchmarks (server_bench,
// stream_bench): a fresh data directory under /tmp, removed when the
// process exits, and a WAL writer on io_uring (durability fsync) with its
// commit sink attached to `db`.
#ifndef VOXDB_BENCH_BENCH_LOG_H_
#define VOXDB_BENCH_BENCH_LOG_H_

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/bench_workload.h"
#include "engine/database.h"
#include "wal/log_device.h"
#include "wal/recovery.h"
#include "wal/wal_sink.h"
#include "wal/wal_writer.h"

namespace vox {

struct BenchLog {
  std::string dir;
  Uuid database_id;
  std::unique_ptr<UringLogDevice> device;
  std::unique_ptr<WalWriter> wal;
  std::unique_ptr<WalCommitSink> sink;
};

// `name` names the directory (/tmp/voxdb-<name>-XXXXXX).
inline std::unique_ptr<BenchLog> OpenBenchLog(const std::string& name, Database& db) {
  auto log = std::make_unique<BenchLog>();
  std::string tmpl = "/tmp/voxdb-" + name + "-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) BenchFail("cannot make a directory under /tmp");
  log->dir = tmpl;
  static std::mutex mu;
  static std::vector<std::string>* dirs = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (dirs == nullptr) {
      dirs = new std::vector<std::string>;
      std::atexit([] {
        std::error_code ec;
        for (const std::string& d : *dirs) std::filesystem::remove_all(d, ec);
      });
    }
    dirs->push_back(log->dir);
  }
  auto id = LoadOrCreateIdentity(PosixFileIo(), log->dir, true);
  auto device = UringLogDevice::Create();
  if (!id.ok() || !device.ok()) BenchFail("cannot open the benchmark's log");
  log->database_id = *id;
  log->device = std::move(*device);
  auto wal = WalWriter::Open(PosixFileIo(), *log->device,
                             {.dir = WalDir(log->dir), .database_id = *id}, {});
  if (!wal.ok()) BenchFail("cannot open the benchmark's WAL");
  log->wal = std::move(*wal);
  log->sink = std::make_unique<WalCommitSink>(*log->wal);
  db.set_commit_sink(log->sink.get());
  return log;
}

}  // namespace vox

#endif  // VOXDB_BENCH_BENCH_LOG_H_
