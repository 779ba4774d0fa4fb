// The seed's three schema-evolution examples (seeds/schema-design.md, as
// docs/schema.md translates them) end to end on the real server: each
// migration applied over the wire to a populated database while clients
// write, then a snapshot, more writes, a kill -9 and a restart (snapshot
// load + WAL replay), and the new column / enum value / table read back
// with the old rows intact and every acknowledged write present.
#include <atomic>
#include <filesystem>
#include <thread>

#include "gtest/gtest.h"
#include "net/client.h"
#include "schema/str.h"
#include "server_process.h"
#include "tests/wal/wal_test_util.h"

#ifndef VOX_SOURCE_DIR
#error "VOX_SOURCE_DIR names the source tree (tests/data)"
#endif

namespace vox {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

bool Has(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

class SchemaEvolutionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Start();
    // A populated database: users, rooms, participants, money.
    for (int i = 0; i < 60; ++i) {
      auto u = Register(StrCat("pop", i));
      ASSERT_TRUE(u.ok()) << u.status().message();
      users_.push_back(*u);
      ASSERT_TRUE(client_->Call(rpc::TopUp{*u, 100, StrCat("topup-", i)}).ok());
    }
    for (int i = 0; i < 6; ++i) {
      auto room = client_->Call(rpc::CreateAndOpenRoom{
          .owner_id = users_[i], .title = StrCat("room ", i), .room_code = StrCat("room-", i)});
      ASSERT_TRUE(room.ok()) << room.status().message();
      rooms_.push_back(room->room_id);
      for (int j = 10 + i * 5; j < 15 + i * 5; ++j) {
        ASSERT_TRUE(client_->Call(rpc::JoinRoom{room->room_id, users_[j]}).ok());
      }
    }
    users_before_ = RowOf("users", users_[7]);
    room_before_ = RowOf("rooms", rooms_[1]);
  }

  void Start() {
    server_ = std::make_unique<ServerProcess>(dir_.path(), std::vector<std::string>{
                                                               "--checkpoint_interval_s=0"});
    ASSERT_NE(server_->port(), 0);
    client_ = server_->Connect();
    ASSERT_NE(client_, nullptr);
  }
  // kill -9, then a new server on the same files.
  void CrashAndRestart() {
    client_.reset();
    server_->Kill(SIGKILL);
    server_.reset();
    Start();
  }

  absl::StatusOr<Uuid> Register(const std::string& name, Client* c = nullptr) {
    auto r = (c != nullptr ? c : client_.get())
                 ->Call(rpc::RegisterUser{name, name + "@example.com", "h", name});
    if (!r.ok()) return r.status();
    return r->user_id;
  }
  std::string RowOf(const std::string& table, const Uuid& id) {
    auto row = client_->Call(rpc::GetRow{table, id});
    EXPECT_TRUE(row.ok()) << table << ": " << row.status().message();
    return row.ok() ? *row : std::string();
  }

  // Runs `fn` while two more clients register users and top them up; returns
  // the users whose registration was acknowledged.
  template <typename Fn>
  std::vector<Uuid> UnderWriteLoad(Fn fn) {
    std::atomic<bool> stop{false};
    std::vector<std::vector<Uuid>> acked(2);
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        auto c = Client::Connect({.port = server_->port()});
        ASSERT_TRUE(c.ok());
        for (int i = 0; !stop.load() || i < 20; ++i) {
          auto u = Register(StrCat("load", load_round_, "w", w, "n", i), c->get());
          ASSERT_TRUE(u.ok()) << u.status().message();
          acked[w].push_back(*u);
          ASSERT_TRUE((*c)->Call(rpc::TopUp{*u, 5, StrCat("load-", FormatUuid(*u))}).ok());
        }
      });
    }
    fn();
    stop = true;
    for (auto& t : writers) t.join();
    ++load_round_;
    std::vector<Uuid> out = acked[0];
    out.insert(out.end(), acked[1].begin(), acked[1].end());
    return out;
  }

  rpc::MigrationInfo Apply(const std::string& text) {
    auto r = client_->Call(rpc::ApplyMigration{.text = text});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : rpc::MigrationInfo{};
  }

  // What must hold after every restart: the rows from before the migration,
  // and every acknowledged registration.
  void ExpectOldRowsAndAckedWrites(const std::vector<Uuid>& acked) {
    const std::string users_now = RowOf("users", users_[7]);
    // The old row is intact: every field it had, with the same value.
    std::string old_fields = users_before_.substr(1, users_before_.size() - 2);
    EXPECT_TRUE(Has(users_now, old_fields.substr(0, old_fields.find(",\"updated_at\""))))
        << users_now;
    EXPECT_TRUE(Has(users_now, R"("username":"pop7")"));
    for (const Uuid& u : acked) {
      auto row = client_->Call(rpc::GetRow{"users", u});
      ASSERT_TRUE(row.ok()) << FormatUuid(u) << ": " << row.status().message();
    }
    auto balance = client_->Call(rpc::GetWalletBalance{users_[3]});
    ASSERT_TRUE(balance.ok());
    EXPECT_EQ(balance->balance, 100);
    auto present = client_->Call(rpc::PresentParticipants{rooms_[2]});
    ASSERT_TRUE(present.ok());
    EXPECT_EQ(present->size(), 6u);  // the host and five guests
  }

  testing::TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Client> client_;
  std::vector<Uuid> users_, rooms_;
  std::string users_before_, room_before_;
  int load_round_ = 0;
};

// Seed: `bio String? @db.Text` on User. (users.bio is built in; the same
// migration adds users.headline.)
TEST_F(SchemaEvolutionTest, UserHeadlineColumn) {
  rpc::MigrationInfo info;
  std::vector<Uuid> acked = UnderWriteLoad([&] {
    info = Apply(
        "version 2\n"
        "name 'user headline'\n"
        "add column users.headline string(2000) null\n");
  });
  EXPECT_EQ(info.from_version, 1u);
  EXPECT_EQ(info.to_version, 2u);
  EXPECT_TRUE(info.applied);
  EXPECT_TRUE(Has(RowOf("users", users_[7]), R"("headline":null)"));
  ASSERT_TRUE(client_->Call(rpc::UpdateRow{"users", users_[7],
                                           {rpc::Field::Text("headline", "plays the sax")}})
                  .ok());
  ASSERT_TRUE(client_->Call(rpc::Checkpoint{}).ok());
  // After the snapshot: more writes, one through the new column.
  std::vector<Uuid> more = UnderWriteLoad([&] {
    ASSERT_TRUE(client_->Call(rpc::UpdateRow{"users", users_[8],
                                             {rpc::Field::Text("headline", "hosts Fridays")}})
                    .ok());
  });
  acked.insert(acked.end(), more.begin(), more.end());
  CrashAndRestart();

  EXPECT_TRUE(Has(RowOf("users", users_[7]), R"("headline":"plays the sax")"));
  EXPECT_TRUE(Has(RowOf("users", users_[8]), R"("headline":"hosts Fridays")"));
  EXPECT_TRUE(Has(RowOf("users", users_[9]), R"("headline":null)"));
  EXPECT_TRUE(Has(RowOf("users", acked.back()), R"("headline":null)"));
  ExpectOldRowsAndAckedWrites(acked);
  auto schema = client_->Call(rpc::GetSchema{});
  ASSERT_TRUE(schema.ok()) << schema.status().message();
  EXPECT_EQ(schema->version, 2u);
  ASSERT_EQ(schema->history.size(), 1u);
  EXPECT_TRUE(Has(schema->history[0], "add column users.headline string(2000) null"));
}

// Seed: `ALTER TYPE "room_status" ADD VALUE 'BANNED'`.
TEST_F(SchemaEvolutionTest, RoomStatusBanned) {
  std::vector<Uuid> acked = UnderWriteLoad([&] {
    Apply(
        "version 2\n"
        "name 'banned rooms'\n"
        "add enum value RoomStatus BANNED\n"
        "alter column rooms.status updatable\n");
  });
  ASSERT_TRUE(client_->Call(rpc::UpdateRow{"rooms", rooms_[1], {rpc::Field::Text("status", "BANNED")}})
                  .ok());
  auto join = client_->Call(rpc::JoinRoom{rooms_[1], users_[50]});
  EXPECT_EQ(join.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Has(Msg(join.status()), "is BANNED; cannot join")) << Msg(join.status());
  ASSERT_TRUE(client_->Call(rpc::Checkpoint{}).ok());
  std::vector<Uuid> more = UnderWriteLoad([&] {
    ASSERT_TRUE(
        client_->Call(rpc::UpdateRow{"rooms", rooms_[3], {rpc::Field::Text("status", "BANNED")}})
            .ok());
  });
  acked.insert(acked.end(), more.begin(), more.end());
  CrashAndRestart();

  const std::string room1 = RowOf("rooms", rooms_[1]);
  EXPECT_TRUE(Has(room1, R"("status":"BANNED")")) << room1;
  EXPECT_TRUE(Has(room1, R"("title":"room 1")"));
  EXPECT_TRUE(Has(RowOf("rooms", rooms_[3]), R"("status":"BANNED")"));
  EXPECT_TRUE(Has(RowOf("rooms", rooms_[2]), R"("status":"LIVE")"));
  EXPECT_EQ(client_->Call(rpc::JoinRoom{rooms_[3], users_[51]}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(client_->Call(rpc::UpdateRow{"rooms", rooms_[2], {rpc::Field::Text("status", "GONE")}})
                .code(),
            absl::StatusCode::kInvalidArgument);
  ExpectOldRowsAndAckedWrites(acked);
  auto schema = client_->Call(rpc::GetSchema{});
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(Has(schema->description, "BANNED (added)")) << schema->description;
}

// Seed: model RoomCategory + Room.categoryId + @@index([categoryId]).
// (room_categories is built in; the same migration adds room_topics.)
TEST_F(SchemaEvolutionTest, RoomTopicsTableReferenceAndIndex) {
  std::vector<Uuid> acked = UnderWriteLoad([&] {
    Apply(
        "version 2\n"
        "name 'room topics'\n"
        "add table room_topics\n"
        "add column room_topics.name string(100) default ''\n"
        "add column rooms.topic_id ref(room_topics) null on delete set null\n"
        "add index rooms_topic on rooms (topic_id)\n");
  });
  auto jazz = client_->Call(rpc::InsertRow{"room_topics", {rpc::Field::Text("name", "Jazz")}});
  ASSERT_TRUE(jazz.ok()) << jazz.status().message();
  ASSERT_TRUE(client_->Call(rpc::UpdateRow{"rooms", rooms_[0], {rpc::Field::Id("topic_id", *jazz)}})
                  .ok());
  ASSERT_TRUE(client_->Call(rpc::Checkpoint{}).ok());
  Uuid talk;
  std::vector<Uuid> more = UnderWriteLoad([&] {
    auto t = client_->Call(rpc::InsertRow{"room_topics", {rpc::Field::Text("name", "Talk")}});
    ASSERT_TRUE(t.ok()) << t.status().message();
    talk = *t;
    ASSERT_TRUE(
        client_->Call(rpc::UpdateRow{"rooms", rooms_[4], {rpc::Field::Id("topic_id", talk)}}).ok());
  });
  acked.insert(acked.end(), more.begin(), more.end());
  CrashAndRestart();

  EXPECT_TRUE(Has(RowOf("room_topics", *jazz), R"("name":"Jazz")"));
  EXPECT_TRUE(Has(RowOf("room_topics", talk), R"("name":"Talk")"));
  EXPECT_TRUE(Has(RowOf("rooms", rooms_[0]), StrCat(R"("topic_id":")", FormatUuid(*jazz), "\"")));
  EXPECT_TRUE(Has(RowOf("rooms", rooms_[4]), StrCat(R"("topic_id":")", FormatUuid(talk), "\"")));
  EXPECT_TRUE(Has(RowOf("rooms", rooms_[5]), R"("topic_id":null)"));
  // The foreign key holds after the restart: deleting a topic clears it.
  ASSERT_TRUE(client_->Call(rpc::DeleteRow{"room_topics", talk}).ok());
  EXPECT_TRUE(Has(RowOf("rooms", rooms_[4]), R"("topic_id":null)"));
  ExpectOldRowsAndAckedWrites(acked);
  auto schema = client_->Call(rpc::GetSchema{});
  ASSERT_TRUE(schema.ok());
  EXPECT_TRUE(Has(schema->description, "index rooms_topic ordered (topic_id)  -- added"))
      << schema->description;
  EXPECT_TRUE(Has(schema->description, "table room_topics  -- added"));
}

// A data directory written before migrations existed (snapshot and WAL
// format 1) is served by this server, migrated, and restarted.
TEST(SchemaUpgradeTest, TheServerServesAndMigratesAFormatOneDirectory) {
  testing::TempDir dir;
  std::filesystem::copy(std::string(VOX_SOURCE_DIR) + "/tests/data/format-v1", dir.path(),
                        std::filesystem::copy_options::recursive);
  const Uuid ann = *ParseUuid("01a202fe-a4d1-78b3-aa18-ee4900000000");
  {
    ServerProcess server(dir.path());
    auto c = server.Connect();
    ASSERT_NE(c, nullptr);
    auto dee = c->Call(rpc::UserByEmail{"dee@fixture.test"});
    ASSERT_TRUE(dee.ok()) << dee.status().message();
    auto ann_row = c->Call(rpc::GetRow{"users", ann});
    ASSERT_TRUE(ann_row.ok());
    EXPECT_TRUE(Has(*ann_row, R"("username":"fx_ann")"));
    auto m = c->Call(rpc::ApplyMigration{.text = "version 2\nadd column users.headline string(100) null"});
    ASSERT_TRUE(m.ok()) << m.status().message();
    ASSERT_TRUE(c->Call(rpc::UpdateRow{"users", ann, {rpc::Field::Text("headline", "first")}}).ok());
    server.Kill(SIGKILL);
  }
  ServerProcess server(dir.path());
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  auto ann_row = c->Call(rpc::GetRow{"users", ann});
  ASSERT_TRUE(ann_row.ok());
  EXPECT_TRUE(Has(*ann_row, R"("headline":"first")"));
  EXPECT_TRUE(Has(*ann_row, R"("username":"fx_ann")"));
  auto balance = c->Call(rpc::GetWalletBalance{*ParseUuid("01a202fe-a4e2-751e-b46e-faa400000002")});
  ASSERT_TRUE(balance.ok()) << balance.status().message();
  EXPECT_EQ(balance->balance, 380);  // 500 topped up, 120 gifted
}

}  // namespace
}  // namespace vox
