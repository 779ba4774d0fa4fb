// SCRAM-SHA-256 (net/scram.h): RFC 7677's test vector end to end, the
// PostgreSQL verifier text form, and the refusals (a wrong secret, a
// tampered proof or AuthMessage, a malformed verifier).
#include "net/scram.h"

#include <string>

#include "gtest/gtest.h"

namespace vox::scram {
namespace {

// RFC 7677 §3: user "user", password "pencil".
constexpr char kUser[] = "user";
constexpr char kPassword[] = "pencil";
constexpr char kClientNonce[] = "rOprNGfwEbeRWgbNEkqO";
constexpr char kNonce[] = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr char kSaltB64[] = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr char kProofB64[] = "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr char kServerSignatureB64[] = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
// The same credentials as PostgreSQL stores them (computed independently
// with Python's hashlib).
constexpr char kVerifier[] =
    "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:"
    "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=";

std::string Salt() { return *Base64Decode(kSaltB64); }

TEST(ScramTest, AuthMessageIsTheRfcText) {
  EXPECT_EQ(AuthMessage(kUser, kClientNonce, kNonce, Salt(), 4096),
            "n=user,r=rOprNGfwEbeRWgbNEkqO,"
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
}

TEST(ScramTest, Rfc7677ClientProofAndServerSignature) {
  const std::string auth = AuthMessage(kUser, kClientNonce, kNonce, Salt(), 4096);
  const ClientFinal f = ClientProof(SaltedPassword(kPassword, Salt(), 4096), auth);
  EXPECT_EQ(Base64Encode(f.proof), kProofB64);
  EXPECT_EQ(Base64Encode(f.server_signature), kServerSignatureB64);
}

TEST(ScramTest, Rfc7677ServerSideFromTheVerifier) {
  const Verifier v = MakeVerifier(kPassword, Salt(), 4096);
  EXPECT_EQ(FormatVerifier(v), kVerifier);
  const std::string auth = AuthMessage(kUser, kClientNonce, kNonce, Salt(), 4096);
  EXPECT_TRUE(VerifyClientProof(v, auth, *Base64Decode(kProofB64)));
  EXPECT_EQ(Base64Encode(ServerSignature(v, auth)), kServerSignatureB64);
}

TEST(ScramTest, VerifierRoundTripsThroughText) {
  auto parsed = ParseVerifier(kVerifier);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->iterations, 4096);
  EXPECT_EQ(parsed->salt, Salt());
  EXPECT_EQ(FormatVerifier(*parsed), kVerifier);
}

TEST(ScramTest, WrongSecretTamperedProofOrMessageAreRefused) {
  const Verifier v = MakeVerifier(kPassword, Salt(), 4096);
  const std::string auth = AuthMessage(kUser, kClientNonce, kNonce, Salt(), 4096);
  const std::string proof = *Base64Decode(kProofB64);

  const ClientFinal wrong = ClientProof(SaltedPassword("pencil2", Salt(), 4096), auth);
  EXPECT_FALSE(VerifyClientProof(v, auth, wrong.proof));

  std::string flipped = proof;
  flipped[5] ^= 1;
  EXPECT_FALSE(VerifyClientProof(v, auth, flipped));
  EXPECT_FALSE(VerifyClientProof(v, auth, proof.substr(0, 31)));
  EXPECT_FALSE(VerifyClientProof(v, auth, ""));

  // The same proof for another nonce (a replay on a new exchange).
  const std::string other =
      AuthMessage(kUser, kClientNonce, std::string(kClientNonce) + "SomeOtherServerNonce", Salt(),
                  4096);
  EXPECT_FALSE(VerifyClientProof(v, other, proof));
  // ... or for another user name.
  EXPECT_FALSE(VerifyClientProof(v, AuthMessage("admin", kClientNonce, kNonce, Salt(), 4096),
                                 proof));
}

TEST(ScramTest, FreshVerifiersHaveRandomSalts) {
  auto a = MakeVerifier("secret-one-0123456789");
  auto b = MakeVerifier("secret-one-0123456789");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->salt.size(), kSaltSize);
  EXPECT_NE(a->salt, b->salt);
  EXPECT_NE(a->stored_key, b->stored_key);
  EXPECT_EQ(a->iterations, kDefaultIterations);
  // And they verify proofs made from the secret.
  const std::string auth = AuthMessage("web1", "clientnonce-0123456789", "clientnonce-0123456789xyz",
                                       a->salt, a->iterations);
  const ClientFinal f = ClientProof(SaltedPassword("secret-one-0123456789", a->salt, a->iterations),
                                    auth);
  EXPECT_TRUE(VerifyClientProof(*a, auth, f.proof));
  EXPECT_FALSE(VerifyClientProof(*b, auth, f.proof));
  EXPECT_EQ(ServerSignature(*a, auth), f.server_signature);
  EXPECT_FALSE(MakeVerifier("x", 100).ok());  // under RFC 7677's minimum
}

TEST(ScramTest, MalformedVerifiersAreRefusedWithoutEchoingThem) {
  const std::string good = kVerifier;
  for (const std::string& bad : {
           std::string(""),
           std::string("md5$abc"),
           std::string("SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ=="),
           std::string("SCRAM-SHA-256$10:W22ZaJ0SNY7soEsUEjb6gQ==$") + good.substr(good.find("$WG") + 1),
           std::string("SCRAM-SHA-256$x4096:W22ZaJ0SNY7soEsUEjb6gQ==$") + good.substr(good.find("$WG") + 1),
           good.substr(0, good.size() - 4),                  // ServerKey too short
           good.substr(0, good.find("$WG")) + "$AAAA:AAAA",  // keys not 32 bytes
           std::string("SCRAM-SHA-256$4096:!!!!$") + good.substr(good.find("$WG") + 1),
       }) {
    auto v = ParseVerifier(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!bad.empty() && !v.ok()) {
      EXPECT_EQ(std::string(v.status().message()).find(bad), std::string::npos);
    }
  }
}

TEST(ScramTest, Base64) {
  for (const std::string& s : {std::string(""), std::string("a"), std::string("ab"),
                               std::string("abc"), std::string("abcd"), std::string("\0\xff\x10", 3)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("pencil"), "cGVuY2ls");
  EXPECT_FALSE(Base64Decode("abc").ok());
  EXPECT_FALSE(Base64Decode("ab$d").ok());
}

TEST(ScramTest, NamesAndNonces) {
  EXPECT_TRUE(IsValidName("web1"));
  EXPECT_TRUE(IsValidName("ops.team-1_a@x"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("a,b"));
  EXPECT_FALSE(IsValidName("a=b"));
  EXPECT_FALSE(IsValidName("a b"));
  EXPECT_FALSE(IsValidName(std::string(65, 'a')));
  auto n = MakeNonce();
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(IsValidNonce(*n));
  EXPECT_NE(*n, *MakeNonce());
  EXPECT_TRUE(IsValidNonce(kNonce));
  EXPECT_FALSE(IsValidNonce("short"));
  EXPECT_FALSE(IsValidNonce("has,a,comma,in-it-0123456789"));
  EXPECT_FALSE(IsValidNonce("has a space in it 0123456789"));
}

}  // namespace
}  // namespace vox::scram
