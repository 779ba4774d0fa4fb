#include "net/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>

#include "schema/str.h"
#include "schema/types.h"

namespace vox::scram {
namespace {

constexpr std::string_view kPrefix = "SCRAM-SHA-256$";

std::string Hmac(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

std::string Sha256(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

}  // namespace

Verifier MakeVerifier(std::string_view secret, std::string_view salt, int iterations) {
  const std::string salted = SaltedPassword(secret, salt, iterations);
  Verifier v;
  v.iterations = iterations;
  v.salt = std::string(salt);
  v.stored_key = Sha256(Hmac(salted, "Client Key"));
  v.server_key = Hmac(salted, "Server Key");
  OPENSSL_cleanse(const_cast<char*>(salted.data()), salted.size());
  return v;
}

absl::StatusOr<Verifier> MakeVerifier(std::string_view secret, int iterations) {
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return absl::InvalidArgumentError(StrCat("iterations must be between ", kMinIterations,
                                             " and ", kMaxIterations));
  }
  VOX_ASSIGN_OR_RETURN(std::string salt, RandomBytes(kSaltSize));
  return MakeVerifier(secret, salt, iterations);
}

std::string FormatVerifier(const Verifier& v) {
  return StrCat(kPrefix, v.iterations, ":", Base64Encode(v.salt), "$",
                Base64Encode(v.stored_key), ":", Base64Encode(v.server_key));
}

absl::StatusOr<Verifier> ParseVerifier(std::string_view text) {
  auto bad = [](std::string_view why) {
    return absl::InvalidArgumentError(
        StrCat("not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:"
               "<ServerKey>): ",
               why));
  };
  if (!text.starts_with(kPrefix)) return bad("it does not start with SCRAM-SHA-256$");
  text.remove_prefix(kPrefix.size());
  const size_t dollar = text.find('$');
  if (dollar == std::string_view::npos) return bad("no '$' before the keys");
  const std::string_view params = text.substr(0, dollar), keys = text.substr(dollar + 1);
  const size_t c1 = params.find(':'), c2 = keys.find(':');
  if (c1 == std::string_view::npos || c2 == std::string_view::npos) return bad("missing ':'");
  Verifier v;
  const std::string_view iter = params.substr(0, c1);
  auto [end, ec] = std::from_chars(iter.data(), iter.data() + iter.size(), v.iterations);
  if (ec != std::errc() || end != iter.data() + iter.size()) return bad("bad iteration count");
  if (v.iterations < kMinIterations || v.iterations > kMaxIterations) {
    return bad(StrCat("iterations must be between ", kMinIterations, " and ", kMaxIterations));
  }
  auto salt = Base64Decode(params.substr(c1 + 1));
  auto stored = Base64Decode(keys.substr(0, c2));
  auto server = Base64Decode(keys.substr(c2 + 1));
  if (!salt.ok() || salt->empty()) return bad("bad salt");
  if (!stored.ok() || stored->size() != kKeySize) return bad("bad StoredKey");
  if (!server.ok() || server->size() != kKeySize) return bad("bad ServerKey");
  v.salt = *std::move(salt);
  v.stored_key = *std::move(stored);
  v.server_key = *std::move(server);
  return v;
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return absl::InternalError("OpenSSL's random generator failed");
  }
  return out;
}

absl::StatusOr<std::string> MakeNonce() {
  VOX_ASSIGN_OR_RETURN(std::string bytes, RandomBytes(kNonceBytes));
  return Base64Encode(bytes);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

absl::StatusOr<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return absl::InvalidArgumentError("bad base64 length");
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '/' || c == '=';
    if (!ok) return absl::InvalidArgumentError("bad base64 character");
  }
  std::string out(3 * (text.size() / 4), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return absl::InvalidArgumentError("bad base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

bool IsValidNonce(std::string_view nonce) {
  if (nonce.size() < 16 || nonce.size() > 256) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

std::string AuthMessage(std::string_view user, std::string_view client_nonce,
                        std::string_view nonce, std::string_view salt, int iterations) {
  return StrCat("n=", user, ",r=", client_nonce,  // client-first-message-bare
                ",r=", nonce, ",s=", Base64Encode(salt), ",i=", iterations,  // server-first
                ",c=biws,r=", nonce);  // client-final-message-without-proof
}

std::string SaltedPassword(std::string_view secret, std::string_view salt, int iterations) {
  unsigned char out[kKeySize];
  PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), iterations, EVP_sha256(), sizeof(out), out);
  std::string s(reinterpret_cast<const char*>(out), sizeof(out));
  OPENSSL_cleanse(out, sizeof(out));
  return s;
}

ClientFinal ClientProof(std::string_view salted_password, std::string_view auth_message) {
  const std::string client_key = Hmac(salted_password, "Client Key");
  const std::string stored_key = Sha256(client_key);
  const std::string server_key = Hmac(salted_password, "Server Key");
  return {Xor(client_key, Hmac(stored_key, auth_message)), Hmac(server_key, auth_message)};
}

bool VerifyClientProof(const Verifier& v, std::string_view auth_message, std::string_view proof) {
  if (proof.size() != kKeySize || v.stored_key.size() != kKeySize) return false;
  const std::string client_key = Xor(proof, Hmac(v.stored_key, auth_message));
  return SecureEquals(Sha256(client_key), v.stored_key);
}

std::string ServerSignature(const Verifier& v, std::string_view auth_message) {
  return Hmac(v.server_key, auth_message);
}

std::string HmacSha256(std::string_view key, std::string_view data) { return Hmac(key, data); }

bool SecureEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vox::scram
