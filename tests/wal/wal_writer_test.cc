#include "wal/wal_writer.h"

#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "schema/str.h"
#include "wal/wal_format.h"
#include "wal/wal_reader.h"
#include "wal_test_util.h"

namespace vox {
namespace {

constexpr Uuid kDb{0x1111, 0x2222};

class WalWriterTest : public ::testing::Test {
 protected:
  WalOptions Options(Durability d = Durability::kFsync) {
    return {.dir = dir_.path() + "/wal",
            .database_id = kDb,
            .durability = d,
            .segment_bytes = 64 * 1024,
            .max_batch_bytes = 16 * 1024};
  }
  // Every record's payload, in LSN order.
  std::vector<std::string> ReadBack(WalScan* scan_out = nullptr,
                                    RecoveryMode mode = RecoveryMode::kStrict) {
    std::vector<std::string> out;
    auto scan =
        ScanWal(PosixFileIo(), dir_.path() + "/wal", kDb, {.mode = mode}, [&](const WalRecord& r) {
          out.emplace_back(r.payload);
          return absl::OkStatus();
        });
    EXPECT_TRUE(scan.ok()) << scan.status().message();
    if (scan_out && scan.ok()) *scan_out = *scan;
    return out;
  }
  testing::TempDir dir_;
};

std::string Payload(int i) { return StrCat("record-", i, std::string(i % 97, 'x')); }

TEST_F(WalWriterTest, RecordsComeBackInOrderAcrossSegments) {
  auto device = UringLogDevice::Create();
  ASSERT_TRUE(device.ok()) << device.status().message();
  {
    auto w = WalWriter::Open(PosixFileIo(), **device, Options(), {});
    ASSERT_TRUE(w.ok()) << w.status().message();
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE((*w)->Append(Payload(i)).ok());
    ASSERT_TRUE((*w)->Sync().ok());
    EXPECT_EQ((*w)->durable_lsn(), 3000u);
    EXPECT_GT((*w)->stats().segments, 3u);  // 64 KiB segments rotated
  }
  WalScan scan;
  const auto payloads = ReadBack(&scan);
  ASSERT_EQ(payloads.size(), 3000u);
  for (int i = 0; i < 3000; ++i) ASSERT_EQ(payloads[i], Payload(i));
  EXPECT_EQ(scan.last_lsn, 3000u);
  EXPECT_FALSE(scan.torn_tail);
  // Files are private to the database owner.
  for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/wal")) {
    struct stat st;
    ASSERT_EQ(::stat(e.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << e.path();
  }
}

TEST_F(WalWriterTest, ConcurrentAppendersShareFsyncs) {
  auto device = UringLogDevice::Create();
  ASSERT_TRUE(device.ok());
  auto w = WalWriter::Open(PosixFileIo(), **device, Options(), {});
  ASSERT_TRUE(w.ok());
  // The engine thread appends; acknowledgements arrive on the WAL thread.
  std::atomic<int> acked{0};
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE((*w)->Append(Payload(i),
                             [&](const absl::Status& s) {
                               EXPECT_TRUE(s.ok());
                               ++acked;
                             })
                    .ok());
  }
  ASSERT_TRUE((*w)->Sync().ok());
  EXPECT_EQ(acked.load(), 2000);
  const auto stats = (*w)->stats();
  EXPECT_EQ(stats.records, 2000u);
  EXPECT_LT(stats.syncs, stats.records);  // group commit: fewer syncs than records
}

TEST_F(WalWriterTest, WriteModeAcknowledgesAfterWriteAndSyncsOnItsInterval) {
  auto device = UringLogDevice::Create();
  ASSERT_TRUE(device.ok());
  WalOptions options = Options(Durability::kWrite);
  options.sync_interval_ms = 5;
  auto w = WalWriter::Open(PosixFileIo(), **device, options, {});
  ASSERT_TRUE(w.ok());
  for (int i = 0; i < 50; ++i) ASSERT_TRUE((*w)->Append(Payload(i)).ok());
  for (int tries = 0; tries < 200 && (*w)->durable_lsn() < 50; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ((*w)->durable_lsn(), 50u);  // synced by the interval, no Sync() call
  w->reset();
  EXPECT_EQ(ReadBack().size(), 50u);
}

TEST_F(WalWriterTest, NoneModeWritesNothing) {
  auto device = UringLogDevice::Create();
  ASSERT_TRUE(device.ok());
  auto w = WalWriter::Open(PosixFileIo(), **device, Options(Durability::kNone), {});
  ASSERT_TRUE(w.ok());
  bool acked = false;
  ASSERT_TRUE((*w)->Append("x", [&](const absl::Status& s) { acked = s.ok(); }).ok());
  EXPECT_TRUE(acked);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/wal"));
}

TEST_F(WalWriterTest, ShortWritesAndRetriesAreCompletedBeforeTheAck) {
  auto device = UringLogDevice::Create();
  ASSERT_TRUE(device.ok());
  // Every other write reports half its bytes; every third sync asks to retry.
  int writes = 0, syncs = 0;
  (*device)->set_completion_hook([&](int op, int res) {
    if (op == 0 && res > 16 && ++writes % 2 == 1) return res / 2;
    if (op == 1 && ++syncs % 3 == 0) return -EAGAIN;
    return res;
  });
  {
    auto w = WalWriter::Open(PosixFileIo(), **device, Options(), {});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 500; ++i) ASSERT_TRUE((*w)->Append(Payload(i)).ok());
    ASSERT_TRUE((*w)->Sync().ok());
  }
  const auto payloads = ReadBack();
  ASSERT_EQ(payloads.size(), 500u);
  EXPECT_EQ(payloads[499], Payload(499));
}

// EIO or ENOSPC on write or on fdatasync: the log stops; nothing from the
// failed batch on is acknowledged; everything acknowledged before is on disk.
struct FaultCase {
  FaultyFileIo::Op op;
  int error;
};

class WalFaultTest : public WalWriterTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(WalFaultTest, FailStopAcknowledgesNothingUnsynced) {
  FaultyFileIo faulty(PosixFileIo());
  FileIoLogDevice device(faulty);
  std::vector<uint64_t> acked;
  std::mutex mu;
  absl::Status failure;
  {
    auto w = WalWriter::Open(PosixFileIo(), device, Options(), {});
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE((*w)->Append(Payload(i)).ok());
    }
    ASSERT_TRUE((*w)->Sync().ok());
    faulty.FailNth(GetParam().op, 1, GetParam().error, /*sticky=*/true);
    int refused = 0;
    for (int i = 100; i < 200; ++i) {
      auto lsn = (*w)->Append(Payload(i), [&, i](const absl::Status& s) {
        std::lock_guard<std::mutex> lock(mu);
        if (s.ok()) {
          acked.push_back(i);
        } else if (failure.ok()) {
          failure = s;
        }
      });
      if (!lsn.ok()) ++refused;
    }
    EXPECT_FALSE((*w)->Sync().ok());
    EXPECT_FALSE((*w)->status().ok());
    EXPECT_FALSE((*w)->Append("after").ok());  // fail-stop: no more writes
  }
  EXPECT_TRUE(acked.empty());
  EXPECT_EQ(failure.code(), GetParam().error == ENOSPC ? absl::StatusCode::kResourceExhausted
                                                       : absl::StatusCode::kDataLoss);
  EXPECT_NE(ToStd(failure.message()).find("stopped taking writes"), std::string::npos);
  // Everything acknowledged before the fault is there.
  const auto payloads = ReadBack(nullptr, RecoveryMode::kStopAtLastGood);
  ASSERT_GE(payloads.size(), 100u);
  EXPECT_EQ(payloads[99], Payload(99));
}

INSTANTIATE_TEST_SUITE_P(Faults, WalFaultTest,
                         ::testing::Values(FaultCase{FaultyFileIo::Op::kWrite, EIO},
                                           FaultCase{FaultyFileIo::Op::kWrite, ENOSPC},
                                           FaultCase{FaultyFileIo::Op::kDataSync, EIO},
                                           FaultCase{FaultyFileIo::Op::kDataSync, ENOSPC}));

TEST_F(WalWriterTest, UringDeviceErrorsStopTheLog) {
  auto device = UringLogDevice::Create();
  ASSERT_TRUE(device.ok());
  auto w = WalWriter::Open(PosixFileIo(), **device, Options(), {});
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Append("before").ok());
  ASSERT_TRUE((*w)->Sync().ok());
  (*device)->set_completion_hook([](int op, int res) { return op == 1 ? -EIO : res; });
  ASSERT_TRUE((*w)->Append("lost").ok());
  const absl::Status s = (*w)->Sync();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_FALSE((*w)->Append("refused").ok());
}

TEST_F(WalWriterTest, DurabilityNamesParse) {
  EXPECT_EQ(*ParseDurability("fsync"), Durability::kFsync);
  EXPECT_EQ(*ParseDurability("write"), Durability::kWrite);
  EXPECT_EQ(*ParseDurability("none"), Durability::kNone);
  EXPECT_EQ(ParseDurability("sometimes").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vox
