// The server's credentials (net/internal/token_store.h): the token file's
// two line forms and its refusals, SCRAM exchanges against the store, and
// the failed-attempt limiter on a simulated clock.
#include "net/internal/token_store.h"

#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "schema/str.h"
#include "tests/wal/wal_test_util.h"

namespace vox::net {
namespace {

class TokenStoreTest : public ::testing::Test {
 protected:
  // Loads `text` as a token file; the warnings go to warnings_.
  absl::StatusOr<TokenStore> Load(const std::string& text, mode_t mode = 0600) {
    const std::string path = dir_.path() + "/tokens";
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    warnings_.clear();
    return TokenStore::Load(path, [this](const std::string& w) { warnings_.push_back(w); });
  }
  static std::string Verifier(const std::string& secret) {
    return scram::FormatVerifier(*scram::MakeVerifier(secret));
  }
  // A whole exchange as a client would make it; the role, or nullopt.
  static std::optional<Role> Login(const TokenStore& store, const std::string& user,
                                   const std::string& secret) {
    const std::string client_nonce = "unit-test-client-nonce";
    auto c = store.Begin(user, client_nonce);
    if (!c.ok()) return std::nullopt;
    const auto final_message = scram::ClientProof(
        scram::SaltedPassword(secret, c->salt, c->iterations),
        scram::AuthMessage(user, client_nonce, c->nonce, c->salt, c->iterations));
    auto v = store.Finish(*c, c->nonce, final_message.proof);
    if (!v) return std::nullopt;
    EXPECT_EQ(v->server_signature, final_message.server_signature);
    return v->role;
  }

  testing::TempDir dir_;
  std::vector<std::string> warnings_;
};

TEST_F(TokenStoreTest, NamedAndUnnamedLinesAuthenticate) {
  auto store = Load(StrCat("# comment\n\nadmin ops ", Verifier("ops-secret-0123456789"),
                           "\napp web1 ", Verifier("web-secret-0123456789"),
                           "\nreadonly old-readonly-token-0123\napp old-app-token-0123456789\n"));
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(Login(*store, "ops", "ops-secret-0123456789"), Role::kAdmin);
  EXPECT_EQ(Login(*store, "web1", "web-secret-0123456789"), Role::kApp);
  EXPECT_EQ(Login(*store, "", "old-readonly-token-0123"), Role::kReadOnly);
  EXPECT_EQ(Login(*store, "", "old-app-token-0123456789"), Role::kApp);
  EXPECT_EQ(Login(*store, "web1", "ops-secret-0123456789"), std::nullopt);
  EXPECT_EQ(Login(*store, "", "web-secret-0123456789"), std::nullopt);
  EXPECT_EQ(Login(*store, "nobody", "web-secret-0123456789"), std::nullopt);
  EXPECT_EQ(Login(*store, "web1 ", "web-secret-0123456789"), std::nullopt);
  // Two warnings, one per unnamed line, naming it but not its token.
  ASSERT_EQ(warnings_.size(), 2u);
  EXPECT_NE(warnings_[0].find("line 5"), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[1].find("line 6"), std::string::npos) << warnings_[1];
  for (const std::string& w : warnings_) {
    EXPECT_EQ(w.find("old-"), std::string::npos) << w;
  }
}

TEST_F(TokenStoreTest, AProofForAnotherNonceFails) {
  auto store = Load(StrCat("app web1 ", Verifier("web-secret-0123456789"), "\n"));
  ASSERT_TRUE(store.ok());
  auto a = store->Begin("web1", "unit-test-client-nonce");
  auto b = store->Begin("web1", "unit-test-client-nonce");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->nonce, b->nonce);
  const auto proof_a = scram::ClientProof(
      scram::SaltedPassword("web-secret-0123456789", a->salt, a->iterations),
      scram::AuthMessage("web1", a->client_nonce, a->nonce, a->salt, a->iterations));
  EXPECT_TRUE(store->Finish(*a, a->nonce, proof_a.proof));
  EXPECT_FALSE(store->Finish(*b, a->nonce, proof_a.proof));  // a's nonce on b's exchange
  EXPECT_FALSE(store->Finish(*b, b->nonce, proof_a.proof));  // a's proof for b's nonce
}

TEST_F(TokenStoreTest, UnknownNamesGetAStableMadeUpSalt) {
  auto store = Load(StrCat("app web1 ", Verifier("web-secret-0123456789"), "\n"));
  ASSERT_TRUE(store.ok());
  auto x1 = store->Begin("mallory", "unit-test-client-nonce");
  auto x2 = store->Begin("mallory", "unit-test-client-nonce");
  auto y = store->Begin("eve", "unit-test-client-nonce");
  auto unnamed = store->Begin("", "unit-test-client-nonce");  // no unnamed lines here
  ASSERT_TRUE(x1.ok() && x2.ok() && y.ok() && unnamed.ok());
  EXPECT_EQ(x1->salt, x2->salt);
  EXPECT_NE(x1->salt, y->salt);
  EXPECT_EQ(x1->salt.size(), scram::kSaltSize);
  EXPECT_EQ(Login(*store, "", "web-secret-0123456789"), std::nullopt);
}

TEST_F(TokenStoreTest, BadFilesAreRefusedNamingTheLine) {
  const std::string v = Verifier("web-secret-0123456789");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "holds no tokens"},
      {"# only a comment\n", "holds no tokens"},
      {"owner web1 " + v + "\n", "line 1: role 'owner'"},
      {"app short\n", "line 1: tokens must be at least 16 characters"},
      {"app a,b " + v + "\n", "line 1: a name is"},
      {"app web1 " + v + "\napp web1 " + v + "\n", "line 2: the name 'web1' appears twice"},
      {"app web1 SCRAM-SHA-256$4096:abc\n", "line 1: not a SCRAM-SHA-256 verifier"},
      {"app web1 " + v + " extra\n", "line 1: expected 'role name verifier'"},
      {"app same-token-0123456789\nadmin same-token-0123456789\n", "line 2: the same token as line 1"},
  };
  for (const auto& [text, why] : cases) {
    auto store = Load(text);
    ASSERT_FALSE(store.ok()) << text;
    EXPECT_NE(std::string(store.status().message()).find(why), std::string::npos)
        << store.status() << " for:\n" << text;
    EXPECT_EQ(std::string(store.status().message()).find("same-token"), std::string::npos);
  }
  EXPECT_EQ(TokenStore::Load("/nonexistent/tokens", [](const std::string&) {}).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TokenStoreTest, AFileOthersCanReadIsWarnedAbout) {
  ASSERT_TRUE(Load(StrCat("app web1 ", Verifier("web-secret-0123456789"), "\n"), 0644).ok());
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("mode 0644"), std::string::npos) << warnings_[0];
  ASSERT_TRUE(Load(StrCat("app web1 ", Verifier("web-secret-0123456789"), "\n"), 0600).ok());
  EXPECT_TRUE(warnings_.empty());
}

TEST(AuthLimiterTest, FailuresWithinTheWindowLockTheAddressOut) {
  using std::chrono::seconds;
  AuthLimiter limiter(3, seconds(60));
  const auto t0 = AuthLimiter::Clock::time_point() + std::chrono::hours(1);
  EXPECT_EQ(limiter.LockedFor("10.0.0.1", t0), 0);
  EXPECT_FALSE(limiter.Failed("10.0.0.1", t0));
  EXPECT_FALSE(limiter.Failed("10.0.0.1", t0 + seconds(10)));
  EXPECT_FALSE(limiter.Failed("10.0.0.2", t0 + seconds(10)));  // another address
  EXPECT_TRUE(limiter.Failed("10.0.0.1", t0 + seconds(20)));   // the third: locked
  EXPECT_EQ(limiter.LockedFor("10.0.0.1", t0 + seconds(20)), 60);
  EXPECT_EQ(limiter.LockedFor("10.0.0.1", t0 + seconds(79)), 1);
  EXPECT_EQ(limiter.LockedFor("10.0.0.2", t0 + seconds(20)), 0);
  EXPECT_EQ(limiter.LockedFor("10.0.0.1", t0 + seconds(80)), 0);  // over
  // Failures spread wider than the window never lock.
  AuthLimiter slow(3, seconds(60));
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(slow.Failed("10.0.0.3", t0 + seconds(31 * i)));
  EXPECT_EQ(slow.LockedFor("10.0.0.3", t0 + seconds(400)), 0);
}

TEST(AuthLimiterTest, ManyAddressesStayBounded) {
  AuthLimiter limiter(5, std::chrono::seconds(1));
  const auto t0 = AuthLimiter::Clock::time_point() + std::chrono::hours(1);
  for (int i = 0; i < 50000; ++i) {
    limiter.Failed(StrCat("10.", i / 65536, ".", (i / 256) % 256, ".", i % 256),
                   t0 + std::chrono::milliseconds(i));  // 50 s: most have expired
  }
  // Expired addresses were forgotten along the way.
  EXPECT_LE(limiter.addresses(), 10000u);
  EXPECT_GT(limiter.addresses(), 0u);
  EXPECT_EQ(limiter.LockedFor("192.168.0.1", t0 + std::chrono::seconds(60)), 0);
}

}  // namespace
}  // namespace vox::net
