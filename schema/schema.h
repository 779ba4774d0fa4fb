// The vocabulary in which VoxDB's tables are declared: column types, column
// and index definitions, and the per-table policies (deletion, generic
// writes). The definitions themselves live in tables.h; everything else —
// storage, validation, indexes, and later the snapshot and wire formats — is
// driven from them.
//
// Everything here is constexpr data: no allocation, no registration order.
#ifndef VOXDB_SCHEMA_SCHEMA_H_
#define VOXDB_SCHEMA_SCHEMA_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace vox {

using ColumnId = uint16_t;

// The version of the built-in schema (schema/tables.h): a database starts at
// it, and every migration applied (engine/migration.h) adds one. Snapshots
// and WAL segments record the version they were written with.
inline constexpr uint32_t kSchemaVersion = 1;

// Tables a database can hold: the built-in ones and those migrations add.
inline constexpr size_t kMaxTables = 64;

enum class ColumnType : uint8_t {
  kBool,       // 1 byte, 0 or 1
  kInt32,      // 4 bytes
  kInt64,      // 8 bytes
  kTimestamp,  // 8 bytes, microseconds since epoch
  kEnum,       // 1 byte, an index into the column's EnumDef
  kUuid,       // 16 bytes
  kInet,       // 16 bytes, IPv4 mapped into IPv6
  kString,     // 8 bytes: reference into the column's string heap
  kJson,       // as kString; validated as a JSON object or array
  kRef,        // 4 bytes: RowId of a row in another table (uuid on the wire)
  kTags,       // 8 bytes: up to 4 tag ids of 16 bits each (0 = empty slot)
};

// Bytes a value of `type` takes in its column array.
constexpr uint8_t ColumnWidth(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
    case ColumnType::kEnum:
      return 1;
    case ColumnType::kInt32:
    case ColumnType::kRef:
      return 4;
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
    case ColumnType::kString:
    case ColumnType::kJson:
    case ColumnType::kTags:
      return 8;
    case ColumnType::kUuid:
    case ColumnType::kInet:
      return 16;
  }
  return 0;
}

std::string_view ColumnTypeName(ColumnType type);

inline constexpr int kMaxTagsPerRoom = 4;

// ---- Enums ------------------------------------------------------------------

namespace schema_internal {

constexpr size_t CountNames(std::string_view list) {
  size_t n = list.empty() ? 0 : 1;
  for (char c : list) n += (c == ',');
  return n;
}

template <size_t N>
constexpr std::array<std::string_view, N> SplitNames(std::string_view list) {
  std::array<std::string_view, N> out{};
  size_t i = 0;
  while (i < N) {
    while (!list.empty() && (list.front() == ' ' || list.front() == '\n')) list.remove_prefix(1);
    size_t end = list.find(',');
    std::string_view name = list.substr(0, end);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\n')) name.remove_suffix(1);
    out[i++] = name;
    if (end == std::string_view::npos) break;
    list.remove_prefix(end + 1);
  }
  return out;
}

}  // namespace schema_internal

// A named enum type: the wire and text names of its values, in value order.
struct EnumDef {
  std::string_view name;
  std::span<const std::string_view> values;
};

// ---- Columns ----------------------------------------------------------------

enum class TableId : uint8_t;
enum class EnumId : uint8_t;

// What happens to rows referencing a row that is hard-deleted.
enum class OnDelete : uint8_t { kRestrict, kCascade, kSetNull };

enum ColumnFlag : uint16_t {
  kNullable = 1 << 0,
  kPrimaryKey = 1 << 1,  // the row's uuid; assigned (UUIDv7) when not given
  kSecret = 1 << 2,      // never printed or returned unless asked for
  kInput = 1 << 3,       // a generic insert may set it
  kUpdatable = 1 << 4,   // a generic update may change it
  kDeletedAt = 1 << 5,   // the soft-delete marker
  kCreatedAt = 1 << 6,   // set to "now" on insert
  kUpdatedAt = 1 << 7,   // set to "now" on insert and on every update
};

enum class DefaultKind : uint8_t { kNone, kNull, kInt, kString, kNow };

struct ColumnDef {
  std::string_view name;
  ColumnType type = ColumnType::kBool;
  uint16_t flags = 0;
  EnumId enum_id{};
  TableId ref_table{};
  OnDelete on_delete = OnDelete::kRestrict;
  uint32_t max_length = 0;  // strings: bytes
  int64_t min_value = INT64_MIN;
  int64_t max_value = INT64_MAX;
  DefaultKind default_kind = DefaultKind::kNone;
  int64_t default_int = 0;
  std::string_view default_string;

  constexpr bool Has(ColumnFlag f) const { return (flags & f) != 0; }
  constexpr bool nullable() const { return Has(kNullable); }

  constexpr ColumnDef Named(std::string_view n) const {
    auto c = *this;
    c.name = n;
    return c;
  }
  constexpr ColumnDef With(uint16_t f) const {
    auto c = *this;
    c.flags |= f;
    return c;
  }
  constexpr ColumnDef Nullable() const {
    auto c = With(kNullable);
    if (c.default_kind == DefaultKind::kNone) c.default_kind = DefaultKind::kNull;
    return c;
  }
  constexpr ColumnDef Input() const { return With(kInput); }
  constexpr ColumnDef Updatable() const { return With(kInput | kUpdatable); }
  constexpr ColumnDef Secret() const { return With(kSecret); }
  constexpr ColumnDef Default(int64_t v) const {
    auto c = *this;
    c.default_kind = DefaultKind::kInt;
    c.default_int = v;
    return c;
  }
  constexpr ColumnDef DefaultString(std::string_view v) const {
    auto c = *this;
    c.default_kind = DefaultKind::kString;
    c.default_string = v;
    return c;
  }
  constexpr ColumnDef DefaultNow() const {
    auto c = *this;
    c.default_kind = DefaultKind::kNow;
    return c;
  }
  constexpr ColumnDef Range(int64_t lo, int64_t hi) const {
    auto c = *this;
    c.min_value = lo;
    c.max_value = hi;
    return c;
  }
  constexpr ColumnDef OnDeleteOf(OnDelete d) const {
    auto c = *this;
    c.on_delete = d;
    return c;
  }
};

constexpr ColumnDef BoolCol() { return {.type = ColumnType::kBool}; }
constexpr ColumnDef Int32Col() {
  return {.type = ColumnType::kInt32, .min_value = INT32_MIN, .max_value = INT32_MAX};
}
constexpr ColumnDef Int64Col() { return {.type = ColumnType::kInt64}; }
// INT64_MIN is kept out of timestamp columns: it is how a null timestamp
// sorts in an index key (kNullKey).
constexpr ColumnDef TimestampCol() {
  return {.type = ColumnType::kTimestamp, .min_value = INT64_MIN + 1};
}
constexpr ColumnDef UuidCol() { return {.type = ColumnType::kUuid}; }
constexpr ColumnDef InetCol() { return {.type = ColumnType::kInet}; }
constexpr ColumnDef StringCol(uint32_t max_length) {
  return {.type = ColumnType::kString, .max_length = max_length};
}
constexpr ColumnDef JsonCol(uint32_t max_length) {
  return {.type = ColumnType::kJson, .max_length = max_length};
}
constexpr ColumnDef EnumCol(EnumId e) { return {.type = ColumnType::kEnum, .enum_id = e}; }
constexpr ColumnDef RefCol(TableId t) { return {.type = ColumnType::kRef, .ref_table = t}; }
constexpr ColumnDef TagsCol() { return {.type = ColumnType::kTags}; }
constexpr ColumnDef PrimaryKeyCol() { return UuidCol().With(kPrimaryKey); }
constexpr ColumnDef CreatedAtCol() { return TimestampCol().With(kCreatedAt).DefaultNow(); }
constexpr ColumnDef UpdatedAtCol() { return TimestampCol().With(kUpdatedAt).DefaultNow(); }
constexpr ColumnDef DeletedAtCol() { return TimestampCol().Nullable().With(kDeletedAt); }

// ---- Indexes ----------------------------------------------------------------

enum class IndexKind : uint8_t {
  kUniqueHash,  // point lookups on a unique key (strings may be case-folded)
  kOrdered,     // B-tree over a packed composite key + row id: ranges, order
  kGrouped,     // per parent (the first part): its rows sorted by the rest
};

enum class CondOp : uint8_t { kIsNull, kNotNull, kEquals, kNotEquals };

// One conjunct of a partial index's predicate: `column op value`.
struct Cond {
  ColumnId column = 0;
  CondOp op = CondOp::kNotNull;
  int64_t value = 0;
};

struct KeyPart {
  ColumnId column = 0;
  bool descending = false;
};

inline constexpr int kMaxKeyParts = 4;

// A null value in an ordered or grouped index key sorts as this value: first
// in ascending order. Pass it in a scan prefix to select the nulls.
inline constexpr int64_t kNullKey = INT64_MIN;
inline constexpr int kMaxConds = 4;

struct IndexDef {
  std::string_view name;
  TableId table{};
  IndexKind kind = IndexKind::kOrdered;
  std::array<KeyPart, kMaxKeyParts> parts{};
  uint8_t num_parts = 0;
  std::array<Cond, kMaxConds> where{};
  uint8_t num_conds = 0;
  bool case_folded = false;  // hash indexes: ASCII case-insensitive strings

  std::span<const KeyPart> key() const { return {parts.data(), num_parts}; }
  std::span<const Cond> predicate() const { return {where.data(), num_conds}; }

  constexpr IndexDef On(ColumnId c) const {
    auto d = *this;
    d.parts[d.num_parts++] = {c, false};
    return d;
  }
  constexpr IndexDef Desc(ColumnId c) const {
    auto d = *this;
    d.parts[d.num_parts++] = {c, true};
    return d;
  }
  constexpr IndexDef Folded() const {
    auto d = *this;
    d.case_folded = true;
    return d;
  }
  constexpr IndexDef Where(Cond c) const {
    auto d = *this;
    d.where[d.num_conds++] = c;
    return d;
  }
};

constexpr IndexDef UniqueHash(TableId t, std::string_view name) {
  return {.name = name, .table = t, .kind = IndexKind::kUniqueHash};
}
constexpr IndexDef Ordered(TableId t, std::string_view name) {
  return {.name = name, .table = t, .kind = IndexKind::kOrdered};
}
// The first key part (32 bits at most) names the group; the rest (64 bits at
// most, all in one direction) orders the group's rows.
constexpr IndexDef Grouped(TableId t, std::string_view name) {
  return {.name = name, .table = t, .kind = IndexKind::kGrouped};
}
constexpr Cond IsNull(ColumnId c) { return {c, CondOp::kIsNull, 0}; }
constexpr Cond NotNull(ColumnId c) { return {c, CondOp::kNotNull, 0}; }
template <typename V>
constexpr Cond Equals(ColumnId c, V v) {
  return {c, CondOp::kEquals, static_cast<int64_t>(v)};
}
template <typename V>
constexpr Cond NotEquals(ColumnId c, V v) {
  return {c, CondOp::kNotEquals, static_cast<int64_t>(v)};
}

// ---- Tables -----------------------------------------------------------------

enum class DeletePolicy : uint8_t {
  kSoft,  // delete sets deleted_at; the row stays
  kHard,  // delete removes the row, cascading along foreign keys
  kNone,  // no delete path
};

struct TableDef {
  std::string_view name;
  TableId id{};
  std::span<const ColumnDef> columns;
  DeletePolicy delete_policy = DeletePolicy::kNone;
  bool immutable = false;  // no update path at all (audit_logs)
  // Non-empty when a generic insert is refused: the operation to use instead.
  std::string_view insert_via;
};

}  // namespace vox

#endif  // VOXDB_SCHEMA_SCHEMA_H_
