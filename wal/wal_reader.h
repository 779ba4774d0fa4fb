// Reads the write-ahead log back: every segment in LSN order, every record
// checked (header hash, payload hash, database tag, LSN continuity, the hash
// chain) before it is trusted.
//
// Where the log ends:
//   - unwritten (zero) space or a damaged record with nothing valid after it
//     is a torn tail: the log ends at the last good record; with `repair`
//     the damaged bytes are zeroed on disk (and synced) and reported;
//   - damage followed by valid records is corruption: DataLoss naming the
//     segment and offset — unless the mode is kStopAtLastGood, an operator's
//     explicit choice, which ends the log at the damage and sets every later
//     segment aside (renamed *.discarded).
// A missing segment (an LSN gap) or a segment of another database is
// corruption too.
#ifndef VOXDB_WAL_WAL_READER_H_
#define VOXDB_WAL_WAL_READER_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "schema/types.h"
#include "wal/file_io.h"
#include "wal/wal_writer.h"

namespace vox {

enum class RecoveryMode { kStrict, kStopAtLastGood };

struct WalRecord {
  uint64_t lsn;
  std::string_view payload;  // valid during the callback
  wal::RecordType type;
  const std::string* segment;
  uint64_t offset;
};

struct WalScan {
  uint64_t records = 0;  // valid records read (all of them, not just those passed on)
  uint64_t first_lsn = 0;
  uint64_t last_lsn = 0;  // 0: an empty log
  WalTail tail;           // where a writer continues
  bool torn_tail = false;
  std::string torn_detail;  // e.g. "00000000000000000001.wal at 4096: payload hash mismatch"
  uint64_t discarded_segments = 0;
};

struct WalScanOptions {
  RecoveryMode mode = RecoveryMode::kStrict;
  bool repair = true;  // zero a torn tail on disk; false: only report (dump tools)
  // Records with lsn <= after_lsn are checked but not passed on.
  uint64_t after_lsn = 0;
};

// Scans the log in `dir` of database `database_id`; calls `fn` for every
// valid record after options.after_lsn, in LSN order; an error from `fn`
// stops the scan and is returned. An empty or missing directory is an empty
// log. Segment files are fsync'd before they are read.
absl::StatusOr<WalScan> ScanWal(FileIo& io, const std::string& dir, const Uuid& database_id,
                                const WalScanOptions& options,
                                const std::function<absl::Status(const WalRecord&)>& fn);

}  // namespace vox

#endif  // VOXDB_WAL_WAL_READER_H_
