// Change streams on the real server (docs/streams.md): subscribers on raw
// sockets, writers through the client library.
#include <chrono>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using std::chrono::milliseconds;

// A subscriber on its own socket.
class Subscriber {
 public:
  explicit Subscriber(uint16_t port, int timeout_ms = 10000) : conn_(port, timeout_ms) {
    conn_.Send(HelloFrame(kProtocolVersion, ""));
    const std::string hello = conn_.Receive();
    ok_ = !hello.empty() && Response(hello)->code() == wire::StatusCode::OK;
  }
  bool ok() const { return ok_; }

  // Sends Subscribe; returns its answer frame's body.
  std::string Subscribe(const std::optional<Uuid>& room, const std::optional<Uuid>& user,
                        const std::string& table, int64_t from_lsn, uint64_t id = 11) {
    flatbuffers::FlatBufferBuilder fbb(128);
    const wire::Uuid r = room ? wire::Uuid(room->hi, room->lo) : wire::Uuid();
    const wire::Uuid u = user ? wire::Uuid(user->hi, user->lo) : wire::Uuid();
    auto sub = wire::CreateSubscribe(fbb, room ? &r : nullptr, user ? &u : nullptr,
                                     table.empty() ? 0 : fbb.CreateString(table), from_lsn);
    wire::RequestBuilder rb(fbb);
    rb.add_id(id);
    rb.add_op_type(wire::Op::Subscribe);
    rb.add_op(sub.Union());
    fbb.FinishSizePrefixed(rb.Finish());
    conn_.Send(FinishedFrame(fbb));
    return conn_.Receive();
  }
  // The next pushed frame's body ("" on timeout or close).
  std::string Next() { return conn_.Receive(); }
  RawConnection& conn() { return conn_; }

  static const wire::Response* Response(const std::string& body) {
    return flatbuffers::GetRoot<wire::Response>(body.data());
  }

 private:
  RawConnection conn_;
  bool ok_ = false;
};

struct Event {
  uint64_t lsn;
  std::string table, action, row;
  bool deleted;
};

class StreamsTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(StreamsTest, ARoomStreamCarriesItsChangesInLsnOrder) {
  ServerProcess server(dir_.path() + "/db");
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto owner = CallOk(*c, rpc::RegisterUser{"owner", "owner@example.com", "h", "Owner"});
  const auto guest = CallOk(*c, rpc::RegisterUser{"guest", "guest@example.com", "h", "Guest"});
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = owner.user_id, .title = "jazz"});

  Subscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  const std::string answer = sub.Subscribe(room.room_id, std::nullopt, "", -1);
  ASSERT_FALSE(answer.empty());
  const auto* r = Subscriber::Response(answer);
  ASSERT_EQ(r->code(), wire::StatusCode::OK) << (r->message() ? r->message()->str() : "");
  ASSERT_NE(r->result_as_SubscribeResult(), nullptr);

  CallOk(*c, rpc::JoinRoom{.room_id = room.room_id, .user_id = guest.user_id});
  CallOk(*c, rpc::SetHandRaised{.room_id = room.room_id, .actor_id = guest.user_id,
                                .target_id = guest.user_id, .raised = true});
  std::vector<Event> events;
  uint64_t last = 0;
  while (events.size() < 5) {
    const std::string f = sub.Next();
    ASSERT_FALSE(f.empty()) << "got " << events.size() << " events";
    const auto* b = Subscriber::Response(f)->result_as_EventBatch();
    ASSERT_NE(b, nullptr);
    for (const auto* e : *b->events()) {
      EXPECT_GE(e->lsn(), last);
      last = e->lsn();
      events.push_back({e->lsn(), e->table()->str(), e->action() ? e->action()->str() : "",
                        e->row() ? e->row()->str() : "", e->deleted()});
    }
  }
  // The join: the participant row, its audit row and the room's count, one
  // transaction; then the hand raise: the participant and its audit row.
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].table, "room_participants");
  EXPECT_EQ(events[1].action, "USER_JOINED");
  EXPECT_EQ(events[2].table, "rooms");
  EXPECT_EQ(events[0].lsn, events[2].lsn);
  EXPECT_EQ(events[3].table, "room_participants");
  EXPECT_NE(events[3].row.find("\"hand_raised\":true"), std::string::npos) << events[3].row;
  EXPECT_EQ(events[4].action, "HAND_RAISED");
  EXPECT_EQ(events[3].lsn, events[0].lsn + 1);
}

}  // namespace
}  // namespace vox
