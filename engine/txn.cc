#include "engine/txn.h"

#include <algorithm>

#include "schema/catalog.h"
#include "schema/str.h"

namespace vox {

Txn::Txn(Database& db, Timestamp now) : db_(db), now_(now) {}

Txn::~Txn() {
  VOX_DCHECK(done_ || (undo_.empty() && changes_.empty()));
  if (!done_) Rollback();
}

void Txn::Fail(absl::Status s) {
  if (status_.ok()) status_ = std::move(s);
}

void Txn::Record(TableId t, ChangeKind kind, RowId r) {
  if (!changes_.empty() && changes_.back().table == t && changes_.back().row == r &&
      changes_.back().kind != ChangeKind::kDelete && kind == ChangeKind::kUpdate) {
    return;  // consecutive writes to the same row
  }
  changes_.push_back({t, kind, r});
}

RowId Txn::Insert(TableId t, std::span<const ColumnValue> values) {
  if (!ok()) return kNoRow;
  Table& table = db_.table(t);
  const TableDef& def = table.def();
  // Validate everything before touching the table.
  uint64_t given[4] = {0, 0, 0, 0};  // bitset of columns present in `values`
  for (const ColumnValue& cv : values) {
    VOX_DCHECK(cv.column < def.columns.size());
    absl::Status s = ValidateValue(db_, t, cv.column, cv.value);
    if (!s.ok()) {
      Fail(std::move(s));
      return kNoRow;
    }
    given[cv.column >> 6] |= uint64_t{1} << (cv.column & 63);
  }
  for (size_t c = 0; c < def.columns.size(); ++c) {
    if (def.columns[c].default_kind == DefaultKind::kNone && !def.columns[c].Has(kPrimaryKey) &&
        !((given[c >> 6] >> (c & 63)) & 1)) {
      Fail(absl::InvalidArgumentError(StrCat(def.name, ".", def.columns[c].name, " is required")));
      return kNoRow;
    }
  }
  bool reused = false;
  const RowId r = table.AllocateRow(&reused);
  for (size_t c = 0; c < def.columns.size(); ++c) {
    if ((given[c >> 6] >> (c & 63)) & 1) continue;
    const ColumnDef& col = def.columns[c];
    const auto cid = static_cast<ColumnId>(c);
    if (col.Has(kPrimaryKey)) {
      table.WriteValue(r, cid, db_.NewId(now_, r));
      continue;
    }
    switch (col.default_kind) {
      case DefaultKind::kNull:
        table.WriteValue(r, cid, nullptr);
        break;
      case DefaultKind::kInt:
        table.WriteValue(r, cid, col.default_int);
        break;
      case DefaultKind::kString:
        table.WriteValue(r, cid, col.default_string);
        break;
      case DefaultKind::kNow:
        table.WriteValue(r, cid, now_);
        break;
      case DefaultKind::kNone:
        break;
    }
  }
  for (const ColumnValue& cv : values) table.WriteValue(r, cv.column, cv.value);
  absl::Status s = table.IndexRow(r);
  if (!s.ok()) {
    table.UnallocateRow(r, reused);
    Fail(std::move(s));
    return kNoRow;
  }
  undo_.push_back({UndoKind::kInsert, t, 0, reused, r, {}});
  changes_.push_back({t, ChangeKind::kInsert, r});
  return r;
}

void Txn::Set(TableId t, RowId r, ColumnId c, const Value& v) {
  if (!ok()) return;
  Table& table = db_.table(t);
  VOX_DCHECK(table.IsLive(r));
  absl::Status s = ValidateValue(db_, t, c, v);
  if (!s.ok()) {
    Fail(std::move(s));
    return;
  }
  Undo u{UndoKind::kUpdate, t, c, false, r, {}};
  s = table.Update(r, c, v, &u.old);
  if (!s.ok()) {
    Fail(std::move(s));
    return;
  }
  undo_.push_back(u);
  Record(t, ChangeKind::kUpdate, r);
  // Stamp updated_at, once per row and transaction.
  const ColumnId stamp_column = table.updated_at_column();
  if (stamp_column == UINT16_MAX || stamp_column == c || table.GetTime(r, stamp_column) == now_) {
    return;
  }
  Undo stamp{UndoKind::kUpdate, t, stamp_column, false, r, {}};
  s = table.Update(r, stamp_column, now_, &stamp.old);
  VOX_DCHECK(s.ok());
  undo_.push_back(stamp);
}

void Txn::Delete(TableId t, RowId r) {
  if (!ok()) return;
  Table& table = db_.table(t);
  VOX_DCHECK(table.def().delete_policy == DeletePolicy::kHard);
  VOX_DCHECK(table.IsLive(r));
  for (const Database::Referrer& ref : db_.referrers(t)) {
    std::vector<RowId> rows;
    if (ref.index != nullptr) {
      ref.index->ScanPrefix({static_cast<int64_t>(r)}, [&](RowId x) {
        rows.push_back(x);
        return true;
      });
    } else {  // a column a migration added, with no index: scan
      const Table& from = db_.table(ref.table);
      for (RowId x = 0; x < from.row_count(); ++x) {
        if (from.IsLive(x) && from.GetRef(x, ref.column) == r) rows.push_back(x);
      }
    }
    for (RowId x : rows) {
      if (!ok()) return;
      switch (ref.on_delete) {
        case OnDelete::kCascade:
          if (db_.table(ref.table).IsLive(x)) Delete(ref.table, x);
          break;
        case OnDelete::kSetNull:
          Set(ref.table, x, ref.column, nullptr);
          break;
        case OnDelete::kRestrict:
          Fail(absl::FailedPreconditionError(
              StrCat("cannot delete ", table.name(), " ", FormatUuid(table.id(r)), ": ",
                     db_.table(ref.table).name(), " rows refer to it")));
          return;
      }
    }
  }
  if (!ok()) return;
  table.Kill(r);
  undo_.push_back({UndoKind::kDelete, t, 0, false, r, {}});
  changes_.push_back({t, ChangeKind::kDelete, r});
}

void Txn::Rollback() {
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
    Table& table = db_.table(it->table);
    switch (it->kind) {
      case UndoKind::kInsert:
        table.UnindexRow(it->row);
        table.UnallocateRow(it->row, it->reused_row);
        break;
      case UndoKind::kUpdate:
        table.Restore(it->row, it->column, it->old);
        break;
      case UndoKind::kDelete:
        table.Revive(it->row);
        break;
    }
  }
  undo_.clear();
  changes_.clear();
  done_ = true;
}

void Txn::Commit() {
  VOX_DCHECK(ok());
  db_.CountCommit();
  if (db_.commit_sink() != nullptr && (!changes_.empty() || !schema_change_.empty())) {
    db_.commit_sink()->OnCommit(*this);
  }
  // Deleted rows' ids become reusable only once the deleting change is out.
  for (const Undo& u : undo_) {
    if (u.kind == UndoKind::kDelete) db_.table(u.table).Release(u.row);
  }
  undo_.clear();
  done_ = true;
}

}  // namespace vox
