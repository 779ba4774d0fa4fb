#include "tools/voxctl_output.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

#include "flatbuffers/reflection.h"
#include "schema/str.h"
#include "schema/types.h"
#include "schema/voxdb_generated.h"
#include "tools/voxctl_schema.h"

namespace vox::voxctl {

using reflection::BaseType;

namespace {

const reflection::Object& ObjectAt(int index) {
  return *WireSchema::Get().schema().objects()->Get(index);
}
const reflection::Enum& EnumAt(int index) {
  return *WireSchema::Get().schema().enums()->Get(index);
}

// A secret the server should never send; redacted if it does.
constexpr char kRedacted[] = "<redacted>";

struct RawScalar {
  int64_t i = 0;  // integers (ulong: its bits)
  double d = 0;
};

template <typename T>
int64_t Read(const uint8_t* p) {
  return static_cast<int64_t>(flatbuffers::ReadScalar<T>(p));
}

RawScalar ReadScalarAt(const uint8_t* p, BaseType t) {
  switch (t) {
    case reflection::Bool:
    case reflection::UType:
    case reflection::UByte:
      return {Read<uint8_t>(p)};
    case reflection::Byte:
      return {Read<int8_t>(p)};
    case reflection::Short:
      return {Read<int16_t>(p)};
    case reflection::UShort:
      return {Read<uint16_t>(p)};
    case reflection::Int:
      return {Read<int32_t>(p)};
    case reflection::UInt:
      return {Read<uint32_t>(p)};
    case reflection::Long:
      return {Read<int64_t>(p)};
    case reflection::ULong:
      return {static_cast<int64_t>(flatbuffers::ReadScalar<uint64_t>(p))};
    case reflection::Float:
      return {0, flatbuffers::ReadScalar<float>(p)};
    case reflection::Double:
      return {0, flatbuffers::ReadScalar<double>(p)};
    default:
      return {};
  }
}

std::string DoubleText(double d) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, r.ptr);
}

Doc ScalarDoc(BaseType t, int enum_index, bool timestamp, RawScalar v) {
  if (t == reflection::Bool) return Doc::Bool(v.i != 0);
  if (flatbuffers::IsFloat(t)) {
    return std::isfinite(v.d) ? Doc::Number(DoubleText(v.d)) : Doc{};
  }
  if (enum_index >= 0) {
    if (const reflection::EnumVal* e = EnumAt(enum_index).values()->LookupByKey(v.i)) {
      return Doc::Text(e->name()->str());
    }
  }
  if (timestamp) return Doc::Text(FormatTimestamp(v.i));
  if (t == reflection::ULong) return Doc::Number(std::to_string(static_cast<uint64_t>(v.i)));
  return Doc::Number(std::to_string(v.i));
}

Doc StructDoc(const reflection::Object& object, const uint8_t* at) {
  if (IsUuidStruct(object)) {
    const auto hi =
        ReadScalarAt(at + object.fields()->LookupByKey("hi")->offset(), reflection::ULong);
    const auto lo =
        ReadScalarAt(at + object.fields()->LookupByKey("lo")->offset(), reflection::ULong);
    return Doc::Text(FormatUuid(Uuid{static_cast<uint64_t>(hi.i), static_cast<uint64_t>(lo.i)}));
  }
  Doc d{Doc::Kind::kObject};
  for (const reflection::Field* f : FieldsInOrder(object)) {
    const reflection::Type& t = *f->type();
    d.fields.emplace_back(f->name()->str(),
                          t.base_type() == BaseType::Obj
                              ? StructDoc(ObjectAt(t.index()), at + f->offset())
                              : ScalarDoc(t.base_type(), t.index(), IsTimestampField(*f),
                                          ReadScalarAt(at + f->offset(), t.base_type())));
  }
  return d;
}

Doc TableDoc(const reflection::Object& object, const flatbuffers::Table& table);

// The member of a union field `field` of `table`, or null.
Doc UnionDoc(const reflection::Object& object, const reflection::Field& field,
             const flatbuffers::Table& table, std::string* member) {
  const reflection::Field* tag =
      object.fields()->LookupByKey(StrCat(field.name()->string_view(), "_type").c_str());
  if (tag == nullptr) return {};
  const uint8_t type = table.GetField<uint8_t>(tag->offset(), 0);
  const reflection::EnumVal* v = EnumAt(field.type()->index()).values()->LookupByKey(type);
  const auto* sub = table.GetPointer<const flatbuffers::Table*>(field.offset());
  if (v == nullptr || v->union_type() == nullptr || sub == nullptr) return {};
  if (member != nullptr) *member = v->name()->str();
  return TableDoc(ObjectAt(v->union_type()->index()), *sub);
}

Doc VectorDoc(const reflection::Type& type, const flatbuffers::VectorOfAny& v) {
  Doc d{Doc::Kind::kArray};
  const BaseType e = type.element();
  for (flatbuffers::uoffset_t i = 0; i < v.size(); ++i) {
    if (e == BaseType::String) {
      d.items.push_back(
          Doc::Text(flatbuffers::GetAnyVectorElemPointer<const flatbuffers::String>(&v, i)->str()));
    } else if (e == BaseType::Obj) {
      const reflection::Object& o = ObjectAt(type.index());
      if (o.is_struct()) {
        d.items.push_back(StructDoc(o, v.Data() + size_t{i} * o.bytesize()));
      } else {
        d.items.push_back(
            TableDoc(o, *flatbuffers::GetAnyVectorElemPointer<const flatbuffers::Table>(&v, i)));
      }
    } else if (flatbuffers::IsScalar(e)) {
      const size_t size = flatbuffers::GetTypeSize(e);
      d.items.push_back(ScalarDoc(e, type.index(), false, ReadScalarAt(v.Data() + i * size, e)));
    } else {
      d.items.push_back(Doc{});
    }
  }
  // Rows the server sends as JSON text become objects.
  if (e == BaseType::String && !d.items.empty()) {
    std::vector<Doc> rows;
    for (const Doc& item : d.items) {
      std::optional<Doc> row = ParseFlatJsonObject(item.text);
      if (!row) return d;
      rows.push_back(*std::move(row));
    }
    d.items = std::move(rows);
    d.rows = true;
  }
  return d;
}

void Redact(const std::string& name, Doc& value) {
  if (IsSecretName(name) && value.kind != Doc::Kind::kNull) value = Doc::Text(kRedacted);
}

Doc TableDoc(const reflection::Object& object, const flatbuffers::Table& table) {
  Doc d{Doc::Kind::kObject};
  for (const reflection::Field* f : FieldsInOrder(object)) {
    const reflection::Type& t = *f->type();
    const std::string name = f->name()->str();
    Doc value;
    switch (t.base_type()) {
      case BaseType::String:
        if (const auto* s = table.GetPointer<const flatbuffers::String*>(f->offset())) {
          value = Doc::Text(s->str());
        }
        break;
      case BaseType::Obj: {
        const reflection::Object& o = ObjectAt(t.index());
        if (o.is_struct()) {
          if (const uint8_t* p = table.GetStruct<const uint8_t*>(f->offset()))
            value = StructDoc(o, p);
        } else if (const auto* sub = table.GetPointer<const flatbuffers::Table*>(f->offset())) {
          value = TableDoc(o, *sub);
        }
        break;
      }
      case BaseType::Union: {
        std::string member;
        value = UnionDoc(object, *f, table, &member);
        d.fields.emplace_back(name + "_type", member.empty() ? Doc{} : Doc::Text(member));
        break;
      }
      case BaseType::Vector:
        if (const auto* v = table.GetPointer<const flatbuffers::VectorOfAny*>(f->offset())) {
          value = VectorDoc(t, *v);
        } else {
          value = Doc{Doc::Kind::kArray};
        }
        break;
      default: {
        const uint8_t* p = table.GetAddressOf(f->offset());
        if (p == nullptr && f->optional()) break;
        RawScalar v = p != nullptr ? ReadScalarAt(p, t.base_type())
                                   : RawScalar{f->default_integer(), f->default_real()};
        value = ScalarDoc(t.base_type(), t.index(), IsTimestampField(*f), v);
      }
    }
    Redact(name, value);
    if (value.kind == Doc::Kind::kArray) {
      for (Doc& item : value.items) {
        for (auto& [k, v] : item.fields) Redact(k, v);
      }
    }
    d.fields.emplace_back(name, std::move(value));
  }
  return d;
}

// ---- Rendering ----

std::string Json(const Doc& d) {
  switch (d.kind) {
    case Doc::Kind::kNull:
      return "null";
    case Doc::Kind::kBool:
    case Doc::Kind::kNumber:
    case Doc::Kind::kRaw:
      return d.text;
    case Doc::Kind::kString:
      return JsonQuote(d.text);
    case Doc::Kind::kObject: {
      std::string out = "{";
      for (size_t i = 0; i < d.fields.size(); ++i) {
        out += StrCat(i ? "," : "", JsonQuote(d.fields[i].first), ":", Json(d.fields[i].second));
      }
      return out + "}";
    }
    case Doc::Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < d.items.size(); ++i) out += StrCat(i ? "," : "", Json(d.items[i]));
      return out + "]";
    }
  }
  return "null";
}

// A value in one line: control characters escaped, lists joined with ",".
std::string Cell(const Doc& d) {
  switch (d.kind) {
    case Doc::Kind::kNull:
      return "";
    case Doc::Kind::kString: {
      std::string out;
      for (char c : d.text) {
        if (c == '\n') {
          out += "\\n";
        } else if (c == '\t') {
          out += "\\t";
        } else if (static_cast<unsigned char>(c) < 0x20) {
          out += '?';
        } else {
          out += c;
        }
      }
      return out;
    }
    case Doc::Kind::kArray: {
      const bool scalars = std::none_of(d.items.begin(), d.items.end(), [](const Doc& i) {
        return i.kind == Doc::Kind::kObject || i.kind == Doc::Kind::kArray;
      });
      if (!scalars) return Json(d);
      std::vector<std::string> parts;
      for (const Doc& i : d.items) parts.push_back(Cell(i));
      return StrJoin(parts, ",");
    }
    case Doc::Kind::kObject:
      return Json(d);
    default:
      return d.text;
  }
}

// Display width: UTF-8 code points.
size_t Width(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

std::string Pad(std::string_view s, size_t width, bool right) {
  const std::string fill(width > Width(s) ? width - Width(s) : 0, ' ');
  return right ? StrCat(fill, s) : StrCat(s, fill);
}

bool IsList(const Doc& d) {
  return d.kind == Doc::Kind::kArray && !d.items.empty() &&
         std::all_of(d.items.begin(), d.items.end(),
                     [](const Doc& i) { return i.kind == Doc::Kind::kObject; });
}

// Nested objects as dotted keys.
void Flatten(const std::string& prefix, const Doc& d,
             std::vector<std::pair<std::string, const Doc*>>& out) {
  for (const auto& [k, v] : d.fields) {
    if (v.kind == Doc::Kind::kObject && !v.fields.empty()) {
      Flatten(StrCat(prefix, k, "."), v, out);
    } else {
      out.emplace_back(StrCat(prefix, k), &v);
    }
  }
}

std::string KeyValues(const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& [k, v] : rows) width = std::max(width, Width(k));
  std::string out;
  for (const auto& [k, v] : rows) {
    out += v.empty() ? StrCat(k, "\n") : StrCat(Pad(k, width, false), "  ", v, "\n");
  }
  return out;
}

// The columns of a list of objects: every key, in order of first appearance.
std::vector<std::string> Columns(const Doc& list) {
  std::vector<std::string> columns;
  for (const Doc& item : list.items) {
    for (const auto& [k, v] : item.fields) {
      if (std::find(columns.begin(), columns.end(), k) == columns.end()) columns.push_back(k);
    }
  }
  return columns;
}

const Doc* Get(const Doc& object, const std::string& key) {
  for (const auto& [k, v] : object.fields) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string Grid(const Doc& list) {
  const std::vector<std::string> columns = Columns(list);
  std::vector<std::vector<std::string>> cells(list.items.size());
  std::vector<size_t> width(columns.size());
  std::vector<bool> numeric(columns.size(), true);
  for (size_t c = 0; c < columns.size(); ++c) {
    width[c] = Width(columns[c]);
    for (size_t r = 0; r < list.items.size(); ++r) {
      const Doc* v = Get(list.items[r], columns[c]);
      cells[r].push_back(v == nullptr ? "" : Cell(*v));
      width[c] = std::max(width[c], Width(cells[r].back()));
      if (v != nullptr && v->kind != Doc::Kind::kNumber && v->kind != Doc::Kind::kNull) {
        numeric[c] = false;
      }
    }
  }
  auto line = [&](auto cell_at) {
    std::string out;
    for (size_t c = 0; c < columns.size(); ++c) {
      const bool last = c + 1 == columns.size();
      const std::string cell = cell_at(c);
      out += StrCat(c ? "  " : "",
                    last && !numeric[c] ? std::string(cell) : Pad(cell, width[c], numeric[c]));
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line([&](size_t c) { return columns[c]; });
  for (size_t r = 0; r < cells.size(); ++r) out += line([&](size_t c) { return cells[r][c]; });
  return out;
}

std::string RenderTable(const Doc& doc) {
  if (doc.kind != Doc::Kind::kObject) return Cell(doc) + "\n";
  if (doc.fields.empty()) return "OK\n";
  std::vector<const std::pair<std::string, Doc>*> lists;
  for (const auto& field : doc.fields) {
    if (IsList(field.second)) lists.push_back(&field);
  }
  std::vector<std::pair<std::string, std::string>> kv;
  for (const auto& field : doc.fields) {
    const Doc& v = field.second;
    if (IsList(v)) continue;
    // Beside a list, empty fields (paging cursors, union tags) are noise.
    if (!lists.empty() && v.kind == Doc::Kind::kNull) continue;
    if (v.kind == Doc::Kind::kArray && v.items.empty()) {
      kv.emplace_back(field.first, "(none)");
      continue;
    }
    if (v.kind == Doc::Kind::kObject) {
      std::vector<std::pair<std::string, const Doc*>> flat;
      Flatten(field.first + ".", v, flat);
      for (const auto& [k, d] : flat) kv.emplace_back(k, Cell(*d));
      continue;
    }
    kv.emplace_back(field.first, Cell(v));
  }
  // One row (GetRow, UserByEmail) and nothing else: `key  value` lines.
  if (kv.empty() && lists.size() == 1 && lists[0]->second.rows &&
      lists[0]->second.items.size() == 1) {
    const Doc& row = lists[0]->second.items[0];
    std::vector<std::pair<std::string, const Doc*>> flat;
    Flatten("", row, flat);
    for (const auto& [k, d] : flat) kv.emplace_back(k, Cell(*d));
    return KeyValues(kv);
  }
  std::string out = KeyValues(kv);
  for (const auto* list : lists) {
    if (!out.empty()) out += "\n";
    if (lists.size() > 1) out += list->first + ":\n";
    out += Grid(list->second);
  }
  return out;
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos &&
      (s.empty() || (s.front() != ' ' && s.back() != ' '))) {
    return s;
  }
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Like Cell, without escaping line breaks (CSV quotes them).
std::string CsvValue(const Doc& d) { return d.kind == Doc::Kind::kString ? d.text : Cell(d); }

std::string CsvRow(const std::vector<std::string>& cells) {
  std::vector<std::string> quoted;
  for (const std::string& c : cells) quoted.push_back(CsvCell(c));
  return StrJoin(quoted, ",") + "\n";
}

std::string RenderCsv(const Doc& doc) {
  if (doc.kind != Doc::Kind::kObject) return CsvRow({CsvValue(doc)});
  for (const auto& [name, v] : doc.fields) {
    if (!IsList(v)) continue;
    const std::vector<std::string> columns = Columns(v);
    std::string out = CsvRow(columns);
    for (const Doc& item : v.items) {
      std::vector<std::string> row;
      for (const std::string& c : columns) {
        const Doc* cell = Get(item, c);
        row.push_back(cell == nullptr ? "" : CsvValue(*cell));
      }
      out += CsvRow(row);
    }
    return out;
  }
  std::vector<std::pair<std::string, const Doc*>> flat;
  Flatten("", doc, flat);
  if (flat.empty()) return "";
  std::vector<std::string> header, row;
  for (const auto& [k, d] : flat) {
    if (d->kind == Doc::Kind::kArray && d->items.empty()) continue;  // an empty list
    header.push_back(k);
    row.push_back(CsvValue(*d));
  }
  return header.empty() ? "" : CsvRow(header) + CsvRow(row);
}

// ---- Flat JSON ----

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : s_(s) {}

  void SkipSpace() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    SkipSpace();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool AtEnd() {
    SkipSpace();
    return i_ == s_.size();
  }

  // After the opening quote.
  std::optional<std::string> String() {
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      switch (const char e = s_[i_++]) {
        case '"':
        case '\\':
        case '/':
          out += e;
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::optional<uint32_t> cp = Hex4();
          if (!cp) return std::nullopt;
          if (*cp >= 0xd800 && *cp < 0xdc00 && s_.substr(i_, 2) == "\\u") {
            i_ += 2;
            std::optional<uint32_t> low = Hex4();
            if (!low || *low < 0xdc00 || *low > 0xdfff) return std::nullopt;
            *cp = 0x10000 + ((*cp - 0xd800) << 10) + (*low - 0xdc00);
          }
          AppendUtf8(out, *cp);
          break;
        }
        default:
          return std::nullopt;
      }
    }
    return std::nullopt;
  }

  std::optional<Doc> Value() {
    SkipSpace();
    if (i_ >= s_.size()) return std::nullopt;
    const char c = s_[i_];
    if (c == '"') {
      ++i_;
      std::optional<std::string> s = String();
      if (!s) return std::nullopt;
      return Doc::Text(*std::move(s));
    }
    if (c == '{' || c == '[') {
      const size_t start = i_;
      if (!SkipNested()) return std::nullopt;
      return Doc{Doc::Kind::kRaw, std::string(s_.substr(start, i_ - start))};
    }
    for (const char* word : {"true", "false", "null"}) {
      if (s_.substr(i_).starts_with(word)) {
        i_ += std::string_view(word).size();
        if (word[0] == 'n') return Doc{};
        return Doc::Bool(word[0] == 't');
      }
    }
    const size_t start = i_;
    while (i_ < s_.size() &&
           std::string_view("+-0123456789.eE").find(s_[i_]) != std::string_view::npos) {
      ++i_;
    }
    const std::string_view number = s_.substr(start, i_ - start);
    double ignored;
    auto r = std::from_chars(number.data(), number.data() + number.size(), ignored);
    if (number.empty() || r.ptr != number.data() + number.size()) return std::nullopt;
    return Doc::Number(std::string(number));
  }

 private:
  std::optional<uint32_t> Hex4() {
    if (i_ + 4 > s_.size()) return std::nullopt;
    uint32_t v = 0;
    auto r = std::from_chars(s_.data() + i_, s_.data() + i_ + 4, v, 16);
    if (r.ptr != s_.data() + i_ + 4) return std::nullopt;
    i_ += 4;
    return v;
  }
  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  // Past a nested object or array, minding strings.
  bool SkipNested() {
    int depth = 0;
    bool in_string = false;
    for (; i_ < s_.size(); ++i_) {
      const char c = s_[i_];
      if (in_string) {
        if (c == '\\') {
          ++i_;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if ((c == '}' || c == ']') && --depth == 0) {
        ++i_;
        return true;
      }
    }
    return false;
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<Format> ParseFormat(std::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "csv") return Format::kCsv;
  return std::nullopt;
}

Doc ResultDoc(const wire::Response& response) {
  const reflection::Object* object = WireSchema::Get().FindObject("Response");
  // A generated table privately derives from flatbuffers::Table and adds no members.
  const auto& table = reinterpret_cast<const flatbuffers::Table&>(response);
  for (const reflection::Field* f : FieldsInOrder(*object)) {
    if (f->type()->base_type() != BaseType::Union) continue;
    Doc d = UnionDoc(*object, *f, table, nullptr);
    return d.kind == Doc::Kind::kNull ? Doc{Doc::Kind::kObject} : d;
  }
  return Doc{Doc::Kind::kObject};
}

std::string Render(const Doc& doc, Format format) {
  switch (format) {
    case Format::kJson:
      return Json(doc) + "\n";
    case Format::kCsv:
      return RenderCsv(doc);
    case Format::kTable:
      return RenderTable(doc);
  }
  return "";
}

std::optional<Doc> ParseFlatJsonObject(std::string_view text) {
  JsonScanner in(text);
  if (!in.Eat('{')) return std::nullopt;
  Doc object{Doc::Kind::kObject};
  if (!in.Eat('}')) {
    do {
      if (!in.Eat('"')) return std::nullopt;
      std::optional<std::string> key = in.String();
      if (!key || !in.Eat(':')) return std::nullopt;
      std::optional<Doc> value = in.Value();
      if (!value) return std::nullopt;
      object.fields.emplace_back(*std::move(key), *std::move(value));
    } while (in.Eat(','));
    if (!in.Eat('}')) return std::nullopt;
  }
  if (!in.AtEnd()) return std::nullopt;
  return object;
}

}  // namespace vox::voxctl
