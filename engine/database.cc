#include "engine/database.h"

#include "schema/catalog.h"

namespace vox {

Database::Database(DatabaseOptions options)
    : rng_(options.id_seed != 0 ? options.id_seed : std::random_device{}()) {
  for (const TableDef& def : kTables) {
    tables_[static_cast<size_t>(def.id)] = std::make_unique<Table>(def);
  }
  // Map kIndexes positions to the tables' index objects (which skip the
  // primary key at position 0 and follow kIndexes order).
  std::array<size_t, kTableCount> next{};
  next.fill(1);
  for (size_t i = 0; i < kIndexCount; ++i) {
    const size_t t = static_cast<size_t>(kIndexes[i].table);
    indexes_[i] = &tables_[t]->index(next[t]++);
  }
  for (const TableDef& def : kTables) {
    for (size_t c = 0; c < def.columns.size(); ++c) {
      const ColumnDef& col = def.columns[c];
      if (col.type != ColumnType::kRef ||
          GetTable(col.ref_table).delete_policy != DeletePolicy::kHard) {
        continue;
      }
      const RangeIndex* found = nullptr;
      for (size_t i = 0; i < kIndexCount; ++i) {
        if (kIndexes[i].table == def.id && kIndexes[i].kind != IndexKind::kUniqueHash &&
            kIndexes[i].parts[0].column == c) {
          found = &range(i);
          break;
        }
      }
      VOX_DCHECK(found != nullptr);  // ValidateSchema checks this
      referrers_[static_cast<size_t>(col.ref_table)].push_back(
          {def.id, static_cast<ColumnId>(c), col.on_delete, found});
    }
  }
}

Uuid Database::NewId(Timestamp now, RowId row) {
  const uint64_t ms = static_cast<uint64_t>(now / 1000);
  const uint64_t r1 = rng_(), r2 = rng_();
  Uuid u;
  u.hi = (ms << 16) | 0x7000 | (r1 & 0x0fff);  // version 7, 12 random bits
  // variant 10, 30 random bits, the row: 42 random bits in all.
  u.lo = 0x8000000000000000ULL | (r2 & 0x3fffffff00000000ULL) | row;
  return u;
}

std::vector<Table::Image> Database::Pin() const {
  std::vector<Table::Image> images;
  images.reserve(kTableCount);
  for (const auto& t : tables_) images.push_back(t->Pin());
  return images;
}

absl::Status Database::VerifyIndexes() const {
  for (const auto& t : tables_) {
    for (size_t i = 0; i < t->index_count(); ++i) VOX_RETURN_IF_ERROR(t->index(i).Verify());
  }
  return absl::OkStatus();
}

}  // namespace vox
