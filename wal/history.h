// Change history from the files: the events (engine/change_events.h) of the
// transactions after an LSN, rebuilt by replaying the log into a scratch
// database — the change streams' way to resume a subscriber from further
// back than the server's in-memory history (net/streams.h).
//
// It needs the state as of that LSN: the newest snapshot at or before it
// (or none, when the log still starts at LSN 1) and every WAL segment from
// there on. It reads a live data directory without writing to it (no
// repair, no pruning); the writer may append meanwhile.
#ifndef VOXDB_WAL_HISTORY_H_
#define VOXDB_WAL_HISTORY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/change_events.h"
#include "wal/file_io.h"

namespace vox {

// Where a replay from `after_lsn` starts: the snapshot (empty: none, the log
// from LSN 1) and its LSN.
struct HistorySource {
  std::string snapshot;
  uint64_t snapshot_lsn = 0;
};
// OUT_OF_RANGE, saying what is missing, when the files cannot give the
// transactions after `after_lsn`.
absl::StatusOr<HistorySource> FindHistorySource(FileIo& io, const std::string& data_dir,
                                                const Uuid& database_id, uint64_t after_lsn);

struct HistoryReplay {
  std::string data_dir;
  Uuid database_id;
  HistorySource source;
  uint64_t after_lsn = 0;    // events of transactions after this one
  uint64_t through_lsn = 0;  // up to and including this one
  // Called per transaction in (after_lsn, through_lsn], in LSN order.
  std::function<void(uint64_t lsn, Timestamp commit_time, std::vector<ChangeEvent> events)>
      on_events;
  // Checked between records: true stops the replay (CANCELLED).
  std::function<bool()> cancelled;
};
// Replays; DataLoss for damage, NotFound / OutOfRange when the log ends
// before `through_lsn`.
absl::Status ReplayHistory(FileIo& io, const HistoryReplay& replay);

}  // namespace vox

#endif  // VOXDB_WAL_HISTORY_H_
