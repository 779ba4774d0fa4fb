// The Prometheus endpoint of the real voxdb process (--metrics_listen), and
// the exposition format of net/metrics.h.
//
#include "net/metrics.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "net/server.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"
#include "tests/integration/server_process.h"
#include "tests/wal/wal_test_util.h"

namespace vox {
namespace {

using asio::ip::tcp;

// ---- The exposition format, without a server ----

// The sample lines of `text` whose name starts with `prefix`, in order.
std::vector<std::string> Lines(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) out.push_back(line);
  }
  return out;
}

TEST(MetricsFormatTest, HistogramBucketsAreCumulativeInSeconds) {
  LatencyHistogram h;
  h.Observe(0);         // le 1us
  h.Observe(1);         // le 1us
  h.Observe(3);         // le 5us
  h.Observe(20000);     // le 20ms
  h.Observe(10000001);  // over 10 s
  const HistogramCounts c = h.Read();
  EXPECT_EQ(c.count(), 5u);
  EXPECT_EQ(c.sum_micros, 0u + 1 + 3 + 20000 + 10000001);
  EXPECT_EQ(c.buckets[0], 2u);
  EXPECT_EQ(c.buckets[2], 1u);
  EXPECT_EQ(c.buckets.back(), 1u);

  MetricsSnapshot s;
  s.server_version = "voxdb test";
  s.ops.push_back({.name = "JoinRoom", .requests = 5, .latency = c});
  s.ops.push_back({.name = "LeaveRoom", .requests = 0});
  const std::string text = RenderPrometheus(s);
  const auto buckets = Lines(text, "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\"");
  ASSERT_EQ(buckets.size(), kLatencyBucketsMicros.size() + 1);
  EXPECT_EQ(buckets[0], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"0.000001\"} 2");
  EXPECT_EQ(buckets[1], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"0.000002\"} 2");
  EXPECT_EQ(buckets[2], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"0.000005\"} 3");
  EXPECT_EQ(buckets[10], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"0.002\"} 3");
  EXPECT_EQ(buckets[13], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"0.02\"} 4");
  EXPECT_EQ(buckets[21], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"10\"} 4");
  EXPECT_EQ(buckets[22], "voxdb_request_duration_seconds_bucket{op=\"JoinRoom\",le=\"+Inf\"} 5");
  EXPECT_EQ(
      Lines(text, "voxdb_request_duration_seconds_sum{op=\"JoinRoom\"}"),
      std::vector<std::string>{"voxdb_request_duration_seconds_sum{op=\"JoinRoom\"} 10.020005"});
  EXPECT_EQ(Lines(text, "voxdb_request_duration_seconds_count{op=\"JoinRoom\"}"),
            std::vector<std::string>{"voxdb_request_duration_seconds_count{op=\"JoinRoom\"} 5"});
  // Every operation has a request counter; histograms only once seen.
  EXPECT_EQ(Lines(text, "voxdb_requests_total{op=\"LeaveRoom\"} 0").size(), 1u);
  EXPECT_TRUE(Lines(text, "voxdb_request_duration_seconds_count{op=\"LeaveRoom\"}").empty());
  // HELP and TYPE once per family, before its samples.
  EXPECT_EQ(Lines(text, "# TYPE voxdb_request_duration_seconds histogram").size(), 1u);
  EXPECT_LT(text.find("# HELP voxdb_requests_total"), text.find("voxdb_requests_total{"));
  // Nothing about the WAL or checkpoints when there are none.
  EXPECT_EQ(text.find("voxdb_wal_"), std::string::npos);
  EXPECT_EQ(text.find("voxdb_snapshot_age_seconds"), std::string::npos);
}

// ---- The real server ----

// Sends `request` to the metrics port and reads until the server closes.
std::string HttpExchange(uint16_t port, const std::string& request) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::error_code ec;
  asio::write(socket, asio::buffer(request), ec);
  std::string response;
  char buf[4096];
  while (true) {
    const size_t n = socket.read_some(asio::buffer(buf), ec);
    response.append(buf, n);
    if (ec) break;
  }
  return response;
}

std::string Get(uint16_t port, const std::string& path) {
  return HttpExchange(port, StrCat("GET ", path, " HTTP/1.1\r\nHost: localhost\r\n\r\n"));
}

// A scrape's samples: "name{labels}" -> value.
std::map<std::string, double> Parse(const std::string& response) {
  std::map<std::string, double> out;
  const size_t body = response.find("\r\n\r\n");
  std::istringstream in(response.substr(body == std::string::npos ? 0 : body + 4));
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

// Scrapes until `key` reads `want` (table rows are sampled once a second).
std::map<std::string, double> ScrapeUntil(uint16_t port, const std::string& key, double want) {
  std::map<std::string, double> m;
  for (int i = 0; i < 50; ++i) {
    m = Parse(Get(port, "/metrics"));
    if (m.count(key) && m[key] == want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return m;
}

// Sockets in LISTEN state that process `pid` holds (from /proc).
int ListeningSockets(pid_t pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator(StrCat("/proc/", pid, "/fd"), ec)) {
    const std::string target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  int n = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (state == "0A" && inodes.count(inode)) ++n;
    }
  }
  return n;
}

class MetricsTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(MetricsTest, ScrapeCountsWhatWasServed) {
  ServerProcess server(dir_.path() + "/db", {"--metrics_listen=127.0.0.1:0"});
  ASSERT_NE(server.port(), 0);
  ASSERT_NE(server.metrics_port(), 0);
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  auto user = [&](const std::string& name) {
    auto r = c->Call(rpc::RegisterUser{name, name + "@example.com", "h", name});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? r->user_id : Uuid{};
  };
  const Uuid host = user("hostess"), guest = user("guest"), other = user("other");
  auto room = c->Call(rpc::CreateAndOpenRoom{
      .owner_id = host, .title = "Live", .room_code = "metrics-room"});
  ASSERT_TRUE(room.ok()) << room.status().message();
  EXPECT_TRUE(c->Call(rpc::JoinRoom{room->room_id, guest}).ok());
  EXPECT_TRUE(c->Call(rpc::JoinRoom{room->room_id, other}).ok());
  EXPECT_TRUE(c->Call(rpc::UserByEmail{"guest@example.com"}).ok());
  EXPECT_EQ(c->Call(rpc::UserByEmail{"nobody@example.com"}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(c->Call(rpc::Checkpoint{}).ok());

  const std::string response = Get(server.metrics_port(), "/metrics");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("# TYPE voxdb_requests_total counter"), std::string::npos);
  EXPECT_NE(response.find("# TYPE voxdb_request_duration_seconds histogram"), std::string::npos);
  auto m = ScrapeUntil(server.metrics_port(), "voxdb_table_rows{table=\"users\"}", 3);

  // Requests and errors per operation.
  EXPECT_EQ(m["voxdb_requests_total{op=\"Hello\"}"], 1);
  EXPECT_EQ(m["voxdb_requests_total{op=\"RegisterUser\"}"], 3);
  EXPECT_EQ(m["voxdb_requests_total{op=\"CreateAndOpenRoom\"}"], 1);
  EXPECT_EQ(m["voxdb_requests_total{op=\"JoinRoom\"}"], 2);
  EXPECT_EQ(m["voxdb_requests_total{op=\"UserByEmail\"}"], 2);
  EXPECT_EQ(m["voxdb_requests_total{op=\"Checkpoint\"}"], 1);
  EXPECT_EQ(m["voxdb_requests_total{op=\"LeaveRoom\"}"], 0);
  EXPECT_EQ(m["voxdb_request_errors_total{op=\"UserByEmail\",code=\"NOT_FOUND\"}"], 1);
  int error_series = 0;
  for (const auto& [key, value] : m)
    error_series += key.rfind("voxdb_request_errors_total", 0) == 0;
  EXPECT_EQ(error_series, 1);

  // Latency histograms: cumulative buckets ending in +Inf == _count.
  for (const std::string op : {"RegisterUser", "JoinRoom", "UserByEmail"}) {
    double previous = 0;
    for (uint64_t bound : kLatencyBucketsMicros) {
      char le[32];
      std::snprintf(le, sizeof(le), "%g", static_cast<double>(bound) / 1e6);
      // Find the bucket whose le parses to this bound.
      bool found = false;
      for (const auto& [key, value] : m) {
        const std::string prefix =
            StrCat("voxdb_request_duration_seconds_bucket{op=\"", op, "\",le=\"");
        if (key.rfind(prefix, 0) != 0 || key.find("+Inf") != std::string::npos) continue;
        const double at = std::stod(key.substr(prefix.size()));
        if (std::abs(at - static_cast<double>(bound) / 1e6) > 1e-12) continue;
        found = true;
        EXPECT_GE(value, previous) << key;
        previous = value;
      }
      EXPECT_TRUE(found) << op << " le=" << le;
    }
    const double inf =
        m[StrCat("voxdb_request_duration_seconds_bucket{op=\"", op, "\",le=\"+Inf\"}")];
    EXPECT_GE(inf, previous);
    EXPECT_EQ(inf, m[StrCat("voxdb_request_duration_seconds_count{op=\"", op, "\"}")]);
    EXPECT_EQ(inf, m[StrCat("voxdb_requests_total{op=\"", op, "\"}")]);
    EXPECT_GT(m[StrCat("voxdb_request_duration_seconds_sum{op=\"", op, "\"}")], 0);
  }

  // Connections and bytes.
  EXPECT_EQ(m["voxdb_connections_open"], 1);
  EXPECT_EQ(m["voxdb_connections_accepted_total"], 1);
  EXPECT_EQ(m["voxdb_connections_refused_total"], 0);
  EXPECT_GT(m["voxdb_received_bytes_total"], 0);
  EXPECT_GT(m["voxdb_sent_bytes_total"], 0);
  EXPECT_EQ(m["voxdb_frames_rejected_total{reason=\"malformed\"}"], 0);

  // The WAL (durability fsync, the default): 3 users, 1 room, 2 joins.
  EXPECT_GE(m["voxdb_wal_records_total"], 6);
  EXPECT_GT(m["voxdb_wal_batches_total"], 0);
  EXPECT_LE(m["voxdb_wal_batches_total"], m["voxdb_wal_records_total"]);
  EXPECT_GT(m["voxdb_wal_written_bytes_total"], 0);
  EXPECT_GT(m["voxdb_wal_sync_duration_seconds_count"], 0);
  EXPECT_EQ(m["voxdb_wal_sync_duration_seconds_bucket{le=\"+Inf\"}"],
            m["voxdb_wal_sync_duration_seconds_count"]);
  EXPECT_GE(m["voxdb_wal_durable_lsn"], 6);

  // The checkpoint, and the tables as sampled by the engine thread.
  EXPECT_EQ(m["voxdb_checkpoints_total"], 1);
  ASSERT_TRUE(m.count("voxdb_snapshot_age_seconds"));
  EXPECT_GE(m["voxdb_snapshot_age_seconds"], 0);
  EXPECT_LT(m["voxdb_snapshot_age_seconds"], 60);
  EXPECT_GT(m["voxdb_snapshot_last_bytes"], 0);
  double rows = 0;  // nothing was written after the checkpoint
  for (const auto& [key, value] : m) rows += key.rfind("voxdb_table_rows{", 0) == 0 ? value : 0;
  EXPECT_EQ(m["voxdb_snapshot_last_rows"], rows);
  EXPECT_EQ(m["voxdb_table_rows{table=\"users\"}"], 3);
  EXPECT_EQ(m["voxdb_table_rows{table=\"rooms\"}"], 1);
  EXPECT_GT(m["voxdb_table_column_bytes{table=\"users\"}"], 0);
  EXPECT_GT(m["voxdb_table_index_bytes{table=\"users\"}"], 0);

  // A malformed protocol frame is counted as rejected.
  {
    asio::io_context io;
    tcp::socket raw(io);
    raw.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    const std::string junk(64, '\x7f');
    const uint32_t len = junk.size();
    asio::write(raw, asio::buffer(std::string(reinterpret_cast<const char*>(&len), 4) + junk));
    char buf[256];
    asio::error_code ec;
    while (!ec) raw.read_some(asio::buffer(buf), ec);  // the error, then the close
  }
  m = Parse(Get(server.metrics_port(), "/metrics"));
  EXPECT_EQ(m["voxdb_frames_rejected_total{reason=\"malformed\"}"], 1);
  EXPECT_EQ(m["voxdb_connections_accepted_total"], 2);
}

TEST_F(MetricsTest, OtherPathsMethodsAndGarbageAreRefused) {
  ServerProcess server(dir_.path() + "/db", {"--metrics_listen=127.0.0.1:0"});
  ASSERT_NE(server.metrics_port(), 0);
  const uint16_t port = server.metrics_port();
  EXPECT_EQ(Get(port, "/").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_EQ(Get(port, "/metricsx").rfind("HTTP/1.1 404 Not Found\r\n", 0), 0u);
  EXPECT_EQ(Get(port, "/metrics?name[]=x").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(HttpExchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                .rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0),
            0u);
  // Garbage, a bad header line, and a header over 8 KiB: 400, then closed
  // (HttpExchange returns only once the server closed).
  EXPECT_EQ(HttpExchange(port, "garbage\r\n\r\n").rfind("HTTP/1.1 400 Bad Request\r\n", 0), 0u);
  EXPECT_EQ(HttpExchange(port, "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n")
                .rfind("HTTP/1.1 400 Bad Request\r\n", 0),
            0u);
  EXPECT_EQ(HttpExchange(port, "GET /metrics HTTP/1.1\r\nX-Big: " + std::string(9000, 'a'))
                .rfind("HTTP/1.1 400 Bad Request\r\n", 0),
            0u);
  // HEAD: the headers alone.
  const std::string head = HttpExchange(port, "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(head.find("voxdb_"), std::string::npos);
  // A silent client is dropped after the timeout; the endpoint still answers.
  {
    asio::io_context io;
    tcp::socket silent(io);
    silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    const auto t0 = std::chrono::steady_clock::now();
    char buf[16];
    asio::error_code ec;
    silent.read_some(asio::buffer(buf), ec);
    EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
  }
  EXPECT_EQ(Get(port, "/metrics").rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  // The protocol port is unaffected.
  auto c = server.Connect();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->Call(rpc::UserByEmail{"nobody@example.com"}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(MetricsTest, TheEndpointIsOffWithoutTheFlag) {
  ServerProcess off(dir_.path() + "/off");
  ASSERT_NE(off.port(), 0);
  EXPECT_EQ(off.metrics_port(), 0);           // no "metrics on" line
  EXPECT_EQ(ListeningSockets(off.pid()), 1);  // the protocol port alone
  ServerProcess on(dir_.path() + "/on", {"--metrics_listen=127.0.0.1:0"});
  ASSERT_NE(on.metrics_port(), 0);
  EXPECT_EQ(ListeningSockets(on.pid()), 2);
}

TEST_F(MetricsTest, ABadMetricsAddressStopsTheStart) {
  ServerProcess bad(dir_.path() + "/db", {"--metrics_listen=not-an-address"});
  EXPECT_EQ(bad.port(), 0);
}

}  // namespace
}  // namespace vox
