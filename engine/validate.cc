// Value validation against the schema, and the JSON syntax check.
#include <cstring>

#include "engine/txn.h"
#include "engine/value.h"
#include "schema/str.h"

namespace vox {

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    int n;
    uint32_t cp;
    if (c < 0x80) {
      ++p;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    static constexpr uint32_t kMin[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

namespace {

// A recursive-descent JSON checker: accepts exactly RFC 8259 values.
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : s_(s) {}

  absl::Status Check() {
    SkipSpace();
    if (!ParseValue(0)) return Error();
    SkipSpace();
    if (pos_ != s_.size()) {
      error_ = "trailing characters";
      return Error();
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Error() const {
    return absl::InvalidArgumentError(
        StrCat("invalid JSON at byte ", pos_, ": ", error_.empty() ? "syntax" : error_));
  }
  void SkipSpace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  bool ParseValue(int depth) {
    if (depth > 64) {
      error_ = "nested deeper than 64";
      return false;
    }
    if (pos_ >= s_.size()) {
      error_ = "unexpected end";
      return false;
    }
    switch (s_[pos_]) {
      case '{':
        return ParseObject(depth);
      case '[':
        return ParseArray(depth);
      case '"':
        return ParseString();
      case 't':
        return Literal("true");
      case 'f':
        return Literal("false");
      case 'n':
        return Literal("null");
      default:
        return ParseNumber();
    }
  }
  bool ParseObject(int depth) {
    ++pos_;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
    while (true) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"' || !ParseString()) {
        if (error_.empty()) error_ = "expected a string key";
        return false;
      }
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return error_ = "expected ':'", false;
      ++pos_;
      SkipSpace();
      if (!ParseValue(depth + 1)) return false;
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
      return error_ = "expected ',' or '}'", false;
    }
  }
  bool ParseArray(int depth) {
    ++pos_;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
    while (true) {
      SkipSpace();
      if (!ParseValue(depth + 1)) return false;
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
      return error_ = "expected ',' or ']'", false;
    }
  }
  bool ParseString() {
    ++pos_;  // opening quote
    while (pos_ < s_.size()) {
      const unsigned char c = s_[pos_++];
      if (c == '"') return true;
      if (c < 0x20) return error_ = "control character in string", false;
      if (c == '\\') {
        if (pos_ >= s_.size()) break;
        const char e = s_[pos_++];
        if (e == 'u') {
          for (int i = 0; i < 4; ++i) {
            if (pos_ >= s_.size() || !isxdigit(static_cast<unsigned char>(s_[pos_]))) {
              return error_ = "bad \\u escape", false;
            }
            ++pos_;
          }
        } else if (!std::strchr("\"\\/bfnrt", e) || e == '\0') {
          return error_ = "bad escape", false;
        }
      }
    }
    error_ = "unterminated string";
    return false;
  }
  bool Digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool ParseNumber() {
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (!Digits()) {
      return error_ = "unexpected character", false;
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!Digits()) return error_ = "bad number", false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!Digits()) return error_ = "bad exponent", false;
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

absl::Status ValidateJson(std::string_view text) { return JsonChecker(text).Check(); }

int64_t PackTags(std::span<const uint16_t> tag_ids) {
  VOX_DCHECK(tag_ids.size() <= kMaxTagsPerRoom);
  uint64_t packed = 0;
  for (size_t i = 0; i < tag_ids.size(); ++i) packed |= uint64_t{tag_ids[i]} << (16 * i);
  return static_cast<int64_t>(packed);
}

int UnpackTags(int64_t tags, uint16_t out[kMaxTagsPerRoom]) {
  int n = 0;
  for (int i = 0; i < kMaxTagsPerRoom; ++i) {
    const auto id = static_cast<uint16_t>(static_cast<uint64_t>(tags) >> (16 * i));
    if (id != 0) out[n++] = id;
  }
  return n;
}

absl::Status ValidateValue(const Database& db, TableId t, ColumnId c, const Value& v) {
  const TableDef& table = db.table(t).def();
  const ColumnDef& col = table.columns[c];
  auto fail = [&](auto&&... what) {
    return absl::InvalidArgumentError(StrCat(table.name, ".", col.name, ": ", what...));
  };
  if (v.is_null()) {
    if (!col.nullable()) return fail("may not be null");
    return absl::OkStatus();
  }
  switch (col.type) {
    case ColumnType::kUuid:
    case ColumnType::kInet:
      if (v.kind() != Value::Kind::kUuid) return fail("expects a ", ColumnTypeName(col.type));
      return absl::OkStatus();
    case ColumnType::kString:
    case ColumnType::kJson: {
      if (v.kind() != Value::Kind::kString) return fail("expects a string");
      const std::string_view s = v.AsString();
      if (s.size() > col.max_length) {
        return fail(s.size(), " bytes is longer than the limit of ", col.max_length);
      }
      if (!IsValidUtf8(s)) return fail("is not valid UTF-8");
      if (col.type == ColumnType::kJson) {
        absl::Status js = ValidateJson(s);
        if (!js.ok()) return fail(js.message());
      }
      return absl::OkStatus();
    }
    default:
      break;
  }
  if (v.kind() != Value::Kind::kInt) return fail("expects a ", ColumnTypeName(col.type));
  const int64_t x = v.AsInt();
  switch (col.type) {
    case ColumnType::kBool:
      if (x != 0 && x != 1) return fail("expects true or false");
      break;
    case ColumnType::kEnum: {
      if (x < 0 || static_cast<size_t>(x) >= db.enum_size(col.enum_id)) {
        return fail(x, " is not a ", GetEnum(col.enum_id).name, " value");
      }
      break;
    }
    case ColumnType::kRef: {
      const Table& target = db.table(col.ref_table);
      if (x < 0 || x > UINT32_MAX || !target.IsLive(static_cast<RowId>(x))) {
        return absl::NotFoundError(StrCat(table.name, ".", col.name, ": the referenced ",
                                          target.name(), " row does not exist"));
      }
      break;
    }
    case ColumnType::kTags: {
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(x, ids);
      const Table& tags = db.table(TableId::tags);
      for (int i = 0; i < n; ++i) {
        if (!tags.IsLive(ids[i] - 1u)) return fail("tag id ", ids[i], " does not exist");
        for (int j = 0; j < i; ++j) {
          if (ids[j] == ids[i]) return fail("the same tag is given twice");
        }
      }
      break;
    }
    default:
      if (x < col.min_value || x > col.max_value) {
        return fail(x, " is outside [", col.min_value, ", ", col.max_value, "]");
      }
  }
  return absl::OkStatus();
}

absl::Status CheckStoredValue(const Database& db, TableId t, ColumnId c, int64_t raw) {
  const TableDef& table = db.table(t).def();
  const ColumnDef& col = table.columns[c];
  uint64_t limit;  // the values a read can follow
  switch (col.type) {
    case ColumnType::kEnum:
      limit = db.enum_size(col.enum_id);
      break;
    case ColumnType::kRef:
      limit = db.table(col.ref_table).row_count();
      break;
    case ColumnType::kTags: {
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(raw, ids);
      const size_t tags = db.table(TableId::tags).row_count();
      for (int i = 0; i < n; ++i) {
        if (ids[i] > tags) {  // tag id k is the tags row k - 1
          return absl::DataLossError(StrCat(table.name, ".", col.name, ": tag id ", ids[i],
                                            " past the ", tags, " tags rows"));
        }
        for (int j = 0; j < i; ++j) {
          if (ids[j] == ids[i]) {  // two tags, one key in the tag indexes
            return absl::DataLossError(
                StrCat(table.name, ".", col.name, ": tag id ", ids[i], " twice"));
          }
        }
      }
      return absl::OkStatus();
    }
    default:
      return absl::OkStatus();
  }
  if (raw < 0 || static_cast<uint64_t>(raw) >= limit) {
    return absl::DataLossError(StrCat(
        table.name, ".", col.name, ": ", raw, " is out of range (",
        col.type == ColumnType::kRef ? "rows of " : "values of ",
        col.type == ColumnType::kRef ? db.table(col.ref_table).name() : GetEnum(col.enum_id).name,
        ": ", limit, ")"));
  }
  return absl::OkStatus();
}

}  // namespace vox
