#include "engine/ops/rooms.h"

#include "engine/ops/queries.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::LiveCounts;

class RoomsTest : public testing::EngineTest {
 protected:
  RoomsTest() {
    host_ = Register("host");
    alice_ = Register("alice");
    bob_ = Register("bob");
  }
  Uuid OpenRoom(RoomSettings settings = {}) {
    auto r = CreateAndOpenRoom(db_, Ctx(),
                               {.owner_id = host_, .title = "Morning show", .settings = settings});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->room_id : Uuid{};
  }
  RowId RoomRow(const Uuid& id) { return db_.table(TableId::rooms).FindById(id); }
  const Table& rooms() { return db_.table(TableId::rooms); }
  const Table& parts() { return db_.table(TableId::room_participants); }
  RowId Present(const Uuid& room, const Uuid& user) {
    std::vector<RowId> rows;
    UserPresentRooms(db_, UserRow(user), &rows);
    for (RowId p : rows) {
      if (parts().GetRef(p, room_participants::room_id) == RoomRow(room)) return p;
    }
    return kNoRow;
  }
  std::vector<AuditAction> AuditOf(const Uuid& room) {
    std::vector<RowId> rows;
    RoomAuditTrail(db_, RoomRow(room), 1000, std::nullopt, &rows);
    std::vector<AuditAction> out;
    for (auto it = rows.rbegin(); it != rows.rend(); ++it) {
      out.push_back(db_.table(TableId::audit_logs).GetEnum<AuditAction>(*it, audit_logs::action));
    }
    return out;  // oldest first
  }
  Uuid host_, alice_, bob_;
};

TEST_F(RoomsTest, CreateAndJoinFollowsTheSeedFlow) {
  auto r = CreateAndOpenRoom(db_, Ctx(5),
                             {.owner_id = host_, .room_code = "morning-show", .title = "Morning"});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->room_code, "morning-show");
  const RowId room = RoomRow(r->room_id);
  EXPECT_EQ(rooms().GetEnum<RoomStatus>(room, rooms::status), RoomStatus::LIVE);
  EXPECT_EQ(rooms().GetTime(room, rooms::started_at), Ctx(5).now);
  EXPECT_EQ(rooms().GetInt(room, rooms::participant_count), 1);
  EXPECT_EQ(rooms().GetInt(room, rooms::total_joins), 1);
  const RowId p = parts().FindById(r->host_participant_id);
  EXPECT_EQ(parts().GetEnum<ParticipantRole>(p, room_participants::role), ParticipantRole::HOST);
  EXPECT_EQ(AuditOf(r->room_id),
            (std::vector<AuditAction>{AuditAction::ROOM_CREATED, AuditAction::USER_JOINED,
                                      AuditAction::ROOM_STARTED}));
  ExpectIndexesAgree();
}

TEST_F(RoomsTest, CreatedRoomWaitsForItsHost) {
  auto r = CreateRoom(db_, Ctx(), {.owner_id = host_, .title = "Later"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->room_code.size(), 8u);
  EXPECT_EQ(JoinRoom(db_, Ctx(1), r->room_id, alice_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto host_join = JoinRoom(db_, Ctx(2), r->room_id, host_);
  ASSERT_TRUE(host_join.ok());
  EXPECT_TRUE(host_join->room_started);
  EXPECT_TRUE(JoinRoom(db_, Ctx(3), r->room_id, alice_).ok());
}

TEST_F(RoomsTest, RoomCodesAndSettingsAreValidated) {
  EXPECT_EQ(CreateRoom(db_, Ctx(), {.owner_id = host_, .room_code = "UPPER", .title = "t"})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateRoom(db_, Ctx(), {.owner_id = host_, .title = ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(CreateRoom(db_, Ctx(), {.owner_id = host_, .room_code = "abcd", .title = "t"}).ok());
  EXPECT_EQ(CreateRoom(db_, Ctx(), {.owner_id = host_, .room_code = "abcd", .title = "t"})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  const auto before = LiveCounts(db_);
  EXPECT_EQ(
      CreateRoom(db_, Ctx(), {.owner_id = host_, .title = "t", .settings = {.max_participants = 1}})
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateRoom(db_, Ctx(),
                       {.owner_id = host_,
                        .title = "t",
                        .settings = {.scheduled_start = Ctx(10).now, .scheduled_end = Ctx(5).now}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  const std::string_view five[] = {"a", "b", "c", "d", "e"};
  EXPECT_EQ(CreateRoom(db_, Ctx(), {.owner_id = host_, .title = "t", .settings = {.tags = five}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  const std::string_view bad_tag[] = {"no spaces"};
  EXPECT_EQ(CreateRoom(db_, Ctx(), {.owner_id = host_, .title = "t", .settings = {.tags = bad_tag}})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LiveCounts(db_), before);
  EXPECT_EQ(CreateRoom(db_, Ctx(), {.owner_id = Uuid{1, 2}, .title = "t"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(RoomsTest, JoinRefusesFullBannedDuplicateAndEnded) {
  const Uuid room = OpenRoom({.max_participants = 2});
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room, alice_).ok());
  EXPECT_EQ(JoinRoom(db_, Ctx(2), room, alice_).status().code(), absl::StatusCode::kAlreadyExists);
  const auto before = LiveCounts(db_);
  auto full = JoinRoom(db_, Ctx(2), room, bob_);
  EXPECT_EQ(full.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(ToStd(full.status().message()).find("full (2 of 2)"), std::string::npos);
  EXPECT_EQ(LiveCounts(db_), before);
  ASSERT_TRUE(BanFromRoom(db_, Ctx(3), room, host_, alice_, "trolling").ok());
  EXPECT_TRUE(IsBanned(db_, RoomRow(room), UserRow(alice_)));
  EXPECT_EQ(JoinRoom(db_, Ctx(4), room, alice_).status().code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(JoinRoom(db_, Ctx(5), room, bob_).ok());  // alice's ban freed a seat
  ASSERT_TRUE(EndRoom(db_, Ctx(6), room, host_).ok());
  EXPECT_EQ(JoinRoom(db_, Ctx(7), room, bob_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

TEST_F(RoomsTest, JoinAndLeaveMaintainCountsAndDurations) {
  const Uuid room = OpenRoom();
  ASSERT_TRUE(JoinRoom(db_, Ctx(10), room, alice_).ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(20), room, bob_).ok());
  EXPECT_EQ(rooms().GetInt(RoomRow(room), rooms::peak_participants), 3);
  const RowId p = Present(room, alice_);
  ASSERT_TRUE(LeaveRoom(db_, Ctx(70), room, alice_).ok());
  EXPECT_EQ(parts().GetTime(p, room_participants::left_at), Ctx(70).now);
  EXPECT_EQ(parts().GetInt(p, room_participants::duration_seconds), 60);
  EXPECT_EQ(rooms().GetInt(RoomRow(room), rooms::participant_count), 2);
  EXPECT_EQ(LeaveRoom(db_, Ctx(71), room, alice_).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(JoinRoom(db_, Ctx(80), room, alice_).ok());  // rejoin: a new participation
  EXPECT_EQ(rooms().GetInt(RoomRow(room), rooms::total_joins), 4);
  const RoomStats stats = RoomStatistics(db_, RoomRow(room));
  EXPECT_EQ(stats.participations, 4);
  EXPECT_EQ(stats.present, 3);
  EXPECT_EQ(stats.total_duration_seconds, 60);
  std::vector<ParticipantState> present;
  PresentParticipants(db_, RoomRow(room), &present);
  ASSERT_EQ(present.size(), 3u);
  EXPECT_EQ(present[0].role, ParticipantRole::HOST);  // join order
  EXPECT_EQ(present[2].user, UserRow(alice_));
}

TEST_F(RoomsTest, MutingFollowsAuthority) {
  const Uuid room = OpenRoom();
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room, alice_).ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room, bob_).ok());
  // Participants cannot mute each other; a host can, and the mute sticks.
  EXPECT_EQ(SetMuted(db_, Ctx(2), room, alice_, bob_, true).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(SetMuted(db_, Ctx(3), room, host_, bob_, true).ok());
  EXPECT_EQ(SetMuted(db_, Ctx(4), room, bob_, bob_, false).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(SetMuted(db_, Ctx(4), room, bob_, host_, true).code(),
            absl::StatusCode::kPermissionDenied);
  // Self-mute and self-unmute.
  ASSERT_TRUE(SetMuted(db_, Ctx(5), room, alice_, alice_, true).ok());
  ASSERT_TRUE(SetMuted(db_, Ctx(6), room, alice_, alice_, false).ok());
  const RowId a = Present(room, alice_);
  EXPECT_FALSE(parts().GetBool(a, room_participants::is_muted));
  EXPECT_EQ(parts().GetInt(a, room_participants::mute_count), 1);
  const RowId b = Present(room, bob_);
  EXPECT_TRUE(parts().GetBool(b, room_participants::is_muted));
  EXPECT_TRUE(parts().GetBool(b, room_participants::muted_by_host));
  // A co-host may mute participants but not the host.
  ASSERT_TRUE(
      ChangeParticipantRole(db_, Ctx(7), room, host_, alice_, ParticipantRole::CO_HOST).ok());
  EXPECT_EQ(SetMuted(db_, Ctx(8), room, alice_, host_, true).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(SetMuted(db_, Ctx(9), room, alice_, bob_, false).ok());
  auto all = MuteAll(db_, Ctx(10), room, host_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 2);  // alice (co-host) and bob
  EXPECT_EQ(SetMuted(db_, Ctx(11), room, host_, bob_, true, Ctx(5).now).code(),
            absl::StatusCode::kInvalidArgument);  // expiry in the past
  const auto actions = AuditOf(room);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), AuditAction::USER_MUTED), 2);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), AuditAction::ALL_MUTED), 1);
  EXPECT_EQ(std::count(actions.begin(), actions.end(), AuditAction::ROLE_PROMOTION), 1);
}

TEST_F(RoomsTest, HandRaisingRespectsTheRoomSetting) {
  const Uuid room = OpenRoom();
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room, alice_).ok());
  ASSERT_TRUE(SetHandRaised(db_, Ctx(2), room, alice_, alice_, true).ok());
  const RowId a = Present(room, alice_);
  EXPECT_TRUE(parts().GetBool(a, room_participants::hand_raised));
  EXPECT_EQ(parts().GetTime(a, room_participants::hand_raised_at), Ctx(2).now);
  EXPECT_EQ(SetHandRaised(db_, Ctx(3), room, host_, alice_, true).code(),
            absl::StatusCode::kPermissionDenied);  // nobody raises another's hand
  ASSERT_TRUE(SetHandRaised(db_, Ctx(3), room, host_, alice_, false).ok());  // hosts lower them
  EXPECT_FALSE(parts().GetBool(a, room_participants::hand_raised));
  ASSERT_TRUE(UpdateRoomSettings(db_, Ctx(4), room, host_, {.hand_raise_allowed = false}).ok());
  EXPECT_EQ(SetHandRaised(db_, Ctx(5), room, alice_, alice_, true).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(UpdateRoomSettings(db_, Ctx(6), room, alice_, {.is_public = false}).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(RoomsTest, KickBanAndUnban) {
  const Uuid room = OpenRoom();
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room, alice_).ok());
  ASSERT_TRUE(KickParticipant(db_, Ctx(2), room, host_, alice_, "off topic").ok());
  const RowId a = parts().row_count() - 1;
  EXPECT_TRUE(parts().GetBool(a, room_participants::is_kicked));
  EXPECT_EQ(parts().GetString(a, room_participants::kick_reason), "off topic");
  EXPECT_FALSE(parts().IsNull(a, room_participants::left_at));
  ASSERT_TRUE(JoinRoom(db_, Ctx(3), room, alice_).ok());  // a kick is not a ban
  EXPECT_EQ(KickParticipant(db_, Ctx(4), room, alice_, host_, "").code(),
            absl::StatusCode::kPermissionDenied);
  // Ban a user who is not present.
  ASSERT_TRUE(BanFromRoom(db_, Ctx(5), room, host_, bob_, "spam").ok());
  EXPECT_TRUE(IsBanned(db_, RoomRow(room), UserRow(bob_)));
  EXPECT_EQ(BanFromRoom(db_, Ctx(6), room, host_, bob_, "again").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(BanFromRoom(db_, Ctx(6), room, alice_, host_, "").code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(UnbanFromRoom(db_, Ctx(7), room, host_, bob_).ok());
  EXPECT_FALSE(IsBanned(db_, RoomRow(room), UserRow(bob_)));
  EXPECT_EQ(UnbanFromRoom(db_, Ctx(8), room, host_, bob_).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(JoinRoom(db_, Ctx(9), room, bob_).ok());
  ExpectIndexesAgree();
}

TEST_F(RoomsTest, EndRoomEmptiesItAndCancelOnlyBeforeStart) {
  const Uuid room = OpenRoom();
  ASSERT_TRUE(JoinRoom(db_, Ctx(10), room, alice_).ok());
  ASSERT_TRUE(JoinRoom(db_, Ctx(10), room, bob_).ok());
  EXPECT_EQ(EndRoom(db_, Ctx(20), room, alice_).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CancelRoom(db_, Ctx(20), room, host_).code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(EndRoom(db_, Ctx(3600), room, host_).ok());
  const RowId r = RoomRow(room);
  EXPECT_EQ(rooms().GetEnum<RoomStatus>(r, rooms::status), RoomStatus::ENDED);
  EXPECT_EQ(rooms().GetInt(r, rooms::duration_seconds), 3600);
  EXPECT_EQ(rooms().GetInt(r, rooms::participant_count), 0);
  std::vector<ParticipantState> present;
  PresentParticipants(db_, r, &present);
  EXPECT_TRUE(present.empty());
  EXPECT_EQ(EndRoom(db_, Ctx(3601), room, host_).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(AuditOf(room).back(), AuditAction::ROOM_ENDED);

  auto later = CreateRoom(db_, Ctx(), {.owner_id = host_, .title = "scheduled"});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(CancelRoom(db_, Ctx(1), later->room_id, alice_).code(),
            absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(CancelRoom(db_, Ctx(1), later->room_id, host_).ok());
  EXPECT_EQ(JoinRoom(db_, Ctx(2), later->room_id, host_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

TEST_F(RoomsTest, LiveRoomsByTagAreNewestFirstAndPaged) {
  const std::string_view music[] = {"music", "Jazz"};
  std::vector<Uuid> ids;
  for (int i = 0; i < 5; ++i) {
    auto r = CreateAndOpenRoom(db_, Ctx(i),
                               {.owner_id = host_, .title = "r", .settings = {.tags = music}});
    ASSERT_TRUE(r.ok()) << r.status().message();
    ids.push_back(r->room_id);
  }
  auto priv = CreateAndOpenRoom(
      db_, Ctx(9),
      {.owner_id = host_, .title = "p", .settings = {.is_public = false, .tags = music}});
  ASSERT_TRUE(priv.ok());
  std::vector<RowId> page;
  auto cursor = LiveRoomsByTag(db_, "jazz", 3, std::nullopt, &page);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(rooms().id(page[0]), ids[4]);
  EXPECT_EQ(rooms().id(page[2]), ids[2]);
  ASSERT_TRUE(cursor.has_value());
  LiveRoomsByTag(db_, "jazz", 3, cursor, &page);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(rooms().id(page[1]), ids[0]);
  ASSERT_TRUE(EndRoom(db_, Ctx(20), ids[4], host_).ok());
  LiveRoomsByTag(db_, "MUSIC", 10, std::nullopt, &page);
  EXPECT_EQ(page.size(), 4u);
  LiveRoomsByTag(db_, "unknown", 10, std::nullopt, &page);
  EXPECT_TRUE(page.empty());
}

TEST_F(RoomsTest, InviteOnlyRoomsNeedAnInvitation) {
  const Uuid room = OpenRoom({.invite_only = true});
  EXPECT_EQ(JoinRoom(db_, Ctx(1), room, alice_).status().code(),
            absl::StatusCode::kPermissionDenied);
  {
    Txn txn(db_, Ctx(2).now);
    txn.Insert(TableId::notifications, {{notifications::recipient_id, UserRow(alice_)},
                                        {notifications::kind, NotificationKind::ROOM_INVITATION},
                                        {notifications::room_id, RoomRow(room)},
                                        {notifications::title, "join us"}});
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }
  EXPECT_TRUE(JoinRoom(db_, Ctx(3), room, alice_).ok());
}

TEST_F(RoomsTest, DeletingALiveRoomEndsItFirst) {
  const Uuid room = OpenRoom();
  ASSERT_TRUE(JoinRoom(db_, Ctx(1), room, alice_).ok());
  EXPECT_EQ(DeleteRoom(db_, Ctx(2), room, alice_).code(), absl::StatusCode::kPermissionDenied);
  ASSERT_TRUE(DeleteRoom(db_, Ctx(3), room, host_).ok());
  EXPECT_EQ(rooms().GetEnum<RoomStatus>(RoomRow(room), rooms::status), RoomStatus::ENDED);
  EXPECT_FALSE(rooms().IsNull(RoomRow(room), rooms::deleted_at));
  EXPECT_EQ(Present(room, alice_), kNoRow);
  EXPECT_EQ(JoinRoom(db_, Ctx(4), room, alice_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectIndexesAgree();
}

}  // namespace
}  // namespace vox
