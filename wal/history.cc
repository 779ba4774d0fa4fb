#include "wal/history.h"

#include "schema/str.h"
#include "wal/change_codec.h"
#include "wal/checkpoint.h"
#include "wal/recovery.h"
#include "wal/snapshot.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace vox {

absl::StatusOr<HistorySource> FindHistorySource(FileIo& io, const std::string& data_dir,
                                                const Uuid& database_id, uint64_t after_lsn) {
  HistorySource source;
  for (const SnapshotEntry& s : ListSnapshots(io, data_dir)) {  // newest first
    if (s.info.ok() && s.info->database_id == database_id && s.info->lsn <= after_lsn) {
      source = {s.path, s.info->lsn};
      break;
    }
  }
  uint64_t first = 0;  // the log's first LSN
  if (auto names = io.List(WalDir(data_dir)); names.ok()) {
    for (const std::string& n : *names) {
      const uint64_t lsn = wal::ParseSegmentName(n);
      if (lsn != 0 && (first == 0 || lsn < first)) first = lsn;
    }
  }
  if (first == 0 || first > source.snapshot_lsn + 1) {
    return absl::OutOfRangeError(StrCat(
        "the files no longer hold the transactions after LSN ", after_lsn, ": ",
        source.snapshot.empty() ? "no snapshot at or before it, and the WAL starts at LSN "
                                : StrCat("the snapshot at or before it is at LSN ",
                                         source.snapshot_lsn, " and the WAL starts at LSN "),
        first, first == 0 ? " (no WAL)" : ""));
  }
  return source;
}

absl::Status ReplayHistory(FileIo& io, const HistoryReplay& replay) {
  Database db;
  if (!replay.source.snapshot.empty()) {
    auto loaded = LoadSnapshot(io, replay.source.snapshot, db);
    if (!loaded.ok()) {
      return absl::Status(loaded.status().code(), StrCat("loading snapshot ", replay.source.snapshot,
                                                         ": ", loaded.status().message()));
    }
  }
  bool reached = false;
  uint64_t expect = replay.source.snapshot_lsn + 1;
  auto scan = ScanWal(
      io, WalDir(replay.data_dir), replay.database_id,
      {.mode = RecoveryMode::kStrict, .repair = false, .after_lsn = replay.source.snapshot_lsn},
      [&](const WalRecord& r) -> absl::Status {
        if (replay.cancelled && replay.cancelled()) return absl::CancelledError("cancelled");
        if (r.lsn != expect) {
          return absl::OutOfRangeError(
              StrCat("the WAL has LSN ", r.lsn, " where ", expect, " was due: segments are gone"));
        }
        ++expect;
        const bool wanted = r.lsn > replay.after_lsn;
        std::vector<ChangeEvent> events;
        absl::Status s = wal::ApplyRecord(db, r.type, r.payload, wanted ? &events : nullptr);
        if (!s.ok()) {
          return absl::DataLossError(
              StrCat(*r.segment, " at byte ", r.offset, " (LSN ", r.lsn, "): ", s.message()));
        }
        if (wanted) {
          VOX_ASSIGN_OR_RETURN(Timestamp t, wal::CommitTime(r.payload));
          replay.on_events(r.lsn, t, std::move(events));
        }
        if (r.lsn >= replay.through_lsn) {
          reached = true;
          return absl::CancelledError("reached");  // the rest is not needed
        }
        return absl::OkStatus();
      });
  if (reached) return absl::OkStatus();
  if (!scan.ok()) return scan.status();
  return absl::OutOfRangeError(StrCat("the WAL ends at LSN ", scan->last_lsn, " before LSN ",
                                      replay.through_lsn));
}

}  // namespace vox
