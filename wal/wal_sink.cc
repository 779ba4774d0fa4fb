#include "wal/wal_sink.h"

#include "wal/change_codec.h"

namespace vox {

void WalCommitSink::OnCommit(const Txn& txn) {
  buffer_.clear();
  wal::EncodeTransaction(txn, &buffer_);
  auto lsn = writer_.Append(buffer_);
  if (lsn.ok()) {
    last_lsn_ = *lsn;
  } else if (status_.ok()) {
    status_ = lsn.status();
  }
}

}  // namespace vox
