// WalCommitSink connects the engine to the log: every committed transaction
// is encoded (change_codec.h) and appended, on the engine thread, in commit
// order. Install it with Database::set_commit_sink.
// Thread-compatible: the engine thread calls it.
#ifndef VOXDB_WAL_WAL_SINK_H_
#define VOXDB_WAL_WAL_SINK_H_

#include <algorithm>
#include <array>
#include <string>

#include "engine/database.h"
#include "wal/wal_writer.h"

namespace vox {

class WalCommitSink final : public CommitSink {
 public:
  // `writer` must outlive the sink.
  explicit WalCommitSink(WalWriter& writer) : writer_(writer) {}

  void OnCommit(const Txn& txn) override;

  // The LSN of the last transaction appended (0: none), and the first append
  // error (the log is then stopped: the caller must stop taking writes and
  // must not acknowledge the transaction that hit it).
  uint64_t last_lsn() const { return last_lsn_; }
  // The LSN of the last transaction appended that changed one of the
  // tables in `tables` (a bit per TableId; 0: none did). What a read of
  // those tables saw is durable once the log is durable up to here.
  uint64_t last_lsn_of(uint64_t tables) const {
    uint64_t lsn = 0;
    for (size_t t = 0; t < kMaxTables; ++t) {
      if (tables & (uint64_t{1} << t)) lsn = std::max(lsn, table_lsn_[t]);
    }
    return lsn;
  }
  const absl::Status& status() const { return status_; }

 private:
  WalWriter& writer_;
  std::string buffer_;
  uint64_t last_lsn_ = 0;
  std::array<uint64_t, kMaxTables> table_lsn_{};
  absl::Status status_;
};

}  // namespace vox

#endif  // VOXDB_WAL_WAL_SINK_H_
