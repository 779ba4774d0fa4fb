// Encodes a committed transaction as the WAL's logical record — the
// after-image of every row it changed, keyed by table, row id and primary
// key — and applies such a record to a database on replay. Replay writes
// rows; it never re-runs an operation, so it cannot diverge.
//
//   payload = | commit time i64 | change count u32 | change* |
//   change  = | table u8 | kind u8 (1 put, 2 delete) | row u32 | id 16 | image? |
//   image   = per column in schema order: | null u8 (nullable only) | value? |
//   value   = fixed-width bytes, or | length u32 | bytes | for strings and JSON
#ifndef VOXDB_WAL_CHANGE_CODEC_H_
#define VOXDB_WAL_CHANGE_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "engine/change_events.h"
#include "engine/database.h"
#include "engine/txn.h"
#include "wal/wal_format.h"

namespace vox::wal {

// Appends the encoding of `txn`'s changes to `out`. Call from
// CommitSink::OnCommit, before the transaction's deleted rows are released.
void EncodeTransaction(const Txn& txn, std::string* out);

// Applies an encoded transaction to `db`: every touched row is unindexed
// first and re-indexed last, so intermediate states cannot clash on unique
// keys. DataLoss (naming what) if the payload is malformed or does not fit
// the database — a put over a live row holding another id, a unique clash.
absl::Status ApplyTransaction(Database& db, std::string_view payload);

// A human-readable summary of an encoded transaction ("rooms put row 12
// 0190...; audit_logs put row 99 ..."), for the WAL dump tool, decoded
// with `schema`'s tables (a database at the record's schema version; its
// rows do not matter). Secret columns are never shown.
absl::StatusOr<std::string> DescribeTransaction(const Database& schema, std::string_view payload);

// A migration's record (RecordType::kSchemaChange):
//   | commit time i64 | text length u32 | canonical text | transaction |
// where the transaction holds the migration's audit row. Apply replays
// the migration (engine/ops/migration.h), then the transaction.
void EncodeSchemaChange(const Txn& txn, std::string* out);
absl::Status ApplySchemaChange(Database& db, std::string_view payload);

// Applies a record of either type. With `events`, also appends the change
// events of the record's transaction (engine/change_events.h), exactly as
// its commit produced them: one per row, after-images read once the whole
// record is applied, deleted rows routed before they are released.
absl::Status ApplyRecord(Database& db, RecordType type, std::string_view payload,
                         std::vector<ChangeEvent>* events = nullptr);

// DescribeTransaction for either type; a migration record also moves
// `schema` to its version, so that the records after it decode.
absl::StatusOr<std::string> DescribeRecord(Database& schema, RecordType type,
                                           std::string_view payload);

// The commit time (the transaction's "now") at the front of a payload (of
// either record type), or
// DataLoss for a payload too short to hold one.
absl::StatusOr<Timestamp> CommitTime(std::string_view payload);

}  // namespace vox::wal

#endif  // VOXDB_WAL_CHANGE_CODEC_H_
