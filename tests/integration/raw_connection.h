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

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "net/protocol.h"
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

}  // namespace vox

#endif  // VOXDB_TESTS_INTEGRATION_RAW_CONNECTION_H_
