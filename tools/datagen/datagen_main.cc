// datagen: loads the WORKLOAD.md data set into memory and reports where the
// time went (per phase), the rows, and resident memory. Nothing is written
// to disk: it measures the load itself (docs/benchmarks.md).
//
//   build/tools/datagen/datagen --scale=1 [--seed=42] [--txn] [--verify] [--fingerprint]
//
// --fingerprint prints a hash of every table's rows (all columns, nulls,
// string bytes): two builds of the generator give the same data exactly
// when they print the same fingerprints.
//
// For the side-by-side benchmark (docs/benchmarks.md) one generation feeds
// both systems the same rows:
//   --data_dir=DIR   a new VoxDB data directory holding the data as its first
//                    snapshot (start `voxdb --data=DIR` on it);
//   --csv_dir=DIR    one CSV file per table for PostgreSQL's COPY;
//   --keys=FILE      the keys voxbench draws its parameters from;
//   --summary=FILE   one JSON line: rows, load time, resident memory,
//                    snapshot size and time.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/voxbench/keys.h"
#include "schema/str.h"
#include "tools/datagen/csv_export.h"
#include "tools/datagen/datagen.h"
#include "wal/checkpoint.h"
#include "wal/file_io.h"
#include "wal/recovery.h"
#include "xxhash.h"

ABSL_FLAG(double, scale, 0.1, "scale factor (1: the reference size)");
ABSL_FLAG(uint64_t, seed, 42, "seed of the generated data");
ABSL_FLAG(bool, txn, false, "write every row through a validating Txn instead of bulk loading");
ABSL_FLAG(bool, verify, false, "after the load, check every index against a full scan");
ABSL_FLAG(bool, fingerprint, false, "after the load, print a hash of every table's rows");
ABSL_FLAG(std::string, data_dir, "",
          "write the data set as the first snapshot of this new VoxDB data directory");
ABSL_FLAG(std::string, csv_dir, "", "write one CSV file per table here (PostgreSQL COPY)");
ABSL_FLAG(std::string, keys, "", "write voxbench's keys file here");
ABSL_FLAG(std::string, summary, "", "write a JSON line with the load's figures here");
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

// Every `step`-th element of `v` (at most about `max` of them): a uniform
// sample that keeps the file small at SF=1.
template <typename T>
std::vector<T> Sample(const std::vector<T>& v, size_t max) {
  if (v.size() <= max) return v;
  std::vector<T> out;
  const double step = static_cast<double>(v.size()) / max;
  for (size_t i = 0; i < max; ++i) out.push_back(v[static_cast<size_t>(i * step)]);
  return out;
}

// voxbench's keys (bench/voxbench/keys.h), read from the generated rows.
vox::bench::WorkloadKeys BuildKeys(const vox::Database& db, const vox::GeneratedData& data,
                                   const vox::GenerateOptions& options) {
  using vox::RowId;
  using vox::TableId;
  constexpr size_t kMaxKeys = 100'000;
  vox::bench::WorkloadKeys keys{.scale = options.scale, .seed = options.seed};
  const vox::Table& users = db.table(TableId::users);
  const vox::Table& rooms = db.table(TableId::rooms);
  const vox::Table& parts = db.table(TableId::room_participants);
  std::vector<std::string> emails;
  std::vector<vox::Uuid> uuids;
  for (RowId u : data.active_users) {
    if (!users.IsNull(u, vox::users::email)) {
      emails.emplace_back(users.GetString(u, vox::users::email));
    }
    uuids.push_back(users.id(u));
  }
  keys.emails = Sample(emails, kMaxKeys);
  keys.users = Sample(uuids, kMaxKeys);
  uuids.clear();
  for (RowId r = 0; r < rooms.row_count(); ++r) {
    if (rooms.IsLive(r) && rooms.IsNull(r, vox::rooms::deleted_at)) uuids.push_back(rooms.id(r));
  }
  keys.rooms = Sample(uuids, kMaxKeys);
  for (RowId r : data.live_rooms) keys.live_rooms.push_back(rooms.id(r));
  std::vector<vox::bench::RoomUser> present;
  for (RowId p = 0; p < parts.row_count(); ++p) {
    if (!parts.IsLive(p) || !parts.IsNull(p, vox::room_participants::left_at)) continue;
    if (parts.GetEnum<vox::ParticipantRole>(p, vox::room_participants::role) ==
        vox::ParticipantRole::HOST) {
      continue;
    }
    const RowId room = parts.GetRef(p, vox::room_participants::room_id);
    if (rooms.GetEnum<vox::RoomStatus>(room, vox::rooms::status) != vox::RoomStatus::LIVE) continue;
    present.push_back({rooms.id(room), users.id(parts.GetRef(p, vox::room_participants::user_id))});
  }
  keys.present = Sample(present, 2 * kMaxKeys);
  for (const auto& b : Sample(data.banned, kMaxKeys)) {
    keys.banned.push_back({rooms.id(b.room), users.id(b.user)});
  }
  for (RowId u : data.funded_users) keys.funded.push_back(users.id(u));
  for (const auto& [name, id] : data.tag_ids) keys.tags.push_back(name);
  std::sort(keys.tags.begin(), keys.tags.end());
  return keys;
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
  const std::string data_dir = absl::GetFlag(FLAGS_data_dir);
  vox::Uuid database_id{};
  if (!data_dir.empty()) {
    // A new database: its identity and MANIFEST, nothing else, before the load.
    auto recovered = vox::Recover(vox::PosixFileIo(), {.data_dir = data_dir}, db);
    if (!recovered.ok()) {
      std::fprintf(stderr, "datagen: %s\n", std::string(recovered.status().message()).c_str());
      return 1;
    }
    if (recovered->last_lsn != 0 || !recovered->snapshot.empty()) {
      std::fprintf(stderr, "datagen: %s already holds a database; give a new directory\n",
                   data_dir.c_str());
      return 1;
    }
    database_id = recovered->database_id;
  }
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
  const double resident_mib = ResidentMiB();
  std::string summary =
      vox::StrCat(R"({"system":"voxdb","scale":)", options.scale, R"(,"seed":)", options.seed,
                  R"(,"rows":)", data->total_rows, R"(,"load_seconds":)", data->load_seconds,
                  R"(,"resident_bytes_after_load":)",
                  static_cast<uint64_t>(resident_mib * (1 << 20)));
  if (!data_dir.empty()) {
    std::fprintf(stderr, "writing the snapshot into %s ...\n", data_dir.c_str());
    vox::Checkpointer checkpointer(vox::PosixFileIo(), data_dir, database_id, /*keep=*/3);
    auto pause = checkpointer.Start(db, 0);
    auto snap = pause.ok() ? checkpointer.Wait() : absl::StatusOr<vox::SnapshotInfo>(pause.status());
    if (!snap.ok()) {
      std::fprintf(stderr, "datagen: snapshot: %s\n", std::string(snap.status().message()).c_str());
      return 1;
    }
    std::printf("snapshot %s: %.1f MiB in %.2f s\n", snap->path.c_str(), snap->bytes / 1048576.0,
                snap->seconds);
    summary = vox::StrCat(summary, R"(,"snapshot_bytes":)", snap->bytes, R"(,"snapshot_seconds":)",
                          snap->seconds);
  }
  if (const std::string path = absl::GetFlag(FLAGS_keys); !path.empty()) {
    const vox::bench::WorkloadKeys keys = BuildKeys(db, *data, options);
    if (const absl::Status s = vox::bench::WriteKeys(path, keys); !s.ok()) {
      std::fprintf(stderr, "datagen: keys: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::printf("keys: %zu emails, %zu users, %zu rooms, %zu live rooms, %zu present, %zu banned, "
                "%zu funded, %zu tags -> %s\n",
                keys.emails.size(), keys.users.size(), keys.rooms.size(), keys.live_rooms.size(),
                keys.present.size(), keys.banned.size(), keys.funded.size(), keys.tags.size(),
                path.c_str());
  }
  if (const std::string dir = absl::GetFlag(FLAGS_csv_dir); !dir.empty()) {
    const Clock::time_point t = Clock::now();
    const absl::Status s = vox::ExportCsv(
        db, dir, [&](std::string_view table, uint64_t done, uint64_t total) {
          std::fprintf(stderr, "\rcsv %-20.*s %12llu / %llu (%.0f s)", static_cast<int>(table.size()),
                       table.data(), static_cast<unsigned long long>(done),
                       static_cast<unsigned long long>(total), Seconds(t));
        });
    std::fprintf(stderr, "\n");
    if (!s.ok()) {
      std::fprintf(stderr, "datagen: csv: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::printf("csv files in %s (%.1f s)\n", dir.c_str(), Seconds(t));
  }
  if (const std::string path = absl::GetFlag(FLAGS_summary); !path.empty()) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr || std::fprintf(f, "%s}\n", summary.c_str()) < 0 || std::fclose(f) != 0) {
      std::fprintf(stderr, "datagen: cannot write %s\n", path.c_str());
      return 1;
    }
  }
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
