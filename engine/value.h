// Value is one column value as the engine's write and generic-access paths
// pass it around: null, an integer (bool, enum, int32/64, timestamp, the
// RowId of a ref, packed tags), a uuid (uuid, inet), or a string view.
// A Value does not own string bytes: the viewed bytes must outlive it.
#ifndef VOXDB_ENGINE_VALUE_H_
#define VOXDB_ENGINE_VALUE_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "schema/schema.h"
#include "schema/types.h"

namespace vox {

class Value {
 public:
  enum class Kind : uint8_t { kNull, kInt, kUuid, kString };

  Value() = default;
  Value(std::nullptr_t) {}  // NOLINT: null reads naturally at call sites
  template <typename T>
  requires(std::is_integral_v<T> || std::is_enum_v<T>) Value(T v)
      : kind_(Kind::kInt), int_(static_cast<int64_t>(v)) {}       // NOLINT
  Value(const Uuid& u) : kind_(Kind::kUuid), uuid_(u) {}          // NOLINT
  Value(std::string_view s) : kind_(Kind::kString), str_(s) {}    // NOLINT
  Value(const char* s) : kind_(Kind::kString), str_(s) {}         // NOLINT
  Value(const std::string& s) : kind_(Kind::kString), str_(s) {}  // NOLINT

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  int64_t AsInt() const { return int_; }
  const Uuid& AsUuid() const { return uuid_; }
  std::string_view AsString() const { return str_; }

  friend bool operator==(const Value& a, const Value& b) {
    if (a.kind_ != b.kind_) return false;
    switch (a.kind_) {
      case Kind::kNull:
        return true;
      case Kind::kInt:
        return a.int_ == b.int_;
      case Kind::kUuid:
        return a.uuid_ == b.uuid_;
      case Kind::kString:
        return a.str_ == b.str_;
    }
    return false;
  }

 private:
  Kind kind_ = Kind::kNull;
  int64_t int_ = 0;
  Uuid uuid_;
  std::string_view str_;
};

// A value for one column, as given to Txn::Insert.
struct ColumnValue {
  ColumnId column;
  Value value;
};

// Packs up to kMaxTagsPerRoom tag ids (1..65535) into a kTags column value.
int64_t PackTags(std::span<const uint16_t> tag_ids);
// The non-zero tag ids packed in `tags`, in slot order.
int UnpackTags(int64_t tags, uint16_t out[kMaxTagsPerRoom]);

}  // namespace vox

#endif  // VOXDB_ENGINE_VALUE_H_
