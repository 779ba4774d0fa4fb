#include "engine/table.h"

#include <algorithm>
#include <cstring>

#include "schema/str.h"

namespace vox {
namespace {

constexpr ColumnDef kLiveColumn = BoolCol().Named("_live");

}  // namespace

Table::Table(const TableDef& def)
    : def_(def), column_defs_(def.columns.begin(), def.columns.end()), live_(kLiveColumn) {
  columns_.reserve(column_defs_.size());
  for (const ColumnDef& c : column_defs_) columns_.emplace_back(c);

  primary_def_ = std::make_unique<IndexDef>(UniqueHash(def.id, "primary key").On(0));
  indexes_.push_back(TableIndex::Create(*primary_def_, *this));
  primary_ = static_cast<HashTableIndex*>(indexes_[0].get());
  primary_->SkipSelfLocated();
  if (static_cast<size_t>(def.id) < kTableCount) {
    for (const IndexDef& ix : kIndexes) {
      if (ix.table == def.id) indexes_.push_back(TableIndex::Create(ix, *this));
    }
  }
  builtin_indexes_ = indexes_.size();
  Refresh();
}

void Table::Refresh() {
  def_.columns = column_defs_;
  updated_at_ = UINT16_MAX;
  for (size_t c = 0; c < column_defs_.size(); ++c) {
    if (column_defs_[c].Has(kUpdatedAt)) updated_at_ = static_cast<ColumnId>(c);
  }
  VOX_DCHECK(indexes_.size() <= 64);
  dependents_.assign(column_defs_.size(), 0);
  for (size_t i = 0; i < indexes_.size(); ++i) {
    const IndexDef& ix = indexes_[i]->def();
    for (const KeyPart& p : ix.key()) dependents_[p.column] |= uint64_t{1} << i;
    for (const Cond& c : ix.predicate()) dependents_[c.column] |= uint64_t{1} << i;
  }
}

void Table::AddColumn(const ColumnDef& def, const Value& fill) {
  column_defs_.push_back(def);
  columns_.emplace_back(def);
  Column& col = columns_.back();
  col.Grow(capacity_);
  Refresh();
  const auto c = static_cast<ColumnId>(columns_.size() - 1);
  const bool zero = !fill.is_null() && fill.kind() == Value::Kind::kInt && fill.AsInt() == 0;
  if (zero) return;  // new rows are zero and non-null already
  for (RowId r = 0; r < row_count_; ++r) WriteValue(r, c, fill);
}

Column Table::PopColumn() {
  Column out = std::move(columns_.back());
  columns_.pop_back();
  column_defs_.pop_back();
  Refresh();
  return out;
}

Column Table::TakeColumn(ColumnId c) {
  VOX_DCHECK(dependents_[c] == 0);
  Column out = std::move(columns_[c]);
  columns_.erase(columns_.begin() + c);
  column_defs_.erase(column_defs_.begin() + c);
  // Added indexes over later columns now name them one lower.
  for (size_t i = builtin_indexes_; i < indexes_.size(); ++i) {
    IndexDef& d = *added_defs_[i - builtin_indexes_];
    bool moved = false;
    for (uint8_t k = 0; k < d.num_parts; ++k) {
      if (d.parts[k].column > c) --d.parts[k].column, moved = true;
    }
    for (uint8_t k = 0; k < d.num_conds; ++k) {
      if (d.where[k].column > c) --d.where[k].column, moved = true;
    }
    if (moved) RebuildIndex(i);
  }
  Refresh();
  return out;
}

void Table::PutBackColumn(ColumnId c, Column column) {
  column_defs_.insert(column_defs_.begin() + c, column.def());
  columns_.insert(columns_.begin() + c, std::move(column));
  for (size_t i = builtin_indexes_; i < indexes_.size(); ++i) {
    IndexDef& d = *added_defs_[i - builtin_indexes_];
    bool moved = false;
    for (uint8_t k = 0; k < d.num_parts; ++k) {
      if (d.parts[k].column >= c) ++d.parts[k].column, moved = true;
    }
    for (uint8_t k = 0; k < d.num_conds; ++k) {
      if (d.where[k].column >= c) ++d.where[k].column, moved = true;
    }
    if (moved) RebuildIndex(i);
  }
  Refresh();
}

void Table::SetColumnDef(ColumnId c, const ColumnDef& def) {
  columns_[c].set_def(def);
  column_defs_[c] = def;
  Refresh();
}

Column Table::SwapColumn(ColumnId c, Column column) {
  column.Grow(capacity_);
  std::swap(columns_[c], column);
  column_defs_[c] = columns_[c].def();
  Refresh();
  for (uint64_t m = dependents_[c]; m != 0; m &= m - 1) RebuildIndex(__builtin_ctzll(m));
  return column;
}

void Table::RebuildIndex(size_t i) {
  // Only indexes a migration added move: Database keeps pointers to the
  // built-in ones, whose columns never move.
  VOX_DCHECK(i >= builtin_indexes_);
  indexes_[i] = TableIndex::Create(*added_defs_[i - builtin_indexes_], *this);
  std::vector<RowId> live;
  live.reserve(live_count_);
  for (RowId r = 0; r < row_count_; ++r) {
    if (IsLive(r)) live.push_back(r);
  }
  const absl::Status s = BuildIndex(i, live);
  VOX_DCHECK(s.ok());  // the same rows under the same key: no new clash
  (void)s;
}

absl::Status Table::AddIndex(std::unique_ptr<IndexDef> def) {
  indexes_.push_back(TableIndex::Create(*def, *this));
  added_defs_.push_back(std::move(def));
  std::vector<RowId> live;
  live.reserve(live_count_);
  for (RowId r = 0; r < row_count_; ++r) {
    if (IsLive(r)) live.push_back(r);
  }
  absl::Status s = BuildIndex(indexes_.size() - 1, live);
  if (!s.ok()) {
    // Name the clash as a write would: insert row by row up to it.
    TableIndex& ix = *indexes_.back();
    ix.Clear();
    for (RowId r : live) {
      if (!ix.Insert(r)) {
        s = ClashError(ix, r);
        break;
      }
    }
    indexes_.pop_back();
    added_defs_.pop_back();
    return s;
  }
  Refresh();
  return absl::OkStatus();
}

std::unique_ptr<IndexDef> Table::TakeIndex(size_t i) {
  VOX_DCHECK(i >= builtin_indexes_ && i < indexes_.size());
  std::unique_ptr<IndexDef> def = std::move(added_defs_[i - builtin_indexes_]);
  added_defs_.erase(added_defs_.begin() + (i - builtin_indexes_));
  indexes_.erase(indexes_.begin() + i);
  Refresh();
  return def;
}

void Table::PutBackIndex(size_t i, std::unique_ptr<IndexDef> def) {
  VOX_DCHECK(i >= builtin_indexes_ && i <= indexes_.size());
  indexes_.insert(indexes_.begin() + i, TableIndex::Create(*def, *this));
  added_defs_.insert(added_defs_.begin() + (i - builtin_indexes_), std::move(def));
  RebuildIndex(i);
  Refresh();
}

Value Table::GetValue(RowId r, ColumnId c) const {
  const Column& col = columns_[c];
  if (col.IsNull(r)) return Value();
  switch (col.type()) {
    case ColumnType::kUuid:
    case ColumnType::kInet:
      return col.GetUuid(r);
    case ColumnType::kString:
    case ColumnType::kJson:
      return col.GetString(r);
    default:
      return col.GetInt(r);
  }
}

RowId Table::FindById(const Uuid& id) const {
  // Ids the engine mints carry their row: check it before the index.
  const auto candidate = static_cast<RowId>(id.lo);
  if (IsLive(candidate) && columns_[0].GetUuid(candidate) == id) return candidate;
  const Value key[] = {id};
  return primary_->Find(key);
}

RowId Table::AllocateRow(bool* reused) {
  RowId r;
  if (!free_rows_.empty()) {
    r = free_rows_.back();
    free_rows_.pop_back();
    *reused = true;
    // Reset the recycled row to zero/non-null, as a fresh row is.
    static constexpr RawValue kZero{};
    for (ColumnId c = 0; c < columns_.size(); ++c) Put(r, c, kZero);
  } else {
    r = static_cast<RowId>(row_count_);
    // Grow geometrically while small, then a chunk at a time: column chunks
    // are allocated whole, so doubling a large table would waste half of it.
    if (row_count_ == capacity_) {
      Reserve(capacity_ < 64           ? 64
              : capacity_ < kChunkRows ? capacity_ * 2
                                       : capacity_ + kChunkRows);
    }
    ++row_count_;
    *reused = false;
  }
  live_.Put<uint8_t>(r, 1);
  ++live_count_;
  return r;
}

void Table::UnallocateRow(RowId r, bool reused) {
  live_.Put<uint8_t>(r, 0);
  --live_count_;
  if (reused) {
    free_rows_.push_back(r);
  } else {
    VOX_DCHECK(r + 1 == row_count_);
    --row_count_;
  }
}

void Table::WriteValue(RowId r, ColumnId c, const Value& v) {
  Column& col = columns_[c];
  if (v.is_null()) {
    col.SetNull(r, true);
    return;
  }
  col.SetNull(r, false);
  switch (col.type()) {
    case ColumnType::kUuid:
    case ColumnType::kInet:
      col.PutUuid(r, v.AsUuid());
      break;
    case ColumnType::kString:
    case ColumnType::kJson:
      col.PutString(r, v.AsString());
      break;
    default:
      col.PutInt(r, v.AsInt());
  }
}

absl::Status Table::ClashError(const TableIndex& ix, RowId r) const {
  std::vector<std::string> parts;
  for (const KeyPart& p : ix.def().key()) {
    const ColumnDef& c = def_.columns[p.column];
    std::string shown;
    switch (c.type) {
      case ColumnType::kString:
        shown = StrCat("'", GetString(r, p.column), "'");
        break;
      case ColumnType::kUuid:
        shown = FormatUuid(GetUuid(r, p.column));
        break;
      case ColumnType::kEnum:
        shown = std::string(EnumValueName(c.enum_id, GetInt(r, p.column)));
        break;
      case ColumnType::kRef: {
        shown = "(row)";
        break;
      }
      default:
        shown = StrCat(GetInt(r, p.column));
    }
    parts.push_back(StrCat(c.name, " ", shown));
  }
  return absl::AlreadyExistsError(
      StrCat(def_.name, ": a row with ", StrJoin(parts, " and "), " already exists"));
}

absl::Status Table::IndexRow(RowId r) {
  // The primary index leaves out self-locating ids, so check that no other
  // row holds this id: one whose id self-locates to it, or (when this id
  // self-locates and so skips the index) one in the index.
  const Uuid my = id(r);
  const auto other = static_cast<RowId>(my.lo);
  if (other != r && IsLive(other) && columns_[0].GetUuid(other) == my) {
    return ClashError(*indexes_[0], r);
  }
  if (HashTableIndex::SelfLocated(my, r)) {
    const Value key[] = {my};
    if (primary_->Find(key) != kNoRow) return ClashError(*indexes_[0], r);
  }
  for (size_t i = 0; i < indexes_.size(); ++i) {
    if (!indexes_[i]->Insert(r)) {
      absl::Status err = ClashError(*indexes_[i], r);
      while (i-- > 0) indexes_[i]->Erase(r);
      return err;
    }
  }
  return absl::OkStatus();
}

void Table::UnindexRow(RowId r) {
  for (auto& ix : indexes_) ix->Erase(r);
}

void Table::Capture(RowId r, ColumnId c, RawValue* out) const {
  std::memset(out->bytes, 0, sizeof(out->bytes));
  columns_[c].CopyOut(r, out->bytes);
  out->null = columns_[c].IsNull(r);
}

void Table::Put(RowId r, ColumnId c, const RawValue& v) {
  columns_[c].CopyIn(r, v.bytes);
  if (columns_[c].def().nullable()) columns_[c].SetNull(r, v.null);
}

absl::Status Table::Update(RowId r, ColumnId c, const Value& v, RawValue* old) {
  Capture(r, c, old);
  const uint64_t mask = dependents_[c];
  for (uint64_t m = mask; m != 0; m &= m - 1) indexes_[__builtin_ctzll(m)]->Erase(r);
  if (columns_[c].heap() != nullptr && !old->null) {
    uint64_t ref;
    std::memcpy(&ref, old->bytes, sizeof(ref));
    columns_[c].heap()->MarkDead(ref);
  }
  WriteValue(r, c, v);
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    const size_t i = __builtin_ctzll(m);
    if (!indexes_[i]->Insert(r)) {
      absl::Status err = ClashError(*indexes_[i], r);
      for (uint64_t n = mask; n != m; n &= n - 1) indexes_[__builtin_ctzll(n)]->Erase(r);
      Put(r, c, *old);
      for (uint64_t n = mask; n != 0; n &= n - 1) indexes_[__builtin_ctzll(n)]->Insert(r);
      return err;
    }
  }
  return absl::OkStatus();
}

void Table::Restore(RowId r, ColumnId c, const RawValue& old) {
  const uint64_t mask = dependents_[c];
  for (uint64_t m = mask; m != 0; m &= m - 1) indexes_[__builtin_ctzll(m)]->Erase(r);
  Put(r, c, old);
  for (uint64_t m = mask; m != 0; m &= m - 1) {
    const bool ok = indexes_[__builtin_ctzll(m)]->Insert(r);
    VOX_DCHECK(ok);
    (void)ok;
  }
}

void Table::Kill(RowId r) {
  UnindexRow(r);
  live_.Put<uint8_t>(r, 0);
  --live_count_;
}

void Table::Revive(RowId r) {
  live_.Put<uint8_t>(r, 1);
  ++live_count_;
  const absl::Status s = IndexRow(r);
  VOX_DCHECK(s.ok());
  (void)s;
}

Table::Image Table::Pin() const {
  Image image{def_.id, column_defs_, row_count_, live_.Pin(row_count_), {}, {}};
  image.columns.reserve(columns_.size());
  image.heaps.reserve(columns_.size());
  for (const Column& c : columns_) {
    image.columns.push_back(c.Pin(row_count_));
    image.heaps.push_back(c.PinHeap());
  }
  return image;
}

void Table::BeginLoad(size_t rows) {
  VOX_DCHECK(row_count_ == 0);
  Reserve(rows);
  row_count_ = rows;
}

absl::Status Table::FinishLoad() {
  live_count_ = 0;
  free_rows_.clear();
  for (RowId r = static_cast<RowId>(row_count_); r-- > 0;) {
    if (live_.Get<uint8_t>(r) != 0) {
      ++live_count_;
    } else {
      free_rows_.push_back(r);  // lowest ids reused first
    }
  }
  // Indexes are built in bulk: sorted runs appended, hash tables presized.
  std::vector<RowId> live;
  live.reserve(live_count_);
  for (RowId r = 0; r < row_count_; ++r) {
    if (live_.Get<uint8_t>(r) != 0) live.push_back(r);
  }
  for (size_t i = 0; i < indexes_.size(); ++i) {
    absl::Status s = BuildIndex(i, live);
    if (!s.ok()) return absl::DataLossError(StrCat("loading ", s.message()));
  }
  absl::Status s = CheckLoadedIds(live);
  if (!s.ok()) return absl::DataLossError(StrCat("loading ", s.message()));
  return absl::OkStatus();
}

void Table::ResetForAppend(size_t rows) {
  VOX_DCHECK(row_count_ == 0 && live_count_ == 0);
  for (size_t c = 0; c < columns_.size(); ++c) columns_[c] = Column(column_defs_[c]);
  live_ = Column(kLiveColumn);
  capacity_ = 0;
  free_rows_.clear();
  Reserve(rows);
}

void Table::FullChunkMemory(size_t c, const uint64_t columns[4],
                            std::vector<std::span<const uint8_t>>* out) const {
  live_.FullChunkMemory(c, out);
  for (size_t i = 0; i < columns_.size(); ++i) {
    if ((columns[i >> 6] >> (i & 63)) & 1) columns_[i].FullChunkMemory(c, out);
  }
}

absl::Status Table::BuildIndex(size_t i, std::span<const RowId> live) {
  TableIndex& ix = *indexes_[i];
  ix.Clear();
  absl::Status s;
  if (ix.def().kind == IndexKind::kUniqueHash) {
    // A hash index sizes its table for every row it is given: give it only
    // the rows it holds (those its predicate admits; for the primary key,
    // the ids that do not self-locate), or a partial index, and the primary
    // key of engine-minted ids, would reserve slots for the whole table.
    std::vector<RowId> held;
    for (RowId r : live) {
      if (ix.Matches(r) && !(i == 0 && HashTableIndex::SelfLocated(id(r), r))) held.push_back(r);
    }
    s = ix.BulkInsert(held);
  } else {
    s = ix.BulkInsert(live);
  }
  if (!s.ok()) return absl::Status(s.code(), StrCat(def_.name, ": ", s.message()));
  return absl::OkStatus();
}

absl::Status Table::CheckLoadedIds(std::span<const RowId> live) const {
  // Self-locating ids skip the primary index: check they are unique too.
  for (RowId r : live) {
    const Uuid my = id(r);
    const auto other = static_cast<RowId>(my.lo);
    bool twice = other != r && IsLive(other) && columns_[0].GetUuid(other) == my;
    if (!twice && HashTableIndex::SelfLocated(my, r) && primary_->size() > 0) {
      const Value key[] = {my};
      twice = primary_->Find(key) != kNoRow;
    }
    if (twice) {
      return absl::AlreadyExistsError(StrCat(def_.name, ": id ", FormatUuid(my), " appears twice"));
    }
  }
  return absl::OkStatus();
}

void Table::PrepareRowForReplay(RowId r) {
  if (r >= row_count_) {
    Reserve(r + 1);
    for (size_t x = row_count_; x < r; ++x) free_rows_.push_back(static_cast<RowId>(x));
    row_count_ = r + 1;
    return;  // new rows are dead and zero
  }
  if (IsLive(r)) {
    UnindexRow(r);
    live_.Put<uint8_t>(r, 0);
    --live_count_;
  } else {
    auto it = std::find(free_rows_.begin(), free_rows_.end(), r);
    if (it != free_rows_.end()) free_rows_.erase(it);
  }
}

absl::Status Table::FinishReplayedRow(RowId r) {
  live_.Put<uint8_t>(r, 1);
  ++live_count_;
  absl::Status s = IndexRow(r);
  if (!s.ok()) {
    live_.Put<uint8_t>(r, 0);
    --live_count_;
  }
  return s;
}

size_t Table::ColumnBytes() const {
  size_t n = live_.MemoryBytes() + free_rows_.capacity() * sizeof(RowId);
  for (const Column& c : columns_) n += c.MemoryBytes();
  return n;
}

size_t Table::IndexBytes() const {
  size_t n = 0;
  for (const auto& ix : indexes_) n += ix->MemoryBytes();
  return n;
}

void Table::Reserve(size_t rows) {
  if (rows <= capacity_) return;
  for (Column& c : columns_) c.Grow(rows);
  live_.Grow(rows);
  capacity_ = rows;
}

}  // namespace vox
