// The C++ client of the VoxDB server (docs/protocol.md).
//
// One Client is one connection. Every operation is a struct in net/rpc.h,
// filled with designated initializers and sent with Call (synchronous) or
// Send (pipelined: returns at once with a Future; many may be in flight):
//
//   auto client = vox::Client::Connect({.port = 7070, .token = "web1:secret"});
//   auto joined = (*client)->Call(vox::rpc::JoinRoom{.room_id = room, .user_id = user});
//
//   std::vector<vox::Future<vox::rpc::Joined>> joins;
//   for (const vox::Uuid& u : users) joins.push_back((*client)->Send(
//       vox::rpc::JoinRoom{.room_id = room, .user_id = u}));
//   for (auto& j : joins) CHECK_OK(j.Get());
//
// Several operations can run as one atomic transaction with rpc::Batch.
// A request answered by a stream of responses (rpc::Subscribe) is sent with
// OpenStream; vox::Subscription (net/subscription.h) wraps it with typed
// events and automatic resumption.
//
// Responses may arrive in any order; each is matched to its request by id.
// There is no reader thread: whichever caller waits reads the socket and
// hands other callers their responses.
//
// A dropped connection fails every request in flight with UNAVAILABLE (the
// request may or may not have run: retry only idempotent operations, e.g.
// transfers with an idempotency key); the next Send reconnects. A request
// not answered within `timeout` fails with DEADLINE_EXCEEDED.
//
// Thread-safe: several threads may share one Client.
#ifndef VOXDB_NET_CLIENT_H_
#define VOXDB_NET_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "net/rpc.h"
#include "schema/types.h"

namespace vox::wire {
struct Response;
}

namespace vox {

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  // Credentials (docs/security.md), proven with SCRAM-SHA-256: the secret
  // never crosses the wire, and the server must prove it holds the token's
  // verifier (a server that answers without that proof is refused). Give
  // either `token`, one string: "name:secret" (a `voxctl token create`
  // credential), or a legacy unnamed token without ':' (":token" for one
  // that holds a ':'); or `user` and `secret`. None: a loopback server
  // without tokens. Never printed.
  std::string token;
  std::string user;
  std::string secret;
  std::string client_name = "voxdb-cpp-client";
  std::chrono::milliseconds timeout{10000};  // per request
  // Requests in flight on the connection before Send waits for answers
  // (keep at or below the server's --max_inflight).
  int max_in_flight = 128;
  // Reads answer without waiting for the WAL to make what they saw durable
  // (live state where a few ms of loss is acceptable).
  bool read_unsynced = false;
  // TLS (a server started with --tls_cert/--tls_key): the server's
  // certificate must verify against `tls_ca_file` (PEM; empty: the system's
  // CAs) and name `tls_server_name` (empty: `host`; an IP address is
  // checked as one). TLS 1.2 or later.
  bool tls = false;
  std::string tls_ca_file;
  std::string tls_server_name;
};

namespace client_internal {
struct Connection;
struct Slot;
}  // namespace client_internal

// A whole response frame; response() reads it in place.
class Reply {
 public:
  explicit Reply(std::vector<uint8_t> frame) : frame_(std::move(frame)) {}
  const wire::Response& response() const;
  // The response's status code and message.
  absl::Status status() const;

 private:
  std::vector<uint8_t> frame_;  // size-prefixed, verified
};

// A response to come. Get() waits for it (up to the request's deadline) and
// decodes it; call it once.
template <typename T>
class Future {
 public:
  using Result = rpc::Decoded<T>;
  using Decoder = Result (*)(const wire::Response&);

  Future() = default;  // a failed future
  Future(std::shared_ptr<client_internal::Connection> conn,
         std::shared_ptr<client_internal::Slot> slot, Decoder decode)
      : conn_(std::move(conn)), slot_(std::move(slot)), decode_(decode) {}
  explicit Future(absl::Status failed) : failed_(std::move(failed)) {}

  Result Get();
  bool Ready() const;  // Get() would not block

 private:
  std::shared_ptr<client_internal::Connection> conn_;
  std::shared_ptr<client_internal::Slot> slot_;
  Decoder decode_ = nullptr;
  absl::Status failed_;
};

// The responses to one streaming request (Client::OpenStream), e.g. a
// Subscribe: its answer, then every response the server pushes with the
// same id, in the order they arrived, none lost, until the last one (a
// non-OK code, or an EventBatch with `ended` set). Frames are queued as
// they are read (by whichever caller reads the socket), so other calls on
// the same Client go on while a stream is open; read them with Next
// promptly, as nothing bounds that queue but the server's own limits.
//
// Destroying the stream drops what is queued and ignores what follows (it
// does not end the server's stream: send rpc::Unsubscribe for that).
// Thread-compatible: one reader at a time. Move-only.
class ResponseStream {
 public:
  ResponseStream() = default;
  ResponseStream(std::shared_ptr<client_internal::Connection> conn,
                 std::shared_ptr<client_internal::Slot> slot)
      : conn_(std::move(conn)), slot_(std::move(slot)) {}
  ResponseStream(ResponseStream&& other) noexcept = default;
  ResponseStream& operator=(ResponseStream&& other) noexcept;
  ~ResponseStream();

  // The next response, waiting up to `timeout`: DEADLINE_EXCEEDED when none
  // arrived (the stream stays usable), UNAVAILABLE when the connection was
  // lost (after every response read before it), OUT_OF_RANGE after the last
  // one. A non-OK response is returned as a Reply: check its status().
  absl::StatusOr<Reply> Next(std::chrono::milliseconds timeout);
  // The last response was returned, or the connection was lost.
  bool finished() const;

 private:
  void Close();
  std::shared_ptr<client_internal::Connection> conn_;
  std::shared_ptr<client_internal::Slot> slot_;
};

// Several operations run as one atomic transaction (Client::Run): each sees
// the earlier ones' writes; the first refusal rolls all of them back.
//
//   vox::Batch batch;
//   auto joined = batch.Add(vox::rpc::JoinRoom{.room_id = room, .user_id = user});
//   batch.Add(vox::rpc::SetHandRaised{.room_id = room, .actor_id = user, .target_id = user});
//   absl::Status s = client.Run(batch);  // all or nothing
//   if (s.ok()) participant = joined.Get()->participant_id;
class Batch {
 public:
  // One operation's answer, readable once Run has succeeded.
  template <typename T>
  class Entry {
   public:
    rpc::Decoded<T> Get() const;

   private:
    friend class Batch;
    using Decoder = rpc::Decoded<T> (*)(const wire::Response&);
    Entry(std::shared_ptr<const std::optional<Reply>> reply, size_t index, Decoder decode)
        : reply_(std::move(reply)), index_(index), decode_(decode) {}
    std::shared_ptr<const std::optional<Reply>> reply_;
    size_t index_;
    Decoder decode_;
  };

  template <typename Op>
  Entry<typename Op::Result> Add(const Op& op) {
    encoders_.push_back([op](rpc::Builder& b) { return op.Encode(b); });
    return Entry<typename Op::Result>(reply_, encoders_.size() - 1, &Op::Decode);
  }
  size_t size() const { return encoders_.size(); }

 private:
  friend class Client;
  // The i-th operation's response inside the batch's answer.
  static absl::StatusOr<const wire::Response*> Nested(const std::optional<Reply>& reply,
                                                      size_t index);

  std::vector<std::function<rpc::Encoded(rpc::Builder&)>> encoders_;
  std::shared_ptr<std::optional<Reply>> reply_ = std::make_shared<std::optional<Reply>>();
};

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();

  // From the server's Hello answer.
  const std::string& role() const { return role_; }
  const std::string& server_version() const { return server_version_; }
  const Uuid& database_id() const { return database_id_; }
  const ClientOptions& options() const { return options_; }

  template <typename Op>
  Future<typename Op::Result> Send(const Op& op) {
    Sent sent = SendEncoded([&op](rpc::Builder& b) { return op.Encode(b); });
    if (!sent.failed.ok()) return Future<typename Op::Result>(std::move(sent.failed));
    return Future<typename Op::Result>(std::move(sent.conn), std::move(sent.slot), &Op::Decode);
  }
  template <typename Op>
  auto Call(const Op& op) {
    return Send(op).Get();
  }

  // Runs `batch` as one transaction: OK when every operation succeeded
  // (read each answer from its Entry), else the first refusal, prefixed with
  // the operation's index, and nothing was written. A batch runs once.
  absl::Status Run(Batch& batch);

  // Sends any request: `encode` adds the operation to the builder. For
  // tools that build operations from the schema at run time (voxctl).
  Future<Reply> SendRaw(const std::function<rpc::Encoded(rpc::Builder&)>& encode);

  // Sends a request whose answer is a stream of responses (rpc::Subscribe):
  // read them with ResponseStream::Next; its first is the request's answer.
  // Fails only when the request could not be sent.
  absl::StatusOr<ResponseStream> OpenStream(
      const std::function<rpc::Encoded(rpc::Builder&)>& encode);
  template <typename Op>
    requires requires(const Op& op, rpc::Builder& b) { op.Encode(b); }
  absl::StatusOr<ResponseStream> OpenStream(const Op& op) {
    return OpenStream([&op](rpc::Builder& b) { return op.Encode(b); });
  }

 private:
  // An untyped pending response.
  struct Sent {
    std::shared_ptr<client_internal::Connection> conn;
    std::shared_ptr<client_internal::Slot> slot;
    absl::Status failed;
  };
  Client() = default;
  absl::Status Reconnect();  // REQUIRES: mu_ held
  // `stream`: the slot takes every response with its id (ResponseStream).
  Sent SendEncoded(const std::function<rpc::Encoded(rpc::Builder&)>& encode, bool stream = false);
  Sent SendOn(const std::shared_ptr<client_internal::Connection>& conn,
              const std::function<rpc::Encoded(rpc::Builder&)>& encode, bool stream = false);

  // The SCRAM exchange on a new connection: Hello, the challenge, the proof,
  // the server's signature. REQUIRES: mu_ held.
  absl::StatusOr<Reply> Handshake(const std::shared_ptr<client_internal::Connection>& conn);

  ClientOptions options_;
  std::string user_, secret_;  // from options_.token or options_.user/secret
  bool has_credentials_ = false;
  // SCRAM's SaltedPassword for the last salt and iteration count seen
  // (PBKDF2 runs once per client, not per reconnect). Guarded by mu_.
  std::string cached_salt_, cached_salted_password_;
  int cached_iterations_ = 0;
  std::mutex mu_;  // guards conn_ (swapped on reconnect)
  std::shared_ptr<client_internal::Connection> conn_;
  std::string role_, server_version_;
  Uuid database_id_;
};

// ---- Implementation details ----

namespace client_internal {
// Waits for `slot` (reading the socket when no one else is) up to its
// deadline; then the frame, or why there is none.
absl::StatusOr<Reply> Wait(Connection& conn, Slot& slot);
bool IsDone(Connection& conn, const Slot& slot);
}  // namespace client_internal

template <typename T>
typename Future<T>::Result Future<T>::Get() {
  if (slot_ == nullptr) return failed_.ok() ? absl::FailedPreconditionError("no request") : failed_;
  absl::StatusOr<Reply> reply = client_internal::Wait(*conn_, *slot_);
  if (!reply.ok()) return reply.status();
  if constexpr (std::is_same_v<T, Reply>) {
    return *std::move(reply);
  } else {
    if (absl::Status s = reply->status(); !s.ok()) return s;
    return decode_(reply->response());
  }
}

template <typename T>
rpc::Decoded<T> Batch::Entry<T>::Get() const {
  absl::StatusOr<const wire::Response*> response = Batch::Nested(*reply_, index_);
  if (!response.ok()) return response.status();
  return decode_(**response);
}

template <typename T>
bool Future<T>::Ready() const {
  return slot_ == nullptr || client_internal::IsDone(*conn_, *slot_);
}

}  // namespace vox

#endif  // VOXDB_NET_CLIENT_H_
