// The client library against a real voxdb process: pipelining, sharing,
// timeouts, dropped connections and reconnects.
#include "net/client.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Whether /proc says the process is stopped (state T).
bool IsStopped(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'T';
}

class ClientTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

// 32 clients, each keeping 16 requests in flight: registrations, reads of
// what they registered, and top-ups, all checked against what was asked.
TEST_F(ClientTest, PipelinedClientsGetEveryAnswerMatchedToItsRequest) {
  ServerProcess server(dir_.path() + "/db");
  ASSERT_NE(server.port(), 0);
  constexpr int kClients = 32, kUsers = 20;
  std::atomic<int> matched{0}, wrong{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&, t] {
      auto c = Client::Connect({.port = server.port(), .max_in_flight = 16});
      if (!c.ok()) {
        ++failed;
        return;
      }
      Client& client = **c;
      // Round 1: registrations, all in flight at once.
      std::vector<Future<rpc::Registered>> regs;
      for (int i = 0; i < kUsers; ++i) {
        const std::string name = StrCat("c", t, "_u", i);
        regs.push_back(client.Send(rpc::RegisterUser{name, name + "@example.com", "h", name}));
      }
      std::vector<Uuid> users;
      for (auto& f : regs) {
        auto r = f.Get();
        if (!r.ok()) {
          ++failed;
          return;
        }
        users.push_back(r->user_id);
      }
      // Round 2: reads and writes interleaved, answers matched by content.
      std::vector<Future<std::string>> rows, emails;
      std::vector<Future<rpc::Transfer>> topups;
      for (int i = 0; i < kUsers; ++i) {
        const std::string name = StrCat("c", t, "_u", i);
        rows.push_back(client.Send(rpc::GetRow{"users", users[i]}));
        topups.push_back(client.Send(rpc::TopUp{users[i], 100 + i, StrCat("topup-", name)}));
        emails.push_back(client.Send(rpc::UserByEmail{name + "@example.com"}));
      }
      for (int i = 0; i < kUsers; ++i) {
        const std::string name = StrCat("c", t, "_u", i);
        auto row = rows[i].Get();
        auto topup = topups[i].Get();
        auto email = emails[i].Get();
        if (!row.ok() || !topup.ok() || !email.ok()) {
          ++failed;
          continue;
        }
        const std::string id = StrCat("\"id\":\"", FormatUuid(users[i]), "\"");
        const bool ok = Contains(*row, StrCat("\"username\":\"", name, "\"")) &&
                        Contains(*row, id) && Contains(*email, id) && !topup->already_done &&
                        topup->transfer_id != Uuid{};
        ok ? ++matched : ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(matched.load(), kClients * kUsers);
}

TEST_F(ClientTest, OneClientSharedByThreads) {
  ServerProcess server(dir_.path() + "/db", {"--durability=write"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  std::atomic<int> matched{0}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::string name = StrCat("s", t, "_", i);
        auto r = c->Call(rpc::RegisterUser{name, name + "@example.com", "h", name});
        auto row = r.ok() ? c->Call(rpc::GetRow{"users", r->user_id}) : r.status();
        row.ok() && Contains(*row, StrCat("\"username\":\"", name, "\"")) ? ++matched : ++wrong;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(matched.load(), 320);
  EXPECT_EQ(wrong.load(), 0);
}

// More requests than the window: Send waits for answers instead of piling
// requests up, and every one is answered.
TEST_F(ClientTest, SendWaitsForRoomInTheWindow) {
  ServerProcess server(dir_.path() + "/db");
  auto c = Client::Connect({.port = server.port(), .max_in_flight = 4});
  ASSERT_TRUE(c.ok());
  auto user = (*c)->Call(rpc::RegisterUser{"windowed", "w@example.com", "h", "W"});
  ASSERT_TRUE(user.ok());
  std::vector<Future<std::string>> rows;
  for (int i = 0; i < 500; ++i) rows.push_back((*c)->Send(rpc::GetRow{"users", user->user_id}));
  int ok = 0;
  for (auto& r : rows) ok += r.Get().ok();
  EXPECT_EQ(ok, 500);
  // A future is read once.
  auto again = (*c)->Send(rpc::GetRow{"users", user->user_id});
  EXPECT_TRUE(again.Get().ok());
  EXPECT_FALSE(again.Get().ok());
}

// A server that stops answering: the call fails at its deadline, and the
// connection serves the next call once the server is back.
TEST_F(ClientTest, ACallTimesOutAndTheConnectionRecovers) {
  ServerProcess server(dir_.path() + "/db");
  auto c = Client::Connect({.port = server.port(), .timeout = milliseconds(300)});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Call(rpc::Stats{}).ok());
  server.Signal(SIGSTOP);
  // kill(2) only queues the signal: wait until the process is stopped.
  for (int i = 0; i < 200 && !IsStopped(server.pid()); ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(IsStopped(server.pid()));
  const auto start = steady_clock::now();
  auto late = (*c)->Call(rpc::Stats{});
  const auto waited = steady_clock::now() - start;
  server.Signal(SIGCONT);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_GE(waited, milliseconds(250));
  EXPECT_LT(waited, milliseconds(3000));
  // The late answer arrives and is dropped; the next call gets its own.
  auto next = (*c)->Call(rpc::RegisterUser{"after", "after@example.com", "h", "A"});
  ASSERT_TRUE(next.ok()) << next.status().message();
  auto row = (*c)->Call(rpc::GetRow{"users", next->user_id});
  ASSERT_TRUE(row.ok());
  EXPECT_TRUE(Contains(*row, "\"username\":\"after\""));
}

// kill -9 with writes in flight: each fails UNAVAILABLE or was acknowledged,
// every acknowledged one is there after the restart, and the same Client
// reconnects by itself.
TEST_F(ClientTest, AKilledServerFailsWhatIsInFlightAndTheClientReconnects) {
  const std::string data = dir_.path() + "/db";
  auto server = std::make_unique<ServerProcess>(data);
  const uint16_t port = server->port();
  auto c = Client::Connect({.port = port, .timeout = milliseconds(5000)});
  ASSERT_TRUE(c.ok());
  std::vector<Future<rpc::Registered>> writes;
  for (int i = 0; i < 100; ++i) {
    const std::string name = StrCat("killed_", i);
    writes.push_back((*c)->Send(rpc::RegisterUser{name, name + "@example.com", "h", name}));
  }
  // Some answered, the rest in flight.
  std::vector<std::string> acknowledged;
  std::vector<absl::StatusOr<rpc::Registered>> first;
  for (int i = 0; i < 10; ++i) first.push_back(writes[i].Get());
  server->Kill(SIGKILL);
  for (int i = 0; i < 100; ++i) {
    auto r = i < 10 ? first[i] : writes[i].Get();
    if (r.ok()) {
      acknowledged.push_back(StrCat("killed_", i));
    } else {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status().message();
    }
  }
  EXPECT_GE(acknowledged.size(), 10u);
  // Down: a clear refusal, not a hang.
  auto down = (*c)->Call(rpc::Stats{});
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);

  server = std::make_unique<ServerProcess>(data, std::vector<std::string>{
                                                     StrCat("--listen=127.0.0.1:", port)});
  ASSERT_EQ(server->port(), port);
  for (const std::string& name : acknowledged) {
    auto row = (*c)->Call(rpc::UserByEmail{name + "@example.com"});
    EXPECT_TRUE(row.ok()) << name << ": " << row.status().message();
  }
  EXPECT_EQ((*c)->role(), "admin");
}

TEST_F(ClientTest, ConnectRefusals) {
  auto nothing = Client::Connect({.port = 1, .timeout = milliseconds(500)});
  EXPECT_EQ(nothing.status().code(), absl::StatusCode::kUnavailable);
  auto bad_host = Client::Connect({.host = "no-such-host.invalid", .port = 7070});
  EXPECT_EQ(bad_host.status().code(), absl::StatusCode::kUnavailable);
  auto bad_window = Client::Connect({.port = 7070, .max_in_flight = 0});
  EXPECT_EQ(bad_window.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vox
