#include "wal/wal_reader.h"

#include <fcntl.h>

#include <algorithm>
#include <vector>

#include "schema/schema.h"
#include "schema/str.h"
#include "wal/wal_format.h"

namespace vox {
namespace {

using wal::RecordHeader;
using wal::SegmentHeader;

struct Segment {
  std::string name;
  uint64_t first_lsn;
  std::string bytes;
};

absl::StatusOr<std::string> ReadAll(FileIo& io, const std::string& path) {
  auto fd = io.Open(path, O_RDWR);
  if (!fd.ok()) return fd.status();
  std::string bytes;
  absl::Status s = io.Sync(*fd);  // what we read must be what is durable
  auto size = s.ok() ? io.FileSize(*fd) : absl::StatusOr<uint64_t>(s);
  if (size.ok()) {
    bytes.resize(*size);
    auto n = io.PRead(*fd, bytes.data(), bytes.size(), 0);
    if (!n.ok()) {
      s = n.status();
    } else {
      bytes.resize(*n);
    }
  } else {
    s = size.status();
  }
  (void)io.Close(*fd);
  if (!s.ok()) return s;
  return bytes;
}

// Why the record at `at` is not a valid next record, or "" if it is.
std::string CheckRecord(std::string_view seg, uint64_t at, uint64_t db_tag, uint64_t lsn,
                        uint64_t prev_hash) {
  // `at` is past the end when the file ends inside the last record's padding.
  if (at > seg.size() || seg.size() - at < wal::kRecordHeaderSize) return "truncated header";
  RecordHeader h;
  std::memcpy(&h, seg.data() + at, sizeof(h));
  if (!wal::RecordHeaderValid(h)) return "header hash mismatch";
  if (h.db_tag != db_tag) return "record of another database";
  if (h.length > wal::kMaxPayload || seg.size() - at - wal::kRecordHeaderSize < h.length) {
    return "length past the segment's end";
  }
  if (wal::Hash(seg.data() + at + wal::kRecordHeaderSize, h.length) != h.payload_hash) {
    return "payload hash mismatch";
  }
  if (h.lsn != lsn) return StrCat("LSN ", h.lsn, " where ", lsn, " was expected");
  if (h.prev_hash != prev_hash) return "hash chain broken";
  return "";
}

// Whether a record of this database that is later than `lsn` starts anywhere
// in `seg` at or after `from` (damage with valid records after it).
bool ValidRecordAfter(std::string_view seg, uint64_t from, uint64_t db_tag, uint64_t lsn) {
  for (uint64_t at = from; at + wal::kRecordHeaderSize <= seg.size(); at += 8) {
    RecordHeader h;
    std::memcpy(&h, seg.data() + at, sizeof(h));
    if (h.header_hash == 0 && h.db_tag == 0) continue;  // unwritten space: fast path
    if (wal::RecordHeaderValid(h) && h.db_tag == db_tag && h.lsn > lsn) return true;
  }
  return false;
}

absl::Status ZeroFrom(FileIo& io, const std::string& path, uint64_t from, uint64_t to) {
  auto fd = io.Open(path, O_WRONLY);
  if (!fd.ok()) return fd.status();
  const std::string zeros(1u << 16, '\0');
  absl::Status s;
  for (uint64_t at = from; s.ok() && at < to; at += zeros.size()) {
    s = WriteFully(io, *fd, zeros.data(), std::min<uint64_t>(zeros.size(), to - at), at);
  }
  if (s.ok()) s = io.DataSync(*fd);
  (void)io.Close(*fd);
  return s;
}

}  // namespace

absl::StatusOr<WalScan> ScanWal(FileIo& io, const std::string& dir, const Uuid& database_id,
                                const WalScanOptions& options,
                                const std::function<absl::Status(const WalRecord&)>& fn) {
  WalScan scan;
  auto names = io.List(dir);
  if (!names.ok()) {
    if (absl::IsNotFound(names.status())) return scan;
    return names.status();
  }
  std::vector<std::string> segments;
  for (const std::string& n : *names) {
    if (wal::ParseSegmentName(n) != 0) segments.push_back(n);
  }
  const uint64_t db_tag = wal::DatabaseTag(database_id);
  uint64_t lsn = 0;  // the next expected; 0 until the first segment says
  uint64_t prev_hash = 0;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string path = StrCat(dir, "/", segments[i]);
    VOX_ASSIGN_OR_RETURN(std::string seg, ReadAll(io, path));
    SegmentHeader sh;
    if (seg.size() < sizeof(sh)) {
      return absl::DataLossError(StrCat(path, ": shorter than a segment header"));
    }
    std::memcpy(&sh, seg.data(), sizeof(sh));
    if (!wal::SegmentHeaderValid(sh)) {
      return absl::DataLossError(StrCat(path, ": bad segment header (not a VoxDB WAL segment?)"));
    }
    if (sh.database_id_hi != database_id.hi || sh.database_id_lo != database_id.lo) {
      return absl::DataLossError(StrCat(path, ": segment of another database"));
    }
    // Older formats are read as they are (format 1 has no migrations);
    // a newer one is refused: this build cannot know its records.
    if (sh.format < 1 || sh.format > wal::kFormatVersion) {
      return absl::FailedPreconditionError(
          StrCat(path, ": WAL format ", sh.format, " was written by a newer VoxDB; this build reads "
                 "formats 1 to ", wal::kFormatVersion, ": upgrade the server"));
    }
    if (sh.first_lsn != wal::ParseSegmentName(segments[i])) {
      return absl::DataLossError(StrCat(path, ": its header says it starts at LSN ", sh.first_lsn));
    }
    if (lsn == 0) {
      lsn = sh.first_lsn;
      prev_hash = 0;
      if (sh.first_lsn != 1) {
        // The log was trimmed after a snapshot: the chain starts mid-way.
        RecordHeader h;
        if (seg.size() >= wal::kSegmentHeaderSize + sizeof(h)) {
          std::memcpy(&h, seg.data() + wal::kSegmentHeaderSize, sizeof(h));
          prev_hash = h.prev_hash;
        }
      }
    } else if (sh.first_lsn != lsn) {
      return absl::DataLossError(StrCat(path, ": starts at LSN ", sh.first_lsn, " but the log ",
                                        "before it ends at ", lsn - 1, " (a missing segment?)"));
    }
    uint64_t at = wal::kSegmentHeaderSize;
    std::string damage;
    while (true) {
      damage = CheckRecord(seg, at, db_tag, lsn, prev_hash);
      if (!damage.empty()) break;
      RecordHeader h;
      std::memcpy(&h, seg.data() + at, sizeof(h));
      if (h.type != static_cast<uint16_t>(wal::RecordType::kTransaction) &&
          h.type != static_cast<uint16_t>(wal::RecordType::kSchemaChange)) {
        return absl::FailedPreconditionError(
            StrCat(path, " at byte ", at, " (LSN ", lsn, "): record type ", h.type,
                   " is not one this build knows (a newer VoxDB wrote it): upgrade the server"));
      }
      if (lsn > options.after_lsn) {
        VOX_RETURN_IF_ERROR(
            fn(WalRecord{lsn, std::string_view(seg).substr(at + wal::kRecordHeaderSize, h.length),
                         static_cast<wal::RecordType>(h.type), &segments[i], at}));
      }
      if (scan.records++ == 0) scan.first_lsn = lsn;
      scan.last_lsn = lsn;
      prev_hash = h.header_hash;
      ++lsn;
      at += wal::kRecordHeaderSize + wal::Padded(h.length);
    }
    scan.tail = {lsn, prev_hash, segments[i], at};
    const bool last = i + 1 == segments.size();
    const bool unwritten =
        at > seg.size() || seg.size() - at < wal::kRecordHeaderSize ||
        std::all_of(seg.begin() + static_cast<ptrdiff_t>(at),
                    seg.begin() + static_cast<ptrdiff_t>(at + wal::kRecordHeaderSize),
                    [](char c) { return c == 0; });
    if (unwritten && !ValidRecordAfter(seg, at, db_tag, lsn - 1)) {
      if (!last && seg.size() - at >= wal::kRecordHeaderSize) {
        // Space left unused at a rotation: the next segment continues.
      }
      if (last) break;
      continue;
    }
    // Damage. Valid records after it, here or in a later segment?
    bool later = ValidRecordAfter(seg, at + 8, db_tag, lsn - 1) || !last;
    if (later && options.mode == RecoveryMode::kStrict) {
      return absl::DataLossError(StrCat(path, " at byte ", at, ": ", damage,
                                        ", and valid records follow: the log is corrupt. Start "
                                        "with --recovery=stop-at-last-good to keep the records "
                                        "before it and discard the rest."));
    }
    scan.torn_tail = true;
    scan.torn_detail = StrCat(segments[i], " at byte ", at, ": ", damage);
    if (options.repair) {
      VOX_RETURN_IF_ERROR(ZeroFrom(io, path, at, seg.size()));
      for (size_t j = i + 1; j < segments.size(); ++j) {
        const std::string from = StrCat(dir, "/", segments[j]);
        VOX_RETURN_IF_ERROR(io.Rename(from, StrCat(from, ".discarded")));
        ++scan.discarded_segments;
      }
      if (scan.discarded_segments > 0) VOX_RETURN_IF_ERROR(io.SyncDir(dir));
    }
    break;
  }
  if (lsn == 0) scan.tail = {1, 0, "", 0};
  return scan;
}

}  // namespace vox
