#include "net/internal/token_store.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "schema/str.h"
#include "schema/types.h"

namespace vox::net {
namespace {

std::optional<Role> ParseRole(std::string_view s) {
  if (s == "admin") return Role::kAdmin;
  if (s == "app") return Role::kApp;
  if (s == "readonly") return Role::kReadOnly;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<TokenStore> TokenStore::Load(const std::string& path,
                                            const std::function<void(const std::string&)>& warn) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(StrCat("cannot read the token file ", path));
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    warn(StrCat("the token file ", path, " is readable by group or others (mode ", mode,
                "); chmod 600 it"));
  }
  TokenStore store;
  VOX_ASSIGN_OR_RETURN(store.mock_key_, scram::RandomBytes(scram::kKeySize));
  VOX_ASSIGN_OR_RETURN(store.legacy_salt_, scram::RandomBytes(scram::kSaltSize));
  std::vector<std::pair<std::string, int>> legacy_tokens;  // to find duplicates
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string w; words >> w;) fields.push_back(std::move(w));
    if (fields.empty() || fields[0].starts_with("#")) continue;
    const std::string where = StrCat(path, " line ", number);
    const std::optional<Role> role = ParseRole(fields[0]);
    if (!role) {
      return absl::InvalidArgumentError(
          StrCat(where, ": role '", fields[0], "' is not admin, app or readonly"));
    }
    if (fields.size() == 3) {
      const std::string& name = fields[1];
      if (!scram::IsValidName(name)) {
        return absl::InvalidArgumentError(
            StrCat(where, ": a name is 1-64 letters, digits, '.', '_', '-' or '@'"));
      }
      absl::StatusOr<scram::Verifier> v = scram::ParseVerifier(fields[2]);
      if (!v.ok()) return absl::InvalidArgumentError(StrCat(where, ": ", v.status().message()));
      if (!store.by_name_.emplace(name, store.named_.size()).second) {
        return absl::InvalidArgumentError(StrCat(where, ": the name '", name, "' appears twice"));
      }
      store.named_.push_back({name, *role, *std::move(v)});
    } else if (fields.size() == 2) {
      const std::string& token = fields[1];
      if (token.size() < 16) {
        return absl::InvalidArgumentError(
            StrCat(where, ": tokens must be at least 16 characters"));
      }
      for (const auto& [other, other_line] : legacy_tokens) {
        if (other == token) {
          return absl::InvalidArgumentError(
              StrCat(where, ": the same token as line ", other_line));
        }
      }
      legacy_tokens.emplace_back(token, number);
      store.legacy_.push_back(
          {"", *role, scram::MakeVerifier(token, store.legacy_salt_, scram::kDefaultIterations)});
      warn(StrCat(where, ": an unnamed 'role token' line (role ", fields[0],
                  "); its SCRAM-SHA-256 verifier was derived at start. Replace the line with the "
                  "output of `voxctl token create --role=",
                  fields[0], " --name=NAME` (docs/security.md)"));
    } else {
      return absl::InvalidArgumentError(
          StrCat(where, ": expected 'role name verifier' (or the older 'role token'), not ",
                 fields.size(), " fields"));
    }
  }
  for (auto& [token, n] : legacy_tokens) {
    std::fill(token.begin(), token.end(), '\0');
  }
  if (store.empty()) return absl::InvalidArgumentError(StrCat(path, " holds no tokens"));
  return store;
}

absl::StatusOr<TokenStore::Challenge> TokenStore::Begin(std::string_view user,
                                                        std::string_view client_nonce) const {
  Challenge c;
  c.user = std::string(user);
  c.client_nonce = std::string(client_nonce);
  VOX_ASSIGN_OR_RETURN(std::string server_nonce, scram::MakeNonce());
  c.nonce = StrCat(client_nonce, server_nonce);
  c.iterations = scram::kDefaultIterations;
  if (user.empty() && !legacy_.empty()) {
    c.salt = legacy_salt_;
  } else if (auto it = by_name_.find(std::string(user)); it != by_name_.end()) {
    c.salt = named_[it->second].verifier.salt;
    c.iterations = named_[it->second].verifier.iterations;
  } else {
    c.salt = scram::HmacSha256(mock_key_, StrCat("salt:", user)).substr(0, scram::kSaltSize);
  }
  return c;
}

std::optional<TokenStore::Verified> TokenStore::Finish(const Challenge& c, std::string_view nonce,
                                                       std::string_view proof) const {
  if (nonce != c.nonce) return std::nullopt;
  const std::string auth =
      scram::AuthMessage(c.user, c.client_nonce, c.nonce, c.salt, c.iterations);
  if (c.user.empty()) {
    std::optional<Verified> found;
    for (const Entry& e : legacy_) {  // no early exit
      if (scram::VerifyClientProof(e.verifier, auth, proof)) {
        found = Verified{e.role, scram::ServerSignature(e.verifier, auth)};
      }
    }
    return found;
  }
  auto it = by_name_.find(c.user);
  if (it == by_name_.end()) return std::nullopt;
  const Entry& e = named_[it->second];
  if (!scram::VerifyClientProof(e.verifier, auth, proof)) return std::nullopt;
  return Verified{e.role, scram::ServerSignature(e.verifier, auth)};
}

int AuthLimiter::LockedFor(const std::string& address, Clock::time_point now) const {
  auto it = records_.find(address);
  if (it == records_.end() || it->second.locked_until <= now) return 0;
  const auto left = std::chrono::ceil<std::chrono::seconds>(it->second.locked_until - now);
  return std::max<int>(1, static_cast<int>(left.count()));
}

bool AuthLimiter::Failed(const std::string& address, Clock::time_point now) {
  if (records_.size() >= 10000) Sweep(now);
  Record& r = records_[address];
  while (!r.recent.empty() && r.recent.front() <= now - lockout_) r.recent.pop_front();
  r.recent.push_back(now);
  if (static_cast<int>(r.recent.size()) < max_failures_) return false;
  r.recent.clear();
  r.locked_until = now + lockout_;
  return true;
}

void AuthLimiter::Sweep(Clock::time_point now) {
  absl::erase_if(records_, [&](const auto& entry) {
    const Record& r = entry.second;
    return r.locked_until <= now && (r.recent.empty() || r.recent.back() <= now - lockout_);
  });
}

}  // namespace vox::net
