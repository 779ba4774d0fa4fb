#include "engine/ops/generic.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "engine/internal/op_util.h"
#include "engine/internal/room_util.h"
#include "engine/txn.h"
#include "schema/catalog.h"

namespace vox {
namespace {

// Converts caller-facing values into the engine's (row ids for refs, enum
// numbers, microseconds).
absl::StatusOr<Value> ToEngineValue(const Database& db, TableId table, ColumnId c, const Value& v) {
  const ColumnDef& col = db.table(table).def().columns[c];
  if (v.is_null()) return v;
  switch (col.type) {
    case ColumnType::kRef:
      if (v.kind() == Value::Kind::kUuid) {
        const RowId r = db.table(col.ref_table).FindById(v.AsUuid());
        if (r == kNoRow) {
          return absl::NotFoundError(StrCat(db.table(table).name(), ".", col.name, ": ",
                                            db.table(col.ref_table).name(), " row ",
                                            FormatUuid(v.AsUuid()), " not found"));
        }
        return Value(r);
      }
      break;
    case ColumnType::kEnum:
      if (v.kind() == Value::Kind::kString) {
        VOX_ASSIGN_OR_RETURN(uint8_t e, db.ParseEnum(col.enum_id, v.AsString()));
        return Value(e);
      }
      return v;
    case ColumnType::kTimestamp:
      if (v.kind() == Value::Kind::kString) {
        VOX_ASSIGN_OR_RETURN(Timestamp t, ParseTimestamp(v.AsString()));
        return Value(t);
      }
      return v;
    case ColumnType::kInet:
      if (v.kind() == Value::Kind::kString) {
        VOX_ASSIGN_OR_RETURN(Uuid a, ParseInet(v.AsString()));
        return Value(a);
      }
      return v;
    case ColumnType::kUuid:
      if (v.kind() == Value::Kind::kString) {
        VOX_ASSIGN_OR_RETURN(Uuid u, ParseUuid(v.AsString()));
        return Value(u);
      }
      return v;
    default:
      return v;
  }
  return absl::InvalidArgumentError(StrCat(db.table(table).name(), ".", col.name,
                                           " expects the uuid of a ", db.table(col.ref_table).name(),
                                           " row"));
}

// Resolves names and converts values; `allowed` is the flag a column needs.
absl::StatusOr<std::vector<ColumnValue>> Convert(const Database& db, TableId table,
                                                 std::span<const NamedValue> values,
                                                 ColumnFlag allowed) {
  std::vector<ColumnValue> out;
  const TableDef& def = db.table(table).def();
  for (const NamedValue& nv : values) {
    auto c = db.FindColumn(table, nv.column);
    if (!c.ok()) return absl::InvalidArgumentError(c.status().message());
    const ColumnDef& col = def.columns[*c];
    if (!col.Has(allowed) && !(allowed == kInput && col.Has(kPrimaryKey))) {
      return absl::InvalidArgumentError(
          StrCat(def.name, ".", col.name, " is maintained by the engine and cannot be ",
                 allowed == kInput ? "given on insert" : "updated directly"));
    }
    for (const ColumnValue& seen : out) {
      if (seen.column == *c) {
        return absl::InvalidArgumentError(StrCat(def.name, ".", col.name, " given twice"));
      }
    }
    VOX_ASSIGN_OR_RETURN(Value v, ToEngineValue(db, table, *c, nv.value));
    out.push_back({*c, v});
  }
  return out;
}

void AppendJsonValue(const Database& db, const Table& t, RowId row, ColumnId c, std::string* out) {
  const ColumnDef& col = t.def().columns[c];
  if (t.IsNull(row, c)) {
    *out += "null";
    return;
  }
  switch (col.type) {
    case ColumnType::kBool:
      *out += t.GetBool(row, c) ? "true" : "false";
      break;
    case ColumnType::kInt32:
    case ColumnType::kInt64: {
      char buf[24];
      const auto end = std::to_chars(buf, buf + sizeof buf, t.GetInt(row, c)).ptr;
      out->append(buf, end);
      break;
    }
    case ColumnType::kTimestamp:
      *out += '"';
      AppendTimestamp(*out, t.GetTime(row, c));
      *out += '"';
      break;
    case ColumnType::kEnum:
      *out += '"';
      *out += EnumValueName(col.enum_id, t.GetInt(row, c));
      *out += '"';
      break;
    case ColumnType::kUuid:
      *out += '"';
      AppendUuid(*out, t.GetUuid(row, c));
      *out += '"';
      break;
    case ColumnType::kInet:
      *out += StrCat("\"", FormatInet(t.GetUuid(row, c)), "\"");
      break;
    case ColumnType::kString: {
      const std::string_view text = t.GetString(row, c);
      const bool plain = std::none_of(text.begin(), text.end(), [](char ch) {
        return ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20;
      });
      if (plain) {
        *out += '"';
        *out += text;
        *out += '"';
      } else {
        *out += internal::JsonString(text);
      }
      break;
    }
    case ColumnType::kJson:
      *out += t.GetString(row, c);
      break;
    case ColumnType::kRef:
      *out += '"';
      AppendUuid(*out, db.table(col.ref_table).id(t.GetRef(row, c)));
      *out += '"';
      break;
    case ColumnType::kTags: {
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(t.GetInt(row, c), ids);
      *out += "[";
      for (int i = 0; i < n; ++i) {
        if (i > 0) *out += ",";
        *out += internal::JsonString(db.table(TableId::tags).GetString(ids[i] - 1u, tags::name));
      }
      *out += "]";
      break;
    }
  }
}

}  // namespace

std::string RowToJson(const Database& db, TableId table, RowId row, bool include_secrets) {
  const Table& t = db.table(table);
  std::string out;
  out.reserve(512);
  out += '{';
  bool first = true;
  for (ColumnId c = 0; c < t.def().columns.size(); ++c) {
    const ColumnDef& col = t.def().columns[c];
    if (col.Has(kSecret) && !include_secrets) continue;
    if (!first) out += ',';
    first = false;
    out += '"';
    out += col.name;
    out += "\":";
    AppendJsonValue(db, t, row, c, &out);
  }
  out += "}";
  return out;
}

absl::StatusOr<RowId> GetRow(const Database& db, TableId table, const Uuid& id) {
  return internal::Resolve(db, table, id, StrCat(db.table(table).name(), " row"));
}

absl::StatusOr<Uuid> InsertRow(Database& db, const OpContext& ctx, TableId table,
                               std::span<const NamedValue> values) {
  const TableDef& def = db.table(table).def();
  if (!def.insert_via.empty()) {
    return absl::FailedPreconditionError(
        StrCat("rows of ", def.name, " are created by ", def.insert_via,
               ", which keeps their invariants; generic insert is refused"));
  }
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::StatusOr<Uuid> {
    VOX_ASSIGN_OR_RETURN(std::vector<ColumnValue> cvs, Convert(db, table, values, kInput));
    const RowId r = txn.Insert(table, cvs);
    if (r == kNoRow) return txn.status();
    return db.table(table).id(r);
  });
}

absl::Status UpdateRow(Database& db, const OpContext& ctx, TableId table, const Uuid& id,
                       std::span<const NamedValue> values) {
  const TableDef& def = db.table(table).def();
  if (def.immutable) {
    return absl::FailedPreconditionError(
        StrCat(def.name, " rows are immutable: they are never changed or deleted"));
  }
  if (values.empty()) return absl::InvalidArgumentError("no column to update");
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    VOX_ASSIGN_OR_RETURN(RowId row,
                         internal::ResolveActive(db, table, id, StrCat(def.name, " row")));
    VOX_ASSIGN_OR_RETURN(std::vector<ColumnValue> cvs, Convert(db, table, values, kUpdatable));
    for (const ColumnValue& cv : cvs) txn.Set(table, row, cv.column, cv.value);
    return absl::OkStatus();
  });
}

absl::Status DeleteRow(Database& db, const OpContext& ctx, TableId table, const Uuid& id) {
  const TableDef& def = db.table(table).def();
  if (def.delete_policy == DeletePolicy::kNone) {
    return absl::FailedPreconditionError(
        def.immutable ? StrCat(def.name, " rows are immutable: they are never changed or deleted")
                      : StrCat(def.name, " rows are never deleted"));
  }
  return Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    const std::string what = StrCat(def.name, " row");
    if (def.delete_policy == DeletePolicy::kHard) {
      VOX_ASSIGN_OR_RETURN(RowId row, internal::Resolve(db, table, id, what));
      // A present participant leaves first: the room's count stays true.
      if (table == TableId::room_participants &&
          db.table(table).IsNull(row, room_participants::left_at)) {
        internal::LeaveInTxn(txn, row);
      }
      txn.Delete(table, row);
      return absl::OkStatus();
    }
    VOX_ASSIGN_OR_RETURN(RowId row, internal::ResolveActive(db, table, id, what));
    switch (table) {
      case TableId::users:
        internal::DeleteUserInTxn(txn, ctx, row, kNoRow);
        return absl::OkStatus();
      case TableId::rooms:
        internal::DeleteRoomInTxn(txn, ctx, row, kNoRow);
        return absl::OkStatus();
      case TableId::recordings: {
        const auto s = db.table(table).GetEnum<RecordingStatus>(row, recordings::status);
        if (s == RecordingStatus::STARTED || s == RecordingStatus::IN_PROGRESS) {
          return absl::FailedPreconditionError("stop the recording before deleting it");
        }
        txn.Set(table, row, recordings::deleted_at, ctx.now);
        internal::Audit(txn, ctx, AuditAction::RECORDING_DELETED, kNoRow,
                        db.table(table).GetRef(row, recordings::room_id), kNoRow);
        return absl::OkStatus();
      }
      default:
        txn.Set(table, row, internal::FindColumnWithFlagCached(table), ctx.now);
        return absl::OkStatus();
    }
  });
}

}  // namespace vox
