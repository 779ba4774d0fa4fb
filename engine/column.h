// Column stores one column of a table: fixed-width values in chunks of
// kChunkRows rows, a validity bitmap per chunk when nullable, and, for string
// columns, an append-only byte heap the values point into.
//
// Chunks and heap blocks are held by shared_ptr so that a snapshot can pin
// them; a write to a chunk that is pinned copies it first (copy-on-write).
// Move-only. Thread-compatible: the engine thread is its only writer.
#ifndef VOXDB_ENGINE_COLUMN_H_
#define VOXDB_ENGINE_COLUMN_H_

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "schema/schema.h"
#include "schema/types.h"

namespace vox {

inline constexpr int kChunkShift = 16;
inline constexpr uint32_t kChunkRows = 1u << kChunkShift;  // 65,536 rows

// StringHeap holds a string column's bytes. A StringRef packs
// block (24 bits) | offset in block (20 bits) | length (20 bits).
class StringHeap {
 public:
  using StringRef = uint64_t;
  static constexpr uint32_t kBlockBytes = 1u << 20;
  static constexpr uint32_t kMaxLength = kBlockBytes - 1;

  // REQUIRES: s.size() <= kMaxLength.
  StringRef Append(std::string_view s);
  std::string_view Get(StringRef ref) const {
    const uint32_t len = ref & 0xfffff;
    if (len == 0) return {};
    const Block& b = *blocks_[ref >> 40];
    return {b.bytes.get() + ((ref >> 20) & 0xfffff), len};
  }
  void MarkDead(StringRef ref) { dead_bytes_ += ref & 0xfffff; }

  // A read-only view of the heap as it is now, pinning its blocks: later
  // appends go past the pinned sizes or into new blocks, never into
  // pinned bytes. Safe to read from another thread.
  struct Image {
    std::vector<std::shared_ptr<const void>> pins;
    std::vector<std::string_view> blocks;  // the bytes used when pinned
  };
  Image Pin() const;
  // Appends a block holding `bytes` (loading a snapshot, before any
  // Append). REQUIRES: bytes.size() <= kBlockBytes.
  void AdoptBlock(std::string_view bytes);

  size_t live_bytes() const { return used_bytes_ - dead_bytes_; }
  size_t dead_bytes() const { return dead_bytes_; }
  size_t MemoryBytes() const;

 private:
  struct Block {
    std::unique_ptr<char[]> bytes;
    uint32_t size = 0;
    uint32_t capacity = 0;
  };
  std::vector<std::shared_ptr<Block>> blocks_;
  size_t used_bytes_ = 0;
  size_t dead_bytes_ = 0;
};

class Column {
 public:
  explicit Column(const ColumnDef& def);
  Column(Column&&) = default;
  Column& operator=(Column&&) = default;
  Column(const Column&) = delete;
  Column& operator=(const Column&) = delete;

  const ColumnDef& def() const { return def_; }
  // A new definition of the same storage (a rename, a wider string).
  // REQUIRES: same type and nullability.
  void set_def(const ColumnDef& def) {
    VOX_DCHECK(def.type == def_.type && def.nullable() == def_.nullable());
    def_ = def;
  }
  ColumnType type() const { return def_.type; }
  uint8_t width() const { return width_; }

  // Makes rows [0, rows) addressable; new rows are zero and non-null.
  void Grow(size_t rows);

  // REQUIRES: sizeof(T) == width().
  template <typename T>
  T Get(RowId row) const {
    VOX_DCHECK(sizeof(T) == width_);
    T v;
    std::memcpy(&v, chunks_[row >> kChunkShift]->data.get() + (row & (kChunkRows - 1)) * sizeof(T),
                sizeof(T));
    return v;
  }
  template <typename T>
  void Put(RowId row, T v) {
    VOX_DCHECK(sizeof(T) == width_);
    std::memcpy(Writable(row)->data.get() + (row & (kChunkRows - 1)) * sizeof(T), &v, sizeof(T));
  }

  bool IsNull(RowId row) const {
    if (!def_.nullable()) return false;
    const uint64_t* v = chunks_[row >> kChunkShift]->validity.get();
    const uint32_t i = row & (kChunkRows - 1);
    return ((v[i >> 6] >> (i & 63)) & 1) == 0;
  }
  // REQUIRES: the column is nullable, or !null.
  void SetNull(RowId row, bool null) {
    VOX_DCHECK(def_.nullable() || !null);
    if (!def_.nullable()) return;
    uint64_t* v = Writable(row)->validity.get();
    const uint32_t i = row & (kChunkRows - 1);
    if (null) {
      v[i >> 6] &= ~(uint64_t{1} << (i & 63));
    } else {
      v[i >> 6] |= uint64_t{1} << (i & 63);
    }
  }

  // Integer-like columns (bool, enum, int32, int64, timestamp, ref, tags)
  // widened to int64; 0 when null. Inline: index builds and scans call
  // them once per row.
  int64_t GetInt(RowId row) const {
    switch (width_) {
      case 1:
        return Get<uint8_t>(row);
      case 4:
        return def_.type == ColumnType::kRef ? int64_t{Get<uint32_t>(row)} : Get<int32_t>(row);
      case 8:
        return Get<int64_t>(row);
    }
    VOX_DCHECK(false);
    return 0;
  }
  void PutInt(RowId row, int64_t v) {
    switch (width_) {
      case 1:
        Put(row, static_cast<uint8_t>(v));
        return;
      case 4:
        if (def_.type == ColumnType::kRef) {
          Put(row, static_cast<uint32_t>(v));
        } else {
          Put(row, static_cast<int32_t>(v));
        }
        return;
      case 8:
        Put(row, v);
        return;
    }
    VOX_DCHECK(false);
  }

  Uuid GetUuid(RowId row) const { return Get<Uuid>(row); }
  void PutUuid(RowId row, const Uuid& u) { Put(row, u); }

  // String and JSON columns.
  std::string_view GetString(RowId row) const { return heap_->Get(Get<uint64_t>(row)); }
  void PutString(RowId row, std::string_view s) { Put<uint64_t>(row, heap_->Append(s)); }
  StringHeap* heap() { return heap_.get(); }
  const StringHeap* heap() const { return heap_.get(); }

  // The raw fixed-width bytes of a value (for undo and row images).
  void CopyOut(RowId row, void* out) const;
  void CopyIn(RowId row, const void* in);

  // Direct chunk access for scans: rows [c * kChunkRows, ...) of chunk c.
  size_t chunk_count() const { return chunks_.size(); }
  const uint8_t* chunk_data(size_t c) const { return chunks_[c]->data.get(); }

  // A read-only view of rows [0, rows) pinning the chunks that hold them
  // (copy-on-write: the engine copies a pinned chunk before writing to it).
  // Safe to read from another thread while the engine goes on.
  struct ChunkImage {
    std::shared_ptr<const void> pin;
    const uint8_t* data;       // rows * width bytes
    const uint64_t* validity;  // nullable columns: (rows + 63) / 64 words; else null
    uint32_t rows;
  };
  std::vector<ChunkImage> Pin(size_t rows) const;
  StringHeap::Image PinHeap() const { return heap_ ? heap_->Pin() : StringHeap::Image{}; }
  // Loading: copies `rows` rows of fixed-width values (and, for a nullable
  // column, their validity bits) into chunk `c`. REQUIRES: Grow() covered
  // them; `validity` is null for a column that is not nullable.
  void LoadChunk(size_t c, const uint8_t* data, const uint64_t* validity, uint32_t rows);

  size_t MemoryBytes() const;

  // The memory of chunk `c` (data, and validity when nullable) if it holds
  // a full kChunkRows rows, for a loader that has the kernel back it ahead
  // of the writes (BulkLoader). A full chunk stays where it is until the
  // column is destroyed or a snapshot's pin makes a write copy it.
  void FullChunkMemory(size_t c, std::vector<std::span<const uint8_t>>* out) const;

 private:
  // calloc'd: fresh zero pages come from the kernel without a memset.
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  struct Chunk {
    std::unique_ptr<uint8_t[], FreeDeleter> data;
    std::unique_ptr<uint64_t[], FreeDeleter> validity;  // nullable only; 1 = present
    uint32_t capacity = 0;                              // rows
  };
  // The chunk holding `row`, ready for a write. Inline: every write calls it.
  Chunk* Writable(RowId row) {
    std::shared_ptr<Chunk>& c = chunks_[row >> kChunkShift];
    if (c.use_count() > 1) return CopyPinned(c);
    // A snapshot thread that just unpinned this chunk read it before its
    // release; order our writes after those reads.
#if defined(__SANITIZE_THREAD__)
    // ThreadSanitizer does not model fences (it reported this as a race in
    // the kill -9 test): take the same order from an atomic read-modify-write
    // of the count, which it sees. Sanitizer builds only.
    { const std::shared_ptr<Chunk> order = c; }
#else
    std::atomic_thread_fence(std::memory_order_acquire);
#endif
    return c.get();
  }
  // Replaces chunk `c`, pinned by a snapshot, with a copy (copy-on-write).
  Chunk* CopyPinned(std::shared_ptr<Chunk>& c);
  std::shared_ptr<Chunk> NewChunk(uint32_t capacity, const Chunk* copy_from) const;

  ColumnDef def_;  // a copy: migrations rename and widen columns
  uint8_t width_;
  std::vector<std::shared_ptr<Chunk>> chunks_;
  std::unique_ptr<StringHeap> heap_;  // string and JSON columns
};

}  // namespace vox

#endif  // VOXDB_ENGINE_COLUMN_H_
