#include "wal/recovery.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/ops/ledger.h"
#include "engine/ops/rooms.h"
#include "tests/engine/test_util.h"
#include "wal/change_codec.h"
#include "wal/checkpoint.h"
#include "wal/history.h"
#include "wal/wal_format.h"
#include "wal/wal_sink.h"
#include "wal_test_util.h"

namespace vox {
namespace {

using testing::DumpDb;

// A database with a WAL in a temporary data directory, driven by real
// operations; Reopen() recovers a fresh database from the files.
class RecoveryTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start(uint64_t segment_bytes = 1 << 20) {
    db_ = std::make_unique<Database>(DatabaseOptions{.id_seed = 9});
    auto report = Recover(PosixFileIo(), {.data_dir = dir_.path()}, *db_);
    ASSERT_TRUE(report.ok()) << report.status().message();
    id_ = report->database_id;
    auto device = UringLogDevice::Create();
    ASSERT_TRUE(device.ok());
    device_ = std::move(*device);
    auto w = WalWriter::Open(
        PosixFileIo(), *device_,
        {.dir = WalDir(dir_.path()), .database_id = id_, .segment_bytes = segment_bytes},
        report->tail);
    ASSERT_TRUE(w.ok()) << w.status().message();
    writer_ = std::move(*w);
    sink_ = std::make_unique<WalCommitSink>(*writer_);
    db_->set_commit_sink(sink_.get());
  }
  void Stop() {
    if (writer_) {
      ASSERT_TRUE(writer_->Sync().ok());
    }
    if (db_) db_->set_commit_sink(nullptr);
    sink_.reset();
    writer_.reset();
    device_.reset();
  }
  // A recovered copy of the database, from the files alone.
  absl::StatusOr<RecoveryReport> RecoverInto(Database& db, RecoveryOptions options = {}) {
    options.data_dir = dir_.path();
    return Recover(PosixFileIo(), options, db);
  }

  // Some real traffic: users, rooms, joins, leaves, gifts, an end.
  void Traffic(int rounds) {
    for (int i = 0; i < rounds; ++i) {
      const std::string name = StrCat("user", counter_++);
      const std::string email = name + "@example.com";
      auto u = RegisterUser(
          *db_, Ctx(),
          {.username = name, .email = email, .password_hash = "h", .display_name = name});
      ASSERT_TRUE(u.ok()) << u.status().message();
      users_.push_back(u->user_id);
      ASSERT_TRUE(TopUp(*db_, Ctx(), {.user_id = u->user_id, .amount = 100}).ok());
      if (users_.size() % 5 == 1) {
        auto r = CreateAndOpenRoom(*db_, Ctx(), {.owner_id = u->user_id, .title = "room"});
        ASSERT_TRUE(r.ok());
        rooms_.push_back(r->room_id);
      } else {
        ASSERT_TRUE(JoinRoom(*db_, Ctx(), rooms_.back(), u->user_id).ok());
        ASSERT_TRUE(
            Gift(*db_, Ctx(), {.sender_id = u->user_id, .receiver_id = users_[0], .amount = 10})
                .ok());
      }
      if (users_.size() % 7 == 0) {
        ASSERT_TRUE(LeaveRoom(*db_, Ctx(), rooms_.back(), u->user_id).ok());
      }
    }
  }
  OpContext Ctx() { return {.now = testing::kT0 + (++clock_) * kMicrosPerSecond}; }

  // The segments, in order, and the offsets of every record.
  std::vector<std::string> Segments() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(WalDir(dir_.path()))) {
      if (wal::ParseSegmentName(e.path().filename().string()) != 0) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  struct Where {
    std::string segment;
    uint64_t offset;
    uint32_t length;
  };
  std::vector<Where> Records() {
    std::vector<Where> out;
    auto scan = ScanWal(PosixFileIo(), WalDir(dir_.path()), id_, {.repair = false},
                        [&](const WalRecord& r) {
                          out.push_back({WalDir(dir_.path()) + "/" + *r.segment, r.offset,
                                         static_cast<uint32_t>(r.payload.size())});
                          return absl::OkStatus();
                        });
    EXPECT_TRUE(scan.ok());
    return out;
  }
  static void Patch(const std::string& path, uint64_t offset, std::string_view bytes) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(offset));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  static char ByteAt(const std::string& path, uint64_t offset) {
    std::ifstream f(path, std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    return static_cast<char>(f.get());
  }

  testing::TempDir dir_;
  Uuid id_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<UringLogDevice> device_;
  std::unique_ptr<WalWriter> writer_;
  std::unique_ptr<WalCommitSink> sink_;
  std::vector<Uuid> users_, rooms_;
  int counter_ = 0;
  int64_t clock_ = 0;
};

TEST_F(RecoveryTest, ReplayRebuildsTheSameDatabase) {
  Traffic(60);
  Stop();
  Database copy({.id_seed = 9});
  auto report = RecoverInto(copy);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_GT(report->records_replayed, 100u);
  EXPECT_FALSE(report->torn_tail);
  EXPECT_TRUE(DumpDb(copy) == DumpDb(*db_));
  EXPECT_TRUE(copy.VerifyIndexes().ok());
  EXPECT_NE(DescribeRecovery(*report).find("WAL records replayed"), std::string::npos);
}

TEST_F(RecoveryTest, RestartContinuesTheLogAcrossSegments) {
  Stop();
  Start(/*segment_bytes=*/16 * 1024);
  Traffic(40);
  Stop();
  // Restart on the recovered database and keep writing.
  Database second({.id_seed = 9});
  db_ = std::make_unique<Database>(DatabaseOptions{.id_seed = 9});
  Start(16 * 1024);
  EXPECT_EQ(DumpDb(*db_).size() > 0, true);
  Traffic(40);
  Stop();
  ASSERT_GT(Segments().size(), 2u);
  auto report = RecoverInto(second);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(DumpDb(second) == DumpDb(*db_));
}

TEST_F(RecoveryTest, TornLastRecordIsCutAtEveryByteOffset) {
  Traffic(10);
  Stop();
  const std::vector<Where> records = Records();
  ASSERT_GE(records.size(), 2u);
  const Where last = records.back();
  // Cuts inside the padding after the payload leave the record whole.
  const uint64_t end = last.offset + wal::kRecordHeaderSize + last.length;
  // The state without the last record.
  Database expected({.id_seed = 9});
  ASSERT_TRUE(RecoverInto(expected, {.stop_at_lsn = records.size() - 1}).ok());
  const std::string expected_dump = DumpDb(expected);
  // Keep the segment's bytes to restore between rounds.
  std::ifstream in(last.segment, std::ios::binary);
  const std::string original((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
  int cuts_checked = 0;
  for (uint64_t cut = last.offset; cut < end; ++cut) {
    // A write that stopped after `cut` bytes: zeros from there on.
    std::string torn = original;
    std::fill(torn.begin() + static_cast<ptrdiff_t>(cut),
              torn.begin() + static_cast<ptrdiff_t>(end), '\0');
    std::ofstream(last.segment, std::ios::binary | std::ios::trunc).write(torn.data(), torn.size());
    if (torn == original) continue;  // the cut bytes were zeros already: nothing torn
    Database db({.id_seed = 9});
    auto report = RecoverInto(db);
    ASSERT_TRUE(report.ok()) << "cut at " << cut << ": " << report.status().message();
    EXPECT_EQ(report->records_replayed, records.size() - 1) << "cut at " << cut;
    // A header whose surviving bytes are all zero looks like unwritten
    // space (the log just ends); anything else is a torn tail.
    const bool header_zero =
        std::all_of(torn.begin() + static_cast<ptrdiff_t>(last.offset),
                    torn.begin() + static_cast<ptrdiff_t>(last.offset + wal::kRecordHeaderSize),
                    [](char c) { return c == 0; });
    EXPECT_EQ(report->torn_tail, !header_zero) << "cut at " << cut;
    ASSERT_TRUE(DumpDb(db) == expected_dump) << "cut at " << cut;
    ++cuts_checked;
  }
  EXPECT_GT(cuts_checked, static_cast<int>(last.length) / 2);
}

TEST_F(RecoveryTest, FlippedBitsAtTheTailAreTornAndMidLogAreCorruption) {
  Traffic(10);
  Stop();
  const std::vector<Where> records = Records();
  const Where last = records.back();
  const Where middle = records[records.size() / 2];
  auto read_file = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  const std::string original = read_file(last.segment);
  // At the tail, a flipped bit in the header hash, the header's LSN, or the
  // payload: the last record is dropped as torn, recovery goes on.
  for (uint64_t delta : {uint64_t{3}, uint64_t{20}, uint64_t{wal::kRecordHeaderSize + 5}}) {
    std::string damaged = original;
    damaged[last.offset + delta] ^= 0x10;
    std::ofstream(last.segment, std::ios::binary | std::ios::trunc)
        .write(damaged.data(), damaged.size());
    Database db({.id_seed = 9});
    auto report = RecoverInto(db);
    ASSERT_TRUE(report.ok()) << report.status().message();
    EXPECT_TRUE(report->torn_tail) << "delta " << delta;
    EXPECT_EQ(report->records_replayed, records.size() - 1) << "delta " << delta;
  }
  std::ofstream(last.segment, std::ios::binary | std::ios::trunc)
      .write(original.data(), original.size());
  // Mid-log, header or payload: valid records follow the damage, so
  // recovery refuses to start and names the spot.
  for (uint64_t delta : {uint64_t{11}, uint64_t{wal::kRecordHeaderSize + 1}}) {
    const std::string before = read_file(middle.segment);
    const uint64_t at = middle.offset + delta;
    Patch(middle.segment, at, std::string(1, static_cast<char>(ByteAt(middle.segment, at) ^ 1)));
    Database db({.id_seed = 9});
    auto refused = RecoverInto(db);
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(ToStd(refused.status().message()).find(StrCat("at byte ", middle.offset)),
              std::string::npos)
        << refused.status().message();
    if (delta == 11) {
      std::ofstream(middle.segment, std::ios::binary | std::ios::trunc)
          .write(before.data(), before.size());
    }
  }
  // The operator's explicit mode keeps what precedes the damage.
  Database kept({.id_seed = 9});
  auto report = RecoverInto(kept, {.mode = RecoveryMode::kStopAtLastGood});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->records_replayed, records.size() / 2);
  EXPECT_TRUE(kept.VerifyIndexes().ok());
}

TEST_F(RecoveryTest, ZeroedPageMidLogIsCorruption) {
  Traffic(20);
  Stop();
  const std::vector<Where> records = Records();
  const Where w = records[records.size() / 3];
  Patch(w.segment, w.offset & ~uint64_t{4095}, std::string(4096, '\0'));
  Database db({.id_seed = 9});
  auto r = RecoverInto(db);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(RecoveryTest, MissingSegmentIsCorruption) {
  Stop();
  Start(/*segment_bytes=*/8 * 1024);
  Traffic(40);
  Stop();
  const auto segments = Segments();
  ASSERT_GE(segments.size(), 3u);
  std::filesystem::remove(segments[1]);
  Database db({.id_seed = 9});
  auto r = RecoverInto(db);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(r.status().message()).find("missing segment"), std::string::npos);
}

// Found by fuzz_wal_reader: a segment file that ends after a record's
// payload, before its padding, made the scan read past the file's bytes.
TEST_F(RecoveryTest, SegmentEndingInARecordsPaddingIsRead) {
  Stop();
  wal::SegmentHeader sh{};
  std::memcpy(sh.magic, wal::kSegmentMagic, sizeof(sh.magic));
  sh.format = wal::kFormatVersion;
  sh.schema = kSchemaVersion;
  sh.database_id_hi = id_.hi;
  sh.database_id_lo = id_.lo;
  sh.first_lsn = 1;
  wal::SealSegmentHeader(&sh);
  const std::string payload = "hello";  // 3 bytes of padding would follow
  wal::RecordHeader h{.lsn = 1, .db_tag = wal::DatabaseTag(id_), .length = 5, .type = 1};
  wal::SealRecordHeader(&h, payload);
  std::string seg(reinterpret_cast<const char*>(&sh), sizeof(sh));
  seg.append(reinterpret_cast<const char*>(&h), sizeof(h));
  seg += payload;
  for (const std::string& path : Segments()) std::filesystem::remove(path);
  std::ofstream(WalDir(dir_.path()) + "/" + wal::SegmentName(1), std::ios::binary) << seg;
  int seen = 0;
  auto scan =
      ScanWal(PosixFileIo(), WalDir(dir_.path()), id_, {.repair = false}, [&](const WalRecord& r) {
        EXPECT_EQ(r.payload, payload);
        ++seen;
        return absl::OkStatus();
      });
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  EXPECT_EQ(seen, 1);
  EXPECT_FALSE(scan->torn_tail) << scan->torn_detail;
}

// Found by fuzz_wal_reader: a log whose first segments are gone recovered
// "successfully" without the records they held.
TEST_F(RecoveryTest, MissingFirstSegmentIsCorruptionWithoutASnapshot) {
  Stop();
  Start(/*segment_bytes=*/8 * 1024);
  Traffic(40);
  Stop();
  const auto segments = Segments();
  ASSERT_GE(segments.size(), 2u);
  std::filesystem::remove(segments[0]);
  Database db({.id_seed = 9});
  auto r = RecoverInto(db);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(r.status().message()).find("segments are missing"), std::string::npos);
}

TEST_F(RecoveryTest, ForeignSegmentIsRefused) {
  Traffic(3);
  Stop();
  // Another database's identity over the same files.
  std::ofstream(dir_.path() + "/IDENTITY", std::ios::trunc)
      << "01234567-89ab-4def-8123-456789abcdef\n";
  Database db({.id_seed = 9});
  auto r = RecoverInto(db);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(r.status().message()).find("another database"), std::string::npos);
}

TEST_F(RecoveryTest, PointInTimeStopsAtAnLsnOrATime) {
  Traffic(10);
  const int64_t cutoff = clock_;
  Traffic(10);
  Stop();
  Database by_time({.id_seed = 9});
  auto r = RecoverInto(by_time, {.stop_at_time = testing::kT0 + cutoff * kMicrosPerSecond});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->stopped_early);
  EXPECT_EQ(by_time.table(TableId::users).live_count(), 10u);
  Database by_lsn({.id_seed = 9});
  auto r2 = RecoverInto(by_lsn, {.stop_at_lsn = 1});
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->records_replayed, 1u);
  EXPECT_EQ(by_lsn.table(TableId::users).live_count(), 1u);
}

// Found by fuzz_wal_reader: each change of a record could reach 4M rows past
// the table's end as the changes before it had left it, so a record of 40
// deletes (1.3 KB) took 20 s and 1.4 GB to replay.
TEST_F(RecoveryTest, ReplayRefusesRowsPastWhatTheRecordCanAppend) {
  Traffic(2);
  Stop();
  const Table& categories = db_->table(TableId::room_categories);
  const size_t rows = categories.row_count();
  std::string payload;
  auto bytes = [&payload](const void* v, size_t n) {
    payload.append(static_cast<const char*>(v), n);
  };
  const int64_t time = 0;
  const uint32_t count = 40;
  bytes(&time, 8);
  bytes(&count, 4);
  for (uint32_t k = 1; k <= count; ++k) {
    payload.push_back(static_cast<char>(TableId::room_categories));
    payload.push_back(2);  // delete
    const RowId row = static_cast<RowId>(rows + k * 4000000);
    const Uuid id{};
    bytes(&row, 4);
    bytes(&id, 16);
  }
  const absl::Status s = wal::ApplyTransaction(*db_, payload);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(s.message()).find("is past the table's"), std::string::npos) << s;
  EXPECT_EQ(categories.row_count(), rows);
}

// Found by fuzz_wal_reader: a record with good checksums could put an enum
// value without a name or a ref past its table, and the first read of the
// row went out of bounds.
TEST_F(RecoveryTest, ReplayRefusesValuesOutOfRange) {
  Traffic(2);
  Stop();
  // A put of a new wallets row: every column zero, empty or null, but `column`.
  auto put = [&](ColumnId column, int64_t value) {
    std::string p;
    auto bytes = [&p](const void* v, size_t n) { p.append(static_cast<const char*>(v), n); };
    const int64_t time = 0;
    const uint32_t count = 1;
    const RowId row = static_cast<RowId>(db_->table(TableId::wallets).row_count());
    const Uuid id{7, 7};
    bytes(&time, 8);
    bytes(&count, 4);
    p.push_back(static_cast<char>(TableId::wallets));
    p.push_back(1);  // put
    bytes(&row, 4);
    bytes(&id, 16);
    const TableDef& def = GetTable(TableId::wallets);
    for (ColumnId c = 0; c < def.columns.size(); ++c) {
      const ColumnDef& col = def.columns[c];
      if (col.nullable()) p.push_back(c == column ? 0 : 1);
      if (col.nullable() && c != column) continue;
      if (col.type == ColumnType::kString || col.type == ColumnType::kJson) {
        const uint32_t empty = 0;
        bytes(&empty, 4);
        continue;
      }
      char v[16] = {};
      if (c == column) std::memcpy(v, &value, 8);
      bytes(v, ColumnWidth(col.type));
    }
    return p;
  };
  absl::Status s = wal::ApplyTransaction(*db_, put(wallets::kind, 200));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(s.message()).find("wallets.kind: 200 is out of range"), std::string::npos) << s;
  s = wal::ApplyTransaction(*db_, put(wallets::user_id, 1000000));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(s.message()).find("wallets.user_id: 1000000 is out of range"), std::string::npos)
      << s;
  // The same put with values in range applies.
  EXPECT_TRUE(wal::ApplyTransaction(*db_, put(wallets::kind, 1)).ok());
}

TEST_F(RecoveryTest, ReplayRefusesARecordThatDoesNotFit) {
  Traffic(2);
  Stop();
  // Encode a put of users row 0 carrying another id.
  std::string payload;
  int64_t t = 0;
  payload.append(reinterpret_cast<const char*>(&t), 8);
  uint32_t count = 1;
  payload.append(reinterpret_cast<const char*>(&count), 4);
  payload.push_back(static_cast<char>(TableId::users));
  payload.push_back(2);  // delete
  RowId row = 0;
  payload.append(reinterpret_cast<const char*>(&row), 4);
  Uuid other{1, 2};
  payload.append(reinterpret_cast<const char*>(&other), 16);
  const absl::Status s = wal::ApplyTransaction(*db_, payload);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(wal::ApplyTransaction(*db_, "short").code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace vox

// ---- Checkpoints ---------------------------------------------------------------

namespace vox {
namespace {

class CheckpointTest : public RecoveryTest {
 protected:
  SnapshotInfo Checkpoint(Checkpointer& cp) {
    EXPECT_TRUE(writer_->Sync().ok());  // the log on disk reaches the snapshot's LSN
    auto pause = cp.Start(*db_, sink_->last_lsn());
    EXPECT_TRUE(pause.ok()) << pause.status().message();
    auto info = cp.Wait();
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? *info : SnapshotInfo{};
  }
  size_t Count(const std::string& dir, std::string_view suffix) {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string name = e.path().filename().string();
      n += name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
    }
    return n;
  }
};

TEST_F(CheckpointTest, RecoveryLoadsTheSnapshotAndReplaysOnlyWhatFollows) {
  Traffic(30);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, /*keep=*/3);
  const SnapshotInfo snap = Checkpoint(cp);
  EXPECT_EQ(snap.lsn, sink_->last_lsn());
  Traffic(10);
  const uint64_t after = sink_->last_lsn() - snap.lsn;
  Stop();
  Database copy({.id_seed = 9});
  auto report = RecoverInto(copy);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->snapshot_lsn, snap.lsn);
  EXPECT_EQ(report->records_replayed, after);
  EXPECT_TRUE(DumpDb(copy) == DumpDb(*db_));
  EXPECT_TRUE(copy.VerifyIndexes().ok());
  EXPECT_NE(DescribeRecovery(*report).find("snapshot"), std::string::npos);
}

TEST_F(CheckpointTest, TheSnapshotIsConsistentWhileTheEngineWritesOn) {
  Traffic(20);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, 3);
  auto pause = cp.Start(*db_, sink_->last_lsn());
  ASSERT_TRUE(pause.ok());
  Traffic(20);  // while the snapshot is being written
  ASSERT_TRUE(cp.Wait().ok());
  Stop();
  Database copy({.id_seed = 9});
  auto report = RecoverInto(copy);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(DumpDb(copy) == DumpDb(*db_));
}

TEST_F(CheckpointTest, PruningKeepsTheNewestSnapshotsAndTheSegmentsTheyNeed) {
  Stop();
  Start(/*segment_bytes=*/8 * 1024);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, /*keep=*/2);
  for (int i = 0; i < 4; ++i) {
    Traffic(15);
    Checkpoint(cp);
  }
  Traffic(5);
  EXPECT_EQ(Count(SnapshotDir(dir_.path()), ".vsnap"), 2u);
  EXPECT_TRUE(std::filesystem::exists(dir_.path() + "/MANIFEST"));
  const size_t segments_left = Segments().size();
  Stop();
  Database copy({.id_seed = 9});
  auto report = RecoverInto(copy);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_TRUE(DumpDb(copy) == DumpDb(*db_));
  EXPECT_LT(segments_left, 20u);  // covered segments were deleted
}

TEST_F(CheckpointTest, AHeldLsnKeepsItsSegments) {
  Stop();
  Start(8 * 1024);
  Traffic(10);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, 1);
  cp.Hold(1);  // a backup still copying from the start of the log
  Traffic(20);
  Checkpoint(cp);
  Traffic(20);
  Checkpoint(cp);
  EXPECT_EQ(wal::ParseSegmentName(std::filesystem::path(Segments()[0]).filename().string()), 1u);
  cp.Release(1);
  ASSERT_TRUE(writer_->Sync().ok());  // every segment the records need is on disk
  ASSERT_TRUE(cp.Prune().ok());
  EXPECT_GT(wal::ParseSegmentName(std::filesystem::path(Segments()[0]).filename().string()), 1u);
}

// A change stream's subscriber resumes from further back than the server's
// memory: a hold keeps a snapshot at or before its LSN and the segments
// after it, and the history replays from there into a scratch database,
// while the live log goes on.
TEST_F(CheckpointTest, AHeldLsnKeepsASnapshotAndTheHistoryAfterItReplays) {
  Stop();
  Start(8 * 1024);
  Traffic(10);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, /*keep=*/1);
  const SnapshotInfo first = Checkpoint(cp);
  Traffic(5);
  const uint64_t held = sink_->last_lsn();  // a subscriber's last LSN
  cp.Hold(held);
  for (int i = 0; i < 3; ++i) {
    Traffic(20);
    Checkpoint(cp);
  }
  Traffic(5);
  ASSERT_TRUE(writer_->Sync().ok());
  EXPECT_EQ(Count(SnapshotDir(dir_.path()), ".vsnap"), 2u);  // the newest, and one for the hold

  auto source = FindHistorySource(PosixFileIo(), dir_.path(), id_, held);
  ASSERT_TRUE(source.ok()) << source.status().message();
  EXPECT_EQ(source->snapshot_lsn, first.lsn);
  std::vector<uint64_t> lsns;
  size_t events = 0;
  const uint64_t through = sink_->last_lsn();
  const absl::Status s = ReplayHistory(
      PosixFileIo(), {.data_dir = dir_.path(),
                      .database_id = id_,
                      .source = *source,
                      .after_lsn = held,
                      .through_lsn = through,
                      .on_events = [&](uint64_t lsn, Timestamp, std::vector<ChangeEvent> e) {
                        lsns.push_back(lsn);
                        events += e.size();
                      }});
  ASSERT_TRUE(s.ok()) << s.message();
  ASSERT_EQ(lsns.size(), through - held);
  for (size_t i = 0; i < lsns.size(); ++i) EXPECT_EQ(lsns[i], held + 1 + i);
  EXPECT_GE(events, lsns.size());

  // Released, the next checkpoint prunes them: that far back is out of range.
  cp.Release(held);
  Checkpoint(cp);
  EXPECT_EQ(Count(SnapshotDir(dir_.path()), ".vsnap"), 1u);
  auto gone = FindHistorySource(PosixFileIo(), dir_.path(), id_, held);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_NE(ToStd(gone.status().message()).find("no longer hold"), std::string::npos);
}

TEST_F(CheckpointTest, ADamagedSnapshotIsNamedNotLoaded) {
  Traffic(10);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, 3);
  const SnapshotInfo snap = Checkpoint(cp);
  Stop();
  Patch(snap.path, snap.bytes / 2, std::string(8, '\x5a'));
  Database copy({.id_seed = 9});
  auto report = RecoverInto(copy);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(report.status().message()).find(snap.path), std::string::npos);
}

// The log was pruned after the snapshot; once the snapshot's header is
// unreadable it is passed over, and the rest of the log alone is not the
// database.
TEST_F(CheckpointTest, APrunedLogWithoutItsSnapshotIsCorruption) {
  Stop();
  Start(/*segment_bytes=*/8 * 1024);
  Checkpointer cp(PosixFileIo(), dir_.path(), id_, /*keep=*/1);
  Traffic(30);
  const SnapshotInfo snap = Checkpoint(cp);
  Traffic(10);
  Stop();
  ASSERT_GT(wal::ParseSegmentName(std::filesystem::path(Segments()[0]).filename().string()), 1u);
  Patch(snap.path, 8, std::string(4, '\x5a'));  // the header's hash no longer matches
  Database copy({.id_seed = 9});
  auto report = RecoverInto(copy);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(report.status().message()).find("no snapshot"), std::string::npos);
}

TEST(CheckpointPolicyTest, DueByTimeOrLogSizeWithStableJitter) {
  const CheckpointPolicy p{.interval_seconds = 100, .wal_bytes = 1000, .jitter = 0.1};
  EXPECT_FALSE(CheckpointDue(p, 50, 100, 7));
  EXPECT_TRUE(CheckpointDue(p, 111, 0, 7));
  EXPECT_TRUE(CheckpointDue(p, 0, 1101, 7));
  EXPECT_EQ(CheckpointDue(p, 95, 0, 7), CheckpointDue(p, 95, 0, 7));
  bool any_early = false, any_late = false;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    any_early |= CheckpointDue(p, 95, 0, seed);
    any_late |= !CheckpointDue(p, 105, 0, seed);
  }
  EXPECT_TRUE(any_early && any_late);  // the jitter spreads servers out
}

}  // namespace
}  // namespace vox
