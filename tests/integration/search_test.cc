// The searches (docs/searches.md) and the live-state tracking reads through
// vox::Client against a real voxdb process: each search with data written
// through the client, its filters, two sort orders, every page at two rows
// a page adding up to the whole listing, pages continued across writes, the
// refusals (bad cursor, sort, enum name, range; unknown ids), a readonly
// token, and the hand-raise queue.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "gtest/gtest.h"
#include "net/client.h"
#include "schema/str.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using absl::StatusCode;

constexpr Timestamp kSecond = 1'000'000;

Timestamp Now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// Leaves a gap in the server's clock between two writes.
void Pause() { std::this_thread::sleep_for(std::chrono::milliseconds(3)); }

// A string value of a JSON row (ids, enum names, times); "" when absent.
std::string JsonText(const std::string& row, const std::string& column) {
  const std::string key = StrCat("\"", column, "\":\"");
  const size_t at = row.find(key);
  if (at == std::string::npos) return "";
  const size_t start = at + key.size();
  return row.substr(start, row.find('"', start) - start);
}
std::vector<std::string> Ids(const rpc::SearchPage& page) {
  std::vector<std::string> out;
  for (const std::string& row : page.rows) out.push_back(JsonText(row, "id"));
  return out;
}
std::vector<std::string> Ids(std::initializer_list<Uuid> ids) {
  std::vector<std::string> out;
  for (const Uuid& id : ids) out.push_back(FormatUuid(id));
  return out;
}
std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}
bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

class SearchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(
        dir_.path() + "/db", std::vector<std::string>{"--maintenance_interval_s=0"});
    ASSERT_NE(server_->port(), 0);
    client_ = server_->Connect();
    ASSERT_NE(client_, nullptr);
  }

  // Runs `op`, expecting success; its answer (a default one on failure).
  template <typename Op>
  typename Op::Result Ok(const Op& op) {
    return CallOk(*client_, op);
  }
  template <typename Op>
  absl::Status Refusal(const Op& op) {
    auto r = client_->Call(op);
    if constexpr (std::is_void_v<typename Op::Result>) {
      return r;
    } else {
      return r.status();
    }
  }
  rpc::Registered Register(const std::string& name) {
    return Ok(rpc::RegisterUser{name, name + "@example.com", "h", name});
  }

  // One page holding every match (the search's whole listing), in order.
  template <typename Op>
  std::vector<std::string> Whole(Op op) {
    op.limit = 1000;
    op.after.clear();
    const rpc::SearchPage page = Ok(op);
    EXPECT_FALSE(page.next.has_value());
    return Ids(page);
  }
  // Follows `next` from `op.after` at `op.limit` rows a page; the ids in order.
  template <typename Op>
  std::vector<std::string> Pages(Op op) {
    std::vector<std::string> ids;
    for (int i = 0; i < 500; ++i) {
      const rpc::SearchPage page = Ok(op);
      EXPECT_LE(page.rows.size(), op.limit);
      for (const std::string& id : Ids(page)) ids.push_back(id);
      if (!page.next) return ids;
      EXPECT_EQ(page.rows.size(), op.limit) << "a page before the last one is full";
      op.after = *page.next;
    }
    ADD_FAILURE() << "more than 500 pages";
    return ids;
  }
  // Every page at two rows a page lists exactly the whole listing: the
  // same rows, each once, in the same order. Answers the listing.
  template <typename Op>
  std::vector<std::string> ExpectPagesAddUp(Op op) {
    const std::vector<std::string> whole = Whole(op);
    op.limit = 2;
    op.after.clear();
    const std::vector<std::string> paged = Pages(op);
    EXPECT_EQ(paged, whole);
    EXPECT_EQ(std::set<std::string>(paged.begin(), paged.end()).size(), paged.size());
    return whole;
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
};

// ---- Users ----

TEST_F(SearchTest, Users) {
  const Uuid alice = Register("alice").user_id;
  const Uuid albert = Register("albert").user_id;
  Pause();
  const Timestamp mid = Now();
  Pause();
  const Uuid alfred = Register("alfred").user_id;
  const Uuid bob = Register("bob").user_id;
  Ok(rpc::VerifyEmail{alfred});
  Ok(rpc::RecordLogin{.user_id = bob, .identifier = "bob", .credentials_ok = true});
  Pause();
  Ok(rpc::RecordLogin{.user_id = alice, .identifier = "alice", .credentials_ok = true});

  // A prefix (case-insensitive) in two orders.
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.username_prefix = "AL", .sort = "username_asc"})),
            Ids({albert, alfred, alice}));
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.username_prefix = "al"})),  // default: created_desc
            Ids({alfred, albert, alice}));
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.username_prefix = "al", .sort = "CREATED_ASC"})),
            Ids({alice, albert, alfred}));
  // Last sign-in, newest first; never signed in last.
  const auto by_login = Ids(Ok(rpc::SearchUsers{.sort = "last_login_desc"}));
  ASSERT_EQ(by_login.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(by_login.begin(), by_login.begin() + 2), Ids({alice, bob}));
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.last_login = {.from = mid}, .sort = "last_login_desc"})),
            Ids({alice, bob}));
  // The other filters.
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.verified = true})), Ids({alfred}));
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.created = {.from = mid}})), Ids({bob, alfred}));
  EXPECT_EQ(Ids(Ok(rpc::SearchUsers{.created = {.to = mid}})), Ids({albert, alice}));
  const rpc::SearchPage by_email = Ok(rpc::SearchUsers{.email = "BOB@example.com"});
  ASSERT_EQ(Ids(by_email), Ids({bob}));
  EXPECT_TRUE(Has(by_email.plan, "users_email")) << by_email.plan;
  EXPECT_FALSE(Has(by_email.rows[0], "password_hash")) << "secrets are left out";
  EXPECT_TRUE(Ok(rpc::SearchUsers{.account_status = {"SUSPENDED"}}).rows.empty());
  EXPECT_EQ(Ok(rpc::SearchUsers{.role = {"USER", "MODERATOR"}}).rows.size(), 4u);

  // ACTIVE users by creation walk users_active; pages add up either way.
  const rpc::SearchPage active = Ok(rpc::SearchUsers{.account_status = {"ACTIVE"}, .limit = 2});
  EXPECT_TRUE(Has(active.plan, "index users_active in sort order")) << active.plan;
  EXPECT_EQ(Sorted(ExpectPagesAddUp(rpc::SearchUsers{.account_status = {"ACTIVE"}})),
            Sorted(Ids({alice, albert, alfred, bob})));
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchUsers{.sort = "username_asc"}),
            Ids({albert, alfred, alice, bob}));
}

// A page continued after writes: rows that match throughout appear exactly
// once; a row inserted past the cursor shows up on a later page.
TEST_F(SearchTest, PagesContinueAcrossWrites) {
  std::vector<Uuid> users;
  for (const char* name : {"user1", "user2", "user3", "user4", "user5"})
    users.push_back(Register(name).user_id);
  rpc::SearchUsers oldest_first{.sort = "created_asc", .limit = 2};
  const rpc::SearchPage first = Ok(oldest_first);
  ASSERT_TRUE(first.next.has_value());
  EXPECT_EQ(Ids(first), Ids({users[0], users[1]}));

  // Between pages: a new user (the newest: after the cursor), a changed one.
  const Uuid late = Register("user6").user_id;
  Ok(rpc::UpdateProfile{.user_id = users[3], .display_name = "Renamed"});
  oldest_first.after = *first.next;
  EXPECT_EQ(Pages(oldest_first), Ids({users[2], users[3], users[4], late}));

  // Newest first: what is inserted between pages is before the cursor and
  // not seen; the rest continues exactly.
  rpc::SearchUsers newest_first{.limit = 2};
  const std::vector<std::string> whole = Whole(newest_first);
  const rpc::SearchPage page = Ok(newest_first);
  Register("user7");
  newest_first.after = *page.next;
  EXPECT_EQ(Pages(newest_first), std::vector<std::string>(whole.begin() + 2, whole.end()));

  // The audit trail grows between pages (each join and leave adds a row).
  const Uuid host = users[0];
  const rpc::OpenedRoom room = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Trail"});
  for (size_t i = 1; i < users.size(); ++i) Ok(rpc::JoinRoom{room.room_id, users[i]});
  rpc::SearchAudit trail{.room_id = room.room_id, .limit = 3};
  const std::vector<std::string> before = Whole(trail);
  const rpc::SearchPage page1 = Ok(trail);
  for (size_t i = 1; i < users.size(); ++i) Ok(rpc::LeaveRoom{room.room_id, users[i]});
  trail.after = *page1.next;
  EXPECT_EQ(Pages(trail), std::vector<std::string>(before.begin() + 3, before.end()));
  // Oldest first, the new rows come after the cursor: they all appear, once.
  rpc::SearchAudit oldest{.room_id = room.room_id, .sort = "oldest_first", .limit = 2};
  const rpc::SearchPage o1 = Ok(oldest);
  Ok(rpc::JoinRoom{room.room_id, users[1]});
  oldest.after = *o1.next;
  std::vector<std::string> all = Ids(o1);
  for (const std::string& id : Pages(oldest)) all.push_back(id);
  EXPECT_EQ(all, Whole(rpc::SearchAudit{.room_id = room.room_id, .sort = "oldest_first"}));
}

// ---- Rooms ----

TEST_F(SearchTest, Rooms) {
  const Uuid host = Register("host").user_id;
  const Uuid dj = Register("deejay").user_id;
  std::vector<Uuid> fans;
  for (const char* name : {"fan1", "fan2", "fan3"}) fans.push_back(Register(name).user_id);

  const Uuid jazz =
      Ok(rpc::CreateAndOpenRoom{
             .owner_id = host, .title = "Jazz", .max_participants = 2, .tags = {"music"}})
          .room_id;
  Pause();
  const Uuid mixed =
      Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Mixed", .tags = {"music", "talk"}})
          .room_id;
  const Uuid chat =
      Ok(rpc::CreateAndOpenRoom{.owner_id = dj, .title = "Chat", .tags = {"talk"}}).room_id;
  const Uuid secret =
      Ok(rpc::CreateAndOpenRoom{
             .owner_id = host, .title = "Secret", .is_public = false, .tags = {"music"}})
          .room_id;
  const Timestamp at8 = Now() + 3600 * kSecond;
  const Uuid later = Ok(rpc::CreateRoom{.owner_id = host,
                                        .title = "Later",
                                        .settings = {.scheduled_start = at8,
                                                     .tags = std::vector<std::string>{"music"}}})
                         .room_id;
  Ok(rpc::JoinRoom{jazz, fans[0]});                        // 2 of 2: full
  for (const Uuid& f : fans) Ok(rpc::JoinRoom{mixed, f});  // 4

  // The tracking read: live rooms with a tag, busiest first.
  const rpc::SearchRooms busiest{
      .tags = {"music"}, .status = {"LIVE"}, .sort = "participants_desc", .limit = 20};
  EXPECT_EQ(Ids(Ok(busiest)), Ids({mixed, jazz, secret}));
  EXPECT_EQ(ExpectPagesAddUp(busiest), Ids({mixed, jazz, secret}));
  // Public LIVE rooms of a tag by start walk rooms_live_by_tag in order.
  const rpc::SearchPage started = Ok(rpc::SearchRooms{
      .tags = {"music"}, .status = {"LIVE"}, .is_public = true, .sort = "started_desc"});
  EXPECT_EQ(Ids(started), Ids({mixed, jazz}));
  EXPECT_TRUE(Has(started.plan, "index rooms_live_by_tag in sort order")) << started.plan;
  // Every tag, any tag, a free seat, participants, capacity.
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.tags_all = {"music", "talk"}})), Ids({mixed}));
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.tags = {"talk", "nosuchtag"}})), Ids({chat, mixed}));
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.tags = {"music"},
                                    .status = {"LIVE"},
                                    .has_free_seat = true,
                                    .sort = "participants_desc"})),
            Ids({mixed, secret}));
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.participants = {.min = 2}, .sort = "created_asc"})),
            Ids({jazz, mixed}));
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.max_participants = {.max = 10}})), Ids({jazz}));
  const rpc::SearchPage nothing = Ok(rpc::SearchRooms{.tags = {"nosuchtag"}});
  EXPECT_TRUE(nothing.rows.empty());
  EXPECT_TRUE(Has(nothing.plan, "no row can match")) << nothing.plan;
  // Status, schedule, owner.
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.status = {"CREATED"}})), Ids({later}));
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.scheduled = {.from = at8 - kSecond, .to = at8 + kSecond},
                                    .sort = "scheduled_asc"})),
            Ids({later}));
  const rpc::SearchPage by_owner = Ok(rpc::SearchRooms{.owner_id = dj});
  EXPECT_EQ(Ids(by_owner), Ids({chat}));
  EXPECT_TRUE(Has(by_owner.plan, "rooms_by_owner")) << by_owner.plan;
  EXPECT_EQ(Ids(Ok(rpc::SearchRooms{.is_public = false})), Ids({secret}));

  // LIVE rooms by creation walk rooms_by_status; two orders, pages add up.
  const rpc::SearchPage live = Ok(rpc::SearchRooms{.live_now = true});
  EXPECT_TRUE(Has(live.plan, "index rooms_by_status in sort order")) << live.plan;
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchRooms{.live_now = true}), Ids({secret, chat, mixed, jazz}));
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchRooms{.live_now = true, .sort = "created_asc"}),
            Ids({jazz, mixed, chat, secret}));

  // A room that ends between pages drops out; the others appear once.
  rpc::SearchRooms live_oldest{.live_now = true, .sort = "created_asc", .limit = 2};
  const rpc::SearchPage p1 = Ok(live_oldest);
  EXPECT_EQ(Ids(p1), Ids({jazz, mixed}));
  Ok(rpc::EndRoom{chat, dj});
  live_oldest.after = *p1.next;
  EXPECT_EQ(Pages(live_oldest), Ids({secret}));
}

// ---- Call sessions and participants ----

TEST_F(SearchTest, CallSessionsAndParticipants) {
  const Uuid host = Register("host").user_id;
  const Uuid ana = Register("ana").user_id;
  const Uuid ben = Register("ben").user_id;
  const Uuid cy = Register("cyd").user_id;
  const rpc::OpenedRoom room = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Call"});
  const rpc::OpenedRoom other = Ok(rpc::CreateAndOpenRoom{.owner_id = cy, .title = "Other"});
  const Uuid ana_part = Ok(rpc::JoinRoom{room.room_id, ana}).participant_id;
  const Uuid ben_part = Ok(rpc::JoinRoom{room.room_id, ben}).participant_id;
  const Uuid cy_part = Ok(rpc::JoinRoom{room.room_id, cy}).participant_id;

  const Timestamp before = Now();
  const Uuid s_host = Ok(rpc::StartCallSession{room.host_participant_id});
  Pause();
  const Uuid s_ana = Ok(rpc::StartCallSession{ana_part});
  Pause();
  const Uuid s_ben = Ok(rpc::StartCallSession{ben_part});
  Pause();
  const Uuid s_cy = Ok(rpc::StartCallSession{cy_part});
  Ok(rpc::ConnectCallSession{
      s_host, {.rtt_ms = 40, .packet_loss_bp = 10, .region = "eu-west", .transport = "UDP"}});
  Ok(rpc::ConnectCallSession{
      s_ana, {.rtt_ms = 300, .packet_loss_bp = 900, .region = "us-east", .transport = "TURN_TCP"}});
  Ok(rpc::FailCallSession{s_ben, "ICE_FAILED", "no route"});

  const Uuid r = room.room_id;
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.room_id = r, .sort = "started_asc"})),
            Ids({s_host, s_ana, s_ben, s_cy}));
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchCallSessions{.room_id = r}),
            Ids({s_cy, s_ben, s_ana, s_host}));
  // Telemetry: worst first; unmeasured last.
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.status = {"CONNECTED"}, .sort = "packet_loss_desc"})),
            Ids({s_ana, s_host}));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.room_id = r, .sort = "rtt_desc"}))[0],
            FormatUuid(s_ana));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.rtt_ms = {.min = 100}})), Ids({s_ana}));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.packet_loss_bp = {.max = 100}})), Ids({s_host}));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.failure_reason = {"ICE_FAILED", "TIMEOUT"}})),
            Ids({s_ben}));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.transport = {"TURN_TCP"}})), Ids({s_ana}));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.region = "eu-west"})), Ids({s_host}));
  EXPECT_EQ(Ids(Ok(rpc::SearchCallSessions{.user_id = cy})), Ids({s_cy}));
  EXPECT_TRUE(Ok(rpc::SearchCallSessions{.room_id = other.room_id}).rows.empty());
  EXPECT_EQ(Ok(rpc::SearchCallSessions{.started = {.from = before}}).rows.size(), 4u);
  const rpc::SearchPage open =
      Ok(rpc::SearchCallSessions{.status = {"CONNECTING", "CONNECTED"}, .room_id = r});
  EXPECT_EQ(Ids(open), Ids({s_cy, s_ana, s_host}));
  EXPECT_TRUE(Has(open.plan, "call_sessions_open")) << open.plan;
  const rpc::SearchPage mine = Ok(rpc::SearchCallSessions{.participant_id = ana_part});
  EXPECT_EQ(Ids(mine), Ids({s_ana}));
  EXPECT_TRUE(Has(mine.plan, "call_sessions_by_participant")) << mine.plan;

  // Participants: who left, who is here, by role and by time.
  Ok(rpc::LeaveRoom{r, ana});
  Pause();
  Ok(rpc::LeaveRoom{r, ben});
  EXPECT_EQ(Ids(Ok(rpc::SearchParticipants{.present = false, .room_id = r, .sort = "left_desc"})),
            Ids({ben_part, ana_part}));
  const rpc::SearchPage here = Ok(rpc::SearchParticipants{.present = true, .room_id = r});
  EXPECT_EQ(Ids(here), Ids({cy_part, room.host_participant_id}));
  EXPECT_TRUE(Has(here.plan, "participants_by_room")) << here.plan;
  EXPECT_EQ(Ids(Ok(rpc::SearchParticipants{.role = {"HOST"}})),
            Ids({other.host_participant_id, room.host_participant_id}));
  EXPECT_EQ(Ids(Ok(rpc::SearchParticipants{.user_id = cy, .sort = "joined_asc"})).size(), 2u);
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchParticipants{.room_id = r, .sort = "joined_asc"}),
            Ids({room.host_participant_id, ana_part, ben_part, cy_part}));
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchParticipants{.room_id = r, .sort = "left_desc"}).size(),
            4u);
  EXPECT_TRUE(Ok(rpc::SearchParticipants{.kicked = true}).rows.empty());
}

// ---- Moderation, audit, transfers, notifications ----

TEST_F(SearchTest, ModerationAndAudit) {
  const Uuid host = Register("host").user_id;
  const Uuid ana = Register("ana").user_id;
  const Uuid ben = Register("ben").user_id;
  const Uuid r = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Mod"}).room_id;
  Ok(rpc::JoinRoom{r, ana});
  Ok(rpc::JoinRoom{r, ben});
  const Uuid mute = Ok(rpc::TakeModerationAction{.moderator_id = host,
                                                 .target_user_id = ana,
                                                 .type = "MUTE",
                                                 .room_id = r,
                                                 .reason = "noise",
                                                 .expires_at = Now() + 3600 * kSecond});
  Pause();
  const Uuid kick_ana = Ok(rpc::TakeModerationAction{
      .moderator_id = host, .target_user_id = ana, .type = "KICK", .room_id = r, .reason = "out"});
  Pause();
  const Uuid ban_ben = Ok(rpc::TakeModerationAction{.moderator_id = host,
                                                    .target_user_id = ben,
                                                    .type = "ROOM_BAN",
                                                    .room_id = r,
                                                    .reason = "spam"});

  const rpc::SearchPage anas = Ok(rpc::SearchModeration{.target_user_id = ana});
  EXPECT_EQ(Ids(anas), Ids({kick_ana, mute}));
  EXPECT_TRUE(Has(anas.plan, "moderation_by_target")) << anas.plan;
  EXPECT_EQ(Ids(Ok(rpc::SearchModeration{.target_user_id = ana, .sort = "created_asc"})),
            Ids({mute, kick_ana}));
  EXPECT_EQ(Ids(Ok(rpc::SearchModeration{.action_type = {"ROOM_BAN", "WARNING"}})), Ids({ban_ben}));
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchModeration{.moderator_id = host, .room_id = r}),
            Ids({ban_ben, kick_ana, mute}));
  EXPECT_EQ(Ok(rpc::SearchModeration{.in_force = true}).rows.size(), 3u);

  // The audit trail: by room (an index), by action, both orders, a time range.
  const rpc::SearchPage joins = Ok(rpc::SearchAudit{.action = {"USER_JOINED"}, .room_id = r});
  ASSERT_EQ(joins.rows.size(), 3u);  // the host, ana, ben
  EXPECT_TRUE(Has(joins.plan, "audit_by_room")) << joins.plan;
  EXPECT_EQ(JsonText(joins.rows[0], "user_id"), FormatUuid(ben));
  EXPECT_EQ(JsonText(joins.rows[2], "user_id"), FormatUuid(host));
  const std::vector<std::string> newest = Ids(joins);
  EXPECT_EQ(
      Ids(Ok(rpc::SearchAudit{.action = {"USER_JOINED"}, .room_id = r, .sort = "oldest_first"})),
      std::vector<std::string>(newest.rbegin(), newest.rend()));
  const std::vector<std::string> room_trail = ExpectPagesAddUp(rpc::SearchAudit{.room_id = r});
  EXPECT_GE(room_trail.size(), 8u);
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchAudit{.room_id = r, .sort = "oldest_first"}),
            std::vector<std::string>(room_trail.rbegin(), room_trail.rend()));
  const rpc::SearchPage registered = Ok(rpc::SearchAudit{.action = {"USER_REGISTERED"}});
  EXPECT_EQ(registered.rows.size(), 3u);
  EXPECT_TRUE(Has(registered.plan, "scan")) << registered.plan;
  EXPECT_TRUE(Ok(rpc::SearchAudit{.time = {.from = Now() + 3600 * kSecond}}).rows.empty());
  EXPECT_FALSE(Ok(rpc::SearchAudit{.user_id = host, .target_user_id = ana}).rows.empty());
}

TEST_F(SearchTest, TransfersAndNotifications) {
  const rpc::Registered ana = Register("ana");
  const rpc::Registered ben = Register("ben");
  const Uuid top_up = Ok(rpc::TopUp{.user_id = ana.user_id, .amount = 1000}).transfer_id;
  Pause();
  const Uuid small = Ok(rpc::Gift{ana.user_id, ben.user_id, 50}).transfer_id;
  Pause();
  const Uuid big = Ok(rpc::Gift{ana.user_id, ben.user_id, 300}).transfer_id;

  const rpc::SearchPage out = Ok(
      rpc::SearchTransfers{.type = {"GIFT"}, .direction = "outgoing", .wallet_id = ana.wallet_id});
  EXPECT_EQ(Ids(out), Ids({big, small}));
  EXPECT_TRUE(Has(out.plan, "transactions_by_debit_wallet")) << out.plan;
  EXPECT_EQ(Ids(Ok(rpc::SearchTransfers{
                .type = {"GIFT"}, .wallet_id = ana.wallet_id, .sort = "created_asc"})),
            Ids({small, big}));
  EXPECT_EQ(Ids(Ok(rpc::SearchTransfers{.direction = "incoming", .wallet_id = ana.wallet_id})),
            Ids({top_up}));
  EXPECT_EQ(Ids(Ok(rpc::SearchTransfers{.type = {"GIFT", "TOP_UP"}, .sort = "amount_desc"})),
            Ids({top_up, big, small}));
  EXPECT_EQ(Ids(Ok(rpc::SearchTransfers{.type = {"GIFT"}, .amount = {.min = 100, .max = 500}})),
            Ids({big}));
  EXPECT_EQ(Ok(rpc::SearchTransfers{.status = {"PENDING"}}).rows.size(), 0u);
  const std::vector<std::string> ana_all =
      ExpectPagesAddUp(rpc::SearchTransfers{.wallet_id = ana.wallet_id});
  EXPECT_GE(ana_all.size(), 3u);  // plus any fees
  EXPECT_EQ(
      ExpectPagesAddUp(rpc::SearchTransfers{.wallet_id = ana.wallet_id, .sort = "amount_desc"})
          .size(),
      ana_all.size());

  // Notifications: a recipient's inbox, unread first, by kind.
  const Uuid hello = Ok(rpc::SendNotification{.recipient_id = ben.user_id, .title = "Hello"});
  Pause();
  const Uuid missed = Ok(rpc::RecordMissedCall{ben.user_id, ana.user_id});
  Pause();
  const Uuid note = Ok(
      rpc::SendNotification{.recipient_id = ben.user_id, .actor_id = ana.user_id, .title = "Note"});
  Ok(rpc::MarkNotificationRead{note, ben.user_id});
  // Gifts may notify too: count only the three sent here.
  const rpc::SearchPage inbox = Ok(rpc::SearchNotifications{
      .kind = {"SYSTEM_MESSAGE", "MISSED_CALL"}, .recipient_id = ben.user_id});
  EXPECT_EQ(Ids(inbox), Ids({missed, hello, note}));  // unread first, each newest first
  EXPECT_TRUE(Has(inbox.plan, "notifications_by_recipient")) << inbox.plan;
  EXPECT_EQ(Ids(Ok(rpc::SearchNotifications{.kind = {"SYSTEM_MESSAGE", "MISSED_CALL"},
                                            .recipient_id = ben.user_id,
                                            .sort = "oldest_first"})),
            Ids({hello, missed, note}));
  EXPECT_EQ(
      Ids(Ok(rpc::SearchNotifications{.kind = {"SYSTEM_MESSAGE", "MISSED_CALL"}, .unread = false})),
      Ids({note}));
  EXPECT_EQ(Ids(Ok(rpc::SearchNotifications{.kind = {"MISSED_CALL"}})), Ids({missed}));
  EXPECT_EQ(Ids(Ok(rpc::SearchNotifications{.kind = {"SYSTEM_MESSAGE"}, .actor_id = ana.user_id})),
            Ids({note}));
  EXPECT_EQ(ExpectPagesAddUp(rpc::SearchNotifications{.kind = {"SYSTEM_MESSAGE", "MISSED_CALL"},
                                                      .recipient_id = ben.user_id}),
            Ids({missed, hello, note}));
  Ok(rpc::DeleteNotification{hello, ben.user_id});
  EXPECT_EQ(
      Ids(Ok(rpc::SearchNotifications{.kind = {"SYSTEM_MESSAGE"}, .recipient_id = ben.user_id})),
      Ids({note}));
  EXPECT_EQ(Ids(Ok(rpc::SearchNotifications{.kind = {"SYSTEM_MESSAGE"},
                                            .recipient_id = ben.user_id,
                                            .include_deleted = true,
                                            .sort = "newest_first"})),
            Ids({note, hello}));
  EXPECT_EQ(
      Ok(rpc::SearchNotifications{.recipient_id = ben.user_id, .unexpired_at = Now()}).rows.size(),
      Ok(rpc::SearchNotifications{.recipient_id = ben.user_id}).rows.size());
}

// ---- Refusals ----

TEST_F(SearchTest, BadRequestsAreRefused) {
  const rpc::Registered ana = Register("ana");
  Register("ben");
  Register("cyd");
  auto expect = [](const absl::Status& s, StatusCode code, std::string_view part) {
    EXPECT_EQ(s.code(), code) << s;
    EXPECT_TRUE(Has(std::string(s.message()), part)) << s;
  };
  // Cursors: garbage, another search's, another sort's.
  expect(Refusal(rpc::SearchUsers{.after = "not-a-cursor"}), StatusCode::kInvalidArgument,
         "invalid search cursor");
  const rpc::SearchPage users = Ok(rpc::SearchUsers{.limit = 1});
  ASSERT_TRUE(users.next.has_value());
  expect(Refusal(rpc::SearchRooms{.after = *users.next}), StatusCode::kInvalidArgument,
         "belongs to a user search");
  expect(Refusal(rpc::SearchUsers{.sort = "username_asc", .after = *users.next}),
         StatusCode::kInvalidArgument, "another sort order");
  std::string tampered = *users.next;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  expect(Refusal(rpc::SearchUsers{.after = tampered}), StatusCode::kInvalidArgument,
         "invalid search cursor");
  // Sorts, enum names, ranges, limits, directions.
  expect(Refusal(rpc::SearchRooms{.sort = "loudest"}), StatusCode::kInvalidArgument,
         "sort: 'loudest' is not a room sort (one of created_desc");
  expect(Refusal(rpc::SearchAudit{.sort = "created_desc"}), StatusCode::kInvalidArgument,
         "one of newest_first, oldest_first");
  expect(Refusal(rpc::SearchRooms{.status = {"LIVE", "OPEN"}}), StatusCode::kInvalidArgument,
         "status: 'OPEN' is not a RoomStatus");
  expect(Refusal(rpc::SearchAudit{.action = {"USER_JOINED", "SNEEZED"}}),
         StatusCode::kInvalidArgument, "action: 'SNEEZED' is not a AuditAction");
  expect(Refusal(rpc::SearchUsers{.account_status = {"active"}}), StatusCode::kInvalidArgument,
         "account_status: 'active'");
  const Timestamp now = Now();
  expect(Refusal(rpc::SearchUsers{.created = {.from = now, .to = now}}),
         StatusCode::kInvalidArgument, "created: from");
  expect(Refusal(rpc::SearchRooms{.participants = {.min = 5, .max = 2}}),
         StatusCode::kInvalidArgument, "participants: min (5) must be at most max (2)");
  expect(Refusal(rpc::SearchUsers{.limit = 0}), StatusCode::kInvalidArgument, "limit");
  expect(Refusal(rpc::SearchUsers{.limit = 1001}), StatusCode::kInvalidArgument, "limit");
  expect(Refusal(rpc::SearchTransfers{.direction = "outgoing"}), StatusCode::kInvalidArgument,
         "needs a wallet_id");
  expect(Refusal(rpc::SearchTransfers{.direction = "sideways", .wallet_id = ana.wallet_id}),
         StatusCode::kInvalidArgument, "direction: 'sideways' is not a transfer direction");
  // Unknown ids: NOT_FOUND naming the field.
  const Uuid nobody{42, 42};
  expect(Refusal(rpc::SearchRooms{.owner_id = nobody}), StatusCode::kNotFound, "owner_id");
  expect(Refusal(rpc::SearchParticipants{.room_id = nobody}), StatusCode::kNotFound, "room_id");
  expect(Refusal(rpc::SearchCallSessions{.participant_id = nobody}), StatusCode::kNotFound,
         "participant_id");
  expect(Refusal(rpc::SearchModeration{.moderator_id = nobody}), StatusCode::kNotFound,
         "moderator_id");
  expect(Refusal(rpc::SearchAudit{.target_user_id = nobody}), StatusCode::kNotFound,
         "target_user_id");
  expect(Refusal(rpc::SearchTransfers{.wallet_id = nobody}), StatusCode::kNotFound, "wallet_id");
  expect(Refusal(rpc::SearchNotifications{.recipient_id = nobody}), StatusCode::kNotFound,
         "recipient_id");
  expect(Refusal(rpc::SearchRooms{.category_id = nobody}), StatusCode::kNotFound, "category_id");
  // A bad argument is reported before an unknown id.
  expect(Refusal(rpc::SearchRooms{.owner_id = nobody, .sort = "x"}), StatusCode::kInvalidArgument,
         "sort");
  expect(Refusal(rpc::HandRaiseQueue{nobody}), StatusCode::kNotFound, "rooms");
}

// Searches are reads: a readonly token runs them, alone and in a batch.
TEST_F(SearchTest, ReadonlyTokensMaySearch) {
  const std::string tokens = dir_.path() + "/tokens";
  {
    std::ofstream out(tokens);
    out << "app app-token-0123456789ab\nreadonly read-token-0123456789a\n";
  }
  ServerProcess server(dir_.path() + "/db2", {"--token_file=" + tokens});
  auto app = Client::Connect({.port = server.port(), .token = "app-token-0123456789ab"});
  auto reader = Client::Connect({.port = server.port(), .token = "read-token-0123456789a"});
  ASSERT_TRUE(app.ok() && reader.ok());
  const auto maya = (*app)->Call(rpc::RegisterUser{"maya", "maya@example.com", "h", "Maya"});
  ASSERT_TRUE(maya.ok());
  const auto room = (*app)->Call(rpc::CreateAndOpenRoom{.owner_id = maya->user_id, .title = "R"});
  ASSERT_TRUE(room.ok());
  const auto found = (*reader)->Call(rpc::SearchUsers{.username_prefix = "ma"});
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(Ids(*found), Ids({maya->user_id}));
  EXPECT_TRUE((*reader)->Call(rpc::SearchRooms{.live_now = true}).ok());
  EXPECT_TRUE((*reader)->Call(rpc::SearchAudit{.user_id = maya->user_id}).ok());
  EXPECT_TRUE((*reader)->Call(rpc::HandRaiseQueue{room->room_id}).ok());
  Batch reads;
  auto rooms = reads.Add(rpc::SearchRooms{.owner_id = maya->user_id});
  auto queue = reads.Add(rpc::HandRaiseQueue{room->room_id});
  ASSERT_TRUE((*reader)->Run(reads).ok());
  ASSERT_TRUE(rooms.Get().ok());
  EXPECT_EQ(Ids(*rooms.Get()), Ids({room->room_id}));
  EXPECT_TRUE(queue.Get().ok());
}

// ---- Live-state tracking ----

TEST_F(SearchTest, HandRaiseQueueListsRaisedHandsInRaiseOrder) {
  const Uuid host = Register("host").user_id;
  const Uuid ana = Register("ana").user_id;
  const Uuid ben = Register("ben").user_id;
  const Uuid cy = Register("cyd").user_id;
  const Uuid r = Ok(rpc::CreateAndOpenRoom{.owner_id = host, .title = "Q&A"}).room_id;
  for (const Uuid& u : {ana, ben, cy}) Ok(rpc::JoinRoom{r, u});
  EXPECT_TRUE(Ok(rpc::HandRaiseQueue{r}).empty());

  // Raised in another order than joined: cy, ana, ben; then ana lowers.
  const Timestamp t0 = Now();
  Ok(rpc::SetHandRaised{r, cy, cy, true});
  Pause();
  Ok(rpc::SetHandRaised{r, ana, ana, true});
  Pause();
  Ok(rpc::SetHandRaised{r, ben, ben, true});
  std::vector<rpc::PresentParticipant> queue = Ok(rpc::HandRaiseQueue{r});
  ASSERT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue[0].user_id, cy);
  EXPECT_EQ(queue[1].user_id, ana);
  EXPECT_EQ(queue[2].user_id, ben);
  ASSERT_TRUE(queue[0].hand_raised_at && queue[1].hand_raised_at && queue[2].hand_raised_at);
  EXPECT_GE(*queue[0].hand_raised_at, t0);
  EXPECT_LT(*queue[0].hand_raised_at, *queue[1].hand_raised_at);
  EXPECT_LT(*queue[1].hand_raised_at, *queue[2].hand_raised_at);

  Ok(rpc::SetHandRaised{r, host, ana, false});  // the host lowers ana's hand
  queue = Ok(rpc::HandRaiseQueue{r});
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0].user_id, cy);
  EXPECT_EQ(queue[1].user_id, ben);
  EXPECT_TRUE(queue[0].hand_raised);

  // Raising again goes to the back of the queue.
  Pause();
  Ok(rpc::SetHandRaised{r, ana, ana, true});
  queue = Ok(rpc::HandRaiseQueue{r});
  ASSERT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue[2].user_id, ana);

  // PresentParticipants carries the raise time and screen sharing too.
  Ok(rpc::SetScreenSharing{r, ben, true});
  for (const rpc::PresentParticipant& p : Ok(rpc::PresentParticipants{r})) {
    EXPECT_EQ(p.hand_raised_at.has_value(), p.hand_raised) << FormatUuid(p.user_id);
    EXPECT_EQ(p.screen_sharing, p.user_id == ben) << FormatUuid(p.user_id);
  }
  // Who leaves leaves the queue.
  Ok(rpc::LeaveRoom{r, cy});
  queue = Ok(rpc::HandRaiseQueue{r});
  ASSERT_EQ(queue.size(), 2u);
  EXPECT_EQ(queue[0].user_id, ben);
  EXPECT_EQ(queue[1].user_id, ana);
}

}  // namespace
}  // namespace vox
