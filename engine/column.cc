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

Column::Column(const ColumnDef& def) : def_(def), width_(ColumnWidth(def.type)) {
  if (def.type == ColumnType::kString || def.type == ColumnType::kJson) {
    heap_ = std::make_unique<StringHeap>();
  }
}

std::shared_ptr<Column::Chunk> Column::NewChunk(uint32_t capacity, const Chunk* from) const {
  auto c = std::make_shared<Chunk>();
  c->capacity = capacity;
  c->data.reset(static_cast<uint8_t*>(std::calloc(size_t{capacity} * width_, 1)));
  if (def_.nullable()) {
    c->validity.reset(static_cast<uint64_t*>(std::calloc((capacity + 63) / 64, sizeof(uint64_t))));
  }
  if (c->data == nullptr || (def_.nullable() && c->validity == nullptr)) std::abort();  // OOM
  if (from != nullptr) {
    const uint32_t n = std::min(capacity, from->capacity);
    std::memcpy(c->data.get(), from->data.get(), size_t{n} * width_);
    if (def_.nullable()) std::memcpy(c->validity.get(), from->validity.get(), (n + 63) / 64 * 8);
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

Column::Chunk* Column::CopyPinned(std::shared_ptr<Chunk>& c) {
  c = NewChunk(c->capacity, c.get());
  return c.get();
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
  if (def_.nullable() && validity != nullptr) {
    std::memcpy(chunk->validity.get(), validity, (rows + 63) / 64 * sizeof(uint64_t));
  }
}

void Column::FullChunkMemory(size_t c, std::vector<std::span<const uint8_t>>* out) const {
  if (c >= chunks_.size() || chunks_[c]->capacity != kChunkRows) return;
  const Chunk& chunk = *chunks_[c];
  out->emplace_back(chunk.data.get(), size_t{kChunkRows} * width_);
  if (chunk.validity) {
    out->emplace_back(reinterpret_cast<const uint8_t*>(chunk.validity.get()), kChunkRows / 8);
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
