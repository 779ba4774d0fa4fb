// A database's files and how it starts: the data directory holds
//   IDENTITY          the database id (every snapshot and WAL segment carries it)
//   wal/              WAL segments
//   snapshots/        snapshots
// Recover() loads the newest valid snapshot (once snapshots exist), replays
// the WAL after its LSN, and reports what it did.
#ifndef VOXDB_WAL_RECOVERY_H_
#define VOXDB_WAL_RECOVERY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/change_events.h"
#include "engine/database.h"
#include "wal/file_io.h"
#include "wal/wal_reader.h"
#include "wal/wal_writer.h"

namespace vox {

std::string WalDir(const std::string& data_dir);
std::string SnapshotDir(const std::string& data_dir);

// The data directory's database id: read from IDENTITY, or (when `create`
// and the directory holds none) minted, written, fsync'd. NotFound when
// absent and not `create`.
absl::StatusOr<Uuid> LoadOrCreateIdentity(FileIo& io, const std::string& data_dir, bool create);

struct RecoveryOptions {
  std::string data_dir;
  RecoveryMode mode = RecoveryMode::kStrict;
  bool create = true;  // a new database when the directory is empty
  // Point-in-time recovery: stop after this LSN / before the first record
  // committed after this time. The log must then not be continued.
  uint64_t stop_at_lsn = UINT64_MAX;
  std::optional<Timestamp> stop_at_time;
  // Called about once a second while recovery runs, for the operator:
  // "snapshot" with bytes loaded of the file's size, then "wal" with
  // records replayed (total 0: not known in advance).
  std::function<void(std::string_view stage, uint64_t done, uint64_t total)> progress;
  // Change streams' history (net/streams.h): when set, called for every
  // record replayed with an LSN above `events_after_lsn`, with the events of
  // its transaction (engine/change_events.h), in LSN order.
  std::function<void(uint64_t lsn, Timestamp commit_time, std::vector<ChangeEvent> events)>
      on_events;
  uint64_t events_after_lsn = 0;
};

struct RecoveryReport {
  Uuid database_id;
  bool created = false;
  std::string snapshot;  // path of the snapshot loaded, or empty
  uint64_t snapshot_lsn = 0;
  double snapshot_seconds = 0;
  uint64_t records_replayed = 0;
  uint64_t last_lsn = 0;
  WalTail tail;  // where the writer continues
  bool torn_tail = false;
  std::string torn_detail;
  uint64_t discarded_segments = 0;
  bool stopped_early = false;  // point-in-time: records after the stop remain in the log
  double seconds = 0;
};

// Brings `db` (empty) to the state of the data directory. DataLoss naming
// the file and offset for corruption; FailedPrecondition for files of
// another schema version.
absl::StatusOr<RecoveryReport> Recover(FileIo& io, const RecoveryOptions& options, Database& db);

// One paragraph for the operator: what was loaded and replayed, how long.
std::string DescribeRecovery(const RecoveryReport& report);

}  // namespace vox

#endif  // VOXDB_WAL_RECOVERY_H_
