// fuzz_snapshot_reader: bytes as a snapshot file, read by every reader of
// wal/snapshot.h (ReadSnapshotHeader, VerifySnapshot, LoadSnapshot into an
// empty database) on an in-memory file system. Must return errors, never
// crash.
//
// Input: | flags 1 | file bytes |. Random bytes rarely pass a 64-bit hash,
// so flags let the fuzzer reach what lies behind the checksums:
//   bit 0  seal the file header (its hash)
//   bit 1  seal every block (payload and header hashes), walking the blocks
//          from the header to the trailer's place (the last 56 bytes)
//   bit 2  make the trailer agree with the blocks walked (block count,
//          summary hash, offset, row counts from the descriptors and live
//          chunks) and seal it
// Checked: whatever LoadSnapshot accepts, VerifySnapshot accepts too, with
// the same LSN and row count; a loaded database counts the rows the file
// says, every index equals a full scan, and every row reads back.
#include <cstdint>
#include <cstring>
#include <string>

#include "tests/fuzz/fuzz_util.h"
#include "wal/snapshot.h"
#include "wal/snapshot_format.h"

namespace vox::fuzz {
namespace {

enum Flags : uint8_t { kSealHeader = 1, kSealBlocks = 2, kFixTrailer = 4 };

void Seal(std::string& file, uint8_t flags) {
  if (file.size() < kSnapshotHeaderBytes + kSnapshotTrailerBytes) return;
  SnapshotFileHeader header;
  std::memcpy(&header, file.data(), sizeof(header));
  if ((flags & kSealHeader) != 0) {
    header.header_hash = SnapshotHeaderHash(header);
    std::memcpy(file.data(), &header, sizeof(header));
  }
  XXH3_state_t* summary = XXH3_createState();
  XXH3_64bits_reset(summary);
  XXH3_64bits_update(summary, &header, sizeof(header));
  const size_t end = file.size() - kSnapshotTrailerBytes;
  uint64_t blocks = 0, row_slots = 0, live_rows = 0;
  for (size_t at = kSnapshotHeaderBytes; at < end && end - at >= kSnapshotBlockHeaderBytes;) {
    SnapshotBlockHeader h;
    std::memcpy(&h, file.data() + at, sizeof(h));
    const uint64_t padded = SnapshotPadded(h.payload_bytes);
    if (padded > end - at - kSnapshotBlockHeaderBytes) break;
    const char* payload = file.data() + at + kSnapshotBlockHeaderBytes;
    if (h.kind == static_cast<uint8_t>(SnapshotBlockKind::kTable) &&
        h.payload_bytes >= sizeof(SnapshotTableDescriptor)) {
      SnapshotTableDescriptor desc;
      std::memcpy(&desc, payload, sizeof(desc));
      row_slots += desc.row_count;
    } else if (h.kind == static_cast<uint8_t>(SnapshotBlockKind::kLive)) {
      for (uint32_t i = 0; i < h.payload_bytes; ++i) live_rows += payload[i] != 0;
    }
    if ((flags & kSealBlocks) != 0) {
      h.payload_hash = XXH3_64bits(payload, padded);
      h.header_hash = SnapshotBlockHeaderHash(h);
      std::memcpy(file.data() + at, &h, sizeof(h));
    }
    XXH3_64bits_update(summary, &h, sizeof(h));
    ++blocks;
    at += kSnapshotBlockHeaderBytes + padded;
  }
  if ((flags & kFixTrailer) != 0) {
    SnapshotTrailer t;
    std::memcpy(&t, file.data() + end, sizeof(t));
    t.block_count = blocks;
    t.row_slots = row_slots;
    t.live_rows = live_rows;
    t.trailer_offset = end;
    t.summary_hash = XXH3_64bits_digest(summary);
    t.trailer_hash = SnapshotTrailerHash(t);
    std::memcpy(file.data() + end, &t, sizeof(t));
  }
  XXH3_freeState(summary);
}

void Run(const uint8_t* data, size_t size) {
  if (size < 1) return;
  std::string file(reinterpret_cast<const char*>(data) + 1, size - 1);
  Seal(file, data[0]);
  MemFileIo io;
  const std::string path = StrCat("/snapshots/", SnapshotFileName(7));
  io.Put(path, file);

  auto header = ReadSnapshotHeader(io, path);
  auto verified = VerifySnapshot(io, path);
  FUZZ_CHECK(!verified.ok() || header.ok(), "verified, but the header does not read");
  Database db;
  auto loaded = LoadSnapshot(io, path, db);
  if (!loaded.ok()) return;
  FUZZ_CHECK(verified.ok(),
             StrCat("loaded, but VerifySnapshot says: ", Message(verified.status())));
  FUZZ_CHECK(verified->lsn == loaded->lsn && verified->total_rows == loaded->total_rows,
             "VerifySnapshot and LoadSnapshot disagree");
  uint64_t live = 0;
  for (size_t t = 0; t < db.table_count(); ++t) live += db.table(static_cast<TableId>(t)).live_count();
  FUZZ_CHECK(live == loaded->total_rows,
             StrCat("loaded ", live, " live rows; the file says ", loaded->total_rows));
  const absl::Status indexes = db.VerifyIndexes();
  FUZZ_CHECK(indexes.ok(), StrCat("after a successful load: ", Message(indexes)));
  ReadEverything(db);
}

}  // namespace
}  // namespace vox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vox::fuzz::Run(data, size);
  return 0;
}
