#include "engine/database.h"

#include "schema/catalog.h"
#include "schema/str.h"

namespace vox {

Database::Database(DatabaseOptions options)
    : rng_(options.id_seed != 0 ? options.id_seed : std::random_device{}()) {
  tables_.reserve(kMaxTables);
  for (const TableDef& def : kTables) tables_.push_back(std::make_unique<Table>(def));
  // Map kIndexes positions to the tables' index objects (which skip the
  // primary key at position 0 and follow kIndexes order).
  std::array<size_t, kTableCount> next{};
  next.fill(1);
  for (size_t i = 0; i < kIndexCount; ++i) {
    const size_t t = static_cast<size_t>(kIndexes[i].table);
    indexes_[i] = &tables_[t]->index(next[t]++);
  }
  RefreshReferrers();
}

void Database::RefreshReferrers() {
  referrers_.assign(tables_.size(), {});
  for (const auto& table : tables_) {
    const TableDef& def = table->def();
    for (size_t c = 0; c < def.columns.size(); ++c) {
      const ColumnDef& col = def.columns[c];
      if (col.type != ColumnType::kRef ||
          tables_[static_cast<size_t>(col.ref_table)]->def().delete_policy !=
              DeletePolicy::kHard) {
        continue;
      }
      const RangeIndex* found = nullptr;
      for (size_t i = 1; i < table->index_count(); ++i) {
        const IndexDef& ix = table->index(i).def();
        if (ix.kind != IndexKind::kUniqueHash && ix.parts[0].column == c) {
          found = static_cast<const RangeIndex*>(&table->index(i));
          break;
        }
      }
      // ValidateSchema checks that every built-in one has an index.
      VOX_DCHECK(found != nullptr || static_cast<size_t>(def.id) >= kTableCount ||
                 c >= GetTable(def.id).columns.size());
      referrers_[static_cast<size_t>(col.ref_table)].push_back(
          {def.id, static_cast<ColumnId>(c), col.on_delete, found});
    }
  }
}

absl::StatusOr<TableId> Database::FindTable(std::string_view name) const {
  for (const auto& t : tables_) {
    if (t->name() == name) return t->id();
  }
  return absl::NotFoundError(StrCat("no table named '", name.substr(0, 64), "'"));
}

absl::StatusOr<ColumnId> Database::FindColumn(TableId t, std::string_view name) const {
  const TableDef& def = table(t).def();
  for (size_t i = 0; i < def.columns.size(); ++i) {
    if (def.columns[i].name == name) return static_cast<ColumnId>(i);
  }
  return absl::NotFoundError(
      StrCat("table '", def.name, "' has no column '", name.substr(0, 64), "'"));
}

absl::StatusOr<uint8_t> Database::ParseEnum(EnumId e, std::string_view name) const {
  const size_t n = enum_size(e);
  std::vector<std::string_view> all;
  for (size_t i = 0; i < n; ++i) {
    const std::string_view v = EnumValueName(e, i);
    if (v == name) return static_cast<uint8_t>(i);
    all.push_back(v);
  }
  return absl::InvalidArgumentError(StrCat("'", name.substr(0, 64), "' is not a ", GetEnum(e).name,
                                           " (one of ", StrJoin(all, ", "), ")"));
}

void Database::AddEnumValue(EnumId e, std::string_view name) {
  std::vector<std::string_view>& added = added_values_[static_cast<size_t>(e)];
  const std::string_view kept = Intern(name);
  NameAddedEnumValue(e, GetEnum(e).values.size() + added.size(), kept);
  added.push_back(kept);
}

TableId Database::AddTable(const TableDef& def) {
  VOX_DCHECK(tables_.size() < kMaxTables);
  TableDef d = def;
  d.id = static_cast<TableId>(tables_.size());
  tables_.push_back(std::make_unique<Table>(d));
  RefreshReferrers();
  return d.id;
}

std::unique_ptr<Table> Database::PopTable() {
  VOX_DCHECK(tables_.size() > kTableCount);
  std::unique_ptr<Table> out = std::move(tables_.back());
  tables_.pop_back();
  RefreshReferrers();
  return out;
}

std::unique_ptr<Table> Database::TakeTable(TableId t) {
  const size_t at = static_cast<size_t>(t);
  VOX_DCHECK(at >= kTableCount && at < tables_.size());
  std::unique_ptr<Table> out = std::move(tables_[at]);
  tables_.erase(tables_.begin() + at);
  for (size_t i = at; i < tables_.size(); ++i) tables_[i]->set_id(static_cast<TableId>(i));
  // Foreign keys into the tables after it now name them one lower.
  for (const auto& table : tables_) {
    for (ColumnId c = 0; c < table->def().columns.size(); ++c) {
      ColumnDef col = table->def().columns[c];
      if (col.type != ColumnType::kRef || static_cast<size_t>(col.ref_table) <= at) continue;
      col.ref_table = static_cast<TableId>(static_cast<size_t>(col.ref_table) - 1);
      table->SetColumnDef(c, col);
    }
  }
  RefreshReferrers();
  return out;
}

void Database::PutBackTable(TableId t, std::unique_ptr<Table> table) {
  const size_t at = static_cast<size_t>(t);
  for (const auto& other : tables_) {
    for (ColumnId c = 0; c < other->def().columns.size(); ++c) {
      ColumnDef col = other->def().columns[c];
      if (col.type != ColumnType::kRef || static_cast<size_t>(col.ref_table) < at) continue;
      col.ref_table = static_cast<TableId>(static_cast<size_t>(col.ref_table) + 1);
      other->SetColumnDef(c, col);
    }
  }
  tables_.insert(tables_.begin() + at, std::move(table));
  for (size_t i = at; i < tables_.size(); ++i) tables_[i]->set_id(static_cast<TableId>(i));
  RefreshReferrers();
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
  images.reserve(tables_.size());
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
