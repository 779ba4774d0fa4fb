#include "net/client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "net/protocol.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox {

namespace fb = flatbuffers;
using Clock = std::chrono::steady_clock;

namespace {
constexpr uint32_t kMaxResponseBytes = 256u << 20;
}  // namespace

namespace client_internal {

struct Slot {
  uint64_t id = 0;
  Clock::time_point deadline;
  // Guarded by Connection::mu.
  bool done = false;
  absl::Status error;
  std::vector<uint8_t> frame;
};

// One socket and the requests in flight on it. Whoever waits for a response
// while no one else is reading becomes the reader ("leader/follower"): it
// reads frames and completes whichever slots they answer.
struct Connection {
  explicit Connection(int fd, int max_in_flight) : fd(fd), max_in_flight(max_in_flight) {}
  ~Connection() { ::close(fd); }

  const int fd;
  const int max_in_flight;

  std::mutex mu;
  std::condition_variable cv;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Slot>> pending;  // guarded by mu
  bool reading = false;                                          // guarded by mu
  absl::Status broken;  // guarded by mu; once set, every request fails with it
  uint64_t next_id = 1;  // guarded by mu

  std::mutex write_mu;  // one frame at a time on the socket

  // Only the reader touches these.
  std::vector<uint8_t> in = std::vector<uint8_t>(64 << 10);
  size_t have = 0;
};

namespace {

// Fails every request in flight with `why`. REQUIRES: conn.mu held.
void BreakLocked(Connection& conn, const absl::Status& why) {
  if (conn.broken.ok()) conn.broken = why;
  for (auto& [id, slot] : conn.pending) {
    slot->done = true;
    slot->error = conn.broken;
  }
  conn.pending.clear();
  ::shutdown(conn.fd, SHUT_RDWR);
  conn.cv.notify_all();
}

// Completes the slots answered by whole frames in conn.in. Returns an error
// for a frame the connection cannot survive.
absl::Status Deliver(Connection& conn) {
  size_t at = 0;
  absl::Status status;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> answers;
  while (conn.have - at >= 4) {
    uint32_t length;
    std::memcpy(&length, conn.in.data() + at, 4);
    if (length > kMaxResponseBytes) {
      status = absl::DataLossError("the server sent an oversized frame");
      break;
    }
    const size_t total = 4 + size_t{length};
    if (conn.have - at < total) {
      if (conn.in.size() < total) conn.in.resize(total);
      break;
    }
    // Copy out with the prefix: FlatBuffers alignment is relative to it.
    std::vector<uint8_t> frame(conn.in.begin() + at, conn.in.begin() + at + total);
    at += total;
    fb::Verifier verifier(frame.data(), frame.size());
    if (!verifier.VerifySizePrefixedBuffer<wire::Response>(nullptr)) {
      status = absl::DataLossError("the server sent a malformed response");
      break;
    }
    const auto* r = fb::GetSizePrefixedRoot<wire::Response>(frame.data());
    if (r->id() == 0) {  // a connection-level refusal; the server closes
      status = absl::Status(static_cast<absl::StatusCode>(r->code()),
                            r->message() == nullptr ? "" : r->message()->str());
      if (status.ok()) status = absl::UnknownError("the server closed the connection");
      break;
    }
    answers.emplace_back(r->id(), std::move(frame));
  }
  std::memmove(conn.in.data(), conn.in.data() + at, conn.have - at);
  conn.have -= at;

  std::lock_guard l(conn.mu);
  for (auto& [id, frame] : answers) {
    auto it = conn.pending.find(id);
    if (it == conn.pending.end()) continue;  // timed out already
    it->second->done = true;
    it->second->frame = std::move(frame);
    conn.pending.erase(it);
  }
  if (!status.ok()) BreakLocked(conn, status);
  conn.cv.notify_all();
  return status;
}

// Reads what the socket has, waiting for it up to `deadline`, and delivers
// complete frames. REQUIRES: the caller is the reader.
absl::Status ReadOnce(Connection& conn, Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  pollfd p{conn.fd, POLLIN, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 0, 1000)));
  if (ready < 0 && errno != EINTR) return absl::UnavailableError(StrCat("poll: ", std::strerror(errno)));
  if (ready <= 0) return absl::OkStatus();
  if (conn.have == conn.in.size()) conn.in.resize(conn.in.size() * 2);
  const ssize_t n = ::recv(conn.fd, conn.in.data() + conn.have, conn.in.size() - conn.have, 0);
  if (n == 0) return absl::UnavailableError("the server closed the connection");
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return absl::OkStatus();
    return absl::UnavailableError(StrCat("connection lost: ", std::strerror(errno)));
  }
  conn.have += static_cast<size_t>(n);
  return Deliver(conn);
}

// Waits, under `lock` on conn.mu, until `done()` or `deadline`, reading the
// socket whenever no one else is.
template <typename Pred>
absl::Status PumpUntil(Connection& conn, std::unique_lock<std::mutex>& lock, Pred done,
                       Clock::time_point deadline) {
  while (!done()) {
    if (!conn.broken.ok()) return conn.broken;
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError("the server did not answer in time");
    }
    if (conn.reading) {
      conn.cv.wait_until(lock, deadline);
      continue;
    }
    conn.reading = true;
    lock.unlock();
    absl::Status s = ReadOnce(conn, deadline);
    lock.lock();
    conn.reading = false;
    if (!s.ok()) BreakLocked(conn, s);
    conn.cv.notify_all();
  }
  return absl::OkStatus();
}

// Writes the whole frame; while the socket is full, reads answers (when no
// one else is) so that a server waiting for us to read cannot stall us.
absl::Status WriteFrame(Connection& conn, const uint8_t* data, size_t size,
                        Clock::time_point deadline) {
  std::lock_guard w(conn.write_mu);
  while (size > 0) {
    const ssize_t n = ::send(conn.fd, data, size, MSG_NOSIGNAL);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      return absl::UnavailableError(StrCat("send failed: ", std::strerror(errno)));
    }
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError("the server did not take the request in time");
    }
    bool read = false;
    {
      std::lock_guard l(conn.mu);
      if (!conn.reading) conn.reading = read = true;
    }
    pollfd p{conn.fd, static_cast<short>(POLLOUT | (read ? POLLIN : 0)), 0};
    ::poll(&p, 1, 100);
    absl::Status s;
    if (read && (p.revents & POLLIN) != 0) s = ReadOnce(conn, Clock::now());
    if (read) {
      std::lock_guard l(conn.mu);
      conn.reading = false;
      if (!s.ok()) BreakLocked(conn, s);
      conn.cv.notify_all();
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Dial(const ClientOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(
        StrCat("cannot resolve ", options.host, ": ", ::gai_strerror(rc)));
  }
  std::string error = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(options.timeout.count())) == 1 ? 0 : -1;
      int err = rc == 0 ? 0 : ETIMEDOUT;
      socklen_t len = sizeof(err);
      if (rc == 0) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        errno = err;
        rc = -1;
      }
    }
    if (rc < 0) {
      error = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    return absl::UnavailableError(
        StrCat("cannot connect to ", options.host, ":", options.port, ": ", error));
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

}  // namespace

absl::StatusOr<Reply> Wait(Connection& conn, Slot& slot) {
  std::unique_lock lock(conn.mu);
  absl::Status s = PumpUntil(conn, lock, [&] { return slot.done; }, slot.deadline);
  if (!slot.done) {
    // Timed out (or the connection broke before the slot was failed).
    conn.pending.erase(slot.id);
    slot.done = true;
    slot.error = s.ok() ? absl::UnknownError("no answer") : s;
  }
  if (!slot.error.ok()) return slot.error;
  if (slot.frame.empty()) return absl::FailedPreconditionError("Get() was already called");
  return Reply(std::move(slot.frame));
}

bool IsDone(Connection& conn, const Slot& slot) {
  std::lock_guard l(conn.mu);
  return slot.done;
}

}  // namespace client_internal

using client_internal::Connection;
using client_internal::Slot;

const wire::Response& Reply::response() const {
  return *fb::GetSizePrefixedRoot<wire::Response>(frame_.data());
}

absl::Status Reply::status() const {
  const wire::Response& r = response();
  if (r.code() == wire::StatusCode::OK) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(r.code()),
                      r.message() == nullptr ? "" : r.message()->str());
}

Client::~Client() = default;

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  if (options.max_in_flight < 1) return absl::InvalidArgumentError("max_in_flight must be >= 1");
  std::unique_ptr<Client> c(new Client);
  c->options_ = options;
  std::lock_guard l(c->mu_);
  VOX_RETURN_IF_ERROR(c->Reconnect());
  return c;
}

absl::Status Client::Reconnect() {
  conn_.reset();
  VOX_ASSIGN_OR_RETURN(int fd, client_internal::Dial(options_));
  auto conn = std::make_shared<Connection>(fd, options_.max_in_flight);
  conn_ = conn;
  Sent hello = SendOn(conn, [this](rpc::Builder& b) {
    auto op = wire::CreateHello(b, kProtocolVersion, b.CreateString(options_.token),
                                b.CreateString(options_.client_name));
    return rpc::Encoded{static_cast<uint8_t>(wire::Op::Hello), op.o};
  });
  absl::Status status = hello.failed;
  if (status.ok()) {
    absl::StatusOr<Reply> reply = client_internal::Wait(*conn, *hello.slot);
    status = reply.ok() ? reply->status() : reply.status();
    if (status.ok()) {
      const auto* r = reply->response().result_as_HelloResult();
      if (r == nullptr) {
        status = absl::InternalError("the server's Hello answer is not a HelloResult");
      } else {
        role_ = r->role() == nullptr ? "" : r->role()->str();
        server_version_ = r->server_version() == nullptr ? "" : r->server_version()->str();
        if (r->database_id() != nullptr) {
          database_id_ = Uuid{r->database_id()->hi(), r->database_id()->lo()};
        }
      }
    }
  }
  if (!status.ok()) conn_.reset();
  return status;
}

Client::Sent Client::SendEncoded(const std::function<rpc::Encoded(rpc::Builder&)>& encode) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard l(mu_);
    bool usable = conn_ != nullptr;
    if (usable) {
      std::lock_guard c(conn_->mu);
      usable = conn_->broken.ok();
    }
    if (!usable) {
      if (absl::Status s = Reconnect(); !s.ok()) return {nullptr, nullptr, s};
    }
    conn = conn_;
  }
  return SendOn(conn, encode);
}

Client::Sent Client::SendOn(const std::shared_ptr<Connection>& conn,
                            const std::function<rpc::Encoded(rpc::Builder&)>& encode) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  auto slot = std::make_shared<Slot>();
  slot->deadline = deadline;
  {
    // Room in the window first: never more than max_in_flight outstanding.
    std::unique_lock lock(conn->mu);
    absl::Status s = client_internal::PumpUntil(
        *conn, lock,
        [&] { return conn->pending.size() < static_cast<size_t>(conn->max_in_flight); },
        deadline);
    if (!s.ok()) return {nullptr, nullptr, s};
    slot->id = conn->next_id++;
    conn->pending.emplace(slot->id, slot);
  }
  fb::FlatBufferBuilder fbb(256);
  const rpc::Encoded op = encode(fbb);
  wire::RequestBuilder rb(fbb);
  rb.add_id(slot->id);
  rb.add_op_type(static_cast<wire::Op>(op.type));
  rb.add_op(fb::Offset<void>(op.offset));
  rb.add_read_unsynced(options_.read_unsynced);
  fbb.FinishSizePrefixed(rb.Finish());
  absl::Status s = client_internal::WriteFrame(*conn, fbb.GetBufferPointer(), fbb.GetSize(),
                                               deadline);
  if (!s.ok()) {
    std::lock_guard l(conn->mu);
    // A partly written frame leaves the stream unusable.
    client_internal::BreakLocked(*conn, s);
    return {nullptr, nullptr, s};
  }
  return {conn, std::move(slot), absl::OkStatus()};
}

absl::Status Client::Run(Batch& batch) {
  if (batch.encoders_.empty()) return absl::InvalidArgumentError("the batch is empty");
  if (batch.reply_->has_value()) return absl::FailedPreconditionError("the batch already ran");
  absl::StatusOr<Reply> reply = SendRaw([&batch](rpc::Builder& b) {
                                  std::vector<fb::Offset<wire::BatchOp>> ops;
                                  for (const auto& encode : batch.encoders_) {
                                    const rpc::Encoded op = encode(b);
                                    ops.push_back(wire::CreateBatchOp(
                                        b, static_cast<wire::Op>(op.type),
                                        fb::Offset<void>(op.offset)));
                                  }
                                  auto batch_op = wire::CreateBatch(b, b.CreateVector(ops));
                                  return rpc::Encoded{static_cast<uint8_t>(wire::Op::Batch),
                                                      batch_op.o};
                                }).Get();
  if (!reply.ok()) return reply.status();
  VOX_RETURN_IF_ERROR(reply->status());
  const auto* result = reply->response().result_as_BatchResult();
  if (result == nullptr || result->results() == nullptr ||
      result->results()->size() != batch.size()) {
    return absl::InternalError("the server's answer to a batch does not match it");
  }
  *batch.reply_ = *std::move(reply);
  return absl::OkStatus();
}

absl::StatusOr<const wire::Response*> Batch::Nested(const std::optional<Reply>& reply,
                                                    size_t index) {
  if (!reply.has_value()) return absl::FailedPreconditionError("the batch has not run");
  const wire::Response* r = reply->response().result_as_BatchResult()->results()->Get(index);
  if (r->code() != wire::StatusCode::OK) {
    return absl::Status(static_cast<absl::StatusCode>(r->code()),
                        r->message() == nullptr ? "" : r->message()->str());
  }
  return r;
}

Future<Reply> Client::SendRaw(const std::function<rpc::Encoded(rpc::Builder&)>& encode) {
  Sent sent = SendEncoded(encode);
  if (!sent.failed.ok()) return Future<Reply>(std::move(sent.failed));
  return Future<Reply>(std::move(sent.conn), std::move(sent.slot), nullptr);
}

}  // namespace vox
