// WalCommitSink connects the engine to the log: every committed transaction
// is encoded (change_codec.h) and appended, on the engine thread, in commit
// order. Install it with Database::set_commit_sink.
// Thread-compatible: the engine thread calls it.
#ifndef VOXDB_WAL_WAL_SINK_H_
#define VOXDB_WAL_WAL_SINK_H_

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
  const absl::Status& status() const { return status_; }

 private:
  WalWriter& writer_;
  std::string buffer_;
  uint64_t last_lsn_ = 0;
  absl::Status status_;
};

}  // namespace vox

#endif  // VOXDB_WAL_WAL_SINK_H_
