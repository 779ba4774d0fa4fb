#include "tools/datagen/datagen.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "engine/txn.h"
#include "engine/value.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/engine/test_util.h"

namespace vox {
namespace {

// Counts broken invariants, keeping the first few descriptions.
class Violations {
 public:
  template <typename... Args>
  void Check(bool ok, const Args&... what) {
    if (ok) return;
    if (++count_ <= 8) messages_ += StrCat(what...) + "\n";
  }
  int count() const { return count_; }
  const std::string& messages() const { return messages_; }

 private:
  int count_ = 0;
  std::string messages_;
};

struct Loaded {
  std::unique_ptr<Database> db;
  GeneratedData data;
};

Loaded Generate(double scale, uint64_t seed) {
  Loaded out;
  out.db = std::make_unique<Database>(WorkloadDatabaseOptions(seed));
  absl::StatusOr<GeneratedData> data = GenerateWorkload(*out.db, {.scale = scale, .seed = seed});
  EXPECT_TRUE(data.ok()) << data.status();
  if (data.ok()) out.data = *std::move(data);
  return out;
}

// `count` of `n` is a share near `p`: within five standard deviations (and
// at least half a percentage point).
void ExpectShare(size_t count, size_t n, double p, std::string_view what) {
  ASSERT_GT(n, 0u) << what;
  const double tolerance = std::max(0.005, 5 * std::sqrt(p * (1 - p) / n));
  EXPECT_NEAR(count / static_cast<double>(n), p, tolerance) << what << ": " << count << " of " << n;
}

// `actual` is within [lo, hi] times `expected`.
void ExpectNear(uint64_t actual, double expected, double lo, double hi, std::string_view what) {
  EXPECT_GE(static_cast<double>(actual), expected * lo) << what;
  EXPECT_LE(static_cast<double>(actual), expected * hi) << what;
}

void ExpectRowCounts(const Database& db, const GeneratedData& data, double scale) {
  const auto rows = [&](TableId t) { return db.table(t).live_count(); };
  const uint64_t users = std::llround(1e6 * scale), rooms = std::llround(2e6 * scale);
  EXPECT_EQ(rows(TableId::users), users);
  EXPECT_EQ(rows(TableId::rooms), rooms);
  EXPECT_EQ(rows(TableId::tags), 200u);
  EXPECT_EQ(rows(TableId::fee_schedule), 1u);
  EXPECT_EQ(rows(TableId::wallets), users + 2);
  ExpectNear(rows(TableId::auth_providers), 1.3e6 * scale, 0.93, 1.05, "auth_providers");
  ExpectNear(rows(TableId::room_participants), 20e6 * scale, 0.88, 1.12, "room_participants");
  ExpectNear(rows(TableId::recordings), 200e3 * scale, 0.75, 1.25, "recordings");
  ExpectNear(rows(TableId::audit_logs), 50e6 * scale, 0.9, 1.1, "audit_logs");
  ExpectNear(rows(TableId::transactions), 5e6 * scale, 0.9, 1.1, "transactions");
  uint64_t total = 0;
  for (const TableDef& def : kTables) {
    EXPECT_EQ(data.row_count(def.id), db.table(def.id).row_count()) << def.name;
    total += db.table(def.id).row_count();
  }
  EXPECT_EQ(data.total_rows, total);
}

// Scans every table and checks each invariant the engine relies on, plus the
// shapes WORKLOAD.md asks for.
void ExpectInvariants(const Database& db, const GeneratedData& data) {
  Violations v;
  const Table& users = db.table(TableId::users);
  const Table& providers = db.table(TableId::auth_providers);
  const Table& rooms = db.table(TableId::rooms);
  const Table& parts = db.table(TableId::room_participants);
  const Table& recs = db.table(TableId::recordings);
  const Table& audit = db.table(TableId::audit_logs);
  const Table& wallets = db.table(TableId::wallets);
  const Table& txns = db.table(TableId::transactions);
  const Table& tags = db.table(TableId::tags);
  const size_t n_users = users.row_count(), n_rooms = rooms.row_count();

  // ---- users
  size_t active = 0, deleted = 0, unverified = 0, plain_role = 0;
  std::vector<bool> is_deleted(n_users), can_act(n_users);
  for (RowId u = 0; u < n_users; ++u) {
    const std::string name = StrCat("user", static_cast<uint64_t>(u));
    v.Check(users.GetString(u, users::username) == name, "username of row ", u);
    const auto status = users.GetEnum<AccountStatus>(u, users::account_status);
    is_deleted[u] = !users.IsNull(u, users::deleted_at);
    can_act[u] = status == AccountStatus::ACTIVE && !is_deleted[u];
    if (is_deleted[u]) {
      ++deleted;
      v.Check(users.IsNull(u, users::email) && !users.GetBool(u, users::is_active) &&
                  status == AccountStatus::DELETED &&
                  users.GetString(u, users::display_name) == "Deleted User" &&
                  users.IsNull(u, users::password_hash),
              "soft-deleted ", name, " is not anonymised");
      v.Check(users.GetTime(u, users::deleted_at) >= users.GetTime(u, users::created_at), name,
              " deleted before it was created");
    } else {
      v.Check(users.GetString(u, users::email) == name + "@example.com", "email of ", name);
      v.Check(status != AccountStatus::DELETED, name, " DELETED without deleted_at");
    }
    v.Check(users.GetBool(u, users::is_active) == (status == AccountStatus::ACTIVE),
            "is_active of ", name);
    active += can_act[u];
    unverified += !users.GetBool(u, users::is_verified);
    plain_role += users.GetEnum<UserRole>(u, users::role) == UserRole::USER;
    const Timestamp created = users.GetTime(u, users::created_at);
    v.Check(created >= kWorkloadNow - 90 * 86400 * kMicrosPerSecond && created <= kWorkloadNow,
            name, " created outside the 90 days");
  }
  EXPECT_EQ(deleted, static_cast<size_t>(std::llround(0.01 * n_users)));
  EXPECT_EQ(active, static_cast<size_t>(std::llround(0.95 * n_users)));
  ExpectShare(unverified, n_users, 0.03, "unverified users");
  ExpectShare(plain_role, n_users, 0.995, "users with role USER");
  EXPECT_EQ(data.active_users.size(), active);
  for (RowId u : data.active_users) v.Check(can_act[u], "active_users has user", u);

  // ---- auth_providers: one LOCAL per user that is not deleted, ~30% one OAuth
  std::vector<int> local(n_users), oauth(n_users);
  for (RowId p = 0; p < providers.row_count(); ++p) {
    const RowId u = providers.GetRef(p, auth_providers::user_id);
    const bool is_local = providers.GetEnum<AuthProviderType>(p, auth_providers::provider_type) ==
                          AuthProviderType::LOCAL;
    (is_local ? local : oauth)[u]++;
    if (is_local) {
      v.Check(providers.GetString(p, auth_providers::provider_id) == FormatUuid(users.id(u)),
              "LOCAL provider_id of user", u, " is not its uuid");
    }
  }
  size_t with_oauth = 0;
  for (RowId u = 0; u < n_users; ++u) {
    v.Check(local[u] == (is_deleted[u] ? 0 : 1) && oauth[u] <= 1 && (!is_deleted[u] || !oauth[u]),
            "user", u, " has ", local[u], " LOCAL and ", oauth[u], " OAuth providers");
    with_oauth += oauth[u];
  }
  ExpectShare(with_oauth, n_users - deleted, 0.30, "users with an OAuth sign-in");

  // When suspended and banned users stopped being able to act (their
  // ACCOUNT_STATUS_CHANGED audit row); nothing of theirs happens later.
  std::vector<Timestamp> until(n_users, kWorkloadNow);
  for (RowId a = 0; a < audit.row_count(); ++a) {
    if (audit.GetEnum<AuditAction>(a, audit_logs::action) == AuditAction::ACCOUNT_STATUS_CHANGED) {
      until[audit.GetRef(a, audit_logs::target_user_id)] = audit.GetTime(a, audit_logs::timestamp);
    }
  }
  for (RowId u = 0; u < n_users; ++u) {
    if (is_deleted[u]) until[u] = users.GetTime(u, users::deleted_at);
    const auto status = users.GetEnum<AccountStatus>(u, users::account_status);
    v.Check((status == AccountStatus::ACTIVE) == (until[u] == kWorkloadNow), "user", u,
            " is not ACTIVE but has no status change, or the other way round");
  }

  // ---- room_participants, per room and per (room, user)
  std::vector<int32_t> joins(n_rooms), present(n_rooms);
  absl::flat_hash_set<std::pair<RowId, RowId>> present_pairs, banned_pairs;
  size_t kicked = 0, banned = 0;
  for (RowId p = 0; p < parts.row_count(); ++p) {
    const RowId room = parts.GetRef(p, room_participants::room_id);
    const RowId user = parts.GetRef(p, room_participants::user_id);
    ++joins[room];
    const Timestamp joined = parts.GetTime(p, room_participants::joined_at);
    v.Check(!is_deleted[user], "soft-deleted user", user, " takes part in room", room);
    v.Check(
        !rooms.IsNull(room, rooms::started_at) && joined >= rooms.GetTime(room, rooms::started_at),
        "participant ", p, " joined before its room started");
    v.Check(joined >= users.GetTime(user, users::created_at), "participant ", p,
            " joined before the user existed");
    v.Check(parts.IsNull(p, room_participants::left_at)
                ? until[user] == kWorkloadNow
                : parts.GetTime(p, room_participants::left_at) <= until[user],
            "participant ", p, " stayed after its user was suspended, banned or deleted");
    if (parts.IsNull(p, room_participants::left_at)) {
      ++present[room];
      v.Check(present_pairs.insert({room, user}).second, "user", user, " present twice in room",
              room);
      v.Check(parts.GetInt(p, room_participants::duration_seconds) == 0, "present participant ", p,
              " has a duration");
      v.Check(can_act[user], "user", user, " may not act but is present in room", room);
      v.Check(!parts.GetBool(p, room_participants::is_kicked) &&
                  !parts.GetBool(p, room_participants::is_banned),
              "kicked or banned participant ", p, " is still present");
    } else {
      const Timestamp left = parts.GetTime(p, room_participants::left_at);
      v.Check(left >= joined, "participant ", p, " left before joining");
      v.Check(parts.GetInt(p, room_participants::duration_seconds) ==
                  (left - joined) / kMicrosPerSecond,
              "participant ", p, " duration_seconds");
      v.Check(left <= kWorkloadNow, "participant ", p, " left in the future");
      if (!rooms.IsNull(room, rooms::ended_at)) {
        v.Check(left <= rooms.GetTime(room, rooms::ended_at), "participant ", p,
                " left after its room ended");
      }
    }
    if (parts.GetBool(p, room_participants::is_kicked)) {
      ++kicked;
      v.Check(
          !parts.IsNull(p, room_participants::kicked_at) &&
              parts.GetRef(p, room_participants::kicked_by) == rooms.GetRef(room, rooms::owner_id),
          "kicked participant ", p, " lacks kicked_at/kicked_by");
    }
    if (parts.GetBool(p, room_participants::is_banned)) {
      ++banned;
      v.Check(banned_pairs.insert({room, user}).second, "two banned rows for user", user,
              " in room", room);
      v.Check(!parts.IsNull(p, room_participants::banned_at) &&
                  !parts.IsNull(p, room_participants::banned_by),
              "banned participant ", p, " lacks banned_at/banned_by");
    }
  }
  ExpectShare(kicked, parts.row_count(), 0.005, "kicked participants");
  ExpectShare(banned, parts.row_count(), 0.002, "banned participants");
  EXPECT_EQ(data.banned.size(), banned);
  for (const auto& b : data.banned) {
    const Value key[] = {Value(b.room), Value(b.user)};
    v.Check(db.hash(IndexNo("participants_banned")).Find(key) != kNoRow, "banned pair room", b.room,
            " user", b.user, " not found by the ban check");
  }

  // ---- rooms
  size_t status_count[4] = {0, 0, 0, 0}, is_public = 0;
  absl::flat_hash_set<RowId> live_rooms;
  for (RowId r = 0; r < n_rooms; ++r) {
    const auto status = rooms.GetEnum<RoomStatus>(r, rooms::status);
    ++status_count[static_cast<int>(status)];
    is_public += rooms.GetBool(r, rooms::is_public);
    const int64_t count = rooms.GetInt(r, rooms::participant_count);
    const int64_t peak = rooms.GetInt(r, rooms::peak_participants);
    const int64_t max = rooms.GetInt(r, rooms::max_participants);
    const RowId owner = rooms.GetRef(r, rooms::owner_id);
    v.Check(count == present[r], "room", r, " participant_count ", count, " but ", present[r],
            " present");
    v.Check(rooms.GetInt(r, rooms::total_joins) == joins[r], "room", r, " total_joins");
    v.Check(peak >= count && peak <= max, "room", r, " peak ", peak, " count ", count, " max ",
            max);
    v.Check(max == 10 || max == 50 || max == 100 || max == 500 || max == 1000, "room", r,
            " max_participants ", max);
    uint16_t ids[kMaxTagsPerRoom];
    const int n_tags = UnpackTags(rooms.GetInt(r, rooms::tags), ids);
    v.Check(n_tags >= 1 && n_tags <= 3, "room", r, " has ", n_tags, " tags");
    for (int i = 0; i < n_tags; ++i) v.Check(tags.IsLive(ids[i] - 1u), "room", r, " tag");
    v.Check(!is_deleted[owner] || status == RoomStatus::ENDED || status == RoomStatus::CANCELLED,
            "soft-deleted user", owner, " owns room", r, " which is not over");
    v.Check(rooms.GetTime(r, rooms::updated_at) <= until[owner], "room", r,
            " changed after its owner was suspended, banned or deleted");
    switch (status) {
      case RoomStatus::LIVE:
        live_rooms.insert(r);
        v.Check(count >= 20 && count <= 200 && count <= max, "LIVE room", r, " has ", count,
                " present of ", max);
        v.Check(can_act[owner], "LIVE room", r, " owner may not act");
        v.Check(rooms.IsNull(r, rooms::ended_at), "LIVE room", r, " has ended_at");
        break;
      case RoomStatus::ENDED: {
        v.Check(!rooms.IsNull(r, rooms::started_at) && !rooms.IsNull(r, rooms::ended_at),
                "ENDED room", r, " lacks started_at/ended_at");
        const Timestamp started = rooms.GetTime(r, rooms::started_at);
        const Timestamp ended = rooms.GetTime(r, rooms::ended_at);
        v.Check(ended >= started && ended <= kWorkloadNow &&
                    rooms.GetTime(r, rooms::created_at) <= started,
                "ENDED room", r, " times out of order");
        v.Check(rooms.GetInt(r, rooms::duration_seconds) == (ended - started) / kMicrosPerSecond,
                "ENDED room", r, " duration_seconds");
        v.Check(count == 0 && joins[r] >= 1, "ENDED room", r, " has ", count, " present and ",
                joins[r], " joins");
        break;
      }
      case RoomStatus::CREATED:
      case RoomStatus::CANCELLED:
        v.Check(joins[r] == 0 && rooms.IsNull(r, rooms::started_at), "room", r,
                " never started but has participants or started_at");
        break;
    }
  }
  EXPECT_EQ(status_count[static_cast<int>(RoomStatus::LIVE)], std::llround(0.01 * n_rooms));
  EXPECT_EQ(status_count[static_cast<int>(RoomStatus::CREATED)], std::llround(0.04 * n_rooms));
  EXPECT_EQ(status_count[static_cast<int>(RoomStatus::CANCELLED)], std::llround(0.05 * n_rooms));
  ExpectShare(is_public, n_rooms, 0.70, "public rooms");
  EXPECT_EQ(absl::flat_hash_set<RowId>(data.live_rooms.begin(), data.live_rooms.end()), live_rooms);

  // ---- recordings
  absl::flat_hash_set<std::string> keys;
  size_t expired = 0;
  for (RowId r = 0; r < recs.row_count(); ++r) {
    const RowId room = recs.GetRef(r, recordings::room_id);
    v.Check(keys.insert(std::string(recs.GetString(r, recordings::storage_key))).second,
            "storage_key repeated at recording ", r);
    v.Check(rooms.GetEnum<RoomStatus>(room, rooms::status) == RoomStatus::ENDED &&
                rooms.GetBool(room, rooms::is_recordable),
            "recording ", r, " of a room that is not ENDED and recordable");
    v.Check(recs.GetRef(r, recordings::owner_id) == rooms.GetRef(room, rooms::owner_id),
            "recording ", r, " owner");
    const Timestamp start = recs.GetTime(r, recordings::started_at);
    const Timestamp stop = recs.GetTime(r, recordings::stopped_at);
    v.Check(start >= rooms.GetTime(room, rooms::started_at) && stop >= start &&
                stop <= rooms.GetTime(room, rooms::ended_at),
            "recording ", r, " outside its room's time");
    expired += recs.GetTime(r, recordings::expires_at) < kWorkloadNow &&
               recs.IsNull(r, recordings::deleted_at);
  }
  ExpectShare(expired, recs.row_count(), 0.20, "expired recordings");
  for (RowId room : data.rooms_with_recordings) {
    v.Check(
        db.range(IndexNo("recordings_by_room")).ScanPrefix({room}, [](RowId) { return false; }) ==
            1,
        "rooms_with_recordings has room", room, " without recordings");
  }

  // ---- audit_logs: references, and one USER_JOINED per participation
  size_t user_joined = 0, room_created = 0;
  for (RowId a = 0; a < audit.row_count(); ++a) {
    for (ColumnId c : {audit_logs::user_id, audit_logs::target_user_id}) {
      const RowId u = audit.GetRef(a, c);
      v.Check(u == kNoRow || users.IsLive(u), "audit ", a, " names a missing user");
    }
    const RowId room = audit.GetRef(a, audit_logs::room_id);
    v.Check(room == kNoRow || rooms.IsLive(room), "audit ", a, " names a missing room");
    const auto action = audit.GetEnum<AuditAction>(a, audit_logs::action);
    user_joined += action == AuditAction::USER_JOINED;
    room_created += action == AuditAction::ROOM_CREATED;
    v.Check(audit.GetTime(a, audit_logs::timestamp) <= kWorkloadNow, "audit ", a, " in the future");
    if (!audit.IsNull(a, audit_logs::metadata)) {
      v.Check(ValidateJson(audit.GetString(a, audit_logs::metadata)).ok(), "audit ", a, " JSON");
    }
  }
  EXPECT_EQ(user_joined, parts.row_count());
  EXPECT_EQ(room_created, n_rooms);

  // ---- wallets and the ledger
  std::vector<int64_t> debits(wallets.row_count()), credits(wallets.row_count());
  std::vector<int64_t> running(wallets.row_count());
  std::vector<int> wallets_of_user(n_users);
  for (RowId w = 0; w < wallets.row_count(); ++w) {
    v.Check(wallets.GetString(w, wallets::currency) == "COIN", "wallet ", w, " currency");
    const auto kind = wallets.GetEnum<WalletKind>(w, wallets::kind);
    if (kind == WalletKind::USER) {
      ++wallets_of_user[wallets.GetRef(w, wallets::user_id)];
    } else {
      v.Check(wallets.IsNull(w, wallets::user_id), "system wallet ", w, " has a user");
    }
  }
  for (RowId u = 0; u < n_users; ++u) v.Check(wallets_of_user[u] == 1, "user", u, " wallets");
  EXPECT_EQ(wallets.GetEnum<WalletKind>(data.issuance_wallet, wallets::kind),
            WalletKind::SYSTEM_ISSUANCE);
  EXPECT_EQ(wallets.GetEnum<WalletKind>(data.revenue_wallet, wallets::kind),
            WalletKind::SYSTEM_REVENUE);
  size_t by_type[8] = {};
  Timestamp previous = 0;
  for (RowId t = 0; t < txns.row_count(); ++t) {
    const RowId from = txns.GetRef(t, transactions::debit_wallet_id);
    const RowId to = txns.GetRef(t, transactions::credit_wallet_id);
    const int64_t amount = txns.GetInt(t, transactions::amount);
    const auto type = txns.GetEnum<TransferType>(t, transactions::type);
    ++by_type[static_cast<int>(type)];
    v.Check(from != to && amount > 0, "transaction ", t, " moves nothing");
    v.Check(
        txns.GetString(t, transactions::currency) == wallets.GetString(from, wallets::currency) &&
            txns.GetString(t, transactions::currency) == wallets.GetString(to, wallets::currency),
        "transaction ", t, " crosses currencies");
    v.Check(txns.GetTime(t, transactions::created_at) >= previous, "transaction ", t,
            " out of time order");
    previous = txns.GetTime(t, transactions::created_at);
    if (type == TransferType::TOP_UP) {
      v.Check(from == data.issuance_wallet, "top-up ", t, " not from issuance");
    }
    if (type == TransferType::FEE) {
      const RowId gift = txns.GetRef(t, transactions::parent_id);
      v.Check(to == data.revenue_wallet && gift != kNoRow &&
                  txns.GetEnum<TransferType>(gift, transactions::type) == TransferType::GIFT &&
                  txns.GetRef(gift, transactions::debit_wallet_id) == from,
              "fee ", t, " does not follow its gift");
    }
    if (txns.GetEnum<TransferStatus>(t, transactions::status) != TransferStatus::POSTED) continue;
    debits[from] += amount;
    credits[to] += amount;
    // Replayed in time order, no user wallet ever dips below zero.
    running[from] -= amount;
    running[to] += amount;
    v.Check(from == data.issuance_wallet || running[from] >= 0, "wallet ", from,
            " overdrawn by transaction ", t);
  }
  for (RowId w = 0; w < wallets.row_count(); ++w) {
    v.Check(wallets.GetInt(w, wallets::posted_debits) == debits[w] &&
                wallets.GetInt(w, wallets::posted_credits) == credits[w],
            "wallet ", w, " counters disagree with its transactions");
    if (wallets.GetEnum<WalletKind>(w, wallets::kind) == WalletKind::USER) {
      v.Check(credits[w] - debits[w] >= 0, "user wallet ", w, " below zero");
    }
  }
  EXPECT_EQ(by_type[static_cast<int>(TransferType::GIFT)],
            by_type[static_cast<int>(TransferType::FEE)]);
  EXPECT_GE(by_type[static_cast<int>(TransferType::TOP_UP)], n_users * 99 / 100);
  for (RowId u : data.funded_users) {
    const Value key[] = {Value(u), Value("COIN")};
    const RowId w = db.hash(IndexNo("wallets_user_currency")).Find(key);
    v.Check(w != kNoRow && can_act[u] && credits[w] - debits[w] >= 1000, "funded user", u);
  }
  EXPECT_FALSE(data.funded_users.empty());

  // ---- handy keys
  EXPECT_EQ(data.tag_ids.size(), 200u);
  for (const auto& [name, id] : data.tag_ids) {
    v.Check(tags.GetString(id - 1, tags::name) == name, "tag ", name);
  }
  EXPECT_FALSE(data.sample_emails.empty());
  for (const std::string& email : data.sample_emails) {
    const Value key[] = {Value(email)};
    const RowId u = db.hash(IndexNo("users_email")).Find(key);
    v.Check(u != kNoRow && !is_deleted[u], "sample email ", email);
  }

  EXPECT_EQ(v.count(), 0) << v.messages();
  const absl::Status indexes = db.VerifyIndexes();
  EXPECT_TRUE(indexes.ok()) << indexes;
}

class DatagenTest : public ::testing::Test {
 protected:
  static constexpr double kScale = 0.001;
  static void SetUpTestSuite() { loaded_ = new Loaded(Generate(kScale, 7)); }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  static Loaded* loaded_;
};
Loaded* DatagenTest::loaded_ = nullptr;

TEST_F(DatagenTest, RowCountsFollowTheWorkload) {
  ExpectRowCounts(*loaded_->db, loaded_->data, kScale);
}

TEST_F(DatagenTest, EveryInvariantHolds) { ExpectInvariants(*loaded_->db, loaded_->data); }

TEST_F(DatagenTest, SameSeedSameRowsOtherSeedOtherRows) {
  const Loaded again = Generate(kScale, 7);
  const Loaded other = Generate(kScale, 8);
  const Database& a = *loaded_->db;
  const Database& b = *again.db;
  size_t compared = 0;
  for (const TableDef& def : kTables) {
    const Table& ta = a.table(def.id);
    const Table& tb = b.table(def.id);
    ASSERT_EQ(ta.row_count(), tb.row_count()) << def.name;
    for (RowId r = 0; r < ta.row_count(); r += 37) {
      for (ColumnId c = 0; c < def.columns.size(); ++c) {
        ASSERT_TRUE(ta.GetValue(r, c) == tb.GetValue(r, c))
            << def.name << "." << def.columns[c].name << " of row " << r;
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 10000u);
  EXPECT_EQ(loaded_->data.live_rooms, again.data.live_rooms);
  EXPECT_EQ(loaded_->data.sample_emails, again.data.sample_emails);

  // Another seed: other uuids and other shapes.
  const Database& c = *other.db;
  for (TableId t : {TableId::users, TableId::rooms, TableId::room_participants, TableId::audit_logs,
                    TableId::transactions}) {
    EXPECT_NE(a.table(t).id(0), c.table(t).id(0)) << GetTable(t).name;
  }
  EXPECT_NE(a.table(TableId::room_participants).row_count(),
            c.table(TableId::room_participants).row_count());
  size_t same_owner = 0;
  for (RowId r = 0; r < 200; ++r) {
    same_owner += a.table(TableId::rooms).GetRef(r, rooms::owner_id) ==
                  c.table(TableId::rooms).GetRef(r, rooms::owner_id);
  }
  EXPECT_LT(same_owner, 10u);
}

TEST_F(DatagenTest, UuidsAreVersion7AtTheRowsTime) {
  const Table& users = loaded_->db->table(TableId::users);
  for (RowId u = 0; u < users.row_count(); u += 101) {
    const Uuid id = users.id(u);
    EXPECT_EQ((id.hi >> 12) & 0xf, 7u);
    EXPECT_EQ(id.lo >> 62, 2u);
    EXPECT_EQ(static_cast<int64_t>(id.hi >> 16), users.GetTime(u, users::created_at) / 1000);
  }
}

TEST(DatagenSeedsTest, SmallestScaleKeepsEveryInvariantWhateverTheSeed) {
  for (uint64_t seed : {1, 2, 3, 99, 12345}) {
    SCOPED_TRACE(StrCat("seed ", seed));
    const Loaded loaded = Generate(0.0005, seed);
    ExpectRowCounts(*loaded.db, loaded.data, 0.0005);
    ExpectInvariants(*loaded.db, loaded.data);
  }
}

TEST(DatagenOptionsTest, RefusesABadScaleOrAFullDatabase) {
  Database db(WorkloadDatabaseOptions(1));
  EXPECT_EQ(GenerateWorkload(db, {.scale = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GenerateWorkload(db, {.scale = 1000}).status().code(),
            absl::StatusCode::kInvalidArgument);
  {
    Txn txn(db, kWorkloadNow);
    txn.Insert(TableId::tags, {{tags::name, "jazz"}});
    txn.Commit();
  }
  EXPECT_EQ(GenerateWorkload(db, {.scale = 0.001}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// Bulk loading and the Txn path write the same rows, and a database with a
// CommitSink (a WAL) attached gets every row through Txn, so logged.
TEST_F(DatagenTest, BulkLoadWritesTheRowsTxnWrites) {
  Database by_txn(WorkloadDatabaseOptions(7));
  absl::StatusOr<GeneratedData> data =
      GenerateWorkload(by_txn, {.scale = kScale, .seed = 7, .bulk = false});
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(testing::DumpDb(*loaded_->db), testing::DumpDb(by_txn));
  EXPECT_EQ(data->rows, loaded_->data.rows);
  EXPECT_EQ(data->active_users, loaded_->data.active_users);
  EXPECT_EQ(data->funded_users, loaded_->data.funded_users);
  EXPECT_EQ(data->banned.size(), loaded_->data.banned.size());
  for (const TableDef& def : kTables) {
    for (size_t i = 0; i < by_txn.table(def.id).index_count(); ++i) {
      EXPECT_EQ(loaded_->db->table(def.id).index(i).size(), by_txn.table(def.id).index(i).size())
          << def.name << " " << by_txn.table(def.id).index(i).def().name;
    }
  }
}

TEST(DatagenOptionsTest, ADatabaseWithACommitSinkIsLoadedThroughTxn) {
  struct Sink : CommitSink {
    void OnCommit(const Txn& txn) override { rows += txn.changes().size(); }
    uint64_t rows = 0;
  } sink;
  Database db(WorkloadDatabaseOptions(3));
  db.set_commit_sink(&sink);
  absl::StatusOr<GeneratedData> data = GenerateWorkload(db, {.scale = 0.0005, .seed = 3});
  db.set_commit_sink(nullptr);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(sink.rows, data->total_rows);
  Database bulk(WorkloadDatabaseOptions(3));
  ASSERT_TRUE(GenerateWorkload(bulk, {.scale = 0.0005, .seed = 3}).ok());
  EXPECT_EQ(testing::DumpDb(db), testing::DumpDb(bulk));
}

struct ProgressCall {
  std::string phase;
  uint64_t done, total;
};

// Phases in order, each from 0 to its total, never going back.
void ExpectPhases(const std::vector<ProgressCall>& calls, const std::vector<std::string>& phases) {
  std::vector<std::string> seen;
  for (size_t i = 0; i < calls.size(); ++i) {
    const ProgressCall& c = calls[i];
    EXPECT_LE(c.done, c.total) << c.phase;
    if (seen.empty() || seen.back() != c.phase) {
      EXPECT_EQ(c.done, 0u) << c.phase;
      seen.push_back(c.phase);
    } else {
      EXPECT_GE(c.done, calls[i - 1].done) << c.phase;
    }
    if (i + 1 == calls.size() || calls[i + 1].phase != c.phase) {
      EXPECT_EQ(c.done, c.total) << c.phase;
    }
  }
  EXPECT_EQ(seen, phases);
}

// The CI-sized data set, with progress reporting.
TEST(DatagenScaleTest, HundredthScaleKeepsEveryInvariant) {
  constexpr double kScale = 0.01;
  Database db(WorkloadDatabaseOptions(42));
  std::vector<ProgressCall> calls;
  absl::StatusOr<GeneratedData> data =
      GenerateWorkload(db, {.scale = kScale,
                            .seed = 42,
                            .progress =
                                [&](std::string_view phase, uint64_t done, uint64_t total) {
                                  calls.push_back({std::string(phase), done, total});
                                },
                            .progress_seconds = 0});
  ASSERT_TRUE(data.ok()) << data.status();
  std::printf("SF=%g: %llu rows in %.2f s\n", kScale,
              static_cast<unsigned long long>(data->total_rows), data->load_seconds);
  ExpectRowCounts(db, *data, kScale);
  ExpectInvariants(db, *data);

  // Progress: with no interval, a report every 10,000 rows or so.
  const std::vector<std::string> phases = {"reference", "users",        "rooms",  "ledger",
                                           "wallets",   "transactions", "indexes"};
  ExpectPhases(calls, phases);
  EXPECT_LE(calls.size(), 2 * phases.size() + data->total_rows / 10'000 + 1);
  EXPECT_GT(calls.size(), 2 * phases.size() + data->total_rows / 40'000);
}

// With the default interval: the phases' starts and ends, and at most one
// report a second in between.
TEST(DatagenOptionsTest, ProgressComesAtMostOnceASecond) {
  Database db(WorkloadDatabaseOptions(5));
  std::vector<ProgressCall> calls;
  absl::StatusOr<GeneratedData> data = GenerateWorkload(
      db, {.scale = 0.002,
           .seed = 5,
           .progress = [&](std::string_view phase, uint64_t done, uint64_t total) {
             calls.push_back({std::string(phase), done, total});
           }});
  ASSERT_TRUE(data.ok()) << data.status();
  const std::vector<std::string> phases = {"reference", "users",        "rooms",  "ledger",
                                           "wallets",   "transactions", "indexes"};
  ExpectPhases(calls, phases);
  EXPECT_LE(calls.size(), 2 * phases.size() + static_cast<size_t>(data->load_seconds) + 1);
}

}  // namespace
}  // namespace vox
