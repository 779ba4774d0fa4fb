#include "engine/ops/migration.h"

#include <functional>
#include <utility>

#include "engine/internal/migration_text.h"
#include "engine/internal/op_util.h"
#include "engine/txn.h"
#include "schema/catalog.h"

namespace vox {
namespace {

using internal::DefaultSpec;
using internal::MigrationText;
using internal::Step;
using internal::StepKind;

// Columns a table has ever had: 256 (Txn::Insert's bitset of given columns).
constexpr size_t kMaxColumns = 256;

bool IsBuiltinTable(TableId t) { return static_cast<size_t>(t) < kTableCount; }
bool IsBuiltinColumn(TableId t, ColumnId c) {
  return IsBuiltinTable(t) && c < GetTable(t).columns.size();
}

absl::StatusOr<EnumId> FindEnum(std::string_view name) {
  std::vector<std::string_view> names;
  for (size_t e = 0; e < kEnumCount; ++e) {
    if (kEnums[e].name == name) return static_cast<EnumId>(e);
    names.push_back(kEnums[e].name);
  }
  return absl::NotFoundError(
      StrCat("no enum named '", name, "' (one of ", StrJoin(names, ", "), ")"));
}

std::string Count(size_t n, std::string_view what) {
  return StrCat(n, " ", what, n == 1 ? "" : "s");
}

// Applies steps to a database, keeping an inverse for each so that a
// migration that fails half-way leaves nothing behind.
class Migrator {
 public:
  Migrator(Database& db, Timestamp now) : db_(db), now_(now) {}
  ~Migrator() { VOX_DCHECK(undo_.empty()); }

  // Applies every step; on an error undoes those applied and returns it.
  absl::Status Run(const MigrationText& m, std::vector<std::string>* changes) {
    for (const Step& step : m.steps) {
      std::string effect;
      absl::Status s = Apply(step, &effect);
      if (!s.ok()) {
        Undo();
        return absl::Status(s.code(), StrCat("line ", step.line, " (", internal::StepText(step),
                                             "): ", s.message()));
      }
      if (changes != nullptr) {
        changes->push_back(StrCat(internal::StepText(step), effect.empty() ? "" : ": ", effect));
      }
    }
    return absl::OkStatus();
  }
  void Undo() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) (*it)();
    undo_.clear();
    db_.RefreshReferrers();
  }
  void Keep() { undo_.clear(); }

 private:
  absl::Status Apply(const Step& s, std::string* effect) {
    switch (s.kind) {
      case StepKind::kAddColumn:
        return AddColumn(s, effect);
      case StepKind::kAddEnumValue:
        return AddEnumValue(s, effect);
      case StepKind::kAddTable:
        return AddTable(s, effect);
      case StepKind::kAddIndex:
        return AddIndex(s, effect);
      case StepKind::kDropIndex:
        return DropIndex(s, effect);
      case StepKind::kRenameColumn:
        return RenameColumn(s);
      case StepKind::kWidenColumn:
        return Retype(s, /*widen=*/true, effect);
      case StepKind::kAlterColumn:
        return AlterColumn(s);
      case StepKind::kNarrowColumn:
        return Retype(s, /*widen=*/false, effect);
      case StepKind::kDropColumn:
        return DropColumn(s, effect);
      case StepKind::kDropTable:
        return DropTable(s, effect);
    }
    return absl::InternalError("unknown step");
  }

  absl::StatusOr<ColumnId> Column(TableId t, std::string_view name) {
    return db_.FindColumn(t, name);
  }

  // The value every existing row gets, and the ColumnDef's default.
  absl::StatusOr<Value> Fill(const Step& s, ColumnDef* def) {
    const DefaultSpec& d = s.fallback;
    if (d.kind == DefaultSpec::Kind::kNone || d.kind == DefaultSpec::Kind::kNull) {
      if (!s.nullable) {
        return absl::FailedPreconditionError(
            "a new column needs `null` or a `default`: existing rows must hold something");
      }
      def->default_kind = DefaultKind::kNull;
      return Value();
    }
    const ColumnType type = def->type;
    if (d.kind == DefaultSpec::Kind::kNow) {
      if (type != ColumnType::kTimestamp) {
        return absl::InvalidArgumentError("`default now` is for timestamp columns");
      }
      def->default_kind = DefaultKind::kNow;
      return Value(now_);
    }
    int64_t number = d.number;
    if (d.kind == DefaultSpec::Kind::kText) {
      switch (type) {
        case ColumnType::kString:
        case ColumnType::kJson: {
          def->default_kind = DefaultKind::kString;
          def->default_string = db_.Intern(d.text);
          if (d.text.size() > def->max_length) {
            return absl::InvalidArgumentError(StrCat("the default is ", d.text.size(),
                                                     " bytes; the column holds ",
                                                     def->max_length));
          }
          if (!IsValidUtf8(d.text)) return absl::InvalidArgumentError("the default is not UTF-8");
          if (type == ColumnType::kJson) VOX_RETURN_IF_ERROR(ValidateJson(d.text));
          return Value(def->default_string);
        }
        case ColumnType::kEnum: {
          VOX_ASSIGN_OR_RETURN(uint8_t v, db_.ParseEnum(def->enum_id, d.text));
          number = v;
          break;
        }
        case ColumnType::kTimestamp: {
          VOX_ASSIGN_OR_RETURN(number, ParseTimestamp(d.text));
          break;
        }
        default:
          return absl::InvalidArgumentError(
              StrCat("a ", ColumnTypeName(type), " column cannot default to text"));
      }
    } else {
      switch (type) {
        case ColumnType::kBool:
          if (number != 0 && number != 1) {
            return absl::InvalidArgumentError("a bool defaults to true or false");
          }
          break;
        case ColumnType::kInt32:
        case ColumnType::kInt64:
        case ColumnType::kTimestamp:
          break;
        case ColumnType::kEnum:
          if (number < 0 || static_cast<size_t>(number) >= db_.enum_size(def->enum_id)) {
            return absl::InvalidArgumentError(
                StrCat(number, " is not a ", GetEnum(def->enum_id).name, " value"));
          }
          break;
        default:
          return absl::InvalidArgumentError(
              StrCat("a ", ColumnTypeName(type), " column cannot default to a number"));
      }
    }
    if (number < def->min_value || number > def->max_value) {
      return absl::InvalidArgumentError(StrCat("the default ", number, " is outside [",
                                               def->min_value, ", ", def->max_value, "]"));
    }
    def->default_kind = DefaultKind::kInt;
    def->default_int = number;
    return Value(number);
  }

  absl::Status AddColumn(const Step& s, std::string* effect) {
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    Table& table = db_.table(t);
    if (Column(t, s.column).ok()) {
      return absl::AlreadyExistsError(StrCat(s.table, ".", s.column, " already exists"));
    }
    if (table.def().columns.size() >= kMaxColumns) {
      return absl::ResourceExhaustedError(
          StrCat(s.table, " has ", kMaxColumns, " columns, the most a table holds"));
    }
    ColumnDef def;
    switch (s.type.type) {
      case ColumnType::kString:
        def = StringCol(s.type.max_length);
        break;
      case ColumnType::kJson:
        def = JsonCol(s.type.max_length);
        break;
      case ColumnType::kEnum: {
        VOX_ASSIGN_OR_RETURN(EnumId e, FindEnum(s.type.target));
        def = EnumCol(e);
        break;
      }
      case ColumnType::kRef: {
        VOX_ASSIGN_OR_RETURN(TableId target, db_.FindTable(s.type.target));
        def = RefCol(target).OnDeleteOf(s.on_delete);
        if (s.fallback.kind != DefaultSpec::Kind::kNone &&
            s.fallback.kind != DefaultSpec::Kind::kNull) {
          return absl::InvalidArgumentError("a ref column defaults to null only");
        }
        break;
      }
      case ColumnType::kBool:
        def = BoolCol();
        break;
      case ColumnType::kInt32:
        def = Int32Col();
        break;
      case ColumnType::kInt64:
        def = Int64Col();
        break;
      case ColumnType::kTimestamp:
        def = TimestampCol();
        break;
      case ColumnType::kUuid:
        def = UuidCol();
        break;
      case ColumnType::kInet:
        def = InetCol();
        break;
      case ColumnType::kTags:
        return absl::InvalidArgumentError("tags columns are built in only");
    }
    if (s.on_delete_given && s.type.type != ColumnType::kRef) {
      return absl::InvalidArgumentError("`on delete` is for ref columns");
    }
    def = def.Named(db_.Intern(s.column)).Updatable();
    if (s.nullable) def = def.With(kNullable);
    if (s.secret) def = def.Secret();
    VOX_ASSIGN_OR_RETURN(Value fill, Fill(s, &def));
    table.AddColumn(def, fill);
    undo_.push_back([&table] { table.PopColumn(); });
    db_.RefreshReferrers();
    const size_t rows = table.live_count();
    *effect = rows == 0 ? "no rows yet"
                        : StrCat(Count(rows, "row"), rows == 1 ? " holds " : " hold ",
                                 fill.is_null() ? std::string("null") : "the default");
    return absl::OkStatus();
  }

  absl::Status AddEnumValue(const Step& s, std::string* effect) {
    VOX_ASSIGN_OR_RETURN(EnumId e, FindEnum(s.enum_name));
    if (db_.ParseEnum(e, s.name).ok()) {
      return absl::AlreadyExistsError(StrCat(s.enum_name, " already has ", s.name));
    }
    const size_t n = db_.enum_size(e);
    if (n >= 256) {
      return absl::ResourceExhaustedError(StrCat(s.enum_name, " has 256 values, the most an enum holds"));
    }
    db_.AddEnumValue(e, s.name);
    undo_.push_back([this, e] { db_.PopEnumValue(e); });
    *effect = StrCat("value ", n);
    return absl::OkStatus();
  }

  absl::Status AddTable(const Step& s, std::string* effect) {
    if (db_.FindTable(s.table).ok()) {
      return absl::AlreadyExistsError(StrCat("table ", s.table, " already exists"));
    }
    if (db_.table_count() >= kMaxTables) {
      return absl::ResourceExhaustedError(
          StrCat("the database has ", kMaxTables, " tables, the most it holds"));
    }
    const ColumnDef columns[] = {PrimaryKeyCol().Named("id"), CreatedAtCol().Named("created_at")};
    TableDef def{db_.Intern(s.table), TableId{}, columns, s.delete_policy, false, ""};
    const TableId t = db_.AddTable(def);
    undo_.push_back([this] { db_.PopTable(); });
    *effect = StrCat("with id and created_at; rows deleted ",
                     s.delete_policy == DeletePolicy::kHard ? "for good" : "never");
    (void)t;
    return absl::OkStatus();
  }

  // Where index `name` is: its table and position, if it exists.
  bool FindIndex(std::string_view name, TableId* t, size_t* pos) {
    for (size_t i = 0; i < db_.table_count(); ++i) {
      const Table& table = db_.table(static_cast<TableId>(i));
      for (size_t x = 1; x < table.index_count(); ++x) {
        if (table.index(x).def().name == name) {
          *t = table.id();
          *pos = x;
          return true;
        }
      }
    }
    return false;
  }

  absl::Status AddIndex(const Step& s, std::string* effect) {
    TableId found_table;
    size_t found_pos;
    if (FindIndex(s.name, &found_table, &found_pos)) {
      return absl::AlreadyExistsError(StrCat("index ", s.name, " already exists"));
    }
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    Table& table = db_.table(t);
    if (s.key.size() > kMaxKeyParts) {
      return absl::InvalidArgumentError(StrCat("an index key has at most ", kMaxKeyParts, " columns"));
    }
    if (table.index_count() >= 64) {
      return absl::ResourceExhaustedError(StrCat(s.table, " has 64 indexes, the most a table holds"));
    }
    auto def = std::make_unique<IndexDef>(s.unique ? UniqueHash(t, db_.Intern(s.name))
                                                   : Ordered(t, db_.Intern(s.name)));
    int bits = 32;  // the row id
    for (const auto& [name, desc] : s.key) {
      VOX_ASSIGN_OR_RETURN(ColumnId c, Column(t, name));
      const ColumnDef& col = table.def().columns[c];
      for (uint8_t k = 0; k < def->num_parts; ++k) {
        if (def->parts[k].column == c) {
          return absl::InvalidArgumentError(StrCat(name, " is in the key twice"));
        }
      }
      if (s.unique) {
        if (desc) return absl::InvalidArgumentError("a unique (hash) index has no order");
        if (col.type == ColumnType::kJson || col.type == ColumnType::kTags) {
          return absl::InvalidArgumentError(
              StrCat(name, " is ", ColumnTypeName(col.type), ": it cannot be a unique key"));
        }
        // Rows with a null key part stay out of a unique index.
        if (col.nullable()) *def = def->Where(NotNull(c));
      } else {
        const int b = OrderedKeyBits(col.type);
        if (b == 0 || col.type == ColumnType::kTags) {
          return absl::InvalidArgumentError(
              StrCat(name, " is ", ColumnTypeName(col.type),
                     ": an ordered index takes bool, int, timestamp, enum and ref columns "
                     "(a unique index takes strings and uuids)"));
        }
        bits += b;
      }
      *def = desc ? def->Desc(c) : def->On(c);
    }
    if (bits > 128) {
      return absl::InvalidArgumentError(
          StrCat("the key is ", bits - 32, " bits; an ordered key holds at most 96"));
    }
    VOX_RETURN_IF_ERROR(table.AddIndex(std::move(def)));
    const size_t pos = table.index_count() - 1;
    undo_.push_back([&table, pos] { table.TakeIndex(pos); });
    db_.RefreshReferrers();
    *effect = StrCat("built over ", Count(table.live_count(), "row"));
    return absl::OkStatus();
  }

  absl::Status DropIndex(const Step& s, std::string* effect) {
    TableId t;
    size_t pos;
    if (!FindIndex(s.name, &t, &pos)) {
      return absl::NotFoundError(StrCat("no index named ", s.name));
    }
    Table& table = db_.table(t);
    if (pos < table.builtin_index_count()) {
      return absl::FailedPreconditionError(
          StrCat("index ", s.name, " is built in: the platform's operations use it"));
    }
    std::unique_ptr<IndexDef> def = table.TakeIndex(pos);
    undo_.push_back([&table, pos, held = std::make_shared<std::unique_ptr<IndexDef>>(std::move(
                                          def))]() mutable { table.PutBackIndex(pos, std::move(*held)); });
    db_.RefreshReferrers();
    *effect = StrCat("on ", table.name());
    return absl::OkStatus();
  }

  absl::Status RenameColumn(const Step& s) {
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    VOX_ASSIGN_OR_RETURN(ColumnId c, Column(t, s.column));
    Table& table = db_.table(t);
    const ColumnDef old = table.def().columns[c];
    if (old.Has(kPrimaryKey)) return absl::FailedPreconditionError("the primary key is always `id`");
    if (Column(t, s.name).ok()) {
      return absl::AlreadyExistsError(StrCat(s.table, ".", s.name, " already exists"));
    }
    table.SetColumnDef(c, old.Named(db_.Intern(s.name)));
    undo_.push_back([&table, c, old] { table.SetColumnDef(c, old); });
    return absl::OkStatus();
  }

  absl::Status AlterColumn(const Step& s) {
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    VOX_ASSIGN_OR_RETURN(ColumnId c, Column(t, s.column));
    Table& table = db_.table(t);
    const ColumnDef old = table.def().columns[c];
    if (old.Has(kPrimaryKey) || old.Has(kCreatedAt) || old.Has(kUpdatedAt) ||
        old.Has(kDeletedAt)) {
      return absl::FailedPreconditionError(
          StrCat(s.table, ".", s.column, " is kept by the engine (id, created_at, updated_at, "
                 "deleted_at): it is never written directly"));
    }
    ColumnDef now = old;
    now.flags = s.updatable ? (now.flags | kInput | kUpdatable)
                            : static_cast<uint16_t>(now.flags & ~kUpdatable);
    table.SetColumnDef(c, now);
    undo_.push_back([&table, c, old] { table.SetColumnDef(c, old); });
    return absl::OkStatus();
  }

  // widen / narrow column.
  absl::Status Retype(const Step& s, bool widen, std::string* effect) {
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    VOX_ASSIGN_OR_RETURN(ColumnId c, Column(t, s.column));
    Table& table = db_.table(t);
    const ColumnDef old = table.def().columns[c];
    const ColumnType from = old.type, to = s.type.type;
    const char* verb = widen ? "widen" : "narrow";
    if ((from == ColumnType::kString || from == ColumnType::kJson) && to == from) {
      const uint32_t n = s.type.max_length;
      if (widen ? n <= old.max_length : n >= old.max_length) {
        return absl::InvalidArgumentError(StrCat(s.table, ".", s.column, " holds ", old.max_length,
                                                 " bytes; ", n, " does not ", verb, " it"));
      }
      if (!widen) {
        size_t over = 0;
        RowId first = kNoRow;
        for (RowId r = 0; r < table.row_count(); ++r) {
          if (!table.IsLive(r) || table.IsNull(r, c) || table.GetString(r, c).size() <= n) continue;
          if (over++ == 0) first = r;
        }
        if (over > 0) {
          return absl::FailedPreconditionError(
              StrCat(Count(over, "row"), over == 1 ? " holds" : " hold", " more than ", n,
                     " bytes (the first: ",
                     FormatUuid(table.id(first)),
                     "); shorten or clear them first: a migration never truncates"));
        }
      }
      ColumnDef now = old;
      now.max_length = n;
      if (now.default_kind == DefaultKind::kString && now.default_string.size() > n) {
        return absl::FailedPreconditionError(
            StrCat("the column's default is ", now.default_string.size(), " bytes"));
      }
      table.SetColumnDef(c, now);
      undo_.push_back([&table, c, old] { table.SetColumnDef(c, old); });
      *effect = StrCat(old.max_length, " -> ", n, " bytes");
      return absl::OkStatus();
    }
    const bool int_widen = widen && from == ColumnType::kInt32 && to == ColumnType::kInt64;
    const bool int_narrow = !widen && from == ColumnType::kInt64 && to == ColumnType::kInt32;
    if (!int_widen && !int_narrow) {
      return absl::InvalidArgumentError(
          StrCat("cannot ", verb, " ", ColumnTypeName(from), " to ", internal::TypeText(s.type),
                 widen ? ": a migration widens string(N)/json(N) to a larger N and int32 to int64"
                       : ": a migration narrows string(N)/json(N) to a smaller N and int64 to "
                         "int32"));
    }
    if (IsBuiltinColumn(t, c)) {
      return absl::FailedPreconditionError(
          StrCat(s.table, ".", s.column, " is built in: the platform's operations read it as ",
                 ColumnTypeName(from)));
    }
    ColumnDef now = old;
    now.type = to;
    now.min_value = int_widen ? INT64_MIN : INT32_MIN;
    now.max_value = int_widen ? INT64_MAX : INT32_MAX;
    if (now.default_kind == DefaultKind::kInt &&
        (now.default_int < now.min_value || now.default_int > now.max_value)) {
      return absl::FailedPreconditionError(StrCat("the column's default ", now.default_int,
                                                  " does not fit ", ColumnTypeName(to)));
    }
    size_t over = 0;
    if (int_narrow) {
      for (RowId r = 0; r < table.row_count(); ++r) {
        if (!table.IsLive(r) || table.IsNull(r, c)) continue;
        const int64_t v = table.GetInt(r, c);
        over += v < INT32_MIN || v > INT32_MAX;
      }
      if (over > 0) {
        return absl::FailedPreconditionError(
            StrCat(Count(over, "row"), over == 1 ? " holds" : " hold",
                   " values outside int32; change them first: a "
                   "migration never truncates"));
      }
    }
    for (size_t i = 0; i < table.index_count(); ++i) {
      for (const KeyPart& p : table.index(i).def().key()) {
        if (p.column == c) {
          return absl::FailedPreconditionError(
              StrCat("index ", table.index(i).def().name, " uses ", s.column, "; drop it first"));
        }
      }
    }
    vox::Column copy(now);
    copy.Grow(table.row_count());
    for (RowId r = 0; r < table.row_count(); ++r) {
      if (table.column(c).IsNull(r)) {
        copy.SetNull(r, true);
      } else {
        copy.PutInt(r, table.GetInt(r, c));
      }
    }
    auto held = std::make_shared<vox::Column>(table.SwapColumn(c, std::move(copy)));
    undo_.push_back([&table, c, held] { table.SwapColumn(c, std::move(*held)); });
    *effect = StrCat(Count(table.live_count(), "row"), " copied");
    return absl::OkStatus();
  }

  absl::Status DropColumn(const Step& s, std::string* effect) {
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    VOX_ASSIGN_OR_RETURN(ColumnId c, Column(t, s.column));
    Table& table = db_.table(t);
    if (IsBuiltinColumn(t, c)) {
      return absl::FailedPreconditionError(
          StrCat(s.table, ".", s.column, " is built in: the platform's operations use it"));
    }
    if (c == 0) return absl::FailedPreconditionError("a table keeps its primary key");
    for (size_t i = 0; i < table.index_count(); ++i) {
      const IndexDef& ix = table.index(i).def();
      bool uses = false;
      for (const KeyPart& p : ix.key()) uses |= p.column == c;
      for (const Cond& k : ix.predicate()) uses |= k.column == c;
      if (uses) {
        return absl::FailedPreconditionError(
            StrCat("index ", ix.name, " uses ", s.column, "; drop it first"));
      }
    }
    size_t values = 0;
    for (RowId r = 0; r < table.row_count(); ++r) {
      values += table.IsLive(r) && !table.IsNull(r, c);
    }
    auto held = std::make_shared<vox::Column>(table.TakeColumn(c));
    undo_.push_back([&table, c, held] { table.PutBackColumn(c, std::move(*held)); });
    db_.RefreshReferrers();
    *effect = StrCat(Count(values, "non-null value"), " dropped");
    return absl::OkStatus();
  }

  absl::Status DropTable(const Step& s, std::string* effect) {
    VOX_ASSIGN_OR_RETURN(TableId t, db_.FindTable(s.table));
    if (IsBuiltinTable(t)) {
      return absl::FailedPreconditionError(
          StrCat("table ", s.table, " is built in: the platform's operations use it"));
    }
    for (size_t i = 0; i < db_.table_count(); ++i) {
      if (i == static_cast<size_t>(t)) continue;
      const TableDef& other = db_.table(static_cast<TableId>(i)).def();
      for (const ColumnDef& col : other.columns) {
        if (col.type == ColumnType::kRef && col.ref_table == t) {
          return absl::FailedPreconditionError(StrCat(other.name, ".", col.name, " refers to ",
                                                      s.table, "; drop that column first"));
        }
      }
    }
    const size_t rows = db_.table(t).live_count();
    auto held = std::make_shared<std::unique_ptr<Table>>(db_.TakeTable(t));
    undo_.push_back([this, t, held] { db_.PutBackTable(t, std::move(*held)); });
    *effect = StrCat(Count(rows, "row"), " dropped");
    return absl::OkStatus();
  }

  Database& db_;
  Timestamp now_;
  std::vector<std::function<void()>> undo_;
};

absl::Status CheckVersion(const Database& db, const MigrationText& m) {
  const uint32_t at = db.schema_version();
  if (m.version == at + 1) return absl::OkStatus();
  if (m.version <= at) {
    return absl::FailedPreconditionError(
        StrCat("the database is at schema version ", at, "; version ", m.version,
               " is already applied (`voxctl schema show` lists the history)"));
  }
  return absl::FailedPreconditionError(StrCat("this migration makes version ", m.version,
                                              "; the database is at version ", at, ": apply version ",
                                              at + 1, " first"));
}

// The audit row's metadata: version, name, whether it was destructive, and
// the steps (as many as fit the column's 8 KiB).
std::string AuditMetadata(const MigrationText& m, bool destructive) {
  std::string steps;
  size_t shown = 0;
  for (const Step& s : m.steps) {
    const std::string one = internal::JsonString(internal::StepText(s));
    if (steps.size() + one.size() > 6000) break;
    if (!steps.empty()) steps += ",";
    steps += one;
    ++shown;
  }
  return StrCat(R"({"version":)", m.version, R"(,"name":)", internal::JsonString(m.name),
                R"(,"destructive":)", destructive ? "true" : "false", R"(,"by":"operator","steps":[)",
                steps, "]", shown < m.steps.size() ? StrCat(R"(,"steps_total":)", m.steps.size()) : "",
                "}");
}

}  // namespace

absl::StatusOr<MigrationResult> ApplyMigration(Database& db, const OpContext& ctx,
                                               std::string_view text,
                                               const MigrationOptions& options) {
  VOX_ASSIGN_OR_RETURN(MigrationText m, internal::ParseMigrationText(text));
  VOX_RETURN_IF_ERROR(CheckVersion(db, m));
  if (db.open_txn() != nullptr) {
    return absl::FailedPreconditionError("a migration is a transaction of its own: not in a batch");
  }
  MigrationResult result;
  result.from_version = db.schema_version();
  result.to_version = m.version;
  result.text = internal::CanonicalText(m);
  std::vector<std::string> destructive;
  for (const Step& s : m.steps) {
    if (internal::IsDestructive(s.kind)) destructive.push_back(internal::StepText(s));
  }
  result.destructive = !destructive.empty();
  if (result.destructive && !options.confirm_destructive && !options.dry_run) {
    return absl::FailedPreconditionError(
        StrCat("version ", m.version, " would lose data (", StrJoin(destructive, "; "),
               "): confirm it (voxctl schema apply --confirm-destructive; "
               "ApplyMigration.confirm_destructive)"));
  }
  if (options.dry_run) {
    Migrator migrator(db, ctx.now);
    VOX_RETURN_IF_ERROR(migrator.Run(m, &result.changes));
    migrator.Undo();
    return result;
  }
  absl::Status s = Transact(db, ctx.now, [&](Txn& txn) -> absl::Status {
    Migrator migrator(db, ctx.now);
    VOX_RETURN_IF_ERROR(migrator.Run(m, &result.changes));
    internal::Audit(txn, ctx, AuditAction::SCHEMA_MIGRATED, kNoRow, kNoRow, kNoRow,
                    AuditMetadata(m, result.destructive));
    if (!txn.ok()) {
      migrator.Undo();
      return txn.status();
    }
    migrator.Keep();
    db.AppendMigration(m.version, result.text);
    txn.set_schema_change(result.text);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  result.applied = true;
  return result;
}

absl::Status ReplayMigration(Database& db, std::string_view text, Timestamp now) {
  absl::StatusOr<MigrationText> m = internal::ParseMigrationText(text);
  absl::Status s = m.ok() ? CheckVersion(db, *m) : m.status();
  if (s.ok()) {
    Migrator migrator(db, now);
    s = migrator.Run(*m, nullptr);
    if (s.ok()) migrator.Keep();
  }
  if (!s.ok()) {
    return absl::DataLossError(
        StrCat("a recorded migration does not apply to this database: ", s.message()));
  }
  db.AppendMigration(m->version, internal::CanonicalText(*m));
  return absl::OkStatus();
}

std::string DescribeSchema(const Database& db) {
  std::string out = StrCat("schema version ", db.schema_version(), " (built-in: ", kSchemaVersion,
                           ", migrations applied: ", db.schema_history().size(), ")\n");
  for (const std::string& text : db.schema_history()) {
    absl::StatusOr<MigrationText> m = internal::ParseMigrationText(text);
    if (!m.ok()) continue;  // every entry parsed when it was applied
    out += StrCat("  version ", m->version, m->name.empty() ? "" : StrCat(": ", m->name), " (",
                  Count(m->steps.size(), "step"), ")\n");
  }
  for (size_t i = 0; i < db.table_count(); ++i) {
    const Table& t = db.table(static_cast<TableId>(i));
    const TableId id = t.id();
    out += StrCat("\ntable ", t.name(), IsBuiltinTable(id) ? "" : "  -- added", "  (",
                  Count(t.live_count(), "row"), ")\n");
    for (ColumnId c = 0; c < t.def().columns.size(); ++c) {
      const ColumnDef& col = t.def().columns[c];
      internal::TypeSpec type{col.type, col.max_length, ""};
      if (col.type == ColumnType::kEnum) type.target = std::string(GetEnum(col.enum_id).name);
      if (col.type == ColumnType::kRef) type.target = std::string(db.table(col.ref_table).name());
      std::string line = StrCat("  ", col.name, " ",
                                col.type == ColumnType::kTags ? std::string("tags")
                                                              : internal::TypeText(type));
      if (col.Has(kPrimaryKey)) line += " primary key";
      if (col.nullable()) line += " null";
      if (col.Has(kSecret)) line += " secret";
      if (col.Has(kUpdatable)) line += " updatable";
      if (!IsBuiltinColumn(id, c)) line += "  -- added";
      out += line + "\n";
    }
    for (size_t x = 1; x < t.index_count(); ++x) {
      const IndexDef& ix = t.index(x).def();
      std::vector<std::string> parts;
      for (const KeyPart& p : ix.key()) {
        parts.push_back(StrCat(t.def().columns[p.column].name, p.descending ? " desc" : ""));
      }
      out += StrCat("  index ", ix.name,
                    ix.kind == IndexKind::kUniqueHash ? " unique"
                    : ix.kind == IndexKind::kGrouped  ? " grouped"
                                                      : " ordered",
                    " (", StrJoin(parts, ", "), ")", ix.num_conds > 0 ? " partial" : "",
                    x >= t.builtin_index_count() ? "  -- added" : "", "\n");
    }
  }
  out += "\n";
  for (size_t e = 0; e < kEnumCount; ++e) {
    const auto id = static_cast<EnumId>(e);
    std::vector<std::string> values;
    for (size_t v = 0; v < db.enum_size(id); ++v) {
      values.push_back(StrCat(EnumValueName(id, v), v >= kEnums[e].values.size() ? " (added)" : ""));
    }
    out += StrCat("enum ", kEnums[e].name, ": ", StrJoin(values, ", "), "\n");
  }
  return out;
}

}  // namespace vox
