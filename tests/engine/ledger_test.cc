#include "engine/ops/ledger.h"

#include <array>
#include <set>
#include <string>
#include <vector>

#include "engine/database.h"
#include "engine/txn.h"
#include "gtest/gtest.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr Timestamp kNow = 1793491200LL * kMicrosPerSecond;
constexpr Timestamp kMinute = 60 * kMicrosPerSecond;
constexpr Timestamp kDay = 86400 * kMicrosPerSecond;

// Everything a failed operation must leave alone: every table's live rows
// and every wallet's counters.
struct DbState {
  std::vector<size_t> live_counts;
  std::vector<std::array<int64_t, 4>> wallet_counters;
  friend bool operator==(const DbState&, const DbState&) = default;
};

bool Contains(absl::string_view text, std::string_view part) {
  return ToStd(text).find(part) != std::string_view::npos;
}

class LedgerTest : public ::testing::Test {
 protected:
  OpContext At(Timestamp now = kNow) { return {.now = now}; }

  // A user with a COIN wallet, inserted directly.
  Uuid AddUser(const std::string& name) {
    Txn txn(db_, kNow);
    const std::string email = name + "@example.com";
    const RowId u =
        txn.Insert(TableId::users,
                   {{users::username, name}, {users::email, email}, {users::display_name, name}});
    InsertUserWallet(txn, u, "COIN");
    EXPECT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
    return UserTable().id(u);
  }

  void Fund(const Uuid& user, int64_t amount, Timestamp at = kNow) {
    auto r = TopUp(db_, At(at), {.user_id = user, .amount = amount});
    ASSERT_TRUE(r.ok()) << r.status();
  }

  // Sets one column of a row outside any operation (as an admin tool would).
  void SetColumn(TableId t, const Uuid& id, ColumnId c, const Value& v) {
    Txn txn(db_, kNow);
    txn.Set(t, db_.table(t).FindById(id), c, v);
    ASSERT_TRUE(txn.ok()) << txn.status();
    txn.Commit();
  }

  void Freeze(const Uuid& user) {
    SetColumn(TableId::wallets, Balance(user).wallet_id, wallets::is_frozen, 1);
  }

  WalletBalance Balance(const Uuid& user, std::string_view currency = "COIN") {
    auto b = GetWalletBalance(db_, user, currency);
    EXPECT_TRUE(b.ok()) << b.status();
    EXPECT_TRUE(b.ok() && b->ledger_consistent);
    return b.ok() ? *b : WalletBalance{};
  }
  WalletBalance Revenue() {
    auto b = GetSystemWalletBalance(db_, WalletKind::SYSTEM_REVENUE);
    EXPECT_TRUE(b.ok()) << b.status();
    return b.ok() ? *b : WalletBalance{};
  }

  const Table& UserTable() { return db_.table(TableId::users); }
  const Table& transfers() { return db_.table(TableId::transactions); }
  RowId TransferRow(const Uuid& id) { return transfers().FindById(id); }

  int AuditCount(AuditAction action) {
    const Table& audit = db_.table(TableId::audit_logs);
    int n = 0;
    for (RowId r = 0; r < audit.row_count(); ++r) {
      n += audit.IsLive(r) && audit.GetEnum<AuditAction>(r, audit_logs::action) == action;
    }
    return n;
  }

  DbState Capture() {
    DbState s;
    for (size_t t = 0; t < kTableCount; ++t) {
      s.live_counts.push_back(db_.table(static_cast<TableId>(t)).live_count());
    }
    const Table& w = db_.table(TableId::wallets);
    for (RowId r = 0; r < w.row_count(); ++r) {
      s.wallet_counters.push_back(
          {w.GetInt(r, wallets::posted_debits), w.GetInt(r, wallets::posted_credits),
           w.GetInt(r, wallets::pending_debits), w.GetInt(r, wallets::pending_credits)});
    }
    return s;
  }

  // The ledger sums to the balances, and every index matches its table.
  void ExpectLedgerSound() {
    const LedgerAudit audit = AuditAllWallets(db_);
    EXPECT_TRUE(audit.ok()) << audit.mismatches.size() << " mismatches, " << audit.overdrawn.size()
                            << " overdrawn, balanced " << audit.balanced;
    const absl::Status indexes = db_.VerifyIndexes();
    EXPECT_TRUE(indexes.ok()) << indexes;
  }

  void SetGiftFee(int32_t bps, int64_t min_fee, Timestamp from = kNow - kDay) {
    auto r = SetFee(db_, At(),
                    {.transfer_type = TransferType::GIFT,
                     .fee_bps = bps,
                     .min_fee = min_fee,
                     .effective_from = from});
    ASSERT_TRUE(r.ok()) << r.status();
  }

  Uuid AddFeature(std::string_view code, PremiumKind kind, int64_t price,
                  std::optional<int32_t> period_days = std::nullopt) {
    auto r = CreatePremiumFeature(db_, At(),
                                  {.code = code,
                                   .name = "Feature",
                                   .price = price,
                                   .kind = kind,
                                   .period_days = period_days});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : Uuid{};
  }

  Database db_{{.id_seed = 7}};
};

// ---- Wallets -------------------------------------------------------------------

TEST_F(LedgerTest, CreateWalletOncePerCurrency) {
  const Uuid alice = AddUser("alice");
  auto gem = CreateWallet(db_, At(), alice, "GEM");
  ASSERT_TRUE(gem.ok()) << gem.status();
  EXPECT_EQ(Balance(alice, "GEM").wallet_id, *gem);
  EXPECT_EQ(Balance(alice, "GEM").balance, 0);

  const DbState before = Capture();
  EXPECT_EQ(CreateWallet(db_, At(), alice, "GEM").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CreateWallet(db_, At(), alice, "COIN").status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(CreateWallet(db_, At(), alice, "gem!").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateWallet(db_, At(), alice, "").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateWallet(db_, At(), Uuid{1, 2}, "GEM").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Capture(), before);
  EXPECT_EQ(GetWalletBalance(db_, alice, "USD").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(LedgerTest, InsertUserWalletLatchesADuplicate) {
  const Uuid alice = AddUser("alice");
  Txn txn(db_, kNow);
  EXPECT_EQ(InsertUserWallet(txn, UserTable().FindById(alice), "COIN"), kNoRow);
  EXPECT_EQ(txn.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(txn.status().message(), "user 'alice' already has a COIN wallet"));
  txn.Rollback();
}

TEST_F(LedgerTest, SystemWalletsAreCreatedOnFirstUse) {
  const Uuid alice = AddUser("alice");
  EXPECT_EQ(GetSystemWalletBalance(db_, WalletKind::SYSTEM_ISSUANCE).status().code(),
            absl::StatusCode::kNotFound);
  Fund(alice, 10);
  Fund(alice, 20);
  auto issuance = GetSystemWalletBalance(db_, WalletKind::SYSTEM_ISSUANCE);
  ASSERT_TRUE(issuance.ok()) << issuance.status();
  EXPECT_EQ(issuance->balance, -30);                        // the source of coins may go negative
  EXPECT_EQ(db_.table(TableId::wallets).live_count(), 2u);  // alice's and issuance
}

// ---- Top-ups and idempotency ---------------------------------------------------------

TEST_F(LedgerTest, TopUpCreditsTheUserFromIssuance) {
  const Uuid alice = AddUser("alice");
  auto r = TopUp(db_, At(), {.user_id = alice, .amount = 1000, .memo = "card 4242"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->already_done);
  const WalletBalance b = Balance(alice);
  EXPECT_EQ(b.posted_credits, 1000);
  EXPECT_EQ(b.balance, 1000);
  EXPECT_EQ(b.available, 1000);
  const RowId t = TransferRow(r->transfer_id);
  ASSERT_NE(t, kNoRow);
  EXPECT_EQ(transfers().GetEnum<TransferType>(t, transactions::type), TransferType::TOP_UP);
  EXPECT_EQ(transfers().GetEnum<TransferStatus>(t, transactions::status), TransferStatus::POSTED);
  EXPECT_EQ(transfers().GetTime(t, transactions::posted_at), kNow);
  EXPECT_EQ(transfers().GetString(t, transactions::memo), "card 4242");
  EXPECT_EQ(AuditCount(AuditAction::WALLET_TOP_UP), 1);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, TopUpRefusesBadAmountsAndUnknownIds) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 5);
  const DbState before = Capture();
  EXPECT_EQ(TopUp(db_, At(), {.user_id = alice, .amount = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TopUp(db_, At(), {.user_id = alice, .amount = -5}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TopUp(db_, At(), {.user_id = Uuid{9, 9}, .amount = 5}).status().code(),
            absl::StatusCode::kNotFound);
  auto no_wallet = TopUp(db_, At(), {.user_id = alice, .amount = 5, .currency = "GEM"});
  EXPECT_EQ(no_wallet.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(Contains(no_wallet.status().message(), "user 'alice' has no GEM wallet"));
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, TopUpThatWouldOverflowIsRefused) {
  const Uuid alice = AddUser("alice");
  Fund(alice, INT64_MAX);
  const DbState before = Capture();
  auto r = TopUp(db_, At(), {.user_id = alice, .amount = 1});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(r.status().message(), "overflow"));
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, RetryWithSameKeyAndFieldsWritesNothing) {
  const Uuid alice = AddUser("alice");
  const TopUpRequest req{.user_id = alice, .amount = 70, .idempotency_key = "pay-1"};
  auto first = TopUp(db_, At(), req);
  ASSERT_TRUE(first.ok()) << first.status();
  const DbState before = Capture();
  auto retry = TopUp(db_, At(kNow + kMinute), req);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_done);
  EXPECT_EQ(retry->transfer_id, first->transfer_id);
  EXPECT_EQ(Capture(), before);
  EXPECT_EQ(Balance(alice).balance, 70);
}

TEST_F(LedgerTest, SameKeyWithOtherFieldsIsAlreadyExists) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  ASSERT_TRUE(TopUp(db_, At(), {.user_id = alice, .amount = 70, .idempotency_key = "k"}).ok());
  const DbState before = Capture();
  auto other_amount = TopUp(db_, At(), {.user_id = alice, .amount = 71, .idempotency_key = "k"});
  EXPECT_EQ(other_amount.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(Contains(other_amount.status().message(),
                       "idempotency key 'k' was already used for a different transfer"));
  EXPECT_EQ(
      TopUp(db_, At(), {.user_id = bob, .amount = 70, .idempotency_key = "k"}).status().code(),
      absl::StatusCode::kAlreadyExists);
  // A key is one transfer whatever the operation.
  EXPECT_EQ(Gift(db_, At(),
                 {.sender_id = alice, .receiver_id = bob, .amount = 10, .idempotency_key = "k"})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Capture(), before);
}

// ---- Gifts --------------------------------------------------------------------

TEST_F(LedgerTest, GiftChargesFeeAtomically) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 1000);
  SetGiftFee(/*bps=*/500, /*min_fee=*/2);
  auto r = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 100});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->fee, 5);
  ASSERT_TRUE(r->fee_id.has_value());
  EXPECT_EQ(Balance(alice).balance, 900);
  EXPECT_EQ(Balance(bob).balance, 95);
  EXPECT_EQ(Revenue().balance, 5);

  const RowId gift = TransferRow(r->gift_id), fee = TransferRow(*r->fee_id);
  EXPECT_EQ(transfers().GetEnum<TransferType>(gift, transactions::type), TransferType::GIFT);
  EXPECT_EQ(transfers().GetInt(gift, transactions::amount), 95);
  EXPECT_EQ(transfers().GetEnum<TransferType>(fee, transactions::type), TransferType::FEE);
  EXPECT_EQ(transfers().GetRef(fee, transactions::parent_id), gift);

  // The receiver is told; the audit row names both users.
  const Table& notes = db_.table(TableId::notifications);
  ASSERT_EQ(notes.live_count(), 1u);
  EXPECT_EQ(notes.GetRef(0, notifications::recipient_id), UserTable().FindById(bob));
  EXPECT_EQ(notes.GetEnum<NotificationKind>(0, notifications::kind),
            NotificationKind::GIFT_RECEIVED);
  EXPECT_EQ(notes.GetString(0, notifications::title), "alice sent you 95 COIN");
  const Table& audit = db_.table(TableId::audit_logs);
  bool found = false;
  for (RowId a = 0; a < audit.row_count(); ++a) {
    if (audit.GetEnum<AuditAction>(a, audit_logs::action) != AuditAction::GIFT_SENT) continue;
    found = true;
    EXPECT_EQ(audit.GetRef(a, audit_logs::user_id), UserTable().FindById(alice));
    EXPECT_EQ(audit.GetRef(a, audit_logs::target_user_id), UserTable().FindById(bob));
  }
  EXPECT_TRUE(found);

  // A small gift pays the minimum fee.
  auto small = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 10});
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(small->fee, 2);
  EXPECT_EQ(Balance(bob).balance, 95 + 8);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, GiftRollsBackWhenItsFeeCannotBePosted) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 1000);
  SetGiftFee(500, 1);
  ASSERT_TRUE(Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 100}).ok());
  // The revenue wallet is frozen: the gift transfer is written first, then
  // the fee is refused, and the whole chain rolls back.
  SetColumn(TableId::wallets, Revenue().wallet_id, wallets::is_frozen, 1);
  const DbState before = Capture();
  auto r = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 100});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(r.status().message(), "SYSTEM_REVENUE COIN wallet is frozen")) << r.status();
  EXPECT_EQ(Capture(), before);
  EXPECT_EQ(Balance(bob).balance, 95);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, GiftWithoutFeeScheduleMovesTheWholeAmount) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 100);
  auto r = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 100});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->fee, 0);
  EXPECT_FALSE(r->fee_id.has_value());
  EXPECT_EQ(Balance(alice).available, 0);
  EXPECT_EQ(Balance(bob).balance, 100);
  EXPECT_EQ(transfers().live_count(), 2u);  // the top-up and the gift
  ExpectLedgerSound();
}

TEST_F(LedgerTest, FeeComesFromTheLatestScheduleInForce) {
  SetGiftFee(/*bps=*/100, /*min_fee=*/0, kNow - kDay);
  SetGiftFee(/*bps=*/300, /*min_fee=*/0, kNow - kMinute);
  SetGiftFee(/*bps=*/2000, /*min_fee=*/0, kNow + kDay);  // not yet
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 1000, kNow), 30);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 1000, kNow - kDay + 1), 10);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 1000, kNow + 2 * kDay), 200);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 1000, kNow - 2 * kDay), 0);
  EXPECT_EQ(FeeFor(db_, TransferType::PURCHASE, 1000, kNow), 0);
  // A later row with the same effective_from replaces the earlier one.
  SetGiftFee(/*bps=*/400, /*min_fee=*/0, kNow - kMinute);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 1000, kNow), 40);
  // The minimum applies, capped at the amount; no overflow on huge amounts.
  SetGiftFee(/*bps=*/100, /*min_fee=*/50, kNow);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 1000, kNow), 50);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, 30, kNow), 30);
  EXPECT_EQ(FeeFor(db_, TransferType::GIFT, INT64_MAX, kNow), INT64_MAX / 100);

  const DbState before = Capture();
  EXPECT_EQ(SetFee(db_, At(), {.fee_bps = 10001}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetFee(db_, At(), {.fee_bps = -1}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SetFee(db_, At(), {.fee_bps = 10, .min_fee = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, GiftRefusedWhenFundsAreTooLow) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 40);
  SetGiftFee(500, 1);
  const DbState before = Capture();
  auto r = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 100});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(r.status().message(),
                       "wallet of user 'alice' has 40 COIN available; the gift needs 100"))
      << r.status();
  EXPECT_EQ(Capture(), before);
  // Held coins are not available either.
  ASSERT_TRUE(
      Reserve(db_, At(), {.payer_id = alice, .amount = 30, .timeout_at = kNow + kDay}).ok());
  EXPECT_EQ(Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 20}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, GiftRefusalsChangeNothing) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  const Uuid carol = AddUser("carol");
  const Uuid dave = AddUser("dave");
  Fund(alice, 1000);
  Fund(carol, 1000);
  SetGiftFee(0, 5);
  SetColumn(TableId::users, dave, users::deleted_at, kNow);
  SetColumn(TableId::users, carol, users::account_status, AccountStatus::SUSPENDED);
  const Uuid erin = AddUser("erin");
  Freeze(erin);
  const DbState before = Capture();

  auto gift = [&](const Uuid& from, const Uuid& to, int64_t amount,
                  std::optional<Uuid> room = std::nullopt) {
    return Gift(db_, At(),
                {.sender_id = from, .receiver_id = to, .amount = amount, .room_id = room})
        .status()
        .code();
  };
  EXPECT_EQ(gift(alice, alice, 10), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gift(alice, bob, 0), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(gift(alice, bob, 5), absl::StatusCode::kInvalidArgument);  // all fee
  EXPECT_EQ(gift(alice, Uuid{4, 4}, 10), absl::StatusCode::kNotFound);
  EXPECT_EQ(gift(alice, dave, 10), absl::StatusCode::kFailedPrecondition);   // deleted
  EXPECT_EQ(gift(carol, bob, 10), absl::StatusCode::kPermissionDenied);      // suspended
  EXPECT_EQ(gift(alice, erin, 10), absl::StatusCode::kFailedPrecondition);   // frozen
  EXPECT_EQ(gift(alice, bob, 10, Uuid{5, 5}), absl::StatusCode::kNotFound);  // no room
  auto no_gem =
      Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 10, .currency = "GEM"});
  EXPECT_EQ(no_gem.status().code(), absl::StatusCode::kNotFound);
  Freeze(alice);
  const DbState frozen = Capture();
  auto r = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 10});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(r.status().message(), "wallet of user 'alice' is frozen"));
  EXPECT_EQ(Capture(), frozen);
  EXPECT_EQ(before.live_counts, frozen.live_counts);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, GiftRetryReturnsTheOriginalTransfers) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 1000);
  SetGiftFee(1000, 0);
  const GiftRequest req{
      .sender_id = alice, .receiver_id = bob, .amount = 200, .idempotency_key = "gift-7"};
  auto first = Gift(db_, At(), req);
  ASSERT_TRUE(first.ok()) << first.status();
  // The fee changes before the retry arrives: it is still the same gift.
  SetGiftFee(0, 0, kNow);
  const DbState before = Capture();
  auto retry = Gift(db_, At(kNow + kMinute), req);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_done);
  EXPECT_EQ(retry->gift_id, first->gift_id);
  EXPECT_EQ(retry->fee_id, first->fee_id);
  EXPECT_EQ(retry->fee, 20);
  EXPECT_EQ(Capture(), before);

  GiftRequest other = req;
  other.amount = 201;
  EXPECT_EQ(Gift(db_, At(), other).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Capture(), before);
  EXPECT_EQ(Balance(alice).balance, 800);
  EXPECT_EQ(Balance(bob).balance, 180);
}

// ---- Call billing -------------------------------------------------------------

TEST_F(LedgerTest, ReserveThenPostChargesTheFinalAmount) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 1000);
  auto held = Reserve(db_, At(), {.payer_id = alice, .amount = 300, .timeout_at = kNow + kDay});
  ASSERT_TRUE(held.ok()) << held.status();
  WalletBalance b = Balance(alice);
  EXPECT_EQ(b.balance, 1000);
  EXPECT_EQ(b.pending_debits, 300);
  EXPECT_EQ(b.available, 700);
  EXPECT_EQ(Revenue().pending_credits, 300);
  EXPECT_EQ(Revenue().balance, 0);
  const RowId t = TransferRow(held->transfer_id);
  EXPECT_EQ(transfers().GetEnum<TransferStatus>(t, transactions::status), TransferStatus::PENDING);
  EXPECT_TRUE(transfers().IsNull(t, transactions::posted_at));
  EXPECT_EQ(AuditCount(AuditAction::TRANSFER_RESERVED), 1);

  ASSERT_TRUE(PostReservation(db_, At(kNow + kMinute), held->transfer_id, 120).ok());
  b = Balance(alice);
  EXPECT_EQ(b.balance, 880);
  EXPECT_EQ(b.pending_debits, 0);
  EXPECT_EQ(b.available, 880);
  EXPECT_EQ(Revenue().balance, 120);
  EXPECT_EQ(Revenue().pending_credits, 0);
  EXPECT_EQ(transfers().GetInt(t, transactions::amount), 120);
  EXPECT_EQ(transfers().GetEnum<TransferStatus>(t, transactions::status), TransferStatus::POSTED);
  EXPECT_EQ(transfers().GetTime(t, transactions::posted_at), kNow + kMinute);
  EXPECT_EQ(AuditCount(AuditAction::TRANSFER_POSTED), 1);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, VoidReleasesTheHold) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 500);
  auto held = Reserve(db_, At(), {.payer_id = alice, .amount = 500, .timeout_at = kNow + kDay});
  ASSERT_TRUE(held.ok()) << held.status();
  EXPECT_EQ(Balance(alice).available, 0);
  ASSERT_TRUE(VoidReservation(db_, At(kNow + kMinute), held->transfer_id).ok());
  EXPECT_EQ(Balance(alice).available, 500);
  EXPECT_EQ(Balance(alice).pending_debits, 0);
  const RowId t = TransferRow(held->transfer_id);
  EXPECT_EQ(transfers().GetEnum<TransferStatus>(t, transactions::status), TransferStatus::VOIDED);
  EXPECT_EQ(transfers().GetTime(t, transactions::voided_at), kNow + kMinute);
  EXPECT_EQ(AuditCount(AuditAction::TRANSFER_VOIDED), 1);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, OnlyPendingTransfersArePostedOrVoided) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 1000);
  auto held = Reserve(db_, At(), {.payer_id = alice, .amount = 100, .timeout_at = kNow + kDay});
  ASSERT_TRUE(held.ok());
  const Uuid id = held->transfer_id;
  DbState before = Capture();
  EXPECT_EQ(PostReservation(db_, At(), id, 101).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PostReservation(db_, At(), id, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(PostReservation(db_, At(), Uuid{3, 3}, 10).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(VoidReservation(db_, At(), Uuid{3, 3}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Capture(), before);

  ASSERT_TRUE(PostReservation(db_, At(), id, 100).ok());
  before = Capture();
  const absl::Status again = PostReservation(db_, At(), id, 50);
  EXPECT_EQ(again.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(again.message(), "is POSTED; only a PENDING transfer can be posted"));
  EXPECT_EQ(VoidReservation(db_, At(), id).code(), absl::StatusCode::kFailedPrecondition);
  // A top-up was never pending.
  auto top = TopUp(db_, At(), {.user_id = alice, .amount = 1});
  ASSERT_TRUE(top.ok());
  before = Capture();
  EXPECT_EQ(VoidReservation(db_, At(), top->transfer_id).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PostReservation(db_, At(), top->transfer_id, 1).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Capture(), before);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, ReserveRefusals) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 100);
  const DbState before = Capture();
  auto over = Reserve(db_, At(), {.payer_id = alice, .amount = 101, .timeout_at = kNow + 1});
  EXPECT_EQ(over.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(over.status().message(), "the call charge needs 101"));
  EXPECT_EQ(
      Reserve(db_, At(), {.payer_id = alice, .amount = 10, .timeout_at = kNow}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Reserve(db_, At(), {.payer_id = alice, .amount = -1, .timeout_at = kNow + 1}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Reserve(db_, At(), {.payer_id = Uuid{1, 1}, .amount = 1, .timeout_at = kNow + 1})
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, ReserveRetryMatchesEvenAfterPosting) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 1000);
  const ReserveRequest req{
      .payer_id = alice, .amount = 300, .timeout_at = kNow + kDay, .idempotency_key = "call-1"};
  auto first = Reserve(db_, At(), req);
  ASSERT_TRUE(first.ok()) << first.status();
  DbState before = Capture();
  auto retry = Reserve(db_, At(), req);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_done);
  EXPECT_EQ(retry->transfer_id, first->transfer_id);
  EXPECT_EQ(Capture(), before);

  ASSERT_TRUE(PostReservation(db_, At(), first->transfer_id, 200).ok());
  before = Capture();
  auto late = Reserve(db_, At(), req);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_TRUE(late->already_done);
  ReserveRequest other = req;
  other.timeout_at += 1;
  EXPECT_EQ(Reserve(db_, At(), other).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, VoidExpiredReservationsVoidsOnlyThoseDue) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 1000);
  std::vector<Uuid> held;
  for (Timestamp timeout : {kNow + kMinute, kNow + 2 * kMinute, kNow + 10 * kMinute}) {
    auto r = Reserve(db_, At(), {.payer_id = alice, .amount = 100, .timeout_at = timeout});
    ASSERT_TRUE(r.ok()) << r.status();
    held.push_back(r->transfer_id);
  }
  ASSERT_TRUE(PostReservation(db_, At(), held[0], 50).ok());  // posted: not voided later
  EXPECT_EQ(Balance(alice).available, 1000 - 50 - 200);

  auto n = VoidExpiredReservations(db_, At(kNow + 5 * kMinute));
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  auto status = [&](const Uuid& id) {
    return transfers().GetEnum<TransferStatus>(TransferRow(id), transactions::status);
  };
  EXPECT_EQ(status(held[0]), TransferStatus::POSTED);
  EXPECT_EQ(status(held[1]), TransferStatus::VOIDED);
  EXPECT_EQ(status(held[2]), TransferStatus::PENDING);
  EXPECT_EQ(Balance(alice).available, 1000 - 50 - 100);
  EXPECT_EQ(*VoidExpiredReservations(db_, At(kNow + 5 * kMinute)), 0);
  EXPECT_EQ(*VoidExpiredReservations(db_, At(kNow + 10 * kMinute)), 1);
  EXPECT_EQ(Balance(alice).available, 950);
  ExpectLedgerSound();
}

// ---- Reversals ----------------------------------------------------------------

TEST_F(LedgerTest, ReverseMovesTheAmountBackOnce) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 1000);
  auto gift = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 300});
  ASSERT_TRUE(gift.ok());
  auto rev = Reverse(db_, At(kNow + kMinute), gift->gift_id, "sent by mistake");
  ASSERT_TRUE(rev.ok()) << rev.status();
  EXPECT_EQ(Balance(alice).balance, 1000);
  EXPECT_EQ(Balance(bob).balance, 0);
  const RowId r = TransferRow(*rev);
  EXPECT_EQ(transfers().GetEnum<TransferType>(r, transactions::type), TransferType::REVERSAL);
  EXPECT_EQ(transfers().GetRef(r, transactions::reverses_id), TransferRow(gift->gift_id));
  EXPECT_EQ(transfers().GetString(r, transactions::memo), "sent by mistake");
  EXPECT_EQ(AuditCount(AuditAction::TRANSFER_REVERSED), 1);
  // The original is untouched.
  EXPECT_EQ(transfers().GetEnum<TransferStatus>(TransferRow(gift->gift_id), transactions::status),
            TransferStatus::POSTED);

  const DbState before = Capture();
  auto twice = Reverse(db_, At(), gift->gift_id, "again");
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(twice.status().message(), "was already reversed by"));
  EXPECT_EQ(Reverse(db_, At(), *rev, "undo").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reverse(db_, At(), Uuid{7, 7}, "x").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Capture(), before);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, ReverseRefusals) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  const Uuid carol = AddUser("carol");
  Fund(alice, 1000);
  auto gift = Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 300});
  ASSERT_TRUE(gift.ok());
  auto held = Reserve(db_, At(), {.payer_id = alice, .amount = 10, .timeout_at = kNow + kDay});
  ASSERT_TRUE(held.ok());
  AddFeature("badge", PremiumKind::ONE_TIME, 10);
  auto bought = PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "badge"});
  ASSERT_TRUE(bought.ok()) << bought.status();
  // bob spends most of the gift: reversing it would overdraw him.
  ASSERT_TRUE(Gift(db_, At(), {.sender_id = bob, .receiver_id = carol, .amount = 250}).ok());

  const DbState before = Capture();
  auto overdraw = Reverse(db_, At(), gift->gift_id, "chargeback");
  EXPECT_EQ(overdraw.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(overdraw.status().message(),
                       "wallet of user 'bob' has 50 COIN available; the reversal needs 300"));
  EXPECT_EQ(Reverse(db_, At(), held->transfer_id, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);  // PENDING
  EXPECT_EQ(Reverse(db_, At(), bought->transfer_id, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);  // use RefundPurchase
  EXPECT_EQ(Reverse(db_, At(), gift->gift_id, "").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Capture(), before);
  ExpectLedgerSound();
}

// ---- Premium ------------------------------------------------------------------

TEST_F(LedgerTest, PremiumFeatureValidation) {
  AddFeature("hd-audio", PremiumKind::SUBSCRIPTION, 50, 30);
  const DbState before = Capture();
  auto code = [&](const PremiumFeatureSpec& spec) {
    return CreatePremiumFeature(db_, At(), spec).status().code();
  };
  EXPECT_EQ(code({.code = "hd-audio", .name = "HD", .price = 5, .kind = PremiumKind::ONE_TIME}),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(code({.code = "s", .name = "S", .price = 5, .kind = PremiumKind::SUBSCRIPTION}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      code({.code = "o", .name = "O", .price = 5, .kind = PremiumKind::ONE_TIME, .period_days = 3}),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.code = "z", .name = "Z", .price = 0}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.code = "", .name = "Z", .price = 1}), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(code({.code = "p",
                  .name = "P",
                  .price = 1,
                  .kind = PremiumKind::SUBSCRIPTION,
                  .period_days = 0}),
            absl::StatusCode::kInvalidArgument);  // the schema's range
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, SubscriptionLifecycle) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 1000);
  AddFeature("hd-audio", PremiumKind::SUBSCRIPTION, 50, 30);
  auto first = PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "hd-audio"});
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(first->expires_at.has_value());
  EXPECT_EQ(*first->expires_at, kNow + 30 * kDay);
  EXPECT_EQ(Balance(alice).balance, 950);
  EXPECT_EQ(Revenue().balance, 50);
  EXPECT_EQ(AuditCount(AuditAction::PREMIUM_PURCHASED), 1);
  const Table& purchases = db_.table(TableId::premium_purchases);
  const RowId p1 = purchases.FindById(first->purchase_id);
  EXPECT_EQ(purchases.GetEnum<PurchaseStatus>(p1, premium_purchases::status),
            PurchaseStatus::ACTIVE);
  EXPECT_EQ(purchases.GetRef(p1, premium_purchases::transaction_id),
            TransferRow(first->transfer_id));

  DbState before = Capture();
  auto second =
      PurchasePremium(db_, At(kNow + kDay), {.user_id = alice, .feature_code = "hd-audio"});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(second.status().message(), "already has an active subscription"));
  EXPECT_EQ(Capture(), before);

  EXPECT_EQ(*ExpireSubscriptions(db_, At(kNow + 29 * kDay)), 0);
  EXPECT_EQ(*ExpireSubscriptions(db_, At(kNow + 30 * kDay)), 1);
  EXPECT_EQ(purchases.GetEnum<PurchaseStatus>(p1, premium_purchases::status),
            PurchaseStatus::EXPIRED);
  EXPECT_EQ(*ExpireSubscriptions(db_, At(kNow + 31 * kDay)), 0);

  auto renewed =
      PurchasePremium(db_, At(kNow + 31 * kDay), {.user_id = alice, .feature_code = "hd-audio"});
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  ASSERT_TRUE(CancelSubscription(db_, At(kNow + 32 * kDay), renewed->purchase_id).ok());
  const RowId p2 = purchases.FindById(renewed->purchase_id);
  EXPECT_EQ(purchases.GetEnum<PurchaseStatus>(p2, premium_purchases::status),
            PurchaseStatus::CANCELLED);
  EXPECT_EQ(purchases.GetTime(p2, premium_purchases::cancelled_at), kNow + 32 * kDay);
  before = Capture();
  EXPECT_EQ(CancelSubscription(db_, At(), renewed->purchase_id).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(CancelSubscription(db_, At(), Uuid{2, 2}).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*ExpireSubscriptions(db_, At(kNow + 100 * kDay)), 0);  // cancelled ones stay
  EXPECT_EQ(Capture(), before);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, LapsedSubscriptionCanBeBoughtBeforeExpiryRuns) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 1000);
  AddFeature("hd-audio", PremiumKind::SUBSCRIPTION, 50, 1);
  auto first = PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "hd-audio"});
  ASSERT_TRUE(first.ok());
  auto next =
      PurchasePremium(db_, At(kNow + 2 * kDay), {.user_id = alice, .feature_code = "hd-audio"});
  ASSERT_TRUE(next.ok()) << next.status();
  const Table& purchases = db_.table(TableId::premium_purchases);
  EXPECT_EQ(purchases.GetEnum<PurchaseStatus>(purchases.FindById(first->purchase_id),
                                              premium_purchases::status),
            PurchaseStatus::EXPIRED);
  ExpectLedgerSound();
}

TEST_F(LedgerTest, PurchaseRefusals) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 20);
  AddFeature("badge", PremiumKind::ONE_TIME, 30);
  const Uuid retired = AddFeature("old", PremiumKind::ONE_TIME, 1);
  SetColumn(TableId::premium_features, retired, premium_features::is_active, 0);
  ASSERT_TRUE(CreatePremiumFeature(db_, At(),
                                   {.code = "gems", .name = "Gems", .price = 1, .currency = "GEM"})
                  .ok());
  const DbState before = Capture();
  auto poor = PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "badge"});
  EXPECT_EQ(poor.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(poor.status().message(), "has 20 COIN available; the purchase needs 30"));
  EXPECT_EQ(PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "old"}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "nope"}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(PurchasePremium(db_, At(), {.user_id = bob, .feature_code = "gems"}).status().code(),
            absl::StatusCode::kNotFound);  // bob has no GEM wallet
  EXPECT_EQ(Capture(), before);
}

TEST_F(LedgerTest, PurchaseRetryIsIdempotent) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 100);
  AddFeature("badge", PremiumKind::ONE_TIME, 30);
  AddFeature("frame", PremiumKind::ONE_TIME, 30);
  const PurchaseRequest req{.user_id = alice, .feature_code = "badge", .idempotency_key = "b1"};
  auto first = PurchasePremium(db_, At(), req);
  ASSERT_TRUE(first.ok()) << first.status();
  const DbState before = Capture();
  auto retry = PurchasePremium(db_, At(), req);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->already_done);
  EXPECT_EQ(retry->purchase_id, first->purchase_id);
  EXPECT_EQ(retry->transfer_id, first->transfer_id);
  EXPECT_EQ(PurchasePremium(db_, At(),
                            {.user_id = alice, .feature_code = "frame", .idempotency_key = "b1"})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Capture(), before);
  EXPECT_EQ(Balance(alice).balance, 70);
}

TEST_F(LedgerTest, RefundReturnsWhatWasPaid) {
  const Uuid alice = AddUser("alice");
  Fund(alice, 100);
  AddFeature("badge", PremiumKind::ONE_TIME, 30);
  auto bought = PurchasePremium(db_, At(), {.user_id = alice, .feature_code = "badge"});
  ASSERT_TRUE(bought.ok());
  // A later price change does not change the refund.
  SetColumn(TableId::premium_features, db_.table(TableId::premium_features).id(0),
            premium_features::price, 99);
  auto refund = RefundPurchase(db_, At(kNow + kDay), bought->purchase_id, "not as described");
  ASSERT_TRUE(refund.ok()) << refund.status();
  EXPECT_EQ(Balance(alice).balance, 100);
  EXPECT_EQ(Revenue().balance, 0);
  const Table& purchases = db_.table(TableId::premium_purchases);
  const RowId p = purchases.FindById(bought->purchase_id);
  EXPECT_EQ(purchases.GetEnum<PurchaseStatus>(p, premium_purchases::status),
            PurchaseStatus::REFUNDED);
  EXPECT_EQ(purchases.GetTime(p, premium_purchases::refunded_at), kNow + kDay);
  EXPECT_EQ(purchases.GetRef(p, premium_purchases::refund_transaction_id), TransferRow(*refund));
  const RowId r = TransferRow(*refund);
  EXPECT_EQ(transfers().GetEnum<TransferType>(r, transactions::type), TransferType::REFUND);
  EXPECT_EQ(transfers().GetInt(r, transactions::amount), 30);
  EXPECT_EQ(transfers().GetRef(r, transactions::reverses_id), TransferRow(bought->transfer_id));
  EXPECT_EQ(AuditCount(AuditAction::PREMIUM_REFUNDED), 1);

  const DbState before = Capture();
  EXPECT_EQ(RefundPurchase(db_, At(), bought->purchase_id, "again").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(RefundPurchase(db_, At(), Uuid{8, 8}, "x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CancelSubscription(db_, At(), bought->purchase_id).code(),
            absl::StatusCode::kFailedPrecondition);  // not a subscription
  EXPECT_EQ(Reverse(db_, At(), *refund, "x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Capture(), before);
  ExpectLedgerSound();
}

// ---- The transfer building block ------------------------------------------------------

TEST_F(LedgerTest, InsertTransferRefusesMismatchedOrEqualWallets) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  ASSERT_TRUE(CreateWallet(db_, At(), alice, "GEM").ok());
  Fund(alice, 100);
  const Table& wallets = db_.table(TableId::wallets);
  const RowId coin = wallets.FindById(Balance(alice).wallet_id);
  const RowId gem = wallets.FindById(Balance(alice, "GEM").wallet_id);
  const RowId bob_coin = wallets.FindById(Balance(bob).wallet_id);
  const DbState before = Capture();
  Txn txn(db_, kNow);
  auto mismatch = InsertTransfer(txn, {.debit_wallet = coin, .credit_wallet = gem, .amount = 5});
  EXPECT_EQ(mismatch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(mismatch.status().message(), "which holds GEM")) << mismatch.status();
  EXPECT_EQ(InsertTransfer(txn, {.debit_wallet = coin, .credit_wallet = coin, .amount = 5})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InsertTransfer(txn, {.debit_wallet = coin, .credit_wallet = bob_coin, .amount = 0})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InsertTransfer(txn, {.debit_wallet = coin, .credit_wallet = bob_coin, .amount = 101})
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(txn.ok());  // refused before anything was written
  auto ok = InsertTransfer(txn, {.debit_wallet = coin, .credit_wallet = bob_coin, .amount = 100});
  EXPECT_TRUE(ok.ok()) << ok.status();
  txn.Rollback();
  EXPECT_EQ(Capture(), before);
}

// ---- Reads and the integrity audit ------------------------------------------------------

TEST_F(LedgerTest, WalletTransactionsPagesNewestFirst) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  SetGiftFee(1000, 1);
  std::vector<Uuid> expected;  // alice's transfers, oldest first
  Timestamp at = kNow;
  for (int i = 0; i < 5; ++i) {
    auto top = TopUp(db_, At(at += kMinute), {.user_id = alice, .amount = 100});
    ASSERT_TRUE(top.ok());
    expected.push_back(top->transfer_id);
    auto gift =
        Gift(db_, At(at += kMinute), {.sender_id = alice, .receiver_id = bob, .amount = 50});
    ASSERT_TRUE(gift.ok());
    expected.push_back(gift->gift_id);
    expected.push_back(*gift->fee_id);
    auto back =
        Gift(db_, At(at += kMinute), {.sender_id = bob, .receiver_id = alice, .amount = 20});
    ASSERT_TRUE(back.ok());
    expected.push_back(back->gift_id);
  }
  // Newest first; the gift and its fee share an instant: the fee (later) first.
  const std::vector<Uuid> want(expected.rbegin(), expected.rend());

  std::vector<Uuid> got;
  std::optional<Uuid> cursor;
  int pages = 0;
  do {
    auto page = WalletTransactions(db_, alice, "COIN", 3, cursor);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const TransferView& v : page->transfers) got.push_back(v.id);
    cursor = page->next_cursor;
  } while (cursor && pages < 100);
  EXPECT_EQ(got, want);
  EXPECT_EQ(pages, 7);  // 20 transfers, 3 a page

  auto first = WalletTransactions(db_, alice, "COIN", 50);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->transfers.size(), 20u);
  EXPECT_FALSE(first->next_cursor.has_value());
  const TransferView& newest = first->transfers[0];
  EXPECT_EQ(newest.type, TransferType::GIFT);
  EXPECT_FALSE(newest.outgoing);
  EXPECT_EQ(newest.counterparty_kind, WalletKind::USER);
  EXPECT_EQ(newest.counterparty_user, bob);
  EXPECT_EQ(newest.amount, 18);
  const TransferView& fee = first->transfers[1];
  EXPECT_EQ(fee.type, TransferType::FEE);
  EXPECT_TRUE(fee.outgoing);
  EXPECT_EQ(fee.counterparty_kind, WalletKind::SYSTEM_REVENUE);
  EXPECT_FALSE(fee.counterparty_user.has_value());
  EXPECT_EQ(fee.parent_id, first->transfers[2].id);
  EXPECT_EQ(first->transfers[2].type, TransferType::GIFT);

  EXPECT_EQ(WalletTransactions(db_, alice, "COIN", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WalletTransactions(db_, alice, "COIN", 501).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A cursor must be a transfer of the wallet being paged.
  EXPECT_EQ(WalletTransactions(db_, alice, "COIN", 5, expected[0]).status().code(),
            absl::StatusCode::kOk);
  auto bob_page = WalletTransactions(db_, bob, "COIN", 5, expected[0]);
  EXPECT_EQ(bob_page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WalletTransactions(db_, alice, "COIN", 5, Uuid{1, 1}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(LedgerTest, AuditFindsCountersThatDisagreeWithTheLedger) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  Fund(alice, 100);
  ASSERT_TRUE(Gift(db_, At(), {.sender_id = alice, .receiver_id = bob, .amount = 40}).ok());
  ExpectLedgerSound();

  // Tamper with alice's counter behind the ledger's back.
  SetColumn(TableId::wallets, Balance(alice).wallet_id, wallets::posted_credits, 150);
  const LedgerAudit audit = AuditAllWallets(db_);
  EXPECT_FALSE(audit.ok());
  EXPECT_FALSE(audit.balanced);
  ASSERT_EQ(audit.mismatches.size(), 1u);
  EXPECT_EQ(audit.mismatches[0].wallet_id, GetWalletBalance(db_, alice)->wallet_id);
  EXPECT_EQ(audit.mismatches[0].detail, "posted_credits is 150, the ledger says 100");
  EXPECT_EQ(audit.wallets, 3);
  EXPECT_EQ(audit.transfers, 2);
  EXPECT_FALSE(GetWalletBalance(db_, alice)->ledger_consistent);
  EXPECT_TRUE(GetWalletBalance(db_, bob)->ledger_consistent);

  // Found by fuzz_wal_reader: counters at the ends of the range made the
  // balance overflow (undefined behaviour, caught by UBSan). They are
  // reported like any other corruption.
  SetColumn(TableId::wallets, Balance(bob).wallet_id, wallets::posted_debits, INT64_MIN);
  const LedgerAudit extreme = AuditAllWallets(db_);
  EXPECT_EQ(extreme.mismatches.size(), 2u);
  EXPECT_FALSE(GetWalletBalance(db_, bob)->ledger_consistent);
}

TEST_F(LedgerTest, LedgerSumsToBalancesAfterAMixedSequence) {
  const Uuid alice = AddUser("alice");
  const Uuid bob = AddUser("bob");
  const Uuid carol = AddUser("carol");
  SetGiftFee(250, 1);
  AddFeature("hd", PremiumKind::SUBSCRIPTION, 40, 7);
  Timestamp at = kNow;
  auto ctx = [&] { return At(at += kMinute); };
  Fund(alice, 1000);
  Fund(bob, 300);
  ASSERT_TRUE(Gift(db_, ctx(), {.sender_id = alice, .receiver_id = bob, .amount = 200}).ok());
  ASSERT_FALSE(Gift(db_, ctx(), {.sender_id = carol, .receiver_id = bob, .amount = 1}).ok());
  const OpContext reserve_at = ctx();
  auto call = Reserve(db_, reserve_at,
                      {.payer_id = bob, .amount = 100, .timeout_at = reserve_at.now + kDay});
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(PostReservation(db_, ctx(), call->transfer_id, 64).ok());
  const OpContext hold_at = ctx();
  ASSERT_TRUE(
      Reserve(db_, hold_at, {.payer_id = alice, .amount = 50, .timeout_at = hold_at.now + 2}).ok());
  auto sub = PurchasePremium(db_, ctx(), {.user_id = carol, .feature_code = "hd"});
  EXPECT_EQ(sub.status().code(), absl::StatusCode::kFailedPrecondition);
  auto gift = Gift(db_, ctx(), {.sender_id = bob, .receiver_id = carol, .amount = 120});
  ASSERT_TRUE(gift.ok());
  ASSERT_TRUE(PurchasePremium(db_, ctx(), {.user_id = carol, .feature_code = "hd"}).ok());
  ASSERT_TRUE(Reverse(db_, ctx(), *gift->fee_id, "fee waived").ok());
  ASSERT_TRUE(VoidExpiredReservations(db_, ctx()).ok());
  ASSERT_TRUE(ExpireSubscriptions(db_, At(at + 8 * kDay)).ok());
  ExpectLedgerSound();

  // Every coin issued is somewhere: the balances of all wallets sum to zero.
  int64_t total = 0;
  for (const Uuid& u : {alice, bob, carol}) total += Balance(u).balance;
  for (WalletKind k : {WalletKind::SYSTEM_ISSUANCE, WalletKind::SYSTEM_REVENUE}) {
    auto b = GetSystemWalletBalance(db_, k);
    ASSERT_TRUE(b.ok());
    total += b->balance;
    EXPECT_TRUE(b->ledger_consistent);
  }
  EXPECT_EQ(total, 0);
  EXPECT_EQ(Balance(alice).available, 800);  // the 50 hold timed out
  EXPECT_EQ(GetSystemWalletBalance(db_, WalletKind::SYSTEM_ISSUANCE)->balance, -1300);
}

}  // namespace
}  // namespace vox
