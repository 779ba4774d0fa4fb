// The server's metrics: requests, errors and latency per protocol operation,
// connections, bytes, rejected frames, the WAL, checkpoints and the size of
// every table; and the HTTP endpoint that serves them to Prometheus. Every
// metric is listed in docs/observability.md.
//
//   ServerMetrics metrics(wal, checkpointer, durability);
//   metrics.RequestDone(op, code, micros);     // any thread: relaxed atomic adds
//   metrics.SampleTables(db, true);            // engine thread only
//   MetricsSnapshot s = metrics.Snapshot();    // any thread: a plain copy
//   std::string text = RenderPrometheus(s);    // text exposition format 0.0.4
//
// Thread-safe. The hot path (counting a request, a connection, bytes) takes
// no lock; table sizes are read from the Database only on the engine thread
// (SampleTables) and kept in a mutex-guarded copy for readers.
#ifndef VOXDB_NET_METRICS_H_
#define VOXDB_NET_METRICS_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "wal/checkpoint.h"
#include "wal/wal_writer.h"

namespace asio {
class io_context;
}

namespace vox {

class Database;

// Counts per bucket of kLatencyBucketsMicros (wal/wal_writer.h): bucket i
// holds values <= kLatencyBucketsMicros[i] and above the previous bound; the
// last bucket holds values above 10 s. Not cumulative.
struct HistogramCounts {
  std::array<uint64_t, kLatencyBucketCount> buckets{};
  uint64_t sum_micros = 0;
  uint64_t count() const;
};

// A latency histogram written without locks. Observe is two relaxed adds;
// Read sums the buckets for the count, so count always equals the buckets'
// total even while writers go on.
class LatencyHistogram {
 public:
  void Observe(uint64_t micros);
  HistogramCounts Read() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBucketCount> buckets_{};
  std::atomic<uint64_t> sum_micros_{0};
};

// Everything the registry knows, at one moment, as plain values: for the
// endpoint and for the Stats operation.
struct MetricsSnapshot {
  struct Op {
    std::string name;  // the wire name, e.g. "JoinRoom"
    uint64_t requests = 0;
    uint64_t errors = 0;  // answers whose code is not OK
    // Non-zero error counts by status code name ("NOT_FOUND", ...).
    std::vector<std::pair<std::string, uint64_t>> errors_by_code;
    HistogramCounts latency;  // read to release, in us
  };
  struct Table {
    std::string name;
    uint64_t rows = 0;
    uint64_t column_bytes = 0, index_bytes = 0;
  };

  std::string server_version;
  double uptime_seconds = 0;
  std::vector<Op> ops;  // every operation of the protocol, in wire order

  int64_t connections_open = 0;
  uint64_t connections_accepted = 0, connections_refused = 0;
  uint64_t bytes_received = 0, bytes_sent = 0;
  uint64_t frames_malformed = 0, frames_oversized = 0;

  Durability durability = Durability::kNone;
  std::optional<WalWriter::Stats> wal;  // none with durability none
  uint64_t wal_durable_lsn = 0;

  std::optional<Checkpointer::Stats> checkpoints;
  bool checkpoint_running = false;
  // Change streams (net/streams.h); none when the server has none.
  struct Streams {
    uint64_t subscriptions = 0, history_bytes = 0, history_after_lsn = 0;
    uint64_t events_delivered = 0, frames_pushed = 0, fell_behind = 0, catchups = 0;
    uint64_t wal_hold_lsn = 0;
  };
  std::optional<Streams> streams;
  // Seconds since the last checkpoint completed; none before the first.
  std::optional<double> snapshot_age_seconds;

  // From the engine thread's last sample (empty before the first).
  std::vector<Table> tables;
  std::optional<double> tables_sample_age_seconds;
  double tables_sample_seconds = 0;  // what the last sample with bytes took
};

// The Prometheus text exposition format (version 0.0.4) of `s`.
std::string RenderPrometheus(const MetricsSnapshot& s);

class ServerMetrics {
 public:
  // `wal` (null with durability none) and `checkpointer` (may be null) must
  // outlive the registry.
  ServerMetrics(const WalWriter* wal, const Checkpointer* checkpointer, Durability durability);
  ~ServerMetrics();

  // A request answered: `op` is its wire::Op value, `code` the response's
  // StatusCode, `micros` from its frame being read to its answer released.
  void RequestDone(uint8_t op, uint16_t code, uint64_t micros);
  void ConnectionAccepted();
  void ConnectionRefused();  // over the connection limit
  void ConnectionClosed();   // an accepted one
  void BytesReceived(uint64_t n) { bytes_received_.fetch_add(n, std::memory_order_relaxed); }
  void BytesSent(uint64_t n) { bytes_sent_.fetch_add(n, std::memory_order_relaxed); }
  void FrameMalformed() { frames_malformed_.fetch_add(1, std::memory_order_relaxed); }
  void FrameOversized() { frames_oversized_.fetch_add(1, std::memory_order_relaxed); }

  // Reads every table's live rows and, with `with_bytes`, its column and
  // index bytes (O(index groups): do that less often). Returns the seconds
  // it took. REQUIRES: on the engine thread (the only reader of `db`).
  double SampleTables(const Database& db, bool with_bytes);

  MetricsSnapshot Snapshot() const;
  // Reads change streams' figures for the snapshot (set once, at start).
  void set_streams(std::function<MetricsSnapshot::Streams()> read) { streams_ = std::move(read); }

 private:
  struct PerOp;
  std::function<MetricsSnapshot::Streams()> streams_;
  const WalWriter* const wal_;
  const Checkpointer* const checkpointer_;
  const Durability durability_;
  const std::chrono::steady_clock::time_point started_;
  std::unique_ptr<PerOp[]> ops_;
  std::atomic<int64_t> connections_open_{0};
  std::atomic<uint64_t> connections_accepted_{0}, connections_refused_{0};
  std::atomic<uint64_t> bytes_received_{0}, bytes_sent_{0};
  std::atomic<uint64_t> frames_malformed_{0}, frames_oversized_{0};

  mutable std::mutex tables_mu_;
  std::vector<MetricsSnapshot::Table> tables_;  // guarded by tables_mu_
  std::optional<std::chrono::steady_clock::time_point> sampled_at_;
  double sample_seconds_ = 0;  // the last sample with bytes
};

// A minimal HTTP/1.1 server for scrapes: `GET /metrics` answers 200 with
// render()'s text; another path 404; another method 405; a malformed request
// or one whose header passes `max_request_bytes` 400. Every connection is
// closed after one answer or after `timeout`; connections beyond
// `max_connections` are closed at once.
// Runs on `io`'s thread; `render` is called there.
struct MetricsEndpointOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 9100;  // 0: an ephemeral port (see port())
  int max_connections = 4;
  std::chrono::milliseconds timeout{5000};
  size_t max_request_bytes = 8192;
};

class MetricsEndpoint {
 public:
  // Listens; serves once `io` runs. `io` must outlive the endpoint's
  // connections (they hold no reference to the endpoint object itself).
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      asio::io_context& io, const MetricsEndpointOptions& options,
      std::function<std::string()> render);
  ~MetricsEndpoint();

  uint16_t port() const { return port_; }
  // Stops accepting. REQUIRES: on `io`'s thread, or `io` not running.
  void Close();

  struct State;

 private:
  MetricsEndpoint(std::shared_ptr<State> state, uint16_t port);
  std::shared_ptr<State> state_;
  uint16_t port_;
};

}  // namespace vox

#endif  // VOXDB_NET_METRICS_H_
