#include "engine/change_events.h"

#include "engine/ops/generic.h"
#include "engine/ops/ledger.h"
#include "engine/ops/moderation.h"
#include "engine/ops/notifications.h"
#include "engine/ops/rooms.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::Contains;

// Collects every commit's events, as a change stream would at commit.
class EventSink final : public CommitSink {
 public:
  void OnCommit(const Txn& txn) override {
    commits.emplace_back();
    CollectChangeEvents(txn, &commits.back());
  }
  std::vector<std::vector<ChangeEvent>> commits;
};

class ChangeEventsTest : public testing::EngineTest {
 protected:
  ChangeEventsTest() {
    host_ = Register("hostess");
    guest_ = Register("guest");
    auto room = CreateAndOpenRoom(db_, Ctx(1), {.owner_id = host_, .title = "jazz"});
    EXPECT_TRUE(room.ok()) << room.status().message();
    room_ = room->room_id;
    db_.set_commit_sink(&sink_);
  }
  ~ChangeEventsTest() override { db_.set_commit_sink(nullptr); }

  // The one event of the last commit on `table`.
  const ChangeEvent& Only(TableId table) {
    const ChangeEvent* found = nullptr;
    for (const ChangeEvent& e : sink_.commits.back()) {
      if (e.table == table) {
        EXPECT_EQ(found, nullptr) << "two events on " << db_.table(table).name();
        found = &e;
      }
    }
    EXPECT_NE(found, nullptr) << "no event on " << db_.table(table).name();
    static const ChangeEvent kNone;
    return found != nullptr ? *found : kNone;
  }

  EventSink sink_;
  Uuid host_, guest_, room_;
};

TEST_F(ChangeEventsTest, AJoinIsTheParticipantTheRoomAndTheAuditRowRoutedToTheRoom) {
  auto joined = JoinRoom(db_, Ctx(2), room_, guest_);
  ASSERT_TRUE(joined.ok()) << joined.status().message();
  ASSERT_EQ(sink_.commits.size(), 1u);
  const ChangeEvent& p = Only(TableId::room_participants);
  EXPECT_FALSE(p.deleted);
  EXPECT_EQ(p.id, joined->participant_id);
  EXPECT_EQ(p.room, room_);
  EXPECT_EQ(p.users[0], guest_);
  EXPECT_TRUE(Contains(p.row, StrCat(R"("room_id":")", FormatUuid(room_))));
  EXPECT_TRUE(Contains(p.row, R"("role":"PARTICIPANT")"));
  const ChangeEvent& r = Only(TableId::rooms);
  EXPECT_EQ(r.id, room_);
  EXPECT_EQ(r.room, room_);
  EXPECT_TRUE(Contains(r.row, R"("participant_count":2)"));
  const ChangeEvent& a = Only(TableId::audit_logs);
  EXPECT_EQ(a.action, "USER_JOINED");
  EXPECT_EQ(a.room, room_);
  // Only audit rows carry an action.
  for (const ChangeEvent& e : sink_.commits[0]) {
    EXPECT_EQ(e.action.empty(), e.table != TableId::audit_logs);
  }
}

TEST_F(ChangeEventsTest, LiveStateChangesAreRowUpdatesWithTheirAuditAction) {
  ASSERT_TRUE(JoinRoom(db_, Ctx(2), room_, guest_).ok());
  ASSERT_TRUE(SetHandRaised(db_, Ctx(3), room_, guest_, guest_, true).ok());
  EXPECT_TRUE(Contains(Only(TableId::room_participants).row, R"("hand_raised":true)"));
  EXPECT_EQ(Only(TableId::audit_logs).action, "HAND_RAISED");
  ASSERT_TRUE(SetMuted(db_, Ctx(4), room_, host_, guest_, true).ok());
  EXPECT_TRUE(Contains(Only(TableId::room_participants).row, R"("is_muted":true)"));
  EXPECT_EQ(Only(TableId::audit_logs).action, "USER_MUTED");
}

TEST_F(ChangeEventsTest, MoneyReachesBothWalletOwnersAndNotificationsTheirRecipient) {
  ASSERT_TRUE(TopUp(db_, Ctx(2), {.user_id = guest_, .amount = 100}).ok());
  const ChangeEvent& top_up = Only(TableId::transactions);
  EXPECT_EQ(top_up.users[0], Uuid{});  // the system issuance wallet has no owner
  EXPECT_EQ(top_up.users[1], guest_);
  ASSERT_TRUE(Gift(db_, Ctx(3), {.sender_id = guest_, .receiver_id = host_, .amount = 40}).ok());
  bool gift = false;
  for (const ChangeEvent& e : sink_.commits.back()) {
    if (e.table == TableId::transactions && Contains(e.row, R"("type":"GIFT")")) {
      gift = true;
      EXPECT_EQ(e.users[0], guest_);
      EXPECT_EQ(e.users[1], host_);
    }
    if (e.table == TableId::wallets) EXPECT_TRUE(e.users[0] == guest_ || e.users[0] == host_);
    if (e.table == TableId::notifications) EXPECT_EQ(e.users[0], host_);  // GIFT_RECEIVED
  }
  EXPECT_TRUE(gift);

  auto invite = InviteToRoom(db_, Ctx(4), room_, host_, guest_);
  ASSERT_TRUE(invite.ok()) << invite.status().message();
  const ChangeEvent& n = Only(TableId::notifications);
  EXPECT_EQ(n.users[0], guest_);
  EXPECT_TRUE(Contains(n.row, R"("kind":"ROOM_INVITATION")"));
}

TEST_F(ChangeEventsTest, ModerationReachesItsTarget) {
  GrantRole(host_, UserRole::MODERATOR);
  auto action = TakeModerationAction(db_, Ctx(2), {.moderator_id = host_,
                                                   .target_user_id = guest_,
                                                   .type = ModerationActionType::WARNING,
                                                   .reason = "spam"});
  ASSERT_TRUE(action.ok()) << action.status().message();
  const ChangeEvent& m = Only(TableId::moderation_actions);
  EXPECT_EQ(m.id, *action);
  EXPECT_EQ(m.users[0], guest_);
}

TEST_F(ChangeEventsTest, ADeletedRowKeepsItsIdAndRoutingAndHasNoImage) {
  auto joined = JoinRoom(db_, Ctx(2), room_, guest_);
  ASSERT_TRUE(joined.ok());
  ASSERT_TRUE(DeleteRow(db_, Ctx(3), TableId::room_participants, joined->participant_id).ok());
  const ChangeEvent& p = Only(TableId::room_participants);
  EXPECT_TRUE(p.deleted);
  EXPECT_EQ(p.id, joined->participant_id);
  EXPECT_EQ(p.room, room_);
  EXPECT_TRUE(p.row.empty());
}

TEST_F(ChangeEventsTest, SecretsNeverLeaveInAnImage) {
  Register("carol");
  for (const ChangeEvent& e : sink_.commits.back()) {
    EXPECT_FALSE(Contains(e.row, "password_hash"));
    EXPECT_FALSE(Contains(e.row, "argon2"));
  }
}

}  // namespace
}  // namespace vox
