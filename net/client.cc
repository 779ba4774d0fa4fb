#include "net/client.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "net/protocol.h"
#include "net/scram.h"
#include "schema/str.h"
#include "schema/voxdb_generated.h"

namespace vox {

namespace fb = flatbuffers;
using Clock = std::chrono::steady_clock;

namespace {
constexpr uint32_t kMaxResponseBytes = 256u << 20;
}  // namespace

namespace client_internal {

// A request in flight. A call's slot takes one response and leaves
// `pending`; a stream's (ResponseStream) takes every response with its id,
// in order, and stays in `pending` until its last one.
struct Slot {
  uint64_t id = 0;
  Clock::time_point deadline;
  bool stream = false;  // set before the slot is shared
  // Guarded by Connection::mu.
  bool done = false;  // a call: answered or failed; a stream: nothing more will come
  absl::Status error;
  std::vector<uint8_t> frame;
  std::deque<std::vector<uint8_t>> frames;  // a stream's responses not yet taken
};

// One socket and the requests in flight on it. Whoever waits for a response
// while no one else is reading becomes the reader ("leader/follower"): it
// reads frames and completes whichever slots they answer.
struct Connection {
  // Takes `fd` and `ssl` (null: plain TCP).
  Connection(int fd, int max_in_flight, SSL* ssl = nullptr)
      : fd(fd), max_in_flight(max_in_flight), ssl(ssl) {}
  ~Connection() {
    if (ssl != nullptr) SSL_free(ssl);
    ::close(fd);
  }

  const int fd;
  const int max_in_flight;
  SSL* const ssl;
  // OpenSSL does not let one SSL read and write from two threads at once:
  // each (non-blocking) SSL_read / SSL_write holds this briefly.
  std::mutex ssl_mu;

  std::mutex mu;
  std::condition_variable cv;
  absl::flat_hash_map<uint64_t, std::shared_ptr<Slot>> pending;  // guarded by mu
  bool reading = false;                                          // guarded by mu
  absl::Status broken;  // guarded by mu; once set, every request fails with it
  // Stream slots in `pending` (they do not count against max_in_flight).
  size_t streams = 0;  // guarded by mu
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
  conn.streams = 0;
  ::shutdown(conn.fd, SHUT_RDWR);
  conn.cv.notify_all();
}

// Whether `r` is the last response of a stream: a refusal, or an
// EventBatch that says the stream ended.
bool EndsStream(const wire::Response& r) {
  if (r.code() != wire::StatusCode::OK) return true;
  const wire::EventBatch* batch = r.result_as_EventBatch();
  return batch != nullptr && batch->ended() != nullptr && batch->ended()->size() > 0;
}

// Completes the slots answered by whole frames in conn.in (queues a
// stream's). Returns an error for a frame the connection cannot survive.
absl::Status Deliver(Connection& conn) {
  size_t at = 0;
  absl::Status status;
  struct Answer {
    uint64_t id;
    bool ends_stream;
    std::vector<uint8_t> frame;
  };
  std::vector<Answer> answers;
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
    answers.push_back({r->id(), EndsStream(*r), std::move(frame)});
  }
  std::memmove(conn.in.data(), conn.in.data() + at, conn.have - at);
  conn.have -= at;

  std::lock_guard l(conn.mu);
  for (auto& [id, ends_stream, frame] : answers) {
    auto it = conn.pending.find(id);
    if (it == conn.pending.end()) continue;  // timed out (or a closed stream's)
    if (it->second->stream) {
      it->second->frames.push_back(std::move(frame));
      if (ends_stream) {
        it->second->done = true;
        conn.pending.erase(it);
        --conn.streams;
      }
      continue;
    }
    it->second->done = true;
    it->second->frame = std::move(frame);
    conn.pending.erase(it);
  }
  if (!status.ok()) BreakLocked(conn, status);
  conn.cv.notify_all();
  return status;
}

// The last OpenSSL error as text (the queue is then cleared).
std::string TlsError() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail";
  char text[256];
  ERR_error_string_n(e, text, sizeof(text));
  return text;
}

// What one non-blocking read or write did: `n` bytes; or none yet and
// `wait` (POLLIN/POLLOUT) says for what; or (n == 0, wait == 0) the server
// closed the stream; or `error`.
struct Io {
  size_t n = 0;
  short wait = 0;
  absl::Status error;
};

Io TlsIo(Connection& conn, int rc) {
  switch (SSL_get_error(conn.ssl, rc)) {
    case SSL_ERROR_WANT_READ:
      return {0, POLLIN, {}};
    case SSL_ERROR_WANT_WRITE:
      return {0, POLLOUT, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {};
    case SSL_ERROR_SYSCALL:
      if (errno == 0 || errno == ECONNRESET || errno == EPIPE) return {};
      return {0, 0, absl::UnavailableError(StrCat("connection lost: ", std::strerror(errno)))};
    default:
      return {0, 0, absl::UnavailableError(StrCat("TLS: ", TlsError()))};
  }
}

Io ReceiveSome(Connection& conn, void* data, size_t size) {
  if (conn.ssl != nullptr) {
    std::lock_guard l(conn.ssl_mu);
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_read(conn.ssl, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (rc > 0) return {static_cast<size_t>(rc), 0, {}};
    return TlsIo(conn, rc);
  }
  const ssize_t n = ::recv(conn.fd, data, size, 0);
  if (n > 0) return {static_cast<size_t>(n), 0, {}};
  if (n == 0) return {};
  if (errno == EAGAIN || errno == EINTR) return {0, POLLIN, {}};
  return {0, 0, absl::UnavailableError(StrCat("connection lost: ", std::strerror(errno)))};
}

Io SendSome(Connection& conn, const void* data, size_t size) {
  if (conn.ssl != nullptr) {
    std::lock_guard l(conn.ssl_mu);
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_write(conn.ssl, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (rc > 0) return {static_cast<size_t>(rc), 0, {}};
    Io io = TlsIo(conn, rc);
    if (io.wait == 0 && io.error.ok()) io.error = absl::UnavailableError("send failed: closed");
    return io;
  }
  const ssize_t n = ::send(conn.fd, data, size, MSG_NOSIGNAL);
  if (n > 0) return {static_cast<size_t>(n), 0, {}};
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return {0, POLLOUT, {}};
  return {0, 0, absl::UnavailableError(StrCat("send failed: ", std::strerror(errno)))};
}

// Whether TLS holds bytes already read from the socket (poll would not see them).
bool TlsBuffered(Connection& conn) {
  if (conn.ssl == nullptr) return false;
  std::lock_guard l(conn.ssl_mu);
  return SSL_pending(conn.ssl) > 0 || SSL_has_pending(conn.ssl) == 1;
}

// Reads what the socket has, waiting for it up to `deadline`, and delivers
// complete frames. REQUIRES: the caller is the reader.
absl::Status ReadOnce(Connection& conn, Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (!TlsBuffered(conn)) {
    pollfd p{conn.fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::clamp<int64_t>(left, 0, 1000)));
    if (ready < 0 && errno != EINTR) {
      return absl::UnavailableError(StrCat("poll: ", std::strerror(errno)));
    }
    if (ready <= 0) return absl::OkStatus();
  }
  if (conn.have == conn.in.size()) conn.in.resize(conn.in.size() * 2);
  const Io io = ReceiveSome(conn, conn.in.data() + conn.have, conn.in.size() - conn.have);
  if (!io.error.ok()) return io.error;
  if (io.n == 0) {
    if (io.wait == 0) return absl::UnavailableError("the server closed the connection");
    if (io.wait == POLLOUT) {  // TLS must write before it reads on
      pollfd p{conn.fd, POLLOUT, 0};
      ::poll(&p, 1, 10);
    }
    return absl::OkStatus();
  }
  conn.have += io.n;
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
    const Io io = SendSome(conn, data, size);
    if (io.n > 0) {
      data += io.n;
      size -= io.n;
      continue;
    }
    if (!io.error.ok()) return io.error;
    if (Clock::now() >= deadline) {
      return absl::DeadlineExceededError("the server did not take the request in time");
    }
    bool read = false;
    {
      std::lock_guard l(conn.mu);
      if (!conn.reading) conn.reading = read = true;
    }
    pollfd p{conn.fd, static_cast<short>(io.wait | (read ? POLLIN : 0)), 0};
    ::poll(&p, 1, 100);
    absl::Status s;
    if (read && ((p.revents & POLLIN) != 0 || TlsBuffered(conn))) {
      s = ReadOnce(conn, Clock::now());
    }
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

// OpenSSL's socket BIO writes with write(): a server that closed makes that
// raise SIGPIPE, which kills a program that did not ignore it. This one
// sends with MSG_NOSIGNAL, as the plain path does (libpq does the same).
int BioWrite(BIO* b, const char* data, int size) {
  int fd = -1;
  BIO_get_fd(b, &fd);
  errno = 0;
  const ssize_t n = ::send(fd, data, static_cast<size_t>(size), MSG_NOSIGNAL);
  BIO_clear_retry_flags(b);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(b);
  return static_cast<int>(n);
}
int BioRead(BIO* b, char* data, int size) {
  int fd = -1;
  BIO_get_fd(b, &fd);
  errno = 0;
  const ssize_t n = ::recv(fd, data, static_cast<size_t>(size), 0);
  BIO_clear_retry_flags(b);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(b);
  return static_cast<int>(n);
}
// The BIO method: the socket BIO's, with the two above. Never freed.
BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* method = [] {
    const BIO_METHOD* base = BIO_s_socket();
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK | BIO_TYPE_DESCRIPTOR,
                                 "voxdb socket");
    if (m == nullptr) return m;
    BIO_meth_set_write(m, BioWrite);
    BIO_meth_set_read(m, BioRead);
    BIO_meth_set_puts(m, BIO_meth_get_puts(base));
    BIO_meth_set_gets(m, BIO_meth_get_gets(base));
    BIO_meth_set_ctrl(m, BIO_meth_get_ctrl(base));
    BIO_meth_set_create(m, BIO_meth_get_create(base));
    BIO_meth_set_destroy(m, BIO_meth_get_destroy(base));
    BIO_meth_set_callback_ctrl(m, BIO_meth_get_callback_ctrl(base));
    return m;
  }();
  return method;
}

// TLS over the connected, non-blocking `fd`: the server's certificate must
// verify (options.tls_ca_file or the system's CAs) and name the host.
// Returns the SSL, which then owns nothing of `fd`.
absl::StatusOr<SSL*> StartTls(int fd, const ClientOptions& options) {
  const Clock::time_point deadline = Clock::now() + options.timeout;
  const std::string where = StrCat(options.host, ":", options.port);
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return absl::InternalError(StrCat("TLS: ", TlsError()));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const bool loaded = options.tls_ca_file.empty()
                          ? SSL_CTX_set_default_verify_paths(ctx) == 1
                          : SSL_CTX_load_verify_locations(ctx, options.tls_ca_file.c_str(),
                                                          nullptr) == 1;
  if (!loaded) {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(
        StrCat("cannot read the TLS CA file ", options.tls_ca_file, ": ", TlsError()));
  }
  SSL* ssl = SSL_new(ctx);
  SSL_CTX_free(ctx);  // the SSL holds its own reference
  if (ssl == nullptr) return absl::InternalError(StrCat("TLS: ", TlsError()));
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  BIO* bio = SocketBioMethod() == nullptr ? nullptr : BIO_new(SocketBioMethod());
  if (bio == nullptr) {
    SSL_free(ssl);
    return absl::InternalError(StrCat("TLS: ", TlsError()));
  }
  BIO_set_fd(bio, fd, BIO_NOCLOSE);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO
  const std::string name = options.tls_server_name.empty() ? options.host : options.tls_server_name;
  unsigned char ip[16];
  const bool is_ip = ::inet_pton(AF_INET, name.c_str(), ip) == 1 ||
                     ::inet_pton(AF_INET6, name.c_str(), ip) == 1;
  if (is_ip) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  }
  while (true) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_connect(ssl);
    if (rc == 1) return ssl;
    const int error = SSL_get_error(ssl, rc);
    short wait = 0;
    if (error == SSL_ERROR_WANT_READ) wait = POLLIN;
    if (error == SSL_ERROR_WANT_WRITE) wait = POLLOUT;
    if (wait == 0) {
      const long verify = SSL_get_verify_result(ssl);
      std::string why = verify != X509_V_OK
                            ? StrCat("the server's certificate does not verify (",
                                     X509_verify_cert_error_string(verify), ")")
                            : StrCat(TlsError(), " (is the server using TLS?)");
      if (error == SSL_ERROR_SYSCALL && verify == X509_V_OK) {
        why = "the server closed the connection during the TLS handshake (is it using TLS?)";
      }
      SSL_free(ssl);
      return absl::UnavailableError(StrCat("TLS handshake with ", where, " failed: ", why));
    }
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      SSL_free(ssl);
      return absl::DeadlineExceededError(StrCat("TLS handshake with ", where, " timed out"));
    }
    pollfd p{fd, wait, 0};
    ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
  }
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

namespace {

// The next response of a stream, reading the socket when no one else is.
absl::StatusOr<Reply> NextOfStream(Connection& conn, Slot& slot, Clock::time_point deadline) {
  std::unique_lock lock(conn.mu);
  absl::Status s =
      PumpUntil(conn, lock, [&] { return !slot.frames.empty() || slot.done; }, deadline);
  if (!slot.frames.empty()) {
    std::vector<uint8_t> frame = std::move(slot.frames.front());
    slot.frames.pop_front();
    return Reply(std::move(frame));
  }
  if (slot.done) {
    if (!slot.error.ok()) return slot.error;
    return absl::OutOfRangeError("the stream has ended");
  }
  return s.ok() ? absl::DeadlineExceededError("no response yet") : s;
}

// Stops taking a stream's responses.
void CloseStream(Connection& conn, Slot& slot) {
  std::lock_guard l(conn.mu);
  if (!slot.done) {
    auto it = conn.pending.find(slot.id);
    if (it != conn.pending.end() && it->second.get() == &slot) {
      conn.pending.erase(it);
      --conn.streams;
    }
    slot.done = true;
  }
  slot.frames.clear();
}

}  // namespace

}  // namespace client_internal

using client_internal::Connection;
using client_internal::Slot;

ResponseStream& ResponseStream::operator=(ResponseStream&& other) noexcept {
  if (this != &other) {
    Close();
    conn_ = std::move(other.conn_);
    slot_ = std::move(other.slot_);
  }
  return *this;
}

ResponseStream::~ResponseStream() { Close(); }

void ResponseStream::Close() {
  if (slot_ != nullptr) client_internal::CloseStream(*conn_, *slot_);
  slot_.reset();
  conn_.reset();
}

absl::StatusOr<Reply> ResponseStream::Next(std::chrono::milliseconds timeout) {
  if (slot_ == nullptr) return absl::FailedPreconditionError("no stream");
  return client_internal::NextOfStream(*conn_, *slot_, Clock::now() + timeout);
}

bool ResponseStream::finished() const {
  if (slot_ == nullptr) return true;
  std::lock_guard l(conn_->mu);
  return slot_->done && slot_->frames.empty();
}

const wire::Response& Reply::response() const {
  return *fb::GetSizePrefixedRoot<wire::Response>(frame_.data());
}

absl::Status Reply::status() const {
  const wire::Response& r = response();
  if (r.code() == wire::StatusCode::OK) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(r.code()),
                      r.message() == nullptr ? "" : r.message()->str());
}

Client::~Client() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
  OPENSSL_cleanse(cached_salted_password_.data(), cached_salted_password_.size());
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  if (options.max_in_flight < 1) return absl::InvalidArgumentError("max_in_flight must be >= 1");
  std::unique_ptr<Client> c(new Client);
  c->options_ = options;
  // The credentials: "name:secret" or a legacy unnamed token; or user + secret.
  if (!options.token.empty() && (!options.user.empty() || !options.secret.empty())) {
    return absl::InvalidArgumentError("give token, or user and secret, not both");
  }
  if (!options.token.empty()) {
    const size_t colon = options.token.find(':');
    c->user_ = colon == std::string::npos ? "" : options.token.substr(0, colon);
    c->secret_ = colon == std::string::npos ? options.token : options.token.substr(colon + 1);
  } else {
    c->user_ = options.user;
    c->secret_ = options.secret;
  }
  OPENSSL_cleanse(c->options_.token.data(), c->options_.token.size());
  OPENSSL_cleanse(c->options_.secret.data(), c->options_.secret.size());
  c->options_.token.clear();
  c->options_.secret.clear();
  c->has_credentials_ = !c->user_.empty() || !c->secret_.empty();
  if (c->has_credentials_ && c->secret_.empty()) {
    return absl::InvalidArgumentError(StrCat("no secret for '", c->user_, "'"));
  }
  if (!c->user_.empty() && !scram::IsValidName(c->user_)) {
    return absl::InvalidArgumentError(
        "a token name is 1-64 letters, digits, '.', '_', '-' or '@' (the credential is "
        "\"name:secret\")");
  }
  std::lock_guard l(c->mu_);
  VOX_RETURN_IF_ERROR(c->Reconnect());
  return c;
}

absl::Status Client::Reconnect() {
  conn_.reset();
  VOX_ASSIGN_OR_RETURN(int fd, client_internal::Dial(options_));
  SSL* ssl = nullptr;
  if (options_.tls) {
    absl::StatusOr<SSL*> tls = client_internal::StartTls(fd, options_);
    if (!tls.ok()) {
      ::close(fd);
      return tls.status();
    }
    ssl = *tls;
  }
  auto conn = std::make_shared<Connection>(fd, options_.max_in_flight, ssl);
  conn_ = conn;
  absl::StatusOr<Reply> reply = Handshake(conn);
  absl::Status status = reply.ok() ? absl::OkStatus() : reply.status();
  if (status.ok()) {
    const auto* r = reply->response().result_as_HelloResult();
    role_ = r->role() == nullptr ? "" : r->role()->str();
    server_version_ = r->server_version() == nullptr ? "" : r->server_version()->str();
    if (r->database_id() != nullptr) {
      database_id_ = Uuid{r->database_id()->hi(), r->database_id()->lo()};
    }
  }
  if (!status.ok()) conn_.reset();
  return status;
}

absl::StatusOr<Reply> Client::Handshake(const std::shared_ptr<Connection>& conn) {
  std::string client_nonce;
  if (has_credentials_) {
    VOX_ASSIGN_OR_RETURN(client_nonce, scram::MakeNonce());
  }
  auto call = [&](const std::function<rpc::Encoded(rpc::Builder&)>& encode) -> absl::StatusOr<Reply> {
    Sent sent = SendOn(conn, encode);
    if (!sent.failed.ok()) return sent.failed;
    absl::StatusOr<Reply> reply = client_internal::Wait(*conn, *sent.slot);
    if (reply.ok()) VOX_RETURN_IF_ERROR(reply->status());
    return reply;
  };
  absl::StatusOr<Reply> hello = call([&](rpc::Builder& b) {
    auto op = wire::CreateHello(b, kProtocolVersion, 0, b.CreateString(options_.client_name),
                                has_credentials_ ? b.CreateString(user_) : 0,
                                has_credentials_ ? b.CreateString(client_nonce) : 0);
    return rpc::Encoded{static_cast<uint8_t>(wire::Op::Hello), op.o};
  });
  if (!hello.ok()) return hello;
  if (hello->response().result_type() == wire::Result::HelloResult) {
    if (has_credentials_) {
      return absl::UnauthenticatedError(
          "the server asked for no credentials, so it did not prove it holds this token's "
          "verifier; refusing it (connect without a token to a server without tokens)");
    }
    return hello;
  }
  const wire::ScramChallenge* challenge = hello->response().result_as_ScramChallenge();
  if (challenge == nullptr) {
    return absl::InternalError("the server's answer to Hello is neither HelloResult nor a challenge");
  }
  if (!has_credentials_) {
    return absl::UnauthenticatedError("the server requires a token (docs/security.md)");
  }
  const std::string nonce = challenge->nonce() == nullptr ? "" : challenge->nonce()->str();
  const std::string salt =
      challenge->salt() == nullptr
          ? ""
          : std::string(reinterpret_cast<const char*>(challenge->salt()->data()),
                        challenge->salt()->size());
  const int iterations = static_cast<int>(
      std::min<uint32_t>(challenge->iterations(), static_cast<uint32_t>(INT32_MAX)));
  if (!nonce.starts_with(client_nonce) || nonce.size() <= client_nonce.size() ||
      !scram::IsValidNonce(nonce) || salt.empty() || salt.size() > 1024 ||
      iterations < scram::kMinIterations || iterations > scram::kMaxIterations) {
    return absl::UnauthenticatedError("the server's SCRAM challenge is malformed; refusing it");
  }
  if (salt != cached_salt_ || iterations != cached_iterations_) {
    cached_salted_password_ = scram::SaltedPassword(secret_, salt, iterations);
    cached_salt_ = salt;
    cached_iterations_ = iterations;
  }
  const scram::ClientFinal final_message = scram::ClientProof(
      cached_salted_password_, scram::AuthMessage(user_, client_nonce, nonce, salt, iterations));
  absl::StatusOr<Reply> done = call([&](rpc::Builder& b) {
    auto op = wire::CreateScramProof(
        b, b.CreateString(nonce),
        b.CreateVector(reinterpret_cast<const uint8_t*>(final_message.proof.data()),
                       final_message.proof.size()));
    return rpc::Encoded{static_cast<uint8_t>(wire::Op::ScramProof), op.o};
  });
  if (!done.ok()) return done;
  const wire::HelloResult* r = done->response().result_as_HelloResult();
  if (r == nullptr) return absl::InternalError("the server's answer to the proof is not a HelloResult");
  const std::string_view signature =
      r->server_signature() == nullptr
          ? std::string_view()
          : std::string_view(reinterpret_cast<const char*>(r->server_signature()->data()),
                             r->server_signature()->size());
  if (!scram::SecureEquals(signature, final_message.server_signature)) {
    return absl::UnauthenticatedError(
        "the server's SCRAM signature does not match: it does not hold this token's verifier; "
        "refusing it");
  }
  return done;
}

Client::Sent Client::SendEncoded(const std::function<rpc::Encoded(rpc::Builder&)>& encode,
                                 bool stream) {
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
  return SendOn(conn, encode, stream);
}

Client::Sent Client::SendOn(const std::shared_ptr<Connection>& conn,
                            const std::function<rpc::Encoded(rpc::Builder&)>& encode,
                            bool stream) {
  const Clock::time_point deadline = Clock::now() + options_.timeout;
  auto slot = std::make_shared<Slot>();
  slot->deadline = deadline;
  slot->stream = stream;
  {
    // Room in the window first: never more than max_in_flight outstanding.
    std::unique_lock lock(conn->mu);
    absl::Status s = client_internal::PumpUntil(
        *conn, lock,
        [&] {
          return conn->pending.size() - conn->streams < static_cast<size_t>(conn->max_in_flight);
        },
        deadline);
    if (!s.ok()) return {nullptr, nullptr, s};
    slot->id = conn->next_id++;
    conn->pending.emplace(slot->id, slot);
    if (stream) ++conn->streams;
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

absl::StatusOr<ResponseStream> Client::OpenStream(
    const std::function<rpc::Encoded(rpc::Builder&)>& encode) {
  Sent sent = SendEncoded(encode, /*stream=*/true);
  if (!sent.failed.ok()) return sent.failed;
  return ResponseStream(std::move(sent.conn), std::move(sent.slot));
}

}  // namespace vox
