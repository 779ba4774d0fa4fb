// Schema migrations: the schema carries a version (the built-in schema of
// schema/tables.h is version 1), and a migration is a declared, ordered list
// of steps that makes the next version (engine/internal/migration_text.h has
// the statements; docs/schema.md shows an operator how to write them).
//
// A migration applies online, on the engine thread, as one transaction:
// every step, then an audit row (SCHEMA_MIGRATED). Reads and writes wait
// only for the steps' own work (filling a new column's default, building an
// index). If any step fails nothing changes. The log keeps the migration
// and its audit row as one record (wal/change_codec.h), and snapshots keep
// every migration applied, so recovery rebuilds the same schema.
//
// What a step may do:
//   - add a column (nullable, or with a default every existing row gets),
//     an enum value, a table, an index; rename a column; widen a string's
//     length or an added int32 column to int64; make a column updatable by
//     UpdateRow or read-only;
//   - destructive, only with confirm_destructive (and audited as such):
//     narrow a type (refused while any value would not fit: VoxDB never
//     truncates), drop a column or a table a migration added.
// Built-in columns, tables and indexes are never dropped or retyped: the
// platform's operations rely on them.
#ifndef VOXDB_ENGINE_OPS_MIGRATION_H_
#define VOXDB_ENGINE_OPS_MIGRATION_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

struct MigrationOptions {
  bool confirm_destructive = false;  // allow steps that lose data
  bool dry_run = false;              // check and describe; change nothing
};

struct MigrationResult {
  uint32_t from_version = 0;
  uint32_t to_version = 0;
  bool applied = false;  // false for a dry run
  bool destructive = false;
  // Per step: the canonical statement, then what it did (or would do), e.g.
  // "add column users.headline string(2000) null: 1004 rows hold null".
  std::vector<std::string> changes;
  std::string text;  // the migration in canonical form
};

// Applies the migration in `text`. Errors name the line: InvalidArgument
// (the text), NotFound / AlreadyExists (names), FailedPrecondition (a version
// out of order, an unconfirmed destructive step, a built-in object, values
// that would not fit, inside a batch).
[[nodiscard]] absl::StatusOr<MigrationResult> ApplyMigration(Database& db, const OpContext& ctx,
                                                             std::string_view text,
                                                             const MigrationOptions& options);

// Applies a migration the log or a snapshot recorded (its canonical text),
// with no audit row and no confirmation: recovery. `now` is the time it was
// first applied (a `default now` column's fill). DataLoss if it does not
// apply to `db`.
[[nodiscard]] absl::Status ReplayMigration(Database& db, std::string_view text, Timestamp now);

// The schema as it stands, for `voxctl schema show`: the version, the
// migrations applied, then every table with its columns and indexes and
// every enum, marking what migrations added.
std::string DescribeSchema(const Database& db);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_MIGRATION_H_
