// datagen: loads the WORKLOAD.md data set into memory and reports where the
// time went (per phase), the rows, and resident memory. Nothing is written
// to disk: it measures the load itself (docs/benchmarks.md).
//
//   build/tools/datagen/datagen --scale=1 [--seed=42] [--txn] [--verify] [--fingerprint]
//
// --fingerprint prints a hash of every table's rows (all columns, nulls,
// string bytes): two builds of the generator give the same data exactly
// when they print the same fingerprints.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "tools/datagen/datagen.h"
#include "xxhash.h"

ABSL_FLAG(double, scale, 0.1, "scale factor (1: the reference size)");
ABSL_FLAG(uint64_t, seed, 42, "seed of the generated data");
ABSL_FLAG(bool, txn, false, "write every row through a validating Txn instead of bulk loading");
ABSL_FLAG(bool, verify, false, "after the load, check every index against a full scan");
ABSL_FLAG(bool, fingerprint, false, "after the load, print a hash of every table's rows");
ABSL_FLAG(bool, time_indexes, false,
          "after the load, rebuild every index on this thread, one at a time, and time each");

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point from) {
  return std::chrono::duration<double>(Clock::now() - from).count();
}

// CPU time of the calling thread (the generator's), in seconds.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Resident memory now, from /proc/self/statm (MiB).
double ResidentMiB() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const int n = std::fscanf(f, "%llu %llu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * 4096.0 / (1 << 20) : 0;
}

// A hash of every row of `t` (row ids, liveness, every column's value).
uint64_t Fingerprint(const vox::Table& t) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  const auto add = [&](const auto& v) { XXH3_64bits_update(state, &v, sizeof(v)); };
  const auto& columns = t.def().columns;
  for (vox::RowId r = 0; r < t.row_count(); ++r) {
    add(r);
    add(t.IsLive(r));
    if (!t.IsLive(r)) continue;
    for (vox::ColumnId c = 0; c < columns.size(); ++c) {
      const bool null = t.IsNull(r, c);
      add(null);
      if (null) continue;
      switch (columns[c].type) {
        case vox::ColumnType::kString:
        case vox::ColumnType::kJson: {
          const std::string_view s = t.GetString(r, c);
          add(s.size());
          XXH3_64bits_update(state, s.data(), s.size());
          break;
        }
        case vox::ColumnType::kUuid:
        case vox::ColumnType::kInet:
          add(t.GetUuid(r, c));
          break;
        default:
          add(t.GetInt(r, c));
      }
    }
  }
  const uint64_t h = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  vox::GenerateOptions options{.scale = absl::GetFlag(FLAGS_scale),
                               .seed = absl::GetFlag(FLAGS_seed)};
  options.bulk = !absl::GetFlag(FLAGS_txn);
  const Clock::time_point start = Clock::now();
  Clock::time_point phase_start = start;
  double phase_cpu = ThreadCpuSeconds();
  std::string phase;
  const auto end_phase = [&] {
    std::fprintf(stderr, "\r%-14s %8.2f s (loading thread's CPU: %.2f s)\n", phase.c_str(),
                 Seconds(phase_start), ThreadCpuSeconds() - phase_cpu);
  };
  options.progress = [&](std::string_view p, uint64_t done, uint64_t total) {
    if (p != phase) {
      if (!phase.empty()) end_phase();
      phase = std::string(p);
      phase_start = Clock::now();
      phase_cpu = ThreadCpuSeconds();
    }
    std::fprintf(stderr, "\r%-14s %12llu / %llu (%.0f s)", phase.c_str(),
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 Seconds(start));
  };
  std::printf("SF=%g seed %llu, %s\n", options.scale, static_cast<unsigned long long>(options.seed),
              options.bulk ? "bulk load" : "every row through Txn");
  vox::Database db(vox::WorkloadDatabaseOptions(options.seed));
  auto data = vox::GenerateWorkload(db, options);
  if (!phase.empty()) end_phase();
  if (!data.ok()) {
    std::fprintf(stderr, "datagen: %s\n", std::string(data.status().message()).c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "loaded %llu rows in %.2f s (%.2f M rows/s); CPU %.1f s user + %.1f s system (all "
      "threads); resident %.0f MiB, max %.0f MiB\n",
      static_cast<unsigned long long>(data->total_rows), data->load_seconds,
      data->total_rows / data->load_seconds / 1e6,
      usage.ru_utime.tv_sec + usage.ru_utime.tv_usec * 1e-6,
      usage.ru_stime.tv_sec + usage.ru_stime.tv_usec * 1e-6, ResidentMiB(),
      usage.ru_maxrss / 1024.0);
  if (absl::GetFlag(FLAGS_verify)) {
    const Clock::time_point t = Clock::now();
    const absl::Status s = db.VerifyIndexes();
    std::printf("indexes %s (%.1f s)\n", s.ok() ? "agree with the tables" : "DISAGREE", Seconds(t));
    if (!s.ok()) {
      std::fprintf(stderr, "datagen: %s\n", std::string(s.message()).c_str());
      return 1;
    }
  }
  if (absl::GetFlag(FLAGS_time_indexes)) {
    double all = 0;
    for (const vox::TableDef& def : vox::kTables) {
      vox::Table& t = db.table(def.id);
      std::vector<vox::RowId> live;
      for (vox::RowId r = 0; r < t.row_count(); ++r) {
        if (t.IsLive(r)) live.push_back(r);
      }
      for (size_t i = 0; i < t.index_count(); ++i) {
        const double cpu = ThreadCpuSeconds();
        const absl::Status s = t.BuildIndex(i, live);
        const double seconds = ThreadCpuSeconds() - cpu;
        all += seconds;
        if (!s.ok()) std::fprintf(stderr, "datagen: %s\n", std::string(s.message()).c_str());
        if (seconds >= 0.05) {
          std::printf("  %-20.*s %-32.*s %6.2f s\n", static_cast<int>(def.name.size()),
                      def.name.data(), static_cast<int>(t.index(i).def().name.size()),
                      t.index(i).def().name.data(), seconds);
        }
      }
    }
    std::printf("every index rebuilt: %.2f s of CPU\n", all);
  }
  if (absl::GetFlag(FLAGS_fingerprint)) {
    uint64_t all = 0;
    for (const vox::TableDef& def : vox::kTables) {
      const uint64_t h = Fingerprint(db.table(def.id));
      all = all * 0x100000001b3ULL ^ h;
      std::printf("%-20.*s %12zu rows  %016llx\n", static_cast<int>(def.name.size()),
                  def.name.data(), db.table(def.id).row_count(),
                  static_cast<unsigned long long>(h));
    }
    std::printf("%-20s %12s       %016llx\n", "all", "", static_cast<unsigned long long>(all));
  }
  return 0;
}
