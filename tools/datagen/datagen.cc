#include "tools/datagen/datagen.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

#include "engine/bulk_load.h"
#include "engine/txn.h"
#include "engine/value.h"
#include "schema/str.h"

namespace vox {
namespace {

constexpr Timestamp kSecond = kMicrosPerSecond;
constexpr Timestamp kMinute = 60 * kSecond;
constexpr Timestamp kHour = 60 * kMinute;
constexpr Timestamp kDay = 24 * kHour;
constexpr Timestamp kSpan = 90 * kDay;  // generated times fall in [now - kSpan, now]

constexpr uint64_t kBatchRows = 50'000;     // rows per committed transaction
constexpr uint64_t kProgressRows = 10'000;  // rows between looks at the progress clock
constexpr size_t kAuditBatch = 1'000'000;   // audit rows written sorted by user at a time
constexpr int kTagCount = 200;
constexpr int64_t kMaxStartingBalance = 10'000;
constexpr int32_t kGiftFeeBps = 1000;  // the fee_schedule row the gifts follow
constexpr int64_t kGiftMinFee = 1;
constexpr std::string_view kCoin = "COIN";

// Per SF=1: the WORKLOAD.md table.
constexpr double kUsersPerSf = 1'000'000;
constexpr double kRoomsPerSf = 2'000'000;
constexpr double kParticipantsPerRoom = 10;
constexpr double kGiftsPerSf = 1'750'000;      // each writes a GIFT and a FEE row
constexpr double kExtraTopUpsPerSf = 450'000;  // besides every user's starting top-up
constexpr int kLivePresentMin = 20, kLivePresentMax = 200;
constexpr double kLiveLeftMean = 10;      // participants of a LIVE room who already left
constexpr int64_t kMaxEndedOthers = 500;  // keeps every peak within max_participants

constexpr int32_t kMaxParticipantChoices[] = {10, 50, 100, 500, 1000};

// ---- Randomness -------------------------------------------------------------
// xoshiro256** with its own integer and real distributions, so that the same
// seed gives the same rows with any standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& w : s_) w = SplitMix(seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n); 0 when n <= 0.
  int64_t Below(int64_t n) {
    if (n <= 0) return 0;
    return static_cast<int64_t>(
        (static_cast<unsigned __int128>(Next()) * static_cast<uint64_t>(n)) >> 64);
  }
  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) { return lo + Below(hi - lo + 1); }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  bool Chance(double p) { return Unit() < p; }
  // Geometric on {0, 1, 2, ...} with the given mean.
  int64_t Geometric(double mean) {
    if (mean <= 0) return 0;
    const double q = mean / (mean + 1);  // 1 - p
    return static_cast<int64_t>(std::floor(std::log(1.0 - Unit()) / std::log(q)));
  }
  template <typename T, size_t N>
  const T& Pick(const T (&items)[N]) {
    return items[Below(N)];
  }

  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Independent streams per phase, so that one phase's draws never shift another's.
enum class Stream : uint64_t { kIds = 1, kUsers, kRooms, kLedger, kLedgerSim };
Rng MakeRng(uint64_t seed, Stream stream) {
  uint64_t x = seed ^ (static_cast<uint64_t>(stream) * 0xd1b54a32d192ed03ULL);
  return Rng(Rng::SplitMix(x));
}

// ---- Text without allocation --------------------------------------------------

// A small string built on the stack. Values viewing it are valid until the
// next Clear() (Txn::Insert copies string bytes into the column heap).
class Text {
 public:
  Text& Clear() {
    n_ = 0;
    return *this;
  }
  Text& operator<<(std::string_view s) {
    const size_t k = std::min(s.size(), sizeof(buf_) - n_);
    std::memcpy(buf_ + n_, s.data(), k);
    n_ += k;
    return *this;
  }
  Text& operator<<(char c) { return *this << std::string_view(&c, 1); }
  Text& operator<<(int64_t v) {
    n_ = std::to_chars(buf_ + n_, buf_ + sizeof(buf_), v).ptr - buf_;
    return *this;
  }
  Text& operator<<(const Uuid& u) {  // canonical 8-4-4-4-12 lowercase hex
    static constexpr char kHex[] = "0123456789abcdef";
    if (n_ + 36 > sizeof(buf_)) return *this;
    int pos = 0;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) buf_[n_ + pos++] = '-';
      const uint64_t word = i < 16 ? u.hi : u.lo;
      buf_[n_ + pos++] = kHex[(word >> (60 - 4 * (i % 16))) & 0xf];
    }
    n_ += 36;
    return *this;
  }
  std::string_view view() const { return {buf_, n_}; }

 private:
  char buf_[160];
  size_t n_ = 0;
};

// The values of one Insert, built without allocation.
class RowValues {
 public:
  RowValues& Clear() {
    n_ = 0;
    return *this;
  }
  RowValues& Add(ColumnId c, const Value& v) {
    VOX_DCHECK(n_ < kMax);
    cols_[n_++] = {c, v};
    return *this;
  }
  std::span<const ColumnValue> values() const { return {cols_.data(), n_}; }

 private:
  static constexpr size_t kMax = 32;
  std::array<ColumnValue, kMax> cols_;
  size_t n_ = 0;
};

// ---- Vocabulary -------------------------------------------------------------------

constexpr std::string_view kFirstNames[] = {
    "Ada",   "Ben",   "Chloe", "Dev",   "Elena",  "Femi",   "Grace", "Hiro",
    "Ines",  "Jonas", "Kira",  "Liam",  "Maya",   "Noah",   "Olga",  "Priya",
    "Quinn", "Rosa",  "Sam",   "Tariq", "Uma",    "Victor", "Wen",   "Ximena",
    "Yusuf", "Zoe",   "Amir",  "Bea",   "Carlos", "Dana",   "Emeka", "Freya"};
constexpr std::string_view kLastNames[] = {
    "Silva",   "Smith", "Okafor", "Tanaka", "Müller", "Garcia",  "Kowalski", "Nguyen",
    "Haddad",  "Rossi", "Kim",    "Patel",  "Dubois", "Jensen",  "Mensah",   "Ivanova",
    "Costa",   "Brown", "Sato",   "Lopez",  "Novak",  "Singh",   "Moreau",   "Berg",
    "Adeyemi", "Chen",  "Santos", "Ali",    "Walsh",  "Fischer", "Reyes",    "Park"};
struct Place {
  std::string_view country, locale;
};
constexpr Place kPlaces[] = {{"US", "en-US"}, {"US", "en-US"}, {"US", "es-US"}, {"GB", "en-GB"},
                             {"DE", "de-DE"}, {"FR", "fr-FR"}, {"BR", "pt-BR"}, {"IN", "en-IN"},
                             {"JP", "ja-JP"}, {"MX", "es-MX"}, {"NG", "en-NG"}, {"KR", "ko-KR"},
                             {"CA", "en-CA"}, {"ES", "es-ES"}, {"PH", "en-PH"}, {"ID", "id-ID"}};
constexpr std::string_view kLanguages[] = {"en", "en", "en", "en", "es", "pt", "fr",
                                           "de", "ja", "hi", "ko", "id", "ar", "it"};
constexpr std::string_view kTitleMoods[] = {
    "Late-night", "Morning", "Friday", "Cozy",   "Open",  "Weekly", "Founders'", "Rainy-day",
    "Chill",      "Deep",    "Quick",  "Sunday", "Lunch", "Global", "Beginner",  "Midnight"};
constexpr std::string_view kTitleTopics[] = {
    "jazz",   "startup", "poetry", "crypto",  "football", "anime", "design", "language",
    "gaming", "science", "film",   "cooking", "fitness",  "books", "AI",     "travel"};
constexpr std::string_view kTitleKinds[] = {"talk",   "hangout", "AMA",   "jam",
                                            "club",   "circle",  "salon", "lounge",
                                            "meetup", "debate",  "Q&A",   "session"};
constexpr std::string_view kBios[] = {"Here for the music.", "Building things in public.",
                                      "Night owl. Podcast nerd.", "Learning Japanese, slowly.",
                                      "Ask me about sourdough."};
constexpr std::string_view kUserAgents[] = {"VoxApp/4.2.1 (iOS 18.1)", "VoxApp/4.2.0 (Android 15)",
                                            "VoxWeb/2.9 (Chrome 130; Windows)",
                                            "VoxWeb/2.9 (Safari 18; macOS)"};
struct Reason {
  std::string_view text, json;  // the column value and the audit metadata
};
constexpr Reason kKickReasons[] = {{"spam", R"({"reason":"spam"})"},
                                   {"harassment", R"({"reason":"harassment"})"},
                                   {"off-topic", R"({"reason":"off-topic"})"},
                                   {"noise", R"({"reason":"noise"})"}};
constexpr Reason kBanReasons[] = {{"repeated harassment", R"({"reason":"repeated harassment"})"},
                                  {"hate speech", R"({"reason":"hate speech"})"},
                                  {"spam bot", R"({"reason":"spam bot"})"}};
constexpr std::string_view kProviderJson[] = {
    R"({"provider":"LOCAL"})",     R"({"provider":"GOOGLE"})", R"({"provider":"GITHUB"})",
    R"({"provider":"MICROSOFT"})", R"({"provider":"APPLE"})",  R"({"provider":"SAML"})"};
constexpr std::string_view kSelfJson = R"({"self":true})";
constexpr std::string_view kHostJson = R"({"self":false})";
constexpr int64_t kGiftPrices[] = {10, 10, 10, 10, 10,  10,  10,  20,  20,  20,  20,
                                   50, 50, 50, 50, 100, 100, 100, 500, 500, 1000};
constexpr int64_t kTopUpPackages[] = {100, 500, 1000, 2500, 5000, 10000};

// ---- Writes --------------------------------------------------------------------

// Writes rows one of two ways: appended by a BulkLoader (indexes built per
// table once the generator ends it), or inserted through one Txn at a time,
// committed every kBatchRows rows at the group boundaries the caller marks
// with Checkpoint(). The rows are the same.
class Writer {
 public:
  Writer(Database& db, Timestamp now, bool bulk) : db_(db), now_(now) {
    if (bulk) {
      loader_.emplace(db_, now_);
    } else {
      txn_.emplace(db_, now_);
    }
  }

  // The new row, or kNoRow once an error has latched.
  RowId Insert(TableId t, const RowValues& row) {
    const RowId r = loader_ ? loader_->Append(t, row.values()) : txn_->Insert(t, row.values());
    ++rows_[static_cast<size_t>(t)];
    ++total_;
    ++pending_;
    return r;
  }
  absl::Status Checkpoint() {
    if (loader_) return loader_->status();
    if (!txn_->ok()) return Abort();
    return pending_ >= kBatchRows ? Commit() : absl::OkStatus();
  }
  absl::Status Commit() {
    if (loader_) return loader_->status();
    if (!txn_->ok()) return Abort();
    txn_->Commit();
    txn_.emplace(db_, now_);
    pending_ = 0;
    return absl::OkStatus();
  }
  // Makes room for `rows` rows in the empty table `t`.
  void Reserve(TableId t, size_t rows) {
    if (loader_) {
      loader_->Reserve(t, rows);
    } else {
      db_.table(t).Reserve(rows);
    }
  }
  // No more rows for `t` (bulk: its indexes start building).
  void EndTable(TableId t) {
    if (loader_) loader_->EndTable(t);
  }
  // Commits what is left; bulk: waits for every index, with
  // progress(done, total).
  absl::Status Finish(const std::function<void(uint64_t, uint64_t)>& progress) {
    if (!loader_) return Commit();
    absl::Status s = loader_->Finish(progress);
    loader_.reset();
    return s;
  }
  const std::array<uint64_t, kTableCount>& rows() const { return rows_; }
  uint64_t total() const { return total_; }

 private:
  absl::Status Abort() {
    absl::Status s = txn_->status();
    txn_->Rollback();
    txn_.emplace(db_, now_);
    pending_ = 0;
    return s;
  }

  Database& db_;
  const Timestamp now_;
  std::optional<BulkLoader> loader_;
  std::optional<Txn> txn_;
  std::array<uint64_t, kTableCount> rows_{};
  uint64_t total_ = 0;
  uint64_t pending_ = 0;
};

// ---- The generator ---------------------------------------------------------------

// The error behind a row that did not land where the plan put it: the
// transaction's, or Internal when there is none.
absl::Status RowMismatch(absl::Status txn_status, std::string_view table) {
  if (!txn_status.ok()) return txn_status;
  return absl::InternalError(StrCat("datagen: unexpected row id in ", table));
}

enum class UserState : uint8_t { kActive, kDeleted, kSuspended, kBanned };

// One audit row of a user or a room, before it is queued or written.
struct AuditEvent {
  Timestamp at;
  uint32_t seq;
  AuditAction action;
  RowId user, target;
  std::string_view metadata;  // valid until the event is written or queued
};

struct Participant {
  RowId user;
  ParticipantRole role;
  Timestamp joined, left;  // left = kPresent while present
  enum class Departure : uint8_t { kPresent, kLeft, kStayedToEnd, kKicked, kBanned } departure;
  const Reason* reason;
  Timestamp ban_expires;  // 0: none
  bool muted, muted_by_host, hand_raised, speaking, screen_sharing;
  Timestamp muted_at, hand_raised_at;  // 0: null
  int32_t mute_count, hand_raise_count;
};
constexpr Timestamp kPresent = -1;

// A coin movement planned during the room phase or drawn afterwards.
struct LedgerEvent {
  Timestamp at;
  uint32_t seq;
  bool gift;  // else a top-up of `to`
  RowId from, to, room;
  int64_t amount;
};

// One transfer the ledger simulation decided on.
struct Transfer {
  TransferType type;
  Timestamp at;
  RowId from_user, to_user;  // kNoRow: the system wallet of the type
  RowId room;
  int64_t amount;
  int64_t gift_no;  // GIFT rows: their idempotency key number; -1 otherwise
};

class Generator {
 public:
  Generator(Database& db, const GenerateOptions& options)
      : db_(db),
        options_(options),
        now_(options.now),
        start_(options.now - kSpan),
        writer_(db, options.now, options.bulk && db.commit_sink() == nullptr),
        id_rng_(MakeRng(options.seed, Stream::kIds)) {}

  absl::StatusOr<GeneratedData> Run();

 private:
  absl::Status InsertReferenceData();
  absl::Status GenerateUsers();
  absl::Status GenerateRooms();
  absl::Status GenerateRoom(Rng& rng, RowId room_no, RoomStatus status);
  void DrawParticipant(Rng& rng, Participant& p, Timestamp end, bool mute_on_join,
                       bool hands_allowed);
  absl::Status GenerateLedger();
  template <typename Fn>
  void SimulateLedger(std::span<const LedgerEvent> events, Fn&& emit) const;

  // The id of the next row of `t`, minted as the engine mints ids
  // (Database::NewId): a UUIDv7 at `at` carrying its row id, so that the
  // row is found from its id without the primary key index.
  // REQUIRES: the next insert into `t` appends (a load never deletes).
  Uuid MintId(TableId t, Timestamp at) {
    const uint64_t ms = static_cast<uint64_t>(at / 1000);
    const uint64_t r1 = id_rng_.Next(), r2 = id_rng_.Next();
    const auto row = static_cast<RowId>(db_.table(t).row_count());
    return {(ms << 16) | 0x7000 | (r1 & 0x0fff),
            0x8000000000000000ULL | (r2 & 0x3fffffff00000000ULL) | row};
  }
  static Uuid RandomIpv4(Rng& rng) {
    const uint64_t ip = (static_cast<uint64_t>(rng.Between(1, 223)) << 24) | rng.Below(1 << 24);
    return {0, (uint64_t{0xffff} << 32) | ip};
  }
  // How many of `pool` (users, by creation) were created at or before `t`.
  size_t CreatedBy(const std::vector<RowId>& pool, Timestamp t) const {
    return std::upper_bound(pool.begin(), pool.end(), t,
                            [&](Timestamp x, RowId u) { return x < user_created_[u]; }) -
           pool.begin();
  }
  void WriteAudit(const AuditEvent& e, RowId room, const Uuid* ip = nullptr,
                  std::string_view user_agent = {});
  // Audit rows of the room and ledger phases wait in a queue and are written
  // in batches sorted by user: through Txn, the audit_by_user index then
  // takes them in key order, and audit_by_room in a region of recent rooms,
  // instead of both at random. The order (so the row ids) is part of the
  // data set: a bulk load, which builds indexes afterwards, keeps it too.
  void QueueAudit(const AuditEvent& e, RowId room);
  absl::Status FlushAuditQueue(bool all);

  // Reports (phase, done, total): always when `force`d (a phase's start and
  // end), else at most once per options_.progress_seconds, looking at the
  // clock every kProgressRows rows; never the same call twice.
  void Progress(std::string_view phase, uint64_t done, uint64_t total, bool force = false) {
    if (!options_.progress) return;
    if (!force) {
      if (writer_.total() - last_progress_rows_ < kProgressRows) return;
      last_progress_rows_ = writer_.total();
      if (std::chrono::steady_clock::now() < next_progress_) return;
    }
    if (phase == last_phase_ && done == last_done_) return;
    next_progress_ = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(options_.progress_seconds));
    last_phase_ = phase;
    last_done_ = done;
    options_.progress(phase, done, total);
  }

  Database& db_;
  const GenerateOptions& options_;
  const Timestamp now_, start_;
  Writer writer_;
  Rng id_rng_;
  uint64_t last_progress_rows_ = 0;
  std::chrono::steady_clock::time_point next_progress_{};
  std::string_view last_phase_;  // phases are string literals
  uint64_t last_done_ = 0;
  RowValues row_;
  Text text_, text2_, text3_;

  size_t n_users_ = 0, n_rooms_ = 0;
  double ended_others_mean_ = 0;

  std::vector<Timestamp> user_created_;
  std::vector<Timestamp> user_until_;  // the end of what the user may do: now if ACTIVE
  std::vector<UserState> user_state_;
  std::vector<int64_t> starting_balance_;
  std::vector<RowId> active_, not_deleted_;  // ascending, hence by creation time
  std::vector<uint32_t> seen_;               // per user: the last room (+1) it joined

  // The room being generated.
  std::vector<Participant> parts_;
  std::vector<AuditEvent> events_;
  std::vector<std::pair<Timestamp, int>> presence_;
  char ended_json_[48];
  char recording_json_[2][64];
  uint32_t seq_ = 0;

  struct QueuedAudit {
    Timestamp at;
    uint32_t seq;  // a total order, so that sorting is deterministic
    AuditAction action;
    RowId user, target, room;
    uint32_t metadata_offset, metadata_size;  // in audit_text_
  };
  std::vector<QueuedAudit> audit_queue_;
  std::vector<QueuedAudit> audit_sorted_;   // FlushAuditQueue's scratch
  std::vector<uint32_t> audit_user_start_;  // FlushAuditQueue's scratch
  std::string audit_text_;
  uint32_t audit_seq_ = 0;

  std::vector<LedgerEvent> ledger_events_;
  std::vector<RowId> recorded_rooms_;
  GeneratedData out_;
};

absl::StatusOr<GeneratedData> Generator::Run() {
  const auto t0 = std::chrono::steady_clock::now();
  const double s = options_.scale;
  if (!(s >= 0.0005 && s <= 50)) {
    return absl::InvalidArgumentError(StrCat("scale ", s, " is outside [0.0005, 50]"));
  }
  for (const TableDef& def : kTables) {
    if (db_.table(def.id).row_count() != 0) {
      return absl::FailedPreconditionError(
          StrCat("GenerateWorkload needs an empty database; table ", def.name, " has rows"));
    }
  }
  n_users_ = static_cast<size_t>(std::llround(kUsersPerSf * s));
  n_rooms_ = static_cast<size_t>(std::llround(kRoomsPerSf * s));

  // Reserve what the load will need (columns grow by whole chunks anyway).
  const auto reserve = [&](TableId t, double rows) {
    writer_.Reserve(t, static_cast<size_t>(rows));
  };
  reserve(TableId::users, n_users_);
  reserve(TableId::auth_providers, n_users_ * 1.3);
  reserve(TableId::rooms, n_rooms_);
  reserve(TableId::room_participants, n_rooms_ * kParticipantsPerRoom);
  reserve(TableId::recordings, n_rooms_ * 0.1);
  reserve(TableId::audit_logs, n_rooms_ * 25.0);
  reserve(TableId::wallets, n_users_ + 2.0);
  reserve(TableId::transactions, n_users_ * 5.0);

  VOX_RETURN_IF_ERROR(InsertReferenceData());
  VOX_RETURN_IF_ERROR(GenerateUsers());
  VOX_RETURN_IF_ERROR(GenerateRooms());
  VOX_RETURN_IF_ERROR(GenerateLedger());
  // Bulk: the tables still open (audit_logs, transactions) end here; the
  // indexes of the others have been building since they ended.
  std::function<void(uint64_t, uint64_t)> index_progress;
  if (options_.progress) {
    index_progress = [&](uint64_t done, uint64_t total) {
      Progress("indexes", done, total, /*force=*/true);
    };
  }
  VOX_RETURN_IF_ERROR(writer_.Finish(index_progress));

  out_.rows = writer_.rows();
  out_.total_rows = writer_.total();
  out_.active_users = active_;
  const size_t email_step = std::max<size_t>(1, not_deleted_.size() / 1000);
  for (size_t i = 0; i < not_deleted_.size() && out_.sample_emails.size() < 1000; i += email_step) {
    text_.Clear() << "user" << static_cast<int64_t>(not_deleted_[i]) << "@example.com";
    out_.sample_emails.emplace_back(text_.view());
  }
  const size_t rec_step = std::max<size_t>(1, (recorded_rooms_.size() + 9999) / 10000);
  for (size_t i = 0; i < recorded_rooms_.size(); i += rec_step) {
    out_.rooms_with_recordings.push_back(recorded_rooms_[i]);
  }
  out_.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return std::move(out_);
}

absl::Status Generator::InsertReferenceData() {
  Progress("reference", 0, kTagCount + 1, true);
  for (int i = 0; i < kTagCount; ++i) {
    const Timestamp at = start_ + i * kSecond;
    text_.Clear() << "tag-" << int64_t{i};
    const RowId r = writer_.Insert(TableId::tags, row_.Clear()
                                                      .Add(tags::id, MintId(TableId::tags, at))
                                                      .Add(tags::name, text_.view())
                                                      .Add(tags::created_at, at));
    out_.tag_ids.emplace(std::string(text_.view()), static_cast<uint16_t>(r + 1));
  }
  writer_.Insert(TableId::fee_schedule,
                 row_.Clear()
                     .Add(fee_schedule::id, MintId(TableId::fee_schedule, start_))
                     .Add(fee_schedule::transfer_type, TransferType::GIFT)
                     .Add(fee_schedule::fee_bps, kGiftFeeBps)
                     .Add(fee_schedule::min_fee, kGiftMinFee)
                     .Add(fee_schedule::effective_from, start_)
                     .Add(fee_schedule::created_at, start_));
  VOX_RETURN_IF_ERROR(writer_.Commit());
  writer_.EndTable(TableId::tags);
  writer_.EndTable(TableId::fee_schedule);
  Progress("reference", kTagCount + 1, kTagCount + 1, true);
  return absl::OkStatus();
}

void Generator::WriteAudit(const AuditEvent& e, RowId room, const Uuid* ip,
                           std::string_view user_agent) {
  row_.Clear()
      .Add(audit_logs::id, MintId(TableId::audit_logs, e.at))
      .Add(audit_logs::action, e.action)
      .Add(audit_logs::timestamp, e.at);
  if (e.user != kNoRow) row_.Add(audit_logs::user_id, e.user);
  if (room != kNoRow) row_.Add(audit_logs::room_id, room);
  if (e.target != kNoRow) row_.Add(audit_logs::target_user_id, e.target);
  if (!e.metadata.empty()) row_.Add(audit_logs::metadata, e.metadata);
  if (ip != nullptr) row_.Add(audit_logs::ip_address, *ip);
  if (!user_agent.empty()) row_.Add(audit_logs::user_agent, user_agent);
  writer_.Insert(TableId::audit_logs, row_);
}

void Generator::QueueAudit(const AuditEvent& e, RowId room) {
  audit_queue_.push_back({e.at, audit_seq_++, e.action, e.user, e.target, room,
                          static_cast<uint32_t>(audit_text_.size()),
                          static_cast<uint32_t>(e.metadata.size())});
  audit_text_.append(e.metadata);
}

absl::Status Generator::FlushAuditQueue(bool all) {
  if (!all && audit_queue_.size() < kAuditBatch) return absl::OkStatus();
  // audit_by_user's key order: user, then newest first (system rows last),
  // then queue order. A counting sort by user (stable: queue order within
  // a user) and a sort of each user's few rows: the same order as one
  // std::sort by (user, newest, seq), in a fraction of its time.
  std::vector<uint32_t>& start = audit_user_start_;
  start.assign(n_users_ + 2, 0);
  const auto bucket = [&](RowId user) { return user == kNoRow ? n_users_ : size_t{user}; };
  for (const QueuedAudit& q : audit_queue_) ++start[bucket(q.user) + 1];
  for (size_t b = 1; b < start.size(); ++b) start[b] += start[b - 1];
  audit_sorted_.resize(audit_queue_.size());
  for (const QueuedAudit& q : audit_queue_) audit_sorted_[start[bucket(q.user)]++] = q;
  const auto newest_first = [](const QueuedAudit& a, const QueuedAudit& b) {
    return a.at != b.at ? a.at > b.at : a.seq < b.seq;
  };
  for (size_t from = 0, to; from < audit_sorted_.size(); from = to) {
    to = from + 1;
    while (to < audit_sorted_.size() && audit_sorted_[to].user == audit_sorted_[from].user) ++to;
    if (to - from > 1) {
      std::sort(audit_sorted_.begin() + from, audit_sorted_.begin() + to, newest_first);
    }
  }
  for (const QueuedAudit& q : audit_sorted_) {
    const std::string_view metadata(audit_text_.data() + q.metadata_offset, q.metadata_size);
    WriteAudit({q.at, q.seq, q.action, q.user, q.target, metadata}, q.room);
    VOX_RETURN_IF_ERROR(writer_.Checkpoint());
  }
  audit_queue_.clear();
  audit_sorted_.clear();
  audit_text_.clear();
  return absl::OkStatus();
}

// ---- Users --------------------------------------------------------------------

absl::Status Generator::GenerateUsers() {
  Rng rng = MakeRng(options_.seed, Stream::kUsers);
  const size_t n = n_users_;
  Progress("users", 0, n, true);

  // Exact shares, shuffled: 95% active, 1% deleted, 3% suspended, 1% banned.
  user_state_.assign(n, UserState::kActive);
  {
    size_t i = 0;
    const auto fill = [&](double share, UserState st) {
      for (size_t k = std::llround(share * n); k > 0 && i < n; --k) user_state_[i++] = st;
    };
    fill(0.01, UserState::kDeleted);
    fill(0.03, UserState::kSuspended);
    fill(0.01, UserState::kBanned);
    for (size_t k = n; k > 1; --k) std::swap(user_state_[k - 1], user_state_[rng.Below(k)]);
  }
  user_created_.resize(n);
  user_until_.resize(n);
  starting_balance_.resize(n);
  seen_.assign(n, 0);
  active_.reserve(n);
  not_deleted_.reserve(n);
  const Timestamp slot = std::max<Timestamp>(1, kSpan / static_cast<Timestamp>(n));

  struct Login {
    Timestamp at;
    int provider;  // 0: LOCAL, 1: the linked OAuth provider
    bool ok;
  };
  std::vector<Login> logins;
  static constexpr AuthProviderType kOAuth[] = {
      AuthProviderType::GOOGLE, AuthProviderType::GOOGLE,   AuthProviderType::GOOGLE,
      AuthProviderType::GOOGLE, AuthProviderType::GOOGLE,   AuthProviderType::GOOGLE,
      AuthProviderType::GOOGLE, AuthProviderType::GOOGLE,   AuthProviderType::GOOGLE,
      AuthProviderType::GOOGLE, AuthProviderType::GOOGLE,   AuthProviderType::GOOGLE,
      AuthProviderType::GITHUB, AuthProviderType::GITHUB,   AuthProviderType::GITHUB,
      AuthProviderType::GITHUB, AuthProviderType::APPLE,    AuthProviderType::APPLE,
      AuthProviderType::APPLE,  AuthProviderType::MICROSOFT};  // 60/20/15/5

  for (size_t u = 0; u < n; ++u) {
    const UserState state = user_state_[u];
    const Timestamp created = start_ + static_cast<Timestamp>(u) * slot + rng.Below(slot);
    user_created_[u] = created;
    if (state == UserState::kActive) active_.push_back(static_cast<RowId>(u));
    if (state != UserState::kDeleted) not_deleted_.push_back(static_cast<RowId>(u));
    starting_balance_[u] = rng.Between(0, kMaxStartingBalance);

    // The end of the user's own activity: deletion, suspension/ban, or now.
    const Timestamp end = state == UserState::kActive ? now_ : created + rng.Below(now_ - created);
    user_until_[u] = end;
    const bool verified = rng.Chance(0.97);
    const int64_t role_draw = rng.Below(1000);
    const UserRole role = role_draw < 995   ? UserRole::USER
                          : role_draw < 999 ? UserRole::MODERATOR
                                            : UserRole::ADMIN;
    const bool oauth = rng.Chance(0.30);
    const AuthProviderType oauth_type = rng.Pick(kOAuth);
    const Timestamp linked_at = created + rng.Below(std::min<Timestamp>(end - created + 1, kDay));

    // Sign-ins: successes, the odd failure (counted until the next success), logouts.
    logins.clear();
    for (int64_t k = 1 + rng.Geometric(0.5); k > 0; --k) {
      const Timestamp at = created + rng.Below(end - created + 1);
      logins.push_back({at, oauth && at >= linked_at && rng.Chance(0.6) ? 1 : 0, true});
    }
    if (rng.Chance(0.08)) logins.push_back({created + rng.Below(end - created + 1), 0, false});
    std::sort(logins.begin(), logins.end(),
              [](const Login& a, const Login& b) { return a.at < b.at; });
    Timestamp last_login = 0, last_used[2] = {0, 0}, touched = created;
    int32_t failed = 0;
    for (const Login& l : logins) {
      touched = l.at;  // every sign-in writes the users row
      if (l.ok) {
        last_login = l.at;
        last_used[l.provider] = l.at;
        failed = 0;
      } else {
        ++failed;
      }
    }
    if (state != UserState::kActive) touched = end;

    // The users row.
    const Uuid id = MintId(TableId::users, created);
    text_.Clear() << "user" << static_cast<int64_t>(u);
    text2_.Clear() << "user" << static_cast<int64_t>(u) << "@example.com";
    row_.Clear()
        .Add(users::id, id)
        .Add(users::username, text_.view())
        .Add(users::is_active, state == UserState::kActive)
        .Add(users::is_verified, verified)
        .Add(users::created_at, created)
        .Add(users::updated_at, touched)
        .Add(users::role, role)
        .Add(users::failed_login_count, failed);
    if (last_login != 0) row_.Add(users::last_login_at, last_login);
    char hash[60];
    const Place& place = rng.Pick(kPlaces);
    const std::string_view bio = rng.Chance(0.05) ? rng.Pick(kBios) : std::string_view();
    if (state == UserState::kDeleted) {
      row_.Add(users::display_name, "Deleted User")
          .Add(users::deleted_at, end)
          .Add(users::account_status, AccountStatus::DELETED);
    } else {
      static constexpr char kB64[] =
          "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
      std::memcpy(hash, "$2b$12$", 7);
      uint64_t bits = 0;
      for (int i = 7; i < 60; ++i) {
        if ((i - 7) % 10 == 0) bits = rng.Next();
        hash[i] = kB64[bits & 63];
        bits >>= 6;
      }
      text3_.Clear() << rng.Pick(kFirstNames) << ' ' << rng.Pick(kLastNames);
      row_.Add(users::email, text2_.view())
          .Add(users::password_hash, std::string_view(hash, 60))
          .Add(users::display_name, text3_.view())
          .Add(users::country, place.country)
          .Add(users::locale, place.locale);
      if (!bio.empty()) row_.Add(users::bio, bio);
      if (state == UserState::kSuspended) {
        row_.Add(users::account_status, AccountStatus::SUSPENDED)
            .Add(users::status_reason, "spam reports")
            .Add(users::suspended_until, now_ + rng.Between(1, 30) * kDay);
      } else if (state == UserState::kBanned) {
        row_.Add(users::account_status, AccountStatus::BANNED)
            .Add(users::status_reason, "terms of service violation");
      }
    }
    const RowId user = writer_.Insert(TableId::users, row_);
    if (user != static_cast<RowId>(u)) return RowMismatch(writer_.Checkpoint(), "users");

    // Sign-in methods. Deleting a user removes them (DeleteUser cascades).
    if (state != UserState::kDeleted) {
      text3_.Clear() << id;
      row_.Clear()
          .Add(auth_providers::id, MintId(TableId::auth_providers, created))
          .Add(auth_providers::user_id, user)
          .Add(auth_providers::provider_type, AuthProviderType::LOCAL)
          .Add(auth_providers::provider_id, text3_.view())
          .Add(auth_providers::provider_email, text2_.view())
          .Add(auth_providers::created_at, created)
          .Add(auth_providers::updated_at, std::max(created, last_used[0]));
      if (last_used[0] != 0) row_.Add(auth_providers::last_used_at, last_used[0]);
      writer_.Insert(TableId::auth_providers, row_);
      if (oauth) {
        // Unique per (type, id): a number derived injectively from the user.
        text3_.Clear() << static_cast<int64_t>(104'729'000'000'000 + u * 7919);
        row_.Clear()
            .Add(auth_providers::id, MintId(TableId::auth_providers, linked_at))
            .Add(auth_providers::user_id, user)
            .Add(auth_providers::provider_type, oauth_type)
            .Add(auth_providers::provider_id, text3_.view())
            .Add(auth_providers::provider_email, text2_.view())
            .Add(auth_providers::created_at, linked_at)
            .Add(auth_providers::updated_at, std::max(linked_at, last_used[1]));
        if (last_used[1] != 0) row_.Add(auth_providers::last_used_at, last_used[1]);
        writer_.Insert(TableId::auth_providers, row_);
      }
    }

    // Authentication audit rows, in time order.
    const std::string_view agent = rng.Pick(kUserAgents);
    const Uuid ip = RandomIpv4(rng);
    seq_ = 0;
    events_.push_back({created, seq_++, AuditAction::USER_REGISTERED, user, kNoRow, {}});
    if (oauth) {
      events_.push_back({linked_at, seq_++, AuditAction::AUTH_PROVIDER_LINKED, user, kNoRow,
                         kProviderJson[static_cast<int>(oauth_type)]});
    }
    for (const Login& l : logins) {
      if (l.ok) {
        events_.push_back({l.at, seq_++, AuditAction::USER_LOGIN_SUCCESS, user, kNoRow,
                           kProviderJson[l.provider == 0 ? 0 : static_cast<int>(oauth_type)]});
      } else {
        events_.push_back({l.at, seq_++, AuditAction::USER_LOGIN_FAILED, user, kNoRow,
                           R"({"reason":"bad_credentials","provider":"LOCAL"})"});
      }
    }
    if (last_login != 0 && state == UserState::kActive && rng.Chance(0.25)) {
      events_.push_back({last_login + rng.Below(now_ - last_login + 1),
                         seq_++,
                         AuditAction::USER_LOGOUT,
                         user,
                         kNoRow,
                         {}});
    }
    switch (state) {
      case UserState::kDeleted:
        events_.push_back({end, seq_++, AuditAction::USER_LOGOUT, user, kNoRow,
                           R"({"reason":"account_deleted"})"});
        break;
      case UserState::kSuspended:
        events_.push_back({end, seq_++, AuditAction::ACCOUNT_STATUS_CHANGED, kNoRow, user,
                           R"({"account_status":"SUSPENDED"})"});
        break;
      case UserState::kBanned:
        events_.push_back({end, seq_++, AuditAction::ACCOUNT_STATUS_CHANGED, kNoRow, user,
                           R"({"account_status":"BANNED"})"});
        break;
      case UserState::kActive:
        break;
    }
    std::sort(events_.begin(), events_.end(), [](const AuditEvent& a, const AuditEvent& b) {
      return a.at != b.at ? a.at < b.at : a.seq < b.seq;
    });
    for (const AuditEvent& e : events_) {
      const bool sign_in = e.action == AuditAction::USER_REGISTERED ||
                           e.action == AuditAction::USER_LOGIN_SUCCESS ||
                           e.action == AuditAction::USER_LOGIN_FAILED;
      WriteAudit(e, kNoRow, sign_in ? &ip : nullptr, sign_in ? agent : std::string_view());
    }
    events_.clear();

    VOX_RETURN_IF_ERROR(writer_.Checkpoint());
    Progress("users", u + 1, n);
  }
  writer_.EndTable(TableId::users);
  writer_.EndTable(TableId::auth_providers);
  Progress("users", n, n, true);
  return absl::OkStatus();
}

// ---- Rooms, participants, recordings and their audit trails ---------------------

absl::Status Generator::GenerateRooms() {
  Rng rng = MakeRng(options_.seed, Stream::kRooms);
  const size_t n = n_rooms_;
  Progress("rooms", 0, n, true);

  // Exact shares, shuffled: LIVE 1%, CREATED 4%, CANCELLED 5%, ENDED 90%.
  std::vector<RoomStatus> status(n, RoomStatus::ENDED);
  size_t n_live = 0;
  {
    size_t i = 0;
    const auto fill = [&](double share, RoomStatus st) {
      size_t k = std::llround(share * n);
      if (st == RoomStatus::LIVE) n_live = k;
      for (; k > 0 && i < n; --k) status[i++] = st;
    };
    fill(0.01, RoomStatus::LIVE);
    fill(0.04, RoomStatus::CREATED);
    fill(0.05, RoomStatus::CANCELLED);
    for (size_t k = n; k > 1; --k) std::swap(status[k - 1], status[rng.Below(k)]);
  }
  // ENDED rooms carry what LIVE ones leave of ~10 participants a room.
  const double live_mean = (kLivePresentMin + kLivePresentMax) / 2.0 + kLiveLeftMean;
  const size_t n_ended = std::count(status.begin(), status.end(), RoomStatus::ENDED);
  ended_others_mean_ = std::max(
      0.5, (kParticipantsPerRoom * n - live_mean * n_live) / std::max<size_t>(1, n_ended) - 1.0);
  ledger_events_.reserve(static_cast<size_t>(kGiftsPerSf * options_.scale * 1.1 +
                                             kExtraTopUpsPerSf * options_.scale + 64));

  for (size_t j = 0; j < n; ++j) {
    VOX_RETURN_IF_ERROR(GenerateRoom(rng, static_cast<RowId>(j), status[j]));
    VOX_RETURN_IF_ERROR(writer_.Checkpoint());
    VOX_RETURN_IF_ERROR(FlushAuditQueue(j + 1 == n));
    Progress("rooms", j + 1, n);
  }
  writer_.EndTable(TableId::rooms);
  writer_.EndTable(TableId::room_participants);
  writer_.EndTable(TableId::recordings);
  Progress("rooms", n, n, true);
  return absl::OkStatus();
}

void Generator::DrawParticipant(Rng& rng, Participant& p, Timestamp end, bool mute_on_join,
                                bool hands_allowed) {
  // Media and moderation state over the stay [joined, end], with its audit rows.
  const RowId host = parts_[0].user;
  const auto within = [&](Timestamp from) { return from + rng.Below(end - from + 1); };
  if (rng.Chance(0.03)) {
    p.role = ParticipantRole::CO_HOST;
    events_.push_back({within(p.joined), seq_++, AuditAction::ROLE_PROMOTION, host, p.user,
                       R"({"role":"CO_HOST"})"});
  }
  if (mute_on_join) {
    p.muted = p.muted_by_host = true;
    p.muted_at = p.joined;
    if (rng.Chance(0.3)) {
      p.muted = p.muted_by_host = false;
      events_.push_back(
          {within(p.joined), seq_++, AuditAction::USER_UNMUTED, host, p.user, kHostJson});
    }
  } else if (rng.Chance(0.12)) {
    const bool by_host = rng.Chance(0.15);
    p.muted = true;
    p.muted_by_host = by_host;
    p.muted_at = within(p.joined);
    p.mute_count = 1;
    events_.push_back({p.muted_at, seq_++, AuditAction::USER_MUTED, by_host ? host : p.user, p.user,
                       by_host ? kHostJson : kSelfJson});
    if (!by_host && rng.Chance(0.6)) {
      p.muted = false;
      events_.push_back(
          {within(p.muted_at), seq_++, AuditAction::USER_UNMUTED, p.user, p.user, kSelfJson});
    }
  }
  if (hands_allowed && rng.Chance(0.08)) {
    p.hand_raised = true;
    p.hand_raised_at = within(p.joined);
    p.hand_raise_count = 1;
    events_.push_back({p.hand_raised_at, seq_++, AuditAction::HAND_RAISED, p.user, p.user, {}});
    if (rng.Chance(0.7)) {
      p.hand_raised = false;
      events_.push_back({within(p.hand_raised_at),
                         seq_++,
                         AuditAction::HAND_LOWERED,
                         rng.Chance(0.5) ? p.user : host,
                         p.user,
                         {}});
    }
  }
  if (rng.Chance(0.01)) {
    const Timestamp from = within(p.joined);
    events_.push_back({from, seq_++, AuditAction::SCREEN_SHARE_STARTED, p.user, kNoRow, {}});
    p.screen_sharing = true;
    if (p.left != kPresent || rng.Chance(0.5)) {
      p.screen_sharing = false;
      events_.push_back(
          {within(from), seq_++, AuditAction::SCREEN_SHARE_STOPPED, p.user, kNoRow, {}});
    }
  }
  if (p.left == kPresent) {
    p.speaking = rng.Chance(0.1);
  } else {
    p.hand_raised = p.speaking = p.screen_sharing = false;  // leaving resets them
  }
  // About one listener in ten sends the host a gift while in the room.
  if (rng.Chance(kGiftsPerSf / (kRoomsPerSf * (kParticipantsPerRoom - 0.91)))) {
    ledger_events_.push_back(
        {within(p.joined), 0, true, p.user, host, kNoRow, rng.Pick(kGiftPrices)});
  }
}

absl::Status Generator::GenerateRoom(Rng& rng, RowId room_no, RoomStatus status) {
  parts_.clear();
  events_.clear();
  seq_ = 0;
  const uint32_t stamp = room_no + 1;

  // Owner and lifecycle times.
  RowId owner = kNoRow;
  Timestamp created = 0, started = 0, ended = 0, cancelled = 0, scheduled = 0;
  const std::vector<RowId>* pool = nullptr;  // who may take part
  size_t pool_size = 0;
  switch (status) {
    case RoomStatus::LIVE: {
      started = now_ - rng.Between(5 * kMinute, 4 * kHour);
      created = started - rng.Below(30 * kMinute);
      owner = active_[rng.Below(std::max<size_t>(1, CreatedBy(active_, created)))];
      pool = &active_;
      pool_size = CreatedBy(active_, started);
      break;
    }
    case RoomStatus::CREATED: {
      created = now_ - rng.Below(7 * kDay);
      owner = active_[rng.Below(std::max<size_t>(1, CreatedBy(active_, created)))];
      if (rng.Chance(0.7)) scheduled = now_ + rng.Between(10 * kMinute, 7 * kDay);
      break;
    }
    case RoomStatus::ENDED:
    case RoomStatus::CANCELLED: {
      // An owner with at least half an hour between sign-up and the end of
      // what they may do (a suspended owner's rooms are over before that).
      const auto last_for = [&](RowId u) { return std::min(now_ - kMinute, user_until_[u]); };
      for (int tries = 0; tries < 16; ++tries) {
        owner = not_deleted_[rng.Below(not_deleted_.size())];
        if (last_for(owner) - user_created_[owner] >= 30 * kMinute) break;
      }
      if (last_for(owner) - user_created_[owner] < 30 * kMinute) owner = active_.front();
      const Timestamp last = last_for(owner);
      const Timestamp avail = last - user_created_[owner];
      if (status == RoomStatus::CANCELLED) {
        created = user_created_[owner] + rng.Below(avail);
        cancelled = created + rng.Below(last - created + 1);
        if (rng.Chance(0.5)) scheduled = cancelled + rng.Between(kHour, 7 * kDay);
        break;
      }
      // 5 minutes to 3 hours, log-uniform.
      const Timestamp duration = std::min<Timestamp>(
          avail / 2, static_cast<Timestamp>(300.0 * kSecond * std::pow(36.0, rng.Unit())));
      created = user_created_[owner] + rng.Below(avail - duration);
      started = created + rng.Below(std::min<Timestamp>(kHour, last - duration - created) + 1);
      ended = started + duration;
      pool = &not_deleted_;
      pool_size = CreatedBy(not_deleted_, started);
      break;
    }
  }

  // Participants: the host first, then the others, all distinct users.
  const bool mute_on_join = rng.Chance(0.15);
  const bool hands_allowed = rng.Chance(0.9);
  if (status == RoomStatus::LIVE || status == RoomStatus::ENDED) {
    seen_[owner] = stamp;
    Participant host{};
    host.user = owner;
    host.role = ParticipantRole::HOST;
    host.joined = started;
    host.left = status == RoomStatus::LIVE ? kPresent : ended;
    host.departure = status == RoomStatus::LIVE ? Participant::Departure::kPresent
                                                : Participant::Departure::kStayedToEnd;
    parts_.push_back(host);

    const Timestamp end_of_room = status == RoomStatus::LIVE ? now_ : ended;
    // Room for the draws: at most half the eligible users, so rejection is quick.
    const int64_t room_for = std::max<int64_t>(0, (static_cast<int64_t>(pool_size) - 1) / 2);
    int64_t present_others = 0, left_others = 0;
    if (status == RoomStatus::LIVE) {
      present_others = std::min(rng.Between(kLivePresentMin, kLivePresentMax) - 1, room_for);
      left_others = std::min(rng.Geometric(kLiveLeftMean), room_for - present_others);
    } else {
      left_others = std::min({rng.Geometric(ended_others_mean_), room_for, kMaxEndedOthers});
    }
    for (int64_t k = 0; k < present_others + left_others; ++k) {
      // A distinct user who could still act when the room ended.
      RowId user = kNoRow;
      for (int tries = 0; tries < 64 && user == kNoRow; ++tries) {
        user = (*pool)[rng.Below(static_cast<int64_t>(pool_size))];
        if (seen_[user] == stamp || user_until_[user] < end_of_room) user = kNoRow;
      }
      if (user == kNoRow) break;  // only in tiny data sets
      seen_[user] = stamp;
      Participant p{};
      p.user = user;
      p.role = ParticipantRole::PARTICIPANT;
      p.joined = started + rng.Below(end_of_room - started);
      if (k < present_others) {
        p.left = kPresent;
        p.departure = Participant::Departure::kPresent;
      } else {
        const double x = rng.Unit();
        // Kicks and bans come from those who left: 0.5% and 0.2% of all rows.
        if (x < 0.00625) {
          p.departure = Participant::Departure::kKicked;
          p.reason = &rng.Pick(kKickReasons);
        } else if (x < 0.00875) {
          p.departure = Participant::Departure::kBanned;
          p.reason = &rng.Pick(kBanReasons);
          if (rng.Chance(0.3)) p.ban_expires = now_ + rng.Between(kDay, 30 * kDay);
        } else if (status == RoomStatus::ENDED && x < 0.3) {
          p.departure = Participant::Departure::kStayedToEnd;
        } else {
          p.departure = Participant::Departure::kLeft;
        }
        p.left = p.departure == Participant::Departure::kStayedToEnd
                     ? ended
                     : p.joined + rng.Below(end_of_room - p.joined + 1);
      }
      parts_.push_back(p);
    }
    std::sort(parts_.begin() + 1, parts_.end(), [](const Participant& a, const Participant& b) {
      return a.joined != b.joined ? a.joined < b.joined : a.user < b.user;
    });
    for (size_t i = 1; i < parts_.size(); ++i) {
      Participant& p = parts_[i];
      DrawParticipant(rng, p, p.left == kPresent ? now_ : p.left, mute_on_join, hands_allowed);
    }
  }

  // Counters from the participants: joins, who is present, the peak.
  int32_t present = 0, peak = 0;
  Timestamp touched = std::max({created, started, ended, cancelled});
  presence_.clear();
  for (const Participant& p : parts_) {
    presence_.emplace_back(p.joined, +1);
    touched = std::max(touched, p.joined);
    if (p.left == kPresent) {
      ++present;
    } else {
      presence_.emplace_back(p.left, -1);  // leaves sort before joins at the same time
      touched = std::max(touched, p.left);
    }
  }
  std::sort(presence_.begin(), presence_.end());
  for (int32_t level = 0; const auto& change : presence_) {
    level += change.second;
    peak = std::max(peak, level);
  }
  const int32_t total_joins = static_cast<int32_t>(parts_.size());
  // max_participants: uniform over the choices the peak fits in.
  size_t first_fit = 0;
  while (kMaxParticipantChoices[first_fit] < peak &&
         first_fit + 1 < std::size(kMaxParticipantChoices)) {
    ++first_fit;
  }
  const int32_t max_participants =
      kMaxParticipantChoices[first_fit + rng.Below(std::size(kMaxParticipantChoices) - first_fit)];

  const bool recorded = status == RoomStatus::ENDED && rng.Chance(0.1);
  const bool recordable = recorded || rng.Chance(0.75);
  uint16_t tag_ids[3];
  const int n_tags = 1 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < n_tags; ++i) {
    bool dup;
    do {
      tag_ids[i] = static_cast<uint16_t>(1 + rng.Below(kTagCount));
      dup = std::find(tag_ids, tag_ids + i, tag_ids[i]) != tag_ids + i;
    } while (dup);
  }

  // The rooms row. Room codes: a bijection of the room number onto 8 letters
  // of the engine's code alphabet, so they are unique.
  static constexpr char kCodeAlphabet[] = "abcdefghjkmnpqrstuvwxyz23456789";
  constexpr uint64_t kRadix = sizeof(kCodeAlphabet) - 1;  // 31
  constexpr uint64_t kCodeSpace =
      kRadix * kRadix * kRadix * kRadix * kRadix * kRadix * kRadix * kRadix;  // 31^8
  char code[8];
  uint64_t c = (uint64_t{room_no} * 1'000'000'007ULL + options_.seed % kCodeSpace) % kCodeSpace;
  for (char& ch : code) {
    ch = kCodeAlphabet[c % kRadix];
    c /= kRadix;
  }
  text_.Clear() << rng.Pick(kTitleMoods) << ' ' << rng.Pick(kTitleTopics) << ' '
                << rng.Pick(kTitleKinds);
  row_.Clear()
      .Add(rooms::id, MintId(TableId::rooms, created))
      .Add(rooms::owner_id, owner)
      .Add(rooms::room_code, std::string_view(code, sizeof(code)))
      .Add(rooms::title, text_.view())
      .Add(rooms::max_participants, max_participants)
      .Add(rooms::is_public, rng.Chance(0.7))
      .Add(rooms::is_recordable, recordable)
      .Add(rooms::status, status)
      .Add(rooms::peak_participants, peak)
      .Add(rooms::total_joins, total_joins)
      .Add(rooms::participant_count, present)
      .Add(rooms::created_at, created)
      .Add(rooms::updated_at, touched)
      .Add(rooms::mute_on_join, mute_on_join)
      .Add(rooms::hand_raise_allowed, hands_allowed)
      .Add(rooms::tags, PackTags(std::span<const uint16_t>(tag_ids, n_tags)))
      .Add(rooms::language, rng.Pick(kLanguages));
  if (scheduled != 0) {
    row_.Add(rooms::scheduled_start, scheduled).Add(rooms::scheduled_end, scheduled + kHour);
  }
  if (started != 0) row_.Add(rooms::started_at, started);
  if (ended != 0) {
    row_.Add(rooms::ended_at, ended)
        .Add(rooms::duration_seconds, static_cast<int32_t>((ended - started) / kSecond));
  }
  const RowId room = writer_.Insert(TableId::rooms, row_);
  if (room == kNoRow) return absl::OkStatus();  // the caller's Checkpoint reports it
  if (status == RoomStatus::LIVE) out_.live_rooms.push_back(room);
  if (recorded) recorded_rooms_.push_back(room);

  // Lifecycle audit rows.
  events_.push_back({created, seq_++, AuditAction::ROOM_CREATED, owner, kNoRow, {}});
  if (status == RoomStatus::CANCELLED) {
    events_.push_back({cancelled, seq_++, AuditAction::ROOM_CANCELLED, owner, kNoRow, {}});
  }

  // The participants rows, in join order, with their joins and exits.
  for (Participant& p : parts_) {
    row_.Clear()
        .Add(room_participants::id, MintId(TableId::room_participants, p.joined))
        .Add(room_participants::user_id, p.user)
        .Add(room_participants::room_id, room)
        .Add(room_participants::role, p.role)
        .Add(room_participants::joined_at, p.joined);
    if (p.left != kPresent) {
      row_.Add(room_participants::left_at, p.left)
          .Add(room_participants::duration_seconds,
               static_cast<int32_t>((p.left - p.joined) / kSecond))
          .Add(room_participants::connection_status, ConnectionStatus::DISCONNECTED);
    }
    if (p.departure == Participant::Departure::kKicked) {
      row_.Add(room_participants::is_kicked, true)
          .Add(room_participants::kicked_at, p.left)
          .Add(room_participants::kicked_by, owner)
          .Add(room_participants::kick_reason, p.reason->text);
    } else if (p.departure == Participant::Departure::kBanned) {
      row_.Add(room_participants::is_banned, true)
          .Add(room_participants::banned_at, p.left)
          .Add(room_participants::banned_by, owner)
          .Add(room_participants::ban_reason, p.reason->text);
      if (p.ban_expires != 0) row_.Add(room_participants::ban_expires_at, p.ban_expires);
      out_.banned.push_back({room, p.user});
    }
    if (p.muted) {
      row_.Add(room_participants::is_muted, true);
      if (p.muted_by_host) row_.Add(room_participants::muted_by_host, true);
    }
    if (p.muted_at != 0) row_.Add(room_participants::muted_at, p.muted_at);
    if (p.mute_count != 0) row_.Add(room_participants::mute_count, p.mute_count);
    if (p.hand_raised) row_.Add(room_participants::hand_raised, true);
    if (p.hand_raised_at != 0) {
      row_.Add(room_participants::hand_raised_at, p.hand_raised_at)
          .Add(room_participants::hand_raise_count, p.hand_raise_count);
    }
    if (p.speaking) row_.Add(room_participants::is_speaking, true);
    if (p.screen_sharing) row_.Add(room_participants::is_screen_sharing, true);
    writer_.Insert(TableId::room_participants, row_);

    events_.push_back({p.joined, seq_++, AuditAction::USER_JOINED, p.user, kNoRow, {}});
    if (p.user == owner) {
      events_.push_back({p.joined, seq_++, AuditAction::ROOM_STARTED, owner, kNoRow, {}});
    }
    switch (p.departure) {
      case Participant::Departure::kLeft:
        events_.push_back({p.left, seq_++, AuditAction::USER_LEFT, p.user, kNoRow, {}});
        break;
      case Participant::Departure::kKicked:
        events_.push_back(
            {p.left, seq_++, AuditAction::USER_KICKED, owner, p.user, p.reason->json});
        break;
      case Participant::Departure::kBanned:
        events_.push_back(
            {p.left, seq_++, AuditAction::USER_BANNED, owner, p.user, p.reason->json});
        break;
      case Participant::Departure::kPresent:
      case Participant::Departure::kStayedToEnd:
        break;
    }
  }

  // Recordings: one, sometimes a second after the first stopped.
  int n_recordings = recorded ? 1 + rng.Chance(1.0 / 9) : 0;
  Timestamp rec_from = started;
  for (int k = 0; k < n_recordings; ++k) {
    const bool last = k + 1 == n_recordings;
    const Timestamp rec_start = k == 0 ? started + rng.Below((ended - started) / 2 + 1)
                                       : rec_from + rng.Below(ended - rec_from + 1);
    const bool stopped_by_end = last && rng.Chance(0.5);
    const Timestamp rec_stop =
        stopped_by_end ? ended : rec_start + rng.Below(ended - rec_start + 1);
    rec_from = rec_stop;
    const double outcome = rng.Unit();
    const RecordingStatus rec_status = outcome < 0.9    ? RecordingStatus::READY
                                       : outcome < 0.95 ? RecordingStatus::FAILED
                                                        : RecordingStatus::STOPPED;
    const Timestamp processed = std::min(now_, rec_stop + rng.Between(kMinute, 20 * kMinute));
    const Timestamp expires = rng.Chance(0.2) ? rec_stop + 1 + rng.Below(now_ - rec_stop - 1)
                                              : now_ + rng.Between(kDay, 90 * kDay);
    const int32_t seconds = static_cast<int32_t>((rec_stop - rec_start) / kSecond);
    const Uuid rec_id = MintId(TableId::recordings, rec_start);
    text_.Clear() << "rooms/" << std::string_view(code, sizeof(code)) << "/rec-" << int64_t{k + 1}
                  << ".ogg";
    text2_.Clear() << "rec-" << int64_t{k + 1} << ".ogg";
    row_.Clear()
        .Add(recordings::id, rec_id)
        .Add(recordings::room_id, room)
        .Add(recordings::owner_id, owner)
        .Add(recordings::storage_key, text_.view())
        .Add(recordings::storage_bucket, "vox-recordings")
        .Add(recordings::filename, text2_.view())
        .Add(recordings::size_bytes, int64_t{seconds} * 8000)
        .Add(recordings::duration_seconds, seconds)
        .Add(recordings::codec, "opus")
        .Add(recordings::bitrate, 64000)
        .Add(recordings::status, rec_status)
        .Add(recordings::started_at, rec_start)
        .Add(recordings::stopped_at, rec_stop)
        .Add(recordings::is_public, rng.Chance(0.3))
        .Add(recordings::expires_at, expires)
        .Add(recordings::created_at, rec_start)
        .Add(recordings::updated_at, rec_status == RecordingStatus::STOPPED ? rec_stop : processed);
    if (rec_status == RecordingStatus::READY) {
      text3_.Clear() << "https://media.example.com/" << text_.view();
      row_.Add(recordings::storage_url, text3_.view());
    } else if (rec_status == RecordingStatus::FAILED) {
      row_.Add(recordings::error_message, "transcoder exited with status 1")
          .Add(recordings::retry_count, 1);
    }
    writer_.Insert(TableId::recordings, row_);

    Text json;
    json << R"({"recording_id":")" << rec_id << "\"}";
    std::memcpy(recording_json_[k], json.view().data(), json.view().size());
    const std::string_view meta(recording_json_[k], json.view().size());
    events_.push_back({rec_start, seq_++, AuditAction::RECORDING_STARTED, owner, kNoRow, meta});
    events_.push_back({rec_stop, seq_++, AuditAction::RECORDING_STOPPED, owner, kNoRow,
                       stopped_by_end ? R"({"reason":"room_ended"})" : meta});
    if (rec_status == RecordingStatus::READY) {
      events_.push_back({processed, seq_++, AuditAction::RECORDING_READY, kNoRow, owner, meta});
    } else if (rec_status == RecordingStatus::FAILED) {
      events_.push_back({processed, seq_++, AuditAction::RECORDING_FAILED, kNoRow, owner, meta});
    }
  }

  if (status == RoomStatus::ENDED) {
    int64_t stayed = 0;
    for (const Participant& p : parts_)
      stayed += p.departure == Participant::Departure::kStayedToEnd;
    Text json;
    json << R"({"participants_left":)" << stayed << "}";
    std::memcpy(ended_json_, json.view().data(), json.view().size());
    events_.push_back({ended, seq_++, AuditAction::ROOM_ENDED, owner, kNoRow,
                       std::string_view(ended_json_, json.view().size())});
  }
  for (const AuditEvent& e : events_) QueueAudit(e, room);

  // The gifts drawn for this room's participants now know their room.
  for (auto it = ledger_events_.rbegin(); it != ledger_events_.rend() && it->room == kNoRow; ++it) {
    it->room = room;
  }
  return absl::OkStatus();
}

// ---- The coin ledger ---------------------------------------------------------------

// Replays the ledger in time order: every user's starting top-up at sign-up,
// then the gifts and extra top-ups. A gift the sender cannot afford is
// preceded by a top-up that covers it, so no user wallet goes below zero.
// Calls emit(const Transfer&) for each transfer, a gift's FEE right after it.
template <typename Fn>
void Generator::SimulateLedger(std::span<const LedgerEvent> events, Fn&& emit) const {
  Rng rng = MakeRng(options_.seed, Stream::kLedgerSim);
  std::vector<int64_t> balance(n_users_, 0);
  size_t next_user = 0;
  int64_t gifts = 0;
  const auto top_up = [&](RowId user, int64_t amount, Timestamp at) {
    balance[user] += amount;
    emit(Transfer{TransferType::TOP_UP, at, kNoRow, user, kNoRow, amount, -1});
  };
  const auto sign_ups_until = [&](Timestamp at) {
    for (; next_user < n_users_ && user_created_[next_user] <= at; ++next_user) {
      if (starting_balance_[next_user] > 0) {
        top_up(static_cast<RowId>(next_user), starting_balance_[next_user],
               user_created_[next_user]);
      }
    }
  };
  for (const LedgerEvent& e : events) {
    sign_ups_until(e.at);
    if (!e.gift) {
      top_up(e.to, e.amount, e.at);
      continue;
    }
    if (balance[e.from] < e.amount) {
      int64_t package = 0;
      do {
        package = rng.Pick(kTopUpPackages);
      } while (package < e.amount - balance[e.from]);
      top_up(e.from, package, e.at);
    }
    const int64_t fee =
        std::min(e.amount - 1, std::max(kGiftMinFee, e.amount * kGiftFeeBps / 10000));
    balance[e.from] -= e.amount;
    balance[e.to] += e.amount - fee;
    emit(Transfer{TransferType::GIFT, e.at, e.from, e.to, e.room, e.amount - fee, gifts++});
    emit(Transfer{TransferType::FEE, e.at, e.from, kNoRow, e.room, fee, -1});
  }
  sign_ups_until(now_);
}

absl::Status Generator::GenerateLedger() {
  Rng rng = MakeRng(options_.seed, Stream::kLedger);
  Progress("ledger", 0, 1, true);
  // Extra top-ups by active users, at any time after they signed up.
  for (int64_t k = std::llround(kExtraTopUpsPerSf * options_.scale); k > 0; --k) {
    const RowId user = active_[rng.Below(active_.size())];
    const Timestamp at = user_created_[user] + rng.Below(now_ - user_created_[user] + 1);
    ledger_events_.push_back({at, 0, false, kNoRow, user, kNoRow, rng.Pick(kTopUpPackages)});
  }
  for (size_t i = 0; i < ledger_events_.size(); ++i) {
    ledger_events_[i].seq = static_cast<uint32_t>(i);
  }
  std::sort(ledger_events_.begin(), ledger_events_.end(),
            [](const LedgerEvent& a, const LedgerEvent& b) {
              return a.at != b.at ? a.at < b.at : a.seq < b.seq;
            });

  // Pass 1: each wallet's final counters. Wallet rows: 0 issuance, 1 revenue,
  // then user u's at 2 + u.
  const size_t n_wallets = n_users_ + 2;
  std::vector<int64_t> debits(n_wallets, 0), credits(n_wallets, 0);
  std::vector<Timestamp> last_use(n_wallets, 0);
  uint64_t n_transfers = 0;
  const auto wallet_of = [](RowId user, TransferType type) -> RowId {
    if (user != kNoRow) return user + 2;
    return type == TransferType::FEE ? 1 : 0;
  };
  SimulateLedger(ledger_events_, [&](const Transfer& t) {
    const RowId from = wallet_of(t.from_user, t.type);
    const RowId to = wallet_of(t.to_user, t.type);
    debits[from] += t.amount;
    credits[to] += t.amount;
    last_use[from] = std::max(last_use[from], t.at);
    last_use[to] = std::max(last_use[to], t.at);
    ++n_transfers;
  });
  Progress("ledger", 1, 1, true);

  // Wallets: the system ones (created on first use), then one per user.
  Progress("wallets", 0, n_wallets, true);
  for (RowId w = 0; w < 2; ++w) {
    const Timestamp created = start_;
    row_.Clear()
        .Add(wallets::id, MintId(TableId::wallets, created))
        .Add(wallets::kind, w == 0 ? WalletKind::SYSTEM_ISSUANCE : WalletKind::SYSTEM_REVENUE)
        .Add(wallets::currency, kCoin)
        .Add(wallets::posted_debits, debits[w])
        .Add(wallets::posted_credits, credits[w])
        .Add(wallets::created_at, created)
        .Add(wallets::updated_at, std::max(created, last_use[w]));
    const RowId r = writer_.Insert(TableId::wallets, row_);
    (w == 0 ? out_.issuance_wallet : out_.revenue_wallet) = r;
  }
  for (size_t u = 0; u < n_users_; ++u) {
    const size_t w = u + 2;
    row_.Clear()
        .Add(wallets::id, MintId(TableId::wallets, user_created_[u]))
        .Add(wallets::user_id, static_cast<RowId>(u))
        .Add(wallets::currency, kCoin)
        .Add(wallets::posted_debits, debits[w])
        .Add(wallets::posted_credits, credits[w])
        .Add(wallets::created_at, user_created_[u])
        .Add(wallets::updated_at, std::max(user_created_[u], last_use[w]));
    if (writer_.Insert(TableId::wallets, row_) != static_cast<RowId>(w)) {
      return RowMismatch(writer_.Checkpoint(), "wallets");
    }
    VOX_RETURN_IF_ERROR(writer_.Checkpoint());
    Progress("wallets", w + 1, n_wallets);
  }
  writer_.EndTable(TableId::wallets);
  Progress("wallets", n_wallets, n_wallets, true);

  std::vector<RowId> funded;
  for (RowId u : active_) {
    if (credits[u + 2] - debits[u + 2] >= 1000) funded.push_back(u);
  }
  const size_t step = std::max<size_t>(1, (funded.size() + 9999) / 10000);
  for (size_t i = 0; i < funded.size(); i += step) out_.funded_users.push_back(funded[i]);

  // Pass 2: the same transfers, written with their audit rows.
  Progress("transactions", 0, n_transfers, true);
  uint64_t done = 0;
  RowId last_gift = kNoRow;
  absl::Status status;
  SimulateLedger(ledger_events_, [&](const Transfer& t) {
    if (!status.ok()) return;
    row_.Clear()
        .Add(transactions::id, MintId(TableId::transactions, t.at))
        .Add(transactions::debit_wallet_id, wallet_of(t.from_user, t.type))
        .Add(transactions::credit_wallet_id, wallet_of(t.to_user, t.type))
        .Add(transactions::amount, t.amount)
        .Add(transactions::currency, kCoin)
        .Add(transactions::type, t.type)
        .Add(transactions::status, TransferStatus::POSTED)
        .Add(transactions::created_at, t.at)
        .Add(transactions::posted_at, t.at);
    if (t.room != kNoRow) row_.Add(transactions::room_id, t.room);
    if (t.type == TransferType::GIFT) {
      text_.Clear() << "gift-" << t.gift_no;
      row_.Add(transactions::idempotency_key, text_.view());
    } else if (t.type == TransferType::FEE) {
      row_.Add(transactions::parent_id, last_gift);
    }
    const RowId r = writer_.Insert(TableId::transactions, row_);
    if (t.type == TransferType::TOP_UP) {
      QueueAudit({t.at, 0, AuditAction::WALLET_TOP_UP, t.to_user, kNoRow, {}}, kNoRow);
    } else if (t.type == TransferType::GIFT) {
      last_gift = r;
      QueueAudit({t.at, 0, AuditAction::GIFT_SENT, t.from_user, t.to_user, {}}, t.room);
    }
    ++done;
    if (t.type != TransferType::GIFT) {  // a gift and its fee commit together
      status = writer_.Checkpoint();
      if (status.ok()) status = FlushAuditQueue(false);
      Progress("transactions", done, n_transfers);
    }
  });
  VOX_RETURN_IF_ERROR(status);
  VOX_RETURN_IF_ERROR(FlushAuditQueue(true));
  Progress("transactions", n_transfers, n_transfers, true);
  ledger_events_ = {};
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<GeneratedData> GenerateWorkload(Database& db, const GenerateOptions& options) {
  Generator generator(db, options);
  return generator.Run();
}

}  // namespace vox
