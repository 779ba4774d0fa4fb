// The write-ahead log's on-disk format (docs/wal-format.md).
//
// A log is a sequence of segment files `<dir>/<first lsn, 20 digits>.wal`,
// each preallocated with zeros and starting with a segment header:
//
//   | magic 8 | format 4 | schema 4 | database id 16 | first lsn 8 | created 8 |
//   | reserved 8 | header hash 8 |                                  = 64 bytes
//
// then records, each 8-byte aligned:
//
//   | header hash 8 | payload hash 8 | lsn 8 | prev hash 8 | db tag 8 |
//   | length 4 | type 2 | flags 2 |                                   = 48 bytes
//   | payload (length bytes) | zero padding to a multiple of 8 |
//
// header hash = XXH3-64 of header bytes [8, 48): recovery can trust `length`
// before reading the payload. payload hash = XXH3-64 of the payload.
// prev hash = the previous record's header hash (0 for the first record of
// the database): a gap or a reordering breaks the chain. db tag = the low
// 64 bits of XXH3-128 of the database id: stale or foreign bytes never parse
// as this database's records. A header of zeros (unwritten space) fails its
// hash: that is where the log ends.
#ifndef VOXDB_WAL_WAL_FORMAT_H_
#define VOXDB_WAL_WAL_FORMAT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "schema/types.h"

namespace vox::wal {

inline constexpr char kSegmentMagic[8] = {'V', 'O', 'X', 'W', 'A', 'L', '0', '1'};
// 2: adds kSchemaChange records (migrations). A reader takes 1 and 2.
inline constexpr uint32_t kFormatVersion = 2;
inline constexpr size_t kSegmentHeaderSize = 64;
inline constexpr size_t kRecordHeaderSize = 48;
inline constexpr uint32_t kMaxPayload = 64u << 20;  // one transaction's changes

enum class RecordType : uint16_t {
  kTransaction = 1,
  // A migration and the transaction that applied it (wal/change_codec.h).
  kSchemaChange = 2,
};

struct SegmentHeader {
  char magic[8];
  uint32_t format;
  uint32_t schema;  // the database's schema version when the segment began
  uint64_t database_id_hi;
  uint64_t database_id_lo;
  uint64_t first_lsn;
  int64_t created_at;
  uint64_t reserved;
  uint64_t header_hash;
};
static_assert(sizeof(SegmentHeader) == kSegmentHeaderSize);

struct RecordHeader {
  uint64_t header_hash;
  uint64_t payload_hash;
  uint64_t lsn;
  uint64_t prev_hash;
  uint64_t db_tag;
  uint32_t length;
  uint16_t type;
  uint16_t flags;
};
static_assert(sizeof(RecordHeader) == kRecordHeaderSize);

inline size_t Padded(size_t n) { return (n + 7) & ~size_t{7}; }

uint64_t DatabaseTag(const Uuid& database_id);
uint64_t Hash(const void* data, size_t n);

// Fills in header_hash (and payload_hash from `payload`).
void SealRecordHeader(RecordHeader* h, std::string_view payload);
bool RecordHeaderValid(const RecordHeader& h);
void SealSegmentHeader(SegmentHeader* h);
bool SegmentHeaderValid(const SegmentHeader& h);

// "00000000000000000042.wal" for first lsn 42; 0 if `name` is not a segment.
std::string SegmentName(uint64_t first_lsn);
uint64_t ParseSegmentName(std::string_view name);

}  // namespace vox::wal

#endif  // VOXDB_WAL_WAL_FORMAT_H_
