#include "engine/internal/migration_text.h"

#include <cctype>
#include <charconv>

#include "schema/str.h"
#include "schema/types.h"

namespace vox::internal {
namespace {

struct Token {
  enum class Kind : uint8_t { kWord, kNumber, kString, kPunct } kind;
  std::string text;  // kString: unquoted; kWord: as written
  int64_t number = 0;
};

bool IsWordStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The statements of `text`, each a list of tokens with its line number.
struct Statement {
  int line;
  std::vector<Token> tokens;
};

absl::StatusOr<std::vector<Statement>> Tokenize(std::string_view text) {
  std::vector<Statement> out;
  Statement cur{1, {}};
  int line = 1;
  auto end_statement = [&] {
    if (!cur.tokens.empty()) out.push_back(std::move(cur));
    cur = Statement{line, {}};
  };
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n' || c == ';') {
      if (c == '\n') ++line;
      ++i;
      end_statement();
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (cur.tokens.empty()) cur.line = line;
    if (c == '#' || (c == '-' && i + 1 < text.size() && text[i + 1] == '-')) {
      while (i < text.size() && text[i] != '\n') ++i;
      continue;
    }
    if (IsWordStart(c)) {
      const size_t start = i;
      while (i < text.size() && IsWordChar(text[i])) ++i;
      cur.tokens.push_back({Token::Kind::kWord, std::string(text.substr(start, i - start))});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '-' && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      const size_t start = i;
      ++i;
      while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
      Token t{Token::Kind::kNumber, std::string(text.substr(start, i - start))};
      const auto r = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.number);
      if (r.ec != std::errc() || r.ptr != t.text.data() + t.text.size()) {
        return absl::InvalidArgumentError(
            StrCat("line ", line, ": ", t.text, " is not a 64-bit integer"));
      }
      cur.tokens.push_back(std::move(t));
      continue;
    }
    if (c == '\'') {
      std::string s;
      ++i;
      while (true) {
        if (i >= text.size() || text[i] == '\n') {
          return absl::InvalidArgumentError(StrCat("line ", line, ": unterminated string"));
        }
        if (text[i] == '\'') {
          if (i + 1 < text.size() && text[i + 1] == '\'') {  // '' is a quote
            s += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        s += text[i++];
      }
      cur.tokens.push_back({Token::Kind::kString, std::move(s)});
      continue;
    }
    if (c == '(' || c == ')' || c == ',' || c == '.') {
      cur.tokens.push_back({Token::Kind::kPunct, std::string(1, c)});
      ++i;
      continue;
    }
    return absl::InvalidArgumentError(
        StrCat("line ", line, ": unexpected character '", std::string(1, c), "'"));
  }
  end_statement();
  return out;
}

// Reads one statement's tokens in order.
class Reader {
 public:
  explicit Reader(const Statement& s) : s_(s) {}

  bool AtEnd() const { return pos_ >= s_.tokens.size(); }
  // Consumes the keyword `word` (any case) if it is next.
  bool Take(std::string_view word) {
    if (AtEnd() || s_.tokens[pos_].kind != Token::Kind::kWord ||
        Lower(s_.tokens[pos_].text) != word) {
      return false;
    }
    ++pos_;
    return true;
  }
  bool TakePunct(char p) {
    if (AtEnd() || s_.tokens[pos_].kind != Token::Kind::kPunct || s_.tokens[pos_].text[0] != p) {
      return false;
    }
    ++pos_;
    return true;
  }
  absl::Status Expect(std::string_view word) {
    if (Take(word)) return absl::OkStatus();
    return Error(StrCat("expected '", word, "'"));
  }
  absl::Status ExpectPunct(char p) {
    if (TakePunct(p)) return absl::OkStatus();
    return Error(StrCat("expected '", std::string(1, p), "'"));
  }
  // A name: letters, digits and '_', not starting with a digit, 1-63 long.
  absl::StatusOr<std::string> Name(std::string_view what) {
    if (AtEnd() || s_.tokens[pos_].kind != Token::Kind::kWord) {
      return Error(StrCat("expected ", what));
    }
    std::string name = s_.tokens[pos_++].text;
    if (name.size() > 63) {
      return absl::InvalidArgumentError(
          StrCat("line ", s_.line, ": ", what, " '", name.substr(0, 64), "...' is longer than 63"));
    }
    return name;
  }
  // TABLE.COLUMN
  absl::Status TableColumn(std::string* table, std::string* column) {
    VOX_ASSIGN_OR_RETURN(*table, Name("a table name"));
    VOX_RETURN_IF_ERROR(ExpectPunct('.'));
    VOX_ASSIGN_OR_RETURN(*column, Name("a column name"));
    return absl::OkStatus();
  }
  absl::StatusOr<int64_t> Number(std::string_view what) {
    if (AtEnd() || s_.tokens[pos_].kind != Token::Kind::kNumber) {
      return Error(StrCat("expected ", what));
    }
    return s_.tokens[pos_++].number;
  }
  absl::StatusOr<std::string> String(std::string_view what) {
    if (AtEnd() || s_.tokens[pos_].kind != Token::Kind::kString) {
      return Error(StrCat("expected ", what, " in single quotes"));
    }
    return s_.tokens[pos_++].text;
  }
  absl::StatusOr<TypeSpec> Type() {
    TypeSpec t;
    if (Take("bool")) {
      t.type = ColumnType::kBool;
    } else if (Take("int32")) {
      t.type = ColumnType::kInt32;
    } else if (Take("int64")) {
      t.type = ColumnType::kInt64;
    } else if (Take("timestamp")) {
      t.type = ColumnType::kTimestamp;
    } else if (Take("uuid")) {
      t.type = ColumnType::kUuid;
    } else if (Take("inet")) {
      t.type = ColumnType::kInet;
    } else if (Take("string") || Take("json")) {
      t.type = Lower(s_.tokens[pos_ - 1].text) == "string" ? ColumnType::kString : ColumnType::kJson;
      VOX_RETURN_IF_ERROR(ExpectPunct('('));
      VOX_ASSIGN_OR_RETURN(int64_t n, Number("a length in bytes"));
      if (n < 1 || n > 1'000'000) {
        return absl::InvalidArgumentError(
            StrCat("line ", s_.line, ": a length must be 1 to 1000000 bytes, not ", n));
      }
      t.max_length = static_cast<uint32_t>(n);
      VOX_RETURN_IF_ERROR(ExpectPunct(')'));
    } else if (Take("enum") || Take("ref")) {
      t.type = Lower(s_.tokens[pos_ - 1].text) == "enum" ? ColumnType::kEnum : ColumnType::kRef;
      VOX_RETURN_IF_ERROR(ExpectPunct('('));
      VOX_ASSIGN_OR_RETURN(t.target, Name(t.type == ColumnType::kEnum ? "an enum name" : "a table name"));
      VOX_RETURN_IF_ERROR(ExpectPunct(')'));
    } else {
      return Error(
          "expected a type (bool, int32, int64, timestamp, uuid, inet, string(N), json(N), "
          "enum(E), ref(T))");
    }
    return t;
  }
  absl::Status Done() {
    if (AtEnd()) return absl::OkStatus();
    return Error("unexpected text");
  }
  absl::Status Error(std::string_view expected) const {
    const std::string got = AtEnd() ? std::string("the end of the statement")
                                    : StrCat("'", s_.tokens[pos_].text.substr(0, 64), "'");
    return absl::InvalidArgumentError(StrCat("line ", s_.line, ": ", expected, "; got ", got));
  }

 private:
  const Statement& s_;
  size_t pos_ = 0;
};

absl::Status ParseColumnOptions(Reader& r, Step* step) {
  while (!r.AtEnd()) {
    if (r.Take("null")) {
      step->nullable = true;
    } else if (r.Take("secret")) {
      step->secret = true;
    } else if (r.Take("default")) {
      DefaultSpec& d = step->fallback;
      if (r.Take("null")) {
        d.kind = DefaultSpec::Kind::kNull;
      } else if (r.Take("now")) {
        d.kind = DefaultSpec::Kind::kNow;
      } else if (r.Take("true")) {
        d.kind = DefaultSpec::Kind::kInt;
        d.number = 1;
      } else if (r.Take("false")) {
        d.kind = DefaultSpec::Kind::kInt;
        d.number = 0;
      } else if (auto n = r.Number("a default"); n.ok()) {
        d.kind = DefaultSpec::Kind::kInt;
        d.number = *n;
      } else if (auto s = r.String("a default"); s.ok()) {
        d.kind = DefaultSpec::Kind::kText;
        d.text = *s;
      } else if (auto w = r.Name("a default"); w.ok()) {
        d.kind = DefaultSpec::Kind::kText;  // an enum value written bare
        d.text = *w;
      } else {
        return r.Error("expected a default (null, now, a number, true, false or 'text')");
      }
    } else if (r.Take("on")) {
      VOX_RETURN_IF_ERROR(r.Expect("delete"));
      if (r.Take("cascade")) {
        step->on_delete = OnDelete::kCascade;
      } else if (r.Take("restrict")) {
        step->on_delete = OnDelete::kRestrict;
      } else if (r.Take("set")) {
        VOX_RETURN_IF_ERROR(r.Expect("null"));
        step->on_delete = OnDelete::kSetNull;
      } else {
        return r.Error("expected cascade, set null or restrict");
      }
      step->on_delete_given = true;
    } else {
      return r.Error("expected null, default, secret or on delete");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Step> ParseStep(Reader& r, int line) {
  Step step;
  step.line = line;
  if (r.Take("add")) {
    if (r.Take("column")) {
      step.kind = StepKind::kAddColumn;
      VOX_RETURN_IF_ERROR(r.TableColumn(&step.table, &step.column));
      VOX_ASSIGN_OR_RETURN(step.type, r.Type());
      VOX_RETURN_IF_ERROR(ParseColumnOptions(r, &step));
      return step;
    }
    if (r.Take("enum")) {
      VOX_RETURN_IF_ERROR(r.Expect("value"));
      step.kind = StepKind::kAddEnumValue;
      VOX_ASSIGN_OR_RETURN(step.enum_name, r.Name("an enum name"));
      VOX_ASSIGN_OR_RETURN(step.name, r.Name("the new value's name"));
      return step;
    }
    if (r.Take("table")) {
      step.kind = StepKind::kAddTable;
      VOX_ASSIGN_OR_RETURN(step.table, r.Name("a table name"));
      if (r.Take("delete")) {
        if (r.Take("hard")) {
          step.delete_policy = DeletePolicy::kHard;
        } else if (r.Take("none")) {
          step.delete_policy = DeletePolicy::kNone;
        } else {
          return r.Error("expected hard or none");
        }
      }
      return step;
    }
    step.unique = r.Take("unique");
    if (r.Take("index")) {
      step.kind = StepKind::kAddIndex;
      VOX_ASSIGN_OR_RETURN(step.name, r.Name("an index name"));
      VOX_RETURN_IF_ERROR(r.Expect("on"));
      VOX_ASSIGN_OR_RETURN(step.table, r.Name("a table name"));
      VOX_RETURN_IF_ERROR(r.ExpectPunct('('));
      do {
        VOX_ASSIGN_OR_RETURN(std::string column, r.Name("a column name"));
        const bool desc = r.Take("desc");
        if (!desc) r.Take("asc");
        step.key.emplace_back(std::move(column), desc);
      } while (r.TakePunct(','));
      VOX_RETURN_IF_ERROR(r.ExpectPunct(')'));
      return step;
    }
    return r.Error("expected column, enum value, table, index or unique index after 'add'");
  }
  if (r.Take("drop")) {
    if (r.Take("index")) {
      step.kind = StepKind::kDropIndex;
      VOX_ASSIGN_OR_RETURN(step.name, r.Name("an index name"));
      return step;
    }
    if (r.Take("column")) {
      step.kind = StepKind::kDropColumn;
      VOX_RETURN_IF_ERROR(r.TableColumn(&step.table, &step.column));
      return step;
    }
    if (r.Take("table")) {
      step.kind = StepKind::kDropTable;
      VOX_ASSIGN_OR_RETURN(step.table, r.Name("a table name"));
      return step;
    }
    return r.Error("expected index, column or table after 'drop'");
  }
  if (r.Take("rename")) {
    VOX_RETURN_IF_ERROR(r.Expect("column"));
    step.kind = StepKind::kRenameColumn;
    VOX_RETURN_IF_ERROR(r.TableColumn(&step.table, &step.column));
    VOX_RETURN_IF_ERROR(r.Expect("to"));
    VOX_ASSIGN_OR_RETURN(step.name, r.Name("the new column name"));
    return step;
  }
  if (r.Take("alter")) {
    VOX_RETURN_IF_ERROR(r.Expect("column"));
    step.kind = StepKind::kAlterColumn;
    VOX_RETURN_IF_ERROR(r.TableColumn(&step.table, &step.column));
    if (r.Take("updatable")) {
      step.updatable = true;
    } else if (r.Take("readonly")) {
      step.updatable = false;
    } else {
      return r.Error("expected updatable or readonly");
    }
    return step;
  }
  return r.Error(
      "expected version, name, add, drop, rename, widen, narrow or alter at the start of a "
      "statement");
}

std::string Quote(std::string_view s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string TypeText(const TypeSpec& t) {
  switch (t.type) {
    case ColumnType::kString:
    case ColumnType::kJson:
      return StrCat(ColumnTypeName(t.type), "(", t.max_length, ")");
    case ColumnType::kEnum:
    case ColumnType::kRef:
      return StrCat(ColumnTypeName(t.type), "(", t.target, ")");
    default:
      return std::string(ColumnTypeName(t.type));
  }
}

absl::StatusOr<MigrationText> ParseMigrationText(std::string_view text) {
  if (text.size() > (1u << 20)) {
    return absl::InvalidArgumentError(
        StrCat("a migration is at most 1 MiB of text; this one is ", text.size(), " bytes"));
  }
  VOX_ASSIGN_OR_RETURN(std::vector<Statement> statements, Tokenize(text));
  MigrationText m;
  bool have_version = false;
  for (const Statement& s : statements) {
    Reader r(s);
    if (r.Take("version")) {
      if (have_version) return r.Error("a second 'version'");
      VOX_ASSIGN_OR_RETURN(int64_t v, r.Number("the version number"));
      if (v < 2 || v > UINT32_MAX) {
        return absl::InvalidArgumentError(StrCat(
            "line ", s.line, ": version ", v, " is out of range (2 and up; 1 is the built-in)"));
      }
      m.version = static_cast<uint32_t>(v);
      have_version = true;
      VOX_RETURN_IF_ERROR(r.Done());
      continue;
    }
    if (r.Take("name")) {
      VOX_ASSIGN_OR_RETURN(m.name, r.String("the migration's name"));
      if (m.name.size() > 200) {
        return absl::InvalidArgumentError(StrCat("line ", s.line, ": a name is at most 200 bytes"));
      }
      VOX_RETURN_IF_ERROR(r.Done());
      continue;
    }
    Step step;
    if (r.Take("widen") || r.Take("narrow")) {
      step.kind = Lower(s.tokens[0].text) == "widen" ? StepKind::kWidenColumn
                                                     : StepKind::kNarrowColumn;
      step.line = s.line;
      VOX_RETURN_IF_ERROR(r.Expect("column"));
      VOX_RETURN_IF_ERROR(r.TableColumn(&step.table, &step.column));
      VOX_ASSIGN_OR_RETURN(step.type, r.Type());
    } else {
      VOX_ASSIGN_OR_RETURN(step, ParseStep(r, s.line));
    }
    VOX_RETURN_IF_ERROR(r.Done());
    m.steps.push_back(std::move(step));
  }
  if (!have_version) {
    return absl::InvalidArgumentError(
        "a migration starts with 'version N': the schema version it makes");
  }
  if (m.steps.empty()) return absl::InvalidArgumentError("the migration has no steps");
  if (m.steps.size() > 1000) {
    return absl::InvalidArgumentError(
        StrCat("a migration has at most 1000 steps; this one has ", m.steps.size()));
  }
  return m;
}

std::string StepText(const Step& s) {
  switch (s.kind) {
    case StepKind::kAddColumn: {
      std::string out = StrCat("add column ", s.table, ".", s.column, " ", TypeText(s.type));
      if (s.nullable) out += " null";
      switch (s.fallback.kind) {
        case DefaultSpec::Kind::kNone:
          break;
        case DefaultSpec::Kind::kNull:
          out += " default null";
          break;
        case DefaultSpec::Kind::kNow:
          out += " default now";
          break;
        case DefaultSpec::Kind::kInt:
          out += s.type.type == ColumnType::kBool
                     ? (s.fallback.number != 0 ? " default true" : " default false")
                     : StrCat(" default ", s.fallback.number);
          break;
        case DefaultSpec::Kind::kText:
          out += StrCat(" default ", Quote(s.fallback.text));
          break;
      }
      if (s.secret) out += " secret";
      if (s.on_delete_given) {
        out += s.on_delete == OnDelete::kCascade   ? " on delete cascade"
               : s.on_delete == OnDelete::kSetNull ? " on delete set null"
                                                   : " on delete restrict";
      }
      return out;
    }
    case StepKind::kAddEnumValue:
      return StrCat("add enum value ", s.enum_name, " ", s.name);
    case StepKind::kAddTable:
      return StrCat("add table ", s.table,
                    s.delete_policy == DeletePolicy::kNone ? " delete none" : "");
    case StepKind::kAddIndex: {
      std::vector<std::string> parts;
      for (const auto& [column, desc] : s.key) parts.push_back(desc ? column + " desc" : column);
      return StrCat("add ", s.unique ? "unique " : "", "index ", s.name, " on ", s.table, " (",
                    StrJoin(parts, ", "), ")");
    }
    case StepKind::kDropIndex:
      return StrCat("drop index ", s.name);
    case StepKind::kRenameColumn:
      return StrCat("rename column ", s.table, ".", s.column, " to ", s.name);
    case StepKind::kWidenColumn:
      return StrCat("widen column ", s.table, ".", s.column, " ", TypeText(s.type));
    case StepKind::kAlterColumn:
      return StrCat("alter column ", s.table, ".", s.column,
                    s.updatable ? " updatable" : " readonly");
    case StepKind::kNarrowColumn:
      return StrCat("narrow column ", s.table, ".", s.column, " ", TypeText(s.type));
    case StepKind::kDropColumn:
      return StrCat("drop column ", s.table, ".", s.column);
    case StepKind::kDropTable:
      return StrCat("drop table ", s.table);
  }
  return "?";
}

std::string CanonicalText(const MigrationText& m) {
  std::string out = StrCat("version ", m.version, "\n");
  if (!m.name.empty()) out += StrCat("name ", Quote(m.name), "\n");
  for (const Step& s : m.steps) out += StepText(s) + "\n";
  return out;
}

}  // namespace vox::internal
