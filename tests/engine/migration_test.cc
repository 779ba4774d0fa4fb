#include "engine/ops/migration.h"

#include "engine/ops/generic.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::Contains;
using testing::DumpDb;
using testing::kT0;

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

class MigrationTest : public testing::EngineTest {
 protected:
  MigrationTest() {
    alice_ = Register("alice");
    bob_ = Register("bob");
  }

  absl::StatusOr<MigrationResult> Apply(std::string_view text, bool confirm = false) {
    return ApplyMigration(db_, Ctx(60), text, {.confirm_destructive = confirm});
  }
  void ApplyOk(std::string_view text, bool confirm = false) {
    auto r = Apply(text, confirm);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_TRUE(r->applied);
  }
  std::string Row(TableId t, const Uuid& id) {
    return RowToJson(db_, t, db_.table(t).FindById(id));
  }
  // Rows of audit_logs with `action`, as JSON.
  std::vector<std::string> AuditRows(AuditAction action) {
    std::vector<std::string> out;
    const Table& t = db_.table(TableId::audit_logs);
    for (RowId r = 0; r < t.row_count(); ++r) {
      if (t.IsLive(r) && t.GetEnum<AuditAction>(r, audit_logs::action) == action) {
        out.push_back(RowToJson(db_, TableId::audit_logs, r));
      }
    }
    return out;
  }

  Uuid alice_, bob_;
};

TEST_F(MigrationTest, NullableColumnOnAPopulatedTableReadsNullThenTakesValues) {
  auto r = Apply(
      "version 2\n"
      "name 'user headline'\n"
      "add column users.headline string(2000) null  # the seed's optional text\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->from_version, 1u);
  EXPECT_EQ(r->to_version, 2u);
  ASSERT_EQ(r->changes.size(), 1u);
  EXPECT_TRUE(Contains(r->changes[0], "add column users.headline string(2000) null: 2 rows hold null"));
  EXPECT_EQ(db_.schema_version(), 2u);
  ASSERT_EQ(db_.schema_history().size(), 1u);
  EXPECT_EQ(db_.schema_history()[0],
            "version 2\nname 'user headline'\nadd column users.headline string(2000) null\n");

  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("headline":null)"));
  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("username":"alice")"));  // old rows intact
  const NamedValue set[] = {{"headline", "host of Friday jazz"}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(61), TableId::users, alice_, set).ok());
  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("headline":"host of Friday jazz")"));
  const std::string too_long(2001, 'x');
  const NamedValue over[] = {{"headline", too_long}};
  EXPECT_EQ(UpdateRow(db_, Ctx(61), TableId::users, alice_, over).code(),
            absl::StatusCode::kInvalidArgument);
  // New rows get the new column's default (null) like any other.
  const Uuid carol = Register("carol");
  EXPECT_TRUE(Contains(Row(TableId::users, carol), R"("headline":null)"));
  ExpectIndexesAgree();

  const std::vector<std::string> audit = AuditRows(AuditAction::SCHEMA_MIGRATED);
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_TRUE(Contains(audit[0], R"("version":2)")) << audit[0];
  EXPECT_TRUE(Contains(audit[0], R"("destructive":false)"));
  EXPECT_TRUE(Contains(audit[0], "add column users.headline"));
}

TEST_F(MigrationTest, DefaultsFillEveryExistingRow) {
  ApplyOk(
      "version 2\n"
      "add column users.karma int32 default 7\n"
      "add column users.beta bool default true\n"
      "add column users.tier enum(UserRole) default MODERATOR\n"
      "add column users.migrated_at timestamp default now\n"
      "add column users.motto string(40) default 'hello'\n");
  for (const Uuid& u : {alice_, bob_}) {
    const std::string row = Row(TableId::users, u);
    EXPECT_TRUE(Contains(row, R"("karma":7)"));
    EXPECT_TRUE(Contains(row, R"("beta":true)"));
    EXPECT_TRUE(Contains(row, R"("tier":"MODERATOR")"));
    EXPECT_TRUE(Contains(row, R"("migrated_at":"2026-11-01T00:01:00.000000Z")"));  // the migration's now
    EXPECT_TRUE(Contains(row, R"("motto":"hello")"));
  }
  const Uuid carol = Register("carol");
  EXPECT_TRUE(Contains(Row(TableId::users, carol), R"("karma":7)"));
  EXPECT_TRUE(Contains(Row(TableId::users, carol), R"("migrated_at":"2026-11-01T00:00:00.000000Z")"));
}

TEST_F(MigrationTest, BadColumnDefinitionsAreRefusedWithTheirLine) {
  const std::string before = DumpDb(db_);
  struct Case {
    const char* text;
    absl::StatusCode code;
    const char* message;
  } cases[] = {
      {"version 2\nadd column users.nickname string(20)", absl::StatusCode::kFailedPrecondition,
       "needs `null` or a `default`"},
      {"version 2\nadd column users.bio string(20) null", absl::StatusCode::kAlreadyExists,
       "users.bio already exists"},
      {"version 2\nadd column nobody.x int32 null", absl::StatusCode::kNotFound,
       "no table named 'nobody'"},
      {"version 2\nadd column users.x enum(Mood) null", absl::StatusCode::kNotFound,
       "no enum named 'Mood'"},
      {"version 2\nadd column users.x int32 default 'text'", absl::StatusCode::kInvalidArgument,
       "cannot default to text"},
      {"version 2\nadd column users.x string(3) default 'toolong'",
       absl::StatusCode::kInvalidArgument, "the default is 7 bytes"},
      {"version 2\nadd column users.x int32 default 9999999999", absl::StatusCode::kInvalidArgument,
       "outside"},
      {"version 2\nadd column users.x ref(rooms) default 'x'", absl::StatusCode::kInvalidArgument,
       "defaults to null only"},
      {"version 2\nadd colum users.x int32 null", absl::StatusCode::kInvalidArgument,
       "line 2: expected column"},
      {"add column users.x int32 null", absl::StatusCode::kInvalidArgument, "starts with 'version N'"},
      {"version 2\nadd column users.x strin(3) null", absl::StatusCode::kInvalidArgument,
       "line 2: expected a type"},
      {"version 2\nname 'unterminated\n", absl::StatusCode::kInvalidArgument,
       "line 2: unterminated string"},
  };
  for (const Case& c : cases) {
    auto r = Apply(c.text);
    EXPECT_EQ(r.status().code(), c.code) << c.text << ": " << r.status().message();
    EXPECT_TRUE(Contains(Msg(r.status()), c.message)) << c.text;
  }
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_EQ(db_.schema_version(), 1u);
  EXPECT_TRUE(AuditRows(AuditAction::SCHEMA_MIGRATED).empty());
}

TEST_F(MigrationTest, VersionsApplyInOrderAndOnce) {
  auto skip = Apply("version 3\nadd column users.x int32 null");
  EXPECT_EQ(skip.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(skip.status()), "apply version 2 first"));
  ApplyOk("version 2\nadd column users.x int32 null");
  auto again = Apply("version 2\nadd column users.x int32 null");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(again.status()), "already applied"));
  ApplyOk("version 3\nadd column users.y int32 null");
  EXPECT_EQ(db_.schema_version(), 3u);
}

TEST_F(MigrationTest, AFailingStepUndoesTheStepsBeforeIt) {
  const std::string before = DumpDb(db_);
  const std::string schema_before = DescribeSchema(db_);
  auto r = Apply(
      "version 2\n"
      "add table room_topics\n"
      "add column room_topics.name string(100) default ''\n"
      "add column users.headline string(100) null\n"
      "add enum value RoomStatus BANNED\n"
      "add index users_headline on users (headline)\n"  // strings are not ordered keys
  );
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(Msg(r.status()), "line 6"));
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_EQ(DescribeSchema(db_), schema_before);
  EXPECT_FALSE(db_.FindTable("room_topics").ok());
  EXPECT_FALSE(db_.ParseEnum(EnumId::RoomStatus, "BANNED").ok());
  EXPECT_EQ(db_.table_count(), kTableCount);
  // The same migration, fixed, applies.
  ApplyOk(
      "version 2\n"
      "add table room_topics\n"
      "add column room_topics.name string(100) default ''\n"
      "add column users.headline string(100) null\n"
      "add enum value RoomStatus BANNED\n"
      "add unique index users_headline on users (headline)\n");
  ExpectIndexesAgree();
}

TEST_F(MigrationTest, EnumValueIsStoredNamedAndParsed) {
  ApplyOk(
      "version 2\n"
      "name 'banned rooms'\n"
      "add enum value RoomStatus BANNED\n"
      "alter column rooms.status updatable\n");
  EXPECT_EQ(db_.enum_size(EnumId::RoomStatus), 5u);
  auto v = db_.ParseEnum(EnumId::RoomStatus, "BANNED");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 4);
  EXPECT_EQ(EnumName(EnumId::RoomStatus, *v), "BANNED");

  const RowId owner = UserRow(alice_);
  const RowId room = testing::AddRoom(db_, kT0, owner, "jazz-1", "Jazz", RoomStatus::LIVE,
                                      {rooms::is_public, true});
  const Uuid room_id = db_.table(TableId::rooms).id(room);
  const NamedValue ban[] = {{"status", "BANNED"}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(61), TableId::rooms, room_id, ban).ok());
  EXPECT_TRUE(Contains(Row(TableId::rooms, room_id), R"("status":"BANNED")"));
  // The operations treat it as what it is not: not LIVE, so nobody joins.
  auto join = JoinRoom(db_, Ctx(62), room_id, bob_);
  EXPECT_FALSE(join.ok());
  EXPECT_TRUE(Contains(Msg(join.status()), "BANNED")) << join.status().message();

  auto twice = Apply("version 3\nadd enum value RoomStatus BANNED");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kAlreadyExists);
  // A value past the known ones is refused, by number too.
  const NamedValue bad[] = {{"status", int64_t{5}}};
  EXPECT_EQ(UpdateRow(db_, Ctx(63), TableId::rooms, room_id, bad).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MigrationTest, AnUndoneEnumValueLeavesItsSlotToTheNextName) {
  // BANNED takes slot 4 of RoomStatus, then the migration fails and is undone;
  // the next migration puts ARCHIVED in the same slot. Display names follow,
  // and (under the sanitizers) the slot's old name is kept, not leaked.
  auto failed = Apply(
      "version 2\n"
      "add enum value RoomStatus BANNED\n"
      "add column nosuch.x int32 null\n");
  ASSERT_FALSE(failed.ok());
  EXPECT_FALSE(db_.ParseEnum(EnumId::RoomStatus, "BANNED").ok());
  ApplyOk("version 2\nadd enum value RoomStatus ARCHIVED\n");
  auto v = db_.ParseEnum(EnumId::RoomStatus, "ARCHIVED");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 4);
  EXPECT_EQ(EnumName(EnumId::RoomStatus, *v), "ARCHIVED");
  EXPECT_EQ(EnumValueName(EnumId::RoomStatus, 5), "#5");
}

TEST_F(MigrationTest, NewTableWithAReferenceAndItsIndex) {
  ApplyOk(
      "version 2\n"
      "name 'room topics'\n"
      "add table room_topics\n"
      "add column room_topics.name string(100) default ''\n"
      "add column rooms.topic_id ref(room_topics) null on delete set null\n"
      "add index rooms_topic on rooms (topic_id)\n");
  auto t = db_.FindTable("room_topics");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(static_cast<size_t>(*t), kTableCount);
  const NamedValue topic[] = {{"name", "Jazz"}};
  auto topic_id = InsertRow(db_, Ctx(61), *t, topic);
  ASSERT_TRUE(topic_id.ok()) << topic_id.status().message();
  EXPECT_TRUE(Contains(Row(*t, *topic_id), R"("name":"Jazz")"));
  EXPECT_TRUE(Contains(Row(*t, *topic_id), R"("created_at":"2026-11-01T00:01:01.000000Z")"));

  const RowId room = testing::AddRoom(db_, kT0, UserRow(alice_), "jazz-1", "Jazz",
                                      RoomStatus::LIVE, {rooms::is_public, true});
  const Uuid room_id = db_.table(TableId::rooms).id(room);
  EXPECT_TRUE(Contains(Row(TableId::rooms, room_id), R"("topic_id":null)"));
  const NamedValue set[] = {{"topic_id", *topic_id}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(62), TableId::rooms, room_id, set).ok());
  EXPECT_TRUE(Contains(Row(TableId::rooms, room_id), StrCat(R"("topic_id":")", FormatUuid(*topic_id))));
  const NamedValue dangling[] = {{"topic_id", Uuid{5, 5}}};
  EXPECT_EQ(UpdateRow(db_, Ctx(62), TableId::rooms, room_id, dangling).code(),
            absl::StatusCode::kNotFound);
  ExpectIndexesAgree();

  // The index finds the room by its topic.
  const Table& rooms = db_.table(TableId::rooms);
  const auto& ix = static_cast<const RangeIndex&>(rooms.index(rooms.index_count() - 1));
  EXPECT_EQ(ix.def().name, "rooms_topic");
  std::vector<RowId> found;
  ix.ScanPrefix({static_cast<int64_t>(db_.table(*t).FindById(*topic_id))}, [&](RowId r) {
    found.push_back(r);
    return true;
  });
  EXPECT_EQ(found, std::vector<RowId>{room});

  // Deleting the topic sets the room's topic to null (on delete set null).
  ASSERT_TRUE(DeleteRow(db_, Ctx(63), *t, *topic_id).ok());
  EXPECT_TRUE(Contains(Row(TableId::rooms, room_id), R"("topic_id":null)"));
  ExpectIndexesAgree();
}

TEST_F(MigrationTest, ReferencesWithoutAnIndexAreFoundByAScan) {
  ApplyOk(
      "version 2\n"
      "add table labels\n"
      "add column users.label_id ref(labels) null\n");  // restrict, no index
  const TableId labels = *db_.FindTable("labels");
  auto label = InsertRow(db_, Ctx(61), labels, {});
  ASSERT_TRUE(label.ok()) << label.status().message();
  const NamedValue set[] = {{"label_id", *label}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(62), TableId::users, bob_, set).ok());
  const absl::Status refused = DeleteRow(db_, Ctx(63), labels, *label);
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(refused), "users rows refer to it"));
}

TEST_F(MigrationTest, DestructiveStepsNeedConfirmationAndAreAudited) {
  ApplyOk(
      "version 2\n"
      "add column users.headline string(100) null\n"
      "add table scratch\n");
  const NamedValue set[] = {{"headline", "hi"}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(61), TableId::users, alice_, set).ok());
  const std::string before = DumpDb(db_);

  const char* drop = "version 3\ndrop column users.headline\ndrop table scratch\n";
  auto refused = Apply(drop);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(refused.status()), "would lose data"));
  EXPECT_TRUE(Contains(Msg(refused.status()), "--confirm-destructive"));
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_EQ(db_.schema_version(), 2u);

  auto done = Apply(drop, /*confirm=*/true);
  ASSERT_TRUE(done.ok()) << done.status().message();
  EXPECT_TRUE(done->destructive);
  EXPECT_TRUE(Contains(done->changes[0], "1 non-null value dropped"));
  EXPECT_FALSE(db_.FindColumn(TableId::users, "headline").ok());
  EXPECT_FALSE(db_.FindTable("scratch").ok());
  EXPECT_FALSE(Contains(Row(TableId::users, alice_), "headline"));
  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("username":"alice")"));
  const std::vector<std::string> audit = AuditRows(AuditAction::SCHEMA_MIGRATED);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_TRUE(Contains(audit[1], R"("destructive":true)"));
  EXPECT_TRUE(Contains(audit[1], "drop column users.headline"));
  ExpectIndexesAgree();
}

TEST_F(MigrationTest, BuiltInObjectsStay) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"version 2\ndrop column users.bio", "built in"},
      {"version 2\ndrop table users", "built in"},
      {"version 2\ndrop index users_email", "built in"},
      {"version 2\nwiden column users.failed_login_count int64", "built in"},
      {"version 2\nalter column users.created_at updatable", "kept by the engine"},
      {"version 2\nrename column users.id to uid", "primary key"},
  };
  for (const Case& c : cases) {
    auto r = Apply(c.text, /*confirm=*/true);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << c.text;
    EXPECT_TRUE(Contains(Msg(r.status()), c.message)) << c.text;
  }
  EXPECT_EQ(db_.schema_version(), 1u);
}

TEST_F(MigrationTest, RenameWidenAndNarrow) {
  ApplyOk(
      "version 2\n"
      "add column users.score int32 default 5\n"
      "add column users.motto string(10) null\n"
      "rename column users.display_name to shown_name\n");
  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("shown_name":"alice")"));
  EXPECT_FALSE(Contains(Row(TableId::users, alice_), "display_name"));
  const NamedValue renamed[] = {{"shown_name", "Alice A."}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(61), TableId::users, alice_, renamed).ok());
  const NamedValue old_name[] = {{"display_name", "x"}};
  EXPECT_EQ(UpdateRow(db_, Ctx(61), TableId::users, alice_, old_name).code(),
            absl::StatusCode::kInvalidArgument);
  // The operations keep working: they address columns by position.
  EXPECT_TRUE(UpdateProfile(db_, Ctx(62), alice_, {.display_name = "Alice"}).ok());
  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("shown_name":"Alice")"));

  const NamedValue motto[] = {{"motto", "0123456789"}, {"score", int64_t{2000000000}}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(63), TableId::users, bob_, motto).ok());
  ApplyOk(
      "version 3\n"
      "widen column users.score int64\n"
      "widen column users.motto string(20)\n");
  EXPECT_TRUE(Contains(Row(TableId::users, bob_), R"("score":2000000000)"));
  EXPECT_TRUE(Contains(Row(TableId::users, alice_), R"("score":5)"));
  const NamedValue big[] = {{"score", int64_t{9000000000}}, {"motto", "01234567890123456789"}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(64), TableId::users, bob_, big).ok());
  EXPECT_TRUE(Contains(Row(TableId::users, bob_), R"("score":9000000000)"));

  // Narrowing never truncates: refused while a value would not fit.
  auto refused = Apply("version 4\nnarrow column users.motto string(10)", true);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(refused.status()), "1 row holds more than 10 bytes"));
  auto refused_int = Apply("version 4\nnarrow column users.score int32", true);
  EXPECT_EQ(refused_int.status().code(), absl::StatusCode::kFailedPrecondition);
  const NamedValue fits[] = {{"score", int64_t{1}}, {"motto", "short"}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(65), TableId::users, bob_, fits).ok());
  ApplyOk("version 4\nnarrow column users.score int32\nnarrow column users.motto string(10)", true);
  const NamedValue over[] = {{"motto", "01234567890"}};
  EXPECT_EQ(UpdateRow(db_, Ctx(66), TableId::users, bob_, over).code(),
            absl::StatusCode::kInvalidArgument);
  auto not_wider = Apply("version 5\nwiden column users.motto string(5)");
  EXPECT_EQ(not_wider.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(MigrationTest, UniqueIndexOverDuplicatesIsRefused) {
  ApplyOk("version 2\nadd column users.team string(20) default 'red'\n");
  auto r = Apply("version 3\nadd unique index users_team on users (team)");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(Msg(r.status()), "a row with team 'red' already exists"));
  EXPECT_EQ(db_.schema_version(), 2u);
  const NamedValue blue[] = {{"team", "blue"}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(61), TableId::users, bob_, blue).ok());
  ApplyOk("version 3\nadd unique index users_team on users (team)");
  const NamedValue clash[] = {{"team", "red"}};
  EXPECT_EQ(UpdateRow(db_, Ctx(62), TableId::users, bob_, clash).code(),
            absl::StatusCode::kAlreadyExists);
  // An index a migration added can be dropped; then the clash is allowed.
  ApplyOk("version 4\ndrop index users_team");
  EXPECT_TRUE(UpdateRow(db_, Ctx(63), TableId::users, bob_, clash).ok());
  ExpectIndexesAgree();
}

TEST_F(MigrationTest, DroppingAColumnRenumbersTheAddedIndexesAfterIt) {
  ApplyOk(
      "version 2\n"
      "add column users.a int32 default 1\n"
      "add column users.b int64 default 0\n"
      "add index users_b on users (b)\n");
  const NamedValue b[] = {{"b", int64_t{42}}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(61), TableId::users, bob_, b).ok());
  ApplyOk("version 3\ndrop column users.a", true);
  ExpectIndexesAgree();
  EXPECT_TRUE(Contains(Row(TableId::users, bob_), R"("b":42)"));
  const NamedValue b2[] = {{"b", int64_t{43}}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(62), TableId::users, bob_, b2).ok());
  ExpectIndexesAgree();
  auto used = Apply("version 4\ndrop column users.b", true);
  EXPECT_EQ(used.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(used.status()), "drop it first"));
}

TEST_F(MigrationTest, DryRunDescribesAndChangesNothing) {
  const std::string before = DumpDb(db_);
  auto r = ApplyMigration(db_, Ctx(60),
                          "version 2\nadd column users.headline string(10) null\n"
                          "drop column users.headline\n",
                          {.dry_run = true});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->applied);
  EXPECT_TRUE(r->destructive);
  ASSERT_EQ(r->changes.size(), 2u);
  EXPECT_TRUE(Contains(r->changes[1], "drop column users.headline: 0 non-null values dropped"));
  EXPECT_EQ(DumpDb(db_), before);
  EXPECT_EQ(db_.schema_version(), 1u);
  EXPECT_FALSE(db_.FindColumn(TableId::users, "headline").ok());
}

TEST_F(MigrationTest, ReplayRebuildsTheSameSchema) {
  ApplyOk(
      "version 2\n"
      "add table room_topics\n"
      "add column room_topics.name string(100) default ''\n"
      "add column rooms.topic_id ref(room_topics) null on delete set null\n"
      "add index rooms_topic on rooms (topic_id)\n"
      "add enum value RoomStatus BANNED\n");
  ApplyOk("version 3\nrename column room_topics.name to title\nadd column users.k int32 default 3");
  Database replica({.id_seed = 9});
  for (const std::string& text : db_.schema_history()) {
    ASSERT_TRUE(ReplayMigration(replica, text, kT0).ok());
  }
  EXPECT_EQ(replica.schema_version(), 3u);
  // The same tables, columns, indexes and enum values (row counts aside).
  auto shape = [](const Database& d) {
    std::string s = DescribeSchema(d);
    std::string out;
    for (size_t at = 0; at < s.size();) {
      size_t end = s.find('\n', at);
      std::string line = s.substr(at, end - at);
      if (line.rfind("table ", 0) == 0) line = line.substr(0, line.find("  ("));
      out += line + "\n";
      at = end + 1;
    }
    return out;
  };
  EXPECT_EQ(shape(replica), shape(db_));
  // A recorded migration that does not fit is data loss, not a silent skip.
  EXPECT_EQ(ReplayMigration(replica, "version 4\ndrop table nothing_here", kT0).code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(MigrationTest, NotInsideABatch) {
  auto r = Transact(db_, kT0, [&](Txn&) -> absl::StatusOr<MigrationResult> {
    return Apply("version 2\nadd column users.x int32 null");
  });
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(Msg(r.status()), "not in a batch"));
}

}  // namespace
}  // namespace vox
