// Raw sockets to a real server, for tests that send what a well-behaved
// client never would: bad frames, half-closed sockets, floods, silence.
// Plain POSIX sockets (blocking, with a receive timeout), so a test can
// hold thousands of them.
#ifndef VOXDB_TESTS_INTEGRATION_RAW_CONNECTION_H_
#define VOXDB_TESTS_INTEGRATION_RAW_CONNECTION_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "net/protocol.h"
#include "net/rpc.h"
#include "schema/types.h"
#include "schema/voxdb_generated.h"

namespace vox {

class RawConnection {
 public:
  // Connects to 127.0.0.1:port; a failed connect leaves fd() at -1.
  explicit RawConnection(uint16_t port, int receive_timeout_ms = 10000) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      close(fd_);
      fd_ = -1;
      return;
    }
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval tv{receive_timeout_ms / 1000, (receive_timeout_ms % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

  // Writes all of `bytes`; false once the server closed the connection.
  bool Send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }
  // The next frame's raw bytes (after the size prefix), or "" once the
  // server closed the connection (or nothing came within the timeout).
  std::string Receive() {
    uint32_t len = 0;
    if (!ReadFully(&len, 4)) return "";
    std::string body(len, '\0');
    return ReadFully(body.data(), len) ? body : "";
  }
  // True when the server closed the connection (end of stream or reset)
  // within the receive timeout.
  bool Closed() {
    char c;
    const ssize_t n = recv(fd_, &c, 1, 0);
    return n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE));
  }
  // No more requests: the server should answer what it got, then close.
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  // Ends both directions: wakes a thread blocked sending on it.
  void ShutdownBoth() { shutdown(fd_, SHUT_RDWR); }
  // Closes with a reset instead of an orderly close.
  void Reset() {
    linger l{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd_);
    fd_ = -1;
  }

 private:
  bool ReadFully(void* out, size_t n) {
    char* p = static_cast<char*>(out);
    while (n > 0) {
      const ssize_t r = recv(fd_, p, n, 0);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
};

// `body` behind its 4-byte little-endian size prefix.
inline std::string Framed(std::string body) {
  const uint32_t len = static_cast<uint32_t>(body.size());
  return std::string(reinterpret_cast<const char*>(&len), 4) + body;
}

inline std::string FinishedFrame(flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

inline std::string HelloFrame(uint32_t version, const std::string& token, uint64_t id = 7) {
  flatbuffers::FlatBufferBuilder fbb(128);
  auto hello = wire::CreateHello(fbb, version, fbb.CreateString(token), fbb.CreateString("raw"));
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(wire::Op::Hello);
  rb.add_op(hello.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return FinishedFrame(fbb);
}

inline std::string StatsFrame(uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb(64);
  auto stats = wire::CreateStats(fbb);
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(wire::Op::Stats);
  rb.add_op(stats.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return FinishedFrame(fbb);
}

// A response frame's body (as RawConnection::Receive returns it), kept
// behind 4 bytes so its fields sit as aligned as the server wrote them.
class ParsedResponse {
 public:
  explicit ParsedResponse(const std::string& body) : storage_(Framed(body)) {
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(storage_.data()),
                                   storage_.size());
    valid_ = !body.empty() && verifier.VerifySizePrefixedBuffer<wire::Response>(nullptr);
  }
  bool valid() const { return valid_; }
  const wire::Response* operator->() const {
    return flatbuffers::GetRoot<wire::Response>(storage_.data() + 4);
  }
  std::string message() const {
    const auto* m = (*this)->message();
    return m ? m->str() : "";
  }

 private:
  std::string storage_;
  bool valid_ = false;
};

// ---- Change streams (docs/streams.md) on a raw socket ----

inline std::string SubscribeFrame(uint64_t id, const std::optional<Uuid>& room,
                                  const std::optional<Uuid>& user, const std::string& table,
                                  int64_t from_lsn) {
  flatbuffers::FlatBufferBuilder fbb(128);
  const wire::Uuid r = room ? wire::Uuid(room->hi, room->lo) : wire::Uuid();
  const wire::Uuid u = user ? wire::Uuid(user->hi, user->lo) : wire::Uuid();
  auto sub = wire::CreateSubscribe(fbb, room ? &r : nullptr, user ? &u : nullptr,
                                   table.empty() ? 0 : fbb.CreateString(table), from_lsn);
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(wire::Op::Subscribe);
  rb.add_op(sub.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return FinishedFrame(fbb);
}

inline std::string UnsubscribeFrame(uint64_t id, uint64_t subscription) {
  flatbuffers::FlatBufferBuilder fbb(64);
  auto unsub = wire::CreateUnsubscribe(fbb, subscription);
  wire::RequestBuilder rb(fbb);
  rb.add_id(id);
  rb.add_op_type(wire::Op::Unsubscribe);
  rb.add_op(unsub.Union());
  fbb.FinishSizePrefixed(rb.Finish());
  return FinishedFrame(fbb);
}

// A pushed EventBatch, decoded (rpc::DecodeEventBatch), with the
// Response's id.
struct RawEventBatch {
  uint64_t request_id = 0, subscription = 0;
  std::vector<rpc::StreamEvent> events;
  uint64_t last_lsn = 0;
  std::string ended;
};

// `r` as an EventBatch; nullopt for any other answer.
inline std::optional<RawEventBatch> AsEventBatch(const ParsedResponse& r) {
  if (!r.valid() || r->code() != wire::StatusCode::OK) return std::nullopt;
  absl::StatusOr<rpc::EventBatchInfo> b = rpc::DecodeEventBatch(*r.operator->());
  if (!b.ok()) return std::nullopt;
  return RawEventBatch{.request_id = r->id(),
                       .subscription = b->subscription,
                       .events = std::move(b->events),
                       .last_lsn = b->last_lsn,
                       .ended = std::move(b->ended)};
}

// A raw connection past its Hello, that sorts the frames it reads by
// request id: answers and pushed batches of several requests may
// interleave.
class RawSubscriber {
 public:
  explicit RawSubscriber(uint16_t port, int timeout_ms = 10000) : conn_(port, timeout_ms) {
    if (conn_.fd() < 0 || !conn_.Send(HelloFrame(kProtocolVersion, ""))) return;
    const ParsedResponse hello(conn_.Receive());
    ok_ = hello.valid() && hello->code() == wire::StatusCode::OK;
  }
  bool ok() const { return ok_; }
  RawConnection& conn() { return conn_; }

  // Sends `frame` (request `id`) and returns its answer.
  ParsedResponse Call(const std::string& frame, uint64_t id) {
    if (!conn_.Send(frame)) return ParsedResponse("");
    return NextFor(id);
  }
  // Sends Subscribe (request `id`) and returns its answer. The protocol
  // has the answer come first, then the stream's batches; batches that
  // came before it anyway are kept for NextFor, in order, and counted in
  // batches_before_answer().
  ParsedResponse Subscribe(const std::optional<Uuid>& room, const std::optional<Uuid>& user,
                           const std::string& table, int64_t from_lsn, uint64_t id = 11) {
    if (!conn_.Send(SubscribeFrame(id, room, user, table, from_lsn))) return ParsedResponse("");
    std::deque<ParsedResponse> early;
    while (true) {
      ParsedResponse r = NextFor(id);
      if (r.valid() && r->code() == wire::StatusCode::OK && r->result_as_EventBatch() != nullptr) {
        early.push_back(std::move(r));
        ++batches_before_answer_;
        continue;
      }
      held_.insert(held_.begin(), std::make_move_iterator(early.begin()),
                   std::make_move_iterator(early.end()));
      return r;
    }
  }
  size_t batches_before_answer() const { return batches_before_answer_; }
  // The next frame with request id `id`: one read earlier, else from the
  // socket (frames of other ids read meanwhile are held). Invalid on a
  // timeout or a closed connection.
  ParsedResponse NextFor(uint64_t id) {
    for (auto it = held_.begin(); it != held_.end(); ++it) {
      if ((*it)->id() == id) {
        ParsedResponse r = std::move(*it);
        held_.erase(it);
        return r;
      }
    }
    while (true) {
      ParsedResponse r(conn_.Receive());
      if (!r.valid()) return r;
      if (r->id() == id) return r;
      held_.push_back(std::move(r));
    }
  }
  // Frames read for other ids, oldest first.
  std::deque<ParsedResponse>& held() { return held_; }

 private:
  RawConnection conn_;
  bool ok_ = false;
  std::deque<ParsedResponse> held_;
  size_t batches_before_answer_ = 0;
};

// One subscription's stream on a RawSubscriber: reads its batches and
// checks what every stream promises, batch by batch (a failure is a test
// failure): events of a batch in nondecreasing LSN order, all after the
// previous batch's last_lsn (so a transaction never spans batches and none
// comes twice) and at most the batch's own last_lsn; last_lsn never goes
// back; nothing after the batch that ends the stream.
class RawStream {
 public:
  // `from_lsn`, `subscription`: the SubscribeResult's (0: taken from the
  // first batch).
  RawStream(RawSubscriber& sub, uint64_t request_id, uint64_t from_lsn, uint64_t subscription = 0)
      : sub_(sub), request_id_(request_id), last_lsn_(from_lsn), subscription_(subscription) {}

  // Reads batches until `done()` holds (checked before each read), the
  // stream ends or nothing comes within the connection's timeout; returns
  // done().
  bool ReadUntil(const std::function<bool()>& done) {
    while (!done()) {
      if (!ended_.empty()) return false;
      if (!ReadOne()) return false;
    }
    return true;
  }
  // Every transaction up to `lsn` delivered.
  bool ReadThrough(uint64_t lsn) {
    return ReadUntil([&] { return last_lsn_ >= lsn; });
  }
  // At least `n` events delivered.
  bool ReadEvents(size_t n) {
    return ReadUntil([&] { return events_.size() >= n; });
  }
  // Until the batch that ends the stream.
  bool ReadToEnd() {
    while (ended_.empty()) {
      if (!ReadOne()) return false;
    }
    return true;
  }
  // Reads one batch; false on a timeout, a closed connection or a frame
  // that is not an EventBatch.
  bool ReadOne() {
    const ParsedResponse r = sub_.NextFor(request_id_);
    if (!r.valid()) return false;
    const std::optional<RawEventBatch> b = AsEventBatch(r);
    if (!b) {
      ADD_FAILURE() << "stream " << request_id_ << ": not an EventBatch (code "
                    << static_cast<int>(r->code()) << " " << r.message() << ")";
      return false;
    }
    Add(*b);
    return true;
  }

  const std::vector<rpc::StreamEvent>& events() const { return events_; }
  uint64_t last_lsn() const { return last_lsn_; }
  const std::string& ended() const { return ended_; }
  size_t batches() const { return batches_; }
  uint64_t subscription() const { return subscription_; }
  // The distinct LSNs of the events, in order.
  std::vector<uint64_t> Lsns() const {
    std::vector<uint64_t> out;
    for (const rpc::StreamEvent& e : events_) {
      if (out.empty() || out.back() != e.lsn) out.push_back(e.lsn);
    }
    return out;
  }

 private:
  void Add(const RawEventBatch& b) {
    ++batches_;
    if (!ended_.empty()) ADD_FAILURE() << "a batch after the stream ended (" << ended_ << ")";
    if (subscription_ == 0) subscription_ = b.subscription;
    EXPECT_EQ(b.subscription, subscription_);
    EXPECT_GE(b.last_lsn, last_lsn_) << "last_lsn went back";
    uint64_t prev = 0;
    for (const rpc::StreamEvent& e : b.events) {
      EXPECT_GT(e.lsn, last_lsn_) << "event of LSN " << e.lsn << " after a batch through "
                                  << last_lsn_ << " (" << e.table << ")";
      EXPECT_LE(e.lsn, b.last_lsn) << "event past its batch's last_lsn";
      EXPECT_GE(e.lsn, prev) << "LSNs out of order in a batch";
      prev = e.lsn;
      events_.push_back(e);
    }
    if (!b.ended.empty()) ended_ = b.ended;
    last_lsn_ = std::max(last_lsn_, b.last_lsn);
  }

  RawSubscriber& sub_;
  const uint64_t request_id_;
  uint64_t last_lsn_;
  uint64_t subscription_ = 0;
  std::vector<rpc::StreamEvent> events_;
  std::string ended_;
  size_t batches_ = 0;
};

// One line per event: LSN, table, action.
inline std::string DescribeEvents(const std::vector<rpc::StreamEvent>& events) {
  std::string out;
  for (const rpc::StreamEvent& e : events) {
    out += std::to_string(e.lsn) + " " + e.table + (e.action.empty() ? "" : " " + e.action) +
           (e.deleted ? " (deleted)" : "") + "\n";
  }
  return out;
}

// Subscribes `sub` (request `id`), expecting success (a test failure
// otherwise); the stream.
inline RawStream OpenRawStream(RawSubscriber& sub, const std::optional<Uuid>& room,
                               const std::optional<Uuid>& user, const std::string& table,
                               int64_t from_lsn, uint64_t id = 11) {
  const ParsedResponse r = sub.Subscribe(room, user, table, from_lsn, id);
  uint64_t from = 0, subscription = 0;
  if (!r.valid()) {
    ADD_FAILURE() << "no answer to Subscribe";
  } else if (r->code() != wire::StatusCode::OK || r->result_as_SubscribeResult() == nullptr) {
    ADD_FAILURE() << "Subscribe: " << static_cast<int>(r->code()) << " " << r.message();
  } else {
    from = r->result_as_SubscribeResult()->from_lsn();
    subscription = r->result_as_SubscribeResult()->subscription();
    if (from_lsn >= 0) {
      EXPECT_EQ(from, static_cast<uint64_t>(from_lsn));
    }
  }
  return RawStream(sub, id, from, subscription);
}

}  // namespace vox

#endif  // VOXDB_TESTS_INTEGRATION_RAW_CONNECTION_H_
