#include "engine/column.h"

#include <algorithm>
#include <atomic>

namespace vox {

StringHeap::StringRef StringHeap::Append(std::string_view s) {
  VOX_DCHECK(s.size() <= kMaxLength);
  if (s.empty()) return 0;
  if (blocks_.empty() || blocks_.back()->size + s.size() > kBlockBytes) {
    auto b = std::make_shared<Block>();
    b->capacity = std::max<uint32_t>(4096, static_cast<uint32_t>(s.size()));
    if (!blocks_.empty()) b->capacity = kBlockBytes;
    b->bytes.reset(new char[b->capacity]);
    blocks_.push_back(std::move(b));
  }
  Block* b = blocks_.back().get();
  if (b->size + s.size() > b->capacity) {
    // Grow the first block geometrically; existing refs stay valid (they are
    // block/offset pairs), and a snapshot pinning the old block keeps it.
    auto bigger = std::make_shared<Block>();
    bigger->capacity = std::min<uint32_t>(
        kBlockBytes,
        std::max<uint32_t>(b->capacity * 2, b->size + static_cast<uint32_t>(s.size())));
    bigger->bytes.reset(new char[bigger->capacity]);
    std::memcpy(bigger->bytes.get(), b->bytes.get(), b->size);
    bigger->size = b->size;
    blocks_.back() = std::move(bigger);
    b = blocks_.back().get();
  }
  const uint64_t ref = (uint64_t(blocks_.size() - 1) << 40) | (uint64_t(b->size) << 20) | s.size();
  std::memcpy(b->bytes.get() + b->size, s.data(), s.size());
  b->size += static_cast<uint32_t>(s.size());
  used_bytes_ += s.size();
  return ref;
}

StringHeap::Image StringHeap::Pin() const {
  Image image;
  for (const auto& b : blocks_) {
    image.pins.push_back(b);
    image.blocks.emplace_back(b->bytes.get(), b->size);
  }
  return image;
}

void StringHeap::AdoptBlock(std::string_view bytes) {
  VOX_DCHECK(bytes.size() <= kBlockBytes);
  auto b = std::make_shared<Block>();
  b->capacity = kBlockBytes;
  b->bytes.reset(new char[kBlockBytes]);
  std::memcpy(b->bytes.get(), bytes.data(), bytes.size());
  b->size = static_cast<uint32_t>(bytes.size());
  used_bytes_ += bytes.size();
  blocks_.push_back(std::move(b));
}

size_t StringHeap::MemoryBytes() const {
  size_t n = blocks_.capacity() * sizeof(blocks_[0]);
  for (const auto& b : blocks_) n += b->capacity + sizeof(Block);
  return n;
}

Column::Column(const ColumnDef& def) : def_(&def), width_(ColumnWidth(def.type)) {
  if (def.type == ColumnType::kString || def.type == ColumnType::kJson) {
    heap_ = std::make_unique<StringHeap>();
  }
}

std::shared_ptr<Column::Chunk> Column::NewChunk(uint32_t capacity, const Chunk* from) const {
  auto c = std::make_shared<Chunk>();
  c->capacity = capacity;
  c->data.reset(static_cast<uint8_t*>(std::calloc(size_t{capacity} * width_, 1)));
  if (def_->nullable()) {
    c->validity.reset(static_cast<uint64_t*>(std::calloc((capacity + 63) / 64, sizeof(uint64_t))));
  }
  if (c->data == nullptr || (def_->nullable() && c->validity == nullptr)) std::abort();  // OOM
  if (from != nullptr) {
    const uint32_t n = std::min(capacity, from->capacity);
    std::memcpy(c->data.get(), from->data.get(), size_t{n} * width_);
    if (def_->nullable()) std::memcpy(c->validity.get(), from->validity.get(), (n + 63) / 64 * 8);
  }
  return c;
}

void Column::Grow(size_t rows) {
  while (rows > 0) {
    const size_t last = chunks_.size();
    const size_t full_rows =
        chunks_.empty() ? 0 : (last - 1) * kChunkRows + chunks_.back()->capacity;
    if (rows <= full_rows) return;
    if (!chunks_.empty() && chunks_.back()->capacity < kChunkRows) {
      // Grow the last chunk geometrically up to a full chunk.
      const size_t need = rows - (last - 1) * kChunkRows;
      uint32_t cap = chunks_.back()->capacity;
      while (cap < need && cap < kChunkRows) cap *= 2;
      chunks_.back() = NewChunk(std::min(cap, kChunkRows), chunks_.back().get());
      continue;
    }
    const size_t need = rows - last * kChunkRows;
    uint32_t cap = 64;
    while (cap < need && cap < kChunkRows) cap *= 2;
    chunks_.push_back(NewChunk(std::min(cap, kChunkRows), nullptr));
  }
}

Column::Chunk* Column::Writable(RowId row) {
  std::shared_ptr<Chunk>& c = chunks_[row >> kChunkShift];
  if (c.use_count() > 1) {
    c = NewChunk(c->capacity, c.get());  // pinned by a snapshot: copy on write
  } else {
    // A snapshot thread that just unpinned this chunk read it before its
    // release; order our writes after those reads.
    std::atomic_thread_fence(std::memory_order_acquire);
  }
  return c.get();
}

void Column::SetNull(RowId row, bool null) {
  VOX_DCHECK(def_->nullable() || !null);
  if (!def_->nullable()) return;
  uint64_t* v = Writable(row)->validity.get();
  const uint32_t i = row & (kChunkRows - 1);
  if (null) {
    v[i >> 6] &= ~(uint64_t{1} << (i & 63));
  } else {
    v[i >> 6] |= uint64_t{1} << (i & 63);
  }
}

int64_t Column::GetInt(RowId row) const {
  switch (width_) {
    case 1:
      return Get<uint8_t>(row);
    case 4:
      return def_->type == ColumnType::kRef ? int64_t{Get<uint32_t>(row)} : Get<int32_t>(row);
    case 8:
      return Get<int64_t>(row);
  }
  VOX_DCHECK(false);
  return 0;
}

void Column::PutInt(RowId row, int64_t v) {
  switch (width_) {
    case 1:
      Put(row, static_cast<uint8_t>(v));
      return;
    case 4:
      if (def_->type == ColumnType::kRef) {
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

void Column::CopyOut(RowId row, void* out) const {
  std::memcpy(out, chunks_[row >> kChunkShift]->data.get() + (row & (kChunkRows - 1)) * width_,
              width_);
}

void Column::CopyIn(RowId row, const void* in) {
  std::memcpy(Writable(row)->data.get() + (row & (kChunkRows - 1)) * width_, in, width_);
}

std::vector<Column::ChunkImage> Column::Pin(size_t rows) const {
  std::vector<ChunkImage> out;
  for (size_t c = 0; c * kChunkRows < rows; ++c) {
    const auto n = static_cast<uint32_t>(std::min<size_t>(kChunkRows, rows - c * kChunkRows));
    out.push_back({chunks_[c], chunks_[c]->data.get(), chunks_[c]->validity.get(), n});
  }
  return out;
}

void Column::LoadChunk(size_t c, const uint8_t* data, const uint64_t* validity, uint32_t rows) {
  VOX_DCHECK(c < chunks_.size() && rows <= chunks_[c]->capacity);
  Chunk* chunk = chunks_[c].get();
  std::memcpy(chunk->data.get(), data, size_t{rows} * width_);
  if (def_->nullable() && validity != nullptr) {
    std::memcpy(chunk->validity.get(), validity, (rows + 63) / 64 * sizeof(uint64_t));
  }
}

size_t Column::MemoryBytes() const {
  size_t n = chunks_.capacity() * sizeof(chunks_[0]);
  for (const auto& c : chunks_) {
    n += size_t{c->capacity} * width_ + sizeof(Chunk);
    if (c->validity) n += (c->capacity + 63) / 64 * 8;
  }
  if (heap_) n += heap_->MemoryBytes();
  return n;
}

}  // namespace vox
