// The platform's authorization rules, enforced by the engine whoever calls
// it (issue 7, "Authorization, in the engine"):
//
//   1. only a room's host or co-hosts mute others, kick or ban in it
//      (platform MODERATOR+ acts in any room as a host would);
//   2. only moderators and above take platform moderation actions;
//   3. only admins change platform roles;
//   4. no one acts above their own rank: no role granted at or above one's
//      own, no action on an equal or higher platform role;
//   5. a suspended, banned or deleted account cannot join rooms (nor accept
//      or be sent invitations, nor start a call), create rooms or move money;
//   6. the acting user (for moderation, the moderator or administrator) is
//      the audit row's user_id, with the target user and room.
//
// Every refusal is checked for its code and for changing nothing (the whole
// database is compared before and after); every rule has its allowed case.
#include <functional>
#include <tuple>

#include "engine/ops/identity.h"
#include "engine/ops/ledger.h"
#include "engine/ops/media.h"
#include "engine/ops/moderation.h"
#include "engine/ops/notifications.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::Contains;
using testing::DumpDb;

absl::Status ToStatus(const absl::Status& s) { return s; }
template <typename T>
absl::Status ToStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

class AuthorizationTest : public testing::EngineTest {
 protected:
  AuthorizationTest() {
    super_ = Register("super");
    admin_ = Register("admin");
    admin2_ = Register("admin2");
    mod_ = Register("mod");
    mod2_ = Register("mod2");
    host_ = Register("host");
    cohost_ = Register("cohost");
    alice_ = Register("alice");
    bob_ = Register("bob");
    dave_ = Register("dave");
    GrantRole(super_, UserRole::SUPER_ADMIN);
    GrantRole(admin_, UserRole::ADMIN);
    GrantRole(admin2_, UserRole::ADMIN);
    GrantRole(mod_, UserRole::MODERATOR);
    GrantRole(mod2_, UserRole::MODERATOR);
    // host's LIVE room: cohost (CO_HOST), alice, bob and mod2 (a platform
    // moderator, here as a plain participant) present.
    room_ = Open(host_, "main-room");
    for (const Uuid& u : {cohost_, alice_, bob_, mod2_}) {
      auto joined = JoinRoom(db_, Ctx(1), room_, u);
      EXPECT_TRUE(joined.ok()) << joined.status().message();
    }
    EXPECT_TRUE(
        ChangeParticipantRole(db_, Ctx(2), room_, host_, cohost_, ParticipantRole::CO_HOST).ok());
    // dave hosts a room of his own: a host, but not of room_.
    Open(dave_, "dave-room");
  }

  Uuid Open(const Uuid& owner, std::string_view code) {
    auto r = CreateAndOpenRoom(db_, Ctx(1), {.owner_id = owner, .room_code = code, .title = "t"});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->room_id : Uuid{};
  }

  RowId RoomRow(const Uuid& id) { return db_.table(TableId::rooms).FindById(id); }
  const Table& parts() { return db_.table(TableId::room_participants); }
  const Table& audit() { return db_.table(TableId::audit_logs); }
  UserRole RoleOf(const Uuid& u) {
    return db_.table(TableId::users).GetEnum<UserRole>(UserRow(u), users::role);
  }
  AccountStatus StatusOf(const Uuid& u) {
    return db_.table(TableId::users).GetEnum<AccountStatus>(UserRow(u), users::account_status);
  }
  // `user`'s present participation in `room`, or kNoRow.
  RowId Present(const Uuid& room, const Uuid& user) {
    std::vector<RowId> rows;
    UserPresentRooms(db_, UserRow(user), &rows);
    for (RowId p : rows) {
      if (parts().GetRef(p, room_participants::room_id) == RoomRow(room)) return p;
    }
    return kNoRow;
  }

  // Runs `op`, expects it refused with `code` and `part` in the message, and
  // the database exactly as it was.
  template <typename F>
  void ExpectRefused(F&& op, absl::StatusCode code, std::string_view part = {}) {
    const std::string before = DumpDb(db_);
    const absl::Status s = ToStatus(op());
    EXPECT_EQ(s.code(), code) << s.message();
    EXPECT_TRUE(Contains(std::string(s.message()), part));
    EXPECT_EQ(DumpDb(db_), before) << "a refused operation changed the database";
  }
  template <typename F>
  void ExpectAllowed(F&& op) {
    const absl::Status s = ToStatus(op());
    EXPECT_TRUE(s.ok()) << s.message();
  }

  // The audit log is append-only: rows from `mark` on are the newer ones.
  RowId AuditMark() { return static_cast<RowId>(audit().row_count()); }
  // Expects exactly one audit row since `mark` of `action`, and that it
  // names `actor` as its user, with `room` and `target` (kNoRow: null).
  void ExpectAudited(RowId mark, AuditAction action, RowId actor, RowId room, RowId target) {
    int found = 0;
    for (RowId r = mark; r < audit().row_count(); ++r) {
      if (audit().GetEnum<AuditAction>(r, audit_logs::action) != action) continue;
      ++found;
      EXPECT_EQ(audit().GetRef(r, audit_logs::user_id), actor)
          << EnumName(EnumId::AuditAction, action) << ": not the acting user";
      EXPECT_EQ(audit().GetRef(r, audit_logs::room_id), room)
          << EnumName(EnumId::AuditAction, action);
      EXPECT_EQ(audit().GetRef(r, audit_logs::target_user_id), target)
          << EnumName(EnumId::AuditAction, action);
    }
    EXPECT_EQ(found, 1) << EnumName(EnumId::AuditAction, action) << " rows since the mark";
  }

  Uuid super_, admin_, admin2_, mod_, mod2_, host_, cohost_, alice_, bob_, dave_, room_;
};

// ---- 1. Only a room's hosts (or platform moderators) mute, kick or ban --------

enum class RoomAction { kMute, kKick, kBan, kModerationMute, kModerationKick, kModerationBan };
enum class Actor { kParticipant, kHostOfAnotherRoom, kCoHost, kHost, kPlatformModerator };

std::string ActionName(RoomAction a) {
  constexpr const char* kNames[] = {"Mute",           "Kick",           "Ban",
                                    "ModerationMute", "ModerationKick", "ModerationBan"};
  return kNames[static_cast<int>(a)];
}
std::string ActorName(Actor a) {
  constexpr const char* kNames[] = {"Participant", "HostOfAnotherRoom", "CoHost", "Host",
                                    "PlatformModerator"};
  return kNames[static_cast<int>(a)];
}

class RoomAuthorityTest : public AuthorizationTest,
                          public ::testing::WithParamInterface<std::tuple<RoomAction, Actor>> {
 protected:
  Uuid ActorId(Actor a) {
    switch (a) {
      case Actor::kParticipant:
        return alice_;
      case Actor::kHostOfAnotherRoom:
        return dave_;
      case Actor::kCoHost:
        return cohost_;
      case Actor::kHost:
        return host_;
      case Actor::kPlatformModerator:
        return mod_;  // not present in the room
    }
    return Uuid{};
  }
  // `action` by `actor` on bob in room_.
  absl::Status Act(RoomAction action, const Uuid& actor) {
    auto moderate = [&](ModerationActionType type) {
      return TakeModerationAction(db_, Ctx(10),
                                  {.moderator_id = actor,
                                   .target_user_id = bob_,
                                   .type = type,
                                   .room_id = room_,
                                   .reason = "noise"})
          .status();
    };
    switch (action) {
      case RoomAction::kMute:
        return SetMuted(db_, Ctx(10), room_, actor, bob_, true);
      case RoomAction::kKick:
        return KickParticipant(db_, Ctx(10), room_, actor, bob_, "noise");
      case RoomAction::kBan:
        return BanFromRoom(db_, Ctx(10), room_, actor, bob_, "noise");
      case RoomAction::kModerationMute:
        return moderate(ModerationActionType::MUTE);
      case RoomAction::kModerationKick:
        return moderate(ModerationActionType::KICK);
      case RoomAction::kModerationBan:
        return moderate(ModerationActionType::ROOM_BAN);
    }
    return absl::InternalError("unknown action");
  }
};

TEST_P(RoomAuthorityTest, OnlyHostsCoHostsAndModeratorsActOnOthers) {
  const auto [action, who] = GetParam();
  const Uuid actor = ActorId(who);
  const bool allowed =
      who == Actor::kCoHost || who == Actor::kHost || who == Actor::kPlatformModerator;
  if (!allowed) {
    ExpectRefused([&] { return Act(action, actor); }, absl::StatusCode::kPermissionDenied);
    EXPECT_NE(Present(room_, bob_), kNoRow);
    return;
  }
  const RowId mark = AuditMark();
  const RowId bob_part = Present(room_, bob_);
  ASSERT_TRUE(Act(action, actor).ok());
  const RowId room = RoomRow(room_), actor_row = UserRow(actor), bob = UserRow(bob_);
  switch (action) {
    case RoomAction::kMute:
    case RoomAction::kModerationMute:
      EXPECT_TRUE(parts().GetBool(bob_part, room_participants::is_muted));
      EXPECT_TRUE(parts().GetBool(bob_part, room_participants::muted_by_host));
      ExpectAudited(mark, AuditAction::USER_MUTED, actor_row, room, bob);
      break;
    case RoomAction::kKick:
    case RoomAction::kModerationKick:
      EXPECT_EQ(Present(room_, bob_), kNoRow);
      EXPECT_EQ(parts().GetRef(bob_part, room_participants::kicked_by), actor_row);
      ExpectAudited(mark, AuditAction::USER_KICKED, actor_row, room, bob);
      break;
    case RoomAction::kBan:
    case RoomAction::kModerationBan:
      EXPECT_EQ(Present(room_, bob_), kNoRow);
      EXPECT_TRUE(IsBanned(db_, room, bob));
      EXPECT_EQ(JoinRoom(db_, Ctx(11), room_, bob_).status().code(),
                absl::StatusCode::kPermissionDenied);
      ExpectAudited(mark, AuditAction::USER_BANNED, actor_row, room, bob);
      break;
  }
  if (action >= RoomAction::kModerationMute) {
    // The moderation action names its moderator, and so does its audit row.
    ExpectAudited(mark, AuditAction::MODERATION_ACTION_TAKEN, actor_row, room, bob);
    const Table& mods = db_.table(TableId::moderation_actions);
    ASSERT_EQ(mods.live_count(), 1u);
    EXPECT_EQ(mods.GetRef(0, moderation_actions::moderator_id), actor_row);
  }
  ExpectIndexesAgree();
}

INSTANTIATE_TEST_SUITE_P(
    All, RoomAuthorityTest,
    ::testing::Combine(::testing::Values(RoomAction::kMute, RoomAction::kKick, RoomAction::kBan,
                                         RoomAction::kModerationMute, RoomAction::kModerationKick,
                                         RoomAction::kModerationBan),
                       ::testing::Values(Actor::kParticipant, Actor::kHostOfAnotherRoom,
                                         Actor::kCoHost, Actor::kHost, Actor::kPlatformModerator)),
    [](const ::testing::TestParamInfo<std::tuple<RoomAction, Actor>>& info) {
      return ActionName(std::get<0>(info.param)) + "By" + ActorName(std::get<1>(info.param));
    });

TEST_F(AuthorizationTest, MuteAllIsForHostsOnly) {
  ExpectRefused([&] { return MuteAll(db_, Ctx(10), room_, alice_); },
                absl::StatusCode::kPermissionDenied, "is not a host of");
  ExpectRefused([&] { return MuteAll(db_, Ctx(10), room_, dave_); },
                absl::StatusCode::kPermissionDenied, "is not a host of");
  const RowId mark = AuditMark();
  auto muted = MuteAll(db_, Ctx(11), room_, cohost_);
  ASSERT_TRUE(muted.ok()) << muted.status().message();
  // alice and bob; not the host (above a co-host), nor mod2 (a platform
  // moderator: above a plain user, whatever their role in the room).
  EXPECT_EQ(*muted, 2);
  EXPECT_TRUE(parts().GetBool(Present(room_, alice_), room_participants::is_muted));
  EXPECT_FALSE(parts().GetBool(Present(room_, host_), room_participants::is_muted));
  EXPECT_FALSE(parts().GetBool(Present(room_, mod2_), room_participants::is_muted));
  ExpectAudited(mark, AuditAction::ALL_MUTED, UserRow(cohost_), RoomRow(room_), kNoRow);
}

// ---- 2. Only moderators and above take moderation actions ---------------------

TEST_F(AuthorizationTest, OnlyModeratorsTakePlatformModerationActions) {
  for (ModerationActionType type : {ModerationActionType::WARNING, ModerationActionType::SUSPENSION,
                                    ModerationActionType::PLATFORM_BAN}) {
    SCOPED_TRACE(EnumName(EnumId::ModerationActionType, type));
    // A plain user, even the host of a room, cannot; nor can a room's host
    // warn within the room (a platform action).
    for (const Uuid& actor : {alice_, host_}) {
      ExpectRefused(
          [&] {
            return TakeModerationAction(
                db_, Ctx(10),
                {.moderator_id = actor, .target_user_id = bob_, .type = type, .reason = "spam"});
          },
          absl::StatusCode::kPermissionDenied, "is not a moderator");
    }
  }
  ExpectRefused(
      [&] {
        return TakeModerationAction(db_, Ctx(10),
                                    {.moderator_id = host_,
                                     .target_user_id = bob_,
                                     .type = ModerationActionType::WARNING,
                                     .room_id = room_,
                                     .reason = "spam"});
      },
      absl::StatusCode::kPermissionDenied, "is not a moderator");
  // A moderator can; the action and its audit rows name them.
  const RowId mark = AuditMark();
  auto id = TakeModerationAction(db_, Ctx(20),
                                 {.moderator_id = mod_,
                                  .target_user_id = bob_,
                                  .type = ModerationActionType::SUSPENSION,
                                  .reason = "spam",
                                  .expires_at = Ctx(3600).now});
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_EQ(StatusOf(bob_), AccountStatus::SUSPENDED);
  const Table& mods = db_.table(TableId::moderation_actions);
  const RowId action = mods.FindById(*id);
  EXPECT_EQ(mods.GetRef(action, moderation_actions::moderator_id), UserRow(mod_));
  ExpectAudited(mark, AuditAction::MODERATION_ACTION_TAKEN, UserRow(mod_), kNoRow, UserRow(bob_));
  ExpectAudited(mark, AuditAction::ACCOUNT_STATUS_CHANGED, UserRow(mod_), kNoRow, UserRow(bob_));
  // Revoking is a moderation action too.
  ExpectRefused([&] { return RevokeModerationAction(db_, Ctx(30), *id, host_, "appeal"); },
                absl::StatusCode::kPermissionDenied, "is not a moderator");
  const RowId revoke_mark = AuditMark();
  ASSERT_TRUE(RevokeModerationAction(db_, Ctx(30), *id, mod2_, "appeal").ok());
  EXPECT_EQ(StatusOf(bob_), AccountStatus::ACTIVE);
  EXPECT_EQ(mods.GetRef(action, moderation_actions::revoked_by), UserRow(mod2_));
  ExpectAudited(revoke_mark, AuditAction::MODERATION_ACTION_REVOKED, UserRow(mod2_), kNoRow,
                UserRow(bob_));
}

// ---- 3. Only admins change roles; status changes need a staff role -------------

TEST_F(AuthorizationTest, OnlyAdminsChangeRoles) {
  for (const Uuid& actor : {alice_, host_, mod_}) {
    ExpectRefused([&] { return SetUserRole(db_, Ctx(10), actor, bob_, UserRole::MODERATOR); },
                  absl::StatusCode::kPermissionDenied, "is not an admin");
  }
  const RowId mark = AuditMark();
  ASSERT_TRUE(SetUserRole(db_, Ctx(11), admin_, bob_, UserRole::MODERATOR).ok());
  EXPECT_EQ(RoleOf(bob_), UserRole::MODERATOR);
  ExpectAudited(mark, AuditAction::ROLE_CHANGED, UserRow(admin_), kNoRow, UserRow(bob_));
  const RowId back = AuditMark();
  ASSERT_TRUE(SetUserRole(db_, Ctx(12), super_, bob_, UserRole::USER).ok());
  EXPECT_EQ(RoleOf(bob_), UserRole::USER);
  ExpectAudited(back, AuditAction::ROLE_CHANGED, UserRow(super_), kNoRow, UserRow(bob_));
}

TEST_F(AuthorizationTest, OnlyAdminsChangeAccountStatuses) {
  for (const Uuid& actor : {alice_, host_, mod_}) {
    ExpectRefused(
        [&] {
          return SetAccountStatus(db_, Ctx(10),
                                  {.actor_id = actor,
                                   .user_id = bob_,
                                   .status = AccountStatus::SUSPENDED,
                                   .reason = "spam"});
        },
        absl::StatusCode::kPermissionDenied, "cannot change account status");
  }
  const RowId mark = AuditMark();
  ASSERT_TRUE(
      SetAccountStatus(
          db_, Ctx(11),
          {.actor_id = admin_, .user_id = bob_, .status = AccountStatus::BANNED, .reason = "fraud"})
          .ok());
  EXPECT_EQ(StatusOf(bob_), AccountStatus::BANNED);
  EXPECT_EQ(Present(room_, bob_), kNoRow);  // banned accounts leave their rooms
  ExpectAudited(mark, AuditAction::ACCOUNT_STATUS_CHANGED, UserRow(admin_), kNoRow, UserRow(bob_));
}

// ---- 4. No one acts above their own rank ---------------------------------------

TEST_F(AuthorizationTest, NoOneGrantsARoleAtOrAboveTheirOwn) {
  for (UserRole role : {UserRole::ADMIN, UserRole::SUPER_ADMIN}) {
    ExpectRefused([&] { return SetUserRole(db_, Ctx(10), admin_, bob_, role); },
                  absl::StatusCode::kPermissionDenied, "only grant roles below their own");
  }
  // Nor changes the role of an equal or higher one, themselves included.
  ExpectRefused([&] { return SetUserRole(db_, Ctx(10), admin_, admin2_, UserRole::USER); },
                absl::StatusCode::kPermissionDenied);
  ExpectRefused([&] { return SetUserRole(db_, Ctx(10), admin_, super_, UserRole::USER); },
                absl::StatusCode::kPermissionDenied);
  ExpectRefused([&] { return SetUserRole(db_, Ctx(10), admin_, admin_, UserRole::MODERATOR); },
                absl::StatusCode::kPermissionDenied);
  // A super admin may make an admin, and unmake one.
  ASSERT_TRUE(SetUserRole(db_, Ctx(11), super_, bob_, UserRole::ADMIN).ok());
  EXPECT_EQ(RoleOf(bob_), UserRole::ADMIN);
  ASSERT_TRUE(SetUserRole(db_, Ctx(12), super_, admin2_, UserRole::MODERATOR).ok());
  EXPECT_EQ(RoleOf(admin2_), UserRole::MODERATOR);
}

TEST_F(AuthorizationTest, AccountStatusesOnlyOfALowerRank) {
  auto suspend = [&](const Uuid& actor, const Uuid& target) {
    return SetAccountStatus(db_, Ctx(10),
                            {.actor_id = actor,
                             .user_id = target,
                             .status = AccountStatus::SUSPENDED,
                             .reason = "spam"});
  };
  const std::pair<Uuid, Uuid> refused[] = {{admin_, admin2_}, {admin_, super_}, {admin_, admin_}};
  for (const auto& [actor, target] : refused) {
    ExpectRefused([&] { return suspend(actor, target); }, absl::StatusCode::kPermissionDenied,
                  "(equal or higher role)");
  }
  ASSERT_TRUE(suspend(admin_, mod_).ok());
  EXPECT_EQ(StatusOf(mod_), AccountStatus::SUSPENDED);
  ASSERT_TRUE(suspend(super_, admin2_).ok());
  EXPECT_EQ(StatusOf(admin2_), AccountStatus::SUSPENDED);
}

TEST_F(AuthorizationTest, ModerationOnlyOfALowerPlatformRole) {
  auto warn = [&](const Uuid& actor, const Uuid& target) {
    return TakeModerationAction(db_, Ctx(10),
                                {.moderator_id = actor,
                                 .target_user_id = target,
                                 .type = ModerationActionType::WARNING,
                                 .reason = "language"})
        .status();
  };
  ExpectRefused([&] { return warn(mod_, mod2_); }, absl::StatusCode::kPermissionDenied,
                "equal or higher platform role");
  ExpectRefused([&] { return warn(mod_, admin_); }, absl::StatusCode::kPermissionDenied,
                "equal or higher platform role");
  ExpectRefused([&] { return warn(admin_, admin2_); }, absl::StatusCode::kPermissionDenied,
                "equal or higher platform role");
  ASSERT_TRUE(warn(admin_, mod_).ok());
  // Revoking acts on the target too: a moderator cannot lift an admin's
  // room ban of another moderator; an admin can.
  auto ban = TakeModerationAction(db_, Ctx(20),
                                  {.moderator_id = admin_,
                                   .target_user_id = mod2_,
                                   .type = ModerationActionType::ROOM_BAN,
                                   .room_id = room_,
                                   .reason = "abuse"});
  ASSERT_TRUE(ban.ok()) << ban.status().message();
  EXPECT_TRUE(IsBanned(db_, RoomRow(room_), UserRow(mod2_)));
  ExpectRefused([&] { return RevokeModerationAction(db_, Ctx(30), *ban, mod_, "appeal"); },
                absl::StatusCode::kPermissionDenied, "equal or higher platform role");
  ASSERT_TRUE(RevokeModerationAction(db_, Ctx(31), *ban, admin2_, "appeal").ok());
  EXPECT_FALSE(IsBanned(db_, RoomRow(room_), UserRow(mod2_)));
}

// A host outranks a participant in the room, but not a platform moderator
// who joined as one: the platform rank holds in every room, as it does for
// TakeModerationAction.
TEST_F(AuthorizationTest, HostsCannotActOnAHigherPlatformRole) {
  ExpectRefused([&] { return SetMuted(db_, Ctx(10), room_, host_, mod2_, true); },
                absl::StatusCode::kPermissionDenied, "equal or higher platform role");
  ExpectRefused([&] { return KickParticipant(db_, Ctx(10), room_, cohost_, mod2_, "x"); },
                absl::StatusCode::kPermissionDenied, "equal or higher platform role");
  ExpectRefused([&] { return BanFromRoom(db_, Ctx(10), room_, host_, mod2_, "x"); },
                absl::StatusCode::kPermissionDenied, "equal or higher platform role");
  ExpectRefused([&] { return BanFromRoom(db_, Ctx(10), room_, host_, admin_, "x"); },
                absl::StatusCode::kPermissionDenied, "equal or higher platform role");
  // Nor may a moderator act on another moderator in a room.
  ExpectRefused([&] { return KickParticipant(db_, Ctx(10), room_, mod_, mod2_, "x"); },
                absl::StatusCode::kPermissionDenied, "equal or higher platform role");
  // In-room rank still holds among plain users: a co-host cannot kick the host.
  ExpectRefused([&] { return KickParticipant(db_, Ctx(10), room_, cohost_, host_, "x"); },
                absl::StatusCode::kPermissionDenied, "equal or higher role");
  // An admin outranks a moderator.
  const RowId mark = AuditMark();
  ASSERT_TRUE(KickParticipant(db_, Ctx(11), room_, admin_, mod2_, "x").ok());
  EXPECT_EQ(Present(room_, mod2_), kNoRow);
  ExpectAudited(mark, AuditAction::USER_KICKED, UserRow(admin_), RoomRow(room_), UserRow(mod2_));
}

TEST_F(AuthorizationTest, DeletingAnotherAccountNeedsAnActiveHigherAdmin) {
  ExpectRefused([&] { return DeleteUser(db_, Ctx(10), mod_, bob_); },
                absl::StatusCode::kPermissionDenied, "may not delete");
  ExpectRefused([&] { return DeleteUser(db_, Ctx(10), admin_, admin2_); },
                absl::StatusCode::kPermissionDenied, "may not delete");
  ExpectRefused([&] { return DeleteUser(db_, Ctx(10), admin_, super_); },
                absl::StatusCode::kPermissionDenied, "may not delete");
  // A suspended admin cannot delete anyone else.
  ASSERT_TRUE(SetAccountStatus(db_, Ctx(11),
                               {.actor_id = super_,
                                .user_id = admin2_,
                                .status = AccountStatus::SUSPENDED,
                                .reason = "review"})
                  .ok());
  ExpectRefused([&] { return DeleteUser(db_, Ctx(12), admin2_, bob_); },
                absl::StatusCode::kPermissionDenied, "is SUSPENDED");
  // An active admin deletes a user; the deletion's audit row names them.
  const RowId mark = AuditMark();
  ASSERT_TRUE(DeleteUser(db_, Ctx(13), admin_, bob_).ok());
  EXPECT_EQ(StatusOf(bob_), AccountStatus::DELETED);
  ExpectAudited(mark, AuditAction::USER_LOGOUT, UserRow(bob_), kNoRow, UserRow(admin_));
  // Anyone may delete their own account, suspended or not.
  ASSERT_TRUE(DeleteUser(db_, Ctx(14), admin2_, admin2_).ok());
  EXPECT_EQ(StatusOf(admin2_), AccountStatus::DELETED);
}

// ---- 5. Inactive accounts cannot join rooms, create rooms or move money --------

class InactiveAccountTest : public AuthorizationTest,
                            public ::testing::WithParamInterface<AccountStatus> {
 protected:
  InactiveAccountTest() {
    carol_ = Register("carol");
    EXPECT_TRUE(TopUp(db_, Ctx(3), {.user_id = carol_, .amount = 500}).ok());
    EXPECT_TRUE(
        CreatePremiumFeature(db_, Ctx(3), {.code = "hd", .name = "HD audio", .price = 30}).ok());
    // Two invite-only rooms of host's: carol is invited to the first.
    invite_room_ = Open(host_, "invite-one");
    invite_room2_ = Open(host_, "invite-two");
    for (const Uuid& r : {invite_room_, invite_room2_}) {
      EXPECT_TRUE(UpdateRoomSettings(db_, Ctx(3), r, host_, {.invite_only = true}).ok());
    }
    EXPECT_TRUE(InviteToRoom(db_, Ctx(4), invite_room_, host_, carol_).ok());
    // A room carol owns, not started (so it outlives her suspension).
    auto mine =
        CreateRoom(db_, Ctx(4), {.owner_id = carol_, .room_code = "carol-room", .title = "t"});
    EXPECT_TRUE(mine.ok());
    carol_room_ = mine.ok() ? mine->room_id : Uuid{};
  }

  struct Case {
    const char* what;
    std::function<absl::Status()> run;
    bool invitee = false;  // carol is the subject, not the actor
  };
  std::vector<Case> Cases() {
    return {
        {"join a room", [&] { return JoinRoom(db_, Ctx(100), room_, carol_).status(); }},
        {"accept an invitation",
         [&] { return JoinRoom(db_, Ctx(100), invite_room_, carol_).status(); }},
        {"create a room",
         [&] { return CreateRoom(db_, Ctx(100), {.owner_id = carol_, .title = "t"}).status(); }},
        {"create and open a room",
         [&] {
           return CreateAndOpenRoom(db_, Ctx(100), {.owner_id = carol_, .title = "t"}).status();
         }},
        {"top up",
         [&] { return TopUp(db_, Ctx(100), {.user_id = carol_, .amount = 100}).status(); }},
        {"send a gift",
         [&] {
           return Gift(db_, Ctx(100), {.sender_id = carol_, .receiver_id = alice_, .amount = 50})
               .status();
         }},
        {"reserve for a call",
         [&] {
           return Reserve(db_, Ctx(100),
                          {.payer_id = carol_, .amount = 20, .timeout_at = Ctx(1000).now})
               .status();
         }},
        {"buy a premium feature",
         [&] {
           return PurchasePremium(db_, Ctx(100), {.user_id = carol_, .feature_code = "hd"})
               .status();
         }},
        {"invite others",
         [&] { return InviteToRoom(db_, Ctx(100), carol_room_, carol_, bob_).status(); }},
        {"be invited",
         [&] { return InviteToRoom(db_, Ctx(100), invite_room2_, host_, carol_).status(); },
         /*invitee=*/true},
    };
  }

  Uuid carol_, invite_room_, invite_room2_, carol_room_;
};

TEST_P(InactiveAccountTest, CannotJoinCreateOrMoveMoneyUntilReactivated) {
  const AccountStatus status = GetParam();
  if (status == AccountStatus::DELETED) {
    ASSERT_TRUE(DeleteUser(db_, Ctx(50), carol_, carol_).ok());
  } else {
    ASSERT_TRUE(SetAccountStatus(
                    db_, Ctx(50),
                    {.actor_id = admin_, .user_id = carol_, .status = status, .reason = "fraud"})
                    .ok());
  }
  ASSERT_EQ(StatusOf(carol_), status);
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.what);
    if (status == AccountStatus::DELETED) {
      ExpectRefused(c.run, absl::StatusCode::kFailedPrecondition, "is deleted");
    } else {
      ExpectRefused(
          c.run,
          c.invitee ? absl::StatusCode::kFailedPrecondition : absl::StatusCode::kPermissionDenied,
          StrCat("is ", EnumName(EnumId::AccountStatus, status)));
    }
  }
  if (status == AccountStatus::DELETED) return;  // for good
  // Reactivated, carol does all of it.
  ASSERT_TRUE(SetAccountStatus(db_, Ctx(60),
                               {.actor_id = admin_,
                                .user_id = carol_,
                                .status = AccountStatus::ACTIVE,
                                .reason = "appeal"})
                  .ok());
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.what);
    ExpectAllowed(c.run);
  }
  EXPECT_NE(Present(room_, carol_), kNoRow);
  EXPECT_NE(Present(invite_room_, carol_), kNoRow);
  auto balance = GetWalletBalance(db_, carol_);
  ASSERT_TRUE(balance.ok());
  EXPECT_EQ(balance->balance, 500 + 100 - 50 - 30);
  EXPECT_EQ(balance->available, 500 + 100 - 50 - 30 - 20);
  ExpectIndexesAgree();
}

INSTANTIATE_TEST_SUITE_P(All, InactiveAccountTest,
                         ::testing::Values(AccountStatus::SUSPENDED, AccountStatus::BANNED,
                                           AccountStatus::DELETED),
                         [](const ::testing::TestParamInfo<AccountStatus>& info) {
                           return std::string(EnumName(EnumId::AccountStatus, info.param));
                         });

// A participant whose account stops being ACTIVE without leaving (a status
// written directly, as an administrator's generic update does) cannot
// start a call in the room.
TEST_F(AuthorizationTest, CallSessionsNeedAnActiveAccount) {
  const RowId p = Present(room_, alice_);
  const Uuid participant = parts().id(p);
  testing::SetColumn(db_, testing::kT0, TableId::users, UserRow(alice_), users::account_status,
                     AccountStatus::SUSPENDED);
  ExpectRefused([&] { return StartCallSession(db_, Ctx(10), participant); },
                absl::StatusCode::kPermissionDenied, "is SUSPENDED");
  testing::SetColumn(db_, testing::kT0, TableId::users, UserRow(alice_), users::account_status,
                     AccountStatus::ACTIVE);
  ExpectAllowed([&] { return StartCallSession(db_, Ctx(11), participant); });
}

// ---- 6. Every moderation, role and status change names its actor ------------------

TEST_F(AuthorizationTest, RoomActionsByHostsNameTheHostInTheAuditTrail) {
  const RowId room = RoomRow(room_);
  struct Step {
    const char* what;
    std::function<absl::Status()> run;
    AuditAction action;
    Uuid actor, target;
  };
  const Step steps[] = {
      {"host mute", [&] { return SetMuted(db_, Ctx(10), room_, cohost_, alice_, true); },
       AuditAction::USER_MUTED, cohost_, alice_},
      {"host unmute", [&] { return SetMuted(db_, Ctx(11), room_, host_, alice_, false); },
       AuditAction::USER_UNMUTED, host_, alice_},
      {"promotion",
       [&] {
         return ChangeParticipantRole(db_, Ctx(12), room_, host_, alice_, ParticipantRole::CO_HOST);
       },
       AuditAction::ROLE_PROMOTION, host_, alice_},
      {"demotion",
       [&] {
         return ChangeParticipantRole(db_, Ctx(13), room_, host_, alice_,
                                      ParticipantRole::PARTICIPANT);
       },
       AuditAction::ROLE_DEMOTION, host_, alice_},
      {"kick", [&] { return KickParticipant(db_, Ctx(14), room_, cohost_, alice_, "x"); },
       AuditAction::USER_KICKED, cohost_, alice_},
      {"ban", [&] { return BanFromRoom(db_, Ctx(15), room_, mod_, bob_, "x"); },
       AuditAction::USER_BANNED, mod_, bob_},
      {"unban", [&] { return UnbanFromRoom(db_, Ctx(16), room_, host_, bob_); },
       AuditAction::USER_UNBANNED, host_, bob_},
  };
  for (const Step& s : steps) {
    SCOPED_TRACE(s.what);
    const RowId mark = AuditMark();
    ASSERT_TRUE(s.run().ok());
    ExpectAudited(mark, s.action, UserRow(s.actor), room, UserRow(s.target));
  }
}

TEST_F(AuthorizationTest, ExpiryIsAuditedAsSystemWorkWithTheTarget) {
  auto mute = TakeModerationAction(db_, Ctx(10),
                                   {.moderator_id = mod_,
                                    .target_user_id = bob_,
                                    .type = ModerationActionType::MUTE,
                                    .room_id = room_,
                                    .reason = "noise",
                                    .expires_at = Ctx(60).now});
  ASSERT_TRUE(mute.ok()) << mute.status().message();
  const RowId mark = AuditMark();
  ASSERT_TRUE(LiftExpiredRestrictions(db_, Ctx(60)).ok());
  // No user acted: the row has no user, and still names target and room.
  ExpectAudited(mark, AuditAction::MODERATION_ACTION_EXPIRED, kNoRow, RoomRow(room_),
                UserRow(bob_));
  ExpectAudited(mark, AuditAction::USER_UNMUTED, kNoRow, RoomRow(room_), UserRow(bob_));
}

}  // namespace
}  // namespace vox
