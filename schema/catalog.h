// Look-ups over the declared schema by name, and its self-check.
#ifndef VOXDB_SCHEMA_CATALOG_H_
#define VOXDB_SCHEMA_CATALOG_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "schema/tables.h"

namespace vox {

absl::StatusOr<TableId> FindTable(std::string_view name);
absl::StatusOr<ColumnId> FindColumn(TableId table, std::string_view name);
// The value of `name` in enum `id`; InvalidArgument listing the legal names.
absl::StatusOr<uint8_t> ParseEnumValue(EnumId id, std::string_view name);

// Names value `value` of enum `id` for EnumValueName (a migration added it).
void NameAddedEnumValue(EnumId id, size_t value, std::string_view name);
// `name`, stored once for the life of the process (never freed): for names
// read from other threads after what named them is gone (a dropped table,
// an undone enum value). Thread-safe.
const std::string* InternName(std::string_view name);

// Bits a column of `type` takes in an ordered index key (0: not indexable).
int OrderedKeyBits(ColumnType type);

// The first column with `flag` in `table`, if any (e.g. kDeletedAt).
std::optional<ColumnId> FindColumnWithFlag(TableId table, ColumnFlag flag);

// Checks the declarations for consistency: key widths fit, foreign keys that
// a hard delete walks are indexed, defaults fit their columns, names unique.
absl::Status ValidateSchema();

}  // namespace vox

#endif  // VOXDB_SCHEMA_CATALOG_H_
