#include "wal/wal_sink.h"

#include "engine/txn.h"
#include "wal/change_codec.h"

namespace vox {

void WalCommitSink::OnCommit(const Txn& txn) {
  buffer_.clear();
  const bool migration = !txn.schema_change().empty();
  if (migration) {
    wal::EncodeSchemaChange(txn, &buffer_);
  } else {
    wal::EncodeTransaction(txn, &buffer_);
  }
  auto lsn = writer_.Append(buffer_, nullptr,
                            migration ? wal::RecordType::kSchemaChange : wal::RecordType::kTransaction);
  if (lsn.ok()) {
    last_lsn_ = *lsn;
    for (const RowChange& change : txn.changes()) {
      table_lsn_[static_cast<size_t>(change.table)] = *lsn;
    }
    if (migration) {
      // Every read may see the new schema: each waits for the migration.
      table_lsn_.fill(*lsn);
      writer_.set_schema_version(txn.db().schema_version());
    }
  } else {
    if (status_.ok()) status_ = lsn.status();
    // The log stopped: the transaction stays in memory but will never be
    // durable. A read of what it changed waits for an LSN the log never
    // acknowledges, so it gets the log's error, not data a restart loses.
    if (!writer_.status().ok()) {
      for (const RowChange& change : txn.changes()) {
        table_lsn_[static_cast<size_t>(change.table)] = UINT64_MAX;
      }
      if (migration) table_lsn_.fill(UINT64_MAX);
    }
  }
}

}  // namespace vox
