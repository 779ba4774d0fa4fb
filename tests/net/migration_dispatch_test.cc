// Schema migrations on the wire (ApplyMigration, GetSchema) without the
// network: requests built as a client builds them, dispatched by
// net::Dispatch on an in-memory Database, their answers read back and the
// schema checked in the engine. Also: what a migration adds is reachable by
// the generic row ops and listed by Stats, a migration is refused in a
// batch and to every token but admin, and it is answered once durable.
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/ops/migration.h"
#include "gtest/gtest.h"
#include "net/internal/dispatch.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/engine/test_util.h"
#include "tests/wal/wal_test_util.h"
#include "wal/file_io.h"
#include "wal/log_device.h"
#include "wal/wal_sink.h"
#include "tests/net/engine_parts.h"

namespace vox::net {
namespace {

namespace fb = flatbuffers;
using testing::Contains;
using testing::DumpDb;
using testing::kT0;
using wire::Op;
using B = fb::FlatBufferBuilder;

constexpr char kHeadline[] =
    "version 2\n"
    "name 'user headline'\n"
    "add column users.headline string(2000) null\n";

std::string S(const fb::String* s) { return s == nullptr ? std::string() : s->str(); }
Uuid U(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }

struct Reply {
  std::vector<uint8_t> frame;
  uint64_t needs_lsn = 0;

  const wire::Response& r() const { return *fb::GetSizePrefixedRoot<wire::Response>(frame.data()); }
  absl::StatusCode code() const { return static_cast<absl::StatusCode>(r().code()); }
  std::string message() const { return S(r().message()); }
};

class MigrationDispatchTest : public ::testing::Test {
 protected:
  MigrationDispatchTest() : db_({.id_seed = 5}) {
    engine_ = testing::LoglessEngine(db_, Uuid{5, 5});
  }

  // Builds a Request around the op `build` makes, verifies it as the server
  // does, dispatches it as `role` and verifies the Response.
  template <typename F>
  Reply Send(Op type, F&& build, Role role) {
    B b;
    auto op = build(b).Union();
    wire::RequestBuilder rb(b);
    rb.add_id(++next_id_);
    rb.add_op_type(type);
    rb.add_op(op);
    b.FinishSizePrefixed(rb.Finish());
    fb::Verifier v(b.GetBufferPointer(), b.GetSize());
    EXPECT_TRUE(wire::VerifySizePrefixedRequestBuffer(v));
    now_ += kMicrosPerSecond;
    Dispatched d = Dispatch(engine_, *fb::GetSizePrefixedRoot<wire::Request>(b.GetBufferPointer()),
                            role, now_);
    Reply reply{std::move(d.frame), d.needs_lsn};
    fb::Verifier rv(reply.frame.data(), reply.frame.size());
    EXPECT_TRUE(rv.VerifySizePrefixedBuffer<wire::Response>(nullptr));
    EXPECT_EQ(reply.r().id(), next_id_);
    return reply;
  }

  Reply Migrate(const std::string& text, bool confirm = false, bool dry_run = false,
                Role role = Role::kAdmin) {
    return Send(
        Op::ApplyMigration,
        [&](B& b) { return wire::CreateApplyMigration(b, b.CreateString(text), confirm, dry_run); },
        role);
  }
  // A migration that must succeed; its result lives until the next call.
  const wire::MigrationResult& MigrateOk(const std::string& text, bool confirm = false,
                                         bool dry_run = false) {
    last_ = Migrate(text, confirm, dry_run);
    EXPECT_EQ(last_.code(), absl::StatusCode::kOk) << last_.message();
    const wire::MigrationResult* r = last_.r().result_as_MigrationResult();
    // Fails this test (gtest catches it) without crashing the others.
    if (r == nullptr) throw std::runtime_error(StrCat("ApplyMigration: ", last_.message()));
    return *r;
  }
  Reply Schema(Role role = Role::kReadOnly) {
    return Send(
        Op::GetSchema, [](B& b) { return wire::CreateGetSchema(b); }, role);
  }

  Uuid Register(const std::string& name) {
    Reply r = Send(
        Op::RegisterUser,
        [&](B& b) {
          return wire::CreateRegisterUser(
              b, b.CreateString(name), b.CreateString(name + "@example.com"),
              b.CreateString("$argon2id$v=19$hash"), b.CreateString(name));
        },
        Role::kApp);
    EXPECT_EQ(r.code(), absl::StatusCode::kOk) << r.message();
    const auto* result = r.r().result_as_RegisterUserResult();
    return result == nullptr ? Uuid{} : U(result->user_id());
  }
  // A row by the generic GetRow, as JSON ("" when refused).
  std::string Row(const std::string& table, const Uuid& id) {
    const wire::Uuid wid(id.hi, id.lo);
    Reply r = Send(
        Op::GetRow, [&](B& b) { return wire::CreateGetRow(b, b.CreateString(table), &wid); },
        Role::kReadOnly);
    EXPECT_EQ(r.code(), absl::StatusCode::kOk) << r.message();
    const auto* rows = r.r().result_as_RowsResult();
    return rows == nullptr || rows->rows()->size() != 1 ? "" : rows->rows()->Get(0)->str();
  }
  // The generic UpdateRow of one string column, as admin.
  Reply SetString(const std::string& table, const Uuid& id, const std::string& column,
                  const std::string& value) {
    const wire::Uuid wid(id.hi, id.lo);
    return Send(
        Op::UpdateRow,
        [&](B& b) {
          auto v = wire::CreateFieldValue(b, b.CreateString(column), wire::ValueKind::String, 0,
                                          b.CreateString(value));
          return wire::CreateUpdateRow(b, b.CreateString(table), &wid, b.CreateVector({v}));
        },
        Role::kAdmin);
  }

  Database db_;
  EngineParts engine_;
  Timestamp now_ = kT0;
  uint64_t next_id_ = 0;
  Reply last_;
};

TEST_F(MigrationDispatchTest, AppliesAMigrationAndGetSchemaShowsIt) {
  const Uuid alice = Register("alice");
  Register("bob");
  const uint64_t commits = db_.commits();
  const wire::MigrationResult& r = MigrateOk(kHeadline);
  EXPECT_EQ(r.from_version(), 1u);
  EXPECT_EQ(r.to_version(), 2u);
  EXPECT_TRUE(r.applied());
  EXPECT_FALSE(r.destructive());
  ASSERT_NE(r.changes(), nullptr);
  ASSERT_EQ(r.changes()->size(), 1u);
  EXPECT_TRUE(Contains(r.changes()->Get(0)->str(),
                       "add column users.headline string(2000) null: 2 rows hold null"));
  EXPECT_EQ(S(r.text()), db_.schema_history()[0]);
  EXPECT_EQ(db_.schema_version(), 2u);
  EXPECT_EQ(db_.commits(), commits + 1);  // one transaction: the steps and the audit row

  // The generic row ops see the new column.
  EXPECT_TRUE(Contains(Row("users", alice), R"("headline":null)"));
  Reply set = SetString("users", alice, "headline", "host of Friday jazz");
  ASSERT_EQ(set.code(), absl::StatusCode::kOk) << set.message();
  EXPECT_TRUE(Contains(Row("users", alice), R"("headline":"host of Friday jazz")"));

  // Any token may read the schema.
  Reply schema = Schema(Role::kReadOnly);
  ASSERT_EQ(schema.code(), absl::StatusCode::kOk) << schema.message();
  const wire::SchemaResult* s = schema.r().result_as_SchemaResult();
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->version(), 2u);
  EXPECT_EQ(s->builtin_version(), kSchemaVersion);
  ASSERT_NE(s->history(), nullptr);
  ASSERT_EQ(s->history()->size(), 1u);
  EXPECT_EQ(s->history()->Get(0)->str(),
            "version 2\nname 'user headline'\nadd column users.headline string(2000) null\n");
  EXPECT_EQ(S(s->description()), DescribeSchema(db_));
  EXPECT_TRUE(Contains(S(s->description()), "schema version 2"));
  EXPECT_TRUE(Contains(S(s->description()), "headline string(2000) null updatable  -- added"));
}

TEST_F(MigrationDispatchTest, ADryRunChangesNothing) {
  Register("alice");
  Register("bob");
  const std::string before = DumpDb(db_), schema_before = DescribeSchema(db_);
  const uint64_t commits = db_.commits();
  const wire::MigrationResult& r = MigrateOk(kHeadline, /*confirm=*/false, /*dry_run=*/true);
  EXPECT_FALSE(r.applied());
  EXPECT_EQ(r.from_version(), 1u);
  EXPECT_EQ(r.to_version(), 2u);
  ASSERT_NE(r.changes(), nullptr);
  ASSERT_EQ(r.changes()->size(), 1u);
  EXPECT_TRUE(Contains(r.changes()->Get(0)->str(), "2 rows hold null"));
  EXPECT_EQ(db_.schema_version(), 1u);
  EXPECT_TRUE(db_.schema_history().empty());
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_EQ(DescribeSchema(db_), schema_before);
  EXPECT_EQ(db_.commits(), commits);
  EXPECT_FALSE(db_.FindColumn(TableId::users, "headline").ok());
  // The same migration then applies.
  EXPECT_TRUE(MigrateOk(kHeadline).applied());
}

TEST_F(MigrationDispatchTest, ADestructiveMigrationNeedsConfirmation) {
  MigrateOk(kHeadline);
  const std::string drop = "version 3\ndrop column users.headline\n";
  Reply refused = Migrate(drop);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition) << refused.message();
  EXPECT_TRUE(Contains(refused.message(), "would lose data"));
  EXPECT_TRUE(Contains(refused.message(), "drop column users.headline"));
  EXPECT_EQ(refused.r().result_type(), wire::Result::NONE);
  EXPECT_EQ(db_.schema_version(), 2u);
  EXPECT_TRUE(db_.FindColumn(TableId::users, "headline").ok());

  // A dry run describes it without confirmation, and says it is destructive.
  const wire::MigrationResult& dry = MigrateOk(drop, /*confirm=*/false, /*dry_run=*/true);
  EXPECT_TRUE(dry.destructive());
  EXPECT_FALSE(dry.applied());
  EXPECT_TRUE(db_.FindColumn(TableId::users, "headline").ok());

  const wire::MigrationResult& done = MigrateOk(drop, /*confirm=*/true);
  EXPECT_TRUE(done.applied());
  EXPECT_TRUE(done.destructive());
  EXPECT_EQ(done.from_version(), 2u);
  EXPECT_EQ(done.to_version(), 3u);
  EXPECT_EQ(db_.schema_version(), 3u);
  EXPECT_FALSE(db_.FindColumn(TableId::users, "headline").ok());
}

TEST_F(MigrationDispatchTest, RefusalsNameTheLineAndChangeNothing) {
  const std::string before = DescribeSchema(db_);
  Reply typo = Migrate("version 2\nadd colum users.x int32 null\n");
  EXPECT_EQ(typo.code(), absl::StatusCode::kInvalidArgument) << typo.message();
  EXPECT_TRUE(Contains(typo.message(), "line 2"));
  Reply step =
      Migrate("version 2\nadd column users.x int32 null\nadd column nobody.y int32 null\n");
  EXPECT_EQ(step.code(), absl::StatusCode::kNotFound) << step.message();
  EXPECT_TRUE(Contains(step.message(), "line 3"));
  Reply skipped = Migrate("version 3\nadd column users.x int32 null\n");
  EXPECT_EQ(skipped.code(), absl::StatusCode::kFailedPrecondition) << skipped.message();
  EXPECT_TRUE(Contains(skipped.message(), "apply version 2 first"));
  Reply empty = Send(
      Op::ApplyMigration, [](B& b) { return wire::CreateApplyMigration(b); }, Role::kAdmin);
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument) << empty.message();
  EXPECT_TRUE(Contains(empty.message(), "text is required"));
  EXPECT_EQ(DescribeSchema(db_), before);
  EXPECT_EQ(db_.schema_version(), 1u);
}

TEST_F(MigrationDispatchTest, OnlyAdminsMigrateAndNeverInABatch) {
  for (Role role : {Role::kReadOnly, Role::kApp}) {
    SCOPED_TRACE(RoleName(role));
    Reply r = Migrate(kHeadline, false, false, role);
    EXPECT_EQ(r.code(), absl::StatusCode::kPermissionDenied) << r.message();
    EXPECT_TRUE(Contains(r.message(), role == Role::kApp ? "only an admin token may migrate"
                                                         : "a readonly token may only read"));
    // A dry run is administration too.
    EXPECT_EQ(Migrate(kHeadline, false, true, role).code(), absl::StatusCode::kPermissionDenied);
  }
  Reply batch = Send(
      Op::Batch,
      [&](B& b) {
        auto schema = wire::CreateBatchOp(b, Op::GetSchema, wire::CreateGetSchema(b).Union());
        auto migrate =
            wire::CreateBatchOp(b, Op::ApplyMigration,
                                wire::CreateApplyMigration(b, b.CreateString(kHeadline)).Union());
        return wire::CreateBatch(b, b.CreateVector({schema, migrate}));
      },
      Role::kAdmin);
  EXPECT_EQ(batch.code(), absl::StatusCode::kInvalidArgument) << batch.message();
  EXPECT_TRUE(Contains(batch.message(),
                       "batch op 1 (ApplyMigration): a migration is a transaction of its own"));
  EXPECT_EQ(db_.schema_version(), 1u);
  EXPECT_FALSE(db_.FindColumn(TableId::users, "headline").ok());
  // GetSchema is a read: a readonly token may batch it.
  Reply reads = Send(
      Op::Batch,
      [&](B& b) {
        auto schema = wire::CreateBatchOp(b, Op::GetSchema, wire::CreateGetSchema(b).Union());
        return wire::CreateBatch(b, b.CreateVector({schema}));
      },
      Role::kReadOnly);
  EXPECT_EQ(reads.code(), absl::StatusCode::kOk) << reads.message();
}

TEST_F(MigrationDispatchTest, AddedTablesAreReachableByNameAndListedByStats) {
  MigrateOk(
      "version 2\n"
      "add table room_topics\n"
      "add column room_topics.name string(100) default ''\n");
  Reply inserted = Send(
      Op::InsertRow,
      [&](B& b) {
        auto v = wire::CreateFieldValue(b, b.CreateString("name"), wire::ValueKind::String, 0,
                                        b.CreateString("jazz"));
        return wire::CreateInsertRow(b, b.CreateString("room_topics"), b.CreateVector({v}));
      },
      Role::kAdmin);
  ASSERT_EQ(inserted.code(), absl::StatusCode::kOk) << inserted.message();
  const Uuid topic = U(inserted.r().result_as_IdResult()->id());
  EXPECT_TRUE(Contains(Row("room_topics", topic), R"("name":"jazz")"));
  ASSERT_EQ(SetString("room_topics", topic, "name", "blues").code(), absl::StatusCode::kOk);
  EXPECT_TRUE(Contains(Row("room_topics", topic), R"("name":"blues")"));

  Reply stats = Send(
      Op::Stats, [](B& b) { return wire::CreateStats(b); }, Role::kReadOnly);
  ASSERT_EQ(stats.code(), absl::StatusCode::kOk) << stats.message();
  const auto* tables = stats.r().result_as_StatsResult()->tables();
  ASSERT_EQ(tables->size(), kTableCount + 1);
  EXPECT_EQ(S(tables->Get(kTableCount)->name()), "room_topics");
  EXPECT_EQ(tables->Get(kTableCount)->rows(), 1u);

  Reply deleted = Send(
      Op::DeleteRow,
      [&](B& b) {
        const wire::Uuid wid(topic.hi, topic.lo);
        return wire::CreateDeleteRow(b, b.CreateString("room_topics"), &wid);
      },
      Role::kAdmin);
  EXPECT_EQ(deleted.code(), absl::StatusCode::kOk) << deleted.message();
}

TEST_F(MigrationDispatchTest, AMigrationIsAnsweredOnceItsRecordIsDurable) {
  testing::TempDir dir;
  FileIoLogDevice device(PosixFileIo());
  auto wal = WalWriter::Open(PosixFileIo(), device,
                             {.dir = dir.path() + "/wal", .database_id = engine_.database_id}, {});
  ASSERT_TRUE(wal.ok()) << wal.status();
  WalCommitSink sink(**wal);
  db_.set_commit_sink(&sink);
  engine_.wal = wal->get();
  engine_.sink = &sink;
  engine_.durability = Durability::kFsync;

  Register("alice");
  const uint64_t registered = sink.last_lsn();
  // A dry run writes nothing to the log.
  MigrateOk(kHeadline, false, /*dry_run=*/true);
  EXPECT_EQ(sink.last_lsn(), registered);
  last_ = Migrate(kHeadline);
  ASSERT_EQ(last_.code(), absl::StatusCode::kOk) << last_.message();
  EXPECT_GT(sink.last_lsn(), registered);
  EXPECT_EQ(last_.needs_lsn, sink.last_lsn());  // released once the migration is durable
  // Every read may see the new schema: each waits for the migration.
  EXPECT_EQ(Schema().needs_lsn, sink.last_lsn());
  db_.set_commit_sink(nullptr);
}

}  // namespace
}  // namespace vox::net
