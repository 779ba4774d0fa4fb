// fuzz_wal_reader: bytes as the WAL of a data directory, recovered by the
// real Recover (ScanWal: segment and record checks, torn tails, repair,
// stop-at-last-good; change_codec's replay into a database) on an in-memory
// file system. Must return errors, never crash.
//
// Input: | flags 1 | log bytes |. The log bytes are cut into segment files
// at every 8-aligned segment magic ("VOXWAL01"); each file is named after
// the first LSN its header gives (else after its position). Since random
// bytes rarely pass a 64-bit hash, flags let the fuzzer reach what lies
// behind the checksums:
//   bit 0  seal each segment header (its hash)
//   bit 1  seal each record (payload and header hashes)
//   bit 2  before sealing, make records a chain of this database (LSN,
//          previous hash, database tag; later segments' first LSN)
//   bit 3  recover with --recovery=stop-at-last-good
//   bit 4  point-in-time: stop at LSN 3
//   bit 5  point-in-time: stop at a commit time
//   bit 6  also scan without repair and describe every record (the dump tool)
// Checked: a successful recovery replayed every record from LSN 1 (there is
// no snapshot) and leaves every index equal to a full scan and every row
// readable, and recovering
// a repaired directory again gives the same rows.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_util.h"
#include "wal/change_codec.h"
#include "wal/recovery.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"

namespace vox::fuzz {
namespace {

constexpr char kDataDir[] = "/data";

enum Flags : uint8_t {
  kSealSegments = 1,
  kSealRecords = 2,
  kChain = 4,
  kStopAtLastGood = 8,
  kStopAtLsn = 16,
  kStopAtTime = 32,
  kDump = 64,
};

// The log bytes cut at each 8-aligned segment magic.
std::vector<std::string> Segments(std::string_view log) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t at = 8; at + sizeof(wal::kSegmentMagic) <= log.size(); at += 8) {
    if (std::memcmp(log.data() + at, wal::kSegmentMagic, sizeof(wal::kSegmentMagic)) == 0) {
      out.emplace_back(log.substr(start, at - start));
      start = at;
    }
  }
  if (start < log.size() || out.empty()) out.emplace_back(log.substr(start));
  return out;
}

// Seals what the flags ask for; `lsn` and `prev` carry the chain from one
// segment to the next.
void Seal(std::string& seg, uint8_t flags, uint64_t* lsn, uint64_t* prev, bool first) {
  if (seg.size() < wal::kSegmentHeaderSize) return;
  wal::SegmentHeader sh;
  std::memcpy(&sh, seg.data(), sizeof(sh));
  if ((flags & kChain) != 0) {
    if (first) {
      *lsn = sh.first_lsn;
    } else {
      sh.first_lsn = *lsn;
    }
  }
  if ((flags & kSealSegments) != 0) wal::SealSegmentHeader(&sh);
  std::memcpy(seg.data(), &sh, sizeof(sh));
  if ((flags & kSealRecords) == 0) return;
  for (size_t at = wal::kSegmentHeaderSize;
       at <= seg.size() && seg.size() - at >= wal::kRecordHeaderSize;) {
    wal::RecordHeader h;
    std::memcpy(&h, seg.data() + at, sizeof(h));
    if (h.header_hash == 0 && h.length == 0 && h.lsn == 0) break;  // unwritten space
    if (h.length > seg.size() - at - wal::kRecordHeaderSize) break;
    if ((flags & kChain) != 0) {
      h.lsn = (*lsn)++;
      h.prev_hash = *prev;
      h.db_tag = wal::DatabaseTag(kFuzzDatabaseId);
    }
    wal::SealRecordHeader(&h, std::string_view(seg).substr(at + sizeof(h), h.length));
    std::memcpy(seg.data() + at, &h, sizeof(h));
    *prev = h.header_hash;
    at += wal::kRecordHeaderSize + wal::Padded(h.length);
  }
}

void Run(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const uint8_t flags = data[0];
  MemFileIo io;
  io.Put(StrCat(kDataDir, "/IDENTITY"), FormatUuid(kFuzzDatabaseId) + "\n");
  std::vector<std::string> segments =
      Segments(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  uint64_t lsn = 1, prev = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    std::string& seg = segments[i];
    Seal(seg, flags, &lsn, &prev, i == 0);
    uint64_t first_lsn = 0;
    if (seg.size() >= wal::kSegmentHeaderSize) {
      std::memcpy(&first_lsn, seg.data() + offsetof(wal::SegmentHeader, first_lsn), 8);
    }
    std::string name = wal::SegmentName(first_lsn);
    if (first_lsn == 0 || io.Find(StrCat(WalDir(kDataDir), "/", name)) != nullptr) {
      name = wal::SegmentName(1000000 + i);
    }
    io.Put(StrCat(WalDir(kDataDir), "/", name), seg);
  }

  if ((flags & kDump) != 0) {
    // What the dump tool does: a scan that changes nothing, each record described.
    Database schema;  // follows the log's migrations, as voxctl wal dump does
    auto scan = ScanWal(io, WalDir(kDataDir), kFuzzDatabaseId, {.repair = false},
                        [&](const WalRecord& r) -> absl::Status {
                          (void)wal::CommitTime(r.payload);
                          (void)wal::DescribeRecord(schema, r.type, r.payload);
                          return absl::OkStatus();
                        });
    (void)scan;
  }

  RecoveryOptions options{.data_dir = kDataDir, .create = false};
  if ((flags & kStopAtLastGood) != 0) options.mode = RecoveryMode::kStopAtLastGood;
  if ((flags & kStopAtLsn) != 0) options.stop_at_lsn = 3;
  if ((flags & kStopAtTime) != 0) options.stop_at_time = 1793491200LL * kMicrosPerSecond + 60;
  Database db;
  auto report = Recover(io, options, db);
  if (!report.ok()) return;
  const absl::Status indexes = db.VerifyIndexes();
  FUZZ_CHECK(indexes.ok(), StrCat("after a successful recovery: ", Message(indexes)));
  ReadEverything(db);
  // Without a snapshot, the state is every record from LSN 1 on.
  FUZZ_CHECK(report->records_replayed == 0 || report->last_lsn == report->records_replayed,
             StrCat("recovered to LSN ", report->last_lsn, " with ", report->records_replayed,
                    " records and no snapshot: records are missing"));

  // The directory as recovery left it (a torn tail zeroed, later segments
  // set aside) recovers to the same rows, now without damage.
  if (!report->torn_tail && report->discarded_segments == 0) return;
  Database again;
  auto second = Recover(io, options, again);
  FUZZ_CHECK(second.ok(), StrCat("recovering a repaired log: ", Message(second.status())));
  FUZZ_CHECK(
      second->records_replayed == report->records_replayed && second->last_lsn == report->last_lsn,
      StrCat("the second recovery replayed ", second->records_replayed, " records to LSN ",
             second->last_lsn, ", the first ", report->records_replayed, " to LSN ",
             report->last_lsn));
  FUZZ_CHECK(!second->torn_tail, StrCat("still a torn tail: ", second->torn_detail));
  FUZZ_CHECK(Fingerprint(again) == Fingerprint(db), "the second recovery gives other rows");
}

}  // namespace
}  // namespace vox::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  vox::fuzz::Run(data, size);
  return 0;
}
