#include "net/server.h"

#include <pthread.h>

#include <arpa/inet.h>
#include <sys/resource.h>

#include <algorithm>
#include <asio.hpp>
#include <asio/ssl.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "engine/txn.h"
#include "net/internal/dispatch.h"
#include "net/internal/token_store.h"
#include "net/metrics.h"
#include "net/scram.h"
#include "net/streams.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox {

using asio::ip::tcp;
using net::Role;

namespace {

// One turn of a spin-wait: the core stays awake (an idle vCPU is slow to
// wake), but a runnable thread waiting for it (a report, a client on the
// same machine) gets it first.
inline void CpuRelax() { std::this_thread::yield(); }

using SteadyTime = std::chrono::steady_clock::time_point;

uint64_t MicrosSince(SteadyTime t) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t)
          .count());
}

// The status code a response frame carries. REQUIRES: a Response built by
// this server.
uint16_t ResponseCode(const std::vector<uint8_t>& frame) {
  return static_cast<uint16_t>(
      flatbuffers::GetSizePrefixedRoot<wire::Response>(frame.data())->code());
}

// "address:port" (the address may be a bracketed IPv6 one).
absl::StatusOr<std::pair<std::string, uint16_t>> SplitHostPort(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos || colon + 1 == s.size()) {
    return absl::InvalidArgumentError(StrCat("'", s, "' is not address:port"));
  }
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (size_t i = colon + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9' || port > 65535) {
      return absl::InvalidArgumentError(StrCat("'", s, "' is not address:port"));
    }
    port = port * 10 + (s[i] - '0');
  }
  if (port > 65535) return absl::InvalidArgumentError(StrCat("'", s, "': port out of range"));
  return std::make_pair(host, static_cast<uint16_t>(port));
}

Timestamp WallClockMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Raises this process's open-file limit to hold `connections` sockets and
// the data files (up to the hard limit); an error when even that is short.
absl::Status RaiseFileLimit(int connections) {
  constexpr rlim_t kOwnFiles = 256;  // WAL segments, snapshots, metrics, stdio
  const rlim_t need = static_cast<rlim_t>(connections) + kOwnFiles;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return absl::OkStatus();
  if (limit.rlim_cur >= need) return absl::OkStatus();
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < need) {
    return absl::InvalidArgumentError(
        StrCat("max_connections ", connections, " needs ", need,
               " open files; the hard limit (ulimit -Hn) is ", limit.rlim_max));
  }
  limit.rlim_cur = need;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return absl::InternalError(StrCat("cannot raise the open-file limit to ", need));
  }
  return absl::OkStatus();
}

// A client connection's byte stream: plain TCP, or TLS over it when the
// server has a certificate (ServerOptions::tls_cert_file). Models Asio's
// AsyncReadStream/AsyncWriteStream, so asio::async_read/async_write take
// it as they take a socket; the plain path costs one predictable branch.
class ClientStream {
 public:
  using executor_type = tcp::socket::executor_type;
  using TlsStream = asio::ssl::stream<tcp::socket>;

  // TLS when `tls` is not null (the context must outlive the stream).
  ClientStream(tcp::socket socket, asio::ssl::context* tls)
      : tls_(tls ? std::make_unique<TlsStream>(std::move(socket), *tls) : nullptr),
        plain_(tls ? tcp::socket(tls_->get_executor()) : std::move(socket)) {}

  bool tls() const { return tls_ != nullptr; }
  TlsStream& tls_stream() { return *tls_; }
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : plain_; }
  executor_type get_executor() { return socket().get_executor(); }

  template <typename Buffers, typename Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_read_some(buffers, std::forward<Handler>(handler));
    plain_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <typename Buffers, typename Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    if (tls_) return tls_->async_write_some(buffers, std::forward<Handler>(handler));
    plain_.async_write_some(buffers, std::forward<Handler>(handler));
  }
  tcp::endpoint remote_endpoint(asio::error_code& ec) { return socket().remote_endpoint(ec); }
  // Closing skips TLS's close_notify: the connection is done either way.
  void shutdown(tcp::socket::shutdown_type what, asio::error_code& ec) {
    socket().shutdown(what, ec);
  }
  void close(asio::error_code& ec) { socket().close(ec); }

 private:
  std::unique_ptr<TlsStream> tls_;
  tcp::socket plain_;  // unused (closed) under TLS
};

// The TLS context of a server with a certificate: TLS 1.2 or later.
absl::StatusOr<std::unique_ptr<asio::ssl::context>> MakeTlsContext(const ServerOptions& o) {
  auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  asio::error_code ec;
  ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use,
                   ec);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  ctx->use_certificate_chain_file(o.tls_cert_file, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("cannot use the TLS certificate ", o.tls_cert_file, ": ", ec.message()));
  }
  ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        StrCat("cannot use the TLS key ", o.tls_key_file, ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1) {
    return absl::InvalidArgumentError(StrCat("the TLS key ", o.tls_key_file,
                                             " does not match the certificate ", o.tls_cert_file));
  }
  return ctx;
}

// A name or agent as the audit trail may hold it: printable ASCII (others
// become '?'), at most `max` bytes.
std::string Printable(std::string_view s, size_t max) {
  std::string out(s.substr(0, max));
  for (char& c : out) {
    if (c < 0x20 || c > 0x7e) c = '?';
  }
  return out;
}

// Engine thread: the audit row of a failed authentication (the address and
// the name tried; never the proof). The LSN to wait for (0 without a WAL,
// or when the log has stopped and nothing can be written).
uint64_t AuditAuthFailure(EngineParts& engine, Timestamp now, const std::string& address,
                          const std::string& user, const std::string& client_name,
                          std::string_view reason) {
  if (engine.wal != nullptr && !engine.wal->status().ok()) return 0;
  const std::string metadata =
      StrCat("{\"user\":", JsonQuote(Printable(user, 64)), ",\"reason\":", JsonQuote(reason), "}");
  const std::string agent = Printable(client_name, 512);
  absl::StatusOr<Uuid> ip = ParseInet(address);
  const absl::Status s = Transact(*engine.db, now, [&](Txn& txn) -> absl::Status {
    const ColumnValue values[] = {
        {audit_logs::action, AuditAction::UNAUTHORIZED_ACCESS_ATTEMPT},
        {audit_logs::metadata, Value(std::string_view(metadata))},
        {audit_logs::ip_address, ip.ok() ? Value(*ip) : Value()},
        {audit_logs::user_agent, agent.empty() ? Value() : Value(std::string_view(agent))},
    };
    txn.Insert(TableId::audit_logs, values);
    return txn.status();
  });
  if (!s.ok() || engine.sink == nullptr) return 0;
  return engine.sink->last_lsn();
}

}  // namespace

class Connection;

// Responses waiting for the WAL to make what they saw durable.
class DurabilityGate {
 public:
  struct Pending {
    uint64_t lsn;
    std::shared_ptr<Connection> conn;
    std::vector<uint8_t> frame;
    uint64_t id;
    uint8_t op;          // wire::Op, for the metrics
    SteadyTime read_at;  // when its frame was read
  };
  void Add(Pending p) {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.emplace(p.lsn, std::move(p));
  }
  // The smallest LSN waited for, or 0.
  uint64_t MinPending() {
    std::lock_guard<std::mutex> lock(mu_);
    return pending_.empty() ? 0 : pending_.begin()->first;
  }
  // Everything with lsn <= durable; all of it if `failed`.
  std::vector<Pending> Take(uint64_t durable, bool failed) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Pending> out;
    auto end = failed ? pending_.end() : pending_.upper_bound(durable);
    for (auto it = pending_.begin(); it != end; ++it) out.push_back(std::move(it->second));
    pending_.erase(pending_.begin(), end);
    return out;
  }

 private:
  std::mutex mu_;
  std::multimap<uint64_t, Pending> pending_;
};

class Server::Impl {
 public:
  Impl(const ServerOptions& options, EngineParts engine)
      : options_(options),
        engine_(engine),
        acceptor_(io_),
        metrics_(engine.wal, engine.checkpointer, engine.durability) {
    engine_.metrics = &metrics_;
  }

  absl::Status Start();
  void Stop();
  void Wait(bool handle_signals);
  uint16_t port() const { return port_; }

  // Network thread.
  void Accept();
  void Enqueue(std::shared_ptr<Connection> conn, std::vector<uint8_t> request, SteadyTime read_at);
  // Releases a response to the request `op` read at `read_at`. Any thread.
  void Send(const std::shared_ptr<Connection>& conn, std::vector<uint8_t> frame, uint8_t op,
            SteadyTime read_at);
  // Sends `frame` once the WAL is durable up to `lsn` (at once for 0). Any thread.
  void Release(const std::shared_ptr<Connection>& conn, std::vector<uint8_t> frame, uint64_t lsn,
               uint64_t id, uint8_t op, SteadyTime read_at);
  // Network thread: notes a failed authentication from `address` (and a
  // lockout it starts), and has the engine thread write its audit row
  // before `frame` (the refusal) goes out; the connection then closes.
  void AuthFailed(const std::shared_ptr<Connection>& conn, const std::string& address,
                  const std::string& user, const std::string& client_name, std::string reason,
                  std::vector<uint8_t> frame, uint64_t id, SteadyTime read_at);
  void Log(const std::string& line) const;

  const ServerOptions options_;
  EngineParts engine_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int connections_ = 0;
  int unsent_frames_ = 0;  // in open connections' outboxes (network thread)
  net::TokenStore tokens_;  // empty without a token file
  net::AuthLimiter auth_limiter_{options_.auth_max_failures,  // network thread
                                 std::chrono::seconds(options_.auth_lockout_seconds)};
  std::unique_ptr<asio::ssl::context> tls_;  // null: plain TCP
  ServerMetrics metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;  // null when off

 private:
  struct Task {
    std::shared_ptr<Connection> conn;
    std::vector<uint8_t> request;
    SteadyTime read_at;
    // Set for the server's own work on the engine thread (no request): it
    // runs with the transaction clock and returns the LSN after which
    // `request` (then a response frame) is released to `conn`.
    std::function<uint64_t(Timestamp now)> internal;
    uint8_t internal_op = 0;   // wire::Op, for the metrics
    uint64_t internal_id = 0;  // the request id `request` answers
  };
  // A report prepared by the engine thread, waiting for a report thread.
  struct ReportTask {
    std::shared_ptr<Connection> conn;
    std::function<std::vector<uint8_t>()> run;  // builds the response frame
    uint64_t lsn;                               // release once durable up to here
    uint64_t id;
    uint8_t op;
    SteadyTime read_at;
  };
  void EngineLoop();
  // Engine thread: Subscribe and Unsubscribe (net/streams.h); sends the
  // answer (before a subscription's first batch).
  void StreamOp(const std::shared_ptr<Connection>& conn, const wire::Request& req,
                SteadyTime read_at);
  // Its answer, or none when it was sent already.
  std::optional<std::vector<uint8_t>> StreamAnswer(const std::shared_ptr<Connection>& conn,
                                                   const wire::Request& req, SteadyTime read_at);
  void ReleaseDurable();
  // Network thread: stops it once every answer is written, or at `deadline`.
  void StopWhenSent(SteadyTime deadline);
  // Engine thread: queues a report, or refuses it past max_reports.
  void QueueReport(ReportTask task);
  void ReportLoop();

  std::thread network_, engine_thread_, releaser_;
  std::vector<std::thread> report_threads_;
  std::mutex reports_mu_;
  std::condition_variable reports_cv_;
  std::deque<ReportTask> reports_;  // guarded by reports_mu_
  int reports_in_flight_ = 0;       // queued or running; guarded by reports_mu_
  bool reports_stopping_ = false;   // guarded by reports_mu_
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  std::atomic<size_t> queued_{0};  // tasks_.size(), for the engine thread's spin
  bool stopping_ = false;
  bool stopped_ = false;
  DurabilityGate gate_;
  std::condition_variable release_cv_;
  std::mutex release_mu_;
  Timestamp last_now_ = 0;
  std::chrono::steady_clock::time_point last_periodic_{};
  // Table samples for the metrics (engine thread).
  std::chrono::steady_clock::time_point last_sample_{}, last_bytes_sample_{};
  std::chrono::steady_clock::duration bytes_sample_every_ = std::chrono::seconds(1);
};

// One client connection; lives on the network thread.
class Connection : public std::enable_shared_from_this<Connection>, public StreamOutlet {
 public:
  Connection(Server::Impl& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket), server.tls_.get()), idle_(server.io_) {}

  void Start() {
    accepted_ = true;
    server_.metrics_.ConnectionAccepted();
    asio::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    loopback_ = !ec && remote.address().is_loopback();
    if (!ec) address_ = remote.address().to_string();
    handshake_deadline_ = std::chrono::steady_clock::now() +
                          std::chrono::seconds(server_.options_.handshake_timeout_seconds);
    if (socket_.tls()) return StartTls();
    ReadHeader();
  }
  void Send(std::vector<uint8_t> frame) {
    --inflight_;
    Write(std::move(frame));
    if (read_eof_ && inflight_ == 0) CloseAfterWrites();  // answered all it sent
  }
  void Write(std::vector<uint8_t> frame, bool counted = false) {
    if (closed_) {  // nowhere to send it
      if (counted) unsent_bytes_.fetch_sub(frame.size(), std::memory_order_relaxed);
      return;
    }
    if (!counted) unsent_bytes_.fetch_add(frame.size(), std::memory_order_relaxed);
    outbox_.push_back(std::move(frame));
    ++server_.unsent_frames_;
    if (outbox_.size() == 1) WriteNext();
  }
  void CloseAfterWrites() {
    closing_ = true;
    if (outbox_.empty() && inflight_ == 0) Close();
  }
  Role role() const { return role_; }

  // StreamOutlet: change streams' pushed frames (any thread).
  void Push(std::vector<uint8_t> frame) override {
    unsent_bytes_.fetch_add(frame.size(), std::memory_order_relaxed);
    asio::post(server_.io_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
      self->Write(std::move(frame), /*counted=*/true);
    });
  }
  size_t unsent_bytes() const override { return unsent_bytes_.load(std::memory_order_relaxed); }
  bool closed() const override { return closed_flag_.load(std::memory_order_relaxed); }

 private:
  // Closes the connection once it has been silent too long: before the
  // handshake, at its deadline, after it, idle_timeout_seconds from now.
  void ArmIdle() {
    if (hello_done_) {
      idle_.expires_after(std::chrono::seconds(server_.options_.idle_timeout_seconds));
    } else {
      idle_.expires_at(handshake_deadline_);
    }
    idle_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (ec) return;
      // A subscriber may only listen: its streams keep it open.
      if (self->hello_done_ && self->open_streams.load() > 0) return self->ArmIdle();
      self->Close();
    });
  }
  // Reads the next frame unless the connection has too much work out:
  // requests in flight plus answers not yet written (a client that sends
  // and never reads stops being read, instead of the server buffering its
  // answers without bound).
  void ReadHeader() {
    if (closing_ || closed_ || reading_) return;
    if (inflight_ + static_cast<int>(outbox_.size()) >=
        server_.options_.max_inflight_per_connection) {
      paused_ = true;  // resumed by WriteNext once answers go out
      return;
    }
    paused_ = false;
    reading_ = true;
    ArmIdle();
    asio::async_read(socket_, asio::buffer(header_, 4),
                     [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                       self->server_.metrics_.BytesReceived(n);
                       self->reading_ = false;
                       if (ec == asio::error::eof && n == 0) return self->OnEndOfInput();
                       if (ec) return self->Close();
                       self->ReadBody();
                     });
  }
  // The client shut down its sending side between frames: answer what it
  // sent, then close.
  void OnEndOfInput() {
    read_eof_ = true;
    closing_ = true;
    if (inflight_ == 0) CloseAfterWrites();
  }
  void ReadBody() {
    uint32_t length;
    std::memcpy(&length, header_, 4);  // little-endian, as FlatBuffers writes it
    const size_t limit = hello_done_ ? server_.options_.max_frame_bytes : kHandshakeFrameBytes;
    if (length == 0 || length > limit) {
      server_.metrics_.FrameOversized();
      Write(net::ErrorFrame(
          0, absl::ResourceExhaustedError(StrCat(
                 "frame of ", length, " bytes; the limit is ", limit,
                 hello_done_ ? "" : " before the handshake"))));
      return CloseAfterWrites();
    }
    // Keep the size prefix in front: the buffer's alignment is relative to it.
    body_.clear();
    body_.insert(body_.end(), header_, header_ + 4);
    ReadBodyChunk(length);
  }
  // Reads the body as it arrives, the buffer growing with what came (4 KiB,
  // then doubling up to 1 MiB a read), so a frame that declares a large size
  // and never sends it costs little.
  void ReadBodyChunk(uint32_t length) {
    const size_t have = body_.size() - 4;
    const size_t want =
        std::min<size_t>(length - have, std::clamp<size_t>(have, 4u << 10, 1u << 20));
    body_.resize(body_.size() + want);
    reading_ = true;
    socket_.async_read_some(
        asio::buffer(body_.data() + 4 + have, want),
        [self = shared_from_this(), length, have, want](const asio::error_code& ec, size_t n) {
          self->server_.metrics_.BytesReceived(n);
          self->reading_ = false;
          if (ec) return self->Close();  // EOF inside a frame: nothing to answer
          self->body_.resize(4 + have + n);
          if (n < want || have + n < length) return self->ReadBodyChunk(length);
          self->read_at_ = std::chrono::steady_clock::now();
          self->OnFrame();
        });
  }
  void OnFrame() {
    flatbuffers::Verifier verifier(body_.data(), body_.size());
    if (!wire::VerifySizePrefixedRequestBuffer(verifier)) {
      server_.metrics_.FrameMalformed();
      Write(net::ErrorFrame(
          0, absl::InvalidArgumentError("malformed frame: not a valid Request; closing")));
      return CloseAfterWrites();
    }
    const wire::Request* req = wire::GetSizePrefixedRequest(body_.data());
    if (!hello_done_) return OnHandshake(req);
    ++inflight_;
    server_.Enqueue(shared_from_this(), std::move(body_), read_at_);
    body_ = {};
    ReadHeader();
  }
  // ---- The handshake (docs/protocol.md, "Handshake"; net/scram.h) ----

  // TLS first. A client speaking plain VoxDB to a TLS server gets one plain
  // error frame saying so; anything else must be a TLS handshake.
  void StartTls() {
    ArmIdle();  // the handshake deadline covers TLS too
    socket_.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](
                                                            const asio::error_code& ec) {
      if (ec || self->closed_) return self->Close();
      uint8_t first[2] = {};
      asio::error_code peek;
      const size_t n =
          self->socket_.socket().receive(asio::buffer(first), tcp::socket::message_peek, peek);
      if (peek || n == 0) return self->Close();
      // A TLS record starts 0x16 0x03 (handshake, version 3.x); a plain
      // frame with a handshake-sized length does not.
      if (first[0] != 0x16 || (n == 2 && first[1] != 0x03)) return self->RefusePlain();
      self->socket_.tls_stream().async_handshake(
          asio::ssl::stream_base::server, [self](const asio::error_code& ec) {
            if (ec) return self->Close();  // not TLS, or a certificate the client refused
            self->ReadHeader();
          });
    });
  }
  void RefusePlain() {
    asio::error_code ec;
    std::vector<uint8_t> drain(std::min<size_t>(socket_.socket().available(ec), 64u << 10));
    if (!drain.empty()) socket_.socket().receive(asio::buffer(drain), 0, ec);  // no reset on close
    auto frame = std::make_shared<std::vector<uint8_t>>(net::ErrorFrame(
        0, absl::FailedPreconditionError("this server accepts only TLS connections; connect with "
                                         "TLS (voxctl --tls, ClientOptions::tls)")));
    asio::async_write(socket_.socket(), asio::buffer(*frame),
                      [self = shared_from_this(), frame](const asio::error_code&, size_t) {
                        self->Close();
                      });
  }
  static std::string_view View(const flatbuffers::String* s) {
    return s == nullptr ? std::string_view() : std::string_view(s->data(), s->size());
  }
  // Refuses the handshake with `status` and closes.
  void Refuse(const wire::Request* req, const absl::Status& status) {
    WriteAnswer(req, net::ErrorFrame(req->id(), status));
    CloseAfterWrites();
  }
  // The handshake is done: the connection acts as `role`.
  void Welcome(const wire::Request* req, Role role, const std::string& server_signature) {
    role_ = role;
    hello_done_ = true;
    flatbuffers::FlatBufferBuilder fbb(256);
    const wire::Uuid id(server_.engine_.database_id.hi, server_.engine_.database_id.lo);
    auto signature = server_signature.empty()
                         ? 0
                         : fbb.CreateVector(reinterpret_cast<const uint8_t*>(server_signature.data()),
                                            server_signature.size());
    auto result = wire::CreateHelloResult(fbb, kProtocolVersion, fbb.CreateString(kServerVersion),
                                          fbb.CreateString(net::RoleName(role_)), &id, signature);
    wire::ResponseBuilder rb(fbb);
    rb.add_id(req->id());
    rb.add_code(wire::StatusCode::OK);
    rb.add_result_type(wire::Result::HelloResult);
    rb.add_result(result.Union());
    fbb.FinishSizePrefixed(rb.Finish());
    WriteAnswer(req, {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()});
    ReadHeader();
  }
  // Hello, or with a challenge out, the client's ScramProof.
  void OnHandshake(const wire::Request* req) {
    if (scram_) return OnScramProof(req);
    if (req->op_type() != wire::Op::Hello) {
      return Refuse(req, absl::UnauthenticatedError("the first request must be Hello"));
    }
    const wire::Hello* hello = req->op_as_Hello();
    if (hello->protocol_version() != kProtocolVersion) {
      return Refuse(req, absl::FailedPreconditionError(
                             StrCat("protocol version ", hello->protocol_version(),
                                    " is not supported; this server speaks ", kProtocolVersion)));
    }
    if (server_.tokens_.empty()) {
      if (!loopback_) {
        return Refuse(req, absl::PermissionDeniedError(
                               "no tokens are configured: only loopback clients"));
      }
      return Welcome(req, Role::kAdmin, "");
    }
    if (const int wait = server_.auth_limiter_.LockedFor(address_, read_at_); wait > 0) {
      return Refuse(req, absl::ResourceExhaustedError(
                             StrCat("too many failed authentications from ", address_,
                                    "; try again in ", wait, " s")));
    }
    const std::string_view nonce = View(hello->client_nonce());
    if (nonce.empty()) {
      return Refuse(req, absl::UnauthenticatedError(
                             View(hello->token()).empty()
                                 ? "this server requires a token (SCRAM-SHA-256, "
                                   "docs/security.md)"
                                 : "this server authenticates with SCRAM-SHA-256 only; the "
                                   "plaintext token was not checked (update the client)"));
    }
    if (!scram::IsValidNonce(nonce)) {
      return Refuse(req, absl::InvalidArgumentError(
                             "client_nonce must be 16-256 printable characters without ','"));
    }
    client_name_ = std::string(View(hello->client_name()));
    absl::StatusOr<net::TokenStore::Challenge> challenge =
        server_.tokens_.Begin(View(hello->user()), nonce);
    if (!challenge.ok()) return Refuse(req, challenge.status());
    scram_ = *std::move(challenge);
    flatbuffers::FlatBufferBuilder fbb(256);
    auto answer = wire::CreateScramChallenge(
        fbb, fbb.CreateString(scram_->nonce),
        fbb.CreateVector(reinterpret_cast<const uint8_t*>(scram_->salt.data()), scram_->salt.size()),
        static_cast<uint32_t>(scram_->iterations));
    wire::ResponseBuilder rb(fbb);
    rb.add_id(req->id());
    rb.add_code(wire::StatusCode::OK);
    rb.add_result_type(wire::Result::ScramChallenge);
    rb.add_result(answer.Union());
    fbb.FinishSizePrefixed(rb.Finish());
    WriteAnswer(req, {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()});
    ReadHeader();
  }
  void OnScramProof(const wire::Request* req) {
    const wire::ScramProof* p = req->op_as_ScramProof();
    if (p == nullptr) {
      return Refuse(req, absl::UnauthenticatedError("the handshake expects a ScramProof now"));
    }
    const std::string_view proof =
        p->proof() == nullptr
            ? std::string_view()
            : std::string_view(reinterpret_cast<const char*>(p->proof()->data()), p->proof()->size());
    const net::TokenStore::Challenge challenge = *std::move(scram_);
    scram_.reset();
    std::optional<net::TokenStore::Verified> ok =
        server_.tokens_.Finish(challenge, View(p->nonce()), proof);
    if (ok) return Welcome(req, ok->role, ok->server_signature);
    // Refused once the audit row is durable; nothing more is read.
    const std::string who = challenge.user.empty() ? std::string("an unnamed token")
                                                   : StrCat("'", Printable(challenge.user, 64), "'");
    closing_ = true;
    ++inflight_;
    server_.AuthFailed(
        shared_from_this(), address_, challenge.user, client_name_,
        View(p->nonce()) == challenge.nonce ? "wrong proof or unknown name" : "nonce mismatch",
        net::ErrorFrame(req->id(), absl::UnauthenticatedError(StrCat(
                                       "authentication failed for ", who,
                                       ": unknown name or wrong secret"))),
        req->id(), read_at_);
  }

  // An answer made on the network thread (the handshake), counted as a request.
  void WriteAnswer(const wire::Request* req, std::vector<uint8_t> frame) {
    server_.metrics_.RequestDone(static_cast<uint8_t>(req->op_type()), ResponseCode(frame),
                                 MicrosSince(read_at_));
    Write(std::move(frame));
  }
  // Writes what the outbox holds, up to 64 frames or 1 MiB, in one
  // gathered write: a connection whose frames pile up (a subscriber's
  // batches while the network thread is busy, pipelined answers) costs one
  // send, not one per frame.
  void WriteNext() {
    constexpr size_t kMaxFrames = 64, kMaxBytes = size_t{1} << 20;
    write_buffers_.clear();
    size_t bytes = 0;
    for (const auto& frame : outbox_) {
      if (!write_buffers_.empty() &&
          (write_buffers_.size() == kMaxFrames || bytes + frame.size() > kMaxBytes)) {
        break;
      }
      write_buffers_.push_back(asio::buffer(frame));
      bytes += frame.size();
    }
    asio::async_write(
        socket_, write_buffers_,
        [self = shared_from_this(), frames = write_buffers_.size(), bytes](
            const asio::error_code& ec, size_t n) {
          self->server_.metrics_.BytesSent(n);
          if (ec) return self->Close();
          self->unsent_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
          for (size_t i = 0; i < frames; ++i) self->outbox_.pop_front();
          if (!self->closed_) self->server_.unsent_frames_ -= static_cast<int>(frames);
          if (!self->outbox_.empty()) {
            self->WriteNext();
          } else if (self->closing_ && self->inflight_ == 0) {
            self->Close();
          }
          if (self->paused_) self->ReadHeader();
        });
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    closed_flag_.store(true, std::memory_order_relaxed);
    server_.unsent_frames_ -= static_cast<int>(outbox_.size());  // never to be sent
    asio::error_code ec;
    idle_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    --server_.connections_;
    if (accepted_) server_.metrics_.ConnectionClosed();
  }

  Server::Impl& server_;
  ClientStream socket_;
  asio::steady_timer idle_;
  uint8_t header_[4];
  std::vector<uint8_t> body_;
  std::deque<std::vector<uint8_t>> outbox_;
  std::vector<asio::const_buffer> write_buffers_;  // the write in flight: outbox_'s first frames
  SteadyTime read_at_{};  // when the current frame was read
  SteadyTime handshake_deadline_{};
  int inflight_ = 0;
  bool paused_ = false, closing_ = false, closed_ = false, hello_done_ = false, loopback_ = false;
  bool reading_ = false;   // a read is outstanding
  bool read_eof_ = false;  // the client shut down its sending side
  bool accepted_ = false;  // not refused over the connection limit
  std::atomic<bool> closed_flag_{false};  // closed_, for other threads
  std::atomic<size_t> unsent_bytes_{0};   // frames queued or in outbox_, not yet written
  Role role_ = Role::kReadOnly;
  std::string address_;                               // the client's IP address
  std::string client_name_;                           // from its Hello
  std::optional<net::TokenStore::Challenge> scram_;  // a SCRAM challenge is out
};

void Server::Impl::AuthFailed(const std::shared_ptr<Connection>& conn, const std::string& address,
                              const std::string& user, const std::string& client_name,
                              std::string reason, std::vector<uint8_t> frame, uint64_t id,
                              SteadyTime read_at) {
  if (auth_limiter_.Failed(address, std::chrono::steady_clock::now())) {
    Log(StrCat("auth: ", options_.auth_max_failures, " failed authentications from ", address,
               " (the last as '", Printable(user, 64), "'); refusing it for ",
               options_.auth_lockout_seconds, " s"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back({conn, std::move(frame), read_at,
                      [this, address, user, client_name, reason = std::move(reason)](Timestamp now) {
                        return AuditAuthFailure(engine_, now, address, user, client_name, reason);
                      },
                      static_cast<uint8_t>(wire::Op::ScramProof), id});
    queued_.store(tasks_.size(), std::memory_order_release);
  }
  cv_.notify_one();
}

void Server::Impl::Log(const std::string& line) const {
  if (options_.log) return options_.log(line);
  std::fprintf(stderr, "voxdb: %s\n", line.c_str());
  std::fflush(stderr);
}

absl::Status Server::Impl::Start() {
  if (options_.report_threads < 1 || options_.max_reports < 1) {
    return absl::InvalidArgumentError("report_threads and max_reports must be at least 1");
  }
  if (options_.max_connections < 1 || options_.max_inflight_per_connection < 1 ||
      options_.idle_timeout_seconds < 1 || options_.handshake_timeout_seconds < 1 ||
      options_.max_frame_bytes < 1024) {
    return absl::InvalidArgumentError(
        "max_connections, max_inflight, idle and handshake timeouts must be at least 1, and "
        "max_frame_bytes at least 1024");
  }
  if (options_.auth_max_failures < 1 || options_.auth_lockout_seconds < 1) {
    return absl::InvalidArgumentError("auth_max_failures and auth_lockout_seconds must be at least 1");
  }
  if (!options_.token_file.empty()) {
    VOX_ASSIGN_OR_RETURN(tokens_, net::TokenStore::Load(options_.token_file,
                                                        [this](const std::string& l) { Log(l); }));
  }
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate file and a key file");
  }
  if (!options_.tls_cert_file.empty()) {
    VOX_ASSIGN_OR_RETURN(tls_, MakeTlsContext(options_));
  }
  VOX_RETURN_IF_ERROR(RaiseFileLimit(options_.max_connections));
  asio::error_code ec;
  const auto address = asio::ip::make_address(options_.address, ec);
  if (ec) return absl::InvalidArgumentError(StrCat("bad listen address ", options_.address));
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", options_.address, ":", options_.port, ": ", ec.message()));
  }
  port_ = acceptor_.local_endpoint().port();
  if (!options_.metrics_listen.empty()) {
    auto where = SplitHostPort(options_.metrics_listen);
    if (!where.ok()) {
      return absl::InvalidArgumentError(StrCat("metrics: ", ToStd(where.status().message())));
    }
    VOX_ASSIGN_OR_RETURN(
        metrics_endpoint_,
        MetricsEndpoint::Start(io_, {.address = where->first, .port = where->second},
                               [this] { return RenderPrometheus(metrics_.Snapshot()); }));
  }
  if (engine_.streams != nullptr) {
    engine_.streams->set_on_commit([this] { release_cv_.notify_one(); });
    metrics_.set_streams([streams = engine_.streams] {
      const ChangeStreams::Stats s = streams->stats();
      return MetricsSnapshot::Streams{.subscriptions = s.subscriptions,
                                      .history_bytes = s.history_bytes,
                                      .history_after_lsn = s.history_after_lsn,
                                      .events_delivered = s.events_delivered,
                                      .frames_pushed = s.frames_pushed,
                                      .fell_behind = s.fell_behind,
                                      .catchups = s.catchups,
                                      .wal_hold_lsn = s.wal_hold_lsn};
    });
  }
  Accept();
  // Named for `top -H` and debuggers.
  engine_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vox-engine");
    EngineLoop();
  });
  releaser_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vox-release");
    ReleaseDurable();
  });
  for (int i = 0; i < options_.report_threads; ++i) {
    report_threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "vox-report");
      ReportLoop();
    });
  }
  network_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "vox-net");
    auto guard = asio::make_work_guard(io_);
    const auto spin = std::chrono::microseconds(options_.spin_us);
    while (!io_.stopped()) {
      // Handlers while there are any; then keep polling for `spin` before
      // blocking in epoll (ServerOptions::spin_us).
      auto idle_since = std::chrono::steady_clock::now();
      while (spin.count() > 0 && !io_.stopped()) {
        const auto now = std::chrono::steady_clock::now();
        if (io_.poll() > 0) {
          idle_since = now;
        } else if (now - idle_since >= spin) {
          break;
        } else {
          CpuRelax();
        }
      }
      io_.run_one();
    }
  });
  return absl::OkStatus();
}

void Server::Impl::Accept() {
  acceptor_.async_accept([this](const asio::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stopped
    if (ec) {
      // Out of file descriptors (or memory): the pending connection stays
      // in the listen queue; try again shortly rather than stop accepting.
      metrics_.ConnectionRefused();
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(50));
      timer->async_wait([this, timer](const asio::error_code& e) {
        if (!e) Accept();
      });
      return;
    }
    if (connections_ >= options_.max_connections) {
      auto conn = std::make_shared<Connection>(*this, std::move(socket));
      ++connections_;
      metrics_.ConnectionRefused();
      conn->Write(net::ErrorFrame(
          0, absl::ResourceExhaustedError(StrCat("too many connections (", options_.max_connections,
                                                 "); try again later"))));
      conn->CloseAfterWrites();
    } else {
      socket.set_option(tcp::no_delay(true));
      ++connections_;
      std::make_shared<Connection>(*this, std::move(socket))->Start();
    }
    Accept();
  });
}

void Server::Impl::Enqueue(std::shared_ptr<Connection> conn, std::vector<uint8_t> request,
                           SteadyTime read_at) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back({std::move(conn), std::move(request), read_at});
    queued_.store(tasks_.size(), std::memory_order_release);
  }
  cv_.notify_one();
}

void Server::Impl::Send(const std::shared_ptr<Connection>& conn, std::vector<uint8_t> frame,
                        uint8_t op, SteadyTime read_at) {
  metrics_.RequestDone(op, ResponseCode(frame), MicrosSince(read_at));
  asio::post(io_, [conn, frame = std::move(frame)]() mutable { conn->Send(std::move(frame)); });
}

void Server::Impl::Release(const std::shared_ptr<Connection>& conn, std::vector<uint8_t> frame,
                           uint64_t lsn, uint64_t id, uint8_t op, SteadyTime read_at) {
  if (lsn == 0 || engine_.wal == nullptr ||
      engine_.wal->WaitAcknowledged(lsn, std::chrono::microseconds(0)) >= lsn) {
    Send(conn, std::move(frame), op, read_at);
  } else {
    gate_.Add({lsn, conn, std::move(frame), id, op, read_at});
    release_cv_.notify_one();
  }
}

void Server::Impl::QueueReport(ReportTask task) {
  {
    std::lock_guard<std::mutex> lock(reports_mu_);
    if (reports_in_flight_ < options_.max_reports) {
      ++reports_in_flight_;
      reports_.push_back(std::move(task));
      reports_cv_.notify_one();
      return;
    }
  }
  task.run = nullptr;  // releases its snapshot
  Send(task.conn,
       net::ErrorFrame(task.id, absl::ResourceExhaustedError(
                                    StrCat("too many reports running (", options_.max_reports,
                                           " queued or running); try again later"))),
       task.op, task.read_at);
}

// Computes queued reports, one at a time per thread. Once the server stops,
// what is still queued is answered UNAVAILABLE without running.
void Server::Impl::ReportLoop() {
  while (true) {
    ReportTask task;
    bool stopping = false;
    {
      std::unique_lock<std::mutex> lock(reports_mu_);
      reports_cv_.wait(lock, [&] { return reports_stopping_ || !reports_.empty(); });
      if (reports_.empty()) return;  // stopping, nothing left
      task = std::move(reports_.front());
      reports_.pop_front();
      stopping = reports_stopping_;
    }
    if (!stopping) {
      std::vector<uint8_t> frame = task.run();
      task.run = nullptr;  // releases the snapshot before the answer waits
      Release(task.conn, std::move(frame), task.lsn, task.id, task.op, task.read_at);
    } else {
      task.run = nullptr;
      Send(task.conn,
           net::ErrorFrame(
               task.id, absl::UnavailableError("the server is stopping: the report did not run")),
           task.op, task.read_at);
    }
    std::lock_guard<std::mutex> lock(reports_mu_);
    --reports_in_flight_;
  }
}

void Server::Impl::EngineLoop() {
  const auto spin = std::chrono::microseconds(options_.spin_us);
  while (true) {
    Task task;
    // Out of work: look for more for a while before sleeping (ServerOptions::spin_us).
    if (spin.count() > 0 && queued_.load(std::memory_order_acquire) == 0) {
      const auto until = std::chrono::steady_clock::now() + spin;
      while (queued_.load(std::memory_order_acquire) == 0 &&
             std::chrono::steady_clock::now() < until) {
        CpuRelax();
      }
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty() && stopping_) return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (engine_.periodic && now - last_periodic_ >= std::chrono::seconds(1)) {
      last_periodic_ = now;
      engine_.periodic();
    }
    if (now - last_sample_ >= std::chrono::seconds(1)) {
      // Rows every second; bytes (O(index groups)) as often as keeps them
      // under 1% of the engine thread's time, at most every second.
      const bool with_bytes = now - last_bytes_sample_ >= bytes_sample_every_;
      last_sample_ = now;
      const double took = metrics_.SampleTables(*engine_.db, with_bytes);
      if (with_bytes) {
        last_bytes_sample_ = now;
        bytes_sample_every_ = std::max<std::chrono::steady_clock::duration>(
            std::chrono::seconds(1),
            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                std::chrono::duration<double>(100 * took)));
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.empty()) continue;
      task = std::move(tasks_.front());
      tasks_.pop_front();
      queued_.store(tasks_.size(), std::memory_order_release);
    }
    // The transaction clock: wall time, never going backwards.
    last_now_ = std::max(last_now_ + 1, WallClockMicros());
    if (task.internal) {  // the server's own work (a failed authentication's audit row)
      const uint64_t lsn = task.internal(last_now_);
      Release(task.conn, std::move(task.request), lsn, task.internal_id, task.internal_op,
              task.read_at);
      continue;
    }
    const wire::Request* req = wire::GetSizePrefixedRequest(task.request.data());
    const auto op = static_cast<uint8_t>(req->op_type());
    if (req->op_type() == wire::Op::Subscribe || req->op_type() == wire::Op::Unsubscribe) {
      StreamOp(task.conn, *req, task.read_at);  // answered at once, never gated
      continue;
    }
    net::Dispatched d = net::Dispatch(engine_, *req, task.conn->role(), last_now_);
    if (d.deferred) {
      QueueReport({task.conn, std::move(d.deferred), d.needs_lsn, req->id(), op, task.read_at});
    } else {
      Release(task.conn, std::move(d.frame), d.needs_lsn, req->id(), op, task.read_at);
    }
  }
}

void Server::Impl::StreamOp(const std::shared_ptr<Connection>& conn, const wire::Request& req,
                            SteadyTime read_at) {
  const auto op = static_cast<uint8_t>(req.op_type());
  std::optional<std::vector<uint8_t>> frame = StreamAnswer(conn, req, read_at);
  if (frame) Send(conn, *std::move(frame), op, read_at);
}

std::optional<std::vector<uint8_t>> Server::Impl::StreamAnswer(
    const std::shared_ptr<Connection>& conn, const wire::Request& req, SteadyTime read_at) {
  const uint64_t id = req.id();
  if (engine_.streams == nullptr) {
    return net::ErrorFrame(id, absl::FailedPreconditionError("this server has no change streams"));
  }
  if (const wire::Unsubscribe* u = req.op_as_Unsubscribe()) {
    // The answer goes out before the stream's last batch can.
    const absl::Status s =
        engine_.streams->Unsubscribe(conn.get(), u->subscription(), [&] {
          flatbuffers::FlatBufferBuilder fbb(64);
          auto empty = wire::CreateEmpty(fbb);
          wire::ResponseBuilder rb(fbb);
          rb.add_id(id);
          rb.add_code(wire::StatusCode::OK);
          rb.add_result_type(wire::Result::Empty);
          rb.add_result(empty.Union());
          fbb.FinishSizePrefixed(rb.Finish());
          Send(conn, {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()},
               static_cast<uint8_t>(req.op_type()), read_at);
        });
    if (!s.ok()) return net::ErrorFrame(id, s);
    return std::nullopt;
  }
  const wire::Subscribe* sub = req.op_as_Subscribe();
  if (sub == nullptr) return net::ErrorFrame(id, absl::InvalidArgumentError("no operation"));
  const Database& db = *engine_.db;
  const int given = (sub->room_id() != nullptr) + (sub->user_id() != nullptr) +
                    (sub->table() != nullptr && sub->table()->size() > 0);
  if (given != 1) {
    return net::ErrorFrame(id, absl::InvalidArgumentError(
                                   "Subscribe needs exactly one of room_id, user_id and table "
                                   "(\"*\": every table)"));
  }
  StreamFilter filter;
  if (const wire::Uuid* room = sub->room_id()) {
    filter = {.kind = StreamFilter::Kind::kRoom, .id = Uuid{room->hi(), room->lo()}};
    if (db.table(TableId::rooms).FindById(filter.id) == kNoRow) {
      return net::ErrorFrame(
          id, absl::NotFoundError(StrCat("no room ", FormatUuid(filter.id))));
    }
  } else if (const wire::Uuid* user = sub->user_id()) {
    filter = {.kind = StreamFilter::Kind::kUser, .id = Uuid{user->hi(), user->lo()}};
    if (db.table(TableId::users).FindById(filter.id) == kNoRow) {
      return net::ErrorFrame(
          id, absl::NotFoundError(StrCat("no user ", FormatUuid(filter.id))));
    }
  } else if (sub->table()->string_view() == "*") {
    filter = {.kind = StreamFilter::Kind::kAllTables};
  } else {
    absl::StatusOr<TableId> table = db.FindTable(sub->table()->string_view());
    if (!table.ok()) return net::ErrorFrame(id, table.status());
    filter = {.kind = StreamFilter::Kind::kTable, .table = *table};
  }
  std::optional<uint64_t> from;
  if (sub->from_lsn() < -1) {
    return net::ErrorFrame(id, absl::InvalidArgumentError(
                                   "from_lsn is an LSN, or -1 for \"from now\""));
  }
  if (sub->from_lsn() >= 0) from = static_cast<uint64_t>(sub->from_lsn());
  // The answer goes out (is posted to the network thread) before the
  // subscription can be delivered to, so it precedes the first batch.
  uint64_t start = 0;
  absl::StatusOr<uint64_t> subscription = engine_.streams->Subscribe(
      conn, id, filter, from, &start, [&](uint64_t subscription, uint64_t start_lsn) {
        flatbuffers::FlatBufferBuilder fbb(128);
        auto result = wire::CreateSubscribeResult(fbb, subscription, start_lsn);
        wire::ResponseBuilder rb(fbb);
        rb.add_id(id);
        rb.add_code(wire::StatusCode::OK);
        rb.add_result_type(wire::Result::SubscribeResult);
        rb.add_result(result.Union());
        fbb.FinishSizePrefixed(rb.Finish());
        Send(conn, {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()},
             static_cast<uint8_t>(req.op_type()), read_at);
      });
  if (!subscription.ok()) return net::ErrorFrame(id, subscription.status());
  release_cv_.notify_one();
  return std::nullopt;
}

// Releases gated responses as the WAL acknowledges what they saw (or fails
// them all if the log stopped), and pushes change streams' events as the
// WAL makes them durable.
void Server::Impl::ReleaseDurable() {
  ChangeStreams* const streams = engine_.streams;
  // When every subscription with events waiting has a full connection,
  // look again only after a while (not in a busy loop).
  auto streams_idle_until = std::chrono::steady_clock::now();
  auto stream_work = [&] {
    return streams != nullptr && std::chrono::steady_clock::now() >= streams_idle_until &&
           streams->HasWork();
  };
  while (true) {
    {
      std::unique_lock<std::mutex> lock(release_mu_);
      release_cv_.wait_for(lock, std::chrono::milliseconds(5),
                           [&] { return stopped_ || gate_.MinPending() != 0 || stream_work(); });
      if (stopped_) return;
    }
    uint64_t target = gate_.MinPending();
    const bool deliver = stream_work();
    auto deliver_up_to = [&](uint64_t durable) {
      if (!streams->Deliver(durable)) {
        streams_idle_until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1);
      }
    };
    if (engine_.wal == nullptr) {
      if (deliver) deliver_up_to(UINT64_MAX);
      continue;
    }
    if (deliver) {
      const uint64_t last = streams->stats().last_lsn;
      target = target == 0 ? last : std::min(target, last);
    }
    if (target == 0) {  // nothing committed yet: only ends to push
      if (deliver) deliver_up_to(0);
      continue;
    }
    const uint64_t acked = engine_.wal->WaitAcknowledged(target, std::chrono::milliseconds(5));
    const absl::Status wal = engine_.wal->status();
    // Answers first: a writer's acknowledgement must not wait behind the
    // fan-out of its own events to every subscriber.
    for (DurabilityGate::Pending& p : gate_.Take(acked, !wal.ok())) {
      Send(p.conn, wal.ok() ? std::move(p.frame) : net::ErrorFrame(p.id, wal), p.op, p.read_at);
    }
    if (deliver && wal.ok()) deliver_up_to(acked);
    if (!wal.ok() && streams != nullptr && streams->stats().subscriptions > 0) {
      streams->EndAll(StrCat("the WAL stopped (", wal.message(),
                             "): nothing more will be durable"));
    }
  }
}

void Server::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  asio::post(io_, [this] {
    asio::error_code ec;
    acceptor_.close(ec);
    if (metrics_endpoint_) metrics_endpoint_->Close();
  });
  cv_.notify_all();
  if (engine_thread_.joinable()) engine_thread_.join();  // finishes queued requests
  {
    std::lock_guard<std::mutex> lock(reports_mu_);
    reports_stopping_ = true;
  }
  reports_cv_.notify_all();
  for (std::thread& t : report_threads_) t.join();  // running reports finish
  if (engine_.wal) (void)engine_.wal->Sync();
  {
    std::lock_guard<std::mutex> lock(release_mu_);
    stopped_ = true;
  }
  release_cv_.notify_all();
  if (releaser_.joinable()) releaser_.join();
  for (auto& p : gate_.Take(UINT64_MAX, false)) Send(p.conn, std::move(p.frame), p.op, p.read_at);
  if (engine_.streams != nullptr) {
    if (engine_.wal == nullptr || engine_.wal->status().ok()) {
      engine_.streams->Deliver(engine_.wal == nullptr ? UINT64_MAX : engine_.wal->durable_lsn());
    }
    engine_.streams->EndAll("the server is stopping");
    engine_.streams->set_on_commit(nullptr);
  }
  // Let the last responses go out (at most 2 s more), then stop the network
  // thread.
  asio::post(io_,
             [this] { StopWhenSent(std::chrono::steady_clock::now() + std::chrono::seconds(2)); });
  if (network_.joinable()) network_.join();
}

void Server::Impl::StopWhenSent(SteadyTime deadline) {
  if (unsent_frames_ <= 0 || std::chrono::steady_clock::now() >= deadline) {
    io_.stop();
    return;
  }
  auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(2));
  timer->async_wait([this, timer, deadline](const asio::error_code&) { StopWhenSent(deadline); });
}

void Server::Impl::Wait(bool handle_signals) {
  if (handle_signals) {
    asio::io_context signals_io;
    asio::signal_set signals(signals_io, SIGINT, SIGTERM);
    signals.async_wait([](const asio::error_code&, int) {});
    signals_io.run_one();
    Stop();
    return;
  }
  if (network_.joinable()) network_.join();
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }
uint16_t Server::port() const { return impl_->port(); }
uint16_t Server::metrics_port() const {
  return impl_->metrics_endpoint_ ? impl_->metrics_endpoint_->port() : 0;
}
const ServerMetrics& Server::metrics() const { return impl_->metrics_; }
void Server::Stop() { impl_->Stop(); }
void Server::Wait(bool handle_signals) { impl_->Wait(handle_signals); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options,
                                                      EngineParts engine) {
  auto impl = std::make_unique<Impl>(options, engine);
  VOX_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

}  // namespace vox
