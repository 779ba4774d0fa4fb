// Change streams on the real server (docs/streams.md): subscribers on raw
// sockets (RawSubscriber, RawStream in raw_connection.h, which check every
// stream's batch invariants as they read), writers through the client
// library. What each kind of stream carries, in what order; the protocol
// around it (errors, Unsubscribe, answers before the frames they announce,
// other requests on a subscribed connection, the idle timeout, no WAL).
// Resuming, restarts, slow and many subscribers: streams_resume_test.cc.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using Events = std::vector<rpc::StreamEvent>;

// Events grouped by transaction (LSN), in order.
std::vector<Events> ByTransaction(const Events& events) {
  std::vector<Events> out;
  for (const rpc::StreamEvent& e : events) {
    if (out.empty() || out.back().front().lsn != e.lsn) out.emplace_back();
    out.back().push_back(e);
  }
  return out;
}

// The audit actions among `events`, in order.
std::vector<std::string> Actions(const Events& events) {
  std::vector<std::string> out;
  for (const rpc::StreamEvent& e : events) {
    if (e.table == "audit_logs") out.push_back(e.action);
  }
  return out;
}

// The event of `table` (and row `id`, unless nil) in `events`.
const rpc::StreamEvent* Find(const Events& events, const std::string& table, const Uuid& id = {}) {
  for (const rpc::StreamEvent& e : events) {
    if (e.table == table && (id.IsNil() || e.id == id)) return &e;
  }
  return nullptr;
}

// "name":value in a row's JSON; `value` as JSON (true, 3, "\"LIVE\"").
bool HasField(const std::string& row, const std::string& name, const std::string& value) {
  return row.find(StrCat("\"", name, "\":", value)) != std::string::npos;
}
std::string Quoted(const std::string& s) { return StrCat("\"", s, "\""); }
std::string Quoted(const Uuid& u) { return Quoted(FormatUuid(u)); }

bool Mentions(const rpc::StreamEvent& e, const Uuid& id) {
  return e.id == id || e.row.find(FormatUuid(id)) != std::string::npos;
}

// The code a Subscribe was answered with.
wire::StatusCode SubscribeCode(RawSubscriber& sub, const std::optional<Uuid>& room,
                               const std::optional<Uuid>& user, const std::string& table,
                               int64_t from_lsn, std::string* message = nullptr) {
  static uint64_t next_id = 1000;
  const ParsedResponse r = sub.Subscribe(room, user, table, from_lsn, ++next_id);
  EXPECT_TRUE(r.valid());
  if (!r.valid()) return wire::StatusCode::INTERNAL;
  if (message != nullptr) *message = r.message();
  return r->code();
}

rpc::Registered Register(Client& c, const std::string& name) {
  return CallOk(c, rpc::RegisterUser{name, name + "@example.com", "h", name});
}

class StreamsTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

// A room's stream: each kind of change in the room, one transaction per
// operation, in commit order, with the participant, room, recording and
// call rows' after-images and the audit rows' actions; nothing of another
// room.
TEST_F(StreamsTest, ARoomStreamCarriesEveryKindOfChangeInOrder) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto owner = Register(*c, "owner");
  const auto guest = Register(*c, "guest");
  const auto kicked = Register(*c, "kicked");
  const auto banned = Register(*c, "banned");
  const auto other = Register(*c, "other");
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = owner.user_id, .title = "jazz"});
  const auto noise = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = other.user_id, .title = "rock"});

  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream stream = OpenRawStream(sub, room.room_id, std::nullopt, "", -1);
  const uint64_t from = stream.last_lsn();

  const Uuid r = room.room_id, g = guest.user_id, o = owner.user_id;
  const auto joined = CallOk(*c, rpc::JoinRoom{.room_id = r, .user_id = g});  // 1
  CallOk(*c, rpc::SetMuted{.room_id = noise.room_id,
                           .actor_id = other.user_id,
                           .target_id = other.user_id,
                           .muted = true});  // (another room)
  CallOk(*c, rpc::SetMuted{.room_id = r, .actor_id = g, .target_id = g, .muted = true});   // 2
  CallOk(*c, rpc::SetMuted{.room_id = r, .actor_id = g, .target_id = g, .muted = false});  // 3
  CallOk(*c, rpc::SetHandRaised{.room_id = r, .actor_id = g, .target_id = g, .raised = true});
  CallOk(*c, rpc::SetHandRaised{.room_id = r, .actor_id = g, .target_id = g, .raised = false});
  CallOk(*c, rpc::SetSpeaking{.room_id = r, .user_id = g, .speaking = true});  // 6
  CallOk(*c, rpc::ChangeParticipantRole{
                 .room_id = r, .actor_id = o, .target_id = g, .role = "CO_HOST"});  // 7
  const auto kicked_p = CallOk(*c, rpc::JoinRoom{.room_id = r, .user_id = kicked.user_id});
  CallOk(*c, rpc::KickParticipant{
                 .room_id = r, .actor_id = o, .target_id = kicked.user_id, .reason = "spam"});
  const auto banned_p = CallOk(*c, rpc::JoinRoom{.room_id = r, .user_id = banned.user_id});
  CallOk(*c, rpc::BanFromRoom{
                 .room_id = r, .actor_id = o, .target_id = banned.user_id, .reason = "abuse"});
  const Uuid rec = CallOk(
      *c, rpc::StartRecording{.room_id = r, .actor_id = o, .storage_key = "rec/jazz-1"});  // 12
  CallOk(*c,
         rpc::StopRecording{
             .recording_id = rec, .actor_id = o, .size_bytes = 1000, .duration_seconds = 3});  // 13
  const Uuid call = CallOk(*c, rpc::StartCallSession{.participant_id = joined.participant_id});
  CallOk(*c, rpc::EndRoom{.room_id = r, .actor_id = o});  // 15

  ASSERT_TRUE(stream.ReadUntil([&] {
    const Events& ev = stream.events();
    return !ev.empty() && ev.back().action == "ROOM_ENDED";
  })) << DescribeEvents(stream.events());
  const Events& events = stream.events();
  // Only this room's rows.
  for (const rpc::StreamEvent& e : events) {
    EXPECT_TRUE(Mentions(e, r)) << e.table << " " << e.row;
    EXPECT_FALSE(Mentions(e, noise.room_id)) << e.table << " " << e.row;
  }
  const std::vector<Events> txns = ByTransaction(events);
  ASSERT_EQ(txns.size(), 15u) << DescribeEvents(events);
  EXPECT_GT(txns[0][0].lsn, from);
  for (size_t i = 1; i < txns.size(); ++i) {
    EXPECT_GE(txns[i][0].commit_time, txns[i - 1][0].commit_time);
  }
  // The audit trail, in order.
  std::vector<std::string> actions;
  for (const Events& t : txns) {
    for (const std::string& a : Actions(t)) actions.push_back(a);
  }
  const std::vector<std::string> expected = {
      "USER_JOINED",       "USER_MUTED",        "USER_UNMUTED", "HAND_RAISED", "HAND_LOWERED",
      "ROLE_PROMOTION",    "USER_JOINED",       "USER_KICKED",  "USER_JOINED", "USER_BANNED",
      "RECORDING_STARTED", "RECORDING_STOPPED", "ROOM_ENDED"};
  EXPECT_EQ(actions, expected) << DescribeEvents(events);

  // Each operation's rows, as it left them.
  auto participant = [&](size_t txn, const Uuid& id) -> std::string {
    const rpc::StreamEvent* e = Find(txns[txn], "room_participants", id);
    EXPECT_NE(e, nullptr) << "transaction " << txn << ":\n" << DescribeEvents(txns[txn]);
    return e != nullptr ? e->row : "";
  };
  const Uuid p = joined.participant_id;
  EXPECT_TRUE(HasField(participant(0, p), "user_id", Quoted(g))) << participant(0, p);
  EXPECT_TRUE(HasField(participant(0, p), "room_id", Quoted(r)));
  EXPECT_TRUE(HasField(participant(0, p), "is_muted", "false"));
  ASSERT_NE(Find(txns[0], "rooms", r), nullptr);
  EXPECT_TRUE(HasField(Find(txns[0], "rooms", r)->row, "participant_count", "2"))
      << Find(txns[0], "rooms", r)->row;
  EXPECT_TRUE(HasField(participant(1, p), "is_muted", "true")) << participant(1, p);
  EXPECT_TRUE(HasField(participant(2, p), "is_muted", "false"));
  EXPECT_TRUE(HasField(participant(3, p), "hand_raised", "true"));
  EXPECT_TRUE(HasField(participant(4, p), "hand_raised", "false"));
  EXPECT_TRUE(HasField(participant(5, p), "is_speaking", "true"));
  EXPECT_TRUE(Actions(txns[5]).empty()) << "speaking is a live signal, not audited";
  EXPECT_TRUE(HasField(participant(6, p), "role", Quoted("CO_HOST"))) << participant(6, p);
  EXPECT_TRUE(HasField(participant(7, kicked_p.participant_id), "user_id", Quoted(kicked.user_id)));
  EXPECT_TRUE(HasField(participant(8, kicked_p.participant_id), "is_kicked", "true"));
  EXPECT_FALSE(HasField(participant(8, kicked_p.participant_id), "left_at", "null"));
  EXPECT_TRUE(HasField(participant(10, banned_p.participant_id), "is_banned", "true"));
  const rpc::StreamEvent* started = Find(txns[11], "recordings", rec);
  ASSERT_NE(started, nullptr) << DescribeEvents(txns[11]);
  EXPECT_TRUE(HasField(started->row, "status", Quoted("STARTED"))) << started->row;
  const rpc::StreamEvent* stopped = Find(txns[12], "recordings", rec);
  ASSERT_NE(stopped, nullptr) << DescribeEvents(txns[12]);
  EXPECT_TRUE(HasField(stopped->row, "status", Quoted("STOPPED"))) << stopped->row;
  const rpc::StreamEvent* session = Find(txns[13], "call_sessions", call);
  ASSERT_NE(session, nullptr) << DescribeEvents(txns[13]);
  EXPECT_TRUE(HasField(session->row, "status", Quoted("CONNECTING"))) << session->row;
  EXPECT_TRUE(Actions(txns[13]).empty());
  // The end: the room ENDED, everyone present left, the call ended, all in
  // one transaction.
  const Events& end = txns[14];
  ASSERT_NE(Find(end, "rooms", r), nullptr) << DescribeEvents(end);
  EXPECT_TRUE(HasField(Find(end, "rooms", r)->row, "status", Quoted("ENDED")));
  EXPECT_FALSE(HasField(participant(14, p), "left_at", "null")) << participant(14, p);
  EXPECT_NE(Find(end, "call_sessions", call), nullptr) << DescribeEvents(end);
}

// A user's stream: their notifications, wallet movements (a gift in both
// the sender's and the receiver's), moderation against them and their
// participations; nothing about anyone else.
TEST_F(StreamsTest, AUserStreamCarriesWhatConcernsThemAndNothingElse) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto alice = Register(*c, "alice");
  const auto bob = Register(*c, "bob");
  const auto carol = Register(*c, "carol");
  const auto mod = Register(*c, "mod");
  CallOk(*c, rpc::SetUserRole{.user_id = mod.user_id, .role = "MODERATOR"});
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = bob.user_id, .title = "talk"});

  RawSubscriber alice_sub(server.port()), bob_sub(server.port());
  ASSERT_TRUE(alice_sub.ok() && bob_sub.ok());
  RawStream a = OpenRawStream(alice_sub, std::nullopt, alice.user_id, "", -1);
  RawStream b = OpenRawStream(bob_sub, std::nullopt, bob.user_id, "", -1);

  const auto invite = CallOk(
      *c, rpc::InviteToRoom{
              .room_id = room.room_id, .inviter_id = bob.user_id, .invitee_id = alice.user_id});
  const auto carol_invite = CallOk(
      *c, rpc::InviteToRoom{
              .room_id = room.room_id, .inviter_id = bob.user_id, .invitee_id = carol.user_id});
  const Uuid missed =
      CallOk(*c, rpc::RecordMissedCall{.recipient_id = alice.user_id, .caller_id = bob.user_id});
  const auto top_up = CallOk(*c, rpc::TopUp{.user_id = alice.user_id, .amount = 1000});
  const auto carol_top_up = CallOk(*c, rpc::TopUp{.user_id = carol.user_id, .amount = 500});
  const auto gift =
      CallOk(*c, rpc::Gift{.sender_id = alice.user_id, .receiver_id = bob.user_id, .amount = 100});
  const Uuid warning = CallOk(*c, rpc::TakeModerationAction{.moderator_id = mod.user_id,
                                                            .target_user_id = alice.user_id,
                                                            .type = "WARNING",
                                                            .reason = "spam"});
  const Uuid bob_warning = CallOk(*c, rpc::TakeModerationAction{.moderator_id = mod.user_id,
                                                                .target_user_id = bob.user_id,
                                                                .type = "WARNING",
                                                                .reason = "rude"});
  const auto part = CallOk(*c, rpc::JoinRoom{.room_id = room.room_id, .user_id = alice.user_id});
  const auto carol_part =
      CallOk(*c, rpc::JoinRoom{.room_id = room.room_id, .user_id = carol.user_id});
  CallOk(*c, rpc::SetMuted{.room_id = room.room_id,
                           .actor_id = alice.user_id,
                           .target_id = alice.user_id,
                           .muted = true});
  const Uuid last =
      CallOk(*c, rpc::RecordMissedCall{.recipient_id = alice.user_id, .caller_id = carol.user_id});

  auto has = [](const RawStream& s, const std::string& table, const Uuid& id) {
    return Find(s.events(), table, id) != nullptr;
  };
  ASSERT_TRUE(a.ReadUntil([&] { return has(a, "notifications", last); }))
      << DescribeEvents(a.events());
  // Every event is about alice: her rows, or her wallet's.
  for (const rpc::StreamEvent& e : a.events()) {
    EXPECT_TRUE(Mentions(e, alice.user_id) || Mentions(e, alice.wallet_id))
        << e.table << " " << e.row;
  }
  const Events& ev = a.events();
  // In the order they were made.
  std::vector<const rpc::StreamEvent*> wanted = {Find(ev, "notifications", invite.notification_id),
                                               Find(ev, "notifications", missed),
                                               Find(ev, "transactions", top_up.transfer_id),
                                               Find(ev, "transactions", gift.transfer_id),
                                               Find(ev, "moderation_actions", warning),
                                               Find(ev, "room_participants", part.participant_id),
                                               Find(ev, "notifications", last)};
  for (size_t i = 0; i < wanted.size(); ++i) {
    ASSERT_NE(wanted[i], nullptr) << "item " << i << " missing from:\n" << DescribeEvents(ev);
    if (i > 0) {
      EXPECT_GT(wanted[i]->lsn, wanted[i - 1]->lsn) << i;
    }
  }
  EXPECT_TRUE(HasField(wanted[0]->row, "kind", Quoted("ROOM_INVITATION"))) << wanted[0]->row;
  EXPECT_TRUE(HasField(wanted[1]->row, "kind", Quoted("MISSED_CALL"))) << wanted[1]->row;
  EXPECT_TRUE(HasField(wanted[2]->row, "credit_wallet_id", Quoted(alice.wallet_id)));
  EXPECT_TRUE(HasField(wanted[3]->row, "debit_wallet_id", Quoted(alice.wallet_id)));
  EXPECT_TRUE(HasField(wanted[4]->row, "target_user_id", Quoted(alice.user_id)));
  // Her wallet's balance moved with the top-up and the gift.
  int wallet_events = 0;
  for (const rpc::StreamEvent& e : ev) {
    wallet_events += e.table == "wallets" && e.id == alice.wallet_id;
  }
  EXPECT_GE(wallet_events, 2) << DescribeEvents(ev);
  // Her mute, as her participation's after-image.
  bool muted = false;
  for (const rpc::StreamEvent& e : ev) {
    muted |= e.id == part.participant_id && HasField(e.row, "is_muted", "true");
  }
  EXPECT_TRUE(muted) << DescribeEvents(ev);
  // Nothing of the others.
  EXPECT_FALSE(has(a, "notifications", carol_invite.notification_id));
  EXPECT_FALSE(has(a, "transactions", carol_top_up.transfer_id));
  EXPECT_FALSE(has(a, "moderation_actions", bob_warning));
  EXPECT_FALSE(has(a, "room_participants", carol_part.participant_id));

  // Bob's stream: the gift (received), his warning; not alice's top-up.
  ASSERT_TRUE(b.ReadUntil([&] { return has(b, "moderation_actions", bob_warning); }))
      << DescribeEvents(b.events());
  const rpc::StreamEvent* received = Find(b.events(), "transactions", gift.transfer_id);
  ASSERT_NE(received, nullptr) << DescribeEvents(b.events());
  EXPECT_EQ(received->lsn, Find(ev, "transactions", gift.transfer_id)->lsn);
  EXPECT_EQ(received->row, Find(ev, "transactions", gift.transfer_id)->row);
  EXPECT_FALSE(has(b, "transactions", top_up.transfer_id));
  EXPECT_FALSE(has(b, "moderation_actions", warning));
  for (const rpc::StreamEvent& e : b.events()) {
    EXPECT_TRUE(Mentions(e, bob.user_id) || Mentions(e, bob.wallet_id)) << e.table << " " << e.row;
  }
}

// Table streams: every committed change as an after-image keyed by its
// primary key; "*" has every transaction, "users" exactly the users rows of
// them; a hard delete has no image, a soft delete is an update.
TEST_F(StreamsTest, TableStreamsCarryEveryChangeAsAfterImages) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber all_sub(server.port()), users_sub(server.port());
  ASSERT_TRUE(all_sub.ok() && users_sub.ok());
  RawStream all = OpenRawStream(all_sub, std::nullopt, std::nullopt, "*", -1);
  RawStream users = OpenRawStream(users_sub, std::nullopt, std::nullopt, "users", -1);
  const uint64_t from = all.last_lsn();
  EXPECT_EQ(users.last_lsn(), from);

  const auto u1 = Register(*c, "first");
  const auto u2 = Register(*c, "second");
  CallOk(*c, rpc::UpdateProfile{.user_id = u1.user_id, .bio = "hello"});
  const Uuid category =
      CallOk(*c, rpc::InsertRow{"room_categories", {rpc::Field::Text("name", "Music")}});
  CallOk(*c, rpc::DeleteRow{"room_categories", category});
  const Uuid note = CallOk(*c, rpc::SendNotification{.recipient_id = u1.user_id, .title = "hi"});
  CallOk(*c, rpc::DeleteNotification{.notification_id = note, .recipient_id = u1.user_id});
  CallOk(*c, rpc::DeleteRow{"users", u2.user_id});
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = u1.user_id, .title = "t"});
  CallOk(*c, rpc::UpdateProfile{.user_id = u1.user_id, .display_name = "Last"});
  const uint64_t last = CallOk(*c, rpc::Stats{}).durable_lsn;
  const int ops = 10;

  ASSERT_TRUE(all.ReadThrough(last)) << DescribeEvents(all.events());
  ASSERT_TRUE(users.ReadThrough(last)) << DescribeEvents(users.events());
  // "*": one transaction per operation, every LSN.
  std::vector<uint64_t> lsns = all.Lsns(), expected;
  for (uint64_t l = from + 1; l <= last; ++l) expected.push_back(l);
  EXPECT_EQ(lsns, expected);
  EXPECT_EQ(lsns.size(), static_cast<size_t>(ops));
  for (const rpc::StreamEvent& e : all.events()) {
    if (e.deleted) {
      EXPECT_EQ(e.row, "") << e.table;
    } else {
      EXPECT_TRUE(HasField(e.row, "id", Quoted(e.id))) << e.table << " " << e.row;
    }
    EXPECT_EQ(e.row.find("password_hash"), std::string::npos) << "a secret column: " << e.row;
  }
  // "users": exactly the users events of "*".
  Events users_of_all;
  for (const rpc::StreamEvent& e : all.events()) {
    if (e.table == "users") users_of_all.push_back(e);
  }
  EXPECT_EQ(users.events(), users_of_all) << DescribeEvents(users.events());
  // Registration: the user, their sign-in, their wallet, the audit row.
  const Events first = ByTransaction(all.events()).front();
  EXPECT_NE(Find(first, "users", u1.user_id), nullptr) << DescribeEvents(first);
  EXPECT_NE(Find(first, "auth_providers", u1.auth_provider_id), nullptr) << DescribeEvents(first);
  EXPECT_NE(Find(first, "wallets", u1.wallet_id), nullptr) << DescribeEvents(first);
  EXPECT_EQ(Actions(first), std::vector<std::string>{"USER_REGISTERED"});
  // The profile change, as the row after it.
  const Events profile = ByTransaction(all.events())[2];
  ASSERT_NE(Find(profile, "users", u1.user_id), nullptr);
  EXPECT_TRUE(HasField(Find(profile, "users", u1.user_id)->row, "bio", Quoted("hello")));
  // A hard delete: the key, no image.
  std::vector<const rpc::StreamEvent*> cat;
  for (const rpc::StreamEvent& e : all.events()) {
    if (e.id == category) cat.push_back(&e);
  }
  ASSERT_EQ(cat.size(), 2u) << DescribeEvents(all.events());
  EXPECT_EQ(cat[0]->table, "room_categories");
  EXPECT_FALSE(cat[0]->deleted);
  EXPECT_TRUE(HasField(cat[0]->row, "name", Quoted("Music"))) << cat[0]->row;
  EXPECT_TRUE(cat[1]->deleted);
  EXPECT_EQ(cat[1]->row, "");
  EXPECT_GT(cat[1]->lsn, cat[0]->lsn);
  // Soft deletes: the row stays, with deleted_at set.
  const rpc::StreamEvent* note_deleted = nullptr;
  for (const rpc::StreamEvent& e : all.events()) {
    if (e.id == note) note_deleted = &e;
  }
  ASSERT_NE(note_deleted, nullptr);
  EXPECT_FALSE(note_deleted->deleted);
  EXPECT_FALSE(HasField(note_deleted->row, "deleted_at", "null")) << note_deleted->row;
  const rpc::StreamEvent* u2_deleted = nullptr;
  for (const rpc::StreamEvent& e : users.events()) {
    if (e.id == u2.user_id) u2_deleted = &e;
  }
  ASSERT_NE(u2_deleted, nullptr);
  EXPECT_FALSE(HasField(u2_deleted->row, "deleted_at", "null")) << u2_deleted->row;
  EXPECT_NE(Find(all.events(), "rooms", room.room_id), nullptr);
}

// The Subscribe request's checks: exactly one of room, user, table; each
// must exist; from_lsn is an LSN or -1; never inside a Batch.
TEST_F(StreamsTest, BadSubscriptionsAreRefusedClearly) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto user = Register(*c, "someone");
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = user.user_id, .title = "r"});
  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  std::string message;
  EXPECT_EQ(SubscribeCode(sub, std::nullopt, std::nullopt, "", -1, &message),
            wire::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(message.find("exactly one"), std::string::npos) << message;
  EXPECT_EQ(SubscribeCode(sub, room.room_id, user.user_id, "", -1),
            wire::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SubscribeCode(sub, room.room_id, std::nullopt, "users", -1),
            wire::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(SubscribeCode(sub, std::nullopt, user.user_id, "*", -1),
            wire::StatusCode::INVALID_ARGUMENT);
  const Uuid unknown{0x0123456789abcdefULL, 42};
  EXPECT_EQ(SubscribeCode(sub, unknown, std::nullopt, "", -1, &message),
            wire::StatusCode::NOT_FOUND);
  EXPECT_NE(message.find(FormatUuid(unknown)), std::string::npos) << message;
  EXPECT_EQ(SubscribeCode(sub, std::nullopt, unknown, "", -1), wire::StatusCode::NOT_FOUND);
  EXPECT_EQ(SubscribeCode(sub, std::nullopt, std::nullopt, "no_such_table", -1, &message),
            wire::StatusCode::NOT_FOUND);
  EXPECT_NE(message.find("no_such_table"), std::string::npos) << message;
  EXPECT_EQ(SubscribeCode(sub, std::nullopt, std::nullopt, "*", -2),
            wire::StatusCode::INVALID_ARGUMENT);
  // A room is a room, not a user (and the other way round).
  EXPECT_EQ(SubscribeCode(sub, user.user_id, std::nullopt, "", -1), wire::StatusCode::NOT_FOUND);
  EXPECT_EQ(SubscribeCode(sub, std::nullopt, room.room_id, "", -1), wire::StatusCode::NOT_FOUND);

  // Inside a Batch.
  {
    flatbuffers::FlatBufferBuilder fbb(256);
    auto s = wire::CreateSubscribe(fbb, nullptr, nullptr, fbb.CreateString("*"), -1);
    std::vector<flatbuffers::Offset<wire::BatchOp>> ops = {
        wire::CreateBatchOp(fbb, wire::Op::Subscribe, s.Union())};
    auto batch = wire::CreateBatch(fbb, fbb.CreateVector(ops));
    wire::RequestBuilder rb(fbb);
    rb.add_id(77);
    rb.add_op_type(wire::Op::Batch);
    rb.add_op(batch.Union());
    fbb.FinishSizePrefixed(rb.Finish());
    const ParsedResponse r = sub.Call(FinishedFrame(fbb), 77);
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::INVALID_ARGUMENT) << r.message();
  }
  // Unsubscribing what is not there.
  {
    const ParsedResponse r = sub.Call(UnsubscribeFrame(78, 12345), 78);
    ASSERT_TRUE(r.valid());
    EXPECT_EQ(r->code(), wire::StatusCode::NOT_FOUND) << r.message();
  }
  // None of it broke the connection: a good Subscribe still works, and
  // nothing was subscribed by the bad ones.
  RawStream all = OpenRawStream(sub, std::nullopt, std::nullopt, "*", -1, 90);
  const auto later = Register(*c, "later");
  ASSERT_TRUE(all.ReadUntil([&] { return Find(all.events(), "users", later.user_id) != nullptr; }));
  for (const ParsedResponse& r : sub.held()) {
    ADD_FAILURE() << "a frame of request " << r->id() << " (code " << static_cast<int>(r->code())
                  << ")";
  }
}

// A subscribed connection serves other requests too: a Stats answer and a
// second subscription's batches interleave with the first's, by request id.
TEST_F(StreamsTest, ASubscribedConnectionServesOtherRequests) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto owner = Register(*c, "owner");
  const auto guest = Register(*c, "guest");
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = owner.user_id, .title = "r"});
  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream room_stream = OpenRawStream(sub, room.room_id, std::nullopt, "", -1, 11);

  CallOk(*c, rpc::JoinRoom{.room_id = room.room_id, .user_id = guest.user_id});
  ASSERT_TRUE(room_stream.ReadEvents(1));
  // A request between events: its answer, whatever is pushed around it.
  ASSERT_TRUE(sub.conn().Send(StatsFrame(99)));
  CallOk(*c, rpc::SetHandRaised{.room_id = room.room_id,
                                .actor_id = guest.user_id,
                                .target_id = guest.user_id,
                                .raised = true});
  const ParsedResponse stats = sub.NextFor(99);
  ASSERT_TRUE(stats.valid());
  EXPECT_EQ(stats->code(), wire::StatusCode::OK) << stats.message();
  EXPECT_NE(stats->result_as_StatsResult(), nullptr);
  // A second stream on the same connection.
  RawStream users_stream = OpenRawStream(sub, std::nullopt, std::nullopt, "users", -1, 12);
  EXPECT_NE(users_stream.subscription(), room_stream.subscription());
  const auto late = Register(*c, "late");
  CallOk(*c, rpc::SetMuted{.room_id = room.room_id,
                           .actor_id = guest.user_id,
                           .target_id = guest.user_id,
                           .muted = true});
  ASSERT_TRUE(room_stream.ReadUntil([&] {
    return !Actions(room_stream.events()).empty() &&
           Actions(room_stream.events()).back() == "USER_MUTED";
  })) << DescribeEvents(room_stream.events());
  EXPECT_EQ(Actions(room_stream.events()),
            (std::vector<std::string>{"USER_JOINED", "HAND_RAISED", "USER_MUTED"}));
  ASSERT_TRUE(users_stream.ReadUntil(
      [&] { return Find(users_stream.events(), "users", late.user_id) != nullptr; }));
  for (const rpc::StreamEvent& e : users_stream.events()) EXPECT_EQ(e.table, "users");
}

// Unsubscribe: answered OK, then the stream's last batch says
// "unsubscribed" and nothing follows; the connection stays usable.
TEST_F(StreamsTest, UnsubscribeEndsTheStream) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto owner = Register(*c, "owner");
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = owner.user_id, .title = "r"});
  const Uuid o = owner.user_id;
  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream stream = OpenRawStream(sub, room.room_id, std::nullopt, "", -1, 11);
  ASSERT_NE(stream.subscription(), 0u);
  CallOk(*c, rpc::SetMuted{.room_id = room.room_id, .actor_id = o, .target_id = o, .muted = true});
  ASSERT_TRUE(stream.ReadEvents(2));

  const ParsedResponse answer = sub.Call(UnsubscribeFrame(50, stream.subscription()), 50);
  ASSERT_TRUE(answer.valid());
  EXPECT_EQ(answer->code(), wire::StatusCode::OK) << answer.message();
  ASSERT_TRUE(stream.ReadToEnd());
  EXPECT_EQ(stream.ended(), "unsubscribed");
  // Twice: there is no such subscription any more.
  const ParsedResponse again = sub.Call(UnsubscribeFrame(51, stream.subscription()), 51);
  ASSERT_TRUE(again.valid());
  EXPECT_EQ(again->code(), wire::StatusCode::NOT_FOUND) << again.message();

  // Later changes go to a new subscription on the same connection, not to
  // the old one.
  CallOk(*c, rpc::SetMuted{.room_id = room.room_id, .actor_id = o, .target_id = o, .muted = false});
  RawStream next = OpenRawStream(sub, room.room_id, std::nullopt, "",
                                 static_cast<int64_t>(stream.last_lsn()), 12);
  ASSERT_TRUE(next.ReadUntil([&] { return !Actions(next.events()).empty(); }));
  EXPECT_EQ(Actions(next.events()), std::vector<std::string>{"USER_UNMUTED"});
  for (const ParsedResponse& r : sub.held()) {
    ADD_FAILURE() << "a frame of request " << r->id() << " after the unsubscribe";
  }
}

// --idle_timeout_s closes silent connections, but not one that only
// listens to its subscriptions.
TEST_F(StreamsTest, ASubscriberOutlivesTheIdleTimeout) {
  ServerProcess server(dir_.path() + "/db", {"--idle_timeout_s=1"});
  uint64_t room_lsn = 0;
  Uuid room_id, owner_id;
  {
    auto c = server.Connect();
    ASSERT_NE(c, nullptr);
    owner_id = Register(*c, "owner").user_id;
    room_id = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = owner_id, .title = "r"}).room_id;
    room_lsn = CallOk(*c, rpc::Stats{}).durable_lsn;
  }
  RawSubscriber sub(server.port()), silent(server.port());
  ASSERT_TRUE(sub.ok() && silent.ok());
  RawStream stream = OpenRawStream(sub, room_id, std::nullopt, "", -1);
  EXPECT_EQ(stream.last_lsn(), room_lsn);
  // Longer than the timeout, twice over.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_TRUE(silent.conn().Closed()) << "the idle timeout is not in force";
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  CallOk(*c, rpc::SetMuted{
                 .room_id = room_id, .actor_id = owner_id, .target_id = owner_id, .muted = true});
  ASSERT_TRUE(stream.ReadUntil([&] { return !Actions(stream.events()).empty(); }));
  EXPECT_EQ(Actions(stream.events()), std::vector<std::string>{"USER_MUTED"});
}

// Without a WAL (--durability=none) streams work the same: commits are
// numbered in order and every one is delivered.
TEST_F(StreamsTest, StreamsWorkWithoutAWal) {
  ServerProcess server(dir_.path() + "/db", {"--durability=none"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream all = OpenRawStream(sub, std::nullopt, std::nullopt, "*", -1);
  const uint64_t from = all.last_lsn();
  std::vector<Uuid> users;
  for (int i = 0; i < 20; ++i) users.push_back(Register(*c, StrCat("user", i)).user_id);
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = users[0], .title = "r"});
  ASSERT_TRUE(all.ReadUntil([&] { return Find(all.events(), "rooms", room.room_id) != nullptr; }))
      << DescribeEvents(all.events());
  std::vector<uint64_t> expected;
  for (uint64_t l = from + 1; l <= from + 21; ++l) expected.push_back(l);
  EXPECT_EQ(all.Lsns(), expected);
  for (size_t i = 0; i < users.size(); ++i) {
    const rpc::StreamEvent* e = Find(all.events(), "users", users[i]);
    ASSERT_NE(e, nullptr) << i;
    EXPECT_EQ(e->lsn, from + 1 + i);
  }
  // A resume from the history works too.
  RawSubscriber again(server.port());
  ASSERT_TRUE(again.ok());
  RawStream resumed =
      OpenRawStream(again, std::nullopt, std::nullopt, "*", static_cast<int64_t>(from + 10));
  ASSERT_TRUE(resumed.ReadThrough(from + 21));
  Events tail;
  for (const rpc::StreamEvent& e : all.events()) {
    if (e.lsn > from + 10) tail.push_back(e);
  }
  EXPECT_EQ(resumed.events(), tail);
}

// The protocol: the Subscribe's answer (SubscribeResult), then the stream's
// batches. A subscription from an LSN in the history has batches to send
// at once; they must still come after the answer (a client reads the
// answer first, to learn its subscription and where its events start).
TEST_F(StreamsTest, TheSubscribeAnswerComesBeforeTheFirstBatch) {
  for (const std::string durability : {"fsync", "none"}) {
    ServerProcess server(dir_.path() + "/" + durability, {"--durability=" + durability});
    auto c = server.Connect();
    ASSERT_NE(c, nullptr);
    for (int i = 0; i < 20; ++i) Register(*c, StrCat("user", i));
    const int tries = 300;
    int early = 0;
    for (int i = 0; i < tries; ++i) {
      RawSubscriber sub(server.port());
      ASSERT_TRUE(sub.ok());
      RawStream all = OpenRawStream(sub, std::nullopt, std::nullopt, "*", 0);
      early += sub.batches_before_answer() > 0;
      ASSERT_TRUE(all.ReadThrough(20)) << durability;
      ASSERT_EQ(all.Lsns().size(), 20u) << durability;
    }
    EXPECT_EQ(early, 0) << "--durability=" << durability << ": in " << early << " of " << tries
                        << " subscriptions from LSN 0 a batch came before the Subscribe's answer";
  }
}

// The same for Unsubscribe: its answer, then the stream's last batch
// ("answer: Empty; then its stream's last EventBatch", schema/voxdb.fbs).
TEST_F(StreamsTest, TheUnsubscribeAnswerComesBeforeTheLastBatch) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  Register(*c, "someone");
  // A race: many tries.
  const int tries = 2000;
  int early = 0;
  for (int i = 0; i < tries; ++i) {
    RawSubscriber sub(server.port());
    ASSERT_TRUE(sub.ok());
    RawStream all = OpenRawStream(sub, std::nullopt, std::nullopt, "*", -1);
    const ParsedResponse answer = sub.Call(UnsubscribeFrame(50, all.subscription()), 50);
    ASSERT_TRUE(answer.valid());
    ASSERT_EQ(answer->code(), wire::StatusCode::OK) << answer.message();
    for (const ParsedResponse& r : sub.held()) {  // read before the answer
      const std::optional<RawEventBatch> b = AsEventBatch(r);
      early += b && !b->ended.empty();
    }
    ASSERT_TRUE(all.ReadToEnd());
    ASSERT_EQ(all.ended(), "unsubscribed");
  }
  EXPECT_EQ(early, 0) << "in " << early << " of " << tries
                      << " unsubscribes the stream's last batch came before the answer";
}

// A database without a commit yet (LSN 0) serves subscriptions like any
// other: an Unsubscribe ends the stream.
TEST_F(StreamsTest, UnsubscribeWorksBeforeTheFirstCommit) {
  ServerProcess server(dir_.path() + "/db");
  RawSubscriber sub(server.port(), /*timeout_ms=*/3000);
  ASSERT_TRUE(sub.ok());
  RawStream all = OpenRawStream(sub, std::nullopt, std::nullopt, "*", -1);
  EXPECT_EQ(all.last_lsn(), 0u);
  const ParsedResponse answer = sub.Call(UnsubscribeFrame(50, all.subscription()), 50);
  ASSERT_TRUE(answer.valid());
  EXPECT_EQ(answer->code(), wire::StatusCode::OK) << answer.message();
  ASSERT_TRUE(all.ReadToEnd()) << "no last batch within 3 s";
  EXPECT_EQ(all.ended(), "unsubscribed");
}

}  // namespace
}  // namespace vox
