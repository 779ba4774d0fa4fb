// Search latencies (engine/ops/search.h) on the WORKLOAD.md data set, in
// memory: for each search, a request served from an index (in sort order or
// a key's rows) and one served by a columnar scan, one page each.
//
//   VOX_BENCH_SCALE=0.1 build/bench/search_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
//
// VOX_BENCH_SCALE (default 0.01: 10k users, 20k rooms, 500k audit rows) sets
// the scale factor. The generator writes no call sessions, moderation
// actions or notifications; the fixture adds them through the operations
// (sessions for a third of the present participants of live rooms, one
// moderation action per 10 users, three notifications per user).
// Each benchmark reports rows/page: the mean page size it got.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_workload.h"
#include "benchmark/benchmark.h"
#include "engine/ops/media.h"
#include "engine/ops/moderation.h"
#include "engine/ops/notifications.h"
#include "engine/ops/search.h"
#include "engine/txn.h"
#include "tools/datagen/datagen.h"

namespace vox {
namespace {

constexpr Timestamp kDay = 86400 * kMicrosPerSecond;

struct Fixture {
  std::unique_ptr<Database> db;
  GeneratedData data;
  std::vector<RowId> moderated;  // targets of moderation actions
  std::vector<RowId> inboxes;    // recipients of notifications
};

// Sessions, moderation and notifications, through the operations.
void AddActivity(Fixture& f) {
  Database& db = *f.db;
  std::mt19937_64 rng(7);
  auto chance = [&](int percent) { return static_cast<int>(rng() % 100) < percent; };
  const Table& users = db.table(TableId::users);
  const Table& parts = db.table(TableId::room_participants);
  Timestamp now = kWorkloadNow + kMicrosPerSecond;
  for (RowId room : f.data.live_rooms) {
    std::vector<RowId> present;
    db.range(IndexNo("participants_by_room")).ScanPrefix({room, kNullKey}, [&](RowId p) {
      present.push_back(p);
      return true;
    });
    for (RowId p : present) {
      if (!chance(33)) continue;
      now += 1000;
      auto s = StartCallSession(db, {.now = now}, parts.id(p));
      if (!s.ok()) continue;
      const OpContext ctx{.now = now + 1000};
      const auto reason = static_cast<CallFailureReason>(rng() % 8);
      if (chance(15)) {
        (void)FailCallSession(db, ctx, *s, reason);
        continue;
      }
      CallTelemetry tm{.rtt_ms = static_cast<int32_t>(20 + rng() % 400),
                       .jitter_ms = static_cast<int32_t>(rng() % 60),
                       .packet_loss_bp = static_cast<int32_t>(rng() % 2500),
                       .bitrate_kbps = static_cast<int32_t>(16 + rng() % 256),
                       .region = chance(50) ? "eu" : "us"};
      (void)ConnectCallSession(db, ctx, *s, tm);
      if (chance(20)) (void)DropCallSession(db, ctx, *s, reason);
    }
  }
  // Moderators: the first 20 plain active users, made ADMIN.
  std::vector<RowId> admins;
  {
    Txn txn(db, now);
    for (RowId u : f.data.active_users) {
      if (admins.size() == 20) break;
      if (users.GetEnum<UserRole>(u, users::role) != UserRole::USER) continue;
      txn.Set(TableId::users, u, users::role, UserRole::ADMIN);
      admins.push_back(u);
    }
    txn.Commit();
  }
  const auto& people = f.data.active_users;
  for (size_t i = 0; i < people.size() / 10; ++i) {
    const RowId target = people[rng() % people.size()];
    now += 1000;
    auto id = TakeModerationAction(db, {.now = now},
                                   {.moderator_id = users.id(admins[rng() % admins.size()]),
                                    .target_user_id = users.id(target),
                                    .type = ModerationActionType::WARNING,
                                    .reason = "spam"});
    if (id.ok()) f.moderated.push_back(target);
  }
  for (size_t i = 0; i < 3 * people.size(); ++i) {
    const RowId to = people[rng() % (people.size() / 5 + 1)];  // a fifth of users get most
    const RowId from = people[rng() % people.size()];
    now += 1000;
    const OpContext ctx{.now = now};
    absl::StatusOr<Uuid> id = chance(60)
                                  ? RecordMissedCall(db, ctx, users.id(to), users.id(from))
                                  : SendNotification(db, ctx,
                                                     {.recipient_id = users.id(to),
                                                      .kind = NotificationKind::SYSTEM_MESSAGE,
                                                      .title = "hello"});
    if (id.ok()) {
      f.inboxes.push_back(to);
      if (chance(40)) (void)MarkNotificationRead(db, {.now = now}, *id, users.id(to));
    }
  }
}

Fixture& Data() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    BenchWorkload w = LoadBenchWorkload(0.01);
    fx->db = std::move(w.db);
    fx->data = std::move(w.data);
    AddActivity(*fx);
    std::cerr << "added " << fx->db->table(TableId::call_sessions).live_count()
              << " call sessions, " << fx->db->table(TableId::moderation_actions).live_count()
              << " moderation actions, " << fx->db->table(TableId::notifications).live_count()
              << " notifications\n";
    return fx;
  }();
  return *f;
}

absl::StatusOr<SearchPage> Search(const Database& db, const UserSearch& q) {
  return SearchUsers(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const RoomSearch& q) {
  return SearchRooms(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const CallSessionSearch& q) {
  return SearchCallSessions(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const ParticipantSearch& q) {
  return SearchParticipants(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const ModerationSearch& q) {
  return SearchModeration(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const AuditSearch& q) {
  return SearchAudit(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const TransferSearch& q) {
  return SearchTransfers(db, q);
}
absl::StatusOr<SearchPage> Search(const Database& db, const NotificationSearch& q) {
  return SearchNotifications(db, q);
}

// Runs `make(fixture, i)` for i = 0..63 once, then searches those requests
// round-robin, one page each. Labels the plan of the first one.
template <typename Make>
void RunSearches(benchmark::State& state, Make make) {
  Fixture& f = Data();
  using Req = decltype(make(f, size_t{0}));
  std::vector<Req> requests;
  for (size_t i = 0; i < 64; ++i) requests.push_back(make(f, i));
  {
    auto first = Search(*f.db, requests[0]);
    if (!first.ok()) return state.SkipWithError(std::string(first.status().message()).c_str());
    state.SetLabel(first->plan.Explain());
  }
  size_t i = 0, rows = 0;
  for (auto _ : state) {
    auto page = Search(*f.db, requests[i++ % requests.size()]);
    rows += page->rows.size();
    benchmark::DoNotOptimize(page->rows.data());
  }
  state.counters["rows/page"] = static_cast<double>(rows) / static_cast<double>(state.iterations());
}

RowId Nth(const std::vector<RowId>& v, size_t i) { return v[(i * 7919) % v.size()]; }
std::string TagName(size_t i) { return "tag-" + std::to_string(i % 200); }

// ---- Users
void BM_UsersByEmail(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return UserSearch{.email = f.data.sample_emails[i % f.data.sample_emails.size()]};
  });
}
BENCHMARK(BM_UsersByEmail);

void BM_UsersActiveNewest50(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t i) {
    return UserSearch{.statuses = {AccountStatus::ACTIVE},
                      .created = {.to = kWorkloadNow - static_cast<Timestamp>(i) * kDay},
                      .limit = 50};
  });
}
BENCHMARK(BM_UsersActiveNewest50);

void BM_UsersByUsernamePrefixScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t i) {
    return UserSearch{.username_prefix = "User" + std::to_string(10 + i % 90),
                      .sort = UserSort::kUsernameAsc,
                      .limit = 20};
  });
}
BENCHMARK(BM_UsersByUsernamePrefixScan);

void BM_UsersSuspendedByLastLoginScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t) {
    return UserSearch{.statuses = {AccountStatus::SUSPENDED, AccountStatus::BANNED},
                      .sort = UserSort::kLastLoginDesc,
                      .limit = 50};
  });
}
BENCHMARK(BM_UsersSuspendedByLastLoginScan);

// ---- Rooms
void BM_RoomsLiveByTag50(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t i) {
    return RoomSearch{.is_public = true,
                      .live_now = true,
                      .tags_any = {TagName(i), TagName(i + 1)},
                      .sort = RoomSort::kStartedDesc,
                      .limit = 50};
  });
}
BENCHMARK(BM_RoomsLiveByTag50);

void BM_RoomsLiveWithFreeSeat50(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t) {
    return RoomSearch{.live_now = true, .has_free_seat = true, .limit = 50};
  });
}
BENCHMARK(BM_RoomsLiveWithFreeSeat50);

void BM_RoomsByTagsAllScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t i) {
    return RoomSearch{.tags_all = {TagName(i)}, .max_participants = {.min = 50}, .limit = 50};
  });
}
BENCHMARK(BM_RoomsByTagsAllScan);

void BM_RoomsByOwner(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return RoomSearch{.owner = Nth(f.data.active_users, i), .include_deleted = true};
  });
}
BENCHMARK(BM_RoomsByOwner);

// ---- Call sessions
void BM_CallSessionsOfRoom(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return CallSessionSearch{.room = Nth(f.data.live_rooms, i), .limit = 50};
  });
}
BENCHMARK(BM_CallSessionsOfRoom);

void BM_CallSessionsHighLossScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t i) {
    return CallSessionSearch{.packet_loss_bp = {.min = 1500 + static_cast<int64_t>(i)},
                             .sort = CallSessionSort::kPacketLossDesc,
                             .limit = 50};
  });
}
BENCHMARK(BM_CallSessionsHighLossScan);

// ---- Participants
void BM_ParticipantsOfRoomByLeaveTime(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return ParticipantSearch{
        .room = Nth(f.data.live_rooms, i), .sort = ParticipantSort::kLeftDesc, .limit = 50};
  });
}
BENCHMARK(BM_ParticipantsOfRoomByLeaveTime);

void BM_ParticipantsOfUserScan(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return ParticipantSearch{.user = Nth(f.data.active_users, i), .limit = 50};
  });
}
BENCHMARK(BM_ParticipantsOfUserScan);

// ---- Moderation
void BM_ModerationOfTarget(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return ModerationSearch{.target = Nth(f.moderated, i), .limit = 50};
  });
}
BENCHMARK(BM_ModerationOfTarget);

void BM_ModerationWarningsScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t) {
    return ModerationSearch{
        .types = {ModerationActionType::WARNING}, .in_force = true, .limit = 50};
  });
}
BENCHMARK(BM_ModerationWarningsScan);

// ---- Audit
void BM_AuditOfRoom100(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return AuditSearch{.room = Nth(f.data.live_rooms, i), .limit = 100};
  });
}
BENCHMARK(BM_AuditOfRoom100);

void BM_AuditOfUserLastWeek(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return AuditSearch{.user = Nth(f.data.active_users, i),
                       .time = {.from = kWorkloadNow - 7 * kDay},
                       .limit = 100};
  });
}
BENCHMARK(BM_AuditOfUserLastWeek);

void BM_AuditOnTargetScan(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return AuditSearch{.target = Nth(f.data.active_users, i), .limit = 100};
  });
}
BENCHMARK(BM_AuditOnTargetScan);

// ---- Transfers
void BM_TransfersOfWallet50(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    // A user's wallet row is in the wallets table; funded users have ledgers.
    const Database& db = *f.db;
    const Value key[] = {Value(Nth(f.data.funded_users, i)), Value("COIN")};
    return TransferSearch{.wallet = db.hash(IndexNo("wallets_user_currency")).Find(key),
                          .limit = 50};
  });
}
BENCHMARK(BM_TransfersOfWallet50);

void BM_TransfersLargeGiftsScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t) {
    return TransferSearch{.types = {TransferType::GIFT},
                          .amount = {.min = 500},
                          .sort = TransferSort::kAmountDesc,
                          .limit = 50};
  });
}
BENCHMARK(BM_TransfersLargeGiftsScan);

// ---- Notifications
void BM_NotificationsInboxUnreadFirst(benchmark::State& state) {
  RunSearches(state, [](Fixture& f, size_t i) {
    return NotificationSearch{.recipient = Nth(f.inboxes, i), .limit = 50};
  });
}
BENCHMARK(BM_NotificationsInboxUnreadFirst);

void BM_NotificationsMissedCallsScan(benchmark::State& state) {
  RunSearches(state, [](Fixture&, size_t) {
    return NotificationSearch{.kinds = {NotificationKind::MISSED_CALL},
                              .unread = true,
                              .sort = NotificationSort::kNewestFirst,
                              .limit = 50};
  });
}
BENCHMARK(BM_NotificationsMissedCallsScan);

// A deep page: the 20th page of 50 of a big table's scan, from its cursor.
void BM_AuditScanTwentiethPage(benchmark::State& state) {
  Fixture& f = Data();
  AuditSearch q{.actions = {AuditAction::USER_JOINED}, .limit = 50};
  for (int page = 0; page < 19; ++page) {
    auto p = SearchAudit(*f.db, q);
    if (!p.ok() || !p->next) return state.SkipWithError("fewer than 20 pages");
    q.after = *p->next;
  }
  for (auto _ : state) {
    auto page = SearchAudit(*f.db, q);
    benchmark::DoNotOptimize(page->rows.data());
  }
}
BENCHMARK(BM_AuditScanTwentiethPage);

}  // namespace
}  // namespace vox

BENCHMARK_MAIN();
