#include "engine/ops/generic.h"

#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::LiveCounts;

class GenericTest : public testing::EngineTest {
 protected:
  GenericTest() { alice_ = Register("alice"); }
  Uuid alice_;
};

TEST_F(GenericTest, RowJsonHidesSecretsUnlessAsked) {
  const RowId u = UserRow(alice_);
  const std::string json = RowToJson(db_, TableId::users, u);
  EXPECT_NE(json.find(R"("username":"alice")"), std::string::npos);
  EXPECT_NE(json.find(R"("created_at":"2026-11-01T00:00:00.000000Z")"), std::string::npos);
  EXPECT_NE(json.find(R"("account_status":"ACTIVE")"), std::string::npos);
  EXPECT_EQ(json.find("password_hash"), std::string::npos);
  EXPECT_EQ(json.find("argon2"), std::string::npos);
  EXPECT_NE(RowToJson(db_, TableId::users, u, true).find("argon2"), std::string::npos);
  EXPECT_TRUE(ValidateJson(json).ok());
}

TEST_F(GenericTest, InsertValidatesAndResolvesReferences) {
  const NamedValue wallet[] = {{"user_id", alice_}, {"currency", "GEM"}};
  auto w = InsertRow(db_, Ctx(), TableId::wallets, wallet);
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(InsertRow(db_, Ctx(), TableId::wallets, wallet).status().code(),
            absl::StatusCode::kAlreadyExists);  // one wallet per user and currency
  const NamedValue bad_ref[] = {{"user_id", Uuid{1, 1}}};
  EXPECT_EQ(InsertRow(db_, Ctx(), TableId::wallets, bad_ref).status().code(),
            absl::StatusCode::kNotFound);
  const NamedValue managed[] = {{"user_id", alice_}, {"posted_credits", int64_t{1000}}};
  EXPECT_EQ(InsertRow(db_, Ctx(), TableId::wallets, managed).status().code(),
            absl::StatusCode::kInvalidArgument);
  const NamedValue unknown[] = {{"nope", 1}};
  EXPECT_EQ(InsertRow(db_, Ctx(), TableId::wallets, unknown).status().code(),
            absl::StatusCode::kInvalidArgument);
  const NamedValue event[] = {{"severity", "ERROR"},
                              {"component", "sfu"},
                              {"code", "E42"},
                              {"message", "worker crashed"},
                              {"details", R"({"pid":7})"},
                              {"occurred_at", "2026-11-01T10:00:00Z"}};
  auto e = InsertRow(db_, Ctx(), TableId::system_events, event);
  ASSERT_TRUE(e.ok()) << e.status().message();
  const NamedValue bad_enum[] = {
      {"severity", "LOUD"}, {"component", "x"}, {"code", "x"}, {"message", "x"}};
  auto be = InsertRow(db_, Ctx(), TableId::system_events, bad_enum);
  EXPECT_EQ(be.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ToStd(be.status().message()).find("DEBUG, INFO"), std::string::npos);
  const NamedValue missing[] = {{"severity", "INFO"}};
  EXPECT_EQ(InsertRow(db_, Ctx(), TableId::system_events, missing).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(GenericTest, TablesWithCrossRowInvariantsPointToTheirOperation) {
  const NamedValue any[] = {{"title", "x"}};
  for (TableId t : {TableId::users, TableId::rooms, TableId::room_participants,
                    TableId::transactions, TableId::recordings}) {
    auto r = InsertRow(db_, Ctx(), t, any);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << GetTable(t).name;
  }
}

TEST_F(GenericTest, AuditLogsCanNeverBeChangedOrDeleted) {
  const Table& audit = db_.table(TableId::audit_logs);
  ASSERT_GT(audit.live_count(), 0u);
  const Uuid id = audit.id(0);
  const NamedValue change[] = {{"action", "USER_LOGOUT"}};
  EXPECT_EQ(UpdateRow(db_, Ctx(), TableId::audit_logs, id, change).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(DeleteRow(db_, Ctx(), TableId::audit_logs, id).code(),
            absl::StatusCode::kFailedPrecondition);
  // Appending is allowed: application servers report their own events.
  const NamedValue event[] = {
      {"action", "RATE_LIMIT_EXCEEDED"}, {"user_id", alice_}, {"ip_address", "10.1.2.3"}};
  ASSERT_TRUE(InsertRow(db_, Ctx(), TableId::audit_logs, event).ok());
  EXPECT_EQ(audit.GetEnum<AuditAction>(0, audit_logs::action), AuditAction::USER_REGISTERED);
}

TEST_F(GenericTest, UpdateOnlyTouchesUpdatableColumns) {
  const NamedValue ok[] = {{"bio", "hello"}, {"is_verified", true}};
  ASSERT_TRUE(UpdateRow(db_, Ctx(9), TableId::users, alice_, ok).ok());
  const Table& users = db_.table(TableId::users);
  EXPECT_EQ(users.GetString(UserRow(alice_), users::bio), "hello");
  EXPECT_EQ(users.GetTime(UserRow(alice_), users::updated_at), Ctx(9).now);
  const NamedValue managed[] = {{"role", "ADMIN"}};
  EXPECT_EQ(UpdateRow(db_, Ctx(), TableId::users, alice_, managed).code(),
            absl::StatusCode::kInvalidArgument);
  const NamedValue too_long[] = {{"bio", std::string(1001, 'x')}};
  EXPECT_EQ(UpdateRow(db_, Ctx(), TableId::users, alice_, too_long).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(users.GetString(UserRow(alice_), users::bio), "hello");
  EXPECT_EQ(UpdateRow(db_, Ctx(), TableId::users, Uuid{5, 5}, ok).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(GenericTest, DeletesFollowEachTablesPolicy) {
  const Uuid bob = Register("bob");
  auto room = CreateAndOpenRoom(db_, Ctx(), {.owner_id = alice_, .title = "r"});
  ASSERT_TRUE(room.ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room->room_id, bob).ok());
  // Hard delete of a participation, cascading to its call sessions.
  std::vector<RowId> present;
  UserPresentRooms(db_, UserRow(bob), &present);
  ASSERT_EQ(present.size(), 1u);
  const Uuid participation = db_.table(TableId::room_participants).id(present[0]);
  {
    Txn txn(db_, Ctx(2).now);
    txn.Insert(TableId::call_sessions,
               {{call_sessions::participant_id, present[0]},
                {call_sessions::user_id, UserRow(bob)},
                {call_sessions::room_id, db_.table(TableId::rooms).FindById(room->room_id)}});
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }
  const RowId r = db_.table(TableId::rooms).FindById(room->room_id);
  ASSERT_EQ(db_.table(TableId::rooms).GetInt(r, rooms::participant_count), 2);
  ASSERT_TRUE(DeleteRow(db_, Ctx(3), TableId::room_participants, participation).ok());
  EXPECT_EQ(db_.table(TableId::call_sessions).live_count(), 0u);
  // Found by fuzz_frame: a present participant's delete left the room
  // counting them.
  EXPECT_EQ(db_.table(TableId::rooms).GetInt(r, rooms::participant_count), 1);
  // Soft delete of a room ends it; of a user runs the seed flow.
  ASSERT_TRUE(DeleteRow(db_, Ctx(4), TableId::rooms, room->room_id).ok());
  EXPECT_EQ(DeleteRow(db_, Ctx(5), TableId::rooms, room->room_id).code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(DeleteRow(db_, Ctx(6), TableId::users, bob).ok());
  EXPECT_EQ(db_.table(TableId::users).GetString(UserRow(bob), users::display_name), "Deleted User");
  // Categories: hard delete sets rooms' references to null.
  const NamedValue cat[] = {{"name", "Music"}};
  auto c = InsertRow(db_, Ctx(), TableId::room_categories, cat);
  ASSERT_TRUE(c.ok());
  auto r2 =
      CreateRoom(db_, Ctx(7), {.owner_id = alice_, .title = "r2", .settings = {.category_id = *c}});
  ASSERT_TRUE(r2.ok()) << r2.status().message();
  ASSERT_TRUE(DeleteRow(db_, Ctx(8), TableId::room_categories, *c).ok());
  EXPECT_TRUE(db_.table(TableId::rooms)
                  .IsNull(db_.table(TableId::rooms).FindById(r2->room_id), rooms::category_id));
  EXPECT_EQ(DeleteRow(db_, Ctx(), TableId::wallets, db_.table(TableId::wallets).id(0)).code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

}  // namespace
}  // namespace vox
