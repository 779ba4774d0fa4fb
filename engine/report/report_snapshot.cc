#include "engine/report/report_snapshot.h"

#include <algorithm>

#include "schema/str.h"

namespace vox {

ReportSnapshot ReportSnapshot::Pin(const Database& db, std::span<const TableId> tables) {
  std::vector<Table::Image> images;
  if (tables.empty()) {
    images = db.Pin();
  } else {
    images.reserve(tables.size());
    for (TableId t : tables) {
      const bool seen = std::any_of(images.begin(), images.end(),
                                    [t](const Table::Image& i) { return i.table == t; });
      if (!seen) images.push_back(db.table(t).Pin());
    }
  }
  return ReportSnapshot(std::move(images));
}

ReportSnapshot::ReportSnapshot(std::vector<Table::Image> images) : images_(std::move(images)) {
  slot_.fill(-1);
  for (size_t i = 0; i < images_.size(); ++i) {
    slot_[static_cast<size_t>(images_[i].table)] = static_cast<int>(i);
  }
}

absl::Status ReportSnapshot::Require(std::span<const TableId> tables) const {
  for (TableId t : tables) {
    if (!has(t)) {
      return absl::FailedPreconditionError(
          StrCat("the report snapshot does not hold table ", GetTable(t).name));
    }
  }
  return absl::OkStatus();
}

std::string_view ReportSnapshot::EnumText(TableId t, ColumnId c, uint8_t v) {
  return EnumValueName(GetTable(t).columns[c].enum_id, v);  // a migration's values too
}

std::string_view ReportSnapshot::TagName(uint16_t tag_id) const {
  if (tag_id == 0 || tag_id > row_count(TableId::tags)) return {};
  const RowId r = tag_id - 1u;
  if (live(TableId::tags)[r] == 0) return {};
  return strings(TableId::tags, tags::name)[r];
}

uint16_t ReportSnapshot::FindTag(std::string_view name) const {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  const ColumnView<uint8_t> lv = live(TableId::tags);
  const StringView names = strings(TableId::tags, tags::name);
  const size_t n = std::min<size_t>(row_count(TableId::tags), UINT16_MAX);
  for (RowId r = 0; r < n; ++r) {
    if (lv[r] == 0) continue;
    const std::string_view s = names[r];
    if (s.size() == name.size() &&
        std::equal(s.begin(), s.end(), name.begin(),
                   [&](char a, char b) { return lower(a) == lower(b); })) {
      return static_cast<uint16_t>(r + 1);
    }
  }
  return 0;
}

size_t ReportSnapshot::LiveCount(TableId t) const {
  const ColumnView<uint8_t> lv = live(t);
  size_t n = 0;
  for (size_t k = 0; k < lv.chunk_count(); ++k) {
    const uint8_t* l = lv.values(k);
    const uint32_t rows = lv.chunk_rows(k);
    for (uint32_t i = 0; i < rows; ++i) n += l[i] != 0;
  }
  return n;
}

RowId ReportSnapshot::FindById(TableId t, const Uuid& id) const {
  const ColumnView<uint8_t> lv = live(t);
  const ColumnView<Uuid> ids = column<Uuid>(t, 0);
  for (size_t k = 0; k < ids.chunk_count(); ++k) {
    const Uuid* v = ids.values(k);
    const uint8_t* l = lv.values(k);
    const uint32_t rows = ids.chunk_rows(k);
    for (uint32_t i = 0; i < rows; ++i) {
      if (l[i] != 0 && v[i] == id) return static_cast<RowId>((k << kChunkShift) + i);
    }
  }
  return kNoRow;
}

}  // namespace vox
