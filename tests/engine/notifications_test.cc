#include "engine/ops/notifications.h"

#include <string>
#include <vector>

#include "engine/database.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "test_util.h"

namespace vox {
namespace {

using testing::Contains;
using testing::DumpDb;

constexpr Timestamp kNow = 1793491200LL * kMicrosPerSecond;  // 2026-11-01T00:00:00Z
constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kDay = 86400 * kSecond;
constexpr Uuid kUnknown{.hi = 0x0123, .lo = 0x4567};

class NotificationFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    alice_ = AddUser("alice");
    bob_ = AddUser("bob");
  }
  void TearDown() override {
    EXPECT_TRUE(db_.VerifyIndexes().ok()) << db_.VerifyIndexes();
    // Notifications and system events are not security events.
    EXPECT_EQ(db_.table(TableId::audit_logs).live_count(), 0u);
  }

  OpContext At(Timestamp t) const { return {.now = t}; }

  RowId AddUser(std::string_view name, UserRole role = UserRole::USER) {
    Txn txn(db_, kNow - kDay);
    const RowId u = txn.Insert(TableId::users, {{users::username, name},
                                                {users::email, StrCat(name, "@example.com")},
                                                {users::display_name, StrCat("The ", name)},
                                                {users::role, role}});
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return u;
  }

  RowId AddRoom(RowId owner, std::string_view code, RoomStatus status = RoomStatus::LIVE) {
    return testing::AddRoom(db_, kNow - kDay, owner, code, StrCat("Room \"", code, "\""), status,
                            {rooms::invite_only, true});
  }

  RowId AddParticipant(RowId user, RowId room, ParticipantRole role) {
    return testing::AddParticipant(db_, kNow - kDay, user, room, role);
  }

  void SetColumn(TableId t, RowId r, ColumnId c, const Value& v) {
    testing::SetColumn(db_, kNow - kDay, t, r, c, v);
  }

  Uuid UserId(RowId u) const { return db_.table(TableId::users).id(u); }
  Uuid RoomId(RowId r) const { return db_.table(TableId::rooms).id(r); }
  const Table& notes() const { return db_.table(TableId::notifications); }
  RowId Row(const Uuid& id) const { return notes().FindById(id); }

  // Sends a SYSTEM_MESSAGE to `to` at `at`.
  Uuid Send(RowId to, Timestamp at, std::string_view title,
            std::optional<Timestamp> expires_at = std::nullopt) {
    auto id = SendNotification(
        db_, At(at), {.recipient_id = UserId(to), .title = title, .expires_at = expires_at});
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or(Uuid{});
  }

  std::vector<std::string> Titles(RowId user, Timestamp now, bool unread_only = false,
                                  size_t limit = kMaxNotificationPage) {
    auto list = ListNotifications(db_, now, UserId(user), unread_only, limit);
    EXPECT_TRUE(list.ok()) << list.status();
    std::vector<std::string> out;
    for (const NotificationInfo& n : *list) out.push_back(n.title);
    return out;
  }

  Database db_{{.id_seed = 1}};
  RowId alice_, bob_;
};

// ---- Notifications ----------------------------------------------------------

class NotificationTest : public NotificationFixture {};

TEST_F(NotificationTest, SendThenListShowsEveryField) {
  const RowId room = AddRoom(bob_, "k3x9");
  auto id = SendNotification(db_, At(kNow),
                             {.recipient_id = UserId(alice_),
                              .kind = NotificationKind::GIFT_RECEIVED,
                              .actor_id = UserId(bob_),
                              .room_id = RoomId(room),
                              .title = "You got a gift",
                              .body = "bob sent you 5 roses",
                              .payload = R"({"gift":"rose","count":5})",
                              .expires_at = kNow + kDay});
  ASSERT_TRUE(id.ok()) << id.status();
  auto list = ListNotifications(db_, kNow, UserId(alice_), /*unread_only=*/false, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  const NotificationInfo& n = (*list)[0];
  EXPECT_EQ(n.id, *id);
  EXPECT_EQ(n.kind, NotificationKind::GIFT_RECEIVED);
  EXPECT_EQ(n.actor_id, UserId(bob_));
  EXPECT_EQ(n.room_id, RoomId(room));
  EXPECT_EQ(n.title, "You got a gift");
  EXPECT_EQ(n.body, "bob sent you 5 roses");
  EXPECT_EQ(n.payload, R"({"gift":"rose","count":5})");
  EXPECT_EQ(n.created_at, kNow);
  EXPECT_FALSE(n.read_at.has_value());
  EXPECT_EQ(n.expires_at, kNow + kDay);
  EXPECT_TRUE(Titles(bob_, kNow).empty());  // only the recipient's
}

TEST_F(NotificationTest, SendRefusesBadInputAndChangesNothing) {
  const RowId gone = AddUser("gone");
  SetColumn(TableId::users, gone, users::deleted_at, kNow - kSecond);
  const std::string before = DumpDb(db_);
  auto send = [&](SendNotificationRequest req) {
    if (req.recipient_id.IsNil()) req.recipient_id = UserId(alice_);
    if (req.title.empty()) req.title = "hello";
    return SendNotification(db_, At(kNow), req).status();
  };
  struct Case {
    const char* what;
    absl::Status status;
    absl::StatusCode code;
    const char* says;
  };
  const std::string long_title(201, 't');
  const std::string long_body(2001, 'b');
  const Case cases[] = {
      {"unknown recipient", send({.recipient_id = kUnknown}), absl::StatusCode::kNotFound,
       "user 00000000-0000-0123-0000-000000004567 not found"},
      {"deleted recipient", send({.recipient_id = UserId(gone)}),
       absl::StatusCode::kFailedPrecondition, "is deleted"},
      {"unknown actor", send({.actor_id = kUnknown}), absl::StatusCode::kNotFound, "not found"},
      {"unknown room", send({.room_id = kUnknown}), absl::StatusCode::kNotFound, "room"},
      {"empty title", SendNotification(db_, At(kNow), {.recipient_id = UserId(alice_)}).status(),
       absl::StatusCode::kInvalidArgument, "title is required"},
      {"long title", send({.title = long_title}), absl::StatusCode::kInvalidArgument,
       "notifications.title"},
      {"long body", send({.body = long_body}), absl::StatusCode::kInvalidArgument,
       "notifications.body"},
      {"bad payload", send({.payload = R"({"a": })"}), absl::StatusCode::kInvalidArgument,
       "invalid JSON"},
      {"past expiry", send({.expires_at = kNow}), absl::StatusCode::kInvalidArgument,
       "not in the future"},
      {"invitation", send({.kind = NotificationKind::ROOM_INVITATION}),
       absl::StatusCode::kInvalidArgument, "InviteToRoom"},
      {"bad kind", send({.kind = static_cast<NotificationKind>(42)}),
       absl::StatusCode::kInvalidArgument, "notifications.kind"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    EXPECT_EQ(c.status.code(), c.code) << c.status;
    EXPECT_TRUE(Contains(ToStd(c.status.message()), c.says));
  }
  EXPECT_EQ(DumpDb(db_), before);
}

TEST_F(NotificationTest, ListIsNewestFirstSkippingDeletedAndExpired) {
  Send(alice_, kNow, "first");
  Send(alice_, kNow + 1 * kSecond, "second", /*expires_at=*/kNow + 10 * kSecond);
  const Uuid third = Send(alice_, kNow + 2 * kSecond, "third");
  Send(alice_, kNow + 3 * kSecond, "fourth");
  Send(bob_, kNow + 4 * kSecond, "for bob");
  ASSERT_TRUE(DeleteNotification(db_, At(kNow + 5 * kSecond), third, UserId(alice_)).ok());

  EXPECT_EQ(Titles(alice_, kNow + 9 * kSecond),
            (std::vector<std::string>{"fourth", "second", "first"}));
  EXPECT_EQ(Titles(alice_, kNow + 10 * kSecond), (std::vector<std::string>{"fourth", "first"}));
  EXPECT_EQ(Titles(alice_, kNow + 9 * kSecond, false, 2),
            (std::vector<std::string>{"fourth", "second"}));

  auto list = ListNotifications(db_, kNow, UserId(alice_), false, 0);
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  list = ListNotifications(db_, kNow, UserId(alice_), false, kMaxNotificationPage + 1);
  EXPECT_EQ(list.status().code(), absl::StatusCode::kInvalidArgument);
  list = ListNotifications(db_, kNow, kUnknown, false, 10);
  EXPECT_EQ(list.status().code(), absl::StatusCode::kNotFound);
}

TEST_F(NotificationTest, MarkReadIsIdempotentAndOnlyTheRecipients) {
  const Uuid n = Send(alice_, kNow, "hello");
  Send(alice_, kNow + kSecond, "unread");
  ASSERT_TRUE(MarkNotificationRead(db_, At(kNow + 2 * kSecond), n, UserId(alice_)).ok());
  EXPECT_EQ(notes().GetTime(Row(n), notifications::read_at), kNow + 2 * kSecond);
  EXPECT_EQ(Titles(alice_, kNow + 3 * kSecond, /*unread_only=*/true),
            std::vector<std::string>{"unread"});

  const std::string before = DumpDb(db_);
  ASSERT_TRUE(MarkNotificationRead(db_, At(kNow + 5 * kSecond), n, UserId(alice_)).ok());
  EXPECT_EQ(DumpDb(db_), before);  // already read: read_at kept

  const absl::Status theirs = MarkNotificationRead(db_, At(kNow), n, UserId(bob_));
  EXPECT_EQ(theirs.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Contains(ToStd(theirs.message()), "is not for user 'bob'"));
  EXPECT_EQ(MarkNotificationRead(db_, At(kNow), kUnknown, UserId(alice_)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(MarkNotificationRead(db_, At(kNow), n, kUnknown).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(DumpDb(db_), before);

  ASSERT_TRUE(DeleteNotification(db_, At(kNow), n, UserId(alice_)).ok());
  const absl::Status deleted = MarkNotificationRead(db_, At(kNow), n, UserId(alice_));
  EXPECT_EQ(deleted.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(ToStd(deleted.message()), "is deleted"));
}

TEST_F(NotificationTest, MarkAllReadCountsVisibleUnread) {
  Send(alice_, kNow, "a");
  Send(alice_, kNow, "b");
  const Uuid read = Send(alice_, kNow, "c");
  const Uuid expired = Send(alice_, kNow, "d", kNow + kSecond);
  Send(bob_, kNow, "bob's");
  ASSERT_TRUE(MarkNotificationRead(db_, At(kNow), read, UserId(alice_)).ok());

  auto n = MarkAllRead(db_, At(kNow + 2 * kSecond), UserId(alice_));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 2);
  EXPECT_TRUE(Titles(alice_, kNow + 2 * kSecond, /*unread_only=*/true).empty());
  EXPECT_EQ(notes().GetTime(Row(read), notifications::read_at), kNow);  // unchanged
  EXPECT_TRUE(notes().IsNull(Row(expired), notifications::read_at));
  EXPECT_EQ(Titles(bob_, kNow, /*unread_only=*/true), std::vector<std::string>{"bob's"});
  EXPECT_EQ(*MarkAllRead(db_, At(kNow + 3 * kSecond), UserId(alice_)), 0);
  EXPECT_EQ(MarkAllRead(db_, At(kNow), kUnknown).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(NotificationTest, DeleteIsSoftAndOnlyTheRecipients) {
  const Uuid n = Send(alice_, kNow, "bye");
  const std::string before = DumpDb(db_);
  EXPECT_EQ(DeleteNotification(db_, At(kNow), n, UserId(bob_)).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(DeleteNotification(db_, At(kNow), kUnknown, UserId(alice_)).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(DumpDb(db_), before);

  ASSERT_TRUE(DeleteNotification(db_, At(kNow + kSecond), n, UserId(alice_)).ok());
  EXPECT_EQ(notes().GetTime(Row(n), notifications::deleted_at), kNow + kSecond);
  EXPECT_EQ(notes().live_count(), 1u);  // the row stays
  EXPECT_TRUE(Titles(alice_, kNow + kSecond).empty());
  EXPECT_EQ(DeleteNotification(db_, At(kNow), n, UserId(alice_)).code(),
            absl::StatusCode::kFailedPrecondition);
}

// ---- Invitations and missed calls -------------------------------------------

class InvitationTest : public NotificationFixture {
 protected:
  void SetUp() override {
    NotificationFixture::SetUp();
    owner_ = AddUser("owner");
    room_ = AddRoom(owner_, "k3x9");
  }

  absl::StatusOr<InviteResult> Invite(RowId inviter, RowId invitee, RowId room = kNoRow) {
    return InviteToRoom(db_, At(kNow), RoomId(room == kNoRow ? room_ : room), UserId(inviter),
                        UserId(invitee));
  }

  // The open invitations of `invitee` to `room`, as the join of an
  // invite-only room finds them.
  std::vector<RowId> Invitations(RowId room, RowId invitee) const {
    std::vector<RowId> out;
    db_.range(IndexNo("notifications_invitations"))
        .ScanPrefix({static_cast<int64_t>(room), static_cast<int64_t>(invitee)}, [&](RowId n) {
          out.push_back(n);
          return true;
        });
    return out;
  }

  RowId owner_, room_;
};

TEST_F(InvitationTest, OwnerInvitesToACreatedRoom) {
  const RowId planned = AddRoom(owner_, "soon", RoomStatus::CREATED);
  auto r = Invite(owner_, alice_, planned);  // the owner need not be present
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->already_invited);
  const RowId n = Row(r->notification_id);
  EXPECT_EQ(Invitations(planned, alice_), std::vector<RowId>{n});
  EXPECT_TRUE(Invitations(room_, alice_).empty());
  EXPECT_EQ(notes().GetEnum<NotificationKind>(n, notifications::kind),
            NotificationKind::ROOM_INVITATION);
  EXPECT_EQ(notes().GetRef(n, notifications::recipient_id), alice_);
  EXPECT_EQ(notes().GetRef(n, notifications::actor_id), owner_);
  EXPECT_EQ(notes().GetRef(n, notifications::room_id), planned);
  EXPECT_EQ(notes().GetString(n, notifications::title), "The owner invited you to a room");
  EXPECT_EQ(notes().GetString(n, notifications::body), "Room \"soon\"");
  EXPECT_EQ(notes().GetString(n, notifications::payload), R"({"room_code":"soon"})");
}

TEST_F(InvitationTest, PresentHostsInviteOthersMayNot) {
  const RowId host = AddUser("host");
  AddParticipant(host, room_, ParticipantRole::HOST);
  const RowId cohost = AddUser("cohost");
  AddParticipant(cohost, room_, ParticipantRole::CO_HOST);
  const RowId listener = AddUser("listener");
  AddParticipant(listener, room_, ParticipantRole::PARTICIPANT);
  const RowId left = AddUser("left");
  const RowId p = AddParticipant(left, room_, ParticipantRole::HOST);
  SetColumn(TableId::room_participants, p, room_participants::left_at, kNow - kSecond);
  const RowId mod = AddUser("mod", UserRole::MODERATOR);
  const RowId banned = AddUser("banned");
  SetColumn(TableId::users, banned, users::account_status, AccountStatus::BANNED);

  const std::string before = DumpDb(db_);
  for (RowId who : {listener, left, mod, banned}) {
    auto r = Invite(who, alice_);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  }
  EXPECT_TRUE(Contains(ToStd(Invite(listener, alice_).status().message()),
                       "user 'listener' is neither the owner nor a host of room 'k3x9'"));
  EXPECT_EQ(DumpDb(db_), before);

  EXPECT_TRUE(Invite(host, alice_).ok());
  EXPECT_TRUE(Invite(cohost, bob_).ok());
  EXPECT_EQ(Invitations(room_, alice_).size(), 1u);
  EXPECT_EQ(Invitations(room_, bob_).size(), 1u);
}

TEST_F(InvitationTest, RoomMustBeOpenForInvitations) {
  for (RoomStatus status : {RoomStatus::ENDED, RoomStatus::CANCELLED}) {
    const RowId room = AddRoom(owner_, StrCat("x", static_cast<int>(status)), status);
    const std::string before = DumpDb(db_);
    auto r = Invite(owner_, alice_, room);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(Contains(ToStd(r.status().message()),
                         StrCat("is ", EnumName(EnumId::RoomStatus, status), "; cannot invite")));
    EXPECT_EQ(DumpDb(db_), before);
  }
  SetColumn(TableId::rooms, room_, rooms::deleted_at, kNow - kSecond);
  EXPECT_EQ(Invite(owner_, alice_).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(notes().live_count(), 0u);
}

TEST_F(InvitationTest, RefusesInviteesWhoCannotJoin) {
  AddParticipant(alice_, room_, ParticipantRole::PARTICIPANT);
  const RowId banned = AddUser("banned");
  const RowId p = AddParticipant(banned, room_, ParticipantRole::PARTICIPANT);
  SetColumn(TableId::room_participants, p, room_participants::is_banned, true);
  SetColumn(TableId::room_participants, p, room_participants::left_at, kNow - kSecond);
  const RowId gone = AddUser("gone");
  SetColumn(TableId::users, gone, users::deleted_at, kNow - kSecond);

  const std::string before = DumpDb(db_);
  auto present = Invite(owner_, alice_);
  EXPECT_EQ(present.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(ToStd(present.status().message()), "user 'alice' is already in"));
  auto ban = Invite(owner_, banned);
  EXPECT_EQ(ban.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(ToStd(ban.status().message()), "user 'banned' is banned from room 'k3x9'"));
  EXPECT_EQ(Invite(owner_, gone).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Invite(owner_, owner_).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InviteToRoom(db_, At(kNow), RoomId(room_), UserId(owner_), kUnknown).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(InviteToRoom(db_, At(kNow), kUnknown, UserId(owner_), UserId(bob_)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(DumpDb(db_), before);
}

TEST_F(InvitationTest, RepeatedInviteIsIdempotentUntilDeleted) {
  auto first = Invite(owner_, alice_);
  ASSERT_TRUE(first.ok());
  const std::string before = DumpDb(db_);
  auto again = Invite(owner_, alice_);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_invited);
  EXPECT_EQ(again->notification_id, first->notification_id);
  EXPECT_EQ(DumpDb(db_), before);

  ASSERT_TRUE(DeleteNotification(db_, At(kNow), first->notification_id, UserId(alice_)).ok());
  EXPECT_TRUE(Invitations(room_, alice_).empty());
  auto fresh = Invite(owner_, alice_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_FALSE(fresh->already_invited);
  EXPECT_NE(fresh->notification_id, first->notification_id);
  EXPECT_EQ(Invitations(room_, alice_).size(), 1u);
}

TEST_F(InvitationTest, MissedCallNotifiesTheRecipient) {
  auto with_room = RecordMissedCall(db_, At(kNow), UserId(alice_), UserId(bob_), RoomId(room_));
  ASSERT_TRUE(with_room.ok()) << with_room.status();
  auto plain = RecordMissedCall(db_, At(kNow + kSecond), UserId(alice_), UserId(bob_));
  ASSERT_TRUE(plain.ok());

  auto list = ListNotifications(db_, kNow + kSecond, UserId(alice_), true, 10);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].id, *plain);
  EXPECT_EQ((*list)[0].kind, NotificationKind::MISSED_CALL);
  EXPECT_EQ((*list)[0].title, "Missed call from The bob");
  EXPECT_EQ((*list)[0].actor_id, UserId(bob_));
  EXPECT_FALSE((*list)[0].room_id.has_value());
  EXPECT_EQ((*list)[1].id, *with_room);
  EXPECT_EQ((*list)[1].room_id, RoomId(room_));

  const std::string before = DumpDb(db_);
  EXPECT_EQ(RecordMissedCall(db_, At(kNow), UserId(alice_), kUnknown).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(RecordMissedCall(db_, At(kNow), kUnknown, UserId(bob_)).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(RecordMissedCall(db_, At(kNow), UserId(alice_), UserId(bob_), kUnknown).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(RecordMissedCall(db_, At(kNow), UserId(alice_), UserId(alice_)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DumpDb(db_), before);
}

// ---- System events ----------------------------------------------------------

class SystemEventTest : public NotificationFixture {
 protected:
  const Table& events() const { return db_.table(TableId::system_events); }
};

TEST_F(SystemEventTest, RecordsEventsInTimeOrder) {
  const RowId room = AddRoom(alice_, "k3x9");
  auto late = RecordSystemEvent(db_, At(kNow),
                                {.severity = Severity::WARNING,
                                 .component = "wal",
                                 .code = "FSYNC_SLOW",
                                 .message = "fdatasync took 250 ms",
                                 .details = R"({"ms":250})",
                                 .user_id = UserId(alice_),
                                 .room_id = RoomId(room)});
  ASSERT_TRUE(late.ok()) << late.status();
  auto early = RecordSystemEvent(db_, At(kNow),
                                 {.severity = Severity::CRITICAL,
                                  .component = "net",
                                  .code = "ACCEPT_FAILED",
                                  .message = "accept: too many open files",
                                  .occurred_at = kNow - kSecond});
  ASSERT_TRUE(early.ok());

  const RowId e = events().FindById(*late);
  EXPECT_EQ(events().GetEnum<Severity>(e, system_events::severity), Severity::WARNING);
  EXPECT_EQ(events().GetString(e, system_events::component), "wal");
  EXPECT_EQ(events().GetString(e, system_events::code), "FSYNC_SLOW");
  EXPECT_EQ(events().GetString(e, system_events::message), "fdatasync took 250 ms");
  EXPECT_EQ(events().GetString(e, system_events::details), R"({"ms":250})");
  EXPECT_EQ(events().GetRef(e, system_events::user_id), alice_);
  EXPECT_EQ(events().GetRef(e, system_events::room_id), room);
  EXPECT_EQ(events().GetTime(e, system_events::occurred_at), kNow);  // defaults to now
  const RowId e2 = events().FindById(*early);
  EXPECT_TRUE(events().IsNull(e2, system_events::details));
  EXPECT_TRUE(events().IsNull(e2, system_events::user_id));

  std::vector<Uuid> by_time;
  db_.range(IndexNo("system_events_by_time")).ScanPrefix({}, [&](RowId r) {
    by_time.push_back(events().id(r));
    return true;
  });
  EXPECT_EQ(by_time, (std::vector<Uuid>{*early, *late}));
}

TEST_F(SystemEventTest, RefusesBadInputAndChangesNothing) {
  const RowId gone = AddUser("gone");
  SetColumn(TableId::users, gone, users::deleted_at, kNow - kSecond);
  const std::string before = DumpDb(db_);
  auto record = [&](SystemEventRequest req) { return RecordSystemEvent(db_, At(kNow), req); };
  const SystemEventRequest ok{.component = "engine", .code = "X", .message = "m"};
  auto with = [&](auto change) {
    SystemEventRequest req = ok;
    change(req);
    return record(req).status();
  };
  EXPECT_EQ(with([](auto& r) { r.component = ""; }).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& r) { r.code = ""; }).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(with([](auto& r) { r.message = ""; }).code(), absl::StatusCode::kInvalidArgument);
  const std::string long_component(65, 'c');
  const absl::Status too_long = with([&](auto& r) { r.component = long_component; });
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(ToStd(too_long.message()), "system_events.component"));
  const absl::Status bad_json = with([](auto& r) { r.details = "[1,]"; });
  EXPECT_EQ(bad_json.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(ToStd(bad_json.message()), "invalid JSON"));
  EXPECT_EQ(with([](auto& r) { r.user_id = kUnknown; }).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(with([](auto& r) { r.room_id = kUnknown; }).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(with([](auto& r) { r.severity = static_cast<Severity>(9); }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DumpDb(db_), before);

  // Events may name a deleted user: the log outlives them.
  EXPECT_TRUE(with([&](auto& r) { r.user_id = UserId(gone); }).ok());
  EXPECT_EQ(events().live_count(), 1u);
}

}  // namespace
}  // namespace vox
