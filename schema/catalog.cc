#include "schema/catalog.h"

#include <atomic>
#include <mutex>
#include <set>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "schema/str.h"
#include "schema/types.h"

namespace vox {
namespace {

// Names of enum values that migrations added, for display wherever a stored
// value is named without its Database at hand (error messages, reports).
// Append-only and process-wide: a slot, once named, keeps its name; a
// server process holds one database. Written by the engine thread, read by
// any thread.
using AddedNames = std::array<std::array<std::atomic<const std::string*>, 256>, kEnumCount>;
AddedNames& Added() {
  static auto* names = new AddedNames{};  // never destroyed: readers may outlive statics
  return *names;
}


}  // namespace

const std::string* InternName(std::string_view name) {
  static auto* mu = new std::mutex;
  static auto* names = new std::set<std::string, std::less<>>;
  std::lock_guard<std::mutex> lock(*mu);
  auto it = names->find(name);
  if (it == names->end()) it = names->emplace(name).first;
  return &*it;
}

std::string_view EnumValueName(EnumId id, size_t value) {
  const EnumDef& e = GetEnum(id);
  if (value < e.values.size()) return e.values[value];
  if (value < 256) {
    const std::string* added =
        Added()[static_cast<size_t>(id)][value].load(std::memory_order_acquire);
    if (added != nullptr) return *added;
  }
  static const auto* numbers = [] {
    auto* out = new std::array<std::string, 256>;
    for (size_t i = 0; i < out->size(); ++i) (*out)[i] = StrCat("#", i);
    return out;
  }();
  return (*numbers)[value & 0xff];
}

void NameAddedEnumValue(EnumId id, size_t value, std::string_view name) {
  VOX_DCHECK(value >= GetEnum(id).values.size() && value < 256);
  std::atomic<const std::string*>& slot = Added()[static_cast<size_t>(id)][value];
  const std::string* old = slot.load(std::memory_order_acquire);
  if (old != nullptr && *old == name) return;
  // Interned: a slot renamed (a migration applied, undone, and another
  // applied in its place) may still be read through the old pointer.
  slot.store(InternName(name), std::memory_order_release);
}

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kInt32:
      return "int32";
    case ColumnType::kInt64:
      return "int64";
    case ColumnType::kTimestamp:
      return "timestamp";
    case ColumnType::kEnum:
      return "enum";
    case ColumnType::kUuid:
      return "uuid";
    case ColumnType::kInet:
      return "inet";
    case ColumnType::kString:
      return "string";
    case ColumnType::kJson:
      return "json";
    case ColumnType::kRef:
      return "ref";
    case ColumnType::kTags:
      return "tags";
  }
  return "?";
}

absl::StatusOr<TableId> FindTable(std::string_view name) {
  for (const TableDef& t : kTables) {
    if (t.name == name) return t.id;
  }
  return absl::NotFoundError(StrCat("no table named '", name, "'"));
}

absl::StatusOr<ColumnId> FindColumn(TableId table, std::string_view name) {
  const TableDef& t = GetTable(table);
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i].name == name) return static_cast<ColumnId>(i);
  }
  return absl::NotFoundError(StrCat("table '", t.name, "' has no column '", name, "'"));
}

absl::StatusOr<uint8_t> ParseEnumValue(EnumId id, std::string_view name) {
  const EnumDef& e = GetEnum(id);
  for (size_t i = 0; i < e.values.size(); ++i) {
    if (e.values[i] == name) return static_cast<uint8_t>(i);
  }
  return absl::InvalidArgumentError(StrCat("'", name.substr(0, 64), "' is not a ", e.name,
                                           " (one of ", StrJoin(e.values, ", "), ")"));
}

int OrderedKeyBits(ColumnType type) {
  switch (type) {
    case ColumnType::kBool:
    case ColumnType::kEnum:
      return 8;
    case ColumnType::kInt32:
    case ColumnType::kRef:
      return 32;
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      return 64;
    case ColumnType::kTags:
      return 16;  // one key per tag
    default:
      return 0;
  }
}

std::optional<ColumnId> FindColumnWithFlag(TableId table, ColumnFlag flag) {
  const TableDef& t = GetTable(table);
  for (size_t i = 0; i < t.columns.size(); ++i) {
    if (t.columns[i].Has(flag)) return static_cast<ColumnId>(i);
  }
  return std::nullopt;
}

absl::Status ValidateSchema() {
  absl::flat_hash_set<std::string_view> index_names;
  for (const IndexDef& ix : kIndexes) {
    const TableDef& t = GetTable(ix.table);
    if (!index_names.insert(ix.name).second) {
      return absl::InternalError(StrCat("index name '", ix.name, "' used twice"));
    }
    if (ix.num_parts == 0) return absl::InternalError(StrCat(ix.name, ": no key"));
    int bits = 32;  // the row id
    int multi = 0;
    for (const KeyPart& p : ix.key()) {
      if (p.column >= t.columns.size()) {
        return absl::InternalError(StrCat(ix.name, ": column out of range"));
      }
      const ColumnDef& c = t.columns[p.column];
      if (c.type == ColumnType::kTags) ++multi;
      if (ix.kind != IndexKind::kUniqueHash) {
        int b = OrderedKeyBits(c.type);
        if (b == 0) {
          return absl::InternalError(
              StrCat(ix.name, ": column ", c.name, " cannot be in an ordered key"));
        }
        bits += b;
      } else if (c.type == ColumnType::kTags || c.type == ColumnType::kJson) {
        return absl::InternalError(StrCat(ix.name, ": ", c.name, " cannot be hashed"));
      }
    }
    if (bits > 128) return absl::InternalError(StrCat(ix.name, ": key wider than 128 bits"));
    if (ix.kind == IndexKind::kGrouped) {
      const ColumnType group = t.columns[ix.parts[0].column].type;
      if (OrderedKeyBits(group) > 32 || group == ColumnType::kTags || ix.parts[0].descending) {
        return absl::InternalError(StrCat(ix.name, ": a group must be an ascending 32-bit part"));
      }
      int sort_bits = 0;
      for (int i = 1; i < ix.num_parts; ++i) {
        sort_bits += OrderedKeyBits(t.columns[ix.parts[i].column].type);
        if (ix.parts[i].descending != ix.parts[1].descending) {
          return absl::InternalError(StrCat(ix.name, ": sort parts must share one direction"));
        }
      }
      if (sort_bits > 64) return absl::InternalError(StrCat(ix.name, ": sort key over 64 bits"));
    }
    if (multi > 1) return absl::InternalError(StrCat(ix.name, ": two multi-valued parts"));
    for (const Cond& c : ix.predicate()) {
      if (c.column >= t.columns.size()) {
        return absl::InternalError(StrCat(ix.name, ": predicate column out of range"));
      }
    }
  }
  for (const TableDef& t : kTables) {
    if (t.columns.empty() || !t.columns[0].Has(kPrimaryKey)) {
      return absl::InternalError(StrCat(t.name, ": first column must be the primary key"));
    }
    absl::flat_hash_set<std::string_view> names;
    for (size_t ci = 0; ci < t.columns.size(); ++ci) {
      const ColumnDef& c = t.columns[ci];
      if (!names.insert(c.name).second) {
        return absl::InternalError(StrCat(t.name, ".", c.name, " declared twice"));
      }
      if (c.default_kind == DefaultKind::kNone && !c.Has(kInput) && !c.Has(kPrimaryKey) &&
          t.insert_via.empty()) {
        return absl::InternalError(StrCat(t.name, ".", c.name, " is neither input nor defaulted"));
      }
      if (c.default_kind == DefaultKind::kInt &&
          (c.default_int < c.min_value || c.default_int > c.max_value)) {
        return absl::InternalError(StrCat(t.name, ".", c.name, ": default out of range"));
      }
      if (c.type != ColumnType::kRef) continue;
      // A hard-deletable target needs an index to find the rows that refer to it.
      if (GetTable(c.ref_table).delete_policy != DeletePolicy::kHard) continue;
      bool indexed = false;
      for (const IndexDef& ix : kIndexes) {
        if (ix.table == t.id && ix.kind != IndexKind::kUniqueHash && ix.num_parts > 0 &&
            ix.parts[0].column == ci && ix.num_conds <= 1 &&
            (ix.num_conds == 0 || ix.where[0].op == CondOp::kNotNull)) {
          indexed = true;
        }
      }
      if (!indexed) {
        return absl::InternalError(StrCat(t.name, ".", c.name, " refers to hard-deletable ",
                                          GetTable(c.ref_table).name,
                                          " but has no index leading with it"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace vox
