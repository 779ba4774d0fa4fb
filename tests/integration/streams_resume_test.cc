// Change streams on the real server (docs/streams.md), the hard parts:
// resuming after a dropped connection (checked against the WAL) and after
// kill -9, resumes outside the history, a stalled subscriber cut off while
// the others keep up, 1,000 subscribers to one busy room. Subscribers on
// raw sockets (raw_connection.h), writers through the client library.
#include <poll.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/integration/raw_connection.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"
#include "wal/change_codec.h"
#include "wal/file_io.h"
#include "wal/recovery.h"
#include "wal/wal_reader.h"

namespace vox {
namespace {

using std::chrono::milliseconds;
using Events = std::vector<rpc::StreamEvent>;

// Registers users name_0 .. name_{n-1} (with a `bio_bytes` bio), many
// requests in flight at once; their ids. Every call must succeed.
std::vector<Uuid> RegisterMany(Client& c, const std::string& name, int n, size_t bio_bytes = 0,
                               int* failures = nullptr) {
  std::vector<Uuid> ids;
  std::deque<Future<rpc::Registered>> inflight;
  auto take = [&] {
    auto r = inflight.front().Get();
    inflight.pop_front();
    if (r.ok()) {
      ids.push_back(r->user_id);
    } else if (failures != nullptr) {
      ++*failures;
    } else {
      ADD_FAILURE() << r.status();
    }
  };
  for (int i = 0; i < n; ++i) {
    const std::string u = StrCat(name, "_", i);
    inflight.push_back(c.Send(rpc::RegisterUser{.username = u,
                                                .email = u + "@example.com",
                                                .password_hash = "h",
                                                .display_name = u,
                                                .bio = std::string(bio_bytes, 'b')}));
    if (inflight.size() >= 32) take();
  }
  while (!inflight.empty()) take();
  return ids;
}

std::vector<std::string> Split(const std::string& text, const std::string& sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + sep.size();
  }
}

std::vector<uint64_t> Range(uint64_t after, uint64_t last) {
  std::vector<uint64_t> out;
  for (uint64_t l = after + 1; l <= last; ++l) out.push_back(l);
  return out;
}

Events After(const Events& events, uint64_t lsn, uint64_t through = UINT64_MAX) {
  Events out;
  for (const rpc::StreamEvent& e : events) {
    if (e.lsn > lsn && e.lsn <= through) out.push_back(e);
  }
  return out;
}

// How many users events `events` hold for each of `ids`.
std::vector<int> CountUsers(const Events& events, const std::vector<Uuid>& ids) {
  std::vector<int> out;
  for (const Uuid& id : ids) {
    int n = 0;
    for (const rpc::StreamEvent& e : events) n += e.table == "users" && e.id == id;
    out.push_back(n);
  }
  return out;
}

// Metric `name` (a sample without labels) from the Prometheus endpoint on
// `port`; -1 when absent or unreachable.
double Metric(uint16_t port, const std::string& name) {
  RawConnection conn(port, 5000);
  if (conn.fd() < 0 ||
      !conn.Send("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")) {
    return -1;
  }
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = recv(conn.fd(), buf, sizeof(buf), 0)) > 0) text.append(buf, static_cast<size_t>(n));
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

uint64_t DurableLsn(Client& c) { return CallOk(c, rpc::Stats{}).durable_lsn; }

// Stops (`stop`) and joins a writer thread however the test ends.
struct StopAndJoin {
  std::atomic<bool>& stop;
  std::thread& thread;
  ~StopAndJoin() {
    stop.store(true);
    if (thread.joinable()) thread.join();
  }
};

class StreamsResumeTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

// Subscribed to "*", a subscriber reads a while, its connection is reset,
// writes go on; resubscribed from its last batch's last_lsn it gets the
// rest. Together the two streams hold every record of the WAL in that
// range, each once, in order, with exactly the rows each record changed.
TEST_F(StreamsResumeTest, ResumingAfterADroppedConnectionMissesAndRepeatsNothing) {
  const std::string data = dir_.path() + "/db";
  ServerProcess server(data);
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const Uuid database = c->database_id();

  auto first = std::make_unique<RawSubscriber>(server.port());
  ASSERT_TRUE(first->ok());
  RawStream a = OpenRawStream(*first, std::nullopt, std::nullopt, "*", -1);
  const uint64_t from = a.last_lsn();

  // A writer that keeps going through the drop and the resume.
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  std::thread writer([&] {
    auto w = server.Connect();
    if (w == nullptr) return;
    const auto owner = CallOk(*w, rpc::RegisterUser{"owner", "owner@example.com", "h", "Owner"});
    const auto room = CallOk(*w, rpc::CreateAndOpenRoom{.owner_id = owner.user_id, .title = "r"});
    for (int i = 0; !stop.load(); ++i) {
      RegisterMany(*w, StrCat("w", i), 10);
      CallOk(*w, rpc::SetMuted{.room_id = room.room_id,
                               .actor_id = owner.user_id,
                               .target_id = owner.user_id,
                               .muted = i % 2 == 0});
      rounds.fetch_add(1);
    }
  });
  StopAndJoin join_writer{stop, writer};

  ASSERT_TRUE(a.ReadEvents(300)) << "got " << a.events().size();
  const uint64_t resume_from = a.last_lsn();
  first->conn().Reset();  // abrupt: RST, unread batches lost
  const int at_drop = rounds.load();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (rounds.load() < at_drop + 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  RawSubscriber second(server.port());
  ASSERT_TRUE(second.ok());
  RawStream b =
      OpenRawStream(second, std::nullopt, std::nullopt, "*", static_cast<int64_t>(resume_from));
  ASSERT_TRUE(b.ReadEvents(300));  // while the writer still writes
  stop.store(true);
  writer.join();
  const uint64_t last = DurableLsn(*c);
  ASSERT_TRUE(b.ReadThrough(last)) << "through " << b.last_lsn() << " of " << last;

  // What the two streams delivered, in order.
  Events received = a.events();
  for (const rpc::StreamEvent& e : b.events()) received.push_back(e);
  for (size_t i = 1; i < received.size(); ++i) {
    ASSERT_GE(received[i].lsn, received[i - 1].lsn) << i;
    ASSERT_FALSE(received[i].lsn == received[i - 1].lsn &&
                 received[i].table == received[i - 1].table && received[i].id == received[i - 1].id)
        << "twice: LSN " << received[i].lsn << " " << received[i].table;
  }

  // The WAL's records in (from, last], with the rows each changed.
  server.Kill(SIGKILL);
  struct Record {
    uint64_t lsn;
    Timestamp time;
    std::string rows;  // "table put|delete id; ..."
  };
  std::vector<Record> records;
  Database schema;
  auto scan = ScanWal(PosixFileIo(), WalDir(data), database, {.repair = false, .after_lsn = from},
                      [&](const WalRecord& r) {
                        if (r.lsn > last) return absl::OkStatus();
                        auto time = wal::CommitTime(r.payload);
                        auto rows = wal::DescribeRecord(schema, r.type, r.payload);
                        if (!time.ok() || !rows.ok()) return absl::DataLossError("undecodable");
                        // "users put row 12 <uuid>" -> "users put <uuid>"
                        std::string described;
                        for (const std::string& change : Split(*rows, "; ")) {
                          const std::vector<std::string> w = Split(change, " ");
                          if (w.size() != 5) return absl::DataLossError(change);
                          described += StrCat(w[0], " ", w[1], " ", w[4], "; ");
                        }
                        records.push_back({r.lsn, *time, described});
                        return absl::OkStatus();
                      });
  ASSERT_TRUE(scan.ok()) << scan.status().message();
  // Received, grouped the same way.
  std::vector<Record> delivered;
  for (const rpc::StreamEvent& e : received) {
    if (delivered.empty() || delivered.back().lsn != e.lsn) {
      delivered.push_back({e.lsn, e.commit_time, ""});
    }
    EXPECT_EQ(e.commit_time, delivered.back().time) << "LSN " << e.lsn;
    delivered.back().rows +=
        StrCat(e.table, e.deleted ? " delete " : " put ", FormatUuid(e.id), "; ");
  }
  std::vector<uint64_t> record_lsns, delivered_lsns;
  for (const Record& r : records) record_lsns.push_back(r.lsn);
  for (const Record& r : delivered) delivered_lsns.push_back(r.lsn);
  ASSERT_EQ(delivered_lsns, record_lsns);
  EXPECT_EQ(record_lsns, Range(from, last));
  EXPECT_GT(resume_from, from);
  EXPECT_LT(resume_from, last);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(delivered[i].time, records[i].time) << "LSN " << records[i].lsn;
    EXPECT_EQ(delivered[i].rows, records[i].rows) << "LSN " << records[i].lsn;
  }
}

// kill -9, restart on the same data: the history is refilled from the WAL,
// so a subscriber resumes from the last LSN it got; what it missed arrives
// once (exactly as a live subscriber saw it), then the new commits.
TEST_F(StreamsResumeTest, ResumingAfterAServerRestart) {
  const std::string data = dir_.path() + "/db";
  auto server = std::make_unique<ServerProcess>(data);
  auto c = server->Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber early(server->port()), live(server->port());
  ASSERT_TRUE(early.ok() && live.ok());
  RawStream a = OpenRawStream(early, std::nullopt, std::nullopt, "*", -1);
  RawStream l = OpenRawStream(live, std::nullopt, std::nullopt, "*", -1);
  const uint64_t from = a.last_lsn();

  const std::vector<Uuid> one = RegisterMany(*c, "one", 30);
  const uint64_t l1 = DurableLsn(*c);
  ASSERT_TRUE(a.ReadThrough(l1));
  const uint64_t resume_from = a.last_lsn();
  // `early` stops reading here; `live` reads on.
  const std::vector<Uuid> two = RegisterMany(*c, "two", 30);
  const uint64_t l2 = DurableLsn(*c);
  ASSERT_TRUE(l.ReadThrough(l2));

  server->Kill(SIGKILL);
  server = std::make_unique<ServerProcess>(data);
  c = server->Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber resumed(server->port());
  ASSERT_TRUE(resumed.ok());
  RawStream b =
      OpenRawStream(resumed, std::nullopt, std::nullopt, "*", static_cast<int64_t>(resume_from));
  const std::vector<Uuid> three = RegisterMany(*c, "three", 30);
  const uint64_t l3 = DurableLsn(*c);
  ASSERT_GT(l3, l2);
  ASSERT_TRUE(b.ReadThrough(l3)) << "through " << b.last_lsn() << " of " << l3;

  EXPECT_EQ(b.Lsns(), Range(resume_from, l3));
  EXPECT_EQ(CountUsers(b.events(), one), std::vector<int>(one.size(), 0));
  EXPECT_EQ(CountUsers(b.events(), two), std::vector<int>(two.size(), 1));
  EXPECT_EQ(CountUsers(b.events(), three), std::vector<int>(three.size(), 1));
  // From the WAL, the same events as the live subscriber got.
  EXPECT_EQ(After(b.events(), resume_from, l2), After(l.events(), resume_from, l2));
  // And the whole history since `from`, too.
  RawSubscriber whole(server->port());
  ASSERT_TRUE(whole.ok());
  RawStream w = OpenRawStream(whole, std::nullopt, std::nullopt, "*", static_cast<int64_t>(from));
  ASSERT_TRUE(w.ReadThrough(l3));
  EXPECT_EQ(After(w.events(), from, l2), l.events());
  EXPECT_EQ(After(w.events(), resume_from), b.events());
}

// A resume from before the in-memory history (--stream_retention_mb) is
// served from the WAL, exactly as a live subscriber saw it; one past the
// last commit is INVALID_ARGUMENT.
TEST_F(StreamsResumeTest, AResumeFromBeforeTheInMemoryHistoryComesFromTheWal) {
  ServerProcess server(dir_.path() + "/db",
                       {"--stream_retention_mb=1", "--metrics_listen=127.0.0.1:0"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber live_sub(server.port());
  ASSERT_TRUE(live_sub.ok());
  RawStream live = OpenRawStream(live_sub, std::nullopt, std::nullopt, "*", -1);
  const uint64_t from = live.last_lsn();
  // About 2.5 MiB of events.
  RegisterMany(*c, "long", 800, /*bio_bytes=*/1000);
  const uint64_t last = DurableLsn(*c);
  ASSERT_TRUE(live.ReadThrough(last));
  EXPECT_GT(Metric(server.metrics_port(), "voxdb_stream_history_start_lsn"),
            static_cast<double>(from))
      << "the in-memory history still holds the start";

  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream old = OpenRawStream(sub, std::nullopt, std::nullopt, "*", static_cast<int64_t>(from));
  ASSERT_TRUE(old.ReadThrough(last)) << "through " << old.last_lsn() << " of " << last;
  EXPECT_EQ(old.events(), live.events());
  EXPECT_EQ(Metric(server.metrics_port(), "voxdb_stream_catchups_total"), 1);
  ParsedResponse r =
      sub.Subscribe(std::nullopt, std::nullopt, "*", static_cast<int64_t>(last + 1000), 23);
  ASSERT_TRUE(r.valid());
  EXPECT_EQ(r->code(), wire::StatusCode::INVALID_ARGUMENT) << r.message();
  EXPECT_NE(r.message().find("past the last commit"), std::string::npos) << r.message();
}

// The usual case on a busy server: a resume from before the in-memory
// history while commits go on (each evicting the oldest of a full
// history). The catch-up from the WAL hands over to live delivery without
// a gap, and the stream goes on.
TEST_F(StreamsResumeTest, AResumeFromTheWalWhileCommitsGoOnContinuesLive) {
  ServerProcess server(dir_.path() + "/db", {"--stream_retention_mb=1"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber live_sub(server.port());
  ASSERT_TRUE(live_sub.ok());
  RawStream live = OpenRawStream(live_sub, std::nullopt, std::nullopt, "users", -1);
  RegisterMany(*c, "long", 800, /*bio_bytes=*/1000);  // the history is full
  const uint64_t filled = DurableLsn(*c);

  std::atomic<bool> stop{false};
  std::vector<Uuid> more;
  // At most ~0.6 MiB more while the catch-up runs: within the history's
  // bound for what a subscriber has yet to read (twice the retention),
  // however slow the catch-up (a sanitizer build).
  std::thread writer([&] {
    auto w = server.Connect();
    for (int i = 0; w != nullptr && !stop.load() && i < 40; ++i) {
      for (const Uuid& id : RegisterMany(*w, StrCat("more", i), 5, 1000)) more.push_back(id);
    }
  });
  StopAndJoin join_writer{stop, writer};
  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream resumed = OpenRawStream(sub, std::nullopt, std::nullopt, "users", 5);
  const bool caught_up = resumed.ReadUntil([&] { return resumed.last_lsn() > filled + 50; });
  stop.store(true);
  writer.join();
  ASSERT_TRUE(caught_up) << "ended: " << resumed.ended() << "; " << resumed.events().size()
                         << " events through " << resumed.last_lsn() << " (history filled at "
                         << filled << ")";
  const uint64_t last = DurableLsn(*c);
  ASSERT_TRUE(live.ReadThrough(last));
  ASSERT_TRUE(resumed.ReadThrough(last)) << resumed.ended();
  EXPECT_EQ(resumed.events(), After(live.events(), 5));
  EXPECT_EQ(CountUsers(resumed.events(), more), std::vector<int>(more.size(), 1));
}

// A resume from before what the files still hold (the WAL before the
// oldest snapshot gone) is OUT_OF_RANGE, saying to resync.
TEST_F(StreamsResumeTest, AResumeOlderThanTheFilesIsOutOfRange) {
  const std::string data = dir_.path() + "/db";
  auto server = std::make_unique<ServerProcess>(data);
  auto c = server->Connect();
  ASSERT_NE(c, nullptr);
  RegisterMany(*c, "before", 50);
  const uint64_t snapshot = CallOk(*c, rpc::Checkpoint{}).lsn;
  ASSERT_GE(snapshot, 50u);
  server->Kill(SIGKILL);
  // What checkpoints do to a long log: the WAL the snapshot covers is gone.
  std::filesystem::remove_all(WalDir(data));
  std::filesystem::create_directory(WalDir(data));
  server = std::make_unique<ServerProcess>(data);
  c = server->Connect();
  ASSERT_NE(c, nullptr);
  RegisterMany(*c, "after", 10);
  const uint64_t last = DurableLsn(*c);
  ASSERT_EQ(last, snapshot + 10);

  RawSubscriber sub(server->port());
  ASSERT_TRUE(sub.ok());
  ParsedResponse r = sub.Subscribe(std::nullopt, std::nullopt, "*", 10, 21);
  ASSERT_TRUE(r.valid());
  EXPECT_EQ(r->code(), wire::StatusCode::OUT_OF_RANGE) << r.message();
  EXPECT_NE(r.message().find("resync"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("snapshot"), std::string::npos) << r.message();
  // From the snapshot on, it is all there.
  RawStream s =
      OpenRawStream(sub, std::nullopt, std::nullopt, "*", static_cast<int64_t>(snapshot), 22);
  ASSERT_TRUE(s.ReadThrough(last));
  EXPECT_EQ(s.Lsns(), Range(snapshot, last));
}

// Without a WAL (--durability=none) the in-memory history is all there
// is: a resume from before it is OUT_OF_RANGE, saying to resync.
TEST_F(StreamsResumeTest, WithoutAWalAResumeOlderThanTheHistoryIsOutOfRange) {
  ServerProcess server(dir_.path() + "/db", {"--durability=none", "--stream_retention_mb=1"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  RawSubscriber sub(server.port());
  ASSERT_TRUE(sub.ok());
  RawStream all = OpenRawStream(sub, std::nullopt, std::nullopt, "*", -1, 20);
  RegisterMany(*c, "long", 800, /*bio_bytes=*/1000);  // about 2.5 MiB of events
  ASSERT_TRUE(all.ReadEvents(800 * 4));
  const uint64_t last = all.last_lsn();

  ParsedResponse r = sub.Subscribe(std::nullopt, std::nullopt, "*", 0, 21);
  ASSERT_TRUE(r.valid());
  EXPECT_EQ(r->code(), wire::StatusCode::OUT_OF_RANGE) << r.message();
  EXPECT_NE(r.message().find("resync"), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("snapshot"), std::string::npos) << r.message();
  r = sub.Subscribe(std::nullopt, std::nullopt, "*", static_cast<int64_t>(last + 1000), 22);
  ASSERT_TRUE(r.valid());
  EXPECT_EQ(r->code(), wire::StatusCode::INVALID_ARGUMENT) << r.message();
  // The recent past is kept.
  RawStream recent =
      OpenRawStream(sub, std::nullopt, std::nullopt, "*", static_cast<int64_t>(last - 10), 23);
  ASSERT_TRUE(recent.ReadThrough(last));
  EXPECT_EQ(recent.Lsns(), Range(last - 10, last));
  EXPECT_EQ(recent.events(), After(all.events(), last - 10));
}

// With --stream_buffer_kb=64, a subscriber that stops reading while a
// writer commits megabytes is ended with "fell behind at LSN X" (X: the
// last LSN sent to it), while another subscriber gets every event and the
// writer's calls all complete within the client's timeout. Resuming from X
// then gives the rest.
TEST_F(StreamsResumeTest, AStalledSubscriberIsCutOffWhileOthersKeepUp) {
  ServerProcess server(dir_.path() + "/db",
                       {"--stream_buffer_kb=64", "--metrics_listen=127.0.0.1:0"});
  ASSERT_NE(server.metrics_port(), 0);
  auto connected = Client::Connect({.port = server.port(), .timeout = milliseconds(3000)});
  ASSERT_TRUE(connected.ok()) << connected.status();
  Client& c = **connected;

  RawSubscriber stalled(server.port()), reader(server.port());
  ASSERT_TRUE(stalled.ok() && reader.ok());
  RawStream s = OpenRawStream(stalled, std::nullopt, std::nullopt, "*", -1);
  RawStream r = OpenRawStream(reader, std::nullopt, std::nullopt, "*", -1);
  const uint64_t from = s.last_lsn();
  ASSERT_EQ(r.last_lsn(), from);

  // The reader reads all along, until it has what the writer wrote.
  std::atomic<uint64_t> target{UINT64_MAX};
  std::thread reading([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (r.last_lsn() < target.load() && r.ended().empty() &&
           std::chrono::steady_clock::now() < deadline) {
      pollfd p{reader.conn().fd(), POLLIN, 0};
      if (poll(&p, 1, 50) > 0 && !r.ReadOne()) break;
    }
  });
  // About 8 MiB of events; every call answered within the timeout.
  int failures = 0;
  RegisterMany(c, "bulk", 3000, /*bio_bytes=*/1000, &failures);
  EXPECT_EQ(failures, 0) << "writes failed (timed out?) while a subscriber stalled";
  const uint64_t last = DurableLsn(c);
  target.store(last);
  reading.join();
  EXPECT_EQ(r.last_lsn(), last);
  EXPECT_EQ(r.ended(), "");
  EXPECT_EQ(r.Lsns(), Range(from, last));

  // Cut off once its connection held the bound for 1 s while events
  // waited; the reader was not.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Metric(server.metrics_port(), "voxdb_stream_fell_behind_total") < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(Metric(server.metrics_port(), "voxdb_stream_fell_behind_total"), 1);
  // It reads what was sent to it, then the end.
  ASSERT_TRUE(s.ReadToEnd()) << "read " << s.events().size() << " events, through " << s.last_lsn();
  const std::string prefix = "fell behind at LSN ";
  ASSERT_EQ(s.ended().substr(0, prefix.size()), prefix) << s.ended();
  char* end = nullptr;
  const std::string x_text = s.ended().substr(prefix.size());
  const uint64_t x = std::strtoull(x_text.c_str(), &end, 10);
  ASSERT_NE(end, x_text.c_str()) << s.ended();
  EXPECT_LE(x, last);
  EXPECT_LT(x, last) << "it was sent everything, yet fell behind";
  EXPECT_EQ(x, s.last_lsn()) << "X is not the last LSN sent";
  EXPECT_LT(s.events().size(), r.events().size());
  EXPECT_EQ(s.events(), After(r.events(), from, x));

  // Resumed from X: the rest, once.
  RawSubscriber again(server.port());
  ASSERT_TRUE(again.ok());
  RawStream t = OpenRawStream(again, std::nullopt, std::nullopt, "*", static_cast<int64_t>(x));
  ASSERT_TRUE(t.ReadThrough(last));
  Events whole = s.events();
  for (const rpc::StreamEvent& e : t.events()) whole.push_back(e);
  EXPECT_EQ(whole, r.events());
}

// 1,000 subscribers to one room while it changes 200 times: every one gets
// every event, the same sequence.
TEST_F(StreamsResumeTest, AThousandSubscribersToOneBusyRoomAllGetEveryEvent) {
  constexpr int kSubscribers = 1000, kChanges = 200, kUsers = 10;
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < kSubscribers + 100) {
    GTEST_SKIP() << "RLIMIT_NOFILE's hard limit is " << limit.rlim_max << ": " << kSubscribers
                 << " sockets need more";
  }
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < kSubscribers + 100) {
    limit.rlim_cur = limit.rlim_max;
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  ServerProcess server(dir_.path() + "/db", {"--max_connections=1100"});
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  const auto owner = CallOk(*c, rpc::RegisterUser{"owner", "owner@example.com", "h", "Owner"});
  const auto room = CallOk(*c, rpc::CreateAndOpenRoom{.owner_id = owner.user_id, .title = "busy"});
  const std::vector<Uuid> users = RegisterMany(*c, "listener", kUsers);
  ASSERT_EQ(users.size(), static_cast<size_t>(kUsers));
  for (const Uuid& u : users) CallOk(*c, rpc::JoinRoom{.room_id = room.room_id, .user_id = u});

  std::vector<std::unique_ptr<RawSubscriber>> subs;
  for (int i = 0; i < kSubscribers; ++i) {
    subs.push_back(std::make_unique<RawSubscriber>(server.port()));
    ASSERT_TRUE(subs.back()->ok()) << "subscriber " << i;
    const ParsedResponse r = subs.back()->Subscribe(room.room_id, std::nullopt, "", -1);
    ASSERT_TRUE(r.valid()) << "subscriber " << i;
    ASSERT_EQ(r->code(), wire::StatusCode::OK) << i << ": " << r.message();
  }
  const uint64_t before = DurableLsn(*c);

  // Each subscriber's stream: the LSNs, and a hash of each event.
  struct Seen {
    std::string buffer;
    std::vector<uint64_t> lsns;
    std::vector<size_t> events;
    std::string ended;
  };
  std::vector<Seen> seen(kSubscribers);
  auto take = [&](Seen& s, const std::string& body) {
    const std::optional<RawEventBatch> b = AsEventBatch(ParsedResponse(body));
    if (!b) {
      s.ended = "not an EventBatch";
      return;
    }
    if (!b->ended.empty()) s.ended = b->ended;
    for (const rpc::StreamEvent& e : b->events) {
      if (s.lsns.empty() || s.lsns.back() != e.lsn) s.lsns.push_back(e.lsn);
      s.events.push_back(std::hash<std::string>()(StrCat(e.lsn, "|", e.table, "|", FormatUuid(e.id),
                                                         "|", e.deleted, "|", e.action, "|", e.row,
                                                         "|", e.commit_time)));
    }
  };
  for (int i = 0; i < kSubscribers; ++i) {
    for (const ParsedResponse& r : subs[i]->held()) {
      ADD_FAILURE() << "subscriber " << i << ": a frame before any change";
      (void)r;
    }
  }
  std::atomic<bool> reader_failed{false};
  std::thread reading([&] {
    std::vector<pollfd> fds(kSubscribers);
    for (int i = 0; i < kSubscribers; ++i) fds[i] = {subs[i]->conn().fd(), POLLIN, 0};
    int complete = 0;
    std::vector<bool> done(kSubscribers, false);
    char chunk[65536];
    while (complete < kSubscribers) {
      const int n = poll(fds.data(), fds.size(), 10000);
      if (n <= 0) {  // 10 s without a byte for anyone
        reader_failed.store(true);
        return;
      }
      for (int i = 0; i < kSubscribers; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t got = recv(fds[i].fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (got <= 0) {
          if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
          seen[i].ended = "connection closed";
          fds[i].fd = -1;
          if (!done[i]) {
            done[i] = true;
            ++complete;
          }
          continue;
        }
        Seen& s = seen[i];
        s.buffer.append(chunk, static_cast<size_t>(got));
        while (s.buffer.size() >= 4) {
          uint32_t len;
          std::memcpy(&len, s.buffer.data(), 4);
          if (s.buffer.size() < 4 + len) break;
          take(s, s.buffer.substr(4, len));
          s.buffer.erase(0, 4 + len);
        }
        if (!done[i] && (s.lsns.size() >= static_cast<size_t>(kChanges) || !s.ended.empty())) {
          done[i] = true;
          ++complete;
        }
      }
    }
  });

  // The changes: each listener mutes, unmutes, raises and lowers a hand,
  // in turn.
  for (int k = 0; k < kChanges; ++k) {
    const Uuid& u = users[k % kUsers];
    switch ((k / kUsers) % 4) {
      case 0:
        CallOk(*c, rpc::SetMuted{
                       .room_id = room.room_id, .actor_id = u, .target_id = u, .muted = true});
        break;
      case 1:
        CallOk(*c, rpc::SetMuted{
                       .room_id = room.room_id, .actor_id = u, .target_id = u, .muted = false});
        break;
      case 2:
        CallOk(*c, rpc::SetHandRaised{
                       .room_id = room.room_id, .actor_id = u, .target_id = u, .raised = true});
        break;
      case 3:
        CallOk(*c, rpc::SetHandRaised{
                       .room_id = room.room_id, .actor_id = u, .target_id = u, .raised = false});
        break;
    }
  }
  const uint64_t after = DurableLsn(*c);
  reading.join();
  EXPECT_FALSE(reader_failed.load()) << "the subscribers stopped receiving";
  // The writer's commits: each its own LSN, all in the room.
  ASSERT_EQ(after - before, static_cast<uint64_t>(kChanges));
  const std::vector<uint64_t> lsns = Range(before, after);
  int complete = 0;
  for (int i = 0; i < kSubscribers; ++i) {
    EXPECT_EQ(seen[i].ended, "") << "subscriber " << i;
    EXPECT_EQ(seen[i].lsns, lsns) << "subscriber " << i;
    EXPECT_EQ(seen[i].events, seen[0].events) << "subscriber " << i;
    complete += seen[i].lsns == lsns && seen[i].events == seen[0].events;
  }
  EXPECT_EQ(complete, kSubscribers);
  EXPECT_EQ(seen[0].events.size(), 2u * kChanges) << "a participant row and an audit row each";
}

}  // namespace
}  // namespace vox
