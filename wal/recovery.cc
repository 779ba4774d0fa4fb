#include "wal/recovery.h"

#include <fcntl.h>

#include <chrono>
#include <random>

#include "schema/str.h"
#include "wal/change_codec.h"
#include "wal/checkpoint.h"
#include "wal/snapshot.h"
#include "wal/wal_format.h"

namespace vox {

std::string WalDir(const std::string& data_dir) { return StrCat(data_dir, "/wal"); }
std::string SnapshotDir(const std::string& data_dir) { return StrCat(data_dir, "/snapshots"); }

absl::StatusOr<Uuid> LoadOrCreateIdentity(FileIo& io, const std::string& data_dir, bool create) {
  const std::string path = StrCat(data_dir, "/IDENTITY");
  auto fd = io.Open(path, O_RDONLY);
  if (fd.ok()) {
    char buf[64] = {};
    auto n = io.PRead(*fd, buf, sizeof(buf) - 1, 0);
    (void)io.Close(*fd);
    if (!n.ok()) return n.status();
    std::string_view text(buf, *n);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    auto id = ParseUuid(text);
    if (!id.ok()) return absl::DataLossError(StrCat(path, ": ", id.status().message()));
    return *id;
  }
  if (!absl::IsNotFound(fd.status()) || !create) return fd.status();
  VOX_RETURN_IF_ERROR(io.MakeDir(data_dir));
  std::random_device rd;
  const uint64_t hi = (uint64_t{rd()} << 32) | rd(), lo = (uint64_t{rd()} << 32) | rd();
  const Uuid id{(hi & 0xffffffffffff0fffULL) | 0x4000,                  // version 4
                (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL};  // variant 10
  const std::string text = FormatUuid(id) + "\n";
  const std::string tmp = path + ".tmp";
  auto out = io.Open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
  if (!out.ok()) return out.status();
  absl::Status s = WriteFully(io, *out, text.data(), text.size(), 0);
  if (s.ok()) s = io.Sync(*out);
  (void)io.Close(*out);
  if (s.ok()) s = io.Rename(tmp, path);
  if (s.ok()) s = io.SyncDir(data_dir);
  if (!s.ok()) return s;
  return id;
}

absl::StatusOr<RecoveryReport> Recover(FileIo& io, const RecoveryOptions& options, Database& db) {
  const auto start = std::chrono::steady_clock::now();
  // Progress, at most once a second.
  auto last_report = start;
  auto report_progress = [&](std::string_view stage, uint64_t done, uint64_t total) {
    if (!options.progress) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_report < std::chrono::seconds(1)) return;
    last_report = now;
    options.progress(stage, done, total);
  };
  RecoveryReport report;
  auto existing = LoadOrCreateIdentity(io, options.data_dir, /*create=*/false);
  if (!existing.ok() && absl::IsNotFound(existing.status()) && options.create) {
    VOX_ASSIGN_OR_RETURN(report.database_id,
                         LoadOrCreateIdentity(io, options.data_dir, /*create=*/true));
    report.created = true;
  } else if (!existing.ok()) {
    return existing.status();
  } else {
    report.database_id = *existing;
  }
  // The newest snapshot of this database that the stop point allows.
  for (const SnapshotEntry& entry : ListSnapshots(io, options.data_dir)) {
    if (!entry.info.ok() || entry.info->database_id != report.database_id ||
        entry.info->lsn > options.stop_at_lsn) {
      continue;
    }
    auto loaded = LoadSnapshot(io, entry.path, db, [&](uint64_t done, uint64_t total) {
      report_progress("snapshot", done, total);
    });
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(),
                          StrCat("loading snapshot ", entry.path, ": ", loaded.status().message(),
                                 " (move it aside to recover from an older snapshot)"));
    }
    report.snapshot = entry.path;
    report.snapshot_lsn = loaded->lsn;
    report.snapshot_seconds = loaded->seconds;
    break;
  }
  WalScanOptions scan_options{
      .mode = options.mode, .repair = true, .after_lsn = report.snapshot_lsn};
  bool stopped = false;
  // The first record replayed must follow the snapshot; without one (none,
  // or none readable) the log must start at LSN 1.
  auto missing_before = [&report](uint64_t lsn) {
    return absl::DataLossError(
        report.snapshot.empty()
            ? StrCat("the WAL starts at LSN ", lsn,
                     " and no snapshot holds the records before it: segments are missing, or "
                     "the snapshot that covered them is unreadable")
            : StrCat("the WAL starts at LSN ", lsn, " but snapshot ", report.snapshot, " ends at ",
                     report.snapshot_lsn, ": segments are missing"));
  };
  auto scan = ScanWal(io, WalDir(options.data_dir), report.database_id, scan_options,
                      [&](const WalRecord& r) -> absl::Status {
                        if (stopped) return absl::OkStatus();
                        if (report.records_replayed == 0 && r.lsn > report.snapshot_lsn + 1) {
                          return missing_before(r.lsn);
                        }
                        if (r.lsn > options.stop_at_lsn) {
                          stopped = true;
                          return absl::OkStatus();
                        }
                        if (options.stop_at_time) {
                          VOX_ASSIGN_OR_RETURN(Timestamp t, wal::CommitTime(r.payload));
                          if (t > *options.stop_at_time) {
                            stopped = true;
                            return absl::OkStatus();
                          }
                        }
                        const bool with_events =
                            options.on_events && r.lsn > options.events_after_lsn;
                        std::vector<ChangeEvent> events;
                        absl::Status s = wal::ApplyRecord(db, r.type, r.payload,
                                                          with_events ? &events : nullptr);
                        if (s.ok() && with_events) {
                          VOX_ASSIGN_OR_RETURN(Timestamp t, wal::CommitTime(r.payload));
                          options.on_events(r.lsn, t, std::move(events));
                        }
                        if (!s.ok()) {
                          return absl::DataLossError(StrCat(*r.segment, " at byte ", r.offset,
                                                            " (LSN ", r.lsn, "): ", s.message()));
                        }
                        ++report.records_replayed;
                        report.last_lsn = r.lsn;
                        if (report.records_replayed % 1024 == 0) {
                          report_progress("wal", report.records_replayed, 0);
                        }
                        return absl::OkStatus();
                      });
  if (!scan.ok()) return scan.status();
  report.last_lsn = std::max(report.last_lsn, report.snapshot_lsn);
  if (!stopped) report.last_lsn = std::max(report.last_lsn, scan->last_lsn);
  report.tail = scan->tail;
  if (scan->last_lsn < report.snapshot_lsn) {
    // The snapshot is newer than the whole log (written with durability
    // none, or the log was lost): the log restarts after the snapshot, and
    // the covered segments go so the new chain does not follow them.
    auto names = io.List(WalDir(options.data_dir));
    if (names.ok()) {
      for (const std::string& n : *names) {
        if (wal::ParseSegmentName(n) != 0) {
          VOX_RETURN_IF_ERROR(io.Unlink(StrCat(WalDir(options.data_dir), "/", n)));
        }
      }
    }
    report.tail = {report.snapshot_lsn + 1, 0, "", 0};
  }
  report.torn_tail = scan->torn_tail;
  report.torn_detail = scan->torn_detail;
  report.discarded_segments = scan->discarded_segments;
  report.stopped_early = stopped;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

std::string DescribeRecovery(const RecoveryReport& r) {
  std::string out = StrCat("database ", FormatUuid(r.database_id));
  if (r.created) return StrCat(out, ": new, empty");
  out += r.snapshot.empty()
             ? ": no snapshot"
             : StrCat(": snapshot ", r.snapshot, " (LSN ", r.snapshot_lsn, ", loaded in ",
                      static_cast<int64_t>(r.snapshot_seconds * 1000), " ms)");
  out += StrCat(", ", r.records_replayed, " WAL records replayed, now at LSN ", r.last_lsn);
  if (r.torn_tail) out += StrCat("; a torn tail was cut off (", r.torn_detail, ")");
  if (r.discarded_segments > 0) {
    out += StrCat("; ", r.discarded_segments, " segments after damage set aside as *.discarded");
  }
  if (r.stopped_early) out += "; stopped early (point-in-time recovery)";
  char secs[32];
  std::snprintf(secs, sizeof(secs), "%.3f", r.seconds);
  return StrCat(out, "; ", secs, " s");
}

}  // namespace vox
