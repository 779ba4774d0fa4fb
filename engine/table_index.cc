#include "engine/table_index.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "engine/table.h"
#include "schema/catalog.h"
#include "schema/str.h"
#define XXH_INLINE_ALL
#include "xxhash.h"

namespace vox {
namespace {

inline uint64_t Mix(uint64_t h) {
  // murmur3's fmix64: every input bit affects every output bit.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t HashBytes(std::string_view s, bool folded) {
  if (!folded) return XXH3_64bits(s.data(), s.size());
  char buf[256];
  if (s.size() <= sizeof(buf)) {
    for (size_t i = 0; i < s.size(); ++i) buf[i] = absl::ascii_tolower(s[i]);
    return XXH3_64bits(buf, s.size());
  }
  XXH3_state_t state;
  XXH3_64bits_reset(&state);
  for (size_t at = 0; at < s.size(); at += sizeof(buf)) {
    const size_t n = std::min(sizeof(buf), s.size() - at);
    for (size_t i = 0; i < n; ++i) buf[i] = absl::ascii_tolower(s[at + i]);
    XXH3_64bits_update(&state, buf, n);
  }
  return XXH3_64bits_digest(&state);
}

bool IsStringType(ColumnType t) { return t == ColumnType::kString || t == ColumnType::kJson; }
bool IsUuidType(ColumnType t) { return t == ColumnType::kUuid || t == ColumnType::kInet; }

bool IsSignedKey(ColumnType t) {
  return t == ColumnType::kInt32 || t == ColumnType::kInt64 || t == ColumnType::kTimestamp;
}

// A column's value as an index key part: nulls sort first (kNullKey).
int64_t KeyValue(const Table& table, RowId row, ColumnId c) {
  if (!table.IsNull(row, c)) return table.GetInt(row, c);
  return IsSignedKey(table.def().columns[c].type) ? kNullKey : 0;
}

}  // namespace

std::unique_ptr<TableIndex> TableIndex::Create(const IndexDef& def, const Table& table) {
  switch (def.kind) {
    case IndexKind::kUniqueHash:
      return std::make_unique<HashTableIndex>(def, table);
    case IndexKind::kOrdered:
      return std::make_unique<OrderedTableIndex>(def, table);
    case IndexKind::kGrouped:
      return std::make_unique<GroupedTableIndex>(def, table);
  }
  return nullptr;
}

absl::Status TableIndex::BulkInsert(std::span<const RowId> rows) {
  for (RowId r : rows) {
    if (!Insert(r)) {
      return absl::AlreadyExistsError(StrCat(def_.name, ": row ", r, " repeats a unique key"));
    }
  }
  return absl::OkStatus();
}

bool TableIndex::Matches(RowId row) const {
  for (const Cond& c : def_.predicate()) {
    const bool null = table_.IsNull(row, c.column);
    switch (c.op) {
      case CondOp::kIsNull:
        if (!null) return false;
        break;
      case CondOp::kNotNull:
        if (null) return false;
        break;
      case CondOp::kEquals:
        if (null || table_.GetInt(row, c.column) != c.value) return false;
        break;
      case CondOp::kNotEquals:
        if (null || table_.GetInt(row, c.column) == c.value) return false;
        break;
    }
  }
  return true;
}

// ---- HashTableIndex -------------------------------------------------------------

HashTableIndex::HashTableIndex(const IndexDef& def, const Table& table)
    : TableIndex(def, table), access_{&def, &table}, index_(access_) {}

size_t HashTableIndex::Access::HashRow(RowId r) const {
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (const KeyPart& p : def->key()) {
    const ColumnType t = table->def().columns[p.column].type;
    uint64_t part;
    if (IsStringType(t)) {
      part = HashBytes(table->GetString(r, p.column), def->case_folded);
    } else if (IsUuidType(t)) {
      const Uuid u = table->GetUuid(r, p.column);
      part = Mix(u.hi) ^ u.lo;
    } else {
      part = static_cast<uint64_t>(table->GetInt(r, p.column));
    }
    h = Mix(h ^ part);
  }
  return h;
}

size_t HashTableIndex::Access::HashProbe(const Probe& key) const {
  VOX_DCHECK(key.size() == def->num_parts);
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (size_t i = 0; i < key.size(); ++i) {
    uint64_t part;
    switch (key[i].kind()) {
      case Value::Kind::kString:
        part = HashBytes(key[i].AsString(), def->case_folded);
        break;
      case Value::Kind::kUuid:
        part = Mix(key[i].AsUuid().hi) ^ key[i].AsUuid().lo;
        break;
      default:
        part = static_cast<uint64_t>(key[i].AsInt());
    }
    h = Mix(h ^ part);
  }
  return h;
}

bool HashTableIndex::Access::RowEqualsRow(RowId a, RowId b) const {
  for (const KeyPart& p : def->key()) {
    const ColumnType t = table->def().columns[p.column].type;
    if (IsStringType(t)) {
      const std::string_view x = table->GetString(a, p.column), y = table->GetString(b, p.column);
      if (def->case_folded ? !EqualsIgnoreCase(x, y) : x != y) return false;
    } else if (IsUuidType(t)) {
      if (table->GetUuid(a, p.column) != table->GetUuid(b, p.column)) return false;
    } else if (table->GetInt(a, p.column) != table->GetInt(b, p.column)) {
      return false;
    }
  }
  return true;
}

bool HashTableIndex::Access::RowEqualsProbe(RowId r, const Probe& key) const {
  for (size_t i = 0; i < key.size(); ++i) {
    const ColumnId c = def->parts[i].column;
    const ColumnType t = table->def().columns[c].type;
    if (IsStringType(t)) {
      if (key[i].kind() != Value::Kind::kString) return false;
      const std::string_view x = table->GetString(r, c);
      if (def->case_folded ? !EqualsIgnoreCase(x, key[i].AsString()) : x != key[i].AsString()) {
        return false;
      }
    } else if (IsUuidType(t)) {
      if (key[i].kind() != Value::Kind::kUuid || table->GetUuid(r, c) != key[i].AsUuid()) {
        return false;
      }
    } else if (key[i].kind() != Value::Kind::kInt || table->GetInt(r, c) != key[i].AsInt()) {
      return false;
    }
  }
  return true;
}

bool HashTableIndex::Indexed(RowId row) const {
  if (skip_self_located_ && SelfLocated(table_.id(row), row)) return false;
  return Matches(row);
}

RowId HashTableIndex::Conflict(RowId row) const {
  if (!Matches(row)) return kNoRow;
  const RowId other = index_.FindConflict(row);
  return other == row ? kNoRow : other;
}

bool HashTableIndex::Insert(RowId row) {
  if (!Indexed(row)) return true;
  return index_.Insert(row);
}

void HashTableIndex::Erase(RowId row) {
  if (Indexed(row)) index_.Erase(row);
}

absl::Status HashTableIndex::BulkInsert(std::span<const RowId> rows) {
  index_.Reserve(index_.size() + rows.size());
  return TableIndex::BulkInsert(rows);
}

absl::Status HashTableIndex::Verify() const {
  size_t expected = 0;
  for (RowId r = 0; r < table_.row_count(); ++r) {
    if (!table_.IsLive(r) || !Indexed(r)) continue;
    ++expected;
    if (index_.FindConflict(r) != r) {
      return absl::InternalError(
          StrCat(table_.name(), ".", def_.name, ": row ", r, " is missing from the index"));
    }
  }
  if (expected != index_.size()) {
    return absl::InternalError(StrCat(table_.name(), ".", def_.name, ": index has ", index_.size(),
                                      " rows, scan finds ", expected));
  }
  return absl::OkStatus();
}

// ---- OrderedTableIndex ----------------------------------------------------------

OrderedTableIndex::OrderedTableIndex(const IndexDef& def, const Table& table)
    : RangeIndex(def, table), row_descending_(def.parts[def.num_parts - 1].descending) {
  for (size_t i = 0; i < def.num_parts; ++i) {
    const ColumnType t = table.def().columns[def.parts[i].column].type;
    parts_[i] = {def.parts[i].column, static_cast<uint8_t>(OrderedKeyBits(t)), IsSignedKey(t),
                 def.parts[i].descending};
    if (t == ColumnType::kTags) tag_part_ = static_cast<int>(i);
  }
}

KeyPacker& OrderedTableIndex::AddPart(KeyPacker& p, size_t part, int64_t value) const {
  const Part& pi = parts_[part];
  if (pi.is_signed) return p.AddSigned(value, pi.bits, pi.descending);
  return p.AddUnsigned(static_cast<uint64_t>(value), pi.bits, pi.descending);
}

template <typename Fn>
void OrderedTableIndex::ForEachKey(RowId row, Fn&& fn) const {
  // At most one part is a tags column: one key per tag in it.
  uint16_t tags[kMaxTagsPerRoom];
  int tag_count = 1;
  if (tag_part_ >= 0) tag_count = UnpackTags(table_.GetInt(row, parts_[tag_part_].column), tags);
  for (int t = 0; t < tag_count; ++t) {
    KeyPacker p;
    for (int i = 0; i < def_.num_parts; ++i) {
      AddPart(p, i, i == tag_part_ ? tags[t] : KeyValue(table_, row, parts_[i].column));
    }
    fn(p.Finish(EncodedRow(row)));
  }
}

std::pair<IndexKey, IndexKey> OrderedTableIndex::PrefixRange(
    std::initializer_list<int64_t> prefix) const {
  VOX_DCHECK(prefix.size() <= def_.num_parts);
  KeyPacker p;
  size_t i = 0;
  for (int64_t v : prefix) AddPart(p, i++, v);
  return {p.Low(), p.High()};
}

IndexKey OrderedTableIndex::KeyFor(std::initializer_list<int64_t> parts, RowId row) const {
  VOX_DCHECK(parts.size() == def_.num_parts);
  KeyPacker p;
  size_t i = 0;
  for (int64_t v : parts) AddPart(p, i++, v);
  return p.Finish(EncodedRow(row));
}

bool OrderedTableIndex::Insert(RowId row) {
  if (!Matches(row)) return true;
  ForEachKey(row, [&](IndexKey k) { tree_.Insert(k); });
  return true;
}

void OrderedTableIndex::Erase(RowId row) {
  if (!Matches(row)) return;
  ForEachKey(row, [&](IndexKey k) { tree_.Erase(k); });
}

absl::Status OrderedTableIndex::BulkInsert(std::span<const RowId> rows) {
  if (tree_.size() != 0) return TableIndex::BulkInsert(rows);
  std::vector<IndexKey> keys;
  keys.reserve(rows.size());
  for (RowId r : rows) {
    if (Matches(r)) ForEachKey(r, [&](IndexKey k) { keys.push_back(k); });
  }
  std::sort(keys.begin(), keys.end());
  tree_.AppendSorted(keys);  // sorted appends: no random descents
  return absl::OkStatus();
}

absl::Status OrderedTableIndex::Verify() const {
  std::vector<IndexKey> expected;
  for (RowId r = 0; r < table_.row_count(); ++r) {
    if (!table_.IsLive(r) || !Matches(r)) continue;
    ForEachKey(r, [&](IndexKey k) { expected.push_back(k); });
  }
  std::sort(expected.begin(), expected.end());
  if (expected.size() != tree_.size() ||
      !std::equal(expected.begin(), expected.end(), tree_.begin())) {
    return absl::InternalError(StrCat(table_.name(), ".", def_.name, ": index has ", tree_.size(),
                                      " keys, scan gives ", expected.size(),
                                      expected.size() == tree_.size() ? " (different)" : ""));
  }
  return absl::OkStatus();
}

// ---- GroupedTableIndex ----------------------------------------------------------

GroupedTableIndex::GroupedTableIndex(const IndexDef& def, const Table& table)
    : RangeIndex(def, table), descending_(def.num_parts > 1 && def.parts[1].descending) {}

uint32_t GroupedTableIndex::GroupOf(RowId row) const {
  return static_cast<uint32_t>(table_.GetInt(row, def_.parts[0].column));
}

uint64_t GroupedTableIndex::PackSort(const int64_t* values, size_t count, int* used) const {
  // Parts packed from the top bit down, signed values offset to sort unsigned.
  uint64_t key = 0;
  *used = 0;
  for (size_t i = 0; i < count; ++i) {
    const ColumnType t = table_.def().columns[def_.parts[i + 1].column].type;
    const int bits = OrderedKeyBits(t);
    uint64_t v = static_cast<uint64_t>(values[i]);
    if (IsSignedKey(t)) v ^= uint64_t{1} << (bits - 1);
    if (bits < 64) v &= (uint64_t{1} << bits) - 1;
    *used += bits;
    key |= v << (64 - *used);
  }
  return key;
}

uint64_t GroupedTableIndex::SortKey(RowId row) const {
  int64_t values[kMaxKeyParts];
  const size_t n = def_.num_parts - 1;
  for (size_t i = 0; i < n; ++i) values[i] = KeyValue(table_, row, def_.parts[i + 1].column);
  int used;
  return PackSort(values, n, &used);
}

size_t GroupedTableIndex::ScanPrefix(std::initializer_list<int64_t> prefix,
                                     absl::FunctionRef<bool(RowId)> fn) const {
  VOX_DCHECK(prefix.size() >= 1 && prefix.size() <= def_.num_parts);
  if (prefix.size() == 1) return ScanGroup(*prefix.begin(), std::nullopt, fn);
  int used;
  const uint64_t low = PackSort(prefix.begin() + 1, prefix.size() - 1, &used);
  const uint64_t high = used == 64 ? low : low | ((uint64_t{1} << (64 - used)) - 1);
  const std::span<const GroupEntry> entries = Group(*prefix.begin());
  const size_t begin =
      std::lower_bound(entries.begin(), entries.end(), GroupEntry::Make(low, 0)) - entries.begin();
  const size_t end =
      std::upper_bound(entries.begin(), entries.end(), GroupEntry::Make(high, UINT32_MAX)) -
      entries.begin();
  size_t n = 0;
  for (size_t k = 0; k < end - begin; ++k) {
    ++n;
    if (!fn(entries[descending_ ? end - 1 - k : begin + k].row)) break;
  }
  return n;
}

size_t GroupedTableIndex::ScanGroup(int64_t group, std::optional<GroupEntry> after,
                                    absl::FunctionRef<bool(RowId)> fn) const {
  const std::span<const GroupEntry> entries = index_.Group(static_cast<uint32_t>(group));
  size_t n = 0;
  if (descending_) {
    // Newest first: walk back from the end, or from just before `after`.
    size_t end = entries.size();
    if (after) end = std::lower_bound(entries.begin(), entries.end(), *after) - entries.begin();
    for (size_t i = end; i-- > 0;) {
      ++n;
      if (!fn(entries[i].row)) break;
    }
  } else {
    size_t begin = 0;
    if (after) begin = std::upper_bound(entries.begin(), entries.end(), *after) - entries.begin();
    for (size_t i = begin; i < entries.size(); ++i) {
      ++n;
      if (!fn(entries[i].row)) break;
    }
  }
  return n;
}

bool GroupedTableIndex::Insert(RowId row) {
  if (Matches(row)) index_.Insert(GroupOf(row), EntryOf(row));
  return true;
}

void GroupedTableIndex::Erase(RowId row) {
  if (Matches(row)) index_.Erase(GroupOf(row), EntryOf(row));
}

absl::Status GroupedTableIndex::BulkInsert(std::span<const RowId> rows) {
  if (index_.size() != 0) return TableIndex::BulkInsert(rows);
  std::vector<std::pair<uint32_t, GroupEntry>> entries;
  entries.reserve(rows.size());
  for (RowId r : rows) {
    if (Matches(r)) entries.emplace_back(GroupOf(r), EntryOf(r));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  });
  index_.LoadSorted(entries);
  return absl::OkStatus();
}

absl::Status GroupedTableIndex::Verify() const {
  std::vector<std::pair<uint32_t, GroupEntry>> expected, actual;
  for (RowId r = 0; r < table_.row_count(); ++r) {
    if (table_.IsLive(r) && Matches(r)) expected.emplace_back(GroupOf(r), EntryOf(r));
  }
  index_.ForEach([&](uint32_t g, const GroupEntry& e) { actual.emplace_back(g, e); });
  auto less = [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second < b.second;
  };
  std::sort(expected.begin(), expected.end(), less);
  std::sort(actual.begin(), actual.end(), less);
  if (expected != actual) {
    return absl::InternalError(StrCat(table_.name(), ".", def_.name, ": index has ", actual.size(),
                                      " entries, scan gives ", expected.size(),
                                      expected.size() == actual.size() ? " (different)" : ""));
  }
  return absl::OkStatus();
}

}  // namespace vox
