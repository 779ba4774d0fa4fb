// The on-disk format of a snapshot file (`snapshot-<lsn>.vsnap`): every
// table's rows, column by column, as the engine holds them in memory, in
// blocks of at most ~1 MiB that each carry an XXH3-64 checksum. Indexes are
// not stored; the loader rebuilds them. Described in docs/snapshot-format.md.
//
// All integers are little-endian. Every block starts at a multiple of 8
// bytes, so the payloads can be used in place.
//
//   offset 0
//   +--------------------------------------------------------------------+
//   | SnapshotFileHeader (64)                                            |
//   |   magic 8 | format_version 4 | schema_version 4 | database_id 16 |  |
//   |   lsn 8 | created_at 8 | table_count 4 | header_bytes 4 |          |
//   |   header_hash 8                                                    |
//   +--------------------------------------------------------------------+
//   | kSchema blocks (format 2): the version and the migrations applied, |
//   |   which the loader replays before it reads the tables               |
//   +--------------------------------------------------------------------+
//   | for each table, in TableId order:                                  |
//   |   kTable block: SnapshotTableDescriptor + column_count x           |
//   |                 SnapshotColumnDescriptor                           |
//   |   kLive blocks: one per chunk, 1 byte a row (0 = dead)             |
//   |   for each column, in ColumnId order:                              |
//   |     kHeap blocks:  its string heap's blocks, in order (strings)    |
//   |     kChunk blocks: one per chunk: values, zero-padded to 8 bytes,  |
//   |                    then (nullable) the validity words              |
//   +--------------------------------------------------------------------+
//   | SnapshotTrailer (56)                                               |
//   +--------------------------------------------------------------------+
//
//   A block:
//   | header_hash 8 | payload_hash 8 | payload_bytes 4 | rows 4 | index 4 |
//   | column 2 | table 1 | kind 1 | payload | zero padding to 8 bytes |
//
// header_hash covers the block header's other 24 bytes, so a reader trusts
// payload_bytes before it reads the payload; payload_hash covers the payload
// and its padding. The trailer's summary_hash is XXH3-64 over the file
// header and then every block header in file order: together with the block
// hashes it covers every byte, and it catches a missing or reordered block.
// Chunk c of a table holds rows [c * 65536, min(rows, (c + 1) * 65536)).
#ifndef VOXDB_WAL_SNAPSHOT_FORMAT_H_
#define VOXDB_WAL_SNAPSHOT_FORMAT_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "engine/column.h"

namespace vox {

static_assert(std::endian::native == std::endian::little, "the snapshot format is little-endian");

inline constexpr char kSnapshotMagic[8] = {'V', 'O', 'X', 'S', 'N', 'A', 'P', '\0'};
inline constexpr char kSnapshotTrailerMagic[8] = {'V', 'O', 'X', 'S', 'E', 'N', 'D', '\0'};
// Bumped on any change to this file's layout. 2 adds the kSchema blocks.
// A reader takes every version up to its own and refuses newer ones.
inline constexpr uint32_t kSnapshotFormatVersion = 2;
inline constexpr char kSnapshotSuffix[] = ".vsnap";

inline constexpr uint32_t kSnapshotChunkRows = 65536;
static_assert(kSnapshotChunkRows == kChunkRows);

// The first 64 bytes keep this layout in every format version (a later
// version appends to the header), so that any reader can check the magic
// and the header hash before it looks at the version.
struct SnapshotFileHeader {
  char magic[8];
  uint32_t format_version;
  uint32_t schema_version;  // the database's schema version (built-in + migrations)
  uint64_t database_id_hi;  // the database's Uuid
  uint64_t database_id_lo;
  uint64_t lsn;        // the snapshot holds every transaction up to this LSN
  int64_t created_at;  // microseconds since the Unix epoch
  uint32_t table_count;
  uint32_t header_bytes;  // sizeof(SnapshotFileHeader) in this version
  uint64_t header_hash;   // XXH3-64 of the 56 bytes before it
};
inline constexpr size_t kSnapshotHeaderBytes = 64;
static_assert(sizeof(SnapshotFileHeader) == kSnapshotHeaderBytes);
static_assert(offsetof(SnapshotFileHeader, header_hash) == 56);

enum class SnapshotBlockKind : uint8_t {
  kTable = 1,  // a table's descriptor
  kLive = 2,   // a chunk of the table's liveness bytes
  kHeap = 3,   // one block of a string column's heap, as the engine holds it
  kChunk = 4,  // a chunk of one column's values (and validity bits)
  // Format 2, right after the file header: index 0 holds | schema version
  // u32 | migration count u32 |; index i (1..count) the canonical text of
  // the i-th migration applied (engine/ops/migration.h). Table 0, no column.
  kSchema = 5,
};

// `column` of a kTable or kLive block.
inline constexpr uint16_t kSnapshotNoColumn = 0xffff;

struct SnapshotBlockHeader {
  uint64_t header_hash;    // XXH3-64 of the 24 bytes after it
  uint64_t payload_hash;   // XXH3-64 of the payload and its padding
  uint32_t payload_bytes;  // without the padding
  uint32_t rows;           // kLive, kChunk: rows in the chunk; else 0
  uint32_t index;          // chunk or heap block number; kTable: 0
  uint16_t column;         // ColumnId, or kSnapshotNoColumn
  uint8_t table;           // TableId
  uint8_t kind;            // SnapshotBlockKind
};
inline constexpr size_t kSnapshotBlockHeaderBytes = 32;
static_assert(sizeof(SnapshotBlockHeader) == kSnapshotBlockHeaderBytes);
static_assert(offsetof(SnapshotBlockHeader, payload_hash) == 8);

// The payload of a kTable block, followed by column_count descriptors.
struct SnapshotTableDescriptor {
  uint64_t row_count;  // rows ever allocated, live or dead
  uint32_t column_count;
  uint32_t reserved;  // 0
};
static_assert(sizeof(SnapshotTableDescriptor) == 16);

inline constexpr uint8_t kSnapshotColumnNullable = 1;

struct SnapshotColumnDescriptor {
  uint32_t heap_blocks;  // kHeap blocks that follow for this column
  uint8_t type;          // ColumnType
  uint8_t width;         // ColumnWidth(type)
  uint8_t flags;         // kSnapshotColumnNullable
  uint8_t reserved;      // 0
};
static_assert(sizeof(SnapshotColumnDescriptor) == 8);

inline constexpr uint32_t kSnapshotMaxColumns = 1024;
inline constexpr uint64_t kSnapshotMaxRows = UINT32_MAX;  // RowId space (kNoRow excluded)

struct SnapshotTrailer {
  char magic[8];
  uint64_t block_count;
  uint64_t row_slots;       // the tables' row counts, summed
  uint64_t live_rows;       // of which live
  uint64_t trailer_offset;  // == file size - sizeof(SnapshotTrailer)
  uint64_t summary_hash;    // XXH3-64 of the file header and every block header
  uint64_t trailer_hash;    // XXH3-64 of the 48 bytes before it
};
inline constexpr size_t kSnapshotTrailerBytes = 56;
static_assert(sizeof(SnapshotTrailer) == kSnapshotTrailerBytes);

static_assert(std::is_trivially_copyable_v<SnapshotFileHeader> &&
              std::is_trivially_copyable_v<SnapshotBlockHeader> &&
              std::is_trivially_copyable_v<SnapshotTrailer>);

constexpr uint64_t SnapshotPadded(uint64_t bytes) { return (bytes + 7) & ~uint64_t{7}; }

// The payload of a kChunk block of `rows` rows.
constexpr uint64_t SnapshotChunkPayloadBytes(uint32_t rows, uint8_t width, bool nullable) {
  return SnapshotPadded(uint64_t{rows} * width) + (nullable ? (uint64_t{rows} + 63) / 64 * 8 : 0);
}

// The largest payload of any block: a full chunk of 16-byte nullable values.
inline constexpr uint64_t kSnapshotMaxPayloadBytes =
    SnapshotChunkPayloadBytes(kSnapshotChunkRows, 16, true);
static_assert(kSnapshotMaxPayloadBytes >= StringHeap::kBlockBytes);
static_assert(kSnapshotMaxPayloadBytes >=
              sizeof(SnapshotTableDescriptor) +
                  kSnapshotMaxColumns * sizeof(SnapshotColumnDescriptor));

// The checksums above (XXH3-64, seed 0), for writers, readers and tests.
uint64_t SnapshotHeaderHash(const SnapshotFileHeader& header);
uint64_t SnapshotBlockHeaderHash(const SnapshotBlockHeader& header);
uint64_t SnapshotTrailerHash(const SnapshotTrailer& trailer);

}  // namespace vox

#endif  // VOXDB_WAL_SNAPSHOT_FORMAT_H_
