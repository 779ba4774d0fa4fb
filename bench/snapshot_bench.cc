// Snapshot benchmarks on the WORKLOAD.md data set: the engine thread's pause
// to pin an image, the snapshot write, verify and load rates (load includes
// rebuilding every index), and, in the same run for comparison, this disk's
// sequential write bandwidth and a plain read of the snapshot file.
//
//   scripts/build.sh snapshot_bench
//   VOX_BENCH_SCALE=0.1 build/bench/snapshot_bench --benchmark_repetitions=3
//
// VOX_BENCH_SCALE (default 0.1) sets the scale factor of the generated data.
// Files go to a fresh /tmp/snapshot_bench.XXXXXX, removed at exit. The
// benchmarks run in the order below; BM_LoadSnapshot frees the generated
// database first (at SF=1 two copies do not fit in memory). "/cold" variants
// drop the file from the page cache before each iteration (posix_fadvise).
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"
#include "wal/file_io.h"
#include "wal/snapshot.h"

namespace vox {
namespace {

using Clock = std::chrono::steady_clock;

struct Fixture {
  std::unique_ptr<Database> db;  // the generated data; freed by BM_LoadSnapshot
  std::string dir;
  std::string snapshot;  // the last snapshot written
  uint64_t snapshot_bytes = 0;
  uint64_t next_lsn = 1;
};

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    fx->db = LoadBenchWorkload(0.1).db;
    char dir[] = "/tmp/snapshot_bench.XXXXXX";
    if (::mkdtemp(dir) == nullptr) std::exit(1);
    fx->dir = dir;
    std::atexit([] { std::filesystem::remove_all(Data().dir); });
    return fx;
  }();
  return *f;
}

void ReportError(benchmark::State& state, const absl::Status& s) {
  state.SkipWithError(std::string(ToStd(s.message())).c_str());
}

// Writes a snapshot of the generated data, replacing the previous one.
absl::StatusOr<SnapshotInfo> WriteOne(Fixture& f) {
  if (!f.snapshot.empty()) std::filesystem::remove(f.snapshot);
  f.snapshot.clear();
  const std::vector<Table::Image> image = f.db->Pin();
  absl::StatusOr<SnapshotInfo> info =
      WriteSnapshot(PosixFileIo(), image, {.database_id = {1, 2}, .lsn = f.next_lsn++}, f.dir);
  if (info.ok()) {
    f.snapshot = info->path;
    f.snapshot_bytes = info->bytes;
  }
  return info;
}

// The snapshot the read benchmarks use (written now if there is none yet).
absl::Status EnsureSnapshot(Fixture& f) {
  if (!f.snapshot.empty()) return absl::OkStatus();
  return WriteOne(f).status();
}

// Drops `path` from the page cache, so the next read comes from the disk.
void DropFromCache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
}

void BM_PinPause(benchmark::State& state) {
  Fixture& f = Data();
  size_t chunks = 0;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    std::vector<Table::Image> image = f.db->Pin();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    chunks = 0;
    for (const Table::Image& t : image) {
      chunks += t.live.size();
      for (const auto& c : t.columns) chunks += c.size();
    }
  }
  state.counters["chunks"] = static_cast<double>(chunks);
}
BENCHMARK(BM_PinPause)->UseManualTime()->Unit(benchmark::kMicrosecond);

// The disk's sequential write bandwidth: as many bytes as a snapshot, written
// with WriteFully in 4 MiB pieces, then fdatasync.
void BM_DiskWrite(benchmark::State& state) {
  Fixture& f = Data();
  if (absl::Status s = EnsureSnapshot(f); !s.ok()) return ReportError(state, s);
  constexpr size_t kPiece = 4 << 20;
  std::vector<char> piece(kPiece);
  for (size_t i = 0; i < kPiece; ++i) piece[i] = static_cast<char>(i * 2654435761u >> 24);
  const std::string path = StrCat(f.dir, "/disk-bandwidth");
  FileIo& io = PosixFileIo();
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    absl::StatusOr<int> fd = io.Open(path, O_WRONLY | O_CREAT | O_TRUNC);
    if (!fd.ok()) return ReportError(state, fd.status());
    absl::Status s;
    for (uint64_t done = 0; s.ok() && done < f.snapshot_bytes; done += kPiece) {
      s = WriteFully(io, *fd, piece.data(), std::min<uint64_t>(kPiece, f.snapshot_bytes - done),
                     done);
    }
    if (s.ok()) s = io.DataSync(*fd);
    (void)io.Close(*fd);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    std::filesystem::remove(path);
    if (!s.ok()) return ReportError(state, s);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.snapshot_bytes));
}
BENCHMARK(BM_DiskWrite)->UseManualTime()->Unit(benchmark::kMillisecond);

void BM_WriteSnapshot(benchmark::State& state) {
  Fixture& f = Data();
  for (auto _ : state) {
    absl::StatusOr<SnapshotInfo> info = WriteOne(f);
    if (!info.ok()) return ReportError(state, info.status());
    state.SetIterationTime(info->seconds);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.snapshot_bytes));
  state.counters["file_MB"] = static_cast<double>(f.snapshot_bytes) / 1e6;
}
BENCHMARK(BM_WriteSnapshot)->UseManualTime()->Unit(benchmark::kMillisecond);

// A plain sequential read of the snapshot file (8 MiB preads), no checks.
void BM_ReadFile(benchmark::State& state) {
  Fixture& f = Data();
  if (absl::Status s = EnsureSnapshot(f); !s.ok()) return ReportError(state, s);
  std::vector<char> buffer(8 << 20);
  FileIo& io = PosixFileIo();
  for (auto _ : state) {
    if (state.range(0) == 1) DropFromCache(f.snapshot);
    const Clock::time_point start = Clock::now();
    absl::StatusOr<int> fd = io.Open(f.snapshot, O_RDONLY);
    if (!fd.ok()) return ReportError(state, fd.status());
    for (uint64_t at = 0; at < f.snapshot_bytes;) {
      absl::StatusOr<size_t> n = io.PRead(*fd, buffer.data(), buffer.size(), at);
      if (!n.ok() || *n == 0) break;
      at += *n;
    }
    (void)io.Close(*fd);
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.snapshot_bytes));
}
BENCHMARK(BM_ReadFile)
    ->ArgName("cold")
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

void BM_VerifySnapshot(benchmark::State& state) {
  Fixture& f = Data();
  if (absl::Status s = EnsureSnapshot(f); !s.ok()) return ReportError(state, s);
  for (auto _ : state) {
    if (state.range(0) == 1) DropFromCache(f.snapshot);
    absl::StatusOr<SnapshotInfo> info = VerifySnapshot(PosixFileIo(), f.snapshot);
    if (!info.ok()) return ReportError(state, info.status());
    state.SetIterationTime(info->seconds);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.snapshot_bytes));
}
BENCHMARK(BM_VerifySnapshot)
    ->ArgName("cold")
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// Loads into a new Database (made and destroyed outside the timing); the
// time includes rebuilding every index, reported apart as index_s.
void BM_LoadSnapshot(benchmark::State& state) {
  Fixture& f = Data();
  if (absl::Status s = EnsureSnapshot(f); !s.ok()) return ReportError(state, s);
  f.db.reset();  // make room for the loaded copy
  uint64_t rows = 0;
  double index_seconds = 0;
  for (auto _ : state) {
    if (state.range(0) == 1) DropFromCache(f.snapshot);
    auto db = std::make_unique<Database>(WorkloadDatabaseOptions(7));
    absl::StatusOr<SnapshotInfo> info = LoadSnapshot(PosixFileIo(), f.snapshot, *db);
    if (!info.ok()) return ReportError(state, info.status());
    state.SetIterationTime(info->seconds);
    rows += info->total_rows;
    index_seconds += info->index_seconds;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * f.snapshot_bytes));
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["index_s"] = index_seconds / static_cast<double>(state.iterations());
}
BENCHMARK(BM_LoadSnapshot)
    ->ArgName("cold")
    ->Arg(0)
    ->Arg(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
