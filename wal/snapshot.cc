#include "wal/snapshot.h"

#include <fcntl.h>
#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "engine/ops/migration.h"
#include "engine/txn.h"
#include "schema/str.h"
#include "wal/snapshot_format.h"

namespace vox {

uint64_t SnapshotHeaderHash(const SnapshotFileHeader& header) {
  return XXH3_64bits(&header, offsetof(SnapshotFileHeader, header_hash));
}

uint64_t SnapshotBlockHeaderHash(const SnapshotBlockHeader& header) {
  constexpr size_t kSkip = sizeof(header.header_hash);
  return XXH3_64bits(reinterpret_cast<const char*>(&header) + kSkip, sizeof(header) - kSkip);
}

uint64_t SnapshotTrailerHash(const SnapshotTrailer& trailer) {
  return XXH3_64bits(&trailer, offsetof(SnapshotTrailer, trailer_hash));
}

std::string SnapshotFileName(uint64_t lsn) {
  char name[64];
  std::snprintf(name, sizeof(name), "snapshot-%020llu%s", static_cast<unsigned long long>(lsn),
                kSnapshotSuffix);
  return name;
}

namespace {

constexpr uint64_t kProgressStepBytes = 4 << 20;
constexpr size_t kWriteBufferBytes = 4 << 20;
constexpr size_t kDirectWriteBytes = 256 << 10;  // larger parts skip the write buffer
constexpr size_t kReadBufferBytes = 8 << 20;
static_assert(kReadBufferBytes >= kSnapshotBlockHeaderBytes + kSnapshotMaxPayloadBytes);
constexpr uint8_t kZeros[8] = {};

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

Timestamp WallClockNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A status with `context` put before its message; the code is kept.
absl::Status Annotate(const absl::Status& s, std::string_view context) {
  return absl::Status(s.code(), StrCat(context, ": ", ToStd(s.message())));
}

struct XxhStateDeleter {
  void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};
using XxhState = std::unique_ptr<XXH3_state_t, XxhStateDeleter>;

XxhState NewXxhState() {
  XxhState s(XXH3_createState());
  if (s == nullptr) std::abort();  // OOM
  XXH3_64bits_reset(s.get());
  return s;
}

uint32_t ChunkRows(uint64_t table_rows, uint32_t chunk) {
  return static_cast<uint32_t>(
      std::min<uint64_t>(kSnapshotChunkRows, table_rows - uint64_t{chunk} * kSnapshotChunkRows));
}

uint32_t ChunkCount(uint64_t table_rows) {
  return static_cast<uint32_t>((table_rows + kSnapshotChunkRows - 1) / kSnapshotChunkRows);
}

bool IsStringType(ColumnType type) {
  return type == ColumnType::kString || type == ColumnType::kJson;
}

// ---------------------------------------------------------------------------
// Writing

// Appends blocks to a file through a write buffer (large parts go straight
// from the pinned chunks to the file), keeping the running summary hash.
// Without `io` it only counts bytes: the same walk gives the file's size.
class SnapshotWriter {
 public:
  struct Part {
    const void* data;
    size_t bytes;
  };

  SnapshotWriter(FileIo* io, int fd, const std::string& path, uint64_t total_bytes,
                 const ProgressFn& progress)
      : io_(io), fd_(fd), path_(path), total_(total_bytes), progress_(progress) {
    if (io_ != nullptr) {
      buffer_.reset(new uint8_t[kWriteBufferBytes]);
      summary_ = NewXxhState();
      payload_hash_ = NewXxhState();
    }
  }

  uint64_t offset() const { return flushed_ + buffered_; }
  uint64_t live_rows() const { return live_rows_; }

  absl::Status WriteHeader(SnapshotFileHeader header);
  absl::Status WriteSchema(uint32_t version, const std::vector<std::string>& history);
  absl::Status WriteTable(const Table::Image& table);
  // Writes the trailer and flushes the buffer.
  absl::Status Finish(uint64_t row_slots);

 private:
  absl::Status WriteColumn(const Table::Image& table, ColumnId c);
  absl::Status AddBlock(SnapshotBlockKind kind, TableId table, uint16_t column, uint32_t index,
                        uint32_t rows, std::initializer_list<Part> parts);
  absl::Status Append(const void* data, size_t bytes);
  absl::Status Flush();
  // Syncs every kSyncEveryBytes written, so the kernel writes the file back
  // in small steps instead of one burst that would stall the WAL's
  // fdatasyncs behind it (measured: docs/benchmarks.md).
  absl::Status MaybeSync();
  void Report();

  FileIo* const io_;  // null: count only
  const int fd_;
  const std::string& path_;
  const uint64_t total_;
  const ProgressFn& progress_;
  std::unique_ptr<uint8_t[]> buffer_;
  size_t buffered_ = 0;
  uint64_t flushed_ = 0;
  uint64_t synced_ = 0;
  uint64_t reported_ = 0;
  uint64_t blocks_ = 0;
  uint64_t live_rows_ = 0;
  XxhState summary_;
  XxhState payload_hash_;
  uint64_t validity_[kSnapshotChunkRows / 64];
};

constexpr uint64_t kSyncEveryBytes = 8ull << 20;

absl::Status SnapshotWriter::MaybeSync() {
  if (flushed_ - synced_ < kSyncEveryBytes) return absl::OkStatus();
  absl::Status s = io_->DataSync(fd_);
  if (!s.ok()) return Annotate(s, StrCat("syncing snapshot ", path_));
  synced_ = flushed_;
  return absl::OkStatus();
}

absl::Status SnapshotWriter::Flush() {
  if (buffered_ == 0) return absl::OkStatus();
  absl::Status s = WriteFully(*io_, fd_, buffer_.get(), buffered_, flushed_);
  if (!s.ok()) return Annotate(s, StrCat("writing snapshot ", path_, " at offset ", flushed_));
  flushed_ += buffered_;
  buffered_ = 0;
  return MaybeSync();
}

absl::Status SnapshotWriter::Append(const void* data, size_t bytes) {
  if (io_ == nullptr) {
    flushed_ += bytes;
    return absl::OkStatus();
  }
  if (bytes >= kDirectWriteBytes) {
    VOX_RETURN_IF_ERROR(Flush());
    absl::Status s = WriteFully(*io_, fd_, data, bytes, flushed_);
    if (!s.ok()) return Annotate(s, StrCat("writing snapshot ", path_, " at offset ", flushed_));
    flushed_ += bytes;
    return MaybeSync();
  }
  if (buffered_ + bytes > kWriteBufferBytes) VOX_RETURN_IF_ERROR(Flush());
  std::memcpy(buffer_.get() + buffered_, data, bytes);
  buffered_ += bytes;
  return absl::OkStatus();
}

void SnapshotWriter::Report() {
  if (!progress_ || offset() - reported_ < kProgressStepBytes) return;
  reported_ = offset();
  progress_(reported_, total_);
}

absl::Status SnapshotWriter::WriteHeader(SnapshotFileHeader header) {
  header.header_hash = SnapshotHeaderHash(header);
  if (io_ != nullptr) XXH3_64bits_update(summary_.get(), &header, sizeof(header));
  return Append(&header, sizeof(header));
}

absl::Status SnapshotWriter::AddBlock(SnapshotBlockKind kind, TableId table, uint16_t column,
                                      uint32_t index, uint32_t rows,
                                      std::initializer_list<Part> parts) {
  SnapshotBlockHeader h{};
  uint64_t payload = 0;
  for (const Part& p : parts) payload += p.bytes;
  VOX_DCHECK(payload <= kSnapshotMaxPayloadBytes);
  const size_t padding = SnapshotPadded(payload) - payload;
  h.payload_bytes = static_cast<uint32_t>(payload);
  h.rows = rows;
  h.index = index;
  h.column = column;
  h.table = static_cast<uint8_t>(table);
  h.kind = static_cast<uint8_t>(kind);
  ++blocks_;
  if (io_ != nullptr) {
    XXH3_64bits_reset(payload_hash_.get());
    for (const Part& p : parts) XXH3_64bits_update(payload_hash_.get(), p.data, p.bytes);
    XXH3_64bits_update(payload_hash_.get(), kZeros, padding);
    h.payload_hash = XXH3_64bits_digest(payload_hash_.get());
    h.header_hash = SnapshotBlockHeaderHash(h);
    XXH3_64bits_update(summary_.get(), &h, sizeof(h));
  }
  VOX_RETURN_IF_ERROR(Append(&h, sizeof(h)));
  for (const Part& p : parts) VOX_RETURN_IF_ERROR(Append(p.data, p.bytes));
  VOX_RETURN_IF_ERROR(Append(kZeros, padding));
  Report();
  return absl::OkStatus();
}

absl::Status SnapshotWriter::WriteSchema(uint32_t version,
                                         const std::vector<std::string>& history) {
  const uint32_t head[2] = {version, static_cast<uint32_t>(history.size())};
  VOX_RETURN_IF_ERROR(AddBlock(SnapshotBlockKind::kSchema, TableId{}, kSnapshotNoColumn, 0, 0,
                               {{head, sizeof(head)}}));
  for (uint32_t i = 0; i < history.size(); ++i) {
    VOX_RETURN_IF_ERROR(AddBlock(SnapshotBlockKind::kSchema, TableId{}, kSnapshotNoColumn, i + 1,
                                 0, {{history[i].data(), history[i].size()}}));
  }
  return absl::OkStatus();
}

absl::Status SnapshotWriter::WriteTable(const Table::Image& table) {
  const std::vector<ColumnDef>& defs = table.defs;
  VOX_DCHECK(table.columns.size() == defs.size());
  VOX_DCHECK(table.heaps.size() == defs.size());
  SnapshotTableDescriptor desc{table.row_count, static_cast<uint32_t>(defs.size()), 0};
  std::vector<SnapshotColumnDescriptor> columns(defs.size());
  for (size_t c = 0; c < columns.size(); ++c) {
    const ColumnDef& col = defs[c];
    columns[c] = {static_cast<uint32_t>(table.heaps[c].blocks.size()),
                  static_cast<uint8_t>(col.type), ColumnWidth(col.type),
                  static_cast<uint8_t>(col.nullable() ? kSnapshotColumnNullable : 0), 0};
  }
  VOX_RETURN_IF_ERROR(
      AddBlock(SnapshotBlockKind::kTable, table.table, kSnapshotNoColumn, 0, 0,
               {{&desc, sizeof(desc)}, {columns.data(), columns.size() * sizeof(columns[0])}}));
  for (uint32_t k = 0; k < table.live.size(); ++k) {
    const Column::ChunkImage& chunk = table.live[k];
    if (io_ != nullptr) {
      live_rows_ += chunk.rows - static_cast<uint64_t>(
                                     std::count(chunk.data, chunk.data + chunk.rows, uint8_t{0}));
    }
    VOX_RETURN_IF_ERROR(AddBlock(SnapshotBlockKind::kLive, table.table, kSnapshotNoColumn, k,
                                 chunk.rows, {{chunk.data, chunk.rows}}));
  }
  for (ColumnId c = 0; c < defs.size(); ++c) VOX_RETURN_IF_ERROR(WriteColumn(table, c));
  return absl::OkStatus();
}

absl::Status SnapshotWriter::WriteColumn(const Table::Image& table, ColumnId c) {
  const std::vector<std::string_view>& heap = table.heaps[c].blocks;
  for (uint32_t b = 0; b < heap.size(); ++b) {
    VOX_RETURN_IF_ERROR(AddBlock(SnapshotBlockKind::kHeap, table.table, c, b, 0,
                                 {{heap[b].data(), heap[b].size()}}));
  }
  const ColumnDef& col = table.defs[c];
  const uint8_t width = ColumnWidth(col.type);
  for (uint32_t k = 0; k < table.columns[c].size(); ++k) {
    const Column::ChunkImage& chunk = table.columns[c][k];
    const size_t values = size_t{chunk.rows} * width;
    const Part value_part{chunk.data, values};
    const Part pad_part{kZeros, SnapshotPadded(values) - values};
    if (!col.nullable()) {
      VOX_RETURN_IF_ERROR(AddBlock(SnapshotBlockKind::kChunk, table.table, c, k, chunk.rows,
                                   {value_part, pad_part}));
      continue;
    }
    // The validity words, with the bits past the last row cleared.
    VOX_DCHECK(chunk.validity != nullptr);
    const size_t words = (chunk.rows + 63) / 64;
    std::memcpy(validity_, chunk.validity, words * 8);
    if (chunk.rows % 64 != 0) validity_[words - 1] &= (uint64_t{1} << (chunk.rows % 64)) - 1;
    VOX_RETURN_IF_ERROR(AddBlock(SnapshotBlockKind::kChunk, table.table, c, k, chunk.rows,
                                 {value_part, pad_part, {validity_, words * 8}}));
  }
  return absl::OkStatus();
}

absl::Status SnapshotWriter::Finish(uint64_t row_slots) {
  SnapshotTrailer t{};
  std::memcpy(t.magic, kSnapshotTrailerMagic, sizeof(t.magic));
  t.block_count = blocks_;
  t.row_slots = row_slots;
  t.live_rows = live_rows_;
  t.trailer_offset = offset();
  if (io_ != nullptr) t.summary_hash = XXH3_64bits_digest(summary_.get());
  t.trailer_hash = SnapshotTrailerHash(t);
  VOX_RETURN_IF_ERROR(Append(&t, sizeof(t)));
  if (io_ == nullptr) return absl::OkStatus();
  VOX_RETURN_IF_ERROR(Flush());
  if (progress_) progress_(offset(), total_);
  return absl::OkStatus();
}

SnapshotFileHeader MakeHeader(const SnapshotMeta& meta, size_t table_count) {
  SnapshotFileHeader h{};
  std::memcpy(h.magic, kSnapshotMagic, sizeof(h.magic));
  h.format_version = kSnapshotFormatVersion;
  h.schema_version = meta.schema_version;
  h.database_id_hi = meta.database_id.hi;
  h.database_id_lo = meta.database_id.lo;
  h.lsn = meta.lsn;
  h.created_at = meta.created_at != 0 ? meta.created_at : WallClockNow();
  h.table_count = static_cast<uint32_t>(table_count);
  h.header_bytes = kSnapshotHeaderBytes;
  return h;
}

// Writes the whole file through `writer` (or counts its bytes).
absl::Status WriteContents(SnapshotWriter& writer, const SnapshotFileHeader& header,
                           const std::vector<std::string>& history,
                           const std::vector<Table::Image>& image) {
  VOX_RETURN_IF_ERROR(writer.WriteHeader(header));
  VOX_RETURN_IF_ERROR(writer.WriteSchema(header.schema_version, history));
  uint64_t row_slots = 0;
  for (const Table::Image& table : image) {
    VOX_RETURN_IF_ERROR(writer.WriteTable(table));
    row_slots += table.row_count;
  }
  return writer.Finish(row_slots);
}

uint64_t PlannedBytes(const SnapshotFileHeader& header, const std::vector<std::string>& history,
                      const std::vector<Table::Image>& image) {
  const std::string no_path;
  const ProgressFn no_progress;
  SnapshotWriter counter(nullptr, -1, no_path, 0, no_progress);
  const absl::Status s = WriteContents(counter, header, history, image);
  VOX_DCHECK(s.ok());  // counting does no I/O
  (void)s;
  return counter.offset();
}

// Creates `tmp`, writes the snapshot into it and makes it durable.
absl::StatusOr<uint64_t> WriteTempFile(FileIo& io, const std::string& tmp,
                                       const SnapshotFileHeader& header,
                                       const std::vector<std::string>& history,
                                       const std::vector<Table::Image>& image,
                                       const ProgressFn& progress, uint64_t* live_rows) {
  const uint64_t total = PlannedBytes(header, history, image);
  VOX_ASSIGN_OR_RETURN(const int fd, io.Open(tmp, O_WRONLY | O_CREAT | O_TRUNC));
  SnapshotWriter writer(&io, fd, tmp, total, progress);
  absl::Status s = WriteContents(writer, header, history, image);
  if (s.ok() && writer.offset() != total) {
    s = absl::InternalError(
        StrCat("snapshot ", tmp, ": wrote ", writer.offset(), " bytes, planned ", total));
  }
  if (s.ok()) {
    s = io.DataSync(fd);
    if (!s.ok()) s = Annotate(s, StrCat("syncing snapshot ", tmp));
  }
  const absl::Status closed = io.Close(fd);
  if (s.ok() && !closed.ok()) s = Annotate(closed, StrCat("closing snapshot ", tmp));
  VOX_RETURN_IF_ERROR(s);
  *live_rows = writer.live_rows();
  return total;
}

// AlreadyExists if `path` exists; the error if it cannot be told.
absl::Status CheckAbsent(FileIo& io, const std::string& path) {
  absl::StatusOr<int> fd = io.Open(path, O_RDONLY);
  if (fd.ok()) {
    (void)io.Close(*fd);  // read-only: nothing to lose
    return absl::AlreadyExistsError(StrCat("snapshot ", path, " already exists"));
  }
  if (absl::IsNotFound(fd.status())) return absl::OkStatus();
  return fd.status();
}

// Removes a file a failed write left; the write's error is what the caller
// reports, so a failure here is only noted in it.
absl::Status RemoveAfterFailure(FileIo& io, const std::string& path, const absl::Status& error) {
  const absl::Status removed = io.Unlink(path);
  if (removed.ok() || absl::IsNotFound(removed)) return error;
  return Annotate(error,
                  StrCat("(and removing ", path, " failed: ", ToStd(removed.message()), ")"));
}

// ---------------------------------------------------------------------------
// Reading

// What the walk expects the next block to be.
struct Expect {
  SnapshotBlockKind kind;
  uint8_t table;
  uint16_t column;
  uint32_t index;
  uint32_t rows;
  uint64_t min_payload;
  uint64_t max_payload;
};

struct Block {
  SnapshotBlockHeader header;
  const uint8_t* payload;  // valid until the next Next()
};

std::string_view KindName(SnapshotBlockKind kind) {
  switch (kind) {
    case SnapshotBlockKind::kTable:
      return "descriptor";
    case SnapshotBlockKind::kLive:
      return "live chunk";
    case SnapshotBlockKind::kHeap:
      return "heap block";
    case SnapshotBlockKind::kChunk:
      return "chunk";
    case SnapshotBlockKind::kSchema:
      return "schema block";
  }
  return "block";
}

// Reads a snapshot file front to back: header and trailer first, then one
// checked block at a time. Every failure names the file and the offset.
class SnapshotReader {
 public:
  SnapshotReader(FileIo& io, const std::string& path, const ProgressFn& progress)
      : io_(io), path_(path), progress_(progress) {}
  ~SnapshotReader() {
    if (fd_ >= 0) (void)io_.Close(fd_);  // read-only: nothing to lose
  }
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // Opens the file and checks its header and trailer.
  absl::Status Open();
  const SnapshotFileHeader& header() const { return header_; }
  const SnapshotTrailer& trailer() const { return trailer_; }
  uint64_t position() const { return pos_; }
  // Bytes between the position and the trailer.
  uint64_t remaining() const { return trailer_.trailer_offset - pos_; }

  // Reads the next block, checks its header against `expect` and both its
  // checksums.
  absl::StatusOr<Block> Next(const Expect& expect);
  // After the last block: checks the trailer against what was read.
  absl::Status CheckEnd(uint64_t row_slots, uint64_t live_rows);

  std::string Describe(uint8_t table, uint16_t column) const;
  absl::Status Corrupt(uint64_t offset, std::string_view what) const {
    return absl::DataLossError(StrCat("snapshot ", path_, ": ", what, " at byte offset ", offset));
  }
  SnapshotInfo Info() const;

 private:
  absl::Status ReadHeader();
  absl::Status ReadTrailer();
  // `bytes` bytes at `offset` (a multiple of 8) in the read buffer.
  absl::StatusOr<const uint8_t*> Fetch(uint64_t offset, size_t bytes);
  std::string DescribeBlock(const Expect& e) const;

  FileIo& io_;
  const std::string& path_;
  const ProgressFn& progress_;
  int fd_ = -1;
  uint64_t size_ = 0;
  SnapshotFileHeader header_{};
  SnapshotTrailer trailer_{};
  std::unique_ptr<uint64_t[]> buffer_;  // 8-byte aligned
  uint64_t buffer_offset_ = 0;          // file offset of buffer_[0]
  size_t buffered_ = 0;
  uint64_t pos_ = 0;
  uint64_t blocks_ = 0;
  uint64_t reported_ = 0;
  XxhState summary_;
};

absl::Status SnapshotReader::Open() {
  VOX_ASSIGN_OR_RETURN(fd_, io_.Open(path_, O_RDONLY));
  absl::StatusOr<uint64_t> size = io_.FileSize(fd_);
  if (!size.ok()) return Annotate(size.status(), StrCat("snapshot ", path_));
  size_ = *size;
  summary_ = NewXxhState();
  VOX_RETURN_IF_ERROR(ReadHeader());
  return ReadTrailer();
}

absl::StatusOr<const uint8_t*> SnapshotReader::Fetch(uint64_t offset, size_t bytes) {
  VOX_DCHECK(offset % 8 == 0 && bytes <= kReadBufferBytes && offset + bytes <= size_);
  if (buffer_ == nullptr) buffer_.reset(new uint64_t[kReadBufferBytes / 8]);
  auto* base = reinterpret_cast<uint8_t*>(buffer_.get());
  const uint64_t end = buffer_offset_ + buffered_;
  if (offset >= buffer_offset_ && offset + bytes <= end) return base + (offset - buffer_offset_);
  size_t keep = 0;  // what the buffer already holds from `offset` on
  if (offset >= buffer_offset_ && offset < end) {
    keep = end - offset;
    std::memmove(base, base + (offset - buffer_offset_), keep);
  }
  buffer_offset_ = offset;
  buffered_ = keep;
  const size_t want = std::min<uint64_t>(kReadBufferBytes, size_ - offset) - keep;
  absl::StatusOr<size_t> got = io_.PRead(fd_, base + keep, want, offset + keep);
  if (!got.ok()) {
    return Annotate(got.status(), StrCat("reading snapshot ", path_, " at offset ", offset + keep));
  }
  buffered_ += *got;
  if (buffered_ < bytes) return Corrupt(offset + buffered_, "the file ended early (it shrank?)");
  return base;
}

absl::Status SnapshotReader::ReadHeader() {
  absl::StatusOr<size_t> n = io_.PRead(fd_, &header_, sizeof(header_), 0);
  if (!n.ok()) return Annotate(n.status(), StrCat("reading snapshot ", path_, " header"));
  if (std::memcmp(header_.magic, kSnapshotMagic, std::min(*n, sizeof(kSnapshotMagic))) != 0) {
    return absl::InvalidArgumentError(
        StrCat(path_, " is not a VoxDB snapshot (its first bytes are not the snapshot magic)"));
  }
  if (size_ < kSnapshotHeaderBytes + kSnapshotTrailerBytes) {
    return Corrupt(size_,
                   StrCat("truncated: ", size_, " bytes, too short for a header and trailer"));
  }
  if (*n != sizeof(header_)) return Corrupt(*n, "the file ended early (it shrank?)");
  if (SnapshotHeaderHash(header_) != header_.header_hash) {
    return Corrupt(0, "header checksum mismatch");
  }
  if (header_.format_version < 1 || header_.format_version > kSnapshotFormatVersion) {
    return absl::FailedPreconditionError(
        StrCat("snapshot ", path_, " has format version ", header_.format_version,
               ": a newer VoxDB wrote it; this build reads format versions 1 to ",
               kSnapshotFormatVersion, ": upgrade the server"));
  }
  if (header_.format_version == 1 && header_.schema_version != kSchemaVersion) {
    return Corrupt(0, StrCat("format 1 holds schema version ", kSchemaVersion, ", not ",
                             header_.schema_version));
  }
  if (header_.header_bytes != kSnapshotHeaderBytes || header_.table_count > 256) {
    return Corrupt(0, "inconsistent header (header size or table count)");
  }
  XXH3_64bits_update(summary_.get(), &header_, sizeof(header_));
  pos_ = kSnapshotHeaderBytes;
  return absl::OkStatus();
}

absl::Status SnapshotReader::ReadTrailer() {
  const uint64_t at = size_ - kSnapshotTrailerBytes;
  absl::StatusOr<size_t> got = io_.PRead(fd_, &trailer_, sizeof(trailer_), at);
  if (!got.ok()) return Annotate(got.status(), StrCat("reading snapshot ", path_, " trailer"));
  if (*got != sizeof(trailer_)) return Corrupt(at, "the file ended early (it shrank?)");
  if (size_ % 8 != 0 ||
      std::memcmp(trailer_.magic, kSnapshotTrailerMagic, sizeof(trailer_.magic)) != 0) {
    return Corrupt(
        at, StrCat("no trailer at the end of the file (", size_, " bytes): truncated or damaged"));
  }
  if (SnapshotTrailerHash(trailer_) != trailer_.trailer_hash) {
    return Corrupt(at, "trailer checksum mismatch");
  }
  if (trailer_.trailer_offset != at) {
    return Corrupt(at, StrCat("trailer says it is at offset ", trailer_.trailer_offset,
                              ": the file was truncated or extended"));
  }
  return absl::OkStatus();
}

std::string SnapshotReader::Describe(uint8_t table, uint16_t column) const {
  const bool named = table < kTableCount;  // built-in tables keep their ids
  std::string out = named ? StrCat("table ", kTables[table].name) : StrCat("table #", table);
  if (column == kSnapshotNoColumn) return out;
  if (named && column < kTables[table].columns.size()) {
    return StrCat(out, ", column ", kTables[table].columns[column].name);
  }
  return StrCat(out, ", column #", column);
}

std::string SnapshotReader::DescribeBlock(const Expect& e) const {
  std::string out = StrCat(Describe(e.table, e.column), ", ", KindName(e.kind));
  if (e.kind != SnapshotBlockKind::kTable) out += StrCat(" ", e.index);
  return out;
}

absl::StatusOr<Block> SnapshotReader::Next(const Expect& e) {
  const uint64_t at = pos_;
  const uint64_t end = trailer_.trailer_offset;
  if (end - at < kSnapshotBlockHeaderBytes) {
    return Corrupt(at, StrCat("missing block (", DescribeBlock(e), "): the blocks end"));
  }
  VOX_ASSIGN_OR_RETURN(const uint8_t* p, Fetch(at, kSnapshotBlockHeaderBytes));
  Block b;
  std::memcpy(&b.header, p, sizeof(b.header));
  const SnapshotBlockHeader& h = b.header;
  if (SnapshotBlockHeaderHash(h) != h.header_hash) {
    return Corrupt(at, StrCat("block header checksum mismatch (", DescribeBlock(e), ")"));
  }
  if (h.kind != static_cast<uint8_t>(e.kind) || h.table != e.table || h.column != e.column ||
      h.index != e.index || h.rows != e.rows || h.payload_bytes < e.min_payload ||
      h.payload_bytes > e.max_payload) {
    return Corrupt(at, StrCat("unexpected block (kind ", h.kind, ", table ", h.table, ", column ",
                              h.column, ", index ", h.index, ", rows ", h.rows, ", ",
                              h.payload_bytes, " bytes) where ", DescribeBlock(e), " belongs"));
  }
  const uint64_t padded = SnapshotPadded(h.payload_bytes);
  if (end - at - kSnapshotBlockHeaderBytes < padded) {
    return Corrupt(at, StrCat("block runs past the end of the blocks (", DescribeBlock(e), ")"));
  }
  VOX_ASSIGN_OR_RETURN(p, Fetch(at, kSnapshotBlockHeaderBytes + padded));
  b.payload = p + kSnapshotBlockHeaderBytes;
  if (XXH3_64bits(b.payload, padded) != h.payload_hash) {
    return Corrupt(at + kSnapshotBlockHeaderBytes, StrCat("checksum mismatch in ", DescribeBlock(e),
                                                          " (block at offset ", at, ")"));
  }
  XXH3_64bits_update(summary_.get(), &h, sizeof(h));
  ++blocks_;
  pos_ = at + kSnapshotBlockHeaderBytes + padded;
  if (progress_ && pos_ - reported_ >= kProgressStepBytes) {
    reported_ = pos_;
    progress_(pos_, size_);
  }
  return b;
}

absl::Status SnapshotReader::CheckEnd(uint64_t row_slots, uint64_t live_rows) {
  const uint64_t at = trailer_.trailer_offset;
  if (pos_ != at) return Corrupt(pos_, "unexpected bytes after the last table");
  if (blocks_ != trailer_.block_count) {
    return Corrupt(
        at, StrCat("the trailer counts ", trailer_.block_count, " blocks, the file has ", blocks_));
  }
  if (XXH3_64bits_digest(summary_.get()) != trailer_.summary_hash) {
    return Corrupt(at, "summary checksum mismatch (a block is missing, extra or out of order)");
  }
  if (row_slots != trailer_.row_slots || live_rows != trailer_.live_rows) {
    return Corrupt(
        at, StrCat("the trailer counts ", trailer_.live_rows, " live rows of ", trailer_.row_slots,
                   ", the tables hold ", live_rows, " of ", row_slots));
  }
  if (progress_) progress_(size_, size_);
  return absl::OkStatus();
}

SnapshotInfo SnapshotReader::Info() const {
  SnapshotInfo info;
  info.path = path_;
  info.lsn = header_.lsn;
  info.database_id = {header_.database_id_hi, header_.database_id_lo};
  info.schema_version = header_.schema_version;
  info.created_at = header_.created_at;
  info.total_rows = trailer_.live_rows;
  info.bytes = size_;
  return info;
}

// A table as the file describes it.
struct ColumnLayout {
  ColumnType type;
  uint8_t width;
  bool nullable;
  uint32_t heap_blocks;
};
struct TableLayout {
  uint8_t table;
  uint64_t rows;
  std::vector<ColumnLayout> columns;
};

// Receives the checked contents of a snapshot as the walk reads them.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual absl::Status BeginTable(const TableLayout& layout) = 0;
  // Chunk `chunk` of the liveness bytes: one a row, 0 = dead.
  virtual void Live(uint32_t chunk, const uint8_t* live, uint32_t rows) = 0;
  virtual void Heap(ColumnId c, std::string_view bytes) = 0;
  // `validity` is null unless the column is nullable.
  virtual void Chunk(ColumnId c, uint32_t chunk, const uint8_t* values, const uint64_t* validity,
                     uint32_t rows) = 0;
  virtual absl::Status EndTable() = 0;
  // Before the tables: the schema version and the migrations applied
  // (empty for format 1).
  virtual absl::Status Schema(uint32_t version, std::vector<std::string> history) = 0;
};

// Checks only (VerifySnapshot).
class NullSink : public SnapshotSink {
 public:
  absl::Status BeginTable(const TableLayout&) override { return absl::OkStatus(); }
  void Live(uint32_t, const uint8_t*, uint32_t) override {}
  void Heap(ColumnId, std::string_view) override {}
  void Chunk(ColumnId, uint32_t, const uint8_t*, const uint64_t*, uint32_t) override {}
  absl::Status EndTable() override { return absl::OkStatus(); }
  absl::Status Schema(uint32_t, std::vector<std::string>) override { return absl::OkStatus(); }
};

// Reads the kTable block of table `t` into `layout`.
absl::Status ReadLayout(SnapshotReader& r, uint8_t t, TableLayout* layout) {
  const uint64_t at = r.position();
  VOX_ASSIGN_OR_RETURN(const Block b, r.Next({SnapshotBlockKind::kTable, t, kSnapshotNoColumn, 0, 0,
                                              sizeof(SnapshotTableDescriptor),
                                              sizeof(SnapshotTableDescriptor) +
                                                  uint64_t{kSnapshotMaxColumns} *
                                                      sizeof(SnapshotColumnDescriptor)}));
  SnapshotTableDescriptor desc;
  std::memcpy(&desc, b.payload, sizeof(desc));
  if (b.header.payload_bytes !=
          sizeof(desc) + uint64_t{desc.column_count} * sizeof(SnapshotColumnDescriptor) ||
      desc.row_count > kSnapshotMaxRows) {
    return r.Corrupt(at, StrCat("inconsistent descriptor of ", r.Describe(t, kSnapshotNoColumn)));
  }
  layout->table = t;
  layout->rows = desc.row_count;
  layout->columns.clear();
  for (uint32_t c = 0; c < desc.column_count; ++c) {
    SnapshotColumnDescriptor col;
    std::memcpy(&col, b.payload + sizeof(desc) + c * sizeof(col), sizeof(col));
    const auto type = static_cast<ColumnType>(col.type);
    if (col.type > static_cast<uint8_t>(ColumnType::kTags) || col.width != ColumnWidth(type) ||
        (col.flags & ~kSnapshotColumnNullable) != 0 ||
        (col.heap_blocks != 0 && !IsStringType(type)) || col.heap_blocks > (1u << 24)) {
      return r.Corrupt(
          at, StrCat("inconsistent descriptor of ", r.Describe(t, static_cast<uint16_t>(c))));
    }
    layout->columns.push_back(
        {type, col.width, (col.flags & kSnapshotColumnNullable) != 0, col.heap_blocks});
  }
  // The least the described rows take: refuse a row count the file cannot
  // hold before anything is sized from it.
  uint64_t least = layout->rows;
  for (const ColumnLayout& c : layout->columns) {
    least += layout->rows * c.width + uint64_t{c.heap_blocks} * kSnapshotBlockHeaderBytes;
  }
  if (least > r.remaining()) {
    return r.Corrupt(at, StrCat(r.Describe(t, kSnapshotNoColumn), " claims ", layout->rows,
                                " rows, more than the file holds"));
  }
  return absl::OkStatus();
}

// Walks one table's blocks, checking them, and hands them to `sink`. Also
// checks that every live row's string points inside its column's heap.
class TableWalk {
 public:
  TableWalk(SnapshotReader& reader, SnapshotSink& sink) : r_(reader), sink_(sink) {}

  absl::Status Run(uint8_t t);
  uint64_t live_rows() const { return live_rows_; }
  uint64_t row_slots() const { return row_slots_; }

 private:
  absl::Status ReadLive();
  absl::Status ReadColumn(ColumnId c);
  absl::Status CheckStrings(ColumnId c, uint32_t chunk, const uint8_t* values,
                            const uint64_t* validity, uint32_t rows, uint64_t at) const;
  bool IsLive(uint64_t row) const { return (live_bits_[row >> 6] >> (row & 63)) & 1; }

  SnapshotReader& r_;
  SnapshotSink& sink_;
  TableLayout layout_;
  std::vector<uint64_t> live_bits_;
  std::vector<uint32_t> heap_sizes_;
  uint64_t live_rows_ = 0;
  uint64_t row_slots_ = 0;
};

absl::Status TableWalk::Run(uint8_t t) {
  VOX_RETURN_IF_ERROR(ReadLayout(r_, t, &layout_));
  VOX_RETURN_IF_ERROR(sink_.BeginTable(layout_));
  row_slots_ += layout_.rows;
  VOX_RETURN_IF_ERROR(ReadLive());
  for (ColumnId c = 0; c < layout_.columns.size(); ++c) VOX_RETURN_IF_ERROR(ReadColumn(c));
  return sink_.EndTable();
}

absl::Status TableWalk::ReadLive() {
  live_bits_.assign((layout_.rows + 63) / 64, 0);
  for (uint32_t k = 0; k < ChunkCount(layout_.rows); ++k) {
    const uint32_t rows = ChunkRows(layout_.rows, k);
    VOX_ASSIGN_OR_RETURN(const Block b, r_.Next({SnapshotBlockKind::kLive, layout_.table,
                                                 kSnapshotNoColumn, k, rows, rows, rows}));
    const uint64_t base = uint64_t{k} * kSnapshotChunkRows;
    for (uint32_t i = 0; i < rows; ++i) {
      const uint64_t live = b.payload[i] != 0;
      live_bits_[(base + i) >> 6] |= live << ((base + i) & 63);
      live_rows_ += live;
    }
    sink_.Live(k, b.payload, rows);
  }
  return absl::OkStatus();
}

absl::Status TableWalk::ReadColumn(ColumnId c) {
  const ColumnLayout& col = layout_.columns[c];
  heap_sizes_.clear();
  for (uint32_t h = 0; h < col.heap_blocks; ++h) {
    VOX_ASSIGN_OR_RETURN(const Block b, r_.Next({SnapshotBlockKind::kHeap, layout_.table, c, h, 0,
                                                 0, StringHeap::kBlockBytes}));
    heap_sizes_.push_back(b.header.payload_bytes);
    sink_.Heap(c, {reinterpret_cast<const char*>(b.payload), b.header.payload_bytes});
  }
  for (uint32_t k = 0; k < ChunkCount(layout_.rows); ++k) {
    const uint32_t rows = ChunkRows(layout_.rows, k);
    const uint64_t bytes = SnapshotChunkPayloadBytes(rows, col.width, col.nullable);
    const uint64_t at = r_.position();
    VOX_ASSIGN_OR_RETURN(const Block b, r_.Next({SnapshotBlockKind::kChunk, layout_.table, c, k,
                                                 rows, bytes, bytes}));
    const uint64_t* validity = col.nullable
                                   ? reinterpret_cast<const uint64_t*>(
                                         b.payload + SnapshotPadded(uint64_t{rows} * col.width))
                                   : nullptr;
    if (IsStringType(col.type)) {
      VOX_RETURN_IF_ERROR(CheckStrings(c, k, b.payload, validity, rows, at));
    }
    sink_.Chunk(c, k, b.payload, validity, rows);
  }
  return absl::OkStatus();
}

absl::Status TableWalk::CheckStrings(ColumnId c, uint32_t chunk, const uint8_t* values,
                                     const uint64_t* validity, uint32_t rows, uint64_t at) const {
  const uint64_t base = uint64_t{chunk} * kSnapshotChunkRows;
  for (uint32_t i = 0; i < rows; ++i) {
    if (!IsLive(base + i)) continue;
    if (validity != nullptr && ((validity[i >> 6] >> (i & 63)) & 1) == 0) continue;
    uint64_t ref;
    std::memcpy(&ref, values + size_t{i} * 8, 8);
    const uint64_t length = ref & 0xfffff;
    const uint64_t offset = (ref >> 20) & 0xfffff;
    const uint64_t block = ref >> 40;
    if (length == 0) continue;
    if (block >= heap_sizes_.size() || offset + length > heap_sizes_[block]) {
      return r_.Corrupt(at, StrCat(r_.Describe(layout_.table, c), ", row ", base + i,
                                   ": string outside the column's heap (block ", block, ", offset ",
                                   offset, ", length ", length, ")"));
    }
  }
  return absl::OkStatus();
}

// Reads the kSchema blocks (format 2) into `sink`.
absl::Status ReadSchema(SnapshotReader& r, SnapshotSink& sink) {
  if (r.header().format_version < 2) return sink.Schema(r.header().schema_version, {});
  VOX_ASSIGN_OR_RETURN(const Block head,
                       r.Next({SnapshotBlockKind::kSchema, 0, kSnapshotNoColumn, 0, 0, 8, 8}));
  uint32_t version, count;
  std::memcpy(&version, head.payload, 4);
  std::memcpy(&count, head.payload + 4, 4);
  if (version != r.header().schema_version || count > version || count > 1'000'000) {
    return r.Corrupt(r.position(), StrCat("the schema block says version ", version, " after ",
                                          count, " migrations; the header says version ",
                                          r.header().schema_version));
  }
  std::vector<std::string> history;
  for (uint32_t i = 1; i <= count; ++i) {
    VOX_ASSIGN_OR_RETURN(const Block b, r.Next({SnapshotBlockKind::kSchema, 0, kSnapshotNoColumn,
                                                i, 0, 1, 1u << 20}));
    history.emplace_back(reinterpret_cast<const char*>(b.payload), b.header.payload_bytes);
  }
  return sink.Schema(version, std::move(history));
}

// Walks every table of the file into `sink`, then checks the trailer.
absl::Status WalkSnapshot(SnapshotReader& r, SnapshotSink& sink) {
  VOX_RETURN_IF_ERROR(ReadSchema(r, sink));
  TableWalk walk(r, sink);
  for (uint32_t t = 0; t < r.header().table_count; ++t) {
    VOX_RETURN_IF_ERROR(walk.Run(static_cast<uint8_t>(t)));
  }
  return r.CheckEnd(walk.row_slots(), walk.live_rows());
}

// ---------------------------------------------------------------------------
// Loading

// FailedPrecondition unless `layout` is table `def` of this build's schema.
absl::Status CheckLayout(const std::string& path, const TableLayout& layout, const TableDef& def) {
  if (layout.columns.size() != def.columns.size()) {
    return absl::FailedPreconditionError(
        StrCat("snapshot ", path, ": table ", def.name, " has ", layout.columns.size(),
               " columns; this build's schema has ", def.columns.size()));
  }
  for (size_t c = 0; c < def.columns.size(); ++c) {
    const ColumnDef& want = def.columns[c];
    const ColumnLayout& got = layout.columns[c];
    if (got.type != want.type || got.nullable != want.nullable()) {
      return absl::FailedPreconditionError(StrCat(
          "snapshot ", path, ": table ", def.name, " column ", c, " is ", ColumnTypeName(got.type),
          got.nullable ? " nullable" : "", "; this build's schema has ", want.name, " ",
          ColumnTypeName(want.type), want.nullable() ? " nullable" : ""));
    }
  }
  return absl::OkStatus();
}

// Runs Table::FinishLoad (free lists, every index) for each loaded table on
// background threads while the file reader goes on with the next tables;
// Wait() lends the calling thread too. The tables are distinct objects that
// share no mutable state, so their index builds do not interfere.
class IndexBuilder {
 public:
  IndexBuilder(const std::string& path, int threads) : path_(path) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
  }
  ~IndexBuilder() { Stop(/*drain=*/false); }
  IndexBuilder(const IndexBuilder&) = delete;
  IndexBuilder& operator=(const IndexBuilder&) = delete;

  void Add(Table* table) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(table);
    cv_.notify_one();
  }
  // Builds what is left, with the calling thread's help, and returns the
  // first error.
  absl::Status Wait() {
    Stop(/*drain=*/true);
    return status_;
  }
  // FinishLoad's time summed over tables (more than the wall time it took).
  double seconds() const { return seconds_; }

 private:
  void Work() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty() || !drain_) return;
      RunOne(lock);
    }
  }
  void RunOne(std::unique_lock<std::mutex>& lock) {
    Table* table = queue_.front();
    queue_.pop_front();
    lock.unlock();
    const Clock::time_point start = Clock::now();
    absl::Status s = table->FinishLoad();
    const double seconds = SecondsSince(start);
    lock.lock();
    seconds_ += seconds;
    if (!s.ok() && status_.ok()) status_ = Annotate(s, StrCat("snapshot ", path_));
  }
  void Stop(bool drain) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return;
      stopping_ = true;
      drain_ = drain;
      if (!drain) queue_.clear();
      cv_.notify_all();
      while (!queue_.empty()) RunOne(lock);
    }
    for (std::thread& t : threads_) t.join();
  }

  const std::string& path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Table*> queue_;
  bool stopping_ = false;
  bool drain_ = true;
  absl::Status status_;
  double seconds_ = 0;
  std::vector<std::thread> threads_;  // last: started after the rest is ready
};

// Threads that build indexes while the file is read: all cores but the
// reader's, at least one.
int IndexThreads() {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores - 1, 1, 8);
}

// Fills the tables of an empty Database; `indexes` builds their indexes.
class LoadSink final : public SnapshotSink {
 public:
  LoadSink(Database& db, const std::string& path, uint32_t table_count, IndexBuilder& indexes)
      : db_(db), path_(path), table_count_(table_count), indexes_(indexes) {}

  absl::Status BeginTable(const TableLayout& layout) override {
    table_ = &db_.table(static_cast<TableId>(layout.table));
    VOX_RETURN_IF_ERROR(CheckLayout(path_, layout, table_->def()));
    table_->BeginLoad(layout.rows);
    return absl::OkStatus();
  }
  void Live(uint32_t chunk, const uint8_t* live, uint32_t rows) override {
    const RowId base = chunk * kSnapshotChunkRows;
    for (uint32_t i = 0; i < rows; ++i) {
      if (live[i] != 0) table_->SetLive(base + i, true);
    }
  }
  void Heap(ColumnId c, std::string_view bytes) override {
    table_->mutable_column(c).heap()->AdoptBlock(bytes);
  }
  void Chunk(ColumnId c, uint32_t chunk, const uint8_t* values, const uint64_t* validity,
             uint32_t rows) override {
    table_->mutable_column(c).LoadChunk(chunk, values, validity, rows);
    if (error_.ok()) error_ = CheckChunk(c, chunk, values, validity, rows);
  }
  absl::Status EndTable() override {
    if (!error_.ok()) return error_;
    indexes_.Add(table_);
    return absl::OkStatus();
  }
  absl::Status Schema(uint32_t version, std::vector<std::string> history) override {
    for (const std::string& text : history) {
      absl::Status s = ReplayMigration(db_, text, 0);
      if (!s.ok()) return absl::DataLossError(StrCat("snapshot ", path_, ": ", s.message()));
    }
    if (db_.schema_version() != version) {
      return absl::DataLossError(StrCat("snapshot ", path_, ": its migrations make version ",
                                        db_.schema_version(), ", its header says ", version));
    }
    if (table_count_ != db_.table_count()) {
      return absl::DataLossError(StrCat("snapshot ", path_, " has ", table_count_,
                                        " tables; its schema (version ", version, ") has ",
                                        db_.table_count()));
    }
    return absl::OkStatus();
  }
  // Refs into tables loaded after the referring one (a built-in table's
  // column that points at a table a migration added), checked at the end.
  absl::Status CheckLaterRefs() const {
    for (const auto& [key, raw] : later_refs_) {
      const auto t = static_cast<TableId>(key >> 16);
      const auto c = static_cast<ColumnId>(key & 0xffff);
      absl::Status s = CheckStoredValue(db_, t, c, raw);
      if (!s.ok()) return absl::DataLossError(StrCat("snapshot ", path_, ": ", s.message()));
    }
    return absl::OkStatus();
  }

 private:
  // Enum values, refs and tag ids of live rows must be in range (tables
  // refer only to themselves and to earlier tables, whose row counts are
  // known by now): reads follow them (CheckStoredValue).
  absl::Status CheckChunk(ColumnId c, uint32_t chunk, const uint8_t* values,
                          const uint64_t* validity, uint32_t rows) const {
    const ColumnType type = table_->def().columns[c].type;
    if (type != ColumnType::kEnum && type != ColumnType::kRef && type != ColumnType::kTags) {
      return absl::OkStatus();
    }
    const RowId base = chunk * kSnapshotChunkRows;
    for (uint32_t i = 0; i < rows; ++i) {
      if (!table_->IsLive(base + i)) continue;
      if (validity != nullptr && ((validity[i >> 6] >> (i & 63)) & 1) == 0) continue;
      int64_t raw;
      if (type == ColumnType::kEnum) {
        raw = values[i];
      } else if (type == ColumnType::kRef) {
        uint32_t v;
        std::memcpy(&v, values + size_t{i} * 4, 4);
        raw = v;
      } else {
        std::memcpy(&raw, values + size_t{i} * 8, 8);
      }
      if (type == ColumnType::kRef && table_->def().columns[c].ref_table > table_->id()) {
        int64_t& most = later_refs_[(uint32_t{static_cast<uint8_t>(table_->id())} << 16) | c];
        most = std::max(most, raw);
        continue;
      }
      absl::Status s = CheckStoredValue(db_, table_->id(), c, raw);
      if (!s.ok()) {
        return absl::DataLossError(
            StrCat("snapshot ", path_, ": row ", base + i, " of ", s.message()));
      }
    }
    return absl::OkStatus();
  }

  Database& db_;
  const std::string& path_;
  const uint32_t table_count_;
  IndexBuilder& indexes_;
  Table* table_ = nullptr;
  absl::Status error_;  // the first value out of range
  mutable absl::flat_hash_map<uint32_t, int64_t> later_refs_;  // (table << 16 | column) -> largest
};

absl::Status CheckEmpty(const Database& db) {
  if (db.schema_version() != kSchemaVersion) {
    return absl::FailedPreconditionError(
        StrCat("loading a snapshot needs a new database; this one is at schema version ",
               db.schema_version()));
  }
  for (const TableDef& def : kTables) {
    const Table& t = db.table(def.id);
    if (t.row_count() != 0) {
      return absl::FailedPreconditionError(StrCat("loading a snapshot needs an empty database; ",
                                                  def.name, " has ", t.row_count(), " rows"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

SnapshotMeta MetaOf(const Database& db, const Uuid& database_id, uint64_t lsn) {
  return {.database_id = database_id,
          .lsn = lsn,
          .schema_version = db.schema_version(),
          .schema_history = {db.schema_history().begin(), db.schema_history().end()}};
}

absl::StatusOr<SnapshotInfo> WriteSnapshot(FileIo& io, const std::vector<Table::Image>& image,
                                           const SnapshotMeta& meta, const std::string& dir,
                                           ProgressFn progress) {
  const Clock::time_point start = Clock::now();
  for (size_t t = 0; t < image.size(); ++t) VOX_DCHECK(static_cast<size_t>(image[t].table) == t);
  const std::string path = StrCat(dir, "/", SnapshotFileName(meta.lsn));
  const std::string tmp = StrCat(path, ".tmp");
  VOX_RETURN_IF_ERROR(CheckAbsent(io, path));
  const SnapshotFileHeader header = MakeHeader(meta, image.size());
  uint64_t live_rows = 0;
  absl::StatusOr<uint64_t> bytes =
      WriteTempFile(io, tmp, header, meta.schema_history, image, progress, &live_rows);
  if (!bytes.ok()) return RemoveAfterFailure(io, tmp, bytes.status());
  absl::Status s = io.Rename(tmp, path);
  if (!s.ok()) return RemoveAfterFailure(io, tmp, s);
  s = io.SyncDir(dir);
  if (!s.ok()) return RemoveAfterFailure(io, path, s);  // not durable: do not leave it

  SnapshotInfo info;
  info.path = path;
  info.lsn = meta.lsn;
  info.database_id = meta.database_id;
  info.schema_version = meta.schema_version;
  info.created_at = header.created_at;
  info.total_rows = live_rows;
  info.bytes = *bytes;
  info.seconds = SecondsSince(start);
  return info;
}

absl::StatusOr<SnapshotInfo> LoadSnapshot(FileIo& io, const std::string& path, Database& db,
                                          ProgressFn progress) {
  const Clock::time_point start = Clock::now();
  VOX_RETURN_IF_ERROR(CheckEmpty(db));
  SnapshotReader reader(io, path, progress);
  VOX_RETURN_IF_ERROR(reader.Open());
  IndexBuilder indexes(path, IndexThreads());
  LoadSink sink(db, path, reader.header().table_count, indexes);
  VOX_RETURN_IF_ERROR(WalkSnapshot(reader, sink));
  VOX_RETURN_IF_ERROR(sink.CheckLaterRefs());
  VOX_RETURN_IF_ERROR(indexes.Wait());
  SnapshotInfo info = reader.Info();
  info.seconds = SecondsSince(start);
  info.index_seconds = indexes.seconds();
  return info;
}

absl::StatusOr<SnapshotInfo> VerifySnapshot(FileIo& io, const std::string& path,
                                            ProgressFn progress) {
  const Clock::time_point start = Clock::now();
  SnapshotReader reader(io, path, progress);
  VOX_RETURN_IF_ERROR(reader.Open());
  NullSink sink;
  VOX_RETURN_IF_ERROR(WalkSnapshot(reader, sink));
  SnapshotInfo info = reader.Info();
  info.seconds = SecondsSince(start);
  return info;
}

absl::StatusOr<std::vector<std::string>> ReadSnapshotSchema(FileIo& io, const std::string& path) {
  const ProgressFn no_progress;
  SnapshotReader reader(io, path, no_progress);
  VOX_RETURN_IF_ERROR(reader.Open());
  // Keeps the schema blocks; the tables' blocks are not read.
  class SchemaOnly final : public NullSink {
   public:
    absl::Status Schema(uint32_t, std::vector<std::string> history) override {
      history_ = std::move(history);
      return absl::OkStatus();
    }
    std::vector<std::string> history_;
  } sink;
  VOX_RETURN_IF_ERROR(ReadSchema(reader, sink));
  return std::move(sink.history_);
}

absl::StatusOr<SnapshotInfo> ReadSnapshotHeader(FileIo& io, const std::string& path) {
  const Clock::time_point start = Clock::now();
  const ProgressFn no_progress;
  SnapshotReader reader(io, path, no_progress);
  VOX_RETURN_IF_ERROR(reader.Open());
  SnapshotInfo info = reader.Info();
  info.seconds = SecondsSince(start);
  return info;
}

}  // namespace vox
