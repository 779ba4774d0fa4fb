#include "wal/change_codec.h"

#include <array>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/ops/migration.h"
#include "schema/catalog.h"
#include "schema/str.h"

namespace vox::wal {
namespace {

enum Kind : uint8_t { kPut = 1, kDelete = 2 };

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}

bool IsString(ColumnType t) { return t == ColumnType::kString || t == ColumnType::kJson; }

void EncodeImage(const Table& table, RowId r, std::string* out) {
  const TableDef& def = table.def();
  for (ColumnId c = 0; c < def.columns.size(); ++c) {
    const Column& col = table.column(c);
    const bool null = col.IsNull(r);
    if (col.def().nullable()) Put<uint8_t>(out, null ? 1 : 0);
    if (null) continue;
    if (IsString(col.type())) {
      const std::string_view s = col.GetString(r);
      Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
      out->append(s);
    } else {
      char buf[16];
      col.CopyOut(r, buf);
      out->append(buf, col.width());
    }
  }
}

// A bounds-checked reader over a payload.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  template <typename T>
  bool Read(T* v) {
    if (s_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, s_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool ReadBytes(size_t n, std::string_view* out) {
    if (s_.size() - pos_ < n) return false;
    *out = s_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == s_.size(); }
  size_t pos() const { return pos_; }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct Change {
  TableId table;
  Kind kind;
  RowId row;
  Uuid id;
  std::vector<Value> values;  // puts: one per column
};

absl::Status Malformed(const Reader& r, std::string_view what) {
  return absl::DataLossError(StrCat("malformed transaction record at byte ", r.pos(), ": ", what));
}

absl::Status DecodeImage(Reader& r, const TableDef& def, std::vector<Value>* values) {
  values->clear();
  for (const ColumnDef& col : def.columns) {
    uint8_t null = 0;
    if (col.nullable() && !r.Read(&null)) return Malformed(r, "truncated null flag");
    if (null > 1) return Malformed(r, "bad null flag");
    if (null) {
      values->emplace_back();
      continue;
    }
    if (IsString(col.type)) {
      uint32_t len;
      std::string_view bytes;
      if (!r.Read(&len) || len > col.max_length || !r.ReadBytes(len, &bytes)) {
        return Malformed(r, StrCat("bad string in ", def.name, ".", col.name));
      }
      values->emplace_back(bytes);
      continue;
    }
    std::string_view raw;
    if (!r.ReadBytes(ColumnWidth(col.type), &raw)) return Malformed(r, "truncated value");
    switch (col.type) {
      case ColumnType::kUuid:
      case ColumnType::kInet: {
        Uuid u;
        std::memcpy(&u, raw.data(), sizeof(u));
        values->emplace_back(u);
        break;
      }
      case ColumnType::kBool:
      case ColumnType::kEnum:
        values->emplace_back(static_cast<uint8_t>(raw[0]));
        break;
      case ColumnType::kInt32: {
        int32_t v;
        std::memcpy(&v, raw.data(), 4);
        values->emplace_back(v);
        break;
      }
      case ColumnType::kRef: {
        uint32_t v;
        std::memcpy(&v, raw.data(), 4);
        values->emplace_back(v);
        break;
      }
      default: {
        int64_t v;
        std::memcpy(&v, raw.data(), 8);
        values->emplace_back(v);
      }
    }
  }
  return absl::OkStatus();
}

absl::Status Decode(const Database& db, std::string_view payload, std::vector<Change>* changes) {
  Reader r(payload);
  int64_t commit_time;
  if (!r.Read(&commit_time)) return Malformed(r, "no commit time");
  uint32_t count;
  if (!r.Read(&count)) return Malformed(r, "no change count");
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t table, kind;
    Change c;
    if (!r.Read(&table) || !r.Read(&kind) || !r.Read(&c.row) || !r.Read(&c.id)) {
      return Malformed(r, "truncated change");
    }
    if (table >= db.table_count() || (kind != kPut && kind != kDelete)) {
      return Malformed(r, "bad table or kind");
    }
    c.table = static_cast<TableId>(table);
    c.kind = static_cast<Kind>(kind);
    if (c.kind == kPut) VOX_RETURN_IF_ERROR(DecodeImage(r, db.table(c.table).def(), &c.values));
    changes->push_back(std::move(c));
  }
  if (!r.done()) return Malformed(r, "trailing bytes");
  return absl::OkStatus();
}

}  // namespace

void EncodeTransaction(const Txn& txn, std::string* out) {
  const Database& db = txn.db();
  // Each row once, in first-change order, as it is now.
  absl::flat_hash_set<uint64_t> seen;
  std::vector<RowChange> rows;
  for (const RowChange& c : txn.changes()) {
    if (seen.insert((uint64_t{static_cast<uint8_t>(c.table)} << 32) | c.row).second) {
      rows.push_back(c);
    }
  }
  Put<int64_t>(out, txn.now());
  Put<uint32_t>(out, static_cast<uint32_t>(rows.size()));
  for (const RowChange& c : rows) {
    const Table& table = db.table(c.table);
    const bool live = table.IsLive(c.row);
    Put<uint8_t>(out, static_cast<uint8_t>(c.table));
    Put<uint8_t>(out, live ? kPut : kDelete);
    Put<uint32_t>(out, c.row);
    Put<Uuid>(out, table.id(c.row));
    if (live) EncodeImage(table, c.row, out);
  }
}

absl::Status ApplyTransaction(Database& db, std::string_view payload,
                              std::vector<ChangeEvent>* events);

absl::Status ApplyTransaction(Database& db, std::string_view payload) {
  return ApplyTransaction(db, payload, nullptr);
}

absl::Status ApplyTransaction(Database& db, std::string_view payload,
                              std::vector<ChangeEvent>* events) {
  std::vector<Change> changes;
  VOX_RETURN_IF_ERROR(Decode(db, payload, &changes));
  // The events: one per row, in the order the record first touches it; a
  // deleted row is routed now, while it can still be read.
  std::vector<size_t> event_of;  // per change: its event's index, or SIZE_MAX
  if (events != nullptr) {
    absl::flat_hash_map<uint64_t, size_t> seen;
    event_of.resize(changes.size(), SIZE_MAX);
    for (size_t i = 0; i < changes.size(); ++i) {
      const Change& c = changes[i];
      auto [it, fresh] = seen.try_emplace(
          (uint64_t{static_cast<uint8_t>(c.table)} << 32) | c.row, events->size());
      if (fresh) {
        ChangeEvent e;
        e.table = c.table;
        e.table_name = InternName(db.table(c.table).name());
        e.id = c.id;
        events->push_back(std::move(e));
      }
      event_of[i] = it->second;
    }
    for (size_t i = 0; i < changes.size(); ++i) {
      const Change& c = changes[i];
      const Table& table = db.table(c.table);
      if (c.kind == kDelete && c.row < table.row_count() && table.IsLive(c.row) &&
          table.id(c.row) == c.id) {
        (*events)[event_of[i]] = RowEvent(db, c.table, c.row, true);
      }
    }
  }
  // 1. Every touched row leaves its indexes (checking that it is the row
  //    the log means). A transaction appends rows to a table only at its
  //    end, each one a change of the record: a row further out is not from
  //    this log (and would make replay allocate without bound).
  std::array<size_t, kMaxTables> rows_before{};
  for (const Change& c : changes) {
    rows_before[static_cast<size_t>(c.table)] = db.table(c.table).row_count();
  }
  for (const Change& c : changes) {
    Table& table = db.table(c.table);
    const size_t before = rows_before[static_cast<size_t>(c.table)];
    if (c.row >= before + changes.size()) {
      return absl::DataLossError(StrCat("replay: ", table.name(), " row ", c.row,
                                        " is past the table's ", before, " rows and the record's ",
                                        changes.size(), " changes"));
    }
    if (table.IsLive(c.row) && table.id(c.row) != c.id) {
      return absl::DataLossError(StrCat("replay: ", table.name(), " row ", c.row, " holds ",
                                        FormatUuid(table.id(c.row)), " but the log changes ",
                                        FormatUuid(c.id)));
    }
    table.PrepareRowForReplay(c.row);
  }
  // 1b. The puts' enum values, refs and tag ids must be in range (reads
  //     follow them); every row the record touches is addressable by now.
  for (const Change& c : changes) {
    for (ColumnId col = 0; col < c.values.size(); ++col) {
      if (c.values[col].kind() != Value::Kind::kInt) continue;
      absl::Status s = CheckStoredValue(db, c.table, col, c.values[col].AsInt());
      if (!s.ok()) return absl::DataLossError(StrCat("replay: row ", c.row, " of ", s.message()));
    }
  }
  // 2. Puts write their image; deletes free their row.
  for (const Change& c : changes) {
    Table& table = db.table(c.table);
    if (c.kind == kDelete) {
      table.Release(c.row);
      continue;
    }
    for (ColumnId col = 0; col < c.values.size(); ++col)
      table.WriteValue(c.row, col, c.values[col]);
  }
  // 3. Puts rejoin their indexes.
  for (const Change& c : changes) {
    if (c.kind != kPut) continue;
    absl::Status s = db.table(c.table).FinishReplayedRow(c.row);
    if (!s.ok()) return absl::DataLossError(StrCat("replay: ", s.message()));
  }
  // 4. The events' after-images, with every row of the record in place.
  for (size_t i = 0; events != nullptr && i < changes.size(); ++i) {
    const Change& c = changes[i];
    ChangeEvent& e = (*events)[event_of[i]];
    if (db.table(c.table).IsLive(c.row) && db.table(c.table).id(c.row) == c.id) {
      if (e.row.empty()) e = RowEvent(db, c.table, c.row, false);
    } else {
      e.deleted = true;
      e.row.clear();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Timestamp> CommitTime(std::string_view payload) {
  Reader r(payload);
  int64_t t;
  if (!r.Read(&t)) return absl::DataLossError("transaction record without a commit time");
  return t;
}

absl::StatusOr<std::string> DescribeTransaction(const Database& schema, std::string_view payload) {
  std::vector<Change> changes;
  VOX_RETURN_IF_ERROR(Decode(schema, payload, &changes));
  std::string out;
  for (const Change& c : changes) {
    if (!out.empty()) out += "; ";
    out += StrCat(schema.table(c.table).name(), c.kind == kPut ? " put row " : " delete row ",
                  c.row, " ", FormatUuid(c.id));
  }
  return out;
}

namespace {

// | commit time i64 | text length u32 | text | transaction payload |
absl::Status SplitSchemaChange(std::string_view payload, Timestamp* now, std::string_view* text,
                               std::string_view* txn) {
  Reader r(payload);
  uint32_t length;
  if (!r.Read(now) || !r.Read(&length) || !r.ReadBytes(length, text)) {
    return Malformed(r, "truncated migration record");
  }
  *txn = payload.substr(r.pos());
  return absl::OkStatus();
}

}  // namespace

void EncodeSchemaChange(const Txn& txn, std::string* out) {
  Put<int64_t>(out, txn.now());
  Put<uint32_t>(out, static_cast<uint32_t>(txn.schema_change().size()));
  out->append(txn.schema_change());
  EncodeTransaction(txn, out);
}

absl::Status ApplySchemaChange(Database& db, std::string_view payload,
                               std::vector<ChangeEvent>* events) {
  Timestamp now;
  std::string_view text, txn;
  VOX_RETURN_IF_ERROR(SplitSchemaChange(payload, &now, &text, &txn));
  VOX_RETURN_IF_ERROR(ReplayMigration(db, text, now));
  return ApplyTransaction(db, txn, events);
}

absl::Status ApplySchemaChange(Database& db, std::string_view payload) {
  return ApplySchemaChange(db, payload, nullptr);
}

absl::Status ApplyRecord(Database& db, RecordType type, std::string_view payload,
                         std::vector<ChangeEvent>* events) {
  switch (type) {
    case RecordType::kTransaction:
      return ApplyTransaction(db, payload, events);
    case RecordType::kSchemaChange:
      return ApplySchemaChange(db, payload, events);
  }
  return absl::DataLossError(StrCat("unknown record type ", static_cast<int>(type)));
}

absl::StatusOr<std::string> DescribeRecord(Database& schema, RecordType type,
                                           std::string_view payload) {
  if (type != RecordType::kSchemaChange) return DescribeTransaction(schema, payload);
  Timestamp now;
  std::string_view text, txn;
  VOX_RETURN_IF_ERROR(SplitSchemaChange(payload, &now, &text, &txn));
  // Follow the schema so that later records decode; the rows stay empty.
  VOX_RETURN_IF_ERROR(ReplayMigration(schema, text, now));
  std::string steps(text);
  while (!steps.empty() && steps.back() == '\n') steps.pop_back();
  for (char& c : steps) {
    if (c == '\n') c = ';';
  }
  VOX_ASSIGN_OR_RETURN(std::string rows, DescribeTransaction(schema, txn));
  return StrCat("migration: ", steps, "; ", rows);
}

}  // namespace vox::wal
