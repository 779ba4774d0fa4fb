// Generic access by primary key to every table: get, insert, update and
// delete, validated by the same schema rules as the platform's operations.
// They are administration tools: the typed operations (identity.h, rooms.h,
// ...) are how the platform changes data, and where a table's rows carry
// invariants that span rows (a room's counters, the ledger), generic insert
// is refused with the operation to use instead.
//
// Deletes follow each table's policy: soft for users (the seed's flow),
// rooms, recordings and notifications; hard, with cascades, for
// auth_providers, room_participants, call_sessions and room_categories;
// refused everywhere else, and audit_logs can never be changed at all.
#ifndef VOXDB_ENGINE_OPS_GENERIC_H_
#define VOXDB_ENGINE_OPS_GENERIC_H_

#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "engine/ops/context.h"

namespace vox {

// A value for a column named by the caller. Ref columns take the referenced
// row's uuid; enums take the value's name or number; timestamps take
// microseconds or RFC 3339 text; inet takes text; uuids take uuids or text.
struct NamedValue {
  std::string_view column;
  Value value;
};

// The row's JSON: uuids for refs, names for enums, RFC 3339 for times.
// Secret columns (password hashes, tokens) are left out unless asked for.
std::string RowToJson(const Database& db, TableId table, RowId row, bool include_secrets = false);

// NotFound if no live row has that id (a soft-deleted row is still found).
absl::StatusOr<RowId> GetRow(const Database& db, TableId table, const Uuid& id);

absl::StatusOr<Uuid> InsertRow(Database& db, const OpContext& ctx, TableId table,
                               std::span<const NamedValue> values);
absl::Status UpdateRow(Database& db, const OpContext& ctx, TableId table, const Uuid& id,
                       std::span<const NamedValue> values);
absl::Status DeleteRow(Database& db, const OpContext& ctx, TableId table, const Uuid& id);

}  // namespace vox

#endif  // VOXDB_ENGINE_OPS_GENERIC_H_
