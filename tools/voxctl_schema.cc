#include "tools/voxctl_schema.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <map>
#include <span>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "flatbuffers/reflection.h"
#include "schema/str.h"
#include "schema/types.h"
#include "schema/voxdb_bfbs_generated.h"

namespace vox::voxctl {

using reflection::BaseType;

namespace {

std::string ShortName(const flatbuffers::String* qualified) {
  const std::string_view s = qualified->string_view();
  const size_t dot = s.rfind('.');
  return std::string(dot == std::string_view::npos ? s : s.substr(dot + 1));
}

const reflection::Schema& Schema() { return WireSchema::Get().schema(); }
const reflection::Object& ObjectAt(int index) { return *Schema().objects()->Get(index); }
const reflection::Enum& EnumAt(int index) { return *Schema().enums()->Get(index); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  return out;
}

const reflection::Field* FindField(const reflection::Object& object, std::string_view name) {
  const std::string want = NormalizeName(name);
  for (const reflection::Field* f : FieldsInOrder(object)) {
    if (NormalizeName(f->name()->string_view()) == want) return f;
  }
  return nullptr;
}

std::string FieldList(const reflection::Object& object) {
  std::vector<std::string> names;
  for (const reflection::Field* f : FieldsInOrder(object)) names.push_back(f->name()->str());
  return names.empty() ? "none" : StrJoin(names, ", ");
}

std::string ScalarName(BaseType t) {
  switch (t) {
    case reflection::Bool:
      return "bool";
    case reflection::Byte:
      return "byte";
    case reflection::UByte:
      return "ubyte";
    case reflection::Short:
      return "short";
    case reflection::UShort:
      return "ushort";
    case reflection::Int:
      return "int";
    case reflection::UInt:
      return "uint";
    case reflection::Long:
      return "long";
    case reflection::ULong:
      return "ulong";
    case reflection::Float:
      return "float";
    case reflection::Double:
      return "double";
    default:
      return "?";
  }
}

// The names of an enum's values, "A|B|C".
std::string EnumValues(int index) {
  std::vector<std::string> names;
  for (const reflection::EnumVal* v : *EnumAt(index).values()) names.push_back(v->name()->str());
  return StrJoin(names, "|");
}

// A vector element's or a field's scalar type, with what it means.
struct ScalarType {
  BaseType base;
  int enum_index;  // -1: not an enum
  bool timestamp;
};

std::string ScalarTypeName(const ScalarType& t) {
  if (t.enum_index >= 0) return ShortName(EnumAt(t.enum_index).name());
  if (t.timestamp) return "timestamp";
  return ScalarName(t.base);
}

// A table of a column name, a kind (an enum) and one value field per kind
// (`<kind>_value`; a kind without one, such as Null, carries no value):
// FieldValue. Given on the command line as `FIELD.COLUMN[:KIND]=VALUE`.
struct TaggedShape {
  const reflection::Field* column = nullptr;
  const reflection::Field* kind = nullptr;
  // Per kind: its enum value and its value field (nullptr: none).
  std::vector<std::pair<const reflection::EnumVal*, const reflection::Field*>> kinds;
};

std::optional<TaggedShape> TaggedValueShape(const reflection::Object& object) {
  if (object.is_struct()) return std::nullopt;
  TaggedShape shape;
  shape.column = FindField(object, "column");
  shape.kind = FindField(object, "kind");
  if (shape.column == nullptr || shape.kind == nullptr ||
      shape.column->type()->base_type() != BaseType::String ||
      !flatbuffers::IsInteger(shape.kind->type()->base_type()) || shape.kind->type()->index() < 0) {
    return std::nullopt;
  }
  size_t matched = 2, with_value = 0;
  for (const reflection::EnumVal* v : *EnumAt(shape.kind->type()->index()).values()) {
    const reflection::Field* f = FindField(object, Lower(v->name()->string_view()) + "_value");
    shape.kinds.emplace_back(v, f);
    if (f != nullptr) ++matched, ++with_value;
  }
  if (with_value == 0 || matched != FieldsInOrder(object).size()) return std::nullopt;
  return shape;
}

// ---- Values from text ----

struct Scalar {
  int64_t i = 0;  // integers and bools (ulong: its bits)
  double d = 0;   // float, double
};

template <typename T>
bool InRange(int64_t v) {
  return v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
         v <= static_cast<int64_t>(std::numeric_limits<T>::max());
}

bool IntegerFits(BaseType t, int64_t v) {
  switch (t) {
    case reflection::Byte:
      return InRange<int8_t>(v);
    case reflection::UByte:
    case reflection::UType:
      return InRange<uint8_t>(v);
    case reflection::Short:
      return InRange<int16_t>(v);
    case reflection::UShort:
      return InRange<uint16_t>(v);
    case reflection::Int:
      return InRange<int32_t>(v);
    case reflection::UInt:
      return InRange<uint32_t>(v);
    case reflection::ULong:
      return v >= 0;
    default:
      return true;
  }
}

// Why `text` is not a `t`, or the value.
absl::StatusOr<Scalar> ParseScalar(const ScalarType& t, std::string_view text) {
  Scalar out;
  const absl::string_view a(text.data(), text.size());
  if (t.base == reflection::Bool) {
    const std::string v = Lower(text);
    if (v == "true" || v == "1" || v == "yes" || v == "on") {
      out.i = 1;
    } else if (v != "false" && v != "0" && v != "no" && v != "off") {
      return absl::InvalidArgumentError("expected true or false");
    }
    return out;
  }
  if (flatbuffers::IsFloat(t.base)) {
    if (!absl::SimpleAtod(a, &out.d)) return absl::InvalidArgumentError("expected a number");
    return out;
  }
  if (t.enum_index >= 0) {
    for (const reflection::EnumVal* v : *EnumAt(t.enum_index).values()) {
      if (NormalizeName(v->name()->string_view()) == NormalizeName(text)) {
        out.i = v->value();
        return out;
      }
    }
    if (!absl::SimpleAtoi(a, &out.i) || !IntegerFits(t.base, out.i)) {
      return absl::InvalidArgumentError(StrCat("expected one of ", EnumValues(t.enum_index)));
    }
    return out;
  }
  if (t.base == reflection::ULong) {
    uint64_t u = 0;
    if (!absl::SimpleAtoi(a, &u)) return absl::InvalidArgumentError("expected an unsigned integer");
    out.i = static_cast<int64_t>(u);
    return out;
  }
  if (absl::SimpleAtoi(a, &out.i)) {
    if (!IntegerFits(t.base, out.i)) {
      return absl::InvalidArgumentError(StrCat("out of range for ", ScalarName(t.base)));
    }
    return out;
  }
  if (t.timestamp) {
    if (Lower(text) == "now") {
      out.i = absl::ToUnixMicros(absl::Now());
      return out;
    }
    absl::StatusOr<Timestamp> ts = ParseTimestamp(text);
    if (!ts.ok()) {
      return absl::InvalidArgumentError(
          "expected microseconds since the epoch, an RFC 3339 time "
          "(2026-11-01T20:00:00Z) or now");
    }
    out.i = *ts;
    return out;
  }
  return absl::InvalidArgumentError(StrCat("expected an integer (", ScalarName(t.base), ")"));
}

template <typename T>
void Store(uint8_t* p, T v) {
  flatbuffers::WriteScalar<T>(p, v);
}

// Writes `v` as a `t` at `p`, little-endian.
void StoreScalar(uint8_t* p, BaseType t, const Scalar& v) {
  switch (t) {
    case reflection::Bool:
    case reflection::UType:
    case reflection::UByte:
      return Store<uint8_t>(p, static_cast<uint8_t>(v.i));
    case reflection::Byte:
      return Store<int8_t>(p, static_cast<int8_t>(v.i));
    case reflection::Short:
      return Store<int16_t>(p, static_cast<int16_t>(v.i));
    case reflection::UShort:
      return Store<uint16_t>(p, static_cast<uint16_t>(v.i));
    case reflection::Int:
      return Store<int32_t>(p, static_cast<int32_t>(v.i));
    case reflection::UInt:
      return Store<uint32_t>(p, static_cast<uint32_t>(v.i));
    case reflection::Long:
      return Store<int64_t>(p, v.i);
    case reflection::ULong:
      return Store<uint64_t>(p, static_cast<uint64_t>(v.i));
    case reflection::Float:
      return Store<float>(p, static_cast<float>(v.d));
    case reflection::Double:
      return Store<double>(p, v.d);
    default:
      return;
  }
}

void AddScalar(rpc::Builder& b, flatbuffers::voffset_t field, BaseType t, const Scalar& v) {
  switch (t) {
    case reflection::Bool:
    case reflection::UType:
    case reflection::UByte:
      return b.AddElement<uint8_t>(field, static_cast<uint8_t>(v.i));
    case reflection::Byte:
      return b.AddElement<int8_t>(field, static_cast<int8_t>(v.i));
    case reflection::Short:
      return b.AddElement<int16_t>(field, static_cast<int16_t>(v.i));
    case reflection::UShort:
      return b.AddElement<uint16_t>(field, static_cast<uint16_t>(v.i));
    case reflection::Int:
      return b.AddElement<int32_t>(field, static_cast<int32_t>(v.i));
    case reflection::UInt:
      return b.AddElement<uint32_t>(field, static_cast<uint32_t>(v.i));
    case reflection::Long:
      return b.AddElement<int64_t>(field, v.i);
    case reflection::ULong:
      return b.AddElement<uint64_t>(field, static_cast<uint64_t>(v.i));
    case reflection::Float:
      return b.AddElement<float>(field, static_cast<float>(v.d));
    case reflection::Double:
      return b.AddElement<double>(field, v.d);
    default:
      return;
  }
}

// Splits a list value at commas; `\,` is a comma inside an element and `\\`
// a backslash. An empty value is an empty list.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  if (text.empty()) return out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && (text[i + 1] == ',' || text[i + 1] == '\\')) {
      cur += text[++i];
    } else if (text[i] == ',') {
      out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += text[i];
    }
  }
  out.push_back(std::move(cur));
  return out;
}

bool IsIdName(std::string_view name) {
  return name == "id" || (name.size() > 3 && name.substr(name.size() - 3) == "_id");
}

// Whether voxctl refuses to send `op` without `field`: the schema's
// (required), and the ids an operation's fields open with (JoinRoom's
// room_id and user_id) or one named `id` (GetRow). `FIELD=null` sends an
// id absent on purpose.
bool IsRequired(const reflection::Object& op, const reflection::Field& field, bool* by_id_rule) {
  *by_id_rule = false;
  if (field.required()) return true;
  for (const reflection::Field* f : FieldsInOrder(op)) {
    const reflection::Type& t = *f->type();
    const bool uuid = t.base_type() == BaseType::Obj && IsUuidStruct(ObjectAt(t.index()));
    if (!uuid || !IsIdName(f->name()->string_view())) break;
    if (f == &field) return *by_id_rule = true;
  }
  const reflection::Type& t = *field.type();
  if (field.name()->string_view() == "id" && t.base_type() == BaseType::Obj &&
      IsUuidStruct(ObjectAt(t.index()))) {
    return *by_id_rule = true;
  }
  return false;
}

}  // namespace

// ---- The schema ----

WireSchema::WireSchema() {
  const uint8_t* data = wire::RequestBinarySchema::data();
  flatbuffers::Verifier verifier(data, wire::RequestBinarySchema::size());
  if (!reflection::VerifySchemaBuffer(verifier)) {
    std::fprintf(stderr, "voxctl: the embedded schema is damaged\n");
    std::abort();
  }
  schema_ = reflection::GetSchema(data);
  for (const reflection::Enum* e : *schema_->enums()) {
    if (!e->is_union() || ShortName(e->name()) != "Op") continue;
    for (const reflection::EnumVal* v : *e->values()) {
      if (v->value() == 0 || v->union_type() == nullptr) continue;  // NONE
      if (v->name()->string_view() == "Hello" || v->name()->string_view() == "ScramProof") {
        continue;  // the client's handshake
      }
      ops_.push_back({v->name()->str(), static_cast<uint8_t>(v->value()),
                      schema_->objects()->Get(v->union_type()->index())});
    }
  }
}

const WireSchema& WireSchema::Get() {
  static const WireSchema* schema = new WireSchema();
  return *schema;
}

const OpInfo* WireSchema::FindOp(std::string_view name) const {
  const std::string want = NormalizeName(name);
  for (const OpInfo& op : ops_) {
    if (NormalizeName(op.name) == want) return &op;
  }
  return nullptr;
}

const reflection::Object* WireSchema::FindObject(std::string_view name) const {
  for (const reflection::Object* o : *schema_->objects()) {
    if (ShortName(o->name()) == name) return o;
  }
  return nullptr;
}

std::vector<const reflection::Field*> FieldsInOrder(const reflection::Object& object) {
  std::vector<const reflection::Field*> fields;
  for (const reflection::Field* f : *object.fields()) {
    if (f->deprecated() || f->type()->base_type() == BaseType::UType) continue;
    fields.push_back(f);
  }
  std::sort(
      fields.begin(), fields.end(),
      [](const reflection::Field* a, const reflection::Field* b) { return a->id() < b->id(); });
  return fields;
}

bool IsUuidStruct(const reflection::Object& object) {
  if (!object.is_struct() || object.fields()->size() != 2) return false;
  const reflection::Field* hi = object.fields()->LookupByKey("hi");
  const reflection::Field* lo = object.fields()->LookupByKey("lo");
  return hi != nullptr && lo != nullptr && hi->type()->base_type() == BaseType::ULong &&
         lo->type()->base_type() == BaseType::ULong;
}

bool IsTimestampField(const reflection::Field& field) {
  if (field.type()->base_type() != BaseType::Long) return false;
  const std::string_view n = field.name()->string_view();
  return (n.size() > 3 && n.substr(n.size() - 3) == "_at") || n == "until" ||
         n == "scheduled_start" || n == "scheduled_end" || n == "effective_from" ||
         n == "from" || n == "to";  // report and search ranges
}

std::string NormalizeName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '_' || c == '-') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  return out;
}

bool IsSecretName(std::string_view name) {
  const std::string n = Lower(name);
  return n.find("password") != std::string::npos || n.find("secret") != std::string::npos ||
         n.ends_with("token") || n.ends_with("tokens") || n.ends_with("token_hash");
}

std::string TypeName(const reflection::Field& field) {
  const reflection::Type& t = *field.type();
  switch (t.base_type()) {
    case BaseType::String:
      return "string";
    case BaseType::Obj:
      return IsUuidStruct(ObjectAt(t.index())) ? "uuid" : ShortName(ObjectAt(t.index()).name());
    case BaseType::Union:
      return StrCat("union ", ShortName(EnumAt(t.index()).name()));
    case BaseType::Vector:
      switch (t.element()) {
        case BaseType::String:
          return "[string]";
        case BaseType::Obj:
          return StrCat(
              "[",
              IsUuidStruct(ObjectAt(t.index())) ? "uuid" : ShortName(ObjectAt(t.index()).name()),
              "]");
        case BaseType::Union:
          return StrCat("[union ", ShortName(EnumAt(t.index()).name()), "]");
        default:
          return StrCat("[", ScalarTypeName({t.element(), t.index(), false}), "]");
      }
    default:
      return ScalarTypeName({t.base_type(), t.index(), IsTimestampField(field)});
  }
}

// ---- Building an operation ----

// A value given for one field.
struct Assigned {
  const reflection::Field* field = nullptr;
  bool absent = false;         // FIELD=null: not sent
  Scalar scalar;               // scalars
  std::string text;            // strings
  std::vector<uint8_t> bytes;  // a struct, or a vector of scalars or structs (little-endian)
  size_t count = 0;            // elements in `bytes` or `strings`
  std::vector<std::string> strings;
  std::unique_ptr<OpRequest::Node> table;
  std::vector<std::unique_ptr<OpRequest::Node>> tables;
  std::vector<std::string> columns;  // tagged values: the columns given, for duplicates
};

struct OpRequest::Node {
  const reflection::Object* object = nullptr;
  std::string path;                     // "settings." inside a nested table; "" at the top
  std::map<uint16_t, Assigned> fields;  // by field id
};

namespace {

using Node = OpRequest::Node;

// The error for `path` of `op`: "JoinRoom room_id: expected a uuid ...".
absl::Status Bad(const std::string& where, const std::string& type, std::string_view why,
                 std::string_view value, bool secret) {
  std::string msg = StrCat(where, " (", type, "): ", why);
  if (!secret) msg += StrCat("; got '", value, "'");
  return absl::InvalidArgumentError(msg);
}

absl::Status SetStructFromText(const reflection::Object& object, uint8_t* at, std::string_view text,
                               std::string_view why_prefix);

// Sets `path` inside a struct whose bytes start at `at`.
absl::Status SetStructField(const reflection::Object& object, uint8_t* at,
                            std::span<const std::string> path, std::string_view value,
                            const std::string& where) {
  const reflection::Field* f = FindField(object, path[0]);
  const std::string here = StrCat(where, ".", path[0]);
  if (f == nullptr) {
    return absl::InvalidArgumentError(StrCat(where, " (", ShortName(object.name()),
                                             ") has no field '", path[0],
                                             "'; its fields: ", FieldList(object)));
  }
  const reflection::Type& t = *f->type();
  if (t.base_type() == BaseType::Obj) {
    const reflection::Object& inner = ObjectAt(t.index());
    if (path.size() > 1)
      return SetStructField(inner, at + f->offset(), path.subspan(1), value, here);
    if (!IsUuidStruct(inner)) {
      return absl::InvalidArgumentError(StrCat(here, " (", ShortName(inner.name()),
                                               "): give its fields as ", here, ".FIELD=VALUE"));
    }
    return SetStructFromText(inner, at + f->offset(), value, here);
  }
  if (path.size() > 1)
    return absl::InvalidArgumentError(StrCat(here, " has no field '", path[1], "'"));
  if (!flatbuffers::IsScalar(t.base_type())) {
    return absl::InvalidArgumentError(StrCat(here, " cannot be given as FIELD=VALUE words"));
  }
  const ScalarType st{t.base_type(), t.index(), IsTimestampField(*f)};
  absl::StatusOr<Scalar> v = ParseScalar(st, value);
  if (!v.ok()) return Bad(here, ScalarTypeName(st), ToStd(v.status().message()), value, false);
  StoreScalar(at + f->offset(), t.base_type(), *v);
  return absl::OkStatus();
}

// A uuid-shaped struct from its text.
absl::Status SetStructFromText(const reflection::Object& object, uint8_t* at, std::string_view text,
                               std::string_view where) {
  absl::StatusOr<Uuid> id = ParseUuid(text);
  if (!id.ok()) {
    return Bad(std::string(where), "uuid", "expected 8-4-4-4-12 hex digits", text, false);
  }
  StoreScalar(at + object.fields()->LookupByKey("hi")->offset(), reflection::ULong,
              {static_cast<int64_t>(id->hi), 0});
  StoreScalar(at + object.fields()->LookupByKey("lo")->offset(), reflection::ULong,
              {static_cast<int64_t>(id->lo), 0});
  return absl::OkStatus();
}

absl::Status Assign(Node& node, std::span<const std::string> path, std::string_view kind,
                    std::string_view value);

// One `FIELD.COLUMN[:KIND]=VALUE` of a vector of tagged values.
absl::Status AssignTagged(Assigned& slot, const reflection::Object& object,
                          const TaggedShape& shape, const std::string& where,
                          const std::string& column, std::string_view kind,
                          std::string_view value) {
  if (std::find(slot.columns.begin(), slot.columns.end(), NormalizeName(column)) !=
      slot.columns.end()) {
    return absl::InvalidArgumentError(StrCat(where, ".", column, " is given twice"));
  }
  const bool secret = IsSecretName(column);
  const std::string here = StrCat(where, ".", column);
  // The kind: given, or inferred from the value.
  const reflection::EnumVal* chosen = nullptr;
  const reflection::Field* value_field = nullptr;
  auto kind_with = [&](auto pred) -> bool {
    for (const auto& [v, f] : shape.kinds) {
      if (pred(v, f)) {
        chosen = v;
        value_field = f;
        return true;
      }
    }
    return false;
  };
  if (!kind.empty()) {
    if (!kind_with([&](const reflection::EnumVal* v, const reflection::Field*) {
          return NormalizeName(v->name()->string_view()) == NormalizeName(kind);
        })) {
      return absl::InvalidArgumentError(StrCat(here, ": unknown kind '", kind, "'; one of ",
                                               EnumValues(shape.kind->type()->index())));
    }
  } else {
    auto base_of = [](const reflection::Field* f) {
      return f == nullptr ? BaseType::None : f->type()->base_type();
    };
    auto is_uuid = [&](const reflection::Field* f) {
      return base_of(f) == BaseType::Obj && IsUuidStruct(ObjectAt(f->type()->index()));
    };
    const std::string lower = Lower(value);
    int64_t n = 0;
    const bool integer = absl::SimpleAtoi(absl::string_view(value.data(), value.size()), &n);
    const bool found = (lower == "null" && kind_with([&](auto*, const reflection::Field* f) {
                          return f == nullptr;
                        })) ||
                       ((integer || lower == "true" || lower == "false") &&
                        kind_with([&](auto*, const reflection::Field* f) {
                          return f != nullptr && flatbuffers::IsInteger(base_of(f));
                        })) ||
                       (ParseUuid(value).ok() && kind_with([&](auto*, const reflection::Field* f) {
                          return f != nullptr && is_uuid(f);
                        })) ||
                       kind_with([&](auto*, const reflection::Field* f) {
                         return f != nullptr && base_of(f) == BaseType::String;
                       });
    if (!found) {
      return absl::InvalidArgumentError(StrCat(here, ": give its kind, as ", here, ":KIND=VALUE"));
    }
  }
  auto entry = std::make_unique<Node>();
  entry->object = &object;
  entry->path = StrCat(where, ".");
  VOX_RETURN_IF_ERROR(
      Assign(*entry, std::vector<std::string>{shape.column->name()->str()}, "", column));
  VOX_RETURN_IF_ERROR(Assign(*entry, std::vector<std::string>{shape.kind->name()->str()}, "",
                             chosen->name()->string_view()));
  if (value_field != nullptr) {
    std::string v(value);
    if (flatbuffers::IsInteger(value_field->type()->base_type())) {
      if (Lower(value) == "true") v = "1";
      if (Lower(value) == "false") v = "0";
    }
    absl::Status s = Assign(*entry, std::vector<std::string>{value_field->name()->str()}, "", v);
    if (!s.ok()) {
      return Bad(here, StrCat("kind ", chosen->name()->string_view(), ": ", TypeName(*value_field)),
                 "not a value of this kind", value, secret);
    }
  }
  slot.columns.push_back(NormalizeName(column));
  slot.tables.push_back(std::move(entry));
  return absl::OkStatus();
}

// Sets `path` (field names, then for vectors of tables an index or a
// column) of `node` to `value`.
absl::Status Assign(Node& node, std::span<const std::string> path, std::string_view kind,
                    std::string_view value) {
  const reflection::Object& object = *node.object;
  const reflection::Field* f = FindField(object, path[0]);
  if (f == nullptr) {
    const std::string owner = node.path.empty() ? std::string()
                                                : StrCat(node.path.substr(0, node.path.size() - 1),
                                                         " (", ShortName(object.name()), ") has ");
    return absl::InvalidArgumentError(
        StrCat(owner, "no field '", path[0], "'; its fields: ", FieldList(object)));
  }
  const std::string where = StrCat(node.path, f->name()->string_view());
  const std::string type = TypeName(*f);
  const bool secret = IsSecretName(f->name()->string_view());
  const reflection::Type& t = *f->type();
  const bool fresh = node.fields.find(f->id()) == node.fields.end();
  Assigned& slot = node.fields[f->id()];
  slot.field = f;
  auto once = [&]() -> absl::Status {
    if (!fresh) return absl::InvalidArgumentError(StrCat(where, " is given twice"));
    return absl::OkStatus();
  };
  auto leaf = [&]() -> absl::Status {
    if (path.size() > 1) {
      return absl::InvalidArgumentError(
          StrCat(where, " (", type, ") has no field '", path[1], "'"));
    }
    if (!kind.empty()) {
      return absl::InvalidArgumentError(StrCat(where, " (", type, ") takes no :", kind));
    }
    return once();
  };
  switch (t.base_type()) {
    case BaseType::String:
      VOX_RETURN_IF_ERROR(leaf());
      slot.text = std::string(value);
      return absl::OkStatus();
    case BaseType::Union:
      return absl::InvalidArgumentError(
          StrCat(where, " (", type, ") cannot be given as FIELD=VALUE words"));
    case BaseType::Obj: {
      const reflection::Object& inner = ObjectAt(t.index());
      if (inner.is_struct()) {
        if (path.size() == 1) {
          VOX_RETURN_IF_ERROR(leaf());
          if (Lower(value) == "null") {
            slot.absent = true;
            return absl::OkStatus();
          }
          if (!IsUuidStruct(inner)) {
            return absl::InvalidArgumentError(
                StrCat(where, " (", type, "): give its fields as ", where, ".FIELD=VALUE"));
          }
          slot.bytes.assign(inner.bytesize(), 0);
          return SetStructFromText(inner, slot.bytes.data(), value, where);
        }
        if (slot.bytes.empty()) slot.bytes.assign(inner.bytesize(), 0);
        return SetStructField(inner, slot.bytes.data(), path.subspan(1), value, where);
      }
      if (slot.table == nullptr) {
        slot.table = std::make_unique<Node>();
        slot.table->object = &inner;
        slot.table->path = StrCat(where, ".");
      }
      if (path.size() == 1) {
        if (!value.empty() || !kind.empty()) {
          return absl::InvalidArgumentError(StrCat(where, " (", type, "): give its fields as ",
                                                   where, ".FIELD=VALUE (", where,
                                                   "= sends it empty)"));
        }
        return absl::OkStatus();
      }
      return Assign(*slot.table, path.subspan(1), kind, value);
    }
    case BaseType::Vector: {
      if (t.element() == BaseType::Obj && !ObjectAt(t.index()).is_struct()) {
        const reflection::Object& inner = ObjectAt(t.index());
        if (std::optional<TaggedShape> shape = TaggedValueShape(inner)) {
          if (path.size() != 2) {
            return absl::InvalidArgumentError(StrCat(where, " (", type, "): give each as ", where,
                                                     ".COLUMN=VALUE or ", where,
                                                     ".COLUMN:KIND=VALUE"));
          }
          return AssignTagged(slot, inner, *shape, where, path[1], kind, value);
        }
        size_t index = 0;
        if (path.size() < 3 || !absl::SimpleAtoi(absl::string_view(path[1]), &index) ||
            index > 1000) {
          return absl::InvalidArgumentError(StrCat(
              where, " (", type, "): give each element's fields as ", where, ".N.FIELD=VALUE"));
        }
        while (slot.tables.size() <= index) {
          auto n = std::make_unique<Node>();
          n->object = &inner;
          n->path = StrCat(where, ".", slot.tables.size(), ".");
          slot.tables.push_back(std::move(n));
        }
        return Assign(*slot.tables[index], path.subspan(2), kind, value);
      }
      if (t.element() == BaseType::Union) {
        return absl::InvalidArgumentError(
            StrCat(where, " (", type, ") cannot be given as FIELD=VALUE words"));
      }
      VOX_RETURN_IF_ERROR(leaf());
      const std::vector<std::string> items = SplitList(value);
      slot.count = items.size();
      if (t.element() == BaseType::String) {
        slot.strings = items;
        return absl::OkStatus();
      }
      if (t.element() == BaseType::Obj) {  // structs: uuids only
        const reflection::Object& inner = ObjectAt(t.index());
        if (!IsUuidStruct(inner)) {
          return absl::InvalidArgumentError(
              StrCat(where, " (", type, ") cannot be given as FIELD=VALUE words"));
        }
        slot.bytes.assign(items.size() * inner.bytesize(), 0);
        for (size_t i = 0; i < items.size(); ++i) {
          VOX_RETURN_IF_ERROR(SetStructFromText(inner, slot.bytes.data() + i * inner.bytesize(),
                                                items[i], StrCat(where, "[", i, "]")));
        }
        return absl::OkStatus();
      }
      const ScalarType st{t.element(), t.index(), false};
      const size_t size = flatbuffers::GetTypeSize(t.element());
      slot.bytes.assign(items.size() * size, 0);
      for (size_t i = 0; i < items.size(); ++i) {
        absl::StatusOr<Scalar> v = ParseScalar(st, items[i]);
        if (!v.ok()) {
          return Bad(StrCat(where, "[", i, "]"), ScalarTypeName(st), ToStd(v.status().message()),
                     items[i], secret);
        }
        StoreScalar(slot.bytes.data() + i * size, t.element(), *v);
      }
      return absl::OkStatus();
    }
    default: {  // scalars
      VOX_RETURN_IF_ERROR(leaf());
      if (Lower(value) == "null") {
        slot.absent = true;
        return absl::OkStatus();
      }
      const ScalarType st{t.base_type(), t.index(), IsTimestampField(*f)};
      absl::StatusOr<Scalar> v = ParseScalar(st, value);
      if (!v.ok()) return Bad(where, type, ToStd(v.status().message()), value, secret);
      slot.scalar = *v;
      return absl::OkStatus();
    }
  }
}

// Refuses a node without the fields it must have.
absl::Status CheckRequired(const Node& node, const reflection::Object* op) {
  for (const reflection::Field* f : FieldsInOrder(*node.object)) {
    bool by_id_rule = false;
    const bool required = op != nullptr ? IsRequired(*op, *f, &by_id_rule) : f->required();
    if (required && node.fields.find(f->id()) == node.fields.end()) {
      const std::string path = StrCat(node.path, f->name()->string_view());
      std::string msg = StrCat("missing ", path, " (", TypeName(*f), "), which is required");
      if (by_id_rule) msg += StrCat(" (", path, "=null sends it absent)");
      return absl::InvalidArgumentError(msg);
    }
  }
  for (const auto& [id, a] : node.fields) {
    if (a.table != nullptr) VOX_RETURN_IF_ERROR(CheckRequired(*a.table, nullptr));
    for (const auto& t : a.tables) VOX_RETURN_IF_ERROR(CheckRequired(*t, nullptr));
  }
  return absl::OkStatus();
}

flatbuffers::uoffset_t EncodeNode(rpc::Builder& b, const Node& node) {
  // Strings, vectors and tables first: a table is built without nesting.
  std::map<uint16_t, flatbuffers::uoffset_t> offsets;
  for (const auto& [id, a] : node.fields) {
    if (a.absent) continue;
    const reflection::Type& t = *a.field->type();
    switch (t.base_type()) {
      case BaseType::String:
        offsets[id] = b.CreateString(a.text).o;
        break;
      case BaseType::Obj:
        if (a.table != nullptr) offsets[id] = EncodeNode(b, *a.table);
        break;
      case BaseType::Vector:
        if (t.element() == BaseType::String) {
          offsets[id] = b.CreateVectorOfStrings(a.strings).o;
        } else if (t.element() == BaseType::Obj && !ObjectAt(t.index()).is_struct()) {
          std::vector<flatbuffers::Offset<void>> tables;
          for (const auto& n : a.tables) tables.emplace_back(EncodeNode(b, *n));
          offsets[id] = b.CreateVector(tables).o;
        } else if (t.element() == BaseType::Obj) {
          const reflection::Object& s = ObjectAt(t.index());
          b.StartVector(a.count * s.bytesize() / s.minalign(), s.minalign());
          b.PushBytes(a.bytes.data(), a.bytes.size());
          offsets[id] = b.EndVector(a.count);
        } else {
          b.StartVector(a.count, flatbuffers::GetTypeSize(t.element()));
          b.PushBytes(a.bytes.data(), a.bytes.size());
          offsets[id] = b.EndVector(a.count);
        }
        break;
      default:
        break;
    }
  }
  const flatbuffers::uoffset_t start = b.StartTable();
  for (const auto& [id, a] : node.fields) {
    if (a.absent) continue;
    const reflection::Type& t = *a.field->type();
    const flatbuffers::voffset_t field = a.field->offset();
    if (auto it = offsets.find(id); it != offsets.end()) {
      b.AddOffset(field, flatbuffers::Offset<void>(it->second));
    } else if (t.base_type() == BaseType::Obj && !a.bytes.empty()) {
      const reflection::Object& s = ObjectAt(t.index());
      b.Align(s.minalign());
      b.PushBytes(a.bytes.data(), a.bytes.size());
      b.TrackField(field, b.GetSize());
    } else if (flatbuffers::IsScalar(t.base_type())) {
      AddScalar(b, field, t.base_type(), a.scalar);
    }
  }
  return b.EndTable(start);
}

}  // namespace

OpRequest::OpRequest(const OpInfo& op, std::unique_ptr<Node> root)
    : op_(&op), root_(std::move(root)) {}
OpRequest::OpRequest(OpRequest&&) noexcept = default;
OpRequest& OpRequest::operator=(OpRequest&&) noexcept = default;
OpRequest::~OpRequest() = default;

rpc::Encoded OpRequest::Encode(rpc::Builder& builder) const {
  return rpc::Encoded{op_->type, EncodeNode(builder, *root_)};
}

absl::StatusOr<OpRequest> ParseOpArgs(const OpInfo& op, const std::vector<std::string>& args) {
  auto root = std::make_unique<Node>();
  root->object = op.table;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(StrCat(op.name, ": expected FIELD=VALUE, got '", arg,
                                               "'; fields: ", FieldList(*op.table),
                                               " (voxctl help ", op.name, ")"));
    }
    std::string key = arg.substr(0, eq);
    std::string kind;
    if (const size_t colon = key.rfind(':'); colon != std::string::npos) {
      kind = key.substr(colon + 1);
      key.resize(colon);
    }
    std::vector<std::string> path;
    for (size_t from = 0;;) {
      const size_t dot = key.find('.', from);
      path.push_back(key.substr(from, dot == std::string::npos ? dot : dot - from));
      if (path.back().empty()) {
        return absl::InvalidArgumentError(StrCat(op.name, ": '", key, "' is not a field name"));
      }
      if (dot == std::string::npos) break;
      from = dot + 1;
    }
    absl::Status s = Assign(*root, path, kind, std::string_view(arg).substr(eq + 1));
    if (!s.ok()) {
      return absl::InvalidArgumentError(StrCat(op.name, ": ", ToStd(s.message())));
    }
  }
  absl::Status s = CheckRequired(*root, op.table);
  if (!s.ok()) return absl::InvalidArgumentError(StrCat(op.name, ": ", ToStd(s.message())));
  return OpRequest(op, std::move(root));
}

// ---- Describing operations ----

namespace {

struct FieldLine {
  std::string path, type, notes;
};

void DescribeFields(const reflection::Object& object, const reflection::Object* op,
                    const std::string& prefix, int depth, std::vector<FieldLine>& out) {
  for (const reflection::Field* f : FieldsInOrder(object)) {
    const reflection::Type& t = *f->type();
    const std::string path = StrCat(prefix, f->name()->string_view());
    FieldLine line{path, TypeName(*f), ""};
    std::vector<std::string> notes;
    bool by_id_rule = false;
    if (op != nullptr ? IsRequired(*op, *f, &by_id_rule) : f->required())
      notes.push_back("required");
    if (f->optional() && flatbuffers::IsScalar(t.base_type())) notes.push_back("optional");
    if (flatbuffers::IsScalar(t.base_type()) && !f->optional()) {
      if (flatbuffers::IsFloat(t.base_type()) && f->default_real() != 0) {
        notes.push_back(StrCat("default ", f->default_real()));
      } else if (t.base_type() == BaseType::Bool && f->default_integer() != 0) {
        notes.push_back("default true");
      } else if (flatbuffers::IsInteger(t.base_type()) && f->default_integer() != 0) {
        notes.push_back(StrCat("default ", f->default_integer()));
      }
    }
    if (flatbuffers::IsInteger(t.base_type()) && t.index() >= 0) {
      notes.push_back(StrCat("one of ", EnumValues(t.index())));
    }
    if (IsTimestampField(*f)) notes.push_back("microseconds, RFC 3339 or now");
    const bool table_elems = t.base_type() == BaseType::Vector && t.element() == BaseType::Obj &&
                             !ObjectAt(t.index()).is_struct();
    if (t.base_type() == BaseType::Vector && !table_elems && t.element() != BaseType::Union) {
      notes.push_back("comma-separated");
    }
    if (t.base_type() == BaseType::Union ||
        (t.base_type() == BaseType::Vector && t.element() == BaseType::Union)) {
      notes.push_back("not settable from voxctl");
    }
    std::optional<TaggedShape> tagged;
    if (table_elems) tagged = TaggedValueShape(ObjectAt(t.index()));
    if (tagged) {
      std::vector<std::string> kinds;
      for (const auto& [v, vf] : tagged->kinds) kinds.push_back(v->name()->str());
      line.path = StrCat(path, ".COLUMN[:KIND]");
      notes.push_back(StrCat("repeatable; KIND ", StrJoin(kinds, "|"), " (default: guessed)"));
    } else if (table_elems) {
      notes.push_back(StrCat("give elements as ", path, ".N.FIELD"));
    }
    line.notes = StrJoin(notes, "; ");
    out.push_back(std::move(line));
    if (depth < 3 && t.base_type() == BaseType::Obj && !ObjectAt(t.index()).is_struct()) {
      DescribeFields(ObjectAt(t.index()), nullptr, StrCat(path, "."), depth + 1, out);
    } else if (depth < 3 && table_elems && !tagged && !FieldsInOrder(ObjectAt(t.index())).empty()) {
      DescribeFields(ObjectAt(t.index()), nullptr, StrCat(path, ".N."), depth + 1, out);
    }
  }
}

}  // namespace

std::string DescribeOp(const OpInfo& op) {
  std::vector<FieldLine> lines;
  DescribeFields(*op.table, op.table, "", 0, lines);
  std::string out = StrCat("voxctl call ", op.name, lines.empty() ? "" : " FIELD=VALUE ...", "\n");
  if (lines.empty()) return out + "  (no fields)\n";
  size_t w1 = 5, w2 = 4;
  for (const FieldLine& l : lines) {
    w1 = std::max(w1, l.path.size());
    w2 = std::max(w2, l.type.size());
  }
  for (const FieldLine& l : lines) {
    std::string row = StrCat("  ", l.path, std::string(w1 - l.path.size() + 2, ' '), l.type);
    if (!l.notes.empty()) row += StrCat(std::string(w2 - l.type.size() + 2, ' '), l.notes);
    out += row + "\n";
  }
  return out;
}

std::string ListOps() {
  size_t width = 0;
  for (const OpInfo& op : WireSchema::Get().ops()) width = std::max(width, op.name.size());
  std::string out;
  for (const OpInfo& op : WireSchema::Get().ops()) {
    std::vector<std::string> fields;
    for (const reflection::Field* f : FieldsInOrder(*op.table)) {
      fields.push_back(StrCat(f->name()->string_view(), ":", TypeName(*f)));
    }
    out += StrCat(op.name, std::string(width - op.name.size() + 2, ' '), StrJoin(fields, " "));
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  }
  return out;
}

std::vector<std::string> FieldPaths(const OpInfo& op) {
  std::vector<FieldLine> lines;
  DescribeFields(*op.table, op.table, "", 0, lines);
  std::vector<std::string> out;
  for (FieldLine& l : lines) {
    if (l.path.find(".N.") != std::string::npos) continue;  // a placeholder, not a name
    if (const size_t c = l.path.find(".COLUMN"); c != std::string::npos) l.path.resize(c + 1);
    out.push_back(std::move(l.path));
  }
  return out;
}

}  // namespace vox::voxctl
