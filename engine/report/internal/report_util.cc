#include "engine/report/internal/report_util.h"

#include <charconv>

#include "engine/report/reports.h"
#include "engine/value.h"
#include "schema/str.h"

namespace vox::report_internal {

absl::StatusOr<TimeBuckets> Prepare(const ReportSnapshot& snap, std::span<const TableId> tables,
                                    const BucketedRange& range) {
  VOX_ASSIGN_OR_RETURN(TimeBuckets buckets, TimeBuckets::Make(range));
  VOX_RETURN_IF_ERROR(snap.Require(tables));
  return buckets;
}

absl::Status CheckEnumValue(std::string_view what, int value, size_t count) {
  if (value >= 0 && static_cast<size_t>(value) < count) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("unknown ", what, " ", value));
}

absl::Status CheckTopN(size_t top_n) {
  if (top_n >= 1 && top_n <= kMaxTopN) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("top_n must be 1..", kMaxTopN, "; got ", top_n));
}

absl::StatusOr<RoomKeys> RoomKeys::Make(const ReportSnapshot& snap, By by,
                                        std::optional<bool> is_public,
                                        const std::optional<std::string>& tag) {
  RoomKeys keys(snap, by);
  keys.is_public_ = is_public;
  keys.public_ = snap.column<uint8_t>(TableId::rooms, rooms::is_public);
  keys.tags_ = snap.column<int64_t>(TableId::rooms, rooms::tags);
  keys.rooms_ = snap.row_count(TableId::rooms);
  if (tag) {
    keys.tag_ = snap.FindTag(*tag);
    if (keys.tag_ == 0) {
      return absl::InvalidArgumentError(StrCat("no tag named '", tag->substr(0, 64), "'"));
    }
  }
  return keys;
}

bool RoomKeys::Passes(RowId room) const {
  if (!is_public_ && tag_ == 0) return true;
  if (room == kNoRow || room >= rooms_) return false;
  if (is_public_ && (public_[room] != 0) != *is_public_) return false;
  if (tag_ != 0) {
    const uint64_t t = static_cast<uint64_t>(tags_[room]);
    bool found = false;
    for (int i = 0; i < kMaxTagsPerRoom; ++i) found |= ((t >> (16 * i)) & 0xffff) == tag_;
    if (!found) return false;
  }
  return true;
}

int RoomKeys::Keys(RowId room, uint32_t out[kMaxTagsPerRoom]) const {
  switch (by_) {
    case By::kNone:
      out[0] = 0;
      return 1;
    case By::kType:
      out[0] = room == kNoRow || room >= rooms_ ? kNoKeyId : uint32_t{public_[room] != 0};
      return 1;
    case By::kTag: {
      if (room == kNoRow || room >= rooms_) {
        out[0] = kNoKeyId;
        return 1;
      }
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(tags_[room], ids);
      for (int i = 0; i < n; ++i) out[i] = ids[i];
      if (n == 0) out[0] = kNoKeyId;
      return n == 0 ? 1 : n;
    }
  }
  out[0] = 0;
  return 1;
}

std::string RoomKeys::Name(uint32_t key) const {
  switch (by_) {
    case By::kNone:
      return "";
    case By::kType:
      return key != 0 ? "PUBLIC" : "PRIVATE";
    case By::kTag:
      return std::string(snap_->TagName(static_cast<uint16_t>(key)));
  }
  return "";
}

size_t RoomKeys::key_space() const {
  switch (by_) {
    case By::kNone:
      return 1;
    case By::kType:
      return 2;
    case By::kTag:
      return snap_->row_count(TableId::tags) + 1;
  }
  return 0;
}

std::string_view RoomKeys::dimension() const {
  switch (by_) {
    case By::kNone:
      return "";
    case By::kType:
      return "room_type";
    case By::kTag:
      return "tag";
  }
  return "";
}

namespace {

// The position just past `"name"` and the colon after it, or npos.
size_t FindValue(std::string_view json, std::string_view name) {
  size_t at = 0;
  while (true) {
    at = json.find(name, at);
    if (at == std::string_view::npos) return at;
    const size_t end = at + name.size();
    // A key: quoted, the opening quote not escaped (inside another string).
    const bool quoted = at >= 1 && json[at - 1] == '"' && (at < 2 || json[at - 2] != '\\') &&
                        end < json.size() && json[end] == '"';
    at = end;
    if (!quoted) continue;
    size_t p = end + 1;
    while (p < json.size() && json[p] == ' ') ++p;
    if (p >= json.size() || json[p] != ':') continue;
    ++p;
    while (p < json.size() && json[p] == ' ') ++p;
    return p;
  }
}

}  // namespace

std::string_view JsonStringField(std::string_view json, std::string_view name) {
  const size_t p = FindValue(json, name);
  if (p == std::string_view::npos || p >= json.size() || json[p] != '"') return {};
  const size_t end = json.find('"', p + 1);
  if (end == std::string_view::npos) return {};
  return json.substr(p + 1, end - p - 1);
}

std::optional<int64_t> JsonIntField(std::string_view json, std::string_view name) {
  const size_t p = FindValue(json, name);
  if (p == std::string_view::npos) return std::nullopt;
  int64_t v = 0;
  const auto r = std::from_chars(json.data() + p, json.data() + json.size(), v);
  if (r.ec != std::errc()) return std::nullopt;
  return v;
}

int EnumValueOf(EnumId id, std::string_view text) {
  const EnumDef& e = GetEnum(id);
  for (size_t i = 0; i < e.values.size(); ++i) {
    if (e.values[i] == text) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace vox::report_internal
