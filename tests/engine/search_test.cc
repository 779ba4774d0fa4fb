// The platform's searches (engine/ops/search.h): hand-made data whose
// answers are worked out here, for every filter, sort and plan; then random
// requests on a generated workload against a brute-force oracle (every row,
// filtered, sorted, paged); then paging while the data changes between pages.
#include "engine/ops/search.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/database.h"
#include "engine/ops/media.h"
#include "engine/ops/moderation.h"
#include "engine/ops/notifications.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "test_util.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

using testing::kT0;

Timestamp At(int64_t seconds) { return kT0 + seconds * kMicrosPerSecond; }

absl::StatusOr<SearchPage> Search(const Database& db, const UserSearch& q) {
  return SearchUsers(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const RoomSearch& q) {
  return SearchRooms(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const CallSessionSearch& q) {
  return SearchCallSessions(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const ParticipantSearch& q) {
  return SearchParticipants(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const ModerationSearch& q) {
  return SearchModeration(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const AuditSearch& q) {
  return SearchAudit(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const TransferSearch& q) {
  return SearchTransfers(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const NotificationSearch& q) {
  return SearchNotifications(db, q);
}

using Rows = std::vector<RowId>;

// ---- Hand-made data ------------------------------------------------------------

class SearchTest : public ::testing::Test {
 protected:
  SearchTest() : db_({.id_seed = 7}) {}
  void TearDown() override { EXPECT_TRUE(db_.VerifyIndexes().ok()) << db_.VerifyIndexes(); }

  RowId Insert(Timestamp now, TableId t, std::initializer_list<ColumnValue> values) {
    Txn txn(db_, now);
    const RowId r = txn.Insert(t, values);
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return r;
  }
  void Set(TableId t, RowId r, ColumnId c, const Value& v) {
    testing::SetColumn(db_, At(10000), t, r, c, v);
  }

  RowId User(std::string_view name, int64_t created, AccountStatus status = AccountStatus::ACTIVE,
             UserRole role = UserRole::USER, bool verified = false) {
    const RowId u = Insert(At(created), TableId::users,
                           {{users::username, name},
                            {users::email, StrCat(name, "@example.com")},
                            {users::display_name, StrCat("The ", name)},
                            {users::account_status, status},
                            {users::is_active, status == AccountStatus::ACTIVE},
                            {users::role, role},
                            {users::is_verified, verified}});
    return u;
  }
  RowId Tag(std::string_view name) { return Insert(At(0), TableId::tags, {{tags::name, name}}); }
  static uint16_t TagId(RowId tag) { return static_cast<uint16_t>(tag + 1); }

  // Every page of `q` at `limit` rows a page, concatenated; each page but
  // the last is full and has a cursor.
  template <typename Q>
  Rows AllPages(Q q, size_t limit) {
    q.limit = limit;
    Rows out;
    for (int i = 0; i < 1000; ++i) {
      auto page = Search(db_, q);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      out.insert(out.end(), page->rows.begin(), page->rows.end());
      if (!page->next) break;
      EXPECT_EQ(page->rows.size(), limit);
      q.after = *page->next;
    }
    return out;
  }
  template <typename Q>
  Rows Find(const Q& q) {
    auto page = Search(db_, q);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) return {};
    EXPECT_FALSE(page->next);
    // Every page size gives the same sequence.
    for (size_t limit : {size_t{1}, size_t{2}, size_t{3}}) {
      EXPECT_EQ(AllPages(q, limit), page->rows) << "pages of " << limit;
    }
    return page->rows;
  }
  template <typename Q>
  SearchPlan PlanOf(const Q& q) {
    auto page = Search(db_, q);
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->plan : SearchPlan{};
  }
  template <typename Q>
  absl::StatusCode CodeOf(const Q& q) {
    return Search(db_, q).status().code();
  }

  Database db_;
};

using Access = SearchPlan::Access;

TEST_F(SearchTest, UsersByPrefixEmailStatusRoleAndTimes) {
  const RowId alice = User("alice", 10, AccountStatus::ACTIVE, UserRole::USER, true);
  const RowId alfred = User("Alfred", 20, AccountStatus::SUSPENDED, UserRole::MODERATOR);
  const RowId bob = User("bob", 30, AccountStatus::ACTIVE, UserRole::ADMIN, true);
  const RowId dave = User("dave", 30);  // the same creation time as bob
  const RowId albert = User("ALBERT", 40, AccountStatus::BANNED);
  const RowId carol = User("carol", 50);
  Set(TableId::users, alice, users::last_login_at, At(100));
  Set(TableId::users, bob, users::last_login_at, At(50));
  Set(TableId::users, alice, users::display_name, "Zed Alpha");
  {  // carol is soft-deleted, as the seed's flow leaves her
    Txn txn(db_, At(60));
    txn.Set(TableId::users, carol, users::deleted_at, At(60));
    txn.Set(TableId::users, carol, users::account_status, AccountStatus::DELETED);
    txn.Set(TableId::users, carol, users::is_active, false);
    txn.Set(TableId::users, carol, users::email, Value());
    ASSERT_TRUE(txn.ok());
    txn.Commit();
  }

  // Newest first; the tie on created_at lists the later row first.
  EXPECT_EQ(Find(UserSearch{}), (Rows{albert, dave, bob, alfred, alice}));
  EXPECT_EQ(Find(UserSearch{.sort = UserSort::kCreatedAsc}),
            (Rows{alice, alfred, bob, dave, albert}));
  EXPECT_EQ(Find(UserSearch{.include_deleted = true}),
            (Rows{carol, albert, dave, bob, alfred, alice}));
  EXPECT_EQ(PlanOf(UserSearch{}).access, Access::kScan);

  // Prefixes are case-insensitive, and so is the username order.
  const UserSearch al{.username_prefix = "aL", .sort = UserSort::kUsernameAsc};
  EXPECT_EQ(Find(al), (Rows{albert, alfred, alice}));
  EXPECT_EQ(Find(UserSearch{.display_name_prefix = "the A"}), (Rows{albert, alfred}));
  EXPECT_EQ(Find(UserSearch{.display_name_prefix = "zed"}), (Rows{alice}));
  EXPECT_EQ(Find(UserSearch{.username_prefix = "alicex"}), Rows{});

  // An email is one lookup in users_email, whatever its case.
  const UserSearch by_email{.email = "BOB@Example.com"};
  EXPECT_EQ(Find(by_email), (Rows{bob}));
  EXPECT_EQ(PlanOf(by_email).access, Access::kIndexRows);
  EXPECT_EQ(PlanOf(by_email).index, "users_email");
  EXPECT_EQ(Find(UserSearch{.email = "carol@example.com", .include_deleted = true}), Rows{});
  EXPECT_EQ(Find(UserSearch{.email = "bob@example.com", .roles = {UserRole::USER}}), Rows{});

  // ACTIVE users by creation walk users_active in order.
  const UserSearch active{.statuses = {AccountStatus::ACTIVE}, .sort = UserSort::kCreatedAsc};
  EXPECT_EQ(Find(active), (Rows{alice, bob, dave}));
  EXPECT_EQ(PlanOf(active).access, Access::kIndexOrder);
  EXPECT_EQ(PlanOf(active).index, "users_active");
  EXPECT_EQ(Find(UserSearch{.statuses = {AccountStatus::ACTIVE}}), (Rows{dave, bob, alice}));
  EXPECT_EQ(Find(UserSearch{.statuses = {AccountStatus::ACTIVE}, .created = {At(30), At(31)}}),
            (Rows{dave, bob}));
  EXPECT_EQ(Find(UserSearch{.statuses = {AccountStatus::SUSPENDED, AccountStatus::BANNED}}),
            (Rows{albert, alfred}));

  EXPECT_EQ(Find(UserSearch{.roles = {UserRole::MODERATOR, UserRole::ADMIN}}), (Rows{bob, alfred}));
  EXPECT_EQ(Find(UserSearch{.verified = true}), (Rows{bob, alice}));
  EXPECT_EQ(Find(UserSearch{.verified = false}), (Rows{albert, dave, alfred}));
  EXPECT_EQ(Find(UserSearch{.created = {.from = At(20), .to = At(40)}}), (Rows{dave, bob, alfred}));
  EXPECT_EQ(Find(UserSearch{.last_login = {.from = At(60)}}), (Rows{alice}));
  // Last login, newest first; those who never logged in last (newest row first).
  EXPECT_EQ(Find(UserSearch{.sort = UserSort::kLastLoginDesc}),
            (Rows{alice, bob, albert, dave, alfred}));
}

TEST_F(SearchTest, RoomsByTypeStatusTagsCapacityOwnerCategoryAndSchedule) {
  const RowId a = User("owner_a", 0), b = User("owner_b", 0);
  const RowId music = Tag("music"), talk = Tag("talk"), gaming = Tag("gaming");
  const RowId cat = Insert(At(0), TableId::room_categories, {{room_categories::name, "Chat"}});
  auto tags = [](std::initializer_list<RowId> t) {
    std::vector<uint16_t> ids;
    for (RowId r : t) ids.push_back(TagId(r));
    return PackTags(ids);
  };
  struct Spec {
    RowId owner;
    bool is_public;
    RoomStatus status;
    int64_t tags;
    int cap, count;
    int64_t created;
    std::optional<int64_t> started, scheduled;
  };
  auto room = [&](std::string_view code, const Spec& s) {
    Txn txn(db_, At(s.created));
    const RowId r = txn.Insert(TableId::rooms, {{rooms::owner_id, s.owner},
                                                {rooms::room_code, code},
                                                {rooms::title, code},
                                                {rooms::is_public, s.is_public},
                                                {rooms::status, s.status},
                                                {rooms::tags, s.tags},
                                                {rooms::max_participants, s.cap},
                                                {rooms::participant_count, s.count}});
    if (s.started) txn.Set(TableId::rooms, r, rooms::started_at, At(*s.started));
    if (s.scheduled) txn.Set(TableId::rooms, r, rooms::scheduled_start, At(*s.scheduled));
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return r;
  };
  using S = RoomStatus;
  const RowId r1 = room("r1", {a, true, S::LIVE, tags({music, talk}), 10, 3, 1, 5, {}});
  const RowId r2 = room("r2", {a, false, S::LIVE, tags({music}), 5, 5, 2, 6, {}});
  const RowId r3 = room("r3", {b, true, S::CREATED, tags({talk}), 100, 0, 3, {}, 1000});
  const RowId r4 = room("r4", {b, true, S::ENDED, tags({music}), 50, 0, 4, 7, {}});
  const RowId r5 = room("r5", {b, true, S::LIVE, tags({gaming, music}), 20, 12, 5, 8, {}});
  const RowId r6 = room("r6", {a, true, S::ENDED, tags({music}), 10, 0, 6, 2, {}});
  const RowId r7 = room("r7", {b, true, S::LIVE, tags({talk}), 3, 1, 7, 9, {}});
  Set(TableId::rooms, r5, rooms::category_id, cat);
  Set(TableId::rooms, r6, rooms::deleted_at, At(100));

  EXPECT_EQ(Find(RoomSearch{}), (Rows{r7, r5, r4, r3, r2, r1}));
  EXPECT_EQ(Find(RoomSearch{.include_deleted = true}), (Rows{r7, r6, r5, r4, r3, r2, r1}));

  // Public rooms live now under a tag: rooms_live_by_tag, newest started first.
  const RoomSearch live_music{
      .is_public = true, .live_now = true, .tags_any = {"Music"}, .sort = RoomSort::kStartedDesc};
  EXPECT_EQ(Find(live_music), (Rows{r5, r1}));
  EXPECT_EQ(PlanOf(live_music).access, Access::kIndexOrder);
  EXPECT_EQ(PlanOf(live_music).index, "rooms_live_by_tag");
  // Any of two tags: r1 carries both and comes once.
  RoomSearch live_any = live_music;
  live_any.tags_any = {"music", "talk", "no-such-tag"};
  EXPECT_EQ(Find(live_any), (Rows{r7, r5, r1}));
  live_any.sort = RoomSort::kParticipantsDesc;
  EXPECT_EQ(Find(live_any), (Rows{r5, r1, r7}));
  EXPECT_EQ(PlanOf(live_any).access, Access::kIndexRows);
  // All tags; private and ended rooms through the scan.
  EXPECT_EQ(Find(RoomSearch{.tags_all = {"music", "talk"}}), (Rows{r1}));
  EXPECT_EQ(Find(RoomSearch{.tags_any = {"music"}}), (Rows{r5, r4, r2, r1}));
  EXPECT_EQ(Find(RoomSearch{.tags_any = {"gaming"}, .tags_all = {"music"}}), (Rows{r5}));
  EXPECT_EQ(PlanOf(RoomSearch{.tags_any = {"nope"}}).access, Access::kNothing);
  EXPECT_EQ(Find(RoomSearch{.tags_any = {"nope"}}), Rows{});
  EXPECT_EQ(Find(RoomSearch{.tags_all = {"music", "nope"}}), Rows{});

  EXPECT_EQ(Find(RoomSearch{.is_public = false}), (Rows{r2}));
  // LIVE by creation: rooms_by_status in order; two statuses merged.
  const RoomSearch live{.statuses = {S::LIVE}};
  EXPECT_EQ(Find(live), (Rows{r7, r5, r2, r1}));
  EXPECT_EQ(PlanOf(live).index, "rooms_by_status");
  EXPECT_EQ(PlanOf(live).access, Access::kIndexOrder);
  const RoomSearch created_or_ended{.statuses = {S::ENDED, S::CREATED},
                                    .sort = RoomSort::kCreatedAsc};
  EXPECT_EQ(Find(created_or_ended), (Rows{r3, r4}));
  EXPECT_EQ(Find(RoomSearch{.statuses = {S::ENDED}, .include_deleted = true}), (Rows{r6, r4}));
  EXPECT_EQ(Find(RoomSearch{.statuses = {S::CANCELLED}, .live_now = true}), Rows{});
  EXPECT_EQ(Find(RoomSearch{.statuses = {S::LIVE}, .created = {At(2), At(6)}}), (Rows{r5, r2}));

  // Capacity limits.
  EXPECT_EQ(Find(RoomSearch{.live_now = true, .has_free_seat = true}), (Rows{r7, r5, r1}));
  EXPECT_EQ(Find(RoomSearch{.max_participants = {10, 50}}), (Rows{r5, r4, r1}));
  EXPECT_EQ(Find(RoomSearch{.participants = {.min = 3}}), (Rows{r5, r2, r1}));
  // Most present first; ties newest row first.
  EXPECT_EQ(Find(RoomSearch{.sort = RoomSort::kParticipantsDesc}), (Rows{r5, r2, r1, r7, r4, r3}));

  // Owner and category: their grouped indexes.
  const RoomSearch owned{.owner = a};
  EXPECT_EQ(Find(owned), (Rows{r2, r1}));
  EXPECT_EQ(PlanOf(owned).index, "rooms_by_owner");
  EXPECT_EQ(Find(RoomSearch{.owner = a, .include_deleted = true}), (Rows{r6, r2, r1}));
  const RoomSearch in_cat{.category = cat};
  EXPECT_EQ(Find(in_cat), (Rows{r5}));
  EXPECT_EQ(PlanOf(in_cat).index, "rooms_by_category");

  // Scheduled window; soonest scheduled first, unscheduled last by row.
  EXPECT_EQ(Find(RoomSearch{.scheduled = {At(500), At(2000)}}), (Rows{r3}));
  EXPECT_EQ(Find(RoomSearch{.sort = RoomSort::kScheduledAsc}), (Rows{r3, r1, r2, r4, r5, r7}));
  EXPECT_EQ(Find(RoomSearch{.sort = RoomSort::kStartedDesc}), (Rows{r7, r5, r4, r2, r1, r3}));
}

class ActivityTest : public SearchTest {
 protected:
  void SetUp() override {
    u1_ = User("u1", 0);
    u2_ = User("u2", 0);
    u3_ = User("u3", 0);
    x_ = Room("roomx");
    y_ = Room("roomy");
    p1_ = Participant(u1_, x_, ParticipantRole::HOST, 0, std::nullopt);
    p2_ = Participant(u2_, x_, ParticipantRole::PARTICIPANT, 10, 70);
    p3_ = Participant(u3_, x_, ParticipantRole::CO_HOST, 20, 50);
    p4_ = Participant(u2_, x_, ParticipantRole::PARTICIPANT, 80, std::nullopt);
    p5_ = Participant(u1_, y_, ParticipantRole::PARTICIPANT, 5, 105);
    p6_ = Participant(u3_, y_, ParticipantRole::PARTICIPANT, 30, std::nullopt);
    Set(TableId::room_participants, p2_, room_participants::mute_count, 2);
    Set(TableId::room_participants, p3_, room_participants::is_kicked, true);
    Set(TableId::room_participants, p4_, room_participants::hand_raise_count, 3);
  }
  RowId Room(std::string_view code) {
    return testing::AddRoom(db_, At(0), u1_, code, code, RoomStatus::LIVE,
                            {rooms::max_participants, 100});
  }
  RowId Participant(RowId user, RowId room, ParticipantRole role, int64_t joined,
                    std::optional<int64_t> left) {
    Txn txn(db_, At(joined));
    const RowId p = txn.Insert(TableId::room_participants, {{room_participants::user_id, user},
                                                            {room_participants::room_id, room},
                                                            {room_participants::role, role}});
    if (left) {
      txn.Set(TableId::room_participants, p, room_participants::left_at, At(*left));
      txn.Set(TableId::room_participants, p, room_participants::duration_seconds,
              static_cast<int32_t>(*left - joined));
    }
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return p;
  }
  struct SessionSpec {
    CallSessionStatus status;
    int64_t started;
    std::optional<int64_t> ended;
    std::optional<CallFailureReason> reason;
    std::optional<int32_t> loss, rtt;
    std::string_view region;
    std::optional<CallTransport> transport;
  };
  RowId Session(RowId participant, const SessionSpec& s) {
    const Table& parts = db_.table(TableId::room_participants);
    Txn txn(db_, At(s.started));
    const RowId r =
        txn.Insert(TableId::call_sessions,
                   {{call_sessions::participant_id, participant},
                    {call_sessions::user_id, parts.GetRef(participant, room_participants::user_id)},
                    {call_sessions::room_id, parts.GetRef(participant, room_participants::room_id)},
                    {call_sessions::status, s.status}});
    auto set = [&](ColumnId c, const Value& v) { txn.Set(TableId::call_sessions, r, c, v); };
    if (s.ended) set(call_sessions::ended_at, At(*s.ended));
    if (s.reason) set(call_sessions::failure_reason, *s.reason);
    if (s.loss) set(call_sessions::packet_loss_bp, *s.loss);
    if (s.rtt) set(call_sessions::rtt_ms, *s.rtt);
    if (!s.region.empty()) set(call_sessions::region, s.region);
    if (s.transport) set(call_sessions::transport, *s.transport);
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return r;
  }

  RowId u1_, u2_, u3_, x_, y_, p1_, p2_, p3_, p4_, p5_, p6_;
};

TEST_F(ActivityTest, ParticipantsByRoomUserTimesDurationsAndMetrics) {
  const ParticipantSearch in_x{.room = x_};
  EXPECT_EQ(Find(in_x), (Rows{p4_, p3_, p2_, p1_}));
  EXPECT_EQ(PlanOf(in_x).index, "participants_by_room");
  EXPECT_EQ(PlanOf(in_x).access, Access::kIndexRows);
  EXPECT_EQ(Find(ParticipantSearch{.room = x_, .sort = ParticipantSort::kJoinedAsc}),
            (Rows{p1_, p2_, p3_, p4_}));
  EXPECT_EQ(Find(ParticipantSearch{.room = x_, .present = true}), (Rows{p4_, p1_}));
  EXPECT_EQ(Find(ParticipantSearch{.room = x_, .present = false}), (Rows{p3_, p2_}));
  // Most recently left first, present ones last: the room's group, backwards.
  const ParticipantSearch left_x{.room = x_, .sort = ParticipantSort::kLeftDesc};
  EXPECT_EQ(Find(left_x), (Rows{p2_, p3_, p4_, p1_}));
  EXPECT_EQ(PlanOf(left_x).access, Access::kIndexOrder);
  EXPECT_EQ(Find(ParticipantSearch{
                .room = x_, .left = {At(50), At(70)}, .sort = ParticipantSort::kLeftDesc}),
            (Rows{p3_}));
  EXPECT_EQ(Find(ParticipantSearch{.sort = ParticipantSort::kLeftDesc}),
            (Rows{p5_, p2_, p3_, p6_, p4_, p1_}));

  // A user's participations: present ones from participants_present_by_user,
  // all of them by a scan.
  const ParticipantSearch u1_present{.user = u1_, .present = true};
  EXPECT_EQ(Find(u1_present), (Rows{p1_}));
  EXPECT_EQ(PlanOf(u1_present).index, "participants_present_by_user");
  EXPECT_EQ(Find(ParticipantSearch{.user = u2_}), (Rows{p4_, p2_}));
  EXPECT_EQ(PlanOf(ParticipantSearch{.user = u2_}).access, Access::kScan);

  EXPECT_EQ(Find(ParticipantSearch{.duration_seconds = {30, 100},
                                   .sort = ParticipantSort::kDurationDesc}),
            (Rows{p5_, p2_, p3_}));
  EXPECT_EQ(Find(ParticipantSearch{.joined = {At(5), At(30)}}), (Rows{p3_, p2_, p5_}));
  EXPECT_EQ(Find(ParticipantSearch{.roles = {ParticipantRole::HOST, ParticipantRole::CO_HOST}}),
            (Rows{p3_, p1_}));
  EXPECT_EQ(Find(ParticipantSearch{.mute_count = {.min = 1}}), (Rows{p2_}));
  EXPECT_EQ(Find(ParticipantSearch{.hand_raise_count = {.min = 1}}), (Rows{p4_}));
  EXPECT_EQ(Find(ParticipantSearch{.kicked = true}), (Rows{p3_}));
  EXPECT_EQ(Find(ParticipantSearch{.room = y_, .user = u3_}), (Rows{p6_}));
}

TEST_F(ActivityTest, CallSessionsByUserRoomStatusReasonTimeAndTelemetry) {
  using S = CallSessionStatus;
  const RowId s1 = Session(p1_, {S::CONNECTED, 100, {}, {}, 50, 80, "eu", CallTransport::UDP});
  const RowId s2 = Session(p2_, {S::FAILED, 110, 111, CallFailureReason::ICE_FAILED});
  const RowId s3 = Session(p2_, {S::ENDED, 120, 200, {}, 500, 300, "us", CallTransport::TURN_TLS});
  const RowId s4 =
      Session(p5_, {S::DROPPED, 130, 140, CallFailureReason::NETWORK_CHANGED, 900, 150, "eu"});
  const RowId s5 = Session(p6_, {S::CONNECTING, 140});

  EXPECT_EQ(Find(CallSessionSearch{}), (Rows{s5, s4, s3, s2, s1}));
  // A room's sessions through its participations.
  const CallSessionSearch in_x{.room = x_};
  EXPECT_EQ(Find(in_x), (Rows{s3, s2, s1}));
  EXPECT_EQ(PlanOf(in_x).index, "participants_by_room+call_sessions_by_participant");
  EXPECT_EQ(Find(CallSessionSearch{.user = u2_, .room = x_}), (Rows{s3, s2}));
  // Open sessions of a room: call_sessions_open.
  const CallSessionSearch open_x{.room = x_, .statuses = {S::CONNECTING, S::CONNECTED}};
  EXPECT_EQ(Find(open_x), (Rows{s1}));
  EXPECT_EQ(PlanOf(open_x).index, "call_sessions_open");
  const CallSessionSearch of_p2{.participant = p2_, .sort = CallSessionSort::kStartedAsc};
  EXPECT_EQ(Find(of_p2), (Rows{s2, s3}));
  EXPECT_EQ(PlanOf(of_p2).index, "call_sessions_by_participant");
  // By user: no index lists all of a user's sessions; a scan.
  const CallSessionSearch of_u1{.user = u1_};
  EXPECT_EQ(Find(of_u1), (Rows{s4, s1}));
  EXPECT_EQ(PlanOf(of_u1).access, Access::kScan);

  EXPECT_EQ(Find(CallSessionSearch{.statuses = {S::FAILED, S::DROPPED}}), (Rows{s4, s2}));
  EXPECT_EQ(Find(CallSessionSearch{.failure_reasons = {CallFailureReason::ICE_FAILED}}),
            (Rows{s2}));
  EXPECT_EQ(Find(CallSessionSearch{.transports = {CallTransport::UDP, CallTransport::TURN_TLS}}),
            (Rows{s3, s1}));
  EXPECT_EQ(Find(CallSessionSearch{.region = "eu"}), (Rows{s4, s1}));
  EXPECT_EQ(Find(CallSessionSearch{.started = {At(110), At(131)}}), (Rows{s4, s3, s2}));
  // Telemetry thresholds; sessions without a measurement never match one.
  EXPECT_EQ(Find(CallSessionSearch{.packet_loss_bp = {.min = 400},
                                   .sort = CallSessionSort::kPacketLossDesc}),
            (Rows{s4, s3}));
  EXPECT_EQ(Find(CallSessionSearch{.rtt_ms = {.max = 150}}), (Rows{s4, s1}));
  EXPECT_EQ(Find(CallSessionSearch{.jitter_ms = {.min = 0}}), Rows{});
  // Worst first, unmeasured last (newest row first).
  EXPECT_EQ(Find(CallSessionSearch{.sort = CallSessionSort::kPacketLossDesc}),
            (Rows{s4, s3, s1, s5, s2}));
  EXPECT_EQ(Find(CallSessionSearch{.sort = CallSessionSort::kRttDesc}), (Rows{s3, s4, s1, s5, s2}));
}

TEST_F(ActivityTest, ModerationHistoryByTargetModeratorRoomTypeAndTime) {
  auto action = [&](ModerationActionType type, RowId mod, RowId target, RowId room, int64_t at) {
    return Insert(At(at), TableId::moderation_actions,
                  {{moderation_actions::action_type, type},
                   {moderation_actions::moderator_id, mod},
                   {moderation_actions::target_user_id, target},
                   {moderation_actions::room_id, room == kNoRow ? Value() : Value(room)},
                   {moderation_actions::reason, "because"}});
  };
  using T = ModerationActionType;
  const RowId m1 = action(T::WARNING, u1_, u2_, kNoRow, 10);
  const RowId m2 = action(T::MUTE, u1_, u2_, x_, 20);
  const RowId m3 = action(T::KICK, u3_, u1_, x_, 30);
  const RowId m4 = action(T::SUSPENSION, u3_, u2_, kNoRow, 40);
  const RowId m5 = action(T::ROOM_BAN, u1_, u1_, y_, 40);
  Set(TableId::moderation_actions, m2, moderation_actions::revoked_at, At(25));
  Set(TableId::moderation_actions, m4, moderation_actions::lifted_at, At(45));

  EXPECT_EQ(Find(ModerationSearch{}), (Rows{m5, m4, m3, m2, m1}));
  const ModerationSearch of_u2{.target = u2_};
  EXPECT_EQ(Find(of_u2), (Rows{m4, m2, m1}));
  EXPECT_EQ(PlanOf(of_u2).index, "moderation_by_target");
  EXPECT_EQ(PlanOf(of_u2).access, Access::kIndexOrder);
  EXPECT_EQ(Find(ModerationSearch{.target = u2_, .sort = ModerationSort::kCreatedAsc}),
            (Rows{m1, m2, m4}));
  EXPECT_EQ(Find(ModerationSearch{.target = u2_, .in_force = true}), (Rows{m1}));
  EXPECT_EQ(Find(ModerationSearch{.target = u2_, .in_force = false}), (Rows{m4, m2}));
  EXPECT_EQ(Find(ModerationSearch{.target = u2_, .created = {At(15), At(40)}}), (Rows{m2}));
  EXPECT_EQ(Find(ModerationSearch{.moderator = u1_}), (Rows{m5, m2, m1}));
  EXPECT_EQ(Find(ModerationSearch{.room = x_}), (Rows{m3, m2}));
  EXPECT_EQ(Find(ModerationSearch{.types = {T::KICK, T::ROOM_BAN}}), (Rows{m5, m3}));
  EXPECT_EQ(Find(ModerationSearch{.created = {At(20), At(40)}}), (Rows{m3, m2}));
}

TEST_F(ActivityTest, AuditTrailByUserTargetRoomActionAndTime) {
  auto audit = [&](AuditAction action, RowId user, RowId target, RowId room, int64_t at) {
    auto ref = [](RowId r) { return r == kNoRow ? Value() : Value(r); };
    return Insert(At(at), TableId::audit_logs,
                  {{audit_logs::action, action},
                   {audit_logs::user_id, ref(user)},
                   {audit_logs::target_user_id, ref(target)},
                   {audit_logs::room_id, ref(room)}});
  };
  ASSERT_EQ(db_.table(TableId::audit_logs).live_count(), 0u);
  const RowId a1 = audit(AuditAction::USER_JOINED, u1_, kNoRow, x_, 10);
  const RowId a2 = audit(AuditAction::USER_KICKED, u2_, u1_, x_, 20);
  const RowId a3 = audit(AuditAction::USER_MUTED, u1_, u3_, y_, 30);
  const RowId a4 = audit(AuditAction::USER_LOGIN_SUCCESS, u3_, kNoRow, kNoRow, 40);
  const RowId a5 = audit(AuditAction::USER_BANNED, u2_, u1_, y_, 30);

  EXPECT_EQ(Find(AuditSearch{}), (Rows{a4, a5, a3, a2, a1}));
  const AuditSearch in_x{.room = x_};
  EXPECT_EQ(Find(in_x), (Rows{a2, a1}));
  EXPECT_EQ(PlanOf(in_x).index, "audit_by_room");
  EXPECT_EQ(PlanOf(in_x).access, Access::kIndexOrder);
  const AuditSearch by_u1{.user = u1_, .sort = AuditSort::kOldestFirst};
  EXPECT_EQ(Find(by_u1), (Rows{a1, a3}));
  EXPECT_EQ(PlanOf(by_u1).index, "audit_by_user");
  EXPECT_EQ(Find(AuditSearch{.user = u2_, .room = y_}), (Rows{a5}));
  const AuditSearch on_u1{.target = u1_};
  EXPECT_EQ(Find(on_u1), (Rows{a5, a2}));
  EXPECT_EQ(PlanOf(on_u1).access, Access::kScan);
  EXPECT_EQ(Find(AuditSearch{.actions = {AuditAction::USER_MUTED, AuditAction::USER_BANNED}}),
            (Rows{a5, a3}));
  EXPECT_EQ(Find(AuditSearch{.time = {At(20), At(31)}, .sort = AuditSort::kOldestFirst}),
            (Rows{a2, a3, a5}));
  EXPECT_EQ(Find(AuditSearch{.room = y_, .time = {.to = At(30)}}), Rows{});
  EXPECT_EQ(Find(AuditSearch{.room = y_, .time = {.from = At(30)}}), (Rows{a5, a3}));
  EXPECT_EQ(
      Find(AuditSearch{.room = y_, .time = {.from = At(30)}, .sort = AuditSort::kOldestFirst}),
      (Rows{a3, a5}));
  EXPECT_EQ(
      Find(AuditSearch{.room = x_, .time = {At(10), At(20)}, .sort = AuditSort::kOldestFirst}),
      (Rows{a1}));
}

TEST_F(ActivityTest, TransfersByWalletTypeStatusAmountAndTime) {
  auto wallet = [&](RowId user, WalletKind kind) {
    return Insert(
        At(0), TableId::wallets,
        {{wallets::user_id, user == kNoRow ? Value() : Value(user)}, {wallets::kind, kind}});
  };
  const RowId w1 = wallet(u1_, WalletKind::USER), w2 = wallet(u2_, WalletKind::USER);
  const RowId w3 = wallet(kNoRow, WalletKind::SYSTEM_ISSUANCE);
  auto transfer = [&](RowId from, RowId to, int64_t amount, TransferType type,
                      TransferStatus status, int64_t at, RowId room = kNoRow) {
    return Insert(At(at), TableId::transactions,
                  {{transactions::debit_wallet_id, from},
                   {transactions::credit_wallet_id, to},
                   {transactions::amount, amount},
                   {transactions::currency, "COIN"},
                   {transactions::type, type},
                   {transactions::status, status},
                   {transactions::room_id, room == kNoRow ? Value() : Value(room)}});
  };
  using T = TransferType;
  using S = TransferStatus;
  const RowId x1 = transfer(w3, w1, 1000, T::TOP_UP, S::POSTED, 10);
  const RowId x2 = transfer(w1, w2, 90, T::GIFT, S::POSTED, 20, x_);
  const RowId x3 = transfer(w1, w3, 10, T::FEE, S::POSTED, 20);
  const RowId x4 = transfer(w2, w1, 50, T::GIFT, S::PENDING, 30);
  const RowId x5 = transfer(w3, w2, 500, T::TOP_UP, S::VOIDED, 40);

  // A wallet's transfers: its debit and credit indexes merged, newest first.
  const TransferSearch of_w1{.wallet = w1};
  EXPECT_EQ(Find(of_w1), (Rows{x4, x3, x2, x1}));
  EXPECT_EQ(PlanOf(of_w1).index, "transactions_by_debit_wallet+transactions_by_credit_wallet");
  EXPECT_EQ(PlanOf(of_w1).access, Access::kIndexOrder);
  EXPECT_EQ(Find(TransferSearch{.wallet = w1, .sort = TransferSort::kCreatedAsc}),
            (Rows{x1, x2, x3, x4}));
  EXPECT_EQ(Find(TransferSearch{.wallet = w1, .direction = TransferDirection::kOutgoing}),
            (Rows{x3, x2}));
  EXPECT_EQ(Find(TransferSearch{.wallet = w1, .direction = TransferDirection::kIncoming}),
            (Rows{x4, x1}));
  const TransferSearch by_amount{.wallet = w1, .sort = TransferSort::kAmountDesc};
  EXPECT_EQ(Find(by_amount), (Rows{x1, x2, x4, x3}));
  EXPECT_EQ(PlanOf(by_amount).access, Access::kIndexRows);
  EXPECT_EQ(Find(TransferSearch{.wallet = w1, .created = {At(20), At(30)}}), (Rows{x3, x2}));

  EXPECT_EQ(Find(TransferSearch{}), (Rows{x5, x4, x3, x2, x1}));
  EXPECT_EQ(Find(TransferSearch{.types = {T::GIFT}}), (Rows{x4, x2}));
  EXPECT_EQ(Find(TransferSearch{.statuses = {S::PENDING, S::VOIDED}}), (Rows{x5, x4}));
  EXPECT_EQ(Find(TransferSearch{.amount = {50, 500}}), (Rows{x5, x4, x2}));
  EXPECT_EQ(Find(TransferSearch{.created = {At(20), At(30)}, .sort = TransferSort::kCreatedAsc}),
            (Rows{x2, x3}));
  EXPECT_EQ(Find(TransferSearch{.room = x_}), (Rows{x2}));
  EXPECT_EQ(CodeOf(TransferSearch{.direction = TransferDirection::kIncoming}),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(ActivityTest, NotificationsUnreadFirstByRecipientKindAndRoom) {
  auto note = [&](RowId to, NotificationKind kind, int64_t at, RowId room = kNoRow) {
    return Insert(At(at), TableId::notifications,
                  {{notifications::recipient_id, to},
                   {notifications::kind, kind},
                   {notifications::room_id, room == kNoRow ? Value() : Value(room)},
                   {notifications::title, "hello"}});
  };
  using K = NotificationKind;
  const RowId n1 = note(u1_, K::ROOM_INVITATION, 10, x_);
  const RowId n2 = note(u1_, K::MISSED_CALL, 20);
  const RowId n3 = note(u1_, K::MISSED_CALL, 30);
  const RowId n4 = note(u1_, K::SYSTEM_MESSAGE, 40);
  const RowId n5 = note(u1_, K::GIFT_RECEIVED, 50);
  const RowId n6 = note(u2_, K::ROOM_INVITATION, 15, x_);
  Set(TableId::notifications, n2, notifications::read_at, At(25));
  Set(TableId::notifications, n4, notifications::read_at, At(45));
  Set(TableId::notifications, n5, notifications::deleted_at, At(55));
  Set(TableId::notifications, n6, notifications::expires_at, At(100));

  // Unread first, each part newest first.
  const NotificationSearch inbox{.recipient = u1_};
  EXPECT_EQ(Find(inbox), (Rows{n3, n1, n4, n2}));
  EXPECT_EQ(PlanOf(inbox).index, "notifications_by_recipient");
  EXPECT_EQ(PlanOf(inbox).access, Access::kIndexRows);
  const NotificationSearch newest{.recipient = u1_, .sort = NotificationSort::kNewestFirst};
  EXPECT_EQ(Find(newest), (Rows{n4, n3, n2, n1}));
  EXPECT_EQ(PlanOf(newest).access, Access::kIndexOrder);
  EXPECT_EQ(Find(NotificationSearch{.recipient = u1_, .sort = NotificationSort::kOldestFirst}),
            (Rows{n1, n2, n3, n4}));
  EXPECT_EQ(Find(NotificationSearch{.recipient = u1_, .include_deleted = true}),
            (Rows{n5, n3, n1, n4, n2}));
  // Invitations and missed calls.
  EXPECT_EQ(
      Find(NotificationSearch{.recipient = u1_, .kinds = {K::ROOM_INVITATION, K::MISSED_CALL}}),
      (Rows{n3, n1, n2}));
  EXPECT_EQ(Find(NotificationSearch{.recipient = u1_, .unread = true}), (Rows{n3, n1}));
  EXPECT_EQ(Find(NotificationSearch{.recipient = u1_, .unread = false}), (Rows{n4, n2}));
  const NotificationSearch invited_x{.room = x_, .kinds = {K::ROOM_INVITATION}};
  EXPECT_EQ(Find(invited_x), (Rows{n6, n1}));
  EXPECT_EQ(PlanOf(invited_x).index, "notifications_invitations");
  EXPECT_EQ(
      Find(NotificationSearch{.room = x_, .kinds = {K::ROOM_INVITATION}, .unexpired_at = At(100)}),
      (Rows{n1}));
  EXPECT_EQ(Find(NotificationSearch{.kinds = {K::MISSED_CALL}, .created = {At(25), At(35)}}),
            (Rows{n3}));
}

TEST_F(SearchTest, PagesStopAtTheLimitAndRefuseBadLimitsAndCursors) {
  std::vector<RowId> users;
  for (int i = 0; i < 7; ++i) users.push_back(User(StrCat("user", i), i));
  auto page = Search(db_, UserSearch{.sort = UserSort::kCreatedAsc, .limit = 3});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->rows, (Rows{users[0], users[1], users[2]}));
  ASSERT_TRUE(page->next);
  auto second =
      Search(db_, UserSearch{.sort = UserSort::kCreatedAsc, .limit = 3, .after = *page->next});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->rows, (Rows{users[3], users[4], users[5]}));
  auto third =
      Search(db_, UserSearch{.sort = UserSort::kCreatedAsc, .limit = 3, .after = *second->next});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->rows, (Rows{users[6]}));
  EXPECT_FALSE(third->next);
  // Exactly `limit` rows left: no cursor (the page knows nothing follows).
  auto exact = Search(db_, UserSearch{.limit = 7});
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->rows.size(), 7u);
  EXPECT_FALSE(exact->next);
  EXPECT_EQ(Search(db_, UserSearch{.limit = 1000})->rows.size(), 7u);
  EXPECT_TRUE(testing::Contains(exact->plan.Explain(), "users: scan, 7 rows examined"));

  const auto bad = absl::StatusCode::kInvalidArgument;
  EXPECT_EQ(CodeOf(UserSearch{.limit = 0}), bad);
  EXPECT_EQ(CodeOf(UserSearch{.limit = 1001}), bad);
  EXPECT_EQ(CodeOf(AuditSearch{.limit = 0}), bad);
  EXPECT_EQ(CodeOf(UserSearch{.after = "garbage"}), bad);
  EXPECT_EQ(CodeOf(UserSearch{.after = "!!!"}), bad);
  // A cursor with one character changed fails its check.
  std::string mangled = *page->next;
  mangled[5] = mangled[5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(CodeOf(UserSearch{.sort = UserSort::kCreatedAsc, .after = mangled}), bad);
  // A cursor belongs to its search and sort.
  const auto other_sort =
      Search(db_, UserSearch{.sort = UserSort::kCreatedDesc, .after = *page->next});
  EXPECT_EQ(other_sort.status().code(), bad);
  EXPECT_TRUE(testing::Contains(ToStd(other_sort.status().message()), "another sort order"));
  const auto other_search = Search(db_, RoomSearch{.after = *page->next});
  EXPECT_EQ(other_search.status().code(), bad);
  EXPECT_TRUE(
      testing::Contains(ToStd(other_search.status().message()), "user search, not a room search"));
  // Unknown enum values and sorts.
  EXPECT_EQ(CodeOf(UserSearch{.statuses = {static_cast<AccountStatus>(9)}}), bad);
  EXPECT_EQ(CodeOf(UserSearch{.sort = static_cast<UserSort>(9)}), bad);
  EXPECT_EQ(CodeOf(AuditSearch{.actions = {static_cast<AuditAction>(200)}}), bad);
}

TEST_F(SearchTest, UsernameOrderPagesByTheNameInTheCursor) {
  const RowId b = User("Bea", 1), a = User("abe", 2), c = User("cy", 3), a2 = User("ABF", 4);
  const UserSearch q{.sort = UserSort::kUsernameAsc, .limit = 2};
  auto first = Search(db_, q);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rows, (Rows{a, a2}));
  // Renaming the last row of the page does not move the cursor.
  Set(TableId::users, a2, users::username, "zed");
  const RowId ab = User("abc", 5);  // before the cursor: not seen
  const RowId bz = User("bz", 6);   // after it: seen
  UserSearch rest = q;
  rest.after = *first->next;
  rest.limit = 10;
  EXPECT_EQ(Search(db_, rest)->rows, (Rows{b, bz, c, a2}));
  (void)ab;
}

// ---- The oracle: each search done the slow, obvious way ------------------------

using I128 = __int128;
constexpr I128 kLast = I128(1) << 100;  // after every real value: nulls sort last

// A row's place in a sort: a lowercase name, then numbers (negated for a
// descending part), the row id last.
struct Key {
  std::string s;
  std::vector<I128> nums;
  friend bool operator<(const Key& a, const Key& b) {
    return std::tie(a.s, a.nums) < std::tie(b.s, b.nums);
  }
  friend bool operator==(const Key& a, const Key& b) {
    return std::tie(a.s, a.nums) == std::tie(b.s, b.nums);
  }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}
I128 Desc(const Table& t, RowId r, ColumnId c) {
  return t.IsNull(r, c) ? kLast : -I128(t.GetInt(r, c));
}
I128 Asc(const Table& t, RowId r, ColumnId c) {
  return t.IsNull(r, c) ? kLast : I128(t.GetInt(r, c));
}
bool InTimes(const Table& t, RowId r, ColumnId c, const TimeRange& range) {
  if (!range.from && !range.to) return true;
  if (t.IsNull(r, c)) return false;
  const int64_t v = t.GetInt(r, c);
  return (!range.from || v >= *range.from) && (!range.to || v < *range.to);
}
bool InInts(const Table& t, RowId r, ColumnId c, const IntRange& range) {
  if (!range.min && !range.max) return true;
  if (t.IsNull(r, c)) return false;
  const int64_t v = t.GetInt(r, c);
  return (!range.min || v >= *range.min) && (!range.max || v <= *range.max);
}
template <typename E>
bool InList(const Table& t, RowId r, ColumnId c, const std::vector<E>& list) {
  if (list.empty()) return true;
  if (t.IsNull(r, c)) return false;
  return std::find(list.begin(), list.end(), static_cast<E>(t.GetInt(r, c))) != list.end();
}
bool RefIs(const Table& t, RowId r, ColumnId c, std::optional<RowId> want) {
  return !want || (!t.IsNull(r, c) && t.GetRef(r, c) == *want);
}
bool BoolIs(const Table& t, RowId r, ColumnId c, std::optional<bool> want) {
  return !want || t.GetBool(r, c) == *want;
}
bool NullIs(const Table& t, RowId r, ColumnId c, std::optional<bool> want_null) {
  return !want_null || t.IsNull(r, c) == *want_null;
}
bool StartsFolded(std::string_view s, std::string_view prefix) {
  return Lower(s).rfind(Lower(prefix), 0) == 0;
}

TableId TableOf(const UserSearch&) { return TableId::users; }
TableId TableOf(const RoomSearch&) { return TableId::rooms; }
TableId TableOf(const CallSessionSearch&) { return TableId::call_sessions; }
TableId TableOf(const ParticipantSearch&) { return TableId::room_participants; }
TableId TableOf(const ModerationSearch&) { return TableId::moderation_actions; }
TableId TableOf(const AuditSearch&) { return TableId::audit_logs; }
TableId TableOf(const TransferSearch&) { return TableId::transactions; }
TableId TableOf(const NotificationSearch&) { return TableId::notifications; }

bool Matches(const Database& db, const UserSearch& q, RowId r) {
  const Table& t = db.table(TableId::users);
  if (!q.include_deleted && !t.IsNull(r, users::deleted_at)) return false;
  if (!StartsFolded(t.GetString(r, users::username), q.username_prefix)) return false;
  if (!StartsFolded(t.GetString(r, users::display_name), q.display_name_prefix)) return false;
  if (!q.email.empty() &&
      (t.IsNull(r, users::email) || Lower(t.GetString(r, users::email)) != Lower(q.email))) {
    return false;
  }
  return InList(t, r, users::account_status, q.statuses) && InList(t, r, users::role, q.roles) &&
         BoolIs(t, r, users::is_verified, q.verified) &&
         InTimes(t, r, users::created_at, q.created) &&
         InTimes(t, r, users::last_login_at, q.last_login);
}
Key KeyOf(const Database& db, const UserSearch& q, RowId r) {
  const Table& t = db.table(TableId::users);
  switch (q.sort) {
    case UserSort::kCreatedDesc:
      return {"", {Desc(t, r, users::created_at), -I128(r)}};
    case UserSort::kCreatedAsc:
      return {"", {Asc(t, r, users::created_at), I128(r)}};
    case UserSort::kUsernameAsc:
      return {Lower(t.GetString(r, users::username)), {I128(r)}};
    case UserSort::kLastLoginDesc:
      return {"", {Desc(t, r, users::last_login_at), -I128(r)}};
  }
  return {};
}

// Tag names to tag ids by a scan of the tags table; unknown names give 0.
// Remembered for the duration of one Expected() call.
std::map<std::string, uint16_t>& TagCache() {
  static std::map<std::string, uint16_t> cache;
  return cache;
}
uint16_t TagByName(const Database& db, std::string_view name) {
  auto [it, fresh] = TagCache().emplace(Lower(name), 0);
  if (!fresh) return it->second;
  const Table& tags = db.table(TableId::tags);
  for (RowId r = 0; r < tags.row_count(); ++r) {
    if (tags.IsLive(r) && Lower(tags.GetString(r, tags::name)) == Lower(name)) {
      return it->second = static_cast<uint16_t>(r + 1);
    }
  }
  return 0;
}
bool Matches(const Database& db, const RoomSearch& q, RowId r) {
  const Table& t = db.table(TableId::rooms);
  if (!q.include_deleted && !t.IsNull(r, rooms::deleted_at)) return false;
  if (q.live_now && t.GetEnum<RoomStatus>(r, rooms::status) != RoomStatus::LIVE) return false;
  if (!(InList(t, r, rooms::status, q.statuses) && BoolIs(t, r, rooms::is_public, q.is_public) &&
        RefIs(t, r, rooms::owner_id, q.owner) && RefIs(t, r, rooms::category_id, q.category) &&
        InInts(t, r, rooms::max_participants, q.max_participants) &&
        InInts(t, r, rooms::participant_count, q.participants) &&
        InTimes(t, r, rooms::created_at, q.created) &&
        InTimes(t, r, rooms::scheduled_start, q.scheduled))) {
    return false;
  }
  if (q.has_free_seat &&
      t.GetInt(r, rooms::participant_count) >= t.GetInt(r, rooms::max_participants)) {
    return false;
  }
  uint16_t ids[kMaxTagsPerRoom];
  const int n = UnpackTags(t.GetInt(r, rooms::tags), ids);
  auto has = [&](const std::string& name) {
    const uint16_t id = TagByName(db, name);
    return id != 0 && std::find(ids, ids + n, id) != ids + n;
  };
  if (!q.tags_any.empty() && std::none_of(q.tags_any.begin(), q.tags_any.end(), has)) return false;
  return std::all_of(q.tags_all.begin(), q.tags_all.end(), has);
}
Key KeyOf(const Database& db, const RoomSearch& q, RowId r) {
  const Table& t = db.table(TableId::rooms);
  switch (q.sort) {
    case RoomSort::kCreatedDesc:
      return {"", {Desc(t, r, rooms::created_at), -I128(r)}};
    case RoomSort::kCreatedAsc:
      return {"", {Asc(t, r, rooms::created_at), I128(r)}};
    case RoomSort::kStartedDesc:
      return {"", {Desc(t, r, rooms::started_at), -I128(r)}};
    case RoomSort::kParticipantsDesc:
      return {"", {Desc(t, r, rooms::participant_count), -I128(r)}};
    case RoomSort::kScheduledAsc:
      return {"", {Asc(t, r, rooms::scheduled_start), I128(r)}};
  }
  return {};
}

bool Matches(const Database& db, const CallSessionSearch& q, RowId r) {
  const Table& t = db.table(TableId::call_sessions);
  namespace c = call_sessions;
  if (!q.region.empty() && (t.IsNull(r, c::region) || t.GetString(r, c::region) != q.region)) {
    return false;
  }
  return RefIs(t, r, c::user_id, q.user) && RefIs(t, r, c::room_id, q.room) &&
         RefIs(t, r, c::participant_id, q.participant) && InList(t, r, c::status, q.statuses) &&
         InList(t, r, c::failure_reason, q.failure_reasons) &&
         InList(t, r, c::transport, q.transports) && InTimes(t, r, c::started_at, q.started) &&
         InInts(t, r, c::packet_loss_bp, q.packet_loss_bp) && InInts(t, r, c::rtt_ms, q.rtt_ms) &&
         InInts(t, r, c::jitter_ms, q.jitter_ms) && InInts(t, r, c::bitrate_kbps, q.bitrate_kbps);
}
Key KeyOf(const Database& db, const CallSessionSearch& q, RowId r) {
  const Table& t = db.table(TableId::call_sessions);
  switch (q.sort) {
    case CallSessionSort::kStartedDesc:
      return {"", {Desc(t, r, call_sessions::started_at), -I128(r)}};
    case CallSessionSort::kStartedAsc:
      return {"", {Asc(t, r, call_sessions::started_at), I128(r)}};
    case CallSessionSort::kPacketLossDesc:
      return {"", {Desc(t, r, call_sessions::packet_loss_bp), -I128(r)}};
    case CallSessionSort::kRttDesc:
      return {"", {Desc(t, r, call_sessions::rtt_ms), -I128(r)}};
  }
  return {};
}

bool Matches(const Database& db, const ParticipantSearch& q, RowId r) {
  const Table& t = db.table(TableId::room_participants);
  namespace p = room_participants;
  return RefIs(t, r, p::room_id, q.room) && RefIs(t, r, p::user_id, q.user) &&
         InList(t, r, p::role, q.roles) && NullIs(t, r, p::left_at, q.present) &&
         InTimes(t, r, p::joined_at, q.joined) && InTimes(t, r, p::left_at, q.left) &&
         InInts(t, r, p::duration_seconds, q.duration_seconds) &&
         InInts(t, r, p::mute_count, q.mute_count) &&
         InInts(t, r, p::hand_raise_count, q.hand_raise_count) &&
         BoolIs(t, r, p::is_kicked, q.kicked) && BoolIs(t, r, p::is_banned, q.banned);
}
Key KeyOf(const Database& db, const ParticipantSearch& q, RowId r) {
  const Table& t = db.table(TableId::room_participants);
  switch (q.sort) {
    case ParticipantSort::kJoinedDesc:
      return {"", {Desc(t, r, room_participants::joined_at), -I128(r)}};
    case ParticipantSort::kJoinedAsc:
      return {"", {Asc(t, r, room_participants::joined_at), I128(r)}};
    case ParticipantSort::kLeftDesc:
      return {"", {Desc(t, r, room_participants::left_at), -I128(r)}};
    case ParticipantSort::kDurationDesc:
      return {"", {Desc(t, r, room_participants::duration_seconds), -I128(r)}};
  }
  return {};
}

bool Matches(const Database& db, const ModerationSearch& q, RowId r) {
  const Table& t = db.table(TableId::moderation_actions);
  namespace m = moderation_actions;
  if (q.in_force && (t.IsNull(r, m::revoked_at) && t.IsNull(r, m::lifted_at)) != *q.in_force) {
    return false;
  }
  return RefIs(t, r, m::target_user_id, q.target) && RefIs(t, r, m::moderator_id, q.moderator) &&
         RefIs(t, r, m::room_id, q.room) && InList(t, r, m::action_type, q.types) &&
         InTimes(t, r, m::created_at, q.created);
}
Key KeyOf(const Database& db, const ModerationSearch& q, RowId r) {
  const Table& t = db.table(TableId::moderation_actions);
  if (q.sort == ModerationSort::kCreatedAsc) {
    return {"", {Asc(t, r, moderation_actions::created_at), I128(r)}};
  }
  return {"", {Desc(t, r, moderation_actions::created_at), -I128(r)}};
}

bool Matches(const Database& db, const AuditSearch& q, RowId r) {
  const Table& t = db.table(TableId::audit_logs);
  namespace a = audit_logs;
  return RefIs(t, r, a::user_id, q.user) && RefIs(t, r, a::target_user_id, q.target) &&
         RefIs(t, r, a::room_id, q.room) && InList(t, r, a::action, q.actions) &&
         InTimes(t, r, a::timestamp, q.time);
}
Key KeyOf(const Database& db, const AuditSearch& q, RowId r) {
  const Table& t = db.table(TableId::audit_logs);
  if (q.sort == AuditSort::kOldestFirst) return {"", {Asc(t, r, audit_logs::timestamp), I128(r)}};
  return {"", {Desc(t, r, audit_logs::timestamp), -I128(r)}};
}

bool Matches(const Database& db, const TransferSearch& q, RowId r) {
  const Table& t = db.table(TableId::transactions);
  namespace x = transactions;
  if (q.wallet) {
    const bool out = t.GetRef(r, x::debit_wallet_id) == *q.wallet;
    const bool in = t.GetRef(r, x::credit_wallet_id) == *q.wallet;
    if (q.direction == TransferDirection::kOutgoing && !out) return false;
    if (q.direction == TransferDirection::kIncoming && !in) return false;
    if (!out && !in) return false;
  }
  return InList(t, r, x::type, q.types) && InList(t, r, x::status, q.statuses) &&
         InInts(t, r, x::amount, q.amount) && InTimes(t, r, x::created_at, q.created) &&
         RefIs(t, r, x::room_id, q.room);
}
Key KeyOf(const Database& db, const TransferSearch& q, RowId r) {
  const Table& t = db.table(TableId::transactions);
  switch (q.sort) {
    case TransferSort::kCreatedDesc:
      return {"", {Desc(t, r, transactions::created_at), -I128(r)}};
    case TransferSort::kCreatedAsc:
      return {"", {Asc(t, r, transactions::created_at), I128(r)}};
    case TransferSort::kAmountDesc:
      return {"", {Desc(t, r, transactions::amount), -I128(r)}};
  }
  return {};
}

bool Matches(const Database& db, const NotificationSearch& q, RowId r) {
  const Table& t = db.table(TableId::notifications);
  namespace n = notifications;
  if (!q.include_deleted && !t.IsNull(r, n::deleted_at)) return false;
  if (q.unread && t.IsNull(r, n::read_at) != *q.unread) return false;
  if (q.unexpired_at && !t.IsNull(r, n::expires_at) &&
      t.GetInt(r, n::expires_at) <= *q.unexpired_at) {
    return false;
  }
  return RefIs(t, r, n::recipient_id, q.recipient) && RefIs(t, r, n::actor_id, q.actor) &&
         RefIs(t, r, n::room_id, q.room) && InList(t, r, n::kind, q.kinds) &&
         InTimes(t, r, n::created_at, q.created);
}
Key KeyOf(const Database& db, const NotificationSearch& q, RowId r) {
  const Table& t = db.table(TableId::notifications);
  switch (q.sort) {
    case NotificationSort::kUnreadFirst:
      return {"",
              {t.IsNull(r, notifications::read_at) ? 0 : 1, Desc(t, r, notifications::created_at),
               -I128(r)}};
    case NotificationSort::kNewestFirst:
      return {"", {Desc(t, r, notifications::created_at), -I128(r)}};
    case NotificationSort::kOldestFirst:
      return {"", {Asc(t, r, notifications::created_at), I128(r)}};
  }
  return {};
}

struct Match {
  Key key;
  RowId row;
  Uuid id;
};

// Every live row matching `q`, in `q`'s order.
template <typename Q>
std::vector<Match> Expected(const Database& db, const Q& q) {
  const Table& t = db.table(TableOf(q));
  TagCache().clear();
  std::vector<Match> out;
  for (RowId r = 0; r < t.row_count(); ++r) {
    if (t.IsLive(r) && Matches(db, q, r)) out.push_back({KeyOf(db, q, r), r, t.id(r)});
  }
  std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) { return a.key < b.key; });
  return out;
}

// ---- A generated world, random requests and random writes ----------------------

class World {
 public:
  explicit World(uint64_t seed) : db_(WorkloadDatabaseOptions(seed)), rng_(seed) {
    auto data = GenerateWorkload(db_, {.scale = 0.0005, .seed = seed});
    EXPECT_TRUE(data.ok()) << data.status();
    if (data.ok()) data_ = *std::move(data);
    AddCategories();
    AddCallSessions();
    AddModeration();
    AddNotifications();
    for (int i = 0; i < 400; ++i) RandomWrite();
  }

  Database& db() { return db_; }
  std::mt19937_64& rng() { return rng_; }

  bool Chance(int percent) { return Uniform(0, 99) < percent; }
  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Uniform(0, static_cast<int64_t>(v.size()) - 1)];
  }
  // A random live row of `t`, or kNoRow for an empty table.
  RowId AnyRow(TableId t) {
    const Table& table = db_.table(t);
    if (table.live_count() == 0) return kNoRow;
    for (;;) {
      const auto r = static_cast<RowId>(Uniform(0, static_cast<int64_t>(table.row_count()) - 1));
      if (table.IsLive(r)) return r;
    }
  }
  // Mostly a value from some row, sometimes any time near the workload's.
  Timestamp AnyTime(TableId t, ColumnId c) {
    const RowId r = AnyRow(t);
    if (r != kNoRow && !Chance(20) && !db_.table(t).IsNull(r, c)) return db_.table(t).GetInt(r, c);
    return RandomTime();
  }
  // In the workload's 90 days (and a little after); often on the hour, so ties happen.
  Timestamp RandomTime() {
    const Timestamp t = kWorkloadNow - Uniform(-86400, 95 * 86400) * kMicrosPerSecond;
    return Chance(40) ? t - t % (3600 * kMicrosPerSecond) : t;
  }
  TimeRange AnyTimes(TableId t, ColumnId c) {
    Timestamp a = AnyTime(t, c), b = AnyTime(t, c);
    if (a > b) std::swap(a, b);
    TimeRange r;
    if (Chance(70)) r.from = a;
    if (Chance(70)) r.to = b + (Chance(50) ? 1 : 0);
    return r;
  }
  IntRange AnyInts(TableId t, ColumnId c, int64_t lo, int64_t hi) {
    auto value = [&] {
      const RowId r = AnyRow(t);
      if (r != kNoRow && Chance(70) && !db_.table(t).IsNull(r, c)) return db_.table(t).GetInt(r, c);
      return Uniform(lo, hi);
    };
    int64_t a = value(), b = value();
    if (a > b) std::swap(a, b);
    IntRange r;
    if (Chance(60)) r.min = a;
    if (Chance(60)) r.max = b;
    return r;
  }
  template <typename E>
  std::vector<E> AnyEnums(EnumId id) {
    std::vector<E> out;
    const int n = static_cast<int>(GetEnum(id).values.size());
    for (int i = 0, k = static_cast<int>(Uniform(1, 3)); i < k; ++i) {
      out.push_back(static_cast<E>(Uniform(0, n - 1)));
    }
    return out;
  }
  size_t AnyLimit() { return Pick(std::vector<size_t>{1, 2, 3, 7, 20, 100, 1000}); }
  std::optional<RowId> RefOf(TableId t, ColumnId c) {
    const RowId r = AnyRow(t);
    if (r == kNoRow || db_.table(t).IsNull(r, c)) return std::nullopt;
    return db_.table(t).GetRef(r, c);
  }
  std::string TagName() {
    const RowId t = AnyRow(TableId::tags);
    return t == kNoRow ? "none" : std::string(db_.table(TableId::tags).GetString(t, tags::name));
  }

  UserSearch RandomUsers() {
    const Table& t = db_.table(TableId::users);
    UserSearch q;
    const RowId u = AnyRow(TableId::users);
    if (Chance(10) && !t.IsNull(u, users::email)) {
      q.email = std::string(t.GetString(u, users::email));
      if (Chance(50)) q.email = Lower(q.email) == q.email ? StrCat("X", q.email) : Lower(q.email);
    }
    if (Chance(25)) {
      const std::string name(t.GetString(u, users::username));
      q.username_prefix = name.substr(0, Uniform(1, std::min<int64_t>(6, name.size())));
      if (Chance(30)) q.username_prefix[0] = static_cast<char>(std::toupper(q.username_prefix[0]));
    }
    if (Chance(15)) {
      const std::string name(t.GetString(u, users::display_name));
      q.display_name_prefix = name.substr(0, Uniform(0, std::min<int64_t>(3, name.size())));
    }
    if (Chance(30)) {
      q.statuses = Chance(50) ? std::vector<AccountStatus>{AccountStatus::ACTIVE}
                              : AnyEnums<AccountStatus>(EnumId::AccountStatus);
    }
    if (Chance(20)) q.roles = AnyEnums<UserRole>(EnumId::UserRole);
    if (Chance(20)) q.verified = Chance(50);
    if (Chance(25)) q.created = AnyTimes(TableId::users, users::created_at);
    if (Chance(15)) q.last_login = AnyTimes(TableId::users, users::last_login_at);
    q.include_deleted = Chance(20);
    q.sort = static_cast<UserSort>(Uniform(0, 3));
    q.limit = AnyLimit();
    return q;
  }

  RoomSearch RandomRooms() {
    RoomSearch q;
    if (Chance(25)) {  // what rooms_live_by_tag serves
      q.is_public = true;
      q.live_now = true;
      for (int i = 0, n = static_cast<int>(Uniform(1, 3)); i < n; ++i)
        q.tags_any.push_back(TagName());
      if (Chance(50)) q.sort = RoomSort::kStartedDesc;
    }
    if (Chance(20)) q.statuses = AnyEnums<RoomStatus>(EnumId::RoomStatus);
    if (Chance(10)) q.live_now = true;
    if (Chance(20)) q.is_public = Chance(50);
    if (Chance(20)) {
      for (int i = 0, n = static_cast<int>(Uniform(1, 3)); i < n; ++i)
        q.tags_any.push_back(TagName());
      if (Chance(20)) q.tags_any.push_back("no-such-tag");
    }
    if (Chance(15)) {
      const RowId r = AnyRow(TableId::rooms);
      uint16_t ids[kMaxTagsPerRoom];
      const int n = UnpackTags(db_.table(TableId::rooms).GetInt(r, rooms::tags), ids);
      for (int i = 0; i < n && i < 2; ++i) {
        q.tags_all.push_back(
            std::string(db_.table(TableId::tags).GetString(ids[i] - 1, tags::name)));
      }
    }
    if (Chance(20)) q.max_participants = AnyInts(TableId::rooms, rooms::max_participants, 2, 500);
    if (Chance(20)) q.participants = AnyInts(TableId::rooms, rooms::participant_count, 0, 200);
    q.has_free_seat = Chance(10);
    if (Chance(15)) q.owner = RefOf(TableId::rooms, rooms::owner_id);
    if (Chance(10)) q.category = RefOf(TableId::rooms, rooms::category_id);
    if (Chance(15)) q.created = AnyTimes(TableId::rooms, rooms::created_at);
    if (Chance(15)) q.scheduled = AnyTimes(TableId::rooms, rooms::scheduled_start);
    q.include_deleted = Chance(20);
    if (!Chance(30)) q.sort = static_cast<RoomSort>(Uniform(0, 4));
    q.limit = AnyLimit();
    return q;
  }

  CallSessionSearch RandomCallSessions() {
    CallSessionSearch q;
    const TableId t = TableId::call_sessions;
    if (Chance(20)) q.user = RefOf(t, call_sessions::user_id);
    if (Chance(30)) q.room = RefOf(t, call_sessions::room_id);
    if (Chance(10)) q.participant = RefOf(t, call_sessions::participant_id);
    if (q.room && Chance(30)) {
      q.statuses = {CallSessionStatus::CONNECTING, CallSessionStatus::CONNECTED};
    } else if (Chance(25)) {
      q.statuses = Chance(40) ? std::vector<CallSessionStatus>{CallSessionStatus::CONNECTING,
                                                               CallSessionStatus::CONNECTED}
                              : AnyEnums<CallSessionStatus>(EnumId::CallSessionStatus);
    }
    if (Chance(15)) q.failure_reasons = AnyEnums<CallFailureReason>(EnumId::CallFailureReason);
    if (Chance(10)) q.transports = AnyEnums<CallTransport>(EnumId::CallTransport);
    if (Chance(10)) q.region = Pick(std::vector<std::string>{"eu", "us", "ap", "nowhere"});
    if (Chance(20)) q.started = AnyTimes(t, call_sessions::started_at);
    if (Chance(20)) q.packet_loss_bp = AnyInts(t, call_sessions::packet_loss_bp, 0, 10000);
    if (Chance(15)) q.rtt_ms = AnyInts(t, call_sessions::rtt_ms, 0, 1000);
    if (Chance(10)) q.jitter_ms = AnyInts(t, call_sessions::jitter_ms, 0, 300);
    if (Chance(10)) q.bitrate_kbps = AnyInts(t, call_sessions::bitrate_kbps, 0, 5000);
    q.sort = static_cast<CallSessionSort>(Uniform(0, 3));
    q.limit = AnyLimit();
    return q;
  }

  ParticipantSearch RandomParticipants() {
    ParticipantSearch q;
    const TableId t = TableId::room_participants;
    if (Chance(35)) q.room = RefOf(t, room_participants::room_id);
    if (Chance(25)) q.user = RefOf(t, room_participants::user_id);
    if (Chance(30)) q.present = Chance(60);
    if (Chance(15)) q.roles = AnyEnums<ParticipantRole>(EnumId::ParticipantRole);
    if (Chance(20)) q.joined = AnyTimes(t, room_participants::joined_at);
    if (Chance(15)) q.left = AnyTimes(t, room_participants::left_at);
    if (Chance(15)) q.duration_seconds = AnyInts(t, room_participants::duration_seconds, 0, 20000);
    if (Chance(10)) q.mute_count = AnyInts(t, room_participants::mute_count, 0, 5);
    if (Chance(10)) q.hand_raise_count = AnyInts(t, room_participants::hand_raise_count, 0, 5);
    if (Chance(10)) q.kicked = Chance(50);
    if (Chance(10)) q.banned = Chance(50);
    q.sort = static_cast<ParticipantSort>(Uniform(0, 3));
    q.limit = AnyLimit();
    return q;
  }

  ModerationSearch RandomModeration() {
    ModerationSearch q;
    const TableId t = TableId::moderation_actions;
    if (Chance(40)) q.target = RefOf(t, moderation_actions::target_user_id);
    if (Chance(20)) q.moderator = RefOf(t, moderation_actions::moderator_id);
    if (Chance(15)) q.room = RefOf(t, moderation_actions::room_id);
    if (Chance(20)) q.types = AnyEnums<ModerationActionType>(EnumId::ModerationActionType);
    if (Chance(25)) q.created = AnyTimes(t, moderation_actions::created_at);
    if (Chance(20)) q.in_force = Chance(50);
    q.sort = static_cast<ModerationSort>(Uniform(0, 1));
    q.limit = AnyLimit();
    return q;
  }

  AuditSearch RandomAudit() {
    AuditSearch q;
    const TableId t = TableId::audit_logs;
    if (Chance(30)) q.user = RefOf(t, audit_logs::user_id);
    if (Chance(15)) q.target = RefOf(t, audit_logs::target_user_id);
    if (Chance(35)) q.room = RefOf(t, audit_logs::room_id);
    if (Chance(30)) q.actions = AnyEnums<AuditAction>(EnumId::AuditAction);
    if (Chance(30)) q.time = AnyTimes(t, audit_logs::timestamp);
    q.sort = static_cast<AuditSort>(Uniform(0, 1));
    q.limit = AnyLimit();
    return q;
  }

  TransferSearch RandomTransfers() {
    TransferSearch q;
    const TableId t = TableId::transactions;
    if (Chance(40)) {
      q.wallet =
          RefOf(t, Chance(50) ? transactions::debit_wallet_id : transactions::credit_wallet_id);
      q.direction = static_cast<TransferDirection>(Uniform(0, 2));
    }
    if (Chance(20)) q.types = AnyEnums<TransferType>(EnumId::TransferType);
    if (Chance(20)) q.statuses = AnyEnums<TransferStatus>(EnumId::TransferStatus);
    if (Chance(20)) q.amount = AnyInts(t, transactions::amount, 1, 10000);
    if (Chance(25)) q.created = AnyTimes(t, transactions::created_at);
    if (Chance(10)) q.room = RefOf(t, transactions::room_id);
    q.sort = static_cast<TransferSort>(Uniform(0, 2));
    q.limit = AnyLimit();
    return q;
  }

  NotificationSearch RandomNotifications() {
    NotificationSearch q;
    const TableId t = TableId::notifications;
    if (Chance(45)) q.recipient = RefOf(t, notifications::recipient_id);
    if (Chance(10)) q.actor = RefOf(t, notifications::actor_id);
    if (Chance(20)) q.room = RefOf(t, notifications::room_id);
    if (Chance(30)) {
      q.kinds = Chance(40) ? std::vector<NotificationKind>{NotificationKind::ROOM_INVITATION}
                           : AnyEnums<NotificationKind>(EnumId::NotificationKind);
    }
    if (Chance(20)) q.unread = Chance(50);
    if (Chance(20)) q.created = AnyTimes(t, notifications::created_at);
    if (Chance(15)) q.unexpired_at = AnyTime(t, notifications::expires_at);
    q.include_deleted = Chance(20);
    q.sort = static_cast<NotificationSort>(Uniform(0, 2));
    q.limit = AnyLimit();
    return q;
  }

  // One random committed change through Txn: an insert (at a random time:
  // before or after any cursor), an update of a searched column (moving a
  // row in its order or in or out of a search), or a delete.
  void RandomWrite() {
    const Timestamp now = RandomTime();
    Txn txn(db_, now);
    switch (Uniform(0, 7)) {
      case 0:
        WriteUser(txn, now);
        break;
      case 1:
        WriteRoom(txn, now);
        break;
      case 2:
        WriteParticipant(txn, now);
        break;
      case 3:
        WriteCallSession(txn, now);
        break;
      case 4:
        WriteAudit(txn);
        break;
      case 5:
        WriteModeration(txn, now);
        break;
      case 6:
        WriteTransfer(txn);
        break;
      default:
        WriteNotification(txn, now);
    }
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }

 private:
  static Value RefOrNull(RowId r) { return r == kNoRow ? Value() : Value(r); }
  Value MaybeTime() { return Chance(50) ? Value() : Value(RandomTime()); }
  int64_t RandomTags() {
    std::vector<uint16_t> ids;
    for (int i = 0, n = static_cast<int>(Uniform(0, 3)); i < n; ++i) {
      const auto id = static_cast<uint16_t>(AnyRow(TableId::tags) + 1);
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    return PackTags(ids);
  }

  void WriteUser(Txn& txn, Timestamp now) {
    static const std::vector<std::string> kNames = {"Priya Nguyen", "alex", "ALBA", "Zoe", "al"};
    const auto status = static_cast<AccountStatus>(Uniform(0, 2));
    if (Chance(40)) {
      const std::string name = StrCat("nu", counter_++);
      txn.Insert(TableId::users, {{users::username, name},
                                  {users::email, StrCat(name, "@example.com")},
                                  {users::display_name, Pick(kNames)},
                                  {users::account_status, status},
                                  {users::is_active, status == AccountStatus::ACTIVE},
                                  {users::role, static_cast<UserRole>(Uniform(0, 3))},
                                  {users::is_verified, Chance(50)},
                                  {users::last_login_at, MaybeTime()}});
      return;
    }
    const RowId u = AnyRow(TableId::users);
    if (!db_.table(TableId::users).IsNull(u, users::deleted_at)) return;
    switch (Uniform(0, 5)) {
      case 0:
        txn.Set(TableId::users, u, users::is_verified, Chance(50));
        break;
      case 1:
        txn.Set(TableId::users, u, users::last_login_at, MaybeTime());
        break;
      case 2:
        txn.Set(TableId::users, u, users::display_name, Pick(kNames));
        break;
      case 3:
        txn.Set(TableId::users, u, users::username, StrCat(Chance(50) ? "Ren" : "ren", counter_++));
        break;
      case 4:
        txn.Set(TableId::users, u, users::account_status, status);
        txn.Set(TableId::users, u, users::is_active, status == AccountStatus::ACTIVE);
        break;
      default:  // soft delete, as the seed's flow leaves a user
        txn.Set(TableId::users, u, users::deleted_at, now);
        txn.Set(TableId::users, u, users::account_status, AccountStatus::DELETED);
        txn.Set(TableId::users, u, users::is_active, false);
        txn.Set(TableId::users, u, users::email, Value());
    }
  }

  void WriteRoom(Txn& txn, Timestamp now) {
    const auto status = static_cast<RoomStatus>(Uniform(0, 3));
    const int32_t cap = static_cast<int32_t>(Uniform(2, 300));
    if (Chance(40)) {
      const RowId r = txn.Insert(
          TableId::rooms,
          {{rooms::owner_id, AnyRow(TableId::users)},
           {rooms::room_code, StrCat("rc", counter_++)},
           {rooms::title, "random"},
           {rooms::status, status},
           {rooms::started_at, status == RoomStatus::CREATED ? Value() : Value(RandomTime())},
           {rooms::is_public, Chance(70)},
           {rooms::tags, RandomTags()},
           {rooms::max_participants, cap},
           {rooms::participant_count, static_cast<int32_t>(Uniform(0, cap))},
           {rooms::scheduled_start, Chance(70) ? Value() : Value(RandomTime())},
           {rooms::category_id, Chance(70) ? Value() : Value(AnyRow(TableId::room_categories))}});
      (void)r;
      return;
    }
    const RowId r = AnyRow(TableId::rooms);
    switch (Uniform(0, 4)) {
      case 0:
        txn.Set(TableId::rooms, r, rooms::participant_count,
                static_cast<int32_t>(
                    Uniform(0, db_.table(TableId::rooms).GetInt(r, rooms::max_participants))));
        break;
      case 1:
        txn.Set(TableId::rooms, r, rooms::status, status);
        txn.Set(TableId::rooms, r, rooms::started_at, now);
        break;
      case 2:
        txn.Set(TableId::rooms, r, rooms::tags, RandomTags());
        break;
      case 3:
        txn.Set(TableId::rooms, r, rooms::is_public, Chance(50));
        break;
      default:
        if (db_.table(TableId::rooms).IsNull(r, rooms::deleted_at)) {
          txn.Set(TableId::rooms, r, rooms::deleted_at, now);
        }
    }
  }

  void WriteParticipant(Txn& txn, Timestamp now) {
    const Table& t = db_.table(TableId::room_participants);
    if (Chance(40)) {
      const Timestamp joined = RandomTime();
      const bool left = Chance(50);
      const int32_t duration = static_cast<int32_t>(Uniform(0, 7200));
      txn.Insert(TableId::room_participants,
                 {{room_participants::user_id, AnyRow(TableId::users)},
                  {room_participants::room_id, AnyRow(TableId::rooms)},
                  {room_participants::role, static_cast<ParticipantRole>(Uniform(0, 2))},
                  {room_participants::joined_at, joined},
                  {room_participants::left_at,
                   left ? Value(joined + duration * kMicrosPerSecond) : Value()},
                  {room_participants::duration_seconds, left ? duration : 0},
                  {room_participants::mute_count, static_cast<int32_t>(Uniform(0, 3))},
                  {room_participants::hand_raise_count, static_cast<int32_t>(Uniform(0, 3))},
                  {room_participants::is_kicked, Chance(10)}});
      return;
    }
    const RowId p = AnyRow(TableId::room_participants);
    switch (Uniform(0, 3)) {
      case 0:
        if (t.IsNull(p, room_participants::left_at)) {
          txn.Set(TableId::room_participants, p, room_participants::left_at, now);
          txn.Set(TableId::room_participants, p, room_participants::duration_seconds,
                  static_cast<int32_t>(Uniform(0, 7200)));
        }
        break;
      case 1:
        txn.Set(TableId::room_participants, p, room_participants::mute_count,
                static_cast<int32_t>(Uniform(0, 4)));
        break;
      case 2:
        txn.Set(TableId::room_participants, p, room_participants::joined_at, RandomTime());
        break;
      default:
        txn.Delete(TableId::room_participants, p);  // and its call sessions
    }
  }

  void WriteCallSession(Txn& txn, Timestamp now) {
    using S = CallSessionStatus;
    const Table& parts = db_.table(TableId::room_participants);
    const Table& t = db_.table(TableId::call_sessions);
    auto telemetry = [&](RowId s) {
      auto maybe = [&](int64_t hi) {
        return Chance(30) ? Value() : Value(static_cast<int32_t>(Uniform(0, hi)));
      };
      txn.Set(TableId::call_sessions, s, call_sessions::packet_loss_bp, maybe(2000));
      txn.Set(TableId::call_sessions, s, call_sessions::rtt_ms, maybe(800));
      txn.Set(TableId::call_sessions, s, call_sessions::jitter_ms, maybe(200));
      txn.Set(TableId::call_sessions, s, call_sessions::bitrate_kbps, maybe(4000));
    };
    // Ended sessions (ended_at set) are exactly the FAILED, DROPPED and ENDED ones.
    auto finish = [&](RowId s) {
      const auto status = static_cast<S>(Uniform(2, 4));
      txn.Set(TableId::call_sessions, s, call_sessions::status, status);
      txn.Set(TableId::call_sessions, s, call_sessions::ended_at, now);
      if (status != S::ENDED) {
        txn.Set(TableId::call_sessions, s, call_sessions::failure_reason,
                static_cast<CallFailureReason>(Uniform(0, 7)));
      }
    };
    if (Chance(40) || t.live_count() == 0) {
      const RowId p = AnyRow(TableId::room_participants);
      const RowId s = txn.Insert(
          TableId::call_sessions,
          {{call_sessions::participant_id, p},
           {call_sessions::user_id, parts.GetRef(p, room_participants::user_id)},
           {call_sessions::room_id, parts.GetRef(p, room_participants::room_id)},
           {call_sessions::status, Chance(50) ? S::CONNECTING : S::CONNECTED},
           {call_sessions::started_at, RandomTime()},
           {call_sessions::region,
            Chance(30) ? Value() : Value(Pick(std::vector<std::string>{"eu", "us", "ap"}))},
           {call_sessions::transport,
            Chance(30) ? Value() : Value(static_cast<CallTransport>(Uniform(0, 4)))}});
      telemetry(s);
      if (Chance(50)) finish(s);
      return;
    }
    const RowId s = AnyRow(TableId::call_sessions);
    const bool open = t.IsNull(s, call_sessions::ended_at);
    switch (Uniform(0, 2)) {
      case 0:
        if (open) finish(s);
        break;
      case 1:
        telemetry(s);
        break;
      default:
        txn.Delete(TableId::call_sessions, s);
    }
  }

  void WriteAudit(Txn& txn) {
    auto maybe = [&](TableId t) { return Chance(40) ? Value() : Value(AnyRow(t)); };
    txn.Insert(TableId::audit_logs, {{audit_logs::action, static_cast<AuditAction>(Uniform(0, 40))},
                                     {audit_logs::user_id, maybe(TableId::users)},
                                     {audit_logs::target_user_id, maybe(TableId::users)},
                                     {audit_logs::room_id, maybe(TableId::rooms)}});
  }

  void WriteModeration(Txn& txn, Timestamp now) {
    const Table& t = db_.table(TableId::moderation_actions);
    if (Chance(50) || t.live_count() == 0) {
      txn.Insert(
          TableId::moderation_actions,
          {{moderation_actions::action_type, static_cast<ModerationActionType>(Uniform(0, 5))},
           {moderation_actions::moderator_id, AnyRow(TableId::users)},
           {moderation_actions::target_user_id,
            Chance(50) ? Pick(targets_) : AnyRow(TableId::users)},
           {moderation_actions::room_id, Chance(50) ? Value() : Value(AnyRow(TableId::rooms))},
           {moderation_actions::reason, "random"}});
      return;
    }
    const RowId m = AnyRow(TableId::moderation_actions);
    txn.Set(TableId::moderation_actions, m,
            Chance(50) ? moderation_actions::revoked_at : moderation_actions::lifted_at,
            Chance(20) ? Value() : Value(now));
  }

  void WriteTransfer(Txn& txn) {
    const Table& t = db_.table(TableId::transactions);
    if (Chance(50)) {
      const RowId from = AnyRow(TableId::wallets);
      RowId to = AnyRow(TableId::wallets);
      if (to == from) to = from == 0 ? 1 : 0;
      txn.Insert(TableId::transactions,
                 {{transactions::debit_wallet_id, from},
                  {transactions::credit_wallet_id, to},
                  {transactions::amount, Uniform(1, 5000)},
                  {transactions::currency, "COIN"},
                  {transactions::type, static_cast<TransferType>(Uniform(0, 7))},
                  {transactions::status, static_cast<TransferStatus>(Uniform(0, 2))},
                  {transactions::room_id, Chance(70) ? Value() : Value(AnyRow(TableId::rooms))}});
      return;
    }
    const RowId x = AnyRow(TableId::transactions);
    if (Chance(50)) {
      txn.Set(TableId::transactions, x, transactions::status,
              static_cast<TransferStatus>(Uniform(0, 2)));
    } else {
      txn.Set(TableId::transactions, x, transactions::amount, Uniform(1, 5000));
    }
    (void)t;
  }

  void WriteNotification(Txn& txn, Timestamp now) {
    const Table& t = db_.table(TableId::notifications);
    if (Chance(50) || t.live_count() == 0) {
      txn.Insert(
          TableId::notifications,
          {{notifications::recipient_id, Chance(50) ? Pick(targets_) : AnyRow(TableId::users)},
           {notifications::kind, static_cast<NotificationKind>(Uniform(0, 5))},
           {notifications::actor_id, Chance(50) ? Value() : Value(AnyRow(TableId::users))},
           {notifications::room_id, Chance(50) ? Value() : Value(AnyRow(TableId::rooms))},
           {notifications::title, "random"},
           {notifications::read_at, MaybeTime()},
           {notifications::expires_at, MaybeTime()}});
      return;
    }
    const RowId n = AnyRow(TableId::notifications);
    if (Chance(60)) {
      txn.Set(TableId::notifications, n, notifications::read_at, Chance(20) ? Value() : Value(now));
    } else if (t.IsNull(n, notifications::deleted_at)) {
      txn.Set(TableId::notifications, n, notifications::deleted_at, now);
    }
  }

  void AddCategories() {
    Txn txn(db_, kWorkloadNow);
    for (const char* name : {"Music", "Talk", "Games"}) {
      txn.Insert(TableId::room_categories, {{room_categories::name, name}});
    }
    const Table& rooms = db_.table(TableId::rooms);
    for (RowId r = 0; r < rooms.row_count(); ++r) {
      if (Chance(10))
        txn.Set(TableId::rooms, r, rooms::category_id, static_cast<RowId>(Uniform(0, 2)));
    }
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }

  // Call sessions of present participants of live rooms, through the media operations.
  void AddCallSessions() {
    const Table& parts = db_.table(TableId::room_participants);
    const Table& sessions = db_.table(TableId::call_sessions);
    Timestamp now = kWorkloadNow;
    for (RowId room : data_.live_rooms) {
      db_.range(IndexNo("participants_by_room")).ScanPrefix({room, kNullKey}, [&](RowId p) {
        if (!Chance(30)) return true;
        now += kMicrosPerSecond;
        auto s = StartCallSession(db_, {.now = now}, parts.id(p));
        if (!s.ok()) return true;
        const OpContext ctx{.now = now + kMicrosPerSecond};
        const auto reason = static_cast<CallFailureReason>(Uniform(0, 7));
        if (Chance(20)) {
          EXPECT_TRUE(FailCallSession(db_, ctx, *s, reason, "x").ok());
          return true;
        }
        CallTelemetry tm;
        if (Chance(80)) tm.packet_loss_bp = static_cast<int32_t>(Uniform(0, 3000));
        if (Chance(80)) tm.rtt_ms = static_cast<int32_t>(Uniform(5, 900));
        if (Chance(50)) tm.jitter_ms = static_cast<int32_t>(Uniform(0, 100));
        if (Chance(50)) tm.bitrate_kbps = static_cast<int32_t>(Uniform(8, 512));
        if (Chance(60)) tm.region = Chance(50) ? "eu" : "us";
        if (Chance(60)) tm.transport = static_cast<CallTransport>(Uniform(0, 4));
        if (Chance(80)) {
          EXPECT_TRUE(ConnectCallSession(db_, ctx, *s, tm).ok());
        }
        if (Chance(30)) (void)DropCallSession(db_, ctx, *s, reason);
        if (Chance(30)) (void)EndCallSession(db_, ctx, *s);
        return true;
      });
    }
    EXPECT_GT(sessions.live_count(), 20u);
  }

  // Moderation by a few admins over a few users, through the moderation operations.
  void AddModeration() {
    const Table& users = db_.table(TableId::users);
    std::vector<RowId> admins;
    for (RowId u : data_.active_users) {
      if (users.GetEnum<UserRole>(u, users::role) != UserRole::USER) continue;
      if (admins.size() < 3) {
        admins.push_back(u);
        testing::SetColumn(db_, kWorkloadNow, TableId::users, u, users::role, UserRole::ADMIN);
      } else if (targets_.size() < 30) {
        targets_.push_back(u);
      }
    }
    std::vector<Uuid> actions;
    Timestamp now = kWorkloadNow + 3600 * kMicrosPerSecond;
    for (int i = 0; i < 120; ++i) {
      now += 10 * kMicrosPerSecond;
      const bool warning = Chance(70);
      ModerationRequest req{
          .moderator_id = users.id(Pick(admins)),
          .target_user_id = users.id(Pick(targets_)),
          .type = warning ? ModerationActionType::WARNING : ModerationActionType::SUSPENSION,
          .reason = "spam"};
      if (warning && Chance(50)) req.room_id = db_.table(TableId::rooms).id(AnyRow(TableId::rooms));
      if (!warning) req.expires_at = now + 86400 * kMicrosPerSecond;
      auto id = TakeModerationAction(db_, {.now = now}, req);
      if (id.ok()) actions.push_back(*id);
    }
    EXPECT_GT(actions.size(), 50u);
    for (const Uuid& a : actions) {
      if (Chance(20)) {
        now += kMicrosPerSecond;
        (void)RevokeModerationAction(db_, {.now = now}, a, users.id(admins[0]), "appeal");
      }
    }
  }

  // Missed calls, invitations and other notices, through the notification operations.
  void AddNotifications() {
    const Table& users = db_.table(TableId::users);
    const Table& rooms = db_.table(TableId::rooms);
    std::vector<Uuid> notes;
    Timestamp now = kWorkloadNow + 7200 * kMicrosPerSecond;
    for (int i = 0; i < 300; ++i) {
      now += (Chance(30) ? 0 : 5) * kMicrosPerSecond;  // some at the same moment
      const OpContext ctx{.now = now};
      const RowId to = Chance(60) ? Pick(targets_) : Pick(data_.active_users);
      const RowId from = Pick(data_.active_users);
      absl::StatusOr<Uuid> id = absl::UnknownError("none");
      switch (Uniform(0, 2)) {
        case 0:
          id = RecordMissedCall(
              db_, ctx, users.id(to), users.id(from),
              Chance(50) ? std::optional<Uuid>(rooms.id(Pick(data_.live_rooms))) : std::nullopt);
          break;
        case 1: {
          const RowId room = Pick(data_.live_rooms);
          auto inv = InviteToRoom(db_, ctx, rooms.id(room),
                                  users.id(rooms.GetRef(room, rooms::owner_id)), users.id(to));
          if (inv.ok() && !inv->already_invited) id = inv->notification_id;
          break;
        }
        default:
          id = SendNotification(db_, ctx, {.recipient_id = users.id(to), .title = "hello"});
      }
      if (id.ok()) notes.push_back(*id);
    }
    EXPECT_GT(notes.size(), 150u);
    const Table& n = db_.table(TableId::notifications);
    for (const Uuid& id : notes) {
      const RowId r = n.FindById(id);
      const Uuid recipient = users.id(n.GetRef(r, notifications::recipient_id));
      now += kMicrosPerSecond;
      if (Chance(30)) (void)MarkNotificationRead(db_, {.now = now}, id, recipient);
      if (Chance(10)) (void)DeleteNotification(db_, {.now = now}, id, recipient);
    }
  }

  Database db_;
  std::mt19937_64 rng_;
  GeneratedData data_;
  std::vector<RowId> targets_;
  int counter_ = 0;
};

std::string Describe(const SearchPage& page) {
  return StrCat(page.rows.size(), " rows; ", page.plan.Explain());
}

// Pages through `q` (up to `max_pages`), checking each page against the oracle.
template <typename Q>
void ExpectPagesLikeOracle(const Database& db, Q q, int max_pages) {
  const std::vector<Match> all = Expected(db, q);
  size_t at = 0;
  for (int page_no = 0; page_no < max_pages; ++page_no) {
    auto page = Search(db, q);
    ASSERT_TRUE(page.ok()) << page.status();
    const size_t want = std::min(q.limit, all.size() - at);
    ASSERT_EQ(page->rows.size(), want) << "page " << page_no << ": " << Describe(*page);
    for (size_t i = 0; i < want; ++i) {
      ASSERT_EQ(page->rows[i], all[at + i].row)
          << "page " << page_no << " row " << i << ": " << Describe(*page);
    }
    at += want;
    ASSERT_EQ(page->next.has_value(), at < all.size()) << Describe(*page);
    if (!page->next) return;
    q.after = *page->next;
  }
}

class SearchRandomizedTest : public ::testing::TestWithParam<int> {};

TEST_P(SearchRandomizedTest, EverySearchAgreesWithABruteForceScan) {
  World w(GetParam());
  const Database& db = w.db();
  ASSERT_TRUE(db.VerifyIndexes().ok()) << db.VerifyIndexes();
  std::map<std::string, int> plans;  // each search's plans, to see they all ran
  auto run = [&](auto q) {
    {
      auto first = Search(db, q);
      ASSERT_TRUE(first.ok()) << first.status();
      ++plans[StrCat(first->plan.table, " ",
                     first->plan.index.empty() ? "scan" : first->plan.index)];
    }
    ExpectPagesLikeOracle(db, q, q.limit < 20 ? 25 : 8);
  };
  for (int i = 0; i < 120; ++i) {
    SCOPED_TRACE(StrCat("request ", i));
    run(w.RandomUsers());
    run(w.RandomRooms());
    run(w.RandomCallSessions());
    run(w.RandomParticipants());
    run(w.RandomModeration());
    run(w.RandomAudit());
    run(w.RandomTransfers());
    run(w.RandomNotifications());
    if (::testing::Test::HasFatalFailure()) return;
  }
  for (const std::string_view plan :
       {"users users_email",
        "users users_active",
        "users scan",
        "rooms rooms_by_owner",
        "rooms rooms_live_by_tag",
        "rooms rooms_by_status",
        "rooms scan",
        "call_sessions call_sessions_open",
        "call_sessions call_sessions_by_participant",
        "call_sessions participants_by_room+call_sessions_by_participant",
        "call_sessions scan",
        "room_participants participants_by_room",
        "room_participants participants_present_by_user",
        "room_participants scan",
        "moderation_actions moderation_by_target",
        "moderation_actions scan",
        "audit_logs audit_by_room",
        "audit_logs audit_by_user",
        "audit_logs scan",
        "notifications notifications_by_recipient",
        "notifications scan",
        "transactions transactions_by_debit_wallet+transactions_by_credit_wallet",
        "transactions scan"}) {
    EXPECT_GT(plans[std::string(plan)], 0) << plan << " never ran";
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, SearchRandomizedTest, ::testing::Values(1, 2, 3));

// ---- Paging while writes go on ----------------------------------------------------

// (row, id, sort key) of every current match.
using MatchTuple = std::tuple<RowId, Uuid, Key>;
template <typename Q>
std::set<MatchTuple> MatchSet(const Database& db, const Q& q) {
  std::set<MatchTuple> out;
  for (const Match& m : Expected(db, q)) out.emplace(m.row, m.id, m.key);
  return out;
}

// Pages through `q` with random writes between pages. Each page must be
// exactly the oracle's next page after the previous page's last key (as it
// was then), and every row that matched throughout with an unchanged sort
// key must be returned exactly once.
template <typename Q>
void PageWhileWriting(World& w, Q q) {
  const Database& db = w.db();
  auto stable = MatchSet(db, q);
  std::map<std::pair<RowId, Uuid>, int> seen;
  std::optional<Key> last;
  bool finished = false;
  for (int page_no = 0; page_no < 40; ++page_no) {
    const std::vector<Match> all = Expected(db, q);
    auto from = all.begin();
    if (last) {
      from = std::upper_bound(all.begin(), all.end(), *last,
                              [](const Key& k, const Match& m) { return k < m.key; });
    }
    const size_t left = all.end() - from;
    auto page = Search(db, q);
    ASSERT_TRUE(page.ok()) << page.status();
    const size_t want = std::min(q.limit, left);
    ASSERT_EQ(page->rows.size(), want) << "page " << page_no << ": " << Describe(*page);
    for (size_t i = 0; i < want; ++i) {
      ASSERT_EQ(page->rows[i], from[i].row) << "page " << page_no << " row " << i;
      ++seen[{from[i].row, from[i].id}];
    }
    ASSERT_EQ(page->next.has_value(), left > want);
    if (!page->next) {
      finished = true;
      break;
    }
    last = from[want - 1].key;
    q.after = *page->next;
    for (int i = 0, n = static_cast<int>(w.Uniform(1, 12)); i < n; ++i) w.RandomWrite();
    auto now = MatchSet(db, q);
    std::set<MatchTuple> both;
    std::set_intersection(stable.begin(), stable.end(), now.begin(), now.end(),
                          std::inserter(both, both.begin()));
    stable = std::move(both);
  }
  // All of them, or (when the walk stopped early) those up to the last page.
  for (const auto& [row, id, key] : stable) {
    if (!finished && *last < key) continue;
    EXPECT_EQ((seen[{row, id}]), 1) << "row " << row << " matched throughout";
  }
}

class SearchWhileWritingTest : public ::testing::TestWithParam<int> {};

TEST_P(SearchWhileWritingTest, RowsThatMatchThroughoutAppearExactlyOnce) {
  World w(100 + GetParam());
  for (int i = 0; i < 12; ++i) {
    SCOPED_TRACE(StrCat("round ", i));
    auto small = [&](auto q) {
      q.limit = static_cast<size_t>(w.Uniform(1, 40));
      return q;
    };
    PageWhileWriting(w, small(w.RandomUsers()));
    PageWhileWriting(w, small(w.RandomRooms()));
    PageWhileWriting(w, small(w.RandomCallSessions()));
    PageWhileWriting(w, small(w.RandomParticipants()));
    PageWhileWriting(w, small(w.RandomModeration()));
    PageWhileWriting(w, small(w.RandomAudit()));
    PageWhileWriting(w, small(w.RandomTransfers()));
    PageWhileWriting(w, small(w.RandomNotifications()));
    if (::testing::Test::HasFatalFailure()) return;
  }
  EXPECT_TRUE(w.db().VerifyIndexes().ok()) << w.db().VerifyIndexes();
}

INSTANTIATE_TEST_SUITE_P(Seeds, SearchWhileWritingTest, ::testing::Values(1, 2));

}  // namespace
}  // namespace vox
