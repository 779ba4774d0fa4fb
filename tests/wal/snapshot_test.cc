#include "wal/snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/database.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "tools/datagen/datagen.h"
#include "wal/snapshot_format.h"

namespace vox {
namespace {

constexpr Uuid kDatabaseId{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
constexpr Timestamp kCreated = kWorkloadNow + 5;

std::string Message(const absl::Status& s) { return std::string(ToStd(s.message())); }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::unique_ptr<Database> Generate(double scale) {
  auto db = std::make_unique<Database>(WorkloadDatabaseOptions(42));
  absl::StatusOr<GeneratedData> data = GenerateWorkload(*db, {.scale = scale});
  EXPECT_TRUE(data.ok()) << data.status();
  return db;
}

// The first difference between two databases' rows (row ids, liveness and
// every column of every live row), or "".
std::string FirstDifference(const Database& want, const Database& got) {
  for (const TableDef& def : kTables) {
    const Table& a = want.table(def.id);
    const Table& b = got.table(def.id);
    if (a.row_count() != b.row_count() || a.live_count() != b.live_count()) {
      return StrCat(def.name, ": ", a.row_count(), "/", a.live_count(), " rows/live, got ",
                    b.row_count(), "/", b.live_count());
    }
    for (RowId r = 0; r < a.row_count(); ++r) {
      if (a.IsLive(r) != b.IsLive(r)) return StrCat(def.name, " row ", r, ": liveness");
      if (!a.IsLive(r)) continue;
      for (ColumnId c = 0; c < def.columns.size(); ++c) {
        if (!(a.GetValue(r, c) == b.GetValue(r, c))) {
          return StrCat(def.name, ".", def.columns[c].name, " row ", r);
        }
      }
    }
  }
  return "";
}

// Every block of a snapshot file, as a test walks it.
struct BlockAt {
  SnapshotBlockHeader header;
  uint64_t offset;
};

std::vector<BlockAt> ListBlocks(const std::string& bytes) {
  std::vector<BlockAt> blocks;
  uint64_t at = kSnapshotHeaderBytes;
  while (at + kSnapshotTrailerBytes < bytes.size()) {
    SnapshotBlockHeader h;
    std::memcpy(&h, bytes.data() + at, sizeof(h));
    blocks.push_back({h, at});
    at += kSnapshotBlockHeaderBytes + SnapshotPadded(h.payload_bytes);
  }
  EXPECT_EQ(at + kSnapshotTrailerBytes, bytes.size());
  return blocks;
}

const BlockAt* FindBlock(const std::vector<BlockAt>& blocks, SnapshotBlockKind kind, TableId t,
                         uint16_t column) {
  for (const BlockAt& b : blocks) {
    if (b.header.kind == static_cast<uint8_t>(kind) && b.header.table == static_cast<uint8_t>(t) &&
        b.header.column == column) {
      return &b;
    }
  }
  return nullptr;
}

// Re-signs one block after an edit of its payload.
void ResealBlock(std::string& bytes, uint64_t offset) {
  SnapshotBlockHeader h;
  std::memcpy(&h, bytes.data() + offset, sizeof(h));
  h.payload_hash = XXH3_64bits(bytes.data() + offset + sizeof(h), SnapshotPadded(h.payload_bytes));
  h.header_hash = SnapshotBlockHeaderHash(h);
  std::memcpy(bytes.data() + offset, &h, sizeof(h));
}

// Re-signs a snapshot's bytes after an edit (header hash, summary, trailer
// hash), as a writer of those bytes would have.
void Reseal(std::string& bytes) {
  SnapshotFileHeader h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  h.header_hash = SnapshotHeaderHash(h);
  std::memcpy(bytes.data(), &h, sizeof(h));
  XXH3_state_t* summary = XXH3_createState();
  XXH3_64bits_reset(summary);
  XXH3_64bits_update(summary, bytes.data(), sizeof(h));
  for (const BlockAt& b : ListBlocks(bytes))
    XXH3_64bits_update(summary, &b.header, sizeof(b.header));
  SnapshotTrailer t;
  std::memcpy(&t, bytes.data() + bytes.size() - sizeof(t), sizeof(t));
  t.summary_hash = XXH3_64bits_digest(summary);
  XXH3_freeState(summary);
  t.trailer_hash = SnapshotTrailerHash(t);
  std::memcpy(bytes.data() + bytes.size() - sizeof(t), &t, sizeof(t));
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char name[] = "/tmp/snapshot_test.XXXXXX";
    ASSERT_NE(::mkdtemp(name), nullptr) << std::strerror(errno);
    dir_ = name;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<SnapshotInfo> Write(const Database& db, uint64_t lsn, FileIo& io = PosixFileIo()) {
    return WriteSnapshot(io, db.Pin(),
                         {.database_id = kDatabaseId, .lsn = lsn, .created_at = kCreated}, dir_);
  }

  std::vector<std::string> Files() const {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Loads `path` into a new database, expecting success.
  std::unique_ptr<Database> Load(const std::string& path) {
    auto db = std::make_unique<Database>(WorkloadDatabaseOptions(7));
    absl::StatusOr<SnapshotInfo> info = LoadSnapshot(PosixFileIo(), path, *db);
    EXPECT_TRUE(info.ok()) << info.status();
    return db;
  }

  // The status of loading `path` into a new database.
  absl::Status LoadStatus(const std::string& path) {
    Database db(WorkloadDatabaseOptions(7));
    return LoadSnapshot(PosixFileIo(), path, db).status();
  }

  // A copy of the snapshot `path` with `edit` applied to its bytes.
  template <typename Edit>
  std::string Damaged(const std::string& path, Edit edit) {
    std::string bytes = ReadAll(path);
    edit(bytes);
    const std::string out = StrCat(dir_, "/damaged.vsnap");
    WriteAll(out, bytes);
    return out;
  }

  void ExpectRoundTrip(double scale) {
    std::unique_ptr<Database> db = Generate(scale);
    absl::StatusOr<SnapshotInfo> written = Write(*db, 42);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(written->path, StrCat(dir_, "/snapshot-00000000000000000042.vsnap"));
    uint64_t live = 0;
    for (const TableDef& def : kTables) live += db->table(def.id).live_count();
    EXPECT_EQ(written->total_rows, live);
    EXPECT_EQ(written->bytes, std::filesystem::file_size(written->path));

    auto loaded = std::make_unique<Database>(WorkloadDatabaseOptions(7));
    absl::StatusOr<SnapshotInfo> info = LoadSnapshot(PosixFileIo(), written->path, *loaded);
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->lsn, 42u);
    EXPECT_EQ(info->database_id, kDatabaseId);
    EXPECT_EQ(info->schema_version, kSchemaVersion);
    EXPECT_EQ(info->created_at, kCreated);
    EXPECT_EQ(info->total_rows, live);
    EXPECT_EQ(info->bytes, written->bytes);

    EXPECT_EQ(FirstDifference(*db, *loaded), "");
    const absl::Status indexes = loaded->VerifyIndexes();
    EXPECT_TRUE(indexes.ok()) << indexes;
    for (const TableDef& def : kTables) {
      const Table& t = loaded->table(def.id);
      for (RowId r = 0; r < t.row_count(); r += 97) {
        if (!t.IsLive(r)) continue;
        EXPECT_EQ(t.FindById(t.id(r)), r) << def.name << " row " << r;
      }
    }
  }

  std::string dir_;
};

TEST_F(SnapshotTest, GeneratedDatabaseRoundTrips) { ExpectRoundTrip(0.001); }

TEST_F(SnapshotTest, LargerGeneratedDatabaseRoundTrips) { ExpectRoundTrip(0.01); }

TEST_F(SnapshotTest, EmptyDatabaseRoundTrips) {
  Database db(WorkloadDatabaseOptions(1));
  absl::StatusOr<SnapshotInfo> written = Write(db, 0);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(written->total_rows, 0u);
  std::unique_ptr<Database> loaded = Load(written->path);
  EXPECT_EQ(FirstDifference(db, *loaded), "");
}

TEST_F(SnapshotTest, DeletedRowsRoundTripAndInsertsAfterLoadReuseThem) {
  std::unique_ptr<Database> db = Generate(0.001);
  // Hard-delete every third auth provider: dead rows on the free list.
  const Table& providers = db->table(TableId::auth_providers);
  std::vector<RowId> deleted;
  {
    Txn txn(*db, kWorkloadNow);
    for (RowId r = 0; r < providers.row_count(); r += 3) {
      txn.Delete(TableId::auth_providers, r);
      deleted.push_back(r);
    }
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }
  ASSERT_LT(providers.live_count(), providers.row_count());
  absl::StatusOr<SnapshotInfo> written = Write(*db, 7);
  ASSERT_TRUE(written.ok()) << written.status();
  std::unique_ptr<Database> loaded = Load(written->path);
  EXPECT_EQ(FirstDifference(*db, *loaded), "");
  for (RowId r : deleted) EXPECT_FALSE(loaded->table(TableId::auth_providers).IsLive(r));

  // New rows after the load: a reused (dead) row id, then fresh ones.
  const RowId user = 0;
  ASSERT_TRUE(loaded->table(TableId::users).IsLive(user));
  const size_t rows_before = loaded->table(TableId::auth_providers).row_count();
  RowId first = kNoRow;
  {
    Txn txn(*loaded, kWorkloadNow + 1);
    for (int i = 0; i < 3; ++i) {
      const RowId r = txn.Insert(TableId::auth_providers,
                                 {{auth_providers::user_id, user},
                                  {auth_providers::provider_type, AuthProviderType::GITHUB},
                                  {auth_providers::provider_id, StrCat("after-load-", i)}});
      if (i == 0) first = r;
    }
    txn.Insert(TableId::tags, {{tags::name, "after-load"}});
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }
  EXPECT_EQ(first, deleted.front());  // the lowest free id first
  EXPECT_EQ(loaded->table(TableId::auth_providers).row_count(), rows_before);
  const Table& t = loaded->table(TableId::auth_providers);
  EXPECT_EQ(t.GetString(first, auth_providers::provider_id), "after-load-0");
  EXPECT_EQ(t.FindById(t.id(first)), first);
  const absl::Status indexes = loaded->VerifyIndexes();
  EXPECT_TRUE(indexes.ok()) << indexes;
}

TEST_F(SnapshotTest, FileHoldsThePinnedStateWhileTheEngineWritesOn) {
  std::unique_ptr<Database> db = Generate(0.001);
  const std::vector<Table::Image> image = db->Pin();
  // The reference: the same image written before the engine changes anything.
  absl::StatusOr<SnapshotInfo> before =
      WriteSnapshot(PosixFileIo(), image, {.database_id = kDatabaseId, .lsn = 1}, dir_);
  ASSERT_TRUE(before.ok()) << before.status();

  // The engine changes, deletes and inserts rows while the image is written.
  absl::StatusOr<SnapshotInfo> during;
  std::thread writer([&] {
    during = WriteSnapshot(PosixFileIo(), image, {.database_id = kDatabaseId, .lsn = 2}, dir_);
  });
  const std::string old_name =
      std::string(db->table(TableId::users).GetString(0, users::display_name));
  {
    Txn txn(*db, kWorkloadNow + 1);
    txn.Set(TableId::users, 0, users::display_name, "changed after the pin");
    txn.Delete(TableId::auth_providers, 0);
    for (int i = 0; i < 5000; ++i) txn.Insert(TableId::tags, {{tags::name, StrCat("new-", i)}});
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }
  writer.join();
  ASSERT_TRUE(during.ok()) << during.status();

  std::unique_ptr<Database> reference = Load(before->path);
  std::unique_ptr<Database> loaded = Load(during->path);
  EXPECT_EQ(FirstDifference(*reference, *loaded), "");
  EXPECT_EQ(loaded->table(TableId::users).GetString(0, users::display_name), old_name);
  EXPECT_TRUE(loaded->table(TableId::auth_providers).IsLive(0));
  EXPECT_EQ(loaded->table(TableId::tags).row_count(),
            image[static_cast<size_t>(TableId::tags)].row_count);
  EXPECT_NE(FirstDifference(*db, *loaded), "");
}

TEST_F(SnapshotTest, VerifyAndHeaderDescribeTheFile) {
  std::unique_ptr<Database> db = Generate(0.001);
  absl::StatusOr<SnapshotInfo> written = Write(*db, 9);
  ASSERT_TRUE(written.ok()) << written.status();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  absl::StatusOr<SnapshotInfo> verified =
      VerifySnapshot(PosixFileIo(), written->path,
                     [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); });
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->total_rows, written->total_rows);
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back(), std::make_pair(written->bytes, written->bytes));
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GE(calls[i].first, calls[i - 1].first);

  absl::StatusOr<SnapshotInfo> header = ReadSnapshotHeader(PosixFileIo(), written->path);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->lsn, 9u);
  EXPECT_EQ(header->database_id, kDatabaseId);
  EXPECT_EQ(header->created_at, kCreated);
  EXPECT_EQ(header->total_rows, written->total_rows);
  EXPECT_EQ(header->bytes, written->bytes);
}

TEST_F(SnapshotTest, WriteReportsProgress) {
  std::unique_ptr<Database> db = Generate(0.001);
  uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  absl::StatusOr<SnapshotInfo> written =
      WriteSnapshot(PosixFileIo(), db->Pin(), {.database_id = kDatabaseId, .lsn = 3}, dir_,
                    [&](uint64_t done, uint64_t total) {
                      EXPECT_GE(done, last_done);
                      last_done = done;
                      last_total = total;
                      ++calls;
                    });
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_GT(calls, 0);
  EXPECT_EQ(last_done, written->bytes);
  EXPECT_EQ(last_total, written->bytes);
}

TEST_F(SnapshotTest, FileIsPrivateToItsOwner) {
  Database db(WorkloadDatabaseOptions(1));
  absl::StatusOr<SnapshotInfo> written = Write(db, 1);
  ASSERT_TRUE(written.ok()) << written.status();
  struct stat st;
  ASSERT_EQ(::stat(written->path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Files(), std::vector<std::string>{"snapshot-00000000000000000001.vsnap"});
}

TEST_F(SnapshotTest, SameLsnTwiceIsAlreadyExists) {
  Database db(WorkloadDatabaseOptions(1));
  ASSERT_TRUE(Write(db, 5).ok());
  EXPECT_EQ(Write(db, 5).status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(SnapshotTest, LoadNeedsAnEmptyDatabase) {
  Database empty(WorkloadDatabaseOptions(1));
  absl::StatusOr<SnapshotInfo> written = Write(empty, 1);
  ASSERT_TRUE(written.ok());
  Database db(WorkloadDatabaseOptions(1));
  Txn txn(db, kWorkloadNow);
  txn.Insert(TableId::tags, {{tags::name, "x"}});
  txn.Commit();
  const absl::Status s = LoadSnapshot(PosixFileIo(), written->path, db).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
}

// ---- Damage

class DamagedSnapshotTest : public SnapshotTest {
 protected:
  void SetUp() override {
    SnapshotTest::SetUp();
    db_ = Generate(0.001);
    absl::StatusOr<SnapshotInfo> written = Write(*db_, 11);
    ASSERT_TRUE(written.ok()) << written.status();
    path_ = written->path;
    blocks_ = ListBlocks(ReadAll(path_));
  }

  // Load and verify of `path` both give DataLoss naming the file and each of
  // `words`.
  void ExpectDataLoss(const std::string& path, const std::vector<std::string>& words) {
    for (const absl::Status& s : {LoadStatus(path), VerifySnapshot(PosixFileIo(), path).status()}) {
      EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
      EXPECT_NE(Message(s).find(path), std::string::npos) << s;
      for (const std::string& w : words)
        EXPECT_NE(Message(s).find(w), std::string::npos) << w << ": " << s;
    }
  }

  std::unique_ptr<Database> db_;
  std::string path_;
  std::vector<BlockAt> blocks_;
};

TEST_F(DamagedSnapshotTest, FlippedBitInTheHeaderIsDataLoss) {
  const std::string bad =
      Damaged(path_, [](std::string& b) { b[offsetof(SnapshotFileHeader, lsn)] ^= 0x10; });
  ExpectDataLoss(bad, {"header checksum", "byte offset 0"});
  EXPECT_EQ(ReadSnapshotHeader(PosixFileIo(), bad).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(DamagedSnapshotTest, FlippedBitInAColumnBlockIsDataLoss) {
  const BlockAt* b =
      FindBlock(blocks_, SnapshotBlockKind::kChunk, TableId::users, users::created_at);
  ASSERT_NE(b, nullptr);
  const uint64_t payload = b->offset + kSnapshotBlockHeaderBytes;
  const std::string bad = Damaged(path_, [&](std::string& bytes) { bytes[payload + 100] ^= 0x01; });
  ExpectDataLoss(bad,
                 {"table users", "column created_at", "chunk 0", StrCat("byte offset ", payload)});
  // Listing reads only the header and trailer.
  EXPECT_TRUE(ReadSnapshotHeader(PosixFileIo(), bad).ok());
}

TEST_F(DamagedSnapshotTest, FlippedBitInAHeapBlockIsDataLoss) {
  const BlockAt* b = FindBlock(blocks_, SnapshotBlockKind::kHeap, TableId::users, users::username);
  ASSERT_NE(b, nullptr);
  const uint64_t payload = b->offset + kSnapshotBlockHeaderBytes;
  const std::string bad = Damaged(path_, [&](std::string& bytes) { bytes[payload + 3] ^= 0x80; });
  ExpectDataLoss(
      bad, {"table users", "column username", "heap block 0", StrCat("byte offset ", payload)});
}

TEST_F(DamagedSnapshotTest, FlippedBitInABlockHeaderIsDataLoss) {
  const BlockAt* b = FindBlock(blocks_, SnapshotBlockKind::kChunk, TableId::rooms, rooms::title);
  ASSERT_NE(b, nullptr);
  const std::string bad = Damaged(path_, [&](std::string& bytes) {
    bytes[b->offset + offsetof(SnapshotBlockHeader, payload_bytes)] ^= 0x04;
  });
  ExpectDataLoss(bad, {"block header checksum", "table rooms", "column title",
                       StrCat("byte offset ", b->offset)});
}

TEST_F(DamagedSnapshotTest, FlippedBitInTheTrailerIsDataLoss) {
  const uint64_t at = std::filesystem::file_size(path_) - kSnapshotTrailerBytes;
  const std::string bad = Damaged(path_, [&](std::string& bytes) {
    bytes[at + offsetof(SnapshotTrailer, summary_hash)] ^= 0x02;
  });
  ExpectDataLoss(bad, {"trailer checksum", StrCat("byte offset ", at)});
}

TEST_F(DamagedSnapshotTest, AnyFlippedBitIsDataLoss) {
  // Every byte is under some checksum: probe a spread of offsets.
  const std::string bytes = ReadAll(path_);
  const std::string bad = StrCat(dir_, "/flipped.vsnap");
  for (size_t at = 8; at < bytes.size(); at += bytes.size() / 61) {
    std::string copy = bytes;
    copy[at] ^= 0x20;
    WriteAll(bad, copy);
    EXPECT_EQ(VerifySnapshot(PosixFileIo(), bad).status().code(), absl::StatusCode::kDataLoss)
        << "flipped at " << at;
  }
}

TEST_F(DamagedSnapshotTest, TruncatedFileIsDataLossAtEveryOffset) {
  const std::string bytes = ReadAll(path_);
  const std::string cut = StrCat(dir_, "/cut.vsnap");
  std::vector<size_t> sizes;
  for (size_t n = 0; n < bytes.size(); n += 997) sizes.push_back(n);
  for (size_t n = bytes.size() - 64; n < bytes.size(); ++n) sizes.push_back(n);
  for (size_t n = 0; n < 130; ++n) sizes.push_back(n);
  WriteAll(cut, bytes);
  // Shrink one file step by step rather than rewrite megabytes each time.
  std::sort(sizes.rbegin(), sizes.rend());
  for (size_t n : sizes) {
    ASSERT_EQ(::truncate(cut.c_str(), static_cast<off_t>(n)), 0);
    const absl::Status load = LoadStatus(cut);
    EXPECT_EQ(load.code(), absl::StatusCode::kDataLoss) << "cut at " << n << ": " << load;
    EXPECT_EQ(VerifySnapshot(PosixFileIo(), cut).status().code(), absl::StatusCode::kDataLoss)
        << "cut at " << n;
  }
}

TEST_F(DamagedSnapshotTest, MissingBlockIsDataLoss) {
  const BlockAt& b = blocks_[blocks_.size() / 2];
  const uint64_t length = kSnapshotBlockHeaderBytes + SnapshotPadded(b.header.payload_bytes);
  const std::string bad = Damaged(path_, [&](std::string& bytes) {
    bytes.erase(b.offset, length);
    // Keep the trailer consistent with the shorter file, as a buggy writer would.
    SnapshotTrailer t;
    std::memcpy(&t, bytes.data() + bytes.size() - sizeof(t), sizeof(t));
    t.trailer_offset -= length;
    t.trailer_hash = SnapshotTrailerHash(t);
    std::memcpy(bytes.data() + bytes.size() - sizeof(t), &t, sizeof(t));
  });
  ExpectDataLoss(bad, {StrCat("byte offset ", b.offset)});
}

TEST_F(DamagedSnapshotTest, StringOutsideItsHeapIsDataLossEvenWithGoodChecksums) {
  const BlockAt* b = FindBlock(blocks_, SnapshotBlockKind::kChunk, TableId::users, users::username);
  ASSERT_NE(b, nullptr);
  const RowId row = 5;
  ASSERT_TRUE(db_->table(TableId::users).IsLive(row));
  const std::string bad = Damaged(path_, [&](std::string& bytes) {
    const uint64_t ref = (uint64_t{7} << 40) | 10;  // block 7 of a one-block heap
    std::memcpy(bytes.data() + b->offset + kSnapshotBlockHeaderBytes + row * 8, &ref, 8);
    ResealBlock(bytes, b->offset);
    Reseal(bytes);
  });
  ExpectDataLoss(bad, {"table users", "column username", "row 5", "outside"});
}

// Found by fuzz_snapshot_reader (and fuzz_wal_reader, for replay): with good
// checksums, a ref past its table or an enum value without a name loaded, and
// the first read of the row went out of bounds; a tag given twice left the
// tag indexes disagreeing with the row. Load refuses them; Verify (no schema,
// no tables) does not look at values.
TEST_F(DamagedSnapshotTest, ValuesOutOfRangeAreDataLossEvenWithGoodChecksums) {
  const RowId row = 5;
  ASSERT_TRUE(db_->table(TableId::users).IsLive(row));
  const BlockAt* role = FindBlock(blocks_, SnapshotBlockKind::kChunk, TableId::users, users::role);
  ASSERT_NE(role, nullptr);
  const std::string bad_enum = Damaged(path_, [&](std::string& bytes) {
    bytes[role->offset + kSnapshotBlockHeaderBytes + row] = static_cast<char>(200);
    ResealBlock(bytes, role->offset);
    Reseal(bytes);
  });
  absl::Status s = LoadStatus(bad_enum);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(Message(s).find("row 5 of users.role: 200 is out of range"), std::string::npos) << s;
  EXPECT_TRUE(VerifySnapshot(PosixFileIo(), bad_enum).ok());

  const Table& wallets = db_->table(TableId::wallets);
  RowId w = 0;
  while (w < wallets.row_count() && (!wallets.IsLive(w) || wallets.IsNull(w, wallets::user_id)))
    ++w;
  ASSERT_LT(w, wallets.row_count());
  const BlockAt* owner =
      FindBlock(blocks_, SnapshotBlockKind::kChunk, TableId::wallets, wallets::user_id);
  ASSERT_NE(owner, nullptr);
  const std::string bad_ref = Damaged(path_, [&](std::string& bytes) {
    const uint32_t past = static_cast<uint32_t>(db_->table(TableId::users).row_count()) + 1000;
    std::memcpy(bytes.data() + owner->offset + kSnapshotBlockHeaderBytes + w * 4, &past, 4);
    ResealBlock(bytes, owner->offset);
    Reseal(bytes);
  });
  s = LoadStatus(bad_ref);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(Message(s).find("wallets.user_id"), std::string::npos) << s;
  EXPECT_NE(Message(s).find("out of range (rows of users"), std::string::npos) << s;

  // A tag twice: the tag indexes, which hold one key for both, and the row
  // disagreed.
  ASSERT_GT(db_->table(TableId::tags).live_count(), 0u);
  const Table& rooms = db_->table(TableId::rooms);
  RowId r = 0;
  while (r < rooms.row_count() && !rooms.IsLive(r)) ++r;
  ASSERT_LT(r, rooms.row_count());
  const BlockAt* tags = FindBlock(blocks_, SnapshotBlockKind::kChunk, TableId::rooms, rooms::tags);
  ASSERT_NE(tags, nullptr);
  const std::string bad_tags = Damaged(path_, [&](std::string& bytes) {
    const uint16_t twice[] = {1, 1};
    const int64_t packed = PackTags(twice);
    std::memcpy(bytes.data() + tags->offset + kSnapshotBlockHeaderBytes + r * 8, &packed, 8);
    ResealBlock(bytes, tags->offset);
    Reseal(bytes);
  });
  s = LoadStatus(bad_tags);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_NE(Message(s).find("rooms.tags: tag id 1 twice"), std::string::npos) << s;
}

// The header's schema version is the one the schema blocks make: a file
// where they disagree is damaged (its header was rewritten and resealed).
TEST_F(DamagedSnapshotTest, HeaderAndSchemaBlocksMustAgree) {
  const std::string bad = Damaged(path_, [](std::string& bytes) {
    SnapshotFileHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    h.schema_version = kSchemaVersion + 1;
    std::memcpy(bytes.data(), &h, sizeof(h));
    Reseal(bytes);
  });
  for (const absl::Status& s : {LoadStatus(bad), VerifySnapshot(PosixFileIo(), bad).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_NE(Message(s).find(StrCat("the header says version ", kSchemaVersion + 1)),
              std::string::npos)
        << s;
  }
}

TEST_F(DamagedSnapshotTest, OtherFormatVersionIsRefused) {
  const std::string bad = Damaged(path_, [](std::string& bytes) {
    SnapshotFileHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    h.format_version = kSnapshotFormatVersion + 1;
    std::memcpy(bytes.data(), &h, sizeof(h));
    Reseal(bytes);
  });
  for (const absl::Status& s : {LoadStatus(bad), VerifySnapshot(PosixFileIo(), bad).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_NE(Message(s).find(StrCat("format version ", kSnapshotFormatVersion + 1)),
              std::string::npos);
    EXPECT_NE(Message(s).find(StrCat("reads format versions 1 to ", kSnapshotFormatVersion)),
              std::string::npos);
    EXPECT_NE(Message(s).find("upgrade the server"), std::string::npos);
  }
}

TEST_F(DamagedSnapshotTest, FileThatIsNotASnapshotIsRefused) {
  const std::string text = StrCat(dir_, "/notes.txt");
  WriteAll(text, "these are not the bytes you are looking for\n");
  const std::string bad = Damaged(path_, [](std::string& bytes) { bytes[2] = 'Q'; });
  for (const std::string& p : {text, bad}) {
    const absl::Status s = LoadStatus(p);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_NE(Message(s).find("not a VoxDB snapshot"), std::string::npos) << s;
  }
  EXPECT_EQ(LoadStatus(StrCat(dir_, "/missing.vsnap")).code(), absl::StatusCode::kNotFound);
}

// ---- Faults

struct Fault {
  FaultyFileIo::Op op;
  int error;
  int nth;
  absl::StatusCode code;
};

class SnapshotFaultTest : public SnapshotTest, public ::testing::WithParamInterface<Fault> {};

TEST_P(SnapshotFaultTest, FailedStepLeavesNoFileAndKeepsOlderSnapshots) {
  std::unique_ptr<Database> db = Generate(0.001);
  absl::StatusOr<SnapshotInfo> older = Write(*db, 1);
  ASSERT_TRUE(older.ok()) << older.status();

  FaultyFileIo io(PosixFileIo());
  io.FailNth(GetParam().op, GetParam().nth, GetParam().error);
  const absl::StatusOr<SnapshotInfo> s = Write(*db, 2, io);
  EXPECT_EQ(s.status().code(), GetParam().code) << s.status();
  EXPECT_NE(Message(s.status()).find("injected"), std::string::npos) << s.status();
  EXPECT_EQ(Files(), std::vector<std::string>{"snapshot-00000000000000000001.vsnap"});
  EXPECT_TRUE(VerifySnapshot(PosixFileIo(), older->path).ok());

  // The same I/O, healed, writes the snapshot.
  io.Clear();
  EXPECT_TRUE(Write(*db, 2, io).ok());
}

using Op = FaultyFileIo::Op;
INSTANTIATE_TEST_SUITE_P(
    Faults, SnapshotFaultTest,
    ::testing::Values(Fault{Op::kWrite, EIO, 1, absl::StatusCode::kDataLoss},
                      Fault{Op::kWrite, ENOSPC, 3, absl::StatusCode::kResourceExhausted},
                      Fault{Op::kDataSync, EIO, 1, absl::StatusCode::kDataLoss},
                      Fault{Op::kDataSync, ENOSPC, 1, absl::StatusCode::kResourceExhausted},
                      Fault{Op::kRename, EIO, 1, absl::StatusCode::kDataLoss},
                      Fault{Op::kRename, ENOSPC, 1, absl::StatusCode::kResourceExhausted},
                      Fault{Op::kSyncDir, EIO, 1, absl::StatusCode::kDataLoss},
                      Fault{Op::kSyncDir, ENOSPC, 1, absl::StatusCode::kResourceExhausted}));

TEST_F(SnapshotTest, ShortWritesAreContinued) {
  std::unique_ptr<Database> db = Generate(0.001);
  FaultyFileIo io(PosixFileIo());
  io.FailNth(FaultyFileIo::Op::kWrite, 1, EIO, /*sticky=*/true, /*short_by=*/1000);
  absl::StatusOr<SnapshotInfo> written = Write(*db, 4, io);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(VerifySnapshot(PosixFileIo(), written->path).ok());
}

}  // namespace
}  // namespace vox
