// Integration tests: the real voxdb process on an ephemeral loopback port,
// driven through the client library and through raw sockets.
#include "net/server.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "net/client.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

class ServerTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(ServerTest, FlowsThroughTheClient) {
  ServerProcess server(dir_.path() + "/db");
  ASSERT_NE(server.port(), 0);
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->role(), "admin");  // loopback, no tokens
  auto host = c->Call(rpc::RegisterUser{"hostess", "hostess@example.com", "h", "Hostess"});
  ASSERT_TRUE(host.ok()) << host.status().message();
  auto guest = c->Call(rpc::RegisterUser{"guest", "guest@example.com", "h", "Guest"});
  ASSERT_TRUE(guest.ok());
  EXPECT_EQ(c->Call(rpc::RegisterUser{"GUEST", "x@example.com", "h", "G"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  const std::vector<std::string> tags = {"music"};
  auto room = c->Call(rpc::CreateAndOpenRoom{.owner_id = host->user_id, .title = "Live", .room_code = "live-room", .max_participants = 10, .tags = tags});
  ASSERT_TRUE(room.ok()) << room.status().message();
  auto joined = c->Call(rpc::JoinRoom{room->room_id, guest->user_id});
  ASSERT_TRUE(joined.ok());
  EXPECT_EQ(joined->role, "PARTICIPANT");
  ASSERT_TRUE(c->Call(rpc::SetHandRaised{room->room_id, guest->user_id, guest->user_id, true}).ok());
  auto present = c->Call(rpc::PresentParticipants{room->room_id});
  ASSERT_TRUE(present.ok());
  ASSERT_EQ(present->size(), 2u);
  EXPECT_TRUE((*present)[1].hand_raised);
  ASSERT_TRUE(c->Call(rpc::TopUp{guest->user_id, 100, "k1"}).ok());
  auto gift = c->Call(rpc::Gift{.sender_id = guest->user_id, .receiver_id = host->user_id, .amount = 50, .idempotency_key = "g1"});
  ASSERT_TRUE(gift.ok()) << gift.status().message();
  auto again = c->Call(rpc::Gift{.sender_id = guest->user_id, .receiver_id = host->user_id, .amount = 50, .idempotency_key = "g1"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_done);
  EXPECT_EQ(c->Call(rpc::Gift{.sender_id = guest->user_id, .receiver_id = host->user_id, .amount = 500}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto user = c->Call(rpc::UserByEmail{"HOSTESS@example.com"});
  ASSERT_TRUE(user.ok());
  EXPECT_NE(user->find("\"username\":\"hostess\""), std::string::npos);
  EXPECT_EQ(user->find("password_hash"), std::string::npos);  // secrets never sent
  auto trail = c->Call(rpc::RoomAuditTrail{room->room_id, 2});
  ASSERT_TRUE(trail.ok());
  EXPECT_EQ(trail->rows.size(), 2u);
  ASSERT_TRUE(trail->next.has_value());
  auto rest = c->Call(rpc::RoomAuditTrail{room->room_id, 100, trail->next});
  ASSERT_TRUE(rest.ok());
  EXPECT_GE(rest->rows.size(), 2u);
  EXPECT_EQ(c->Call(rpc::GetRow{"nope", room->room_id}).status().code(), absl::StatusCode::kInvalidArgument);
  auto row = c->Call(rpc::GetRow{"rooms", room->room_id});
  ASSERT_TRUE(row.ok());
  EXPECT_NE(row->find("\"room_code\":\"live-room\""), std::string::npos);
  ASSERT_TRUE(c->Call(rpc::EndRoom{room->room_id, host->user_id}).ok());
  auto stats = c->Call(rpc::Stats{});
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->durability, "fsync");
  EXPECT_GT(stats->durable_lsn, 5u);
  auto snapshot = c->Call(rpc::Checkpoint{});
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().message();
}


TEST_F(ServerTest, CheckpointsRunOnTheirSchedule) {
  ServerProcess server(dir_.path() + "/db",
                       {"--checkpoint_interval_s=1", "--checkpoint_wal_bytes=0"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(c->Call(rpc::RegisterUser{"scheduled", "scheduled@example.com", "h", "S"}).ok());
  // Within a few seconds (1 s +- 10% jitter, checked once a second) a
  // snapshot appears without anyone asking for it.
  bool found = false;
  for (int i = 0; i < 50 && !found; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_.path() + "/db/snapshots", ec)) {
      found |= e.path().extension() == ".vsnap";
    }
  }
  EXPECT_TRUE(found);
  // And the data is all there after a restart from that snapshot plus the log.
  EXPECT_EQ(WEXITSTATUS(server.Kill(SIGTERM)), 0);
  ServerProcess again(dir_.path() + "/db");
  auto c2 = again.Connect();
  ASSERT_NE(c2, nullptr);
  EXPECT_TRUE(c2->Call(rpc::UserByEmail{"scheduled@example.com"}).ok());
}



TEST_F(ServerTest, HandshakeRefusesOtherVersionsAndUnknownTokens) {
  const std::string tokens = dir_.path() + "/tokens";
  {
    std::ofstream out(tokens);
    out << "admin admin-token-0123456789\napp app-token-0123456789ab\n"
        << "readonly read-token-0123456789a\n";
  }
  ServerProcess server(dir_.path() + "/db", {"--token_file=" + tokens});
  ASSERT_NE(server.port(), 0);
  {  // another protocol version: refused, naming both
    RawConnection raw(server.port());
    raw.Send(HelloFrame(99, "admin-token-0123456789"));
    const std::string answer = raw.Receive();
    EXPECT_NE(answer.find("protocol version 99"), std::string::npos);
    EXPECT_TRUE(raw.Closed());
  }
  // A wrong token, and no token while tokens are configured.
  EXPECT_EQ(
      Client::Connect({.port = server.port(), .token = "wrong-token-0000000000"}).status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Client::Connect({.port = server.port()}).status().code(),
            absl::StatusCode::kUnauthenticated);
  // Roles: the app writes; readonly only reads; only admin checkpoints.
  auto app = Client::Connect({.port = server.port(), .token = "app-token-0123456789ab"});
  ASSERT_TRUE(app.ok()) << app.status().message();
  EXPECT_EQ((*app)->role(), "app");
  ASSERT_TRUE((*app)->Call(rpc::RegisterUser{"byapp", "byapp@example.com", "h", "A"}).ok());
  EXPECT_EQ((*app)->Call(rpc::Checkpoint{}).status().code(), absl::StatusCode::kPermissionDenied);
  auto reader = Client::Connect({.port = server.port(), .token = "read-token-0123456789a"});
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->Call(rpc::RegisterUser{"byreader", "r@example.com", "h", "R"}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE((*reader)->Call(rpc::UserByEmail{"byapp@example.com"}).ok());
  auto admin = Client::Connect({.port = server.port(), .token = "admin-token-0123456789"});
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE((*admin)->Call(rpc::Checkpoint{}).ok());
}

TEST_F(ServerTest, AMissingHelloAndABadTokenFileAreRefused) {
  ServerProcess server(dir_.path() + "/db");
  RawConnection raw(server.port());
  flatbuffers::FlatBufferBuilder fbb(64);
  auto stats = wire::CreateStats(fbb);
  wire::RequestBuilder rb(fbb);
  rb.add_id(1);
  rb.add_op_type(wire::Op::Stats);
  rb.add_op(stats.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  raw.Send(std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
  EXPECT_NE(raw.Receive().find("first request must be Hello"), std::string::npos);
  EXPECT_TRUE(raw.Closed());
  // A server with an unreadable token file does not start.
  ServerProcess bad(dir_.path() + "/db2", {"--token_file=/nonexistent/tokens"});
  EXPECT_EQ(bad.port(), 0);
}


TEST_F(ServerTest, GenericWritesFollowEachTablesRules) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  auto user = c->Call(rpc::RegisterUser{"owner", "owner@example.com", "h", "Owner"});
  ASSERT_TRUE(user.ok());
  // An application's own event into system_events: enum by name, time as text.
  auto event = c->Call(rpc::InsertRow{
      "system_events",
      {rpc::Field::Text("severity", "ERROR"), rpc::Field::Text("component", "sfu"),
       rpc::Field::Text("code", "E42"), rpc::Field::Text("message", "worker crashed"),
       rpc::Field::Id("user_id", user->user_id), rpc::Field::Text("occurred_at", "2026-11-01T10:00:00Z")}});
  ASSERT_TRUE(event.ok()) << event.status().message();
  auto row = c->Call(rpc::GetRow{"system_events", *event});
  ASSERT_TRUE(row.ok());
  EXPECT_NE(row->find("\"severity\":\"ERROR\""), std::string::npos);
  EXPECT_NE(row->find("\"occurred_at\":\"2026-11-01T10:00:00.000000Z\""), std::string::npos);
  // Bad input is refused with the reason.
  EXPECT_EQ(c->Call(rpc::InsertRow{"system_events", {rpc::Field::Text("severity", "LOUD")}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c->Call(rpc::InsertRow{"rooms", {rpc::Field::Text("title", "x")}}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // rooms are created by create_room
  // Update, and the immutable audit trail.
  ASSERT_TRUE(c->Call(rpc::UpdateRow{"users", user->user_id, {rpc::Field::Text("bio", "hello")}}).ok());
  EXPECT_NE(c->Call(rpc::GetRow{"users", user->user_id})->find("\"bio\":\"hello\""), std::string::npos);
  EXPECT_EQ(c->Call(rpc::UpdateRow{"users", user->user_id, {rpc::Field::Text("role", "ADMIN")}}).code(),
            absl::StatusCode::kInvalidArgument);
  auto room = c->Call(rpc::CreateAndOpenRoom{.owner_id = user->user_id, .title = "r"});
  ASSERT_TRUE(room.ok());
  auto trail = c->Call(rpc::RoomAuditTrail{room->room_id, 1});
  ASSERT_TRUE(trail.ok());
  const std::string first = trail->rows[0];
  const size_t at = first.find("\"id\":\"") + 6;
  auto audit_id = ParseUuid(first.substr(at, 36));
  ASSERT_TRUE(audit_id.ok());
  EXPECT_EQ(c->Call(rpc::DeleteRow{"audit_logs", *audit_id}).code(), absl::StatusCode::kFailedPrecondition);
  // Soft delete of a room ends it; of a user runs the seed's flow.
  ASSERT_TRUE(c->Call(rpc::DeleteRow{"rooms", room->room_id}).ok());
  EXPECT_EQ(c->Call(rpc::JoinRoom{room->room_id, user->user_id}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(c->Call(rpc::DeleteRow{"users", user->user_id}).ok());
  EXPECT_NE(c->Call(rpc::GetRow{"users", user->user_id})->find("\"display_name\":\"Deleted User\""),
            std::string::npos);
  EXPECT_EQ(c->Call(rpc::DeleteRow{"nope", user->user_id}).code(), absl::StatusCode::kInvalidArgument);
}



TEST_F(ServerTest, LimitsHoldWhileOthersAreServed) {
  ServerProcess server(dir_.path() + "/db",
                       {"--max_connections=3", "--idle_timeout_s=1", "--max_inflight=4"});
  auto first = server.Connect();
  ASSERT_NE(first, nullptr);
  {
    // A client that floods requests and never reads its answers: the server
    // stops reading it (back-pressure) instead of buffering without bound.
    RawConnection flood(server.port());
    flood.Send(HelloFrame(kProtocolVersion, ""));
    std::string burst;
    for (int i = 0; i < 2000; ++i) burst += StatsFrame(100 + i);
    // 2,000 requests: the socket buffers hold them while the server reads
    // only as many as it may have in flight.
    std::thread writer([&] {
      try {
        flood.Send(burst);
      } catch (...) {
      }
    });
    writer.join();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Meanwhile another client is served.
    EXPECT_TRUE(first->Call(rpc::Stats{}).ok());
    // Too many connections: the fourth is refused with the reason.
    RawConnection third(server.port());
    RawConnection fourth(server.port());
    const std::string refused = fourth.Receive();
    EXPECT_NE(refused.find("too many connections"), std::string::npos);
    EXPECT_TRUE(fourth.Closed());
    // An idle connection is closed after its timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    EXPECT_TRUE(third.Closed());
  }
  // The server still answers a new client once the others are gone.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto late = Client::Connect({.port = server.port()});
  ASSERT_TRUE(late.ok()) << late.status().message();
  EXPECT_TRUE((*late)->Call(rpc::Stats{}).ok());
}

}  // namespace
}  // namespace vox
