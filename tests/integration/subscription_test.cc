// Change streams through the client library and voxctl against a real
// voxdb process: Client::OpenStream (raw responses, other calls on the same
// connection meanwhile), vox::Subscription (typed, resuming across kill -9
// and restart and after being cut off, refusals surfaced) and `voxctl
// watch`.
#include "net/subscription.h"

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "net/client.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A registration; `name` is at least 3 characters.
rpc::RegisterUser User(const std::string& name) {
  return rpc::RegisterUser{name, name + "@example.com", "h", name};
}

// The events of `stream` until `enough(events)` or `patience` passes; the
// stream's answer (SubscribeResult) must come first. Checks every batch.
struct Collected {
  rpc::Subscribed answer;
  std::vector<rpc::StreamEvent> events;
  std::vector<uint64_t> batch_last_lsns;
  std::string ended;
};
template <typename Enough>
Collected Collect(ResponseStream& stream, Enough enough, milliseconds patience = seconds(20)) {
  Collected out;
  absl::StatusOr<Reply> first = stream.Next(seconds(10));
  EXPECT_TRUE(first.ok()) << first.status();
  if (!first.ok()) return out;
  EXPECT_TRUE(first->status().ok()) << first->status();
  absl::StatusOr<rpc::Subscribed> answer = rpc::Subscribe::Decode(first->response());
  EXPECT_TRUE(answer.ok()) << answer.status();
  if (!answer.ok()) return out;
  out.answer = *answer;
  const Clock::time_point deadline = Clock::now() + patience;
  while (!enough(out.events) && out.ended.empty() && Clock::now() < deadline) {
    absl::StatusOr<Reply> reply = stream.Next(milliseconds(200));
    if (absl::IsDeadlineExceeded(reply.status())) continue;
    EXPECT_TRUE(reply.ok()) << reply.status();
    if (!reply.ok()) break;
    absl::StatusOr<rpc::EventBatchInfo> batch = rpc::DecodeEventBatch(reply->response());
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok()) break;
    EXPECT_EQ(batch->subscription, out.answer.subscription);
    for (const rpc::StreamEvent& e : batch->events) EXPECT_LE(e.lsn, batch->last_lsn);
    out.batch_last_lsns.push_back(batch->last_lsn);
    out.ended = batch->ended;
    for (rpc::StreamEvent& e : batch->events) out.events.push_back(std::move(e));
  }
  return out;
}

// Events of `sub` until `enough(events)` or `patience` passes.
template <typename Enough>
std::vector<rpc::StreamEvent> Drain(Subscription& sub, Enough enough,
                                    milliseconds patience = seconds(30)) {
  std::vector<rpc::StreamEvent> events;
  const Clock::time_point deadline = Clock::now() + patience;
  while (!enough(events) && Clock::now() < deadline) {
    absl::StatusOr<rpc::StreamEvent> e = sub.Next(milliseconds(200));
    if (absl::IsDeadlineExceeded(e.status())) continue;
    EXPECT_TRUE(e.ok()) << e.status();
    if (!e.ok()) break;
    events.push_back(*std::move(e));
  }
  return events;
}

// The users events among `events`, as (lsn, id).
std::vector<std::pair<uint64_t, Uuid>> UserRows(const std::vector<rpc::StreamEvent>& events) {
  std::vector<std::pair<uint64_t, Uuid>> out;
  for (const rpc::StreamEvent& e : events) {
    if (e.table == "users") out.emplace_back(e.lsn, e.id);
  }
  return out;
}

bool Contains(const std::vector<rpc::StreamEvent>& events, const Uuid& id) {
  for (const rpc::StreamEvent& e : events) {
    if (e.id == id) return true;
  }
  return false;
}

// Every event of the table stream `table` after `from_lsn`, read afresh
// from the server's history up to and including the row `last`.
std::vector<rpc::StreamEvent> Replay(uint16_t port, const std::string& table, uint64_t from_lsn,
                                     const Uuid& last) {
  auto sub =
      Subscription::Open({.port = port}, rpc::Subscribe{.table = table, .from_lsn = from_lsn});
  EXPECT_TRUE(sub.ok()) << sub.status();
  if (!sub.ok()) return {};
  return Drain(**sub, [&](const auto& events) { return Contains(events, last); });
}

class SubscriptionTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

// ---- Client::OpenStream ----

// A room's stream: a join, a host's mute, a hand raised, a leave, each a
// transaction of its own, arrive in that order with increasing LSNs after
// the answer's; the writes go over the same connection as the stream.
TEST_F(SubscriptionTest, ARoomStreamCarriesJoinMuteHandAndLeaveInOrder) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  const Uuid host = CallOk(*client, User("host")).user_id;
  const Uuid guest = CallOk(*client, User("guest")).user_id;
  const Uuid other_host = CallOk(*client, User("other")).user_id;
  const Uuid room =
      CallOk(*client, rpc::CreateAndOpenRoom{.owner_id = host, .title = "jazz"}).room_id;
  const Uuid other_room =
      CallOk(*client, rpc::CreateAndOpenRoom{.owner_id = other_host, .title = "not watched"})
          .room_id;

  absl::StatusOr<ResponseStream> stream = client->OpenStream(rpc::Subscribe{.room_id = room});
  ASSERT_TRUE(stream.ok()) << stream.status();
  const Uuid participant = CallOk(*client, rpc::JoinRoom{room, guest}).participant_id;
  CallOk(*client, rpc::JoinRoom{other_room, guest});  // another room: not in this stream
  CallOk(*client, rpc::SetMuted{.room_id = room, .actor_id = host, .target_id = guest});
  CallOk(*client, rpc::SetHandRaised{.room_id = room, .actor_id = guest, .target_id = guest});
  CallOk(*client, rpc::LeaveRoom{room, guest});

  const std::vector<std::string> want = {"USER_JOINED", "USER_MUTED", "HAND_RAISED", "USER_LEFT"};
  Collected got = Collect(*stream, [&](const std::vector<rpc::StreamEvent>& events) {
    size_t audits = 0;
    for (const auto& e : events) audits += e.table == "audit_logs";
    return audits >= want.size();
  });
  ASSERT_TRUE(got.ended.empty()) << got.ended;
  std::vector<std::string> actions;
  std::vector<uint64_t> audit_lsns;
  uint64_t previous = got.answer.from_lsn;
  for (const rpc::StreamEvent& e : got.events) {
    EXPECT_GT(e.lsn, got.answer.from_lsn);
    EXPECT_GE(e.lsn, previous) << "out of LSN order";
    previous = e.lsn;
    EXPECT_GT(e.commit_time, 0);
    EXPECT_FALSE(e.table.empty());
    EXPECT_NE(e.id, Uuid{});
    // Nothing of the other room's join.
    EXPECT_FALSE(Has(e.row, FormatUuid(other_room))) << e.table << " " << e.row;
    if (e.table == "audit_logs") {
      actions.push_back(e.action);
      audit_lsns.push_back(e.lsn);
      EXPECT_TRUE(Has(e.row, FormatUuid(room))) << e.row;
    } else {
      EXPECT_TRUE(e.action.empty()) << e.table;
    }
  }
  EXPECT_EQ(actions, want);
  for (size_t i = 1; i < audit_lsns.size(); ++i) EXPECT_GT(audit_lsns[i], audit_lsns[i - 1]);
  // The participant's after-images tell the story too.
  std::vector<std::string> states;
  for (const rpc::StreamEvent& e : got.events) {
    if (e.table == "room_participants" && e.id == participant) states.push_back(e.row);
  }
  ASSERT_GE(states.size(), 4u);
  EXPECT_TRUE(Has(states[0], "\"is_muted\":false") || Has(states[0], "\"muted\":false"))
      << states[0];
  EXPECT_TRUE(Has(states.back(), "\"left_at\":\"")) << states.back();
  // Batches cover their events, in order.
  for (size_t i = 1; i < got.batch_last_lsns.size(); ++i) {
    EXPECT_GT(got.batch_last_lsns[i], got.batch_last_lsns[i - 1]);
  }
}

// One Client shared by a stream reader and four threads of calls: every
// call answered right, every registration's users row in the stream.
TEST_F(SubscriptionTest, OtherCallsOnTheSameClientGoOnWhileAStreamIsOpen) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ResponseStream> stream = client->OpenStream(rpc::Subscribe{.table = "users"});
  ASSERT_TRUE(stream.ok()) << stream.status();

  constexpr int kThreads = 4, kUsers = 25;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<Uuid>> registered(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kUsers; ++i) {
        const std::string name = StrCat("thread", t, "_", i);
        auto r = client->Call(User(name));
        if (!r.ok()) {
          ++wrong;
          continue;
        }
        registered[t].push_back(r->user_id);
        auto back = client->Call(rpc::UserByEmail{name + "@example.com"});
        if (!back.ok() || !Has(*back, FormatUuid(r->user_id))) ++wrong;
      }
    });
  }
  Collected got = Collect(*stream, [&](const std::vector<rpc::StreamEvent>& events) {
    return events.size() >= kThreads * kUsers;
  });
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  ASSERT_EQ(got.events.size(), size_t{kThreads * kUsers});
  std::set<Uuid> seen;
  uint64_t previous = 0;
  for (const rpc::StreamEvent& e : got.events) {
    EXPECT_EQ(e.table, "users");
    EXPECT_GT(e.lsn, previous) << "one users row per transaction, in LSN order";
    previous = e.lsn;
    EXPECT_TRUE(seen.insert(e.id).second) << "a duplicate";
  }
  for (const auto& ids : registered) {
    for (const Uuid& id : ids) EXPECT_TRUE(seen.contains(id)) << FormatUuid(id);
  }
  // Still nothing more, and the stream is still open.
  absl::StatusOr<Reply> more = stream->Next(milliseconds(200));
  EXPECT_EQ(more.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_FALSE(stream->finished());
}

// Resuming from an LSN with events to replay: the Subscribe's answer is
// still the stream's first response, before any batch.
TEST_F(SubscriptionTest, TheAnswerComesBeforeTheFirstBatch) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 20; ++i) CallOk(*client, User(StrCat("usr_", i)));
  for (int round = 0; round < 20; ++round) {
    absl::StatusOr<ResponseStream> stream =
        client->OpenStream(rpc::Subscribe{.table = "*", .from_lsn = 0});
    ASSERT_TRUE(stream.ok()) << stream.status();
    absl::StatusOr<Reply> first = stream->Next(seconds(10));
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_TRUE(first->status().ok()) << first->status();
    ASSERT_EQ(first->response().result_type(), wire::Result::SubscribeResult)
        << "round " << round << ": the first response is a "
        << wire::EnumNameResult(first->response().result_type());
    absl::StatusOr<rpc::Subscribed> answer = rpc::Subscribe::Decode(first->response());
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer->from_lsn, 0u);
    absl::StatusOr<Reply> batch = stream->Next(seconds(10));
    ASSERT_TRUE(batch.ok()) << batch.status();
    absl::StatusOr<rpc::EventBatchInfo> events = rpc::DecodeEventBatch(batch->response());
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_FALSE(events->events.empty());
    EXPECT_EQ(events->events.front().lsn, 1u);
    EXPECT_TRUE(client->Call(rpc::Unsubscribe{answer->subscription}).ok());
  }
}

// Unsubscribe answers OK (NOT_FOUND for another id); the stream's last
// batch says "unsubscribed"; then the stream is over, and the connection
// still serves calls.
void ExpectUnsubscribeEndsTheStream(Client* client) {
  absl::StatusOr<ResponseStream> stream = client->OpenStream(rpc::Subscribe{.table = "*"});
  ASSERT_TRUE(stream.ok());
  absl::StatusOr<Reply> first = stream->Next(seconds(10));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->status().ok()) << first->status();
  absl::StatusOr<rpc::Subscribed> answer = rpc::Subscribe::Decode(first->response());
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(client->Call(rpc::Unsubscribe{answer->subscription + 1000}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(client->Call(rpc::Unsubscribe{answer->subscription}).ok());
  std::string ended;
  const Clock::time_point deadline = Clock::now() + seconds(10);
  while (ended.empty() && Clock::now() < deadline) {
    absl::StatusOr<Reply> reply = stream->Next(milliseconds(200));
    if (absl::IsDeadlineExceeded(reply.status())) continue;
    ASSERT_TRUE(reply.ok()) << reply.status();
    absl::StatusOr<rpc::EventBatchInfo> batch = rpc::DecodeEventBatch(reply->response());
    ASSERT_TRUE(batch.ok()) << batch.status();
    ended = batch->ended;
  }
  EXPECT_EQ(ended, "unsubscribed");
  EXPECT_TRUE(stream->finished());
  EXPECT_EQ(stream->Next(milliseconds(10)).status().code(), absl::StatusCode::kOutOfRange);
  CallOk(*client, User("after"));
}

TEST_F(SubscriptionTest, UnsubscribeEndsTheStream) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  CallOk(*client, User("before"));
  ExpectUnsubscribeEndsTheStream(client.get());
}

// The same before the database's first commit (LSN 0).
TEST_F(SubscriptionTest, UnsubscribeEndsTheStreamOfAnEmptyDatabase) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  ExpectUnsubscribeEndsTheStream(client.get());
}

// A plain Call of Subscribe answers Subscribed; the pushes that follow
// (for an id no longer awaited) are dropped without harm to other calls.
TEST_F(SubscriptionTest, ACallOfSubscribeAnswersAndItsPushesAreDropped) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  absl::StatusOr<rpc::Subscribed> sub = client->Call(rpc::Subscribe{.table = "users"});
  ASSERT_TRUE(sub.ok()) << sub.status();
  for (int i = 0; i < 5; ++i) {
    const Uuid id = CallOk(*client, User(StrCat("usr_", i))).user_id;
    auto row = client->Call(rpc::GetRow{"users", id});
    ASSERT_TRUE(row.ok()) << row.status();
    EXPECT_TRUE(Has(*row, FormatUuid(id)));
  }
  EXPECT_TRUE(client->Call(rpc::Unsubscribe{sub->subscription}).ok());
  EXPECT_EQ(client->Call(rpc::Unsubscribe{sub->subscription}).code(), absl::StatusCode::kNotFound);
}

// A stream whose connection is lost: what was read before comes first,
// then UNAVAILABLE; the Client reconnects for the next call.
TEST_F(SubscriptionTest, AStreamOfALostConnectionEndsUnavailable) {
  const std::string data = dir_.path() + "/db";
  auto server = std::make_unique<ServerProcess>(data);
  const uint16_t port = server->port();
  auto client = Client::Connect({.port = port, .timeout = seconds(5)});
  ASSERT_TRUE(client.ok());
  absl::StatusOr<ResponseStream> stream = (*client)->OpenStream(rpc::Subscribe{.table = "users"});
  ASSERT_TRUE(stream.ok());
  const Uuid id = CallOk(**client, User("before")).user_id;
  // The answer and the batch are read (and queued) by the next call.
  std::this_thread::sleep_for(milliseconds(200));
  CallOk(**client, rpc::Stats{});
  server->Kill(SIGKILL);
  EXPECT_EQ((*client)->Call(rpc::Stats{}).status().code(), absl::StatusCode::kUnavailable);
  absl::StatusOr<Reply> answer = stream->Next(seconds(1));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->response().result_type(), wire::Result::SubscribeResult);
  absl::StatusOr<Reply> batch = stream->Next(seconds(1));
  ASSERT_TRUE(batch.ok()) << batch.status();
  absl::StatusOr<rpc::EventBatchInfo> events = rpc::DecodeEventBatch(batch->response());
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->events.size(), 1u);
  EXPECT_EQ(events->events[0].id, id);
  EXPECT_EQ(stream->Next(seconds(1)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(stream->finished());
  server = std::make_unique<ServerProcess>(
      data, std::vector<std::string>{StrCat("--listen=127.0.0.1:", port)});
  CallOk(**client, rpc::Stats{});
}

// ---- Subscription ----

// kill -9 and a restart on the same data directory and port while the
// subscriber reads and writers write: it resumes from its last LSN, and
// what it returned is exactly, in order, what a fresh replay of the
// server's history holds, with every acknowledged registration in it.
TEST_F(SubscriptionTest, ResumesAcrossKillAndRestartWithNoGapAndNoDuplicate) {
  const std::string data = dir_.path() + "/db";
  auto server = std::make_unique<ServerProcess>(data);
  const uint16_t port = server->port();
  ASSERT_NE(port, 0);
  auto writer = Client::Connect({.port = port, .timeout = seconds(5)});
  ASSERT_TRUE(writer.ok());
  auto sub = Subscription::Open({.port = port, .timeout = seconds(5)},
                                rpc::Subscribe{.table = "users"}, {.reconnect_for = seconds(30)});
  ASSERT_TRUE(sub.ok()) << sub.status();
  const uint64_t start = (*sub)->last_lsn();

  std::vector<Uuid> acknowledged;
  for (int i = 0; i < 20; ++i)
    acknowledged.push_back(CallOk(**writer, User(StrCat("usr_a", i))).user_id);
  std::vector<rpc::StreamEvent> got =
      Drain(**sub, [](const auto& events) { return events.size() >= 10; });
  ASSERT_GE(got.size(), 10u);
  // More in flight as the server dies.
  std::vector<Future<rpc::Registered>> in_flight;
  for (int i = 0; i < 50; ++i) in_flight.push_back((*writer)->Send(User(StrCat("usr_b", i))));
  server->Kill(SIGKILL);
  for (auto& f : in_flight) {
    auto r = f.Get();
    if (r.ok()) acknowledged.push_back(r->user_id);
  }
  // Down for a while: Next keeps saying "nothing yet" (after what it had).
  const Clock::time_point down_until = Clock::now() + milliseconds(700);
  while (Clock::now() < down_until) {
    absl::StatusOr<rpc::StreamEvent> e = (*sub)->Next(milliseconds(100));
    if (e.ok()) {
      got.push_back(*std::move(e));
    } else {
      ASSERT_EQ(e.status().code(), absl::StatusCode::kDeadlineExceeded) << e.status();
    }
  }
  server = std::make_unique<ServerProcess>(
      data, std::vector<std::string>{StrCat("--listen=127.0.0.1:", port)});
  ASSERT_EQ(server->port(), port);
  Uuid last;
  for (int i = 0; i < 20; ++i) {
    last = CallOk(**writer, User(StrCat("usr_c", i))).user_id;
    acknowledged.push_back(last);
  }
  std::vector<rpc::StreamEvent> rest =
      Drain(**sub, [&](const auto& events) { return Contains(events, last); });
  for (auto& e : rest) got.push_back(std::move(e));
  EXPECT_GE((*sub)->resumes(), 1);
  ASSERT_TRUE(Contains(got, last));
  EXPECT_GE((*sub)->last_lsn(), got.back().lsn);

  const std::vector<rpc::StreamEvent> replay = Replay(port, "users", start, last);
  ASSERT_FALSE(replay.empty());
  EXPECT_EQ(UserRows(got), UserRows(replay));
  std::set<Uuid> ids;
  for (const auto& [lsn, id] : UserRows(got)) EXPECT_TRUE(ids.insert(id).second) << "duplicate";
  for (const Uuid& id : acknowledged) EXPECT_TRUE(ids.contains(id)) << FormatUuid(id);
  EXPECT_TRUE((*sub)->Close().ok());
  EXPECT_EQ((*sub)->Next(milliseconds(10)).status().code(), absl::StatusCode::kFailedPrecondition);
}

// A subscriber that stops reading while the server commits far more than
// its buffer is cut off ("fell behind at LSN X"); the Subscription
// resubscribes from its last LSN and returns every event once.
TEST_F(SubscriptionTest, ResumesAfterBeingCutOffForFallingBehind) {
  ServerProcess server(dir_.path() + "/db", {"--stream_buffer_kb=64"});
  auto writer = Client::Connect({.port = server.port(), .timeout = seconds(20)});
  ASSERT_TRUE(writer.ok());
  auto sub = Subscription::Open({.port = server.port()}, rpc::Subscribe{.table = "*"});
  ASSERT_TRUE(sub.ok()) << sub.status();
  const uint64_t start = (*sub)->last_lsn();
  // Far more than the kernel's socket buffers and the 64 KiB hold, while
  // the subscriber reads nothing.
  constexpr int kUsers = 6000;
  std::vector<Future<rpc::Registered>> writes;
  for (int i = 0; i < kUsers; ++i) {
    writes.push_back((*writer)->Send(User(StrCat("user_with_a_long_name_", i))));
  }
  Uuid last;
  for (auto& w : writes) {
    auto r = w.Get();
    ASSERT_TRUE(r.ok()) << r.status();
    last = r->user_id;
  }
  std::this_thread::sleep_for(seconds(3));  // past the server's stall limit
  std::vector<rpc::StreamEvent> got = Drain(
      **sub, [&](const auto& events) { return Contains(events, last); }, seconds(60));
  EXPECT_GE((*sub)->resumes(), 1) << "never cut off: the test did not stall it";
  ASSERT_TRUE(Contains(got, last));
  EXPECT_EQ(UserRows(got).size(), size_t{kUsers});
  const std::vector<rpc::StreamEvent> replay = Replay(server.port(), "*", start, last);
  ASSERT_EQ(got.size(), replay.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].lsn, replay[i].lsn) << i;
    ASSERT_EQ(got[i].id, replay[i].id) << i;
    ASSERT_EQ(got[i].row, replay[i].row) << i;
  }
}

// from_lsn older than the history the server keeps (without a log, only
// the in-memory history, here 1 MiB): OUT_OF_RANGE from Open, saying what
// to do; a recent LSN is still served, from exactly there.
TEST_F(SubscriptionTest, FromLsnOlderThanTheHistoryIsOutOfRange) {
  ServerProcess server(dir_.path() + "/db", {"--durability=none", "--stream_retention_mb=1"});
  auto writer = Client::Connect({.port = server.port(), .timeout = seconds(20)});
  ASSERT_TRUE(writer.ok());
  // Several MiB of events (a registration is four rows), pipelined.
  std::vector<Future<rpc::Registered>> writes;
  for (int i = 0; i < 4000; ++i) writes.push_back((*writer)->Send(User(StrCat("usr_u", i))));
  for (auto& w : writes) ASSERT_TRUE(w.Get().ok());
  auto old =
      Subscription::Open({.port = server.port()}, rpc::Subscribe{.table = "*", .from_lsn = 1});
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.status().code(), absl::StatusCode::kOutOfRange) << old.status();
  EXPECT_TRUE(Has(std::string(old.status().message()), "snapshot")) << old.status();
  // A recent LSN is still served.
  auto now = Subscription::Open({.port = server.port()}, rpc::Subscribe{.table = "*"});
  ASSERT_TRUE(now.ok()) << now.status();
  const uint64_t last = (*now)->last_lsn();  // the last commit's
  ASSERT_GE(last, 4000u);
  auto recent = Subscription::Open({.port = server.port()},
                                   rpc::Subscribe{.table = "users", .from_lsn = last - 10});
  ASSERT_TRUE(recent.ok()) << recent.status();
  std::vector<rpc::StreamEvent> events = Drain(
      **recent, [](const auto& events) { return events.size() >= 10; }, seconds(10));
  ASSERT_EQ(events.size(), 10u);
  EXPECT_EQ(events.front().lsn, last - 9);
  EXPECT_EQ(events.back().lsn, last);
}

// Filters the server refuses, through Open: none or two of room, user and
// table, an unknown table, room or user, an LSN past the last commit.
TEST_F(SubscriptionTest, BadFiltersAreRefused) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  const Uuid user = CallOk(*client, User("someone")).user_id;
  const Uuid room = CallOk(*client, rpc::CreateAndOpenRoom{.owner_id = user, .title = "r"}).room_id;
  const ClientOptions options{.port = server.port()};
  auto code = [&](rpc::Subscribe what) {
    auto sub = Subscription::Open(options, std::move(what));
    return sub.ok() ? absl::StatusCode::kOk : sub.status().code();
  };
  EXPECT_EQ(code(rpc::Subscribe{}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(rpc::Subscribe{.room_id = room, .user_id = user}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(rpc::Subscribe{.room_id = room, .table = "users"}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code(rpc::Subscribe{.table = "no_such_table"}), absl::StatusCode::kNotFound);
  EXPECT_EQ(code(rpc::Subscribe{.room_id = user}), absl::StatusCode::kNotFound);  // not a room
  EXPECT_EQ(code(rpc::Subscribe{.user_id = room}), absl::StatusCode::kNotFound);  // not a user
  EXPECT_EQ(code(rpc::Subscribe{.table = "users", .from_lsn = 1'000'000'000}),
            absl::StatusCode::kInvalidArgument);
  // The good ones.
  EXPECT_EQ(code(rpc::Subscribe{.room_id = room}), absl::StatusCode::kOk);
  EXPECT_EQ(code(rpc::Subscribe{.user_id = user}), absl::StatusCode::kOk);
  EXPECT_EQ(code(rpc::Subscribe{.table = "*", .from_lsn = 0}), absl::StatusCode::kOk);
}

// With change streams off, FAILED_PRECONDITION.
TEST_F(SubscriptionTest, StreamsOffIsFailedPrecondition) {
  ServerProcess server(dir_.path() + "/db", {"--stream_retention_mb=0"});
  auto sub = Subscription::Open({.port = server.port()}, rpc::Subscribe{.table = "users"});
  ASSERT_FALSE(sub.ok());
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kFailedPrecondition) << sub.status();
}

// The callback form stops when asked and delivers what came before.
TEST_F(SubscriptionTest, RunCallsBackUntilStopped) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  auto sub = Subscription::Open({.port = server.port()}, rpc::Subscribe{.table = "users"});
  ASSERT_TRUE(sub.ok()) << sub.status();
  std::vector<Uuid> written;
  for (int i = 0; i < 5; ++i) written.push_back(CallOk(*client, User(StrCat("usr_r", i))).user_id);
  std::stop_source stop;
  std::vector<Uuid> seen;
  absl::Status status = (*sub)->Run(stop.get_token(), [&](const rpc::StreamEvent& e) {
    seen.push_back(e.id);
    if (seen.size() == written.size()) stop.request_stop();
  });
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(seen, written);
}

// ---- voxctl watch ----

struct VoxctlRun {
  int exit_code = -1;
  std::string out, err;
};
// Runs voxctl with `args` (shell words), capturing stdout and stderr.
VoxctlRun Voxctl(const std::string& args, const std::string& dir) {
  const std::string err_file = dir + "/voxctl.err";
  VoxctlRun run;
  FILE* p = popen(StrCat(VOXCTL_BINARY, " ", args, " 2>", err_file).c_str(), "r");
  if (p == nullptr) return run;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) run.out.append(buf, n);
  const int status = pclose(p);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  run.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return run;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

// `voxctl watch table users --format json --count 2`: started before two
// registrations (it announces itself on stderr), it prints their rows as
// two JSON lines and exits 0.
TEST_F(SubscriptionTest, VoxctlWatchPrintsJsonLines) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  std::string out;
  int exit_code = -1;
  const std::string err_file = dir_.path() + "/watch.err";
  std::thread watcher([&] {
    FILE* p = popen(StrCat(VOXCTL_BINARY, " watch table users --format json --count 2",
                           " --server=127.0.0.1:", server.port(), " 2>", err_file)
                        .c_str(),
                    "r");
    if (p == nullptr) return;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    const int status = pclose(p);
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  });
  // Wait until it is subscribed.
  const Clock::time_point deadline = Clock::now() + seconds(10);
  std::string err;
  while (!Has(err, "watching") && Clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
    std::ifstream in(err_file);
    err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  ASSERT_TRUE(Has(err, "watching table users")) << err;
  const Uuid maya = CallOk(*client, User("maya")).user_id;
  const Uuid leo = CallOk(*client, User("leon")).user_id;
  watcher.join();
  EXPECT_EQ(exit_code, 0);
  const std::vector<std::string> lines = Lines(out);
  ASSERT_EQ(lines.size(), 2u) << out;
  const Uuid ids[] = {maya, leo};
  const char* names[] = {"maya", "leon"};
  for (int i = 0; i < 2; ++i) {
    const std::string& l = lines[i];
    EXPECT_TRUE(l.starts_with("{\"lsn\":")) << l;
    EXPECT_TRUE(Has(l, "\"table\":\"users\"")) << l;
    EXPECT_TRUE(Has(l, StrCat("\"id\":\"", FormatUuid(ids[i]), "\""))) << l;
    EXPECT_TRUE(Has(l, "\"deleted\":false")) << l;
    EXPECT_TRUE(Has(l, "\"action\":null")) << l;
    EXPECT_TRUE(Has(l, "\"commit_time\":\"20")) << l;
    // The row is an object, not a string.
    EXPECT_TRUE(Has(l, StrCat("\"row\":{")) && Has(l, StrCat("\"username\":\"", names[i], "\"")))
        << l;
    EXPECT_TRUE(l.ends_with("}}")) << l;
    EXPECT_FALSE(Has(l, "password")) << "a secret column: " << l;
  }
}

// `--from-lsn`, the table format, `--idle-exit`, and the exit codes of a
// refusal (1) and of a bad command (2).
TEST_F(SubscriptionTest, VoxctlWatchFromLsnTableFormatAndExitCodes) {
  ServerProcess server(dir_.path() + "/db");
  auto client = server.Connect();
  ASSERT_NE(client, nullptr);
  const Uuid host = CallOk(*client, User("host")).user_id;
  const Uuid guest = CallOk(*client, User("guest")).user_id;
  const Uuid room = CallOk(*client, rpc::CreateAndOpenRoom{.owner_id = host, .title = "r"}).room_id;
  auto stats = client->Call(rpc::Stats{});
  ASSERT_TRUE(stats.ok());
  const uint64_t before = stats->durable_lsn;
  CallOk(*client, rpc::JoinRoom{room, guest});
  CallOk(*client, rpc::SetHandRaised{.room_id = room, .actor_id = guest, .target_id = guest});
  const std::string server_flag = StrCat(" --server=127.0.0.1:", server.port());

  // The two transactions, then a second without events: exit 0.
  const VoxctlRun table = Voxctl(StrCat("watch room ", FormatUuid(room), " --from-lsn=", before,
                                        " --idle-exit=1", server_flag),
                                 dir_.path());
  EXPECT_EQ(table.exit_code, 0) << table.err;
  const std::vector<std::string> lines = Lines(table.out);
  ASSERT_GE(lines.size(), 4u) << table.out;
  EXPECT_TRUE(lines[0].starts_with("lsn")) << lines[0];
  std::string joined, raised;
  for (size_t i = 1; i < lines.size(); ++i) {
    EXPECT_TRUE(lines[i].starts_with(StrCat(before + 1)) ||
                lines[i].starts_with(StrCat(before + 2)))
        << lines[i];
    EXPECT_TRUE(Has(lines[i], " put ")) << lines[i];
    if (Has(lines[i], "USER_JOINED")) joined = lines[i];
    if (Has(lines[i], "HAND_RAISED")) raised = lines[i];
  }
  EXPECT_TRUE(joined.starts_with(StrCat(before + 1, " "))) << table.out;
  EXPECT_TRUE(raised.starts_with(StrCat(before + 2, " "))) << table.out;
  EXPECT_TRUE(Has(raised, "audit_logs")) << raised;
  EXPECT_TRUE(Has(raised, FormatUuid(room))) << raised;

  // Refusals: exit 1 with the server's code.
  const VoxctlRun unknown =
      Voxctl(StrCat("watch table no_such_table --count=1", server_flag), dir_.path());
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_TRUE(Has(unknown.err, "NOT_FOUND")) << unknown.err;
  const VoxctlRun future =
      Voxctl(StrCat("watch table users --from-lsn=999999999", server_flag), dir_.path());
  EXPECT_EQ(future.exit_code, 1);
  EXPECT_TRUE(Has(future.err, "INVALID_ARGUMENT")) << future.err;
  // Usage errors: exit 2, nothing sent.
  EXPECT_EQ(Voxctl(StrCat("watch room not-a-uuid", server_flag), dir_.path()).exit_code, 2);
  EXPECT_EQ(Voxctl(StrCat("watch planet mars", server_flag), dir_.path()).exit_code, 2);
  EXPECT_EQ(Voxctl(StrCat("watch table users --format=csv", server_flag), dir_.path()).exit_code,
            2);
  // No server: exit 3.
  EXPECT_EQ(Voxctl("watch table users --server=127.0.0.1:1", dir_.path()).exit_code, 3);
}

}  // namespace
}  // namespace vox
