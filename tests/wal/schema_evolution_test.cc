// Migrations through the durable path: the WAL's migration records, the
// snapshot's schema blocks, recovery from both, and files of other versions
// (the checked-in format-1 directory, and newer files refused).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/change_events.h"
#include "engine/ops/generic.h"
#include "engine/ops/ledger.h"
#include "engine/ops/migration.h"
#include "engine/ops/notifications.h"
#include "engine/ops/rooms.h"
#include "tests/engine/test_util.h"
#include "wal/change_codec.h"
#include "wal/checkpoint.h"
#include "wal/recovery.h"
#include "wal/snapshot.h"
#include "wal/snapshot_format.h"
#include "wal/wal_format.h"
#include "wal/wal_sink.h"
#include "wal_test_util.h"

#ifndef VOX_SOURCE_DIR
#error "VOX_SOURCE_DIR names the source tree (tests/data)"
#endif

namespace vox {
namespace {

using testing::kT0;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Every live row of every table (added ones too), secrets included.
std::string DumpAll(const Database& db) {
  std::string out = StrCat("schema ", db.schema_version(), "\n");
  for (size_t i = 0; i < db.table_count(); ++i) {
    const auto t = static_cast<TableId>(i);
    const Table& table = db.table(t);
    out += StrCat(table.name(), " ", table.live_count(), "\n");
    for (RowId r = 0; r < table.row_count(); ++r) {
      if (table.IsLive(r)) out += RowToJson(db, t, r, /*include_secrets=*/true) + "\n";
    }
  }
  return out;
}

class SchemaEvolutionTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(dir_.path()); }
  void TearDown() override { Close(); }

  void Open(const std::string& dir) {
    data_ = dir;
    db_ = std::make_unique<Database>(DatabaseOptions{.id_seed = 9});
    auto report = Recover(PosixFileIo(), {.data_dir = dir}, *db_);
    ASSERT_TRUE(report.ok()) << report.status().message();
    id_ = report->database_id;
    auto device = UringLogDevice::Create();
    ASSERT_TRUE(device.ok());
    device_ = std::move(*device);
    auto w = WalWriter::Open(PosixFileIo(), *device_,
                             {.dir = WalDir(dir),
                              .database_id = id_,
                              .segment_bytes = 1 << 20,
                              .schema_version = db_->schema_version()},
                             report->tail);
    ASSERT_TRUE(w.ok()) << w.status().message();
    writer_ = std::move(*w);
    sink_ = std::make_unique<WalCommitSink>(*writer_);
    db_->set_commit_sink(sink_.get());
  }
  void Close() {
    if (writer_) ASSERT_TRUE(writer_->Sync().ok());
    if (db_) db_->set_commit_sink(nullptr);
    sink_.reset();
    writer_.reset();
    device_.reset();
  }
  // Closes, recovers a fresh database from the files, and reopens on it.
  void Restart() {
    Close();
    Open(data_);
  }
  SnapshotInfo Checkpoint() {
    EXPECT_TRUE(writer_->Sync().ok());
    Checkpointer cp(PosixFileIo(), data_, id_, /*keep=*/3);
    auto pause = cp.Start(*db_, sink_->last_lsn());
    EXPECT_TRUE(pause.ok()) << pause.status().message();
    auto info = cp.Wait();
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? *info : SnapshotInfo{};
  }
  OpContext Ctx() { return {.now = kT0 + (++clock_) * kMicrosPerSecond}; }
  Uuid Register(const std::string& name) {
    const std::string email = name + "@example.com";
    auto u = RegisterUser(*db_, Ctx(),
                          {.username = name, .email = email, .password_hash = "h", .display_name = name});
    EXPECT_TRUE(u.ok()) << u.status().message();
    return u.ok() ? u->user_id : Uuid{};
  }
  void Migrate(std::string_view text, bool confirm = false) {
    auto r = ApplyMigration(*db_, Ctx(), text, {.confirm_destructive = confirm});
    ASSERT_TRUE(r.ok()) << r.status().message();
  }
  std::vector<std::string> SegmentNames() {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(WalDir(data_))) {
      if (wal::ParseSegmentName(e.path().filename().string()) != 0) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  testing::TempDir dir_;
  std::string data_;
  Uuid id_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<UringLogDevice> device_;
  std::unique_ptr<WalWriter> writer_;
  std::unique_ptr<WalCommitSink> sink_;
  int64_t clock_ = 0;
};

constexpr char kTopics[] =
    "version 2\n"
    "name 'room topics'\n"
    "add table room_topics\n"
    "add column room_topics.name string(100) default ''\n"
    "add column rooms.topic_id ref(room_topics) null on delete set null\n"
    "add index rooms_topic on rooms (topic_id)\n"
    "add enum value RoomStatus BANNED\n"
    "alter column rooms.status updatable\n"
    "add column users.headline string(2000) null\n";

// Writes through every new part of the schema.
void UseTopics(Database& db, const OpContext& ctx, const Uuid& owner) {
  const TableId topics = *db.FindTable("room_topics");
  const NamedValue topic[] = {{"name", "Jazz"}};
  auto topic_id = InsertRow(db, ctx, topics, topic);
  ASSERT_TRUE(topic_id.ok()) << topic_id.status().message();
  auto room = CreateAndOpenRoom(db, ctx, {.owner_id = owner, .title = "jazz night"});
  ASSERT_TRUE(room.ok()) << room.status().message();
  const NamedValue set[] = {{"topic_id", *topic_id}, {"status", "BANNED"}};
  ASSERT_TRUE(UpdateRow(db, ctx, TableId::rooms, room->room_id, set).ok());
  const NamedValue headline[] = {{"headline", "plays the sax"}};
  ASSERT_TRUE(UpdateRow(db, ctx, TableId::users, owner, headline).ok());
}

TEST_F(SchemaEvolutionTest, TheLogReplaysMigrationsBetweenTheWritesAroundThem) {
  const Uuid ann = Register("ann");
  Migrate(kTopics);
  UseTopics(*db_, Ctx(), ann);
  Register("bob");  // a write after the migration, with its new columns
  Migrate("version 3\nrename column room_topics.name to title\nadd column users.k int32 default 4");
  Register("cyd");
  const std::string before = DumpAll(*db_);
  Restart();
  EXPECT_EQ(DumpAll(*db_), before);
  EXPECT_EQ(db_->schema_version(), 3u);
  EXPECT_EQ(db_->schema_history().size(), 2u);
  EXPECT_TRUE(db_->VerifyIndexes().ok());
  // The recovered database takes the next migration and writes on.
  Migrate("version 4\ndrop column users.k", /*confirm=*/true);
  Register("deedee");
  const std::string again = DumpAll(*db_);
  Restart();
  EXPECT_EQ(DumpAll(*db_), again);
}

TEST_F(SchemaEvolutionTest, SnapshotsKeepTheSchemaAndTheLogGoesOnFromThem) {
  const Uuid ann = Register("ann");
  Migrate(kTopics);
  UseTopics(*db_, Ctx(), ann);
  const SnapshotInfo snap = Checkpoint();
  EXPECT_EQ(snap.schema_version, 2u);
  Migrate("version 3\nadd column room_topics.color string(7) default '#000000'");
  Register("bob");
  const std::string before = DumpAll(*db_);
  Restart();
  EXPECT_EQ(DumpAll(*db_), before);
  EXPECT_TRUE(db_->VerifyIndexes().ok());

  // The snapshot alone, loaded into a new database: schema version 2 with
  // the room pointing at a table that comes after its own.
  Database loaded({.id_seed = 3});
  auto info = LoadSnapshot(PosixFileIo(), snap.path, loaded);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(loaded.schema_version(), 2u);
  EXPECT_EQ(loaded.table_count(), kTableCount + 1);
  EXPECT_TRUE(loaded.VerifyIndexes().ok());
  auto verified = VerifySnapshot(PosixFileIo(), snap.path);
  ASSERT_TRUE(verified.ok()) << verified.status().message();
  // Loading needs a new database.
  auto twice = LoadSnapshot(PosixFileIo(), snap.path, *db_);
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SchemaEvolutionTest, AMigrationRecordIsOneRecordWithItsAuditRow) {
  Register("ann");
  const uint64_t before = sink_->last_lsn();
  Migrate(kTopics);
  EXPECT_EQ(sink_->last_lsn(), before + 1);
  Close();
  int migrations = 0;
  auto scan = ScanWal(PosixFileIo(), WalDir(data_), id_, {.repair = false},
                      [&](const WalRecord& r) {
                        if (r.type == wal::RecordType::kSchemaChange) {
                          ++migrations;
                          EXPECT_EQ(r.lsn, before + 1);
                          Database schema;
                          auto d = wal::DescribeRecord(schema, r.type, r.payload);
                          EXPECT_TRUE(d.ok()) << d.status().message();
                          EXPECT_NE(d->find("add table room_topics"), std::string::npos) << *d;
                          EXPECT_NE(d->find("audit_logs put"), std::string::npos) << *d;
                        }
                        return absl::OkStatus();
                      });
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  EXPECT_EQ(migrations, 1);
  Open(data_);
}

// The directory in tests/data/format-v1 was written before migrations
// existed (snapshot and WAL format 1). This build reads it, writes on in a
// new segment (an older server reading the old one never meets a record
// type it does not know), and migrates it.
TEST_F(SchemaEvolutionTest, AFormatOneDirectoryLoadsAndMigrates) {
  Close();
  testing::TempDir copy;
  std::filesystem::copy(std::string(VOX_SOURCE_DIR) + "/tests/data/format-v1", copy.path(),
                        std::filesystem::copy_options::recursive);
  const std::string old_segment = WalDir(copy.path()) + "/00000000000000000001.wal";
  const auto old_size = std::filesystem::file_size(old_segment);
  Open(copy.path());
  EXPECT_EQ(db_->schema_version(), 1u);
  EXPECT_EQ(db_->table(TableId::users).live_count(), 4u);
  EXPECT_EQ(db_->table(TableId::audit_logs).live_count(), 13u);
  EXPECT_EQ(db_->table(TableId::transactions).live_count(), 2u);
  EXPECT_TRUE(db_->VerifyIndexes().ok());
  const RowId cy = db_->table(TableId::users).FindById(*ParseUuid("01a202fe-a4e2-751e-b46e-faa400000002"));
  ASSERT_NE(cy, kNoRow);
  EXPECT_EQ(db_->table(TableId::users).GetString(cy, users::username), "fx_cy");

  const Uuid ann = *ParseUuid("01a202fe-a4d1-78b3-aa18-ee4900000000");
  Migrate(kTopics);
  UseTopics(*db_, Ctx(), ann);
  const std::string before = DumpAll(*db_);
  Close();
  EXPECT_EQ(SegmentNames().size(), 2u);  // the old segment is left as it was
  std::string head(64, '\0');
  std::ifstream(old_segment, std::ios::binary).read(head.data(), 64);
  wal::SegmentHeader sh;
  std::memcpy(&sh, head.data(), sizeof(sh));
  EXPECT_EQ(sh.format, 1u);
  EXPECT_EQ(std::filesystem::file_size(old_segment), old_size);
  Open(copy.path());
  EXPECT_EQ(DumpAll(*db_), before);
  const SnapshotInfo snap = Checkpoint();
  EXPECT_EQ(snap.schema_version, 2u);
  Restart();
  EXPECT_EQ(DumpAll(*db_), before);
  Close();
}

// Random migrations between random writes, a snapshot somewhere in the
// middle: recovery (snapshot + log) gives the same rows and schema, and
// every index agrees with its table. Refused migrations must change nothing.
TEST_F(SchemaEvolutionTest, RandomMigrationsBetweenWritesRecoverExactly) {
  std::mt19937_64 rng(20261122);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  std::vector<std::string> tables = {"users", "rooms"};  // where columns go
  struct Col {
    std::string table, name, type;
  };
  std::vector<Col> cols;
  std::vector<std::string> indexes, added_tables;
  int names = 0, users = 0, applied = 0, refused = 0;
  const char* types[] = {"int32 default 3", "int64 null", "string(20) null", "string(8) default 'x'",
                         "bool default true", "timestamp default now", "enum(Severity) default INFO",
                         "uuid null", "json(100) null"};
  for (int round = 0; round < 300; ++round) {
    if (round == 150) Checkpoint();
    std::string step;
    const size_t kind = pick(10);
    if (kind == 0) {
      const std::string t = StrCat("t", ++names);
      step = StrCat("add table ", t);
      added_tables.push_back(t);
      tables.push_back(t);
    } else if (kind <= 3) {
      Col c{tables[pick(tables.size())], StrCat("c", ++names), types[pick(std::size(types))]};
      step = StrCat("add column ", c.table, ".", c.name, " ", c.type);
      cols.push_back(c);
    } else if (kind == 4 && !cols.empty()) {
      const Col& c = cols[pick(cols.size())];
      const std::string ix = StrCat("ix", ++names);
      step = StrCat("add ", c.type.rfind("string", 0) == 0 ? "unique " : "", "index ", ix, " on ",
                    c.table, " (", c.name, ")");
      indexes.push_back(ix);
    } else if (kind == 5 && !indexes.empty()) {
      step = StrCat("drop index ", indexes[pick(indexes.size())]);
    } else if (kind == 6 && !cols.empty()) {
      Col& c = cols[pick(cols.size())];
      const std::string to = StrCat("r", ++names);
      step = StrCat("rename column ", c.table, ".", c.name, " to ", to);
      c.name = to;
    } else if (kind == 7 && !cols.empty()) {
      const Col& c = cols[pick(cols.size())];
      step = StrCat("drop column ", c.table, ".", c.name);
    } else if (kind == 8 && !added_tables.empty()) {
      step = StrCat("drop table ", added_tables[pick(added_tables.size())]);
    } else {
      step = StrCat("add enum value Severity V", ++names);
    }
    const std::string before = DumpAll(*db_);
    auto r = ApplyMigration(*db_, Ctx(), StrCat("version ", db_->schema_version() + 1, "\n", step),
                            {.confirm_destructive = true});
    if (r.ok()) {
      ++applied;
    } else {  // e.g. a unique index over duplicates, a dropped name, an indexed column
      ++refused;
      EXPECT_EQ(DumpAll(*db_), before) << step << ": " << r.status().message();
    }
    // Keep the model to what the database has.
    std::erase_if(cols, [&](const Col& c) {
      auto t = db_->FindTable(c.table);
      return !t.ok() || !db_->FindColumn(*t, c.name).ok();
    });
    std::erase_if(added_tables, [&](const std::string& t) { return !db_->FindTable(t).ok(); });
    tables.erase(std::remove_if(tables.begin() + 2, tables.end(),
                                [&](const std::string& t) { return !db_->FindTable(t).ok(); }),
                 tables.end());
    // Writes through whatever the schema now has.
    Register(StrCat("user", ++users));
    for (const std::string& t : added_tables) {
      auto id = db_->FindTable(t);
      ASSERT_TRUE(id.ok());
      auto row = InsertRow(*db_, Ctx(), *id, {});
      ASSERT_TRUE(row.ok()) << row.status().message();
    }
    for (const Col& c : cols) {
      if (c.type.rfind("int", 0) != 0 && c.type.rfind("string(20)", 0) != 0) continue;
      auto t = db_->FindTable(c.table);
      const Table& table = db_->table(*t);
      if (table.live_count() == 0) continue;
      RowId r = static_cast<RowId>(pick(table.row_count()));
      if (!table.IsLive(r)) continue;
      const NamedValue v[] = {{c.name, c.type.rfind("int", 0) == 0 ? Value(int64_t(pick(1000)))
                                                                    : Value(std::string_view("v"))}};
      (void)UpdateRow(*db_, Ctx(), *t, table.id(r), v);  // a unique clash is fine
    }
  }
  EXPECT_GT(applied, 150);
  EXPECT_GT(refused, 0);
  RecordProperty("applied", applied);
  RecordProperty("refused", refused);
  ASSERT_TRUE(db_->VerifyIndexes().ok());
  const std::string before = DumpAll(*db_);
  const std::string schema = DescribeSchema(*db_);
  Restart();
  EXPECT_EQ(DumpAll(*db_), before);
  EXPECT_EQ(DescribeSchema(*db_), schema);
  const absl::Status verified = db_->VerifyIndexes();
  EXPECT_TRUE(verified.ok()) << verified.message();
}

TEST_F(SchemaEvolutionTest, FilesOfANewerVersionAreRefusedByName) {
  Register("ann");
  const SnapshotInfo snap = Checkpoint();
  Close();
  // A snapshot of a newer format.
  {
    std::fstream f(snap.path, std::ios::in | std::ios::out | std::ios::binary);
    SnapshotFileHeader h;
    f.read(reinterpret_cast<char*>(&h), sizeof(h));
    h.format_version = kSnapshotFormatVersion + 1;
    h.header_hash = SnapshotHeaderHash(h);
    f.seekp(0);
    f.write(reinterpret_cast<const char*>(&h), sizeof(h));
  }
  Database db;
  auto loaded = LoadSnapshot(PosixFileIo(), snap.path, db);
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Msg(loaded.status()).find("a newer VoxDB wrote it"), std::string::npos);
  EXPECT_NE(Msg(loaded.status()).find("upgrade the server"), std::string::npos);
  std::filesystem::remove(snap.path);

  // A WAL segment of a newer format.
  const std::string seg = SegmentNames().front();
  std::string head(64, '\0');
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    wal::SegmentHeader sh;
    f.read(reinterpret_cast<char*>(&sh), sizeof(sh));
    sh.format = wal::kFormatVersion + 1;
    wal::SealSegmentHeader(&sh);
    f.seekp(0);
    f.write(reinterpret_cast<const char*>(&sh), sizeof(sh));
  }
  Database db2;
  auto report = Recover(PosixFileIo(), {.data_dir = data_}, db2);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Msg(report.status()).find("newer VoxDB"), std::string::npos) << Msg(report.status());
  // (Reopening is not possible on these files: TearDown has nothing to close.)
}

TEST_F(SchemaEvolutionTest, AnUnknownRecordTypeIsRefusedNotSkipped) {
  Register("ann");
  Close();
  const std::string seg = SegmentNames().front();
  // The first record's type: a type this build does not know.
  std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
  wal::RecordHeader h;
  f.seekg(wal::kSegmentHeaderSize);
  f.read(reinterpret_cast<char*>(&h), sizeof(h));
  std::string payload(h.length, '\0');
  f.read(payload.data(), h.length);
  h.type = 9;
  wal::SealRecordHeader(&h, payload);
  f.seekp(wal::kSegmentHeaderSize);
  f.write(reinterpret_cast<const char*>(&h), sizeof(h));
  f.close();
  Database db;
  auto report = Recover(PosixFileIo(), {.data_dir = data_}, db);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(Msg(report.status()).find("record type 9"), std::string::npos) << Msg(report.status());
}

}  // namespace
}  // namespace vox

namespace vox {
namespace {

// What a change stream sees of an event, for comparison.
std::string Describe(uint64_t lsn, const ChangeEvent& e) {
  return StrCat(lsn, " ", e.table_name != nullptr ? *e.table_name : "?", " ", FormatUuid(e.id),
                e.deleted ? " deleted" : "", " room=", FormatUuid(e.room),
                " users=", FormatUuid(e.users[0]), ",", FormatUuid(e.users[1]), " ", e.action,
                " ", e.row);
}

// Passes commits to the WAL sink, and keeps their events as a stream would.
class EventTee final : public CommitSink {
 public:
  explicit EventTee(WalCommitSink& wal) : wal_(wal) {}
  void OnCommit(const Txn& txn) override {
    wal_.OnCommit(txn);
    std::vector<ChangeEvent> events;
    CollectChangeEvents(txn, &events);
    for (const ChangeEvent& e : events) seen.push_back(Describe(wal_.last_lsn(), e));
  }
  std::vector<std::string> seen;

 private:
  WalCommitSink& wal_;
};

// Recovery gives a change stream's history (net/streams.h) the events the
// commits gave, record by record: the same rows, images, routing (a
// deleted row's too) and audit actions, across a migration.
TEST_F(SchemaEvolutionTest, ReplayGivesEachRecordTheEventsItsCommitGave) {
  EventTee tee(*sink_);
  db_->set_commit_sink(&tee);
  const Uuid host = Register("host"), guest = Register("guest"), carol = Register("carol");
  auto room = CreateAndOpenRoom(*db_, Ctx(), {.owner_id = host, .title = "jazz"});
  ASSERT_TRUE(room.ok()) << room.status().message();
  auto joined = JoinRoom(*db_, Ctx(), room->room_id, guest);
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  ASSERT_TRUE(SetHandRaised(*db_, Ctx(), room->room_id, guest, guest, true).ok());
  ASSERT_TRUE(TopUp(*db_, Ctx(), {.user_id = guest, .amount = 100}).ok());
  ASSERT_TRUE(Gift(*db_, Ctx(), {.sender_id = guest, .receiver_id = host, .amount = 40}).ok());
  auto invite = InviteToRoom(*db_, Ctx(), room->room_id, host, carol);
  ASSERT_TRUE(invite.ok()) << invite.status().message();
  Migrate(kTopics);
  UseTopics(*db_, Ctx(), host);
  // Deletes: a participant (routed to its room) and a notification (to its
  // recipient), in one transaction with an update of the room.
  ASSERT_TRUE(Transact(*db_, Ctx().now, [&](Txn&) -> absl::Status {
                VOX_RETURN_IF_ERROR(
                    DeleteRow(*db_, Ctx(), TableId::room_participants, joined->participant_id));
                return DeleteRow(*db_, Ctx(), TableId::notifications, invite->notification_id);
              }).ok());
  ASSERT_TRUE(LeaveRoom(*db_, Ctx(), room->room_id, host).ok());
  const std::vector<std::string> committed = tee.seen;
  ASSERT_GT(committed.size(), 20u);
  db_->set_commit_sink(sink_.get());

  Close();
  Database replayed;
  std::vector<std::string> recovered;
  auto report = Recover(PosixFileIo(),
                        {.data_dir = data_,
                         .on_events =
                             [&](uint64_t lsn, Timestamp, std::vector<ChangeEvent> events) {
                               for (const ChangeEvent& e : events)
                                 recovered.push_back(Describe(lsn, e));
                             }},
                        replayed);
  ASSERT_TRUE(report.ok()) << report.status().message();
  ASSERT_EQ(recovered.size(), committed.size());
  for (size_t i = 0; i < committed.size(); ++i) {
    ASSERT_EQ(recovered[i], committed[i]) << "event " << i;
  }
  Open(data_);
}

}  // namespace
}  // namespace vox
