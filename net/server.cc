#include "net/server.h"

#include <pthread.h>

#include <arpa/inet.h>

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "net/internal/dispatch.h"
#include "net/metrics.h"
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

// Compares without an early exit, so timing does not reveal the token.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

absl::StatusOr<std::vector<std::pair<std::string, Role>>> LoadTokens(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot read the token file ", path));
  std::vector<std::pair<std::string, Role>> tokens;
  std::string role, token;
  int line = 0;
  while (in >> role >> token) {
    ++line;
    Role r;
    if (role == "admin") {
      r = Role::kAdmin;
    } else if (role == "app") {
      r = Role::kApp;
    } else if (role == "readonly") {
      r = Role::kReadOnly;
    } else {
      return absl::InvalidArgumentError(
          StrCat(path, " line ", line, ": role '", role, "' is not admin, app or readonly"));
    }
    if (token.size() < 16) {
      return absl::InvalidArgumentError(
          StrCat(path, " line ", line, ": tokens must be at least 16 characters"));
    }
    tokens.emplace_back(token, r);
  }
  if (tokens.empty()) return absl::InvalidArgumentError(StrCat(path, " holds no tokens"));
  return tokens;
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
  absl::StatusOr<Role> Authenticate(std::string_view token, bool loopback) const;

  const ServerOptions options_;
  EngineParts engine_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  int connections_ = 0;
  int unsent_frames_ = 0;  // in open connections' outboxes (network thread)
  std::vector<std::pair<std::string, Role>> tokens_;
  ServerMetrics metrics_;
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;  // null when off

 private:
  struct Task {
    std::shared_ptr<Connection> conn;
    std::vector<uint8_t> request;
    SteadyTime read_at;
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
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)), idle_(server.io_) {}

  void Start() {
    accepted_ = true;
    server_.metrics_.ConnectionAccepted();
    asio::error_code ec;
    const auto remote = socket_.remote_endpoint(ec);
    loopback_ = !ec && remote.address().is_loopback();
    ReadHeader();
  }
  void Send(std::vector<uint8_t> frame) {
    --inflight_;
    Write(std::move(frame));
    if (paused_ && inflight_ < server_.options_.max_inflight_per_connection) {
      paused_ = false;
      ReadHeader();
    }
  }
  void Write(std::vector<uint8_t> frame) {
    if (closed_) return;  // nowhere to send it
    outbox_.push_back(std::move(frame));
    ++server_.unsent_frames_;
    if (outbox_.size() == 1) WriteNext();
  }
  void CloseAfterWrites() {
    closing_ = true;
    if (outbox_.empty()) Close();
  }
  Role role() const { return role_; }

 private:
  void ArmIdle() {
    idle_.expires_after(std::chrono::seconds(server_.options_.idle_timeout_seconds));
    idle_.async_wait([self = shared_from_this()](const asio::error_code& ec) {
      if (!ec) self->Close();
    });
  }
  void ReadHeader() {
    if (closing_) return;
    if (inflight_ >= server_.options_.max_inflight_per_connection) {
      paused_ = true;  // back-pressure: stop reading until answers go out
      return;
    }
    ArmIdle();
    asio::async_read(socket_, asio::buffer(header_, 4),
                     [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                       self->server_.metrics_.BytesReceived(n);
                       if (ec) return self->Close();
                       self->ReadBody();
                     });
  }
  void ReadBody() {
    uint32_t length;
    std::memcpy(&length, header_, 4);  // little-endian, as FlatBuffers writes it
    if (length == 0 || length > server_.options_.max_frame_bytes) {
      server_.metrics_.FrameOversized();
      Write(net::ErrorFrame(
          0, absl::ResourceExhaustedError(StrCat("frame of ", length, " bytes; the limit is ",
                                                 server_.options_.max_frame_bytes))));
      return CloseAfterWrites();
    }
    // Keep the size prefix in front: the buffer's alignment is relative to it.
    body_.resize(4 + size_t{length});
    std::memcpy(body_.data(), header_, 4);
    asio::async_read(socket_, asio::buffer(body_.data() + 4, length),
                     [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                       self->server_.metrics_.BytesReceived(n);
                       if (ec) return self->Close();
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
    if (!hello_done_) {
      if (req->op_type() != wire::Op::Hello) {
        WriteAnswer(req, net::ErrorFrame(req->id(), absl::UnauthenticatedError(
                                                        "the first request must be Hello")));
        return CloseAfterWrites();
      }
      const wire::Hello* hello = req->op_as_Hello();
      if (hello->protocol_version() != kProtocolVersion) {
        WriteAnswer(
            req, net::ErrorFrame(req->id(),
                                 absl::FailedPreconditionError(StrCat(
                                     "protocol version ", hello->protocol_version(),
                                     " is not supported; this server speaks ", kProtocolVersion))));
        return CloseAfterWrites();
      }
      auto role = server_.Authenticate(
          hello->token() ? std::string_view(hello->token()->data(), hello->token()->size())
                         : std::string_view(),
          loopback_);
      if (!role.ok()) {
        WriteAnswer(req, net::ErrorFrame(req->id(), role.status()));
        return CloseAfterWrites();
      }
      role_ = *role;
      hello_done_ = true;
      flatbuffers::FlatBufferBuilder fbb(256);
      const wire::Uuid id(server_.engine_.database_id.hi, server_.engine_.database_id.lo);
      auto result = wire::CreateHelloResult(fbb, kProtocolVersion, fbb.CreateString(kServerVersion),
                                            fbb.CreateString(net::RoleName(role_)), &id);
      wire::ResponseBuilder rb(fbb);
      rb.add_id(req->id());
      rb.add_code(wire::StatusCode::OK);
      rb.add_result_type(wire::Result::HelloResult);
      rb.add_result(result.Union());
      fbb.FinishSizePrefixed(rb.Finish());
      WriteAnswer(req, {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()});
      return ReadHeader();
    }
    ++inflight_;
    server_.Enqueue(shared_from_this(), std::move(body_), read_at_);
    body_ = {};
    ReadHeader();
  }
  // An answer made on the network thread (the handshake), counted as a request.
  void WriteAnswer(const wire::Request* req, std::vector<uint8_t> frame) {
    server_.metrics_.RequestDone(static_cast<uint8_t>(req->op_type()), ResponseCode(frame),
                                 MicrosSince(read_at_));
    Write(std::move(frame));
  }
  void WriteNext() {
    asio::async_write(socket_, asio::buffer(outbox_.front()),
                      [self = shared_from_this()](const asio::error_code& ec, size_t n) {
                        self->server_.metrics_.BytesSent(n);
                        if (ec) return self->Close();
                        self->outbox_.pop_front();
                        if (!self->closed_) --self->server_.unsent_frames_;
                        if (!self->outbox_.empty()) {
                          self->WriteNext();
                        } else if (self->closing_) {
                          self->Close();
                        }
                      });
  }
  void Close() {
    if (closed_) return;
    closed_ = true;
    server_.unsent_frames_ -= static_cast<int>(outbox_.size());  // never to be sent
    asio::error_code ec;
    idle_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    --server_.connections_;
    if (accepted_) server_.metrics_.ConnectionClosed();
  }

  Server::Impl& server_;
  tcp::socket socket_;
  asio::steady_timer idle_;
  uint8_t header_[4];
  std::vector<uint8_t> body_;
  std::deque<std::vector<uint8_t>> outbox_;
  SteadyTime read_at_{};  // when the current frame was read
  int inflight_ = 0;
  bool paused_ = false, closing_ = false, closed_ = false, hello_done_ = false, loopback_ = false;
  bool accepted_ = false;  // not refused over the connection limit
  Role role_ = Role::kReadOnly;
};

absl::StatusOr<Role> Server::Impl::Authenticate(std::string_view token, bool loopback) const {
  if (tokens_.empty()) {
    if (!loopback) {
      return absl::PermissionDeniedError("no tokens are configured: only loopback clients");
    }
    return Role::kAdmin;
  }
  std::optional<Role> found;
  for (const auto& [t, role] : tokens_) {
    if (ConstantTimeEquals(t, token)) found = role;  // no early exit
  }
  if (!found) return absl::UnauthenticatedError("unknown token");
  return *found;
}

absl::Status Server::Impl::Start() {
  if (options_.report_threads < 1 || options_.max_reports < 1) {
    return absl::InvalidArgumentError("report_threads and max_reports must be at least 1");
  }
  if (!options_.token_file.empty()) {
    VOX_ASSIGN_OR_RETURN(tokens_, LoadTokens(options_.token_file));
  }
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
    if (ec) return;  // stopped
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
    const wire::Request* req = wire::GetSizePrefixedRequest(task.request.data());
    // The transaction clock: wall time, never going backwards.
    last_now_ = std::max(last_now_ + 1, WallClockMicros());
    net::Dispatched d = net::Dispatch(engine_, *req, task.conn->role(), last_now_);
    const auto op = static_cast<uint8_t>(req->op_type());
    if (d.deferred) {
      QueueReport({task.conn, std::move(d.deferred), d.needs_lsn, req->id(), op, task.read_at});
    } else {
      Release(task.conn, std::move(d.frame), d.needs_lsn, req->id(), op, task.read_at);
    }
  }
}

// Releases gated responses as the WAL acknowledges what they saw (or fails
// them all if the log stopped).
void Server::Impl::ReleaseDurable() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(release_mu_);
      release_cv_.wait_for(lock, std::chrono::milliseconds(5),
                           [&] { return stopped_ || gate_.MinPending() != 0; });
      if (stopped_) return;
    }
    const uint64_t target = gate_.MinPending();
    if (target == 0 || engine_.wal == nullptr) continue;
    const uint64_t acked = engine_.wal->WaitAcknowledged(target, std::chrono::milliseconds(5));
    const absl::Status wal = engine_.wal->status();
    for (DurabilityGate::Pending& p : gate_.Take(acked, !wal.ok())) {
      Send(p.conn, wal.ok() ? std::move(p.frame) : net::ErrorFrame(p.id, wal), p.op, p.read_at);
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
