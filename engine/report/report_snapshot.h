// ReportSnapshot is a consistent, read-only image of the tables a report
// reads, for scanning off the engine thread. Taking it pins every column
// chunk and string-heap block of those tables (Table::Pin: O(chunks), no row
// copied); copy-on-write keeps the pinned bytes unchanged while the engine
// writes on, so reports never hold the engine up beyond the pin itself.
//
//   // engine thread:
//   auto snap = std::make_shared<ReportSnapshot>(ReportSnapshot::Pin(db));
//   // any thread, while the engine keeps writing:
//   absl::StatusOr<ReportTable> t = IdentityReport(*snap, request);
//
// Scans read columns chunk by chunk as plain arrays (ColumnView::values),
// 65,536 rows a chunk (the last one shorter), with the liveness bytes of
// live(): a row whose live byte is 0 was deleted (or never committed) and its
// other values mean nothing. Nullable columns have a validity bitmap per
// chunk (bit i of word i / 64 set = present).
//
// Thread safety: immutable once taken; any number of threads may read it at
// once. It may be destroyed on any thread (that releases the pins). Views
// (ColumnView, StringView) point into it and must not outlive it. Never
// touch the live Database from a report thread: only this image.
#ifndef VOXDB_ENGINE_REPORT_REPORT_SNAPSHOT_H_
#define VOXDB_ENGINE_REPORT_REPORT_SNAPSHOT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "engine/database.h"
#include "engine/table.h"

namespace vox {

// Bit `i` of a chunk's validity words: 1 = the value is present.
inline bool ValidAt(const uint64_t* validity, uint32_t i) {
  return validity == nullptr || ((validity[i >> 6] >> (i & 63)) & 1) != 0;
}

// Typed read-only access to one pinned column (or the liveness bytes).
// `T` has the column's width: uint8_t for bool/enum (and liveness),
// int32_t for int32, uint32_t (RowId) for refs, int64_t for int64,
// timestamps and tags, uint64_t for string refs, Uuid for uuid/inet.
template <typename T>
class ColumnView {
 public:
  ColumnView() = default;
  ColumnView(const std::vector<Column::ChunkImage>* chunks, size_t rows)
      : chunks_(chunks), rows_(rows) {}

  size_t row_count() const { return rows_; }
  size_t chunk_count() const { return chunks_->size(); }
  // Chunk k holds rows [k * kChunkRows, k * kChunkRows + chunk_rows(k)).
  uint32_t chunk_rows(size_t k) const { return (*chunks_)[k].rows; }
  const T* values(size_t k) const { return reinterpret_cast<const T*>((*chunks_)[k].data); }
  // Null for a column that is not nullable.
  const uint64_t* validity(size_t k) const { return (*chunks_)[k].validity; }

  // Random access, e.g. to follow a ref into this table. REQUIRES: r < row_count().
  T operator[](RowId r) const {
    VOX_DCHECK(r < rows_);
    return values(r >> kChunkShift)[r & (kChunkRows - 1)];
  }
  bool IsNull(RowId r) const {
    VOX_DCHECK(r < rows_);
    return !ValidAt(validity(r >> kChunkShift), r & (kChunkRows - 1));
  }
  std::optional<T> Get(RowId r) const {
    if (IsNull(r)) return std::nullopt;
    return (*this)[r];
  }

 private:
  const std::vector<Column::ChunkImage>* chunks_ = nullptr;
  size_t rows_ = 0;
};

// A pinned string (or JSON) column: its refs and the heap they point into.
class StringView {
 public:
  StringView() = default;
  StringView(ColumnView<uint64_t> refs, const StringHeap::Image* heap) : refs_(refs), heap_(heap) {}

  const ColumnView<uint64_t>& refs() const { return refs_; }
  // The bytes a ref names (a ref taken from refs()).
  std::string_view Decode(StringHeap::StringRef ref) const {
    const uint32_t len = ref & 0xfffff;
    if (len == 0) return {};
    const size_t block = ref >> 40, offset = (ref >> 20) & 0xfffff;
    // Outside this image: never for a live row's ref.
    if (block >= heap_->blocks.size() || offset + len > heap_->blocks[block].size()) return {};
    return heap_->blocks[block].substr(offset, len);
  }
  // Row r's string; empty when null. REQUIRES: r < refs().row_count().
  std::string_view operator[](RowId r) const {
    return refs_.IsNull(r) ? std::string_view() : Decode(refs_[r]);
  }

 private:
  ColumnView<uint64_t> refs_;
  const StringHeap::Image* heap_ = nullptr;
};

class ReportSnapshot {
 public:
  // Engine thread: pins `tables` (every table when empty) of `db` at one
  // instant. O(chunks and heap blocks); copies no rows.
  static ReportSnapshot Pin(const Database& db, std::span<const TableId> tables = {});
  // Adopts images already taken (e.g. Database::Pin()), one per table in
  // any order; tables not given are absent.
  explicit ReportSnapshot(std::vector<Table::Image> images);

  ReportSnapshot(ReportSnapshot&&) = default;
  ReportSnapshot& operator=(ReportSnapshot&&) = default;
  ReportSnapshot(const ReportSnapshot&) = delete;
  ReportSnapshot& operator=(const ReportSnapshot&) = delete;

  bool has(TableId t) const { return slot_[static_cast<size_t>(t)] >= 0; }
  // FailedPrecondition naming the first of `tables` this snapshot lacks.
  absl::Status Require(std::span<const TableId> tables) const;

  // ---- REQUIRES for all below: has(t).
  const Table::Image& image(TableId t) const { return images_[slot_[static_cast<size_t>(t)]]; }
  // Row slots (live or dead): scans run over [0, row_count(t)).
  size_t row_count(TableId t) const { return image(t).row_count; }
  // One byte a row: non-zero = live.
  ColumnView<uint8_t> live(TableId t) const { return {&image(t).live, row_count(t)}; }
  // REQUIRES: sizeof(T) is the column's width.
  template <typename T>
  ColumnView<T> column(TableId t, ColumnId c) const {
    VOX_DCHECK(sizeof(T) == ColumnWidth(GetTable(t).columns[c].type));
    return {&image(t).columns[c], row_count(t)};
  }
  // REQUIRES: a string or JSON column.
  StringView strings(TableId t, ColumnId c) const {
    return {column<uint64_t>(t, c), &image(t).heaps[c]};
  }

  // The text of value `v` of enum column `c` of `t` ("GOOGLE"); "?" when
  // `v` is out of range.
  static std::string_view EnumText(TableId t, ColumnId c, uint8_t v);
  // The name of a tag id as rooms.tags packs it (the tags row + 1); empty
  // for an unknown id. REQUIRES: has(TableId::tags).
  std::string_view TagName(uint16_t tag_id) const;
  // The tag id named `name` (ASCII case-insensitive), or 0. A full pass over
  // the tags. REQUIRES: has(TableId::tags).
  uint16_t FindTag(std::string_view name) const;

  // Live rows of `t` (a full pass over its liveness bytes).
  size_t LiveCount(TableId t) const;
  // The live row whose primary key is `id`, or kNoRow (a full pass over the
  // id column: for resolving a request's filter, not for per-row use).
  RowId FindById(TableId t, const Uuid& id) const;

 private:
  std::vector<Table::Image> images_;
  std::array<int, kTableCount> slot_;
};

}  // namespace vox

#endif  // VOXDB_ENGINE_REPORT_REPORT_SNAPSHOT_H_
