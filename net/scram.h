// SCRAM-SHA-256 (RFC 5802 with RFC 7677's hash), the handshake VoxDB's
// clients authenticate with (docs/protocol.md, "Handshake"): the client
// proves it knows a secret and the server proves it knows the secret's
// verifier, and neither the secret nor anything that replays as it crosses
// the wire. Built on OpenSSL's primitives (PBKDF2-HMAC, HMAC, SHA-256,
// RAND_bytes, CRYPTO_memcmp).
//
//   client                                 server (holds a Verifier per name)
//   Hello{user, client_nonce}        ->
//                                    <-    challenge{nonce = client_nonce + server_nonce,
//                                                    salt, iterations}
//   ScramProof{nonce, ClientProof}   ->    VerifyClientProof(verifier, AuthMessage, proof)
//                                    <-    HelloResult{ServerSignature}
//   client: CheckServerSignature(...)
//
// The messages that both sides sign (AuthMessage) are RFC 5802's texts,
// built from the wire fields by the functions below, so the RFC 7677 test
// vector applies unchanged (tests/net/scram_test.cc). Channel binding is
// not used ("c=biws", RFC 5802 gs2 header "n,,"); TLS, when on, protects
// the session itself. Secrets are bytes, used as given (no SASLprep):
// `voxctl token create` makes ASCII ones.
//
// Thread-safe: free functions with no shared state.
#ifndef VOXDB_NET_SCRAM_H_
#define VOXDB_NET_SCRAM_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace vox::scram {

// RFC 7677's minimum and the PostgreSQL default; verifiers and challenges
// with fewer iterations are refused, and a client refuses a challenge with
// more than kMaxIterations (a hostile server could make it spin).
inline constexpr int kDefaultIterations = 4096;
inline constexpr int kMinIterations = 4096;
inline constexpr int kMaxIterations = 10'000'000;
inline constexpr size_t kKeySize = 32;    // SHA-256
inline constexpr size_t kSaltSize = 16;   // made by MakeVerifier
inline constexpr size_t kNonceBytes = 18;  // random bytes per nonce half (24 base64 chars)

// What the server stores for a name: never the secret, and nothing a client
// could log in with (RFC 5802 §3). Text form, as PostgreSQL stores it:
//   SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
struct Verifier {
  int iterations = kDefaultIterations;
  std::string salt;        // raw bytes
  std::string stored_key;  // H(ClientKey), kKeySize bytes
  std::string server_key;  // HMAC(SaltedPassword, "Server Key"), kKeySize bytes
};

// The verifier of `secret` with `salt` (raw bytes) and `iterations`.
Verifier MakeVerifier(std::string_view secret, std::string_view salt, int iterations);
// With a fresh random salt of kSaltSize bytes.
absl::StatusOr<Verifier> MakeVerifier(std::string_view secret, int iterations = kDefaultIterations);

std::string FormatVerifier(const Verifier& v);
// InvalidArgument naming what is wrong (never echoing the text, which is
// half a credential).
absl::StatusOr<Verifier> ParseVerifier(std::string_view text);

// `n` bytes from OpenSSL's CSPRNG.
absl::StatusOr<std::string> RandomBytes(size_t n);
// A nonce half: kNonceBytes random bytes, base64 (printable, no ',').
absl::StatusOr<std::string> MakeNonce();

std::string Base64Encode(std::string_view bytes);
absl::StatusOr<std::string> Base64Decode(std::string_view text);

// Names authenticate as RFC 5802's "saslname" without escapes: 1-64 of
// letters, digits and . _ - @. (The empty name is the legacy unnamed token;
// see docs/security.md.)
bool IsValidName(std::string_view name);
// A nonce as the wire may carry it: 16-256 printable ASCII characters, no ','.
bool IsValidNonce(std::string_view nonce);

// RFC 5802 §7's AuthMessage for this exchange:
//   client-first-message-bare "," server-first-message "," client-final-message-without-proof
// `nonce` is the whole nonce (client half + server half), `salt` raw bytes.
std::string AuthMessage(std::string_view user, std::string_view client_nonce,
                        std::string_view nonce, std::string_view salt, int iterations);

// Client side. SaltedPassword := PBKDF2-HMAC-SHA-256(secret, salt, iterations):
// the costly step, worth caching per (salt, iterations).
std::string SaltedPassword(std::string_view secret, std::string_view salt, int iterations);
struct ClientFinal {
  std::string proof;             // ClientKey XOR ClientSignature, kKeySize bytes
  std::string server_signature;  // what the server must answer, kKeySize bytes
};
ClientFinal ClientProof(std::string_view salted_password, std::string_view auth_message);

// Server side: whether `proof` shows knowledge of the secret behind `v`
// (H(proof XOR ClientSignature) == StoredKey, compared in constant time).
bool VerifyClientProof(const Verifier& v, std::string_view auth_message, std::string_view proof);
// HMAC(ServerKey, AuthMessage): proves to the client that the server holds
// the verifier.
std::string ServerSignature(const Verifier& v, std::string_view auth_message);

// HMAC-SHA-256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);

// Constant-time equality of equal-length byte strings (false if the lengths
// differ).
bool SecureEquals(std::string_view a, std::string_view b);

}  // namespace vox::scram

#endif  // VOXDB_NET_SCRAM_H_
