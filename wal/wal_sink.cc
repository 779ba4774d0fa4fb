#include "wal/wal_sink.h"

#include "engine/txn.h"
#include "wal/change_codec.h"

namespace vox {

void WalCommitSink::OnCommit(const Txn& txn) {
  buffer_.clear();
  wal::EncodeTransaction(txn, &buffer_);
  auto lsn = writer_.Append(buffer_);
  if (lsn.ok()) {
    last_lsn_ = *lsn;
    for (const RowChange& change : txn.changes()) {
      table_lsn_[static_cast<size_t>(change.table)] = *lsn;
    }
  } else if (status_.ok()) {
    status_ = lsn.status();
  }
}

}  // namespace vox
