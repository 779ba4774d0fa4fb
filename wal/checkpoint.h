// Checkpoints: a snapshot taken while the engine keeps serving, then the
// files it makes unnecessary removed.
//
// Checkpointer::Start pins the database on the engine thread (O(chunks):
// the engine's whole pause) and writes the snapshot on the checkpointer's
// own thread. Prune keeps the newest `keep` snapshots (and, under a hold, the
// newest one at or before the held LSN), deletes WAL segments whose every
// record is older than the oldest kept snapshot (never the segment holding
// that snapshot's LSN, never one a hold still needs), and
// rewrites the MANIFEST naming the current snapshot and its segments.
#ifndef VOXDB_WAL_CHECKPOINT_H_
#define VOXDB_WAL_CHECKPOINT_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "wal/file_io.h"
#include "wal/snapshot.h"

namespace vox {

// When to checkpoint: every `interval_seconds` or once the WAL grew by
// `wal_bytes` since the last one, whichever comes first, each threshold
// moved by up to `jitter` (a fraction) so that replicas of a fleet do not
// all checkpoint at once. 0 disables a threshold.
struct CheckpointPolicy {
  double interval_seconds = 3600;
  uint64_t wal_bytes = 1ull << 30;
  double jitter = 0.1;
  int keep = 3;  // snapshots kept
};
// Whether a checkpoint is due. `seed` picks the jitter (stable per server).
bool CheckpointDue(const CheckpointPolicy& policy, double seconds_since, uint64_t wal_bytes_since,
                   uint64_t seed);

// The data directory's snapshots, newest first, with their headers (files
// whose header cannot be read are listed with `error` set).
struct SnapshotEntry {
  std::string path;
  absl::StatusOr<SnapshotInfo> info;
};
std::vector<SnapshotEntry> ListSnapshots(FileIo& io, const std::string& data_dir);

class Checkpointer {
 public:
  // `io` must outlive the checkpointer.
  Checkpointer(FileIo& io, std::string data_dir, Uuid database_id, int keep);
  ~Checkpointer();  // waits for a running checkpoint

  // Engine thread: pins `db` as of `lsn` (every transaction up to `lsn` is
  // in it, none after) and starts writing it. FailedPrecondition if one is
  // already running. Returns the pause, in seconds.
  absl::StatusOr<double> Start(const Database& db, uint64_t lsn);
  // Waits for the running checkpoint (its snapshot written, old files
  // pruned); FailedPrecondition if none was started.
  absl::StatusOr<SnapshotInfo> Wait();
  bool running() const;

  // What checkpoints did since this checkpointer was made (for metrics).
  struct Stats {
    uint64_t completed = 0, failed = 0;
    // The last completed one (its snapshot written, old files pruned): its
    // snapshot, and when it finished (wall clock, us since the epoch).
    std::optional<SnapshotInfo> last;
    Timestamp last_finished_at = 0;
  };
  Stats stats() const;

  // Keeps WAL segments holding records after `lsn`, and a snapshot at or
  // before it, until Release (a running backup's need, a change stream's
  // subscriber); holds nest. Thread-safe.
  void Hold(uint64_t lsn);
  void Release(uint64_t lsn);

  // Deletes old snapshots and covered segments, rewrites the MANIFEST.
  absl::Status Prune();

 private:
  FileIo& io_;
  const std::string data_dir_;
  const Uuid database_id_;
  const int keep_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  bool running_ = false;
  std::optional<absl::StatusOr<SnapshotInfo>> result_;
  std::multiset<uint64_t> holds_;
  Stats stats_;
  std::thread thread_;
};

}  // namespace vox

#endif  // VOXDB_WAL_CHECKPOINT_H_
