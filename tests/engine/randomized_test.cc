// Thousands of random operations, valid and invalid, against the engine and
// a small reference model. After every operation: every index agrees with a
// full scan, a refused operation changed nothing at all (a fingerprint of
// every row is unchanged), and the engine's live state matches the model.
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "engine/ops/generic.h"
#include "engine/ops/ledger.h"
#include "engine/ops/maintenance.h"
#include "engine/ops/moderation.h"
#include "engine/ops/queries.h"
#include "engine/ops/rooms.h"
#include "test_util.h"
#include "xxhash.h"

namespace vox {
namespace {

// A hash of every value of every live row: unchanged exactly when an
// operation changed nothing.
uint64_t Fingerprint(const Database& db) {
  const std::string dump = testing::DumpDb(db);
  return XXH3_64bits(dump.data(), dump.size());
}

struct ModelRoom {
  Uuid id;
  Uuid owner;
  RoomStatus status = RoomStatus::CREATED;
  int capacity = 0;
  bool deleted = false;
  std::set<Uuid> present, banned;
};

struct ModelUser {
  bool active = true;  // ACTIVE and not deleted
  bool deleted = false;
  int64_t available = 0;
};

class RandomizedTest : public testing::EngineTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {
    rng_.seed(GetParam());
    admin_ = Register("admin0");
    GrantRole(admin_, UserRole::ADMIN);
    ASSERT_TRUE(SetFee(db_, Ctx(),
                       {.transfer_type = TransferType::GIFT,
                        .fee_bps = 500,
                        .min_fee = 1,
                        .effective_from = Ctx().now})
                    .ok());
    for (int i = 0; i < 12; ++i) AddUser();
  }

  void AddUser() {
    const std::string name = StrCat("user", users_.size());
    const Uuid id = Register(name);
    user_ids_.push_back(id);
    users_[id] = ModelUser{};
  }

  template <typename T>
  T Pick(const std::vector<T>& v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(rng_)];
  }
  bool Chance(int percent) { return std::uniform_int_distribution<int>(0, 99)(rng_) < percent; }
  // Mostly a known user; sometimes one that does not exist.
  Uuid AnyUser() { return Chance(5) ? Uuid{rng_(), rng_()} : Pick(user_ids_); }
  Uuid AnyRoom() {
    if (room_ids_.empty() || Chance(5)) return Uuid{rng_(), rng_()};
    return Pick(room_ids_);
  }
  // Mostly a LIVE room; otherwise any.
  Uuid LiveRoom() {
    std::vector<Uuid> live;
    for (const auto& [id, room] : rooms_) {
      if (room.status == RoomStatus::LIVE && !room.deleted) live.push_back(id);
    }
    return live.empty() || Chance(30) ? AnyRoom() : Pick(live);
  }
  // Mostly someone present in the room; otherwise anyone.
  Uuid PresentIn(const Uuid& room_id) {
    ModelRoom* room = RoomOf(room_id);
    if (room == nullptr || room->present.empty() || Chance(30)) return AnyUser();
    return Pick(std::vector<Uuid>(room->present.begin(), room->present.end()));
  }
  ModelRoom* RoomOf(const Uuid& id) {
    auto it = rooms_.find(id);
    return it == rooms_.end() ? nullptr : &it->second;
  }
  bool Active(const Uuid& u) { return users_.count(u) && users_[u].active; }

  // Removes a user from every room in the model (status change, deletion).
  void ModelRemoveEverywhere(const Uuid& u) {
    for (auto& [id, room] : rooms_) {
      if (room.owner == u && room.status == RoomStatus::LIVE) {
        room.status = RoomStatus::ENDED;
        room.present.clear();
      }
      room.present.erase(u);
    }
  }

  // One random operation; returns its status. Updates the model when it
  // succeeds, and checks the engine's decision where the model predicts it.
  absl::Status Step(int64_t t) {
    const OpContext ctx = Ctx(t);
    switch (std::uniform_int_distribution<int>(0, 14)(rng_)) {
      case 14:
      case 0: {  // create and open a room
        const Uuid owner = AnyUser();
        const int capacity = std::uniform_int_distribution<int>(1, 6)(rng_);  // 1 is invalid
        auto r = CreateAndOpenRoom(
            db_, ctx,
            {.owner_id = owner, .title = "room", .settings = {.max_participants = capacity}});
        EXPECT_EQ(r.ok(), Active(owner) && capacity >= 2) << r.status().message();
        if (r.ok()) {
          room_ids_.push_back(r->room_id);
          rooms_[r->room_id] = {r->room_id, owner, RoomStatus::LIVE, capacity, false, {owner}, {}};
        }
        return r.status();
      }
      case 1:
      case 2:
      case 3: {  // join
        const Uuid room_id = LiveRoom(), user = AnyUser();
        auto r = JoinRoom(db_, ctx, room_id, user);
        ModelRoom* room = RoomOf(room_id);
        const bool expect = room && !room->deleted && Active(user) &&
                            (room->status == RoomStatus::LIVE ||
                             (room->status == RoomStatus::CREATED && room->owner == user)) &&
                            !room->banned.count(user) && !room->present.count(user) &&
                            static_cast<int>(room->present.size()) < room->capacity;
        EXPECT_EQ(r.ok(), expect) << r.status().message();
        if (r.ok()) {
          room->present.insert(user);
          if (room->status == RoomStatus::CREATED) room->status = RoomStatus::LIVE;
        } else if (room && expect == false && room->present.count(user) == 0 && Active(user) &&
                   !room->deleted && room->status == RoomStatus::LIVE &&
                   !room->banned.count(user)) {
          EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
        }
        return r.status();
      }
      case 4:
      case 5: {  // leave
        const Uuid room_id = LiveRoom(), user = PresentIn(room_id);
        absl::Status s = LeaveRoom(db_, ctx, room_id, user);
        ModelRoom* room = RoomOf(room_id);
        EXPECT_EQ(s.ok(), room && room->present.count(user) > 0) << s.message();
        if (s.ok()) room->present.erase(user);
        return s;
      }
      case 6: {  // ban (by the owner) or unban
        const Uuid room_id = LiveRoom(), user = PresentIn(room_id);
        ModelRoom* room = RoomOf(room_id);
        const Uuid actor = room ? room->owner : AnyUser();
        if (Chance(70)) {
          absl::Status s = BanFromRoom(db_, ctx, room_id, actor, user, "random");
          if (s.ok()) {
            EXPECT_TRUE(room && Active(actor) && room->present.count(actor) &&
                        user != room->owner && !room->banned.count(user));
            room->banned.insert(user);
            room->present.erase(user);
          }
          return s;
        }
        absl::Status s = UnbanFromRoom(db_, ctx, room_id, actor, user);
        if (s.ok()) {
          EXPECT_TRUE(room && room->banned.count(user));
          room->banned.erase(user);
        }
        return s;
      }
      case 7: {  // end a room
        const Uuid room_id = Chance(50) ? LiveRoom() : AnyRoom();
        ModelRoom* room = RoomOf(room_id);
        absl::Status s = EndRoom(db_, ctx, room_id, room ? room->owner : AnyUser());
        if (s.ok()) {
          EXPECT_EQ(room->status, RoomStatus::LIVE);
          room->status = RoomStatus::ENDED;
          room->present.clear();
        }
        return s;
      }
      case 8: {  // mute or hand, by anyone on anyone
        const Uuid room_id = LiveRoom(), target = PresentIn(room_id);
        ModelRoom* room = RoomOf(room_id);
        const Uuid actor = Chance(50) ? target : room && Chance(80) ? room->owner : AnyUser();
        return Chance(50) ? SetMuted(db_, ctx, room_id, actor, target, Chance(50))
                          : SetHandRaised(db_, ctx, room_id, actor, target, Chance(50));
      }
      case 9: {  // top up, sometimes with a bad amount
        const Uuid user = AnyUser();
        const int64_t amount =
            Chance(10) ? -5 : std::uniform_int_distribution<int64_t>(1, 500)(rng_);
        auto r = TopUp(db_, ctx, {.user_id = user, .amount = amount});
        if (r.ok()) users_[user].available += amount;
        EXPECT_TRUE(!r.ok() || amount > 0);
        return r.status();
      }
      case 10:
      case 11: {  // gift
        const Uuid from = AnyUser(), to = AnyUser();
        const int64_t have = users_.count(from) ? users_[from].available : 0;
        const int64_t amount = std::uniform_int_distribution<int64_t>(0, have + 20)(rng_);
        auto r = Gift(db_, ctx, {.sender_id = from, .receiver_id = to, .amount = amount});
        const int64_t fee = std::min(amount, std::max<int64_t>(1, amount * 500 / 10000));
        const bool expect = Active(from) && users_.count(to) && !users_[to].deleted && from != to &&
                            amount > fee && users_[from].available >= amount;
        EXPECT_EQ(r.ok(), expect) << r.status().message();
        if (r.ok()) {
          EXPECT_EQ(r->fee, fee);
          users_[from].available -= amount;
          users_[to].available += amount - fee;
        }
        return r.status();
      }
      case 12: {  // suspend or reactivate, by the admin
        const Uuid user = Pick(user_ids_);
        const bool suspend = Chance(60);
        absl::Status s = SetAccountStatus(
            db_, ctx,
            {.actor_id = admin_,
             .user_id = user,
             .status = suspend ? AccountStatus::SUSPENDED : AccountStatus::ACTIVE});
        EXPECT_EQ(s.ok(), !users_[user].deleted) << s.message();
        if (s.ok()) {
          users_[user].active = !suspend;
          if (suspend) ModelRemoveEverywhere(user);
        }
        return s;
      }
      case 13: {  // rarely: delete a user, then replace them
        if (!Chance(15)) return RunMaintenance(db_, ctx).status();
        const Uuid user = Pick(user_ids_);
        absl::Status s = DeleteUser(db_, ctx, admin_, user);
        EXPECT_EQ(s.ok(), !users_[user].deleted) << s.message();
        if (s.ok()) {
          users_[user].deleted = true;
          users_[user].active = false;
          ModelRemoveEverywhere(user);
          AddUser();
        }
        return s;
      }
    }
    return absl::OkStatus();
  }

  void ExpectEngineMatchesModel() {
    const Table& rooms = db_.table(TableId::rooms);
    const Table& parts = db_.table(TableId::room_participants);
    std::vector<ParticipantState> present;
    for (const auto& [id, room] : rooms_) {
      const RowId r = rooms.FindById(id);
      ASSERT_NE(r, kNoRow);
      EXPECT_EQ(rooms.GetEnum<RoomStatus>(r, rooms::status), room.status);
      PresentParticipants(db_, r, &present);
      std::set<Uuid> engine_present;
      for (const auto& p : present) engine_present.insert(db_.table(TableId::users).id(p.user));
      EXPECT_EQ(engine_present, room.present);
      EXPECT_EQ(rooms.GetInt(r, rooms::participant_count), static_cast<int64_t>(present.size()));
      EXPECT_LE(present.size(), static_cast<size_t>(room.capacity));
      for (const Uuid& u : user_ids_) {
        EXPECT_EQ(IsBanned(db_, r, UserRow(u)), room.banned.count(u) > 0);
      }
    }
    (void)parts;
    for (const auto& [id, user] : users_) {
      auto b = GetWalletBalance(db_, id);
      ASSERT_TRUE(b.ok()) << b.status().message();
      EXPECT_EQ(b->available, user.available);
      EXPECT_GE(b->available, 0);
    }
  }

  std::mt19937_64 rng_;
  Uuid admin_;
  std::vector<Uuid> user_ids_, room_ids_;
  std::map<Uuid, ModelUser> users_;
  std::map<Uuid, ModelRoom> rooms_;
};

TEST_P(RandomizedTest, EveryOperationKeepsIndexesModelAndAtomicity) {
  constexpr int kOps = 3000;
  int refused = 0;
  for (int i = 0; i < kOps; ++i) {
    const uint64_t before = Fingerprint(db_);
    const absl::Status s = Step(i + 1);
    if (!s.ok()) {
      ++refused;
      ASSERT_EQ(Fingerprint(db_), before) << "refused op " << i << " changed data: " << s.message();
    }
    const absl::Status indexes = db_.VerifyIndexes();
    ASSERT_TRUE(indexes.ok()) << "after op " << i << ": " << indexes.message();
    if (i % 50 == 49) {
      ExpectEngineMatchesModel();
      const LedgerAudit audit = AuditAllWallets(db_);
      ASSERT_TRUE(audit.ok()) << "ledger audit failed after op " << i;
    }
    if (HasFatalFailure()) return;
  }
  ExpectEngineMatchesModel();
  std::cout << "ops " << kOps << ", refused " << refused << ", rooms " << rooms_.size()
            << ", audit rows " << db_.table(TableId::audit_logs).live_count() << "\n";
  // Both kinds of outcome were exercised.
  EXPECT_GT(refused, kOps / 10);
  EXPECT_LT(refused, kOps * 9 / 10);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomizedTest, ::testing::Values(1, 2, 3));

}  // namespace
}  // namespace vox
