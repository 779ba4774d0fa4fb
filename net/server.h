// The VoxDB server: the wire protocol (schema/voxdb.fbs, docs/protocol.md)
// over TCP with Asio, in front of one engine thread.
//
// Threads: one network thread runs the Asio io_context (accepts, reads and
// verifies frames, writes responses); one engine thread executes requests
// one at a time as transactions; report threads compute reports on the
// snapshots the engine thread pinned for them (docs/reports.md); the WAL
// thread makes writes durable. They meet through queues, never through
// locks on data. A response is released only once everything it could have
// seen is durable (unless the request asks to read unsynced data).
#ifndef VOXDB_NET_SERVER_H_
#define VOXDB_NET_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/database.h"
#include "net/protocol.h"
#include "wal/checkpoint.h"
#include "wal/wal_sink.h"
#include "wal/wal_writer.h"

namespace vox {

// The largest frame accepted before the handshake is done.
inline constexpr size_t kHandshakeFrameBytes = 64u << 10;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 7070;  // 0: an ephemeral port (see Server::port)
  size_t max_frame_bytes = 4u << 20;
  int max_connections = 1024;
  int max_inflight_per_connection = 128;  // then the connection is not read (back-pressure)
  int idle_timeout_seconds = 300;
  // A new connection has this long to complete its handshake; until then
  // its frames may be at most kHandshakeFrameBytes (a client that connects
  // and says nothing, or dribbles, cannot hold a connection slot for long).
  int handshake_timeout_seconds = 10;
  // One credential per line, `role name verifier` (roles: admin, app,
  // readonly; the verifier a SCRAM-SHA-256 one, as `voxctl token create`
  // prints it), or the older `role token` (its verifier derived at start,
  // with a warning). Clients authenticate with SCRAM-SHA-256
  // (docs/security.md). Empty: no tokens, and only loopback clients are
  // accepted.
  std::string token_file;
  // Failed authentications: `auth_max_failures` from one address within
  // `auth_lockout_seconds` refuse that address's handshakes for the next
  // `auth_lockout_seconds` (RESOURCE_EXHAUSTED). Each failure is written
  // to the audit trail (UNAUTHORIZED_ACCESS_ATTEMPT).
  int auth_max_failures = 5;
  int auth_lockout_seconds = 60;
  // TLS for every client connection (TLS 1.2 or later) when both are set:
  // PEM files of the certificate chain and its private key. Empty: plain TCP.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Where the server's own notes go (token file warnings, lockouts); never
  // handed a secret. Empty: stderr.
  std::function<void(const std::string&)> log;
  // "address:port" of the Prometheus endpoint (HTTP, GET /metrics;
  // docs/observability.md); empty: off. Port 0: an ephemeral port (see
  // Server::metrics_port).
  std::string metrics_listen;
  // Threads computing reports off the engine thread (at least 1).
  int report_threads = 1;
  // Reports queued or running at once (at least 1); past that a report is
  // refused with RESOURCE_EXHAUSTED.
  int max_reports = 64;
  // Once out of work, the engine and network threads keep looking for more
  // this long (microseconds) before they sleep. A request wakes three
  // sleeping threads on its way; on a VM an idle vCPU takes ~15 us to wake,
  // so at low load spinning takes one client's round trip from ~75 to ~20 us
  // (docs/benchmarks.md). An idle server spins for nothing. 0: sleep at once.
  int spin_us = 50;
};

class ServerMetrics;
class ChangeStreams;

// What the engine thread works on. All must outlive the server.
struct EngineParts {
  Database* db;
  WalWriter* wal;       // null with durability none
  WalCommitSink* sink;  // null with durability none
  Checkpointer* checkpointer;
  Uuid database_id;
  Durability durability;
  // Called on the engine thread between requests, at least once a second:
  // scheduled checkpoints and time-based maintenance. May be empty.
  std::function<void()> periodic;
  // Set by the server to its metrics registry (for the Stats operation);
  // leave it null.
  const ServerMetrics* metrics = nullptr;
  // The data directory (the ListSnapshots request lists its snapshots);
  // empty when there is none.
  std::string data_dir;
  // Change streams (net/streams.h), attached to `db`; null: Subscribe is
  // refused.
  ChangeStreams* streams = nullptr;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       EngineParts engine);
  ~Server();  // Stop()

  uint16_t port() const;
  // The metrics endpoint's port; 0 when it is off.
  uint16_t metrics_port() const;
  // Requests, connections, WAL, checkpoints, tables (net/metrics.h).
  const ServerMetrics& metrics() const;
  // Stops accepting, answers what is in flight (reports already running
  // finish; queued ones are answered UNAVAILABLE), stops the threads.
  void Stop();
  // Blocks until Stop() (or a SIGTERM/SIGINT when `handle_signals`).
  void Wait(bool handle_signals);

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vox

#endif  // VOXDB_NET_SERVER_H_
