// The server's side of authentication: the token file's credentials
// (TokenStore: SCRAM-SHA-256 verifiers by name, never secrets) and the
// failed-attempt limit per client address (AuthLimiter). Private to net/;
// the handshake itself is in net/server.cc, the file format in
// docs/security.md.
#ifndef VOXDB_NET_INTERNAL_TOKEN_STORE_H_
#define VOXDB_NET_INTERNAL_TOKEN_STORE_H_

#include <chrono>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "net/internal/dispatch.h"
#include "net/scram.h"

namespace vox::net {

// Immutable once loaded: thread-safe for reading.
class TokenStore {
 public:
  // Reads a token file: per line `role name verifier` or the older
  // `role token` (the token at least 16 characters; its verifier is derived
  // here, and `warn` is told the line, never the token). Blank lines and
  // lines starting with '#' are skipped. `warn` also hears when the file is
  // readable by group or others.
  static absl::StatusOr<TokenStore> Load(const std::string& path,
                                         const std::function<void(const std::string&)>& warn);

  bool empty() const { return named_.empty() && legacy_.empty(); }

  // One SCRAM exchange in progress (RFC 5802): what the server answered.
  struct Challenge {
    std::string user;          // as the client sent it; "" for a legacy token
    std::string client_nonce;  // the client's half
    std::string nonce;         // client_nonce + the server's half
    std::string salt;          // raw bytes
    int iterations = 0;
  };
  // The challenge for `user`. A name the file does not hold (or an
  // invalid one) gets a made-up salt that stays the same for that name, so
  // a challenge does not tell which names exist; its proof then fails.
  // The empty name is the legacy unnamed tokens' (they share one salt).
  // REQUIRES: scram::IsValidNonce(client_nonce).
  absl::StatusOr<Challenge> Begin(std::string_view user, std::string_view client_nonce) const;

  struct Verified {
    Role role;
    std::string server_signature;  // for HelloResult
  };
  // The proof's role and the ServerSignature, or nullopt when `nonce` is
  // not the challenge's or the proof does not verify. Constant time in the
  // proof; every legacy token is tried (no early exit).
  std::optional<Verified> Finish(const Challenge& challenge, std::string_view nonce,
                                 std::string_view proof) const;

 private:
  struct Entry {
    std::string name;  // "" for a legacy line
    Role role;
    scram::Verifier verifier;
  };
  std::vector<Entry> named_;
  absl::flat_hash_map<std::string, size_t> by_name_;  // index into named_
  std::vector<Entry> legacy_;                         // all with legacy_salt_
  std::string legacy_salt_;
  std::string mock_key_;  // made-up salts for unknown names
};

// Failed authentications per client address. Thread-compatible (the
// network thread owns it).
class AuthLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  // `max_failures` within `lockout` lock the address out for `lockout`.
  AuthLimiter(int max_failures, std::chrono::seconds lockout)
      : max_failures_(max_failures), lockout_(lockout) {}

  // Whole seconds (at least 1) until `address` may try again; 0 if it may now.
  int LockedFor(const std::string& address, Clock::time_point now) const;
  // Notes a failure; true when it starts a lockout.
  bool Failed(const std::string& address, Clock::time_point now);
  // Addresses with a recent failure or a lockout (at most about 10,000 more
  // than those: older ones are forgotten).
  size_t addresses() const { return records_.size(); }

 private:
  struct Record {
    std::deque<Clock::time_point> recent;  // failures within the window
    Clock::time_point locked_until{};
  };
  void Sweep(Clock::time_point now);  // forgets addresses with nothing recent

  const int max_failures_;
  const std::chrono::seconds lockout_;
  absl::flat_hash_map<std::string, Record> records_;
};

}  // namespace vox::net

#endif  // VOXDB_NET_INTERNAL_TOKEN_STORE_H_
