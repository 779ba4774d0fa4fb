#include "engine/ops/moderation.h"

#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::LiveCounts;

class ModerationTest : public testing::EngineTest {
 protected:
  ModerationTest() {
    mod_ = Register("mod");
    host_ = Register("host");
    user_ = Register("user");
    GrantRole(mod_, UserRole::MODERATOR);
    auto r = CreateAndOpenRoom(db_, Ctx(), {.owner_id = host_, .title = "room"});
    EXPECT_TRUE(r.ok());
    room_ = r->room_id;
    EXPECT_TRUE(JoinRoom(db_, Ctx(), room_, user_).ok());
  }
  AccountStatus StatusOf(const Uuid& u) {
    return db_.table(TableId::users).GetEnum<AccountStatus>(UserRow(u), users::account_status);
  }
  RowId RoomRow() { return db_.table(TableId::rooms).FindById(room_); }
  bool Present(const Uuid& u) {
    std::vector<RowId> rows;
    UserPresentRooms(db_, UserRow(u), &rows);
    return !rows.empty();
  }
  Uuid mod_, host_, user_, room_;
};

TEST_F(ModerationTest, SuspensionRemovesFromRoomsAndExpires) {
  auto id = TakeModerationAction(db_, Ctx(10),
                                 {.moderator_id = mod_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::SUSPENSION,
                                  .reason = "spam",
                                  .expires_at = Ctx(3600).now});
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(StatusOf(user_), AccountStatus::SUSPENDED);
  EXPECT_FALSE(Present(user_));
  EXPECT_EQ(JoinRoom(db_, Ctx(20), room_, user_).status().code(),
            absl::StatusCode::kPermissionDenied);
  // Not yet due.
  auto none = LiftExpiredRestrictions(db_, Ctx(3599));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, 0);
  auto lifted = LiftExpiredRestrictions(db_, Ctx(3600));
  ASSERT_TRUE(lifted.ok());
  EXPECT_GE(*lifted, 1);
  EXPECT_EQ(StatusOf(user_), AccountStatus::ACTIVE);
  const Table& mods = db_.table(TableId::moderation_actions);
  EXPECT_FALSE(mods.IsNull(mods.FindById(*id), moderation_actions::lifted_at));
  EXPECT_EQ(RevokeModerationAction(db_, Ctx(4000), *id, mod_, "late").code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

TEST_F(ModerationTest, RoomBanAndItsRevocation) {
  auto id = TakeModerationAction(db_, Ctx(10),
                                 {.moderator_id = mod_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::ROOM_BAN,
                                  .room_id = room_,
                                  .reason = "abuse"});
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_TRUE(IsBanned(db_, RoomRow(), UserRow(user_)));
  EXPECT_FALSE(Present(user_));
  ASSERT_TRUE(RevokeModerationAction(db_, Ctx(20), *id, mod_, "appeal granted").ok());
  EXPECT_FALSE(IsBanned(db_, RoomRow(), UserRow(user_)));
  EXPECT_EQ(RevokeModerationAction(db_, Ctx(21), *id, mod_, "again").code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(JoinRoom(db_, Ctx(22), room_, user_).ok());
}

TEST_F(ModerationTest, HostsModerateOnlyInTheirRoom) {
  // A host may mute in their room, with an expiry that maintenance lifts.
  auto mute = TakeModerationAction(db_, Ctx(10),
                                   {.moderator_id = host_,
                                    .target_user_id = user_,
                                    .type = ModerationActionType::MUTE,
                                    .room_id = room_,
                                    .reason = "noise",
                                    .expires_at = Ctx(60).now});
  ASSERT_TRUE(mute.ok()) << mute.status().message();
  std::vector<ParticipantState> present;
  PresentParticipants(db_, RoomRow(), &present);
  ASSERT_EQ(present.size(), 2u);
  EXPECT_TRUE(present[1].muted);
  ASSERT_TRUE(LiftExpiredRestrictions(db_, Ctx(61)).ok());
  PresentParticipants(db_, RoomRow(), &present);
  EXPECT_FALSE(present[1].muted);
  // But not suspend accounts, nor act on a moderator.
  EXPECT_EQ(TakeModerationAction(db_, Ctx(70),
                                 {.moderator_id = host_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::SUSPENSION,
                                  .reason = "x"})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(70),
                                 {.moderator_id = user_,
                                  .target_user_id = host_,
                                  .type = ModerationActionType::KICK,
                                  .room_id = room_,
                                  .reason = "x"})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(70),
                                 {.moderator_id = host_,
                                  .target_user_id = mod_,
                                  .type = ModerationActionType::WARNING,
                                  .reason = "x"})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(ModerationTest, BadRequestsChangeNothing) {
  const auto before = LiveCounts(db_);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(),
                                 {.moderator_id = mod_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::KICK,
                                  .reason = "no room"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(),
                                 {.moderator_id = mod_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::WARNING,
                                  .reason = ""})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(10),
                                 {.moderator_id = mod_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::ROOM_BAN,
                                  .room_id = room_,
                                  .reason = "x",
                                  .expires_at = Ctx(5).now})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(),
                                 {.moderator_id = mod_,
                                  .target_user_id = mod_,
                                  .type = ModerationActionType::WARNING,
                                  .reason = "me"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TakeModerationAction(db_, Ctx(),
                                 {.moderator_id = mod_,
                                  .target_user_id = Uuid{9, 9},
                                  .type = ModerationActionType::WARNING,
                                  .reason = "x"})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(LiveCounts(db_), before);
}

TEST_F(ModerationTest, WarningNotifiesAndAudits) {
  auto id = TakeModerationAction(db_, Ctx(5),
                                 {.moderator_id = mod_,
                                  .target_user_id = user_,
                                  .type = ModerationActionType::WARNING,
                                  .reason = "be nice"});
  ASSERT_TRUE(id.ok());
  const Table& notes = db_.table(TableId::notifications);
  ASSERT_EQ(notes.live_count(), 1u);
  EXPECT_EQ(notes.GetEnum<NotificationKind>(0, notifications::kind),
            NotificationKind::MODERATION_NOTICE);
  EXPECT_EQ(notes.GetRef(0, notifications::recipient_id), UserRow(user_));
  std::vector<RowId> trail;
  UserAuditTrail(db_, UserRow(mod_), 10, std::nullopt, &trail);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(db_.table(TableId::audit_logs).GetEnum<AuditAction>(trail[0], audit_logs::action),
            AuditAction::MODERATION_ACTION_TAKEN);
}

}  // namespace
}  // namespace vox
