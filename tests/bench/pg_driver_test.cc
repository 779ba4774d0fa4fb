// The PostgreSQL peer (bench/peers/postgres) through voxbench's driver
// (bench/voxbench/pg_driver.cc), against a cluster loaded with this test's
// own data set. Run it through pg_peer_test.sh, which:
//   1. runs `pg_driver_test --export_csv=DIR`: the data set (SF 0.001, seed
//      42) exported as CSV;
//   2. starts a private cluster and loads DIR (cluster.sh start, load);
//   3. runs the tests with VOX_PG_CONNINFO set to the cluster's conninfo.
// The tests generate the same data set in memory and check PostgreSQL's
// answers against the engine's own on it: the schema, row counts, R1-R9 and
// W1-W7 with their refusals. They expect a fresh load (the row counts).
#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/voxbench/driver.h"
#include "engine/ops/ledger.h"
#include "engine/ops/media.h"
#include "engine/ops/queries.h"
#include "gtest/gtest.h"
#include "schema/str.h"
#include "tools/datagen/csv_export.h"
#include "tools/datagen/datagen.h"

namespace vox::bench {
namespace {

constexpr double kScale = 0.001;
constexpr uint64_t kSeed = 42;
constexpr char kConninfoVariable[] = "VOX_PG_CONNINFO";

struct Generated {
  std::unique_ptr<Database> db;
  GeneratedData data;
};

absl::StatusOr<Generated> Generate() {
  Generated out{std::make_unique<Database>(WorkloadDatabaseOptions(kSeed)), {}};
  VOX_ASSIGN_OR_RETURN(out.data, GenerateWorkload(*out.db, {.scale = kScale, .seed = kSeed}));
  return out;
}

Timestamp WallClockNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The engine's name of a Postgres enum or table type, for the schema check:
// AuthProviderType -> auth_provider_type.
std::string SnakeCase(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] >= 'A' && name[i] <= 'Z') {
      if (i > 0) out.push_back('_');
      out.push_back(static_cast<char>(name[i] - 'A' + 'a'));
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

// What information_schema.columns.udt_name says for a column of the engine's.
std::string PostgresType(const ColumnDef& c) {
  switch (c.type) {
    case ColumnType::kBool:
      return "bool";
    case ColumnType::kInt32:
      return "int4";
    case ColumnType::kInt64:
      return "int8";
    case ColumnType::kTimestamp:
      return "timestamptz";
    case ColumnType::kEnum:
      return SnakeCase(GetEnum(c.enum_id).name);
    case ColumnType::kUuid:
    case ColumnType::kRef:
      return "uuid";
    case ColumnType::kInet:
      return "inet";
    case ColumnType::kString:
      return "varchar";
    case ColumnType::kJson:
      return "jsonb";
    case ColumnType::kTags:
      return "_text";
  }
  return "?";
}

class PgDriverTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto generated = Generate();
    ASSERT_TRUE(generated.ok()) << generated.status();
    gen_ = new Generated(*std::move(generated));
    conninfo_ = std::getenv(kConninfoVariable);
  }
  static void TearDownTestSuite() {
    delete gen_;
    gen_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(gen_, nullptr);
    driver_ = MakePostgresDriver(conninfo_);
    ASSERT_NE(driver_, nullptr);
    EXPECT_EQ(driver_->name(), "postgres");
    auto session = driver_->Connect();
    ASSERT_TRUE(session.ok()) << session.status();
    session_ = *std::move(session);
    sql_ = PQconnectdb(conninfo_);
    ASSERT_EQ(PQstatus(sql_), CONNECTION_OK) << PQerrorMessage(sql_);
  }
  void TearDown() override {
    if (sql_ != nullptr) PQfinish(sql_);
  }

  const Database& db() const { return *gen_->db; }
  const GeneratedData& data() const { return gen_->data; }
  Uuid Id(TableId t, RowId r) const { return db().table(t).id(r); }
  // A user who may act (W3, W7 refuse others first).
  bool IsActive(RowId user) const {
    const Table& users = db().table(TableId::users);
    return users.IsNull(user, users::deleted_at) &&
           users.GetEnum<AccountStatus>(user, users::account_status) == AccountStatus::ACTIVE;
  }

  OpResponse Run(const OpRequest& q) {
    OpResponse r;
    const absl::Status s = session_->Execute(q, r);
    EXPECT_TRUE(s.ok()) << s;
    return r;
  }
  // Runs a write that must succeed.
  OpResponse RunOk(const OpRequest& q) {
    OpResponse r = Run(q);
    EXPECT_TRUE(r.status.ok()) << "W" << static_cast<int>(q.op) - static_cast<int>(OpId::W1) + 1
                               << ": " << r.status;
    return r;
  }
  absl::StatusCode Code(const OpRequest& q) { return Run(q).status.code(); }

  // The rows of a query run outside the driver, as text.
  std::vector<std::vector<std::string>> Sql(const std::string& query) {
    std::unique_ptr<PGresult, decltype(&PQclear)> res(PQexec(sql_, query.c_str()), &PQclear);
    const ExecStatusType status = PQresultStatus(res.get());
    EXPECT_TRUE(status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK)
        << query << ": " << PQresultErrorMessage(res.get());
    std::vector<std::vector<std::string>> rows(PQntuples(res.get()));
    for (size_t i = 0; i < rows.size(); ++i) {
      for (int c = 0; c < PQnfields(res.get()); ++c) {
        rows[i].push_back(PQgetvalue(res.get(), static_cast<int>(i), c));
      }
    }
    return rows;
  }
  std::string SqlValue(const std::string& query) {
    const auto rows = Sql(query);
    EXPECT_EQ(rows.size(), 1u) << query;
    return rows.empty() || rows[0].empty() ? "" : rows[0][0];
  }
  int64_t SqlInt(const std::string& query) { return std::atoll(SqlValue(query).c_str()); }

  // `n` active users, none of them the room owners used so far.
  std::vector<Uuid> ActiveUsers(size_t n, size_t skip) {
    std::vector<Uuid> out;
    for (size_t i = skip; i < data().active_users.size() && out.size() < n; ++i) {
      out.push_back(Id(TableId::users, data().active_users[i]));
    }
    EXPECT_EQ(out.size(), n);
    return out;
  }

  // A fresh LIVE room owned by `owner`, with one tag, through W2.
  Uuid OpenRoom(const Uuid& owner, std::string title, std::string tag = "talk") {
    OpResponse r =
        RunOk({.op = OpId::W2, .text = std::move(title), .user = owner, .tags = {std::move(tag)}});
    EXPECT_FALSE(r.created.IsNil());
    return r.created;
  }

  static inline Generated* gen_ = nullptr;
  static inline const char* conninfo_ = nullptr;
  std::unique_ptr<Driver> driver_;
  std::unique_ptr<Session> session_;
  PGconn* sql_ = nullptr;
};

// ---- The schema and the load ---------------------------------------------------

TEST_F(PgDriverTest, SchemaHasEveryTableAndColumnOfTheEngine) {
  for (const TableDef& t : kTables) {
    SCOPED_TRACE(t.name);
    const auto columns = Sql(
        StrCat("SELECT column_name, udt_name, is_nullable, coalesce(character_maximum_length, 0)"
               " FROM information_schema.columns WHERE table_schema = 'public'"
               " AND table_name = '",
               t.name, "' ORDER BY ordinal_position"));
    ASSERT_EQ(columns.size(), t.columns.size());
    for (size_t c = 0; c < t.columns.size(); ++c) {
      const ColumnDef& def = t.columns[c];
      EXPECT_EQ(columns[c][0], def.name);
      EXPECT_EQ(columns[c][1], PostgresType(def)) << def.name;
      EXPECT_EQ(columns[c][2], def.nullable() ? "YES" : "NO") << def.name;
      if (def.type == ColumnType::kString) {
        EXPECT_EQ(columns[c][3], StrCat(def.max_length)) << def.name;
      }
    }
  }
  EXPECT_EQ(SqlInt("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"),
            static_cast<int64_t>(kTableCount));
}

TEST_F(PgDriverTest, EnumsHaveTheEngineValuesInOrder) {
  for (const EnumDef& e : kEnums) {
    const auto values = Sql(StrCat("SELECT enumlabel FROM pg_enum WHERE enumtypid = '",
                                   SnakeCase(e.name), "'::regtype ORDER BY enumsortorder"));
    ASSERT_EQ(values.size(), e.values.size()) << e.name;
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(values[i][0], e.values[i]) << e.name;
  }
}

// The loader lifts the keys for its COPY and puts them back (cluster.sh).
TEST_F(PgDriverTest, EveryKeyIsBackAfterTheLoad) {
  int64_t references = 0;
  for (const TableDef& t : kTables) {
    for (const ColumnDef& c : t.columns) references += c.type == ColumnType::kRef;
  }
  const std::string keys =
      "SELECT count(*) FROM pg_constraint WHERE convalidated"
      " AND connamespace = 'public'::regnamespace AND contype = ";
  EXPECT_EQ(SqlInt(keys + "'p'"), static_cast<int64_t>(kTableCount));
  EXPECT_EQ(SqlInt(keys + "'f'"), references);
  EXPECT_EQ(SqlValue("SELECT pg_get_constraintdef(oid) FROM pg_constraint"
                     " WHERE conrelid = 'room_participants'::regclass AND contype = 'f'"
                     " AND pg_get_constraintdef(oid) LIKE '%(room_id)%'"),
            "FOREIGN KEY (room_id) REFERENCES rooms(id) ON DELETE CASCADE");
}

// Runs before the writes below (gtest keeps declaration order).
TEST_F(PgDriverTest, EveryTableHoldsTheGeneratedRows) {
  for (const TableDef& t : kTables) {
    EXPECT_EQ(SqlInt(StrCat("SELECT count(*) FROM ", t.name)),
              static_cast<int64_t>(db().table(t.id).live_count()))
        << t.name;
  }
}

TEST_F(PgDriverTest, LoadedValuesReadBackAsTheEngineHoldsThem) {
  const RowId room = data().live_rooms.front();
  const Table& rooms = db().table(TableId::rooms);
  const auto row =
      Sql(StrCat("SELECT owner_id, status, tags, started_at, participant_count"
                 " FROM rooms WHERE id = '",
                 FormatUuid(rooms.id(room)), "'"));
  ASSERT_EQ(row.size(), 1u);
  EXPECT_EQ(row[0][0], FormatUuid(Id(TableId::users, rooms.GetRef(room, rooms::owner_id))));
  EXPECT_EQ(row[0][1], "LIVE");
  EXPECT_EQ(row[0][2].front(), '{');
  EXPECT_NE(row[0][2].find("tag-"), std::string::npos) << row[0][2];
  std::string started = FormatTimestamp(rooms.GetTime(room, rooms::started_at));
  started[10] = ' ';
  started.pop_back();
  // PostgreSQL prints microseconds without trailing zeros; compare to the second.
  EXPECT_EQ(row[0][3].substr(0, 19), started.substr(0, 19));
  EXPECT_EQ(row[0][4], StrCat(rooms.GetInt(room, rooms::participant_count)));
}

// ---- Reads: the engine's answers on the same data ---------------------------------

TEST_F(PgDriverTest, R1FindsAUserByEmailInAnyCase) {
  ASSERT_FALSE(data().sample_emails.empty());
  for (size_t i = 0; i < data().sample_emails.size(); i += 97) {
    EXPECT_EQ(Run({.op = OpId::R1, .text = data().sample_emails[i]}).rows, 1)
        << data().sample_emails[i];
  }
  std::string upper = data().sample_emails.front();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Run({.op = OpId::R1, .text = upper}).rows, 1) << upper;
  EXPECT_EQ(Run({.op = OpId::R1, .text = "nobody@example.com"}).rows, 0);
}

TEST_F(PgDriverTest, R2ListsThePresentParticipantsOfLiveRooms) {
  ASSERT_FALSE(data().live_rooms.empty());
  std::vector<ParticipantState> present;
  for (RowId room : data().live_rooms) {
    PresentParticipants(db(), room, &present);
    const OpResponse r = Run({.op = OpId::R2, .room = Id(TableId::rooms, room)});
    EXPECT_TRUE(r.status.ok()) << r.status;
    EXPECT_EQ(r.rows, static_cast<int64_t>(present.size()));
    EXPECT_GE(r.rows, 20);
    EXPECT_LE(r.rows, 200);
  }
}

TEST_F(PgDriverTest, R3ListsAUsersPresentRooms) {
  std::vector<RowId> present;
  int64_t total = 0;
  for (size_t i = 0; i < data().active_users.size(); i += 7) {
    const RowId user = data().active_users[i];
    UserPresentRooms(db(), user, &present);
    total += static_cast<int64_t>(present.size());
    EXPECT_EQ(Run({.op = OpId::R3, .user = Id(TableId::users, user)}).rows,
              static_cast<int64_t>(present.size()));
  }
  EXPECT_GT(total, 0);
}

TEST_F(PgDriverTest, R4PagesARoomsAuditTrail) {
  std::vector<RowId> trail;
  const Table& rooms = db().table(TableId::rooms);
  bool saw_full_page = false;
  for (RowId room = 0; room < rooms.row_count(); room += 37) {
    RoomAuditTrail(db(), room, 100, std::nullopt, &trail);
    saw_full_page = saw_full_page || trail.size() == 100;
    EXPECT_EQ(Run({.op = OpId::R4, .room = rooms.id(room)}).rows,
              static_cast<int64_t>(trail.size()));
  }
  for (RowId room : data().live_rooms) {
    RoomAuditTrail(db(), room, 100, std::nullopt, &trail);
    saw_full_page = saw_full_page || trail.size() == 100;
    EXPECT_EQ(Run({.op = OpId::R4, .room = rooms.id(room)}).rows,
              static_cast<int64_t>(trail.size()));
  }
  EXPECT_TRUE(saw_full_page);
}

TEST_F(PgDriverTest, R5FindsTheExpiredRecordings) {
  auto expired = ExpiredRecordings(db(), WallClockNow(), 1000);
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_GT(expired->size(), 0u);
  EXPECT_EQ(Run({.op = OpId::R5}).rows, static_cast<int64_t>(expired->size()));
}

TEST_F(PgDriverTest, R6CountsARoomsParticipations) {
  const Table& rooms = db().table(TableId::rooms);
  std::vector<RowId> sample = data().live_rooms;
  for (RowId room = 0; room < rooms.row_count(); room += 53) sample.push_back(room);
  for (RowId room : sample) {
    const RoomStats stats = RoomStatistics(db(), room);
    const OpResponse r = Run({.op = OpId::R6, .room = rooms.id(room)});
    EXPECT_EQ(r.rows, stats.participations);
    EXPECT_EQ(r.present, stats.present);
  }
  EXPECT_EQ(Run({.op = OpId::R6, .room = Uuid{1, 2}}).rows, 0);  // no such room
}

TEST_F(PgDriverTest, R7ListsPublicLiveRoomsByTag) {
  ASSERT_FALSE(data().tag_ids.empty());
  std::vector<RowId> rooms;
  int64_t total = 0;
  for (const auto& [tag, id] : data().tag_ids) {
    LiveRoomsByTag(db(), tag, 50, std::nullopt, &rooms);
    total += static_cast<int64_t>(rooms.size());
    EXPECT_EQ(Run({.op = OpId::R7, .text = tag}).rows, static_cast<int64_t>(rooms.size())) << tag;
  }
  EXPECT_GT(total, 0);
  EXPECT_EQ(Run({.op = OpId::R7, .text = "no-such-tag"}).rows, 0);
}

TEST_F(PgDriverTest, R8IsTrueExactlyForBannedPairs) {
  ASSERT_FALSE(data().banned.empty());
  for (const GeneratedData::BannedPair& b : data().banned) {
    EXPECT_EQ(Run({.op = OpId::R8,
                   .room = Id(TableId::rooms, b.room),
                   .user = Id(TableId::users, b.user)})
                  .rows,
              1);
  }
  const GeneratedData::BannedPair& b = data().banned.front();
  for (size_t i = 0; i < 50; ++i) {
    const RowId user = data().active_users[i];
    EXPECT_EQ(
        Run({.op = OpId::R8, .room = Id(TableId::rooms, b.room), .user = Id(TableId::users, user)})
            .rows,
        IsBanned(db(), b.room, user) ? 1 : 0);
  }
}

TEST_F(PgDriverTest, R9PagesAUsersTransfers) {
  ASSERT_FALSE(data().funded_users.empty());
  bool saw_transfers = false;
  for (size_t i = 0; i < data().active_users.size(); i += 11) {
    const Uuid user = Id(TableId::users, data().active_users[i]);
    auto page = WalletTransactions(db(), user, "COIN", 50);
    ASSERT_TRUE(page.ok()) << page.status();
    saw_transfers = saw_transfers || !page->transfers.empty();
    EXPECT_EQ(Run({.op = OpId::R9, .user = user}).rows,
              static_cast<int64_t>(page->transfers.size()));
  }
  EXPECT_TRUE(saw_transfers);
}

// ---- Writes ------------------------------------------------------------------------

TEST_F(PgDriverTest, W1RegistersAUserOnce) {
  const std::string name = StrCat("pgtest_", ::getpid());
  const OpResponse r = RunOk({.op = OpId::W1, .text = name});
  ASSERT_FALSE(r.created.IsNil());
  const std::string id = FormatUuid(r.created);
  EXPECT_EQ(Run({.op = OpId::R1, .text = name + "@bench.example"}).rows, 1);
  EXPECT_EQ(SqlValue(StrCat("SELECT provider_type || ' ' || provider_id FROM auth_providers"
                            " WHERE user_id = '",
                            id, "'")),
            "LOCAL " + id);
  EXPECT_EQ(
      SqlValue(StrCat("SELECT currency || ' ' || kind FROM wallets WHERE user_id = '", id, "'")),
      "COIN USER");
  EXPECT_EQ(SqlValue(StrCat("SELECT string_agg(action::text, ',') FROM audit_logs"
                            " WHERE user_id = '",
                            id, "'")),
            "USER_REGISTERED");
  // Version 7 ids, as the engine mints.
  EXPECT_EQ(id[14], '7');
  EXPECT_EQ(Code({.op = OpId::W1, .text = name}), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Code({.op = OpId::W1, .text = "x"}), absl::StatusCode::kInvalidArgument);
}

TEST_F(PgDriverTest, W2OpensARoomWithItsHostAndAuditTrail) {
  const std::vector<Uuid> users = ActiveUsers(1, 0);
  const OpResponse r = RunOk(
      {.op = OpId::W2, .text = "pg test room", .user = users[0], .tags = {"PGTest-Tag", "music"}});
  const std::string room = FormatUuid(r.created);
  EXPECT_EQ(Run({.op = OpId::R2, .room = r.created}).rows, 1);
  EXPECT_EQ(Run({.op = OpId::R7, .text = "pgtest-tag"}).rows, 1);
  EXPECT_EQ(SqlValue(StrCat("SELECT status || ' ' || tags::text || ' ' || total_joins || ' '"
                            " || participant_count || ' ' || peak_participants || ' '"
                            " || max_participants || ' ' || is_public || ' '"
                            " || (started_at IS NOT NULL) FROM rooms WHERE id = '",
                            room, "'")),
            "LIVE {pgtest-tag,music} 1 1 1 100 true true");
  EXPECT_EQ(SqlValue(StrCat("SELECT role FROM room_participants WHERE room_id = '", room, "'")),
            "HOST");
  // One transaction's rows share their timestamp.
  EXPECT_EQ(SqlValue(StrCat("SELECT string_agg(action::text, ',' ORDER BY action)"
                            " || ' ' || count(DISTINCT \"timestamp\") FROM audit_logs"
                            " WHERE room_id = '",
                            room, "'")),
            "ROOM_CREATED,ROOM_STARTED,USER_JOINED 1");
  EXPECT_EQ(SqlInt("SELECT count(*) FROM tags WHERE name = 'pgtest-tag'"), 1);
  EXPECT_EQ(
      SqlValue(StrCat("SELECT room_code ~ '^[a-z2-9]{8}$' FROM rooms WHERE id = '", room, "'")),
      "t");
  EXPECT_EQ(Code({.op = OpId::W2, .text = "", .user = users[0]}),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      Code({.op = OpId::W2, .text = "t", .user = users[0], .tags = {"a", "b", "c", "d", "e"}}),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Code({.op = OpId::W2, .text = "t", .user = Uuid{1, 2}}), absl::StatusCode::kNotFound);
}

TEST_F(PgDriverTest, W3JoinThenW4LeaveRoundTrip) {
  const std::vector<Uuid> users = ActiveUsers(3, 10);
  const Uuid room = OpenRoom(users[0], "join and leave");
  const std::string id = FormatUuid(room);
  const OpRequest join{.op = OpId::W3, .room = room, .user = users[1]};
  const OpRequest leave{.op = OpId::W4, .room = room, .user = users[1]};
  RunOk(join);
  EXPECT_EQ(Run({.op = OpId::R2, .room = room}).rows, 2);
  EXPECT_EQ(Run({.op = OpId::R3, .user = users[1]}).rows >= 1, true);
  EXPECT_EQ(Code(join), absl::StatusCode::kAlreadyExists);
  RunOk(leave);
  EXPECT_EQ(Run({.op = OpId::R2, .room = room}).rows, 1);
  EXPECT_EQ(Code(leave), absl::StatusCode::kFailedPrecondition);
  RunOk(join);  // a rejoin is a new participation
  RunOk({.op = OpId::W3, .room = room, .user = users[2]});
  const OpResponse stats = Run({.op = OpId::R6, .room = room});
  EXPECT_EQ(stats.rows, 4);
  EXPECT_EQ(stats.present, 3);
  EXPECT_EQ(SqlValue(StrCat("SELECT total_joins || ' ' || participant_count || ' '"
                            " || peak_participants FROM rooms WHERE id = '",
                            id, "'")),
            "4 3 3");
  EXPECT_EQ(SqlValue(StrCat("SELECT count(*) FILTER (WHERE action = 'USER_JOINED') || ' '"
                            " || count(*) FILTER (WHERE action = 'USER_LEFT')"
                            " FROM audit_logs WHERE room_id = '",
                            id, "'")),
            "4 1");
  EXPECT_EQ(SqlValue(StrCat("SELECT (left_at IS NOT NULL) || ' ' || connection_status"
                            " FROM room_participants WHERE room_id = '",
                            id, "' AND user_id = '", FormatUuid(users[1]),
                            "' ORDER BY joined_at LIMIT 1")),
            "true DISCONNECTED");
  EXPECT_EQ(Code({.op = OpId::W3, .room = Uuid{1, 2}, .user = users[1]}),
            absl::StatusCode::kNotFound);
}

TEST_F(PgDriverTest, W3IsRefusedToTheBannedAndWhenFull) {
  const std::vector<Uuid> users = ActiveUsers(4, 20);
  const Uuid room = OpenRoom(users[0], "bans and limits");
  const std::string id = FormatUuid(room);
  // A ban as BanFromRoom leaves it: on the user's participation, after they left.
  RunOk({.op = OpId::W3, .room = room, .user = users[1]});
  RunOk({.op = OpId::W4, .room = room, .user = users[1]});
  Sql(StrCat("UPDATE room_participants SET is_banned = true, banned_at = now() WHERE room_id = '",
             id, "' AND user_id = '", FormatUuid(users[1]), "'"));
  EXPECT_EQ(Run({.op = OpId::R8, .room = room, .user = users[1]}).rows, 1);
  EXPECT_EQ(Code({.op = OpId::W3, .room = room, .user = users[1]}),
            absl::StatusCode::kPermissionDenied);
  // Full: the host and one more fill a room of two.
  Sql(StrCat("UPDATE rooms SET max_participants = 2 WHERE id = '", id, "'"));
  RunOk({.op = OpId::W3, .room = room, .user = users[2]});
  EXPECT_EQ(Code({.op = OpId::W3, .room = room, .user = users[3]}),
            absl::StatusCode::kResourceExhausted);
  // A banned pair of the data set, where its room is open.
  for (const GeneratedData::BannedPair& b : data().banned) {
    if (db().table(TableId::rooms).GetEnum<RoomStatus>(b.room, rooms::status) != RoomStatus::LIVE ||
        !IsActive(b.user)) {
      continue;
    }
    EXPECT_EQ(Code({.op = OpId::W3,
                    .room = Id(TableId::rooms, b.room),
                    .user = Id(TableId::users, b.user)}),
              absl::StatusCode::kPermissionDenied);
  }
}

TEST_F(PgDriverTest, W5ChangesOwnStateOnceAndAuditsIt) {
  const std::vector<Uuid> users = ActiveUsers(3, 30);
  const Uuid room = OpenRoom(users[0], "live state");
  RunOk({.op = OpId::W3, .room = room, .user = users[1]});
  auto action = [&](LiveAction a, const Uuid& user) {
    return Code({.op = OpId::W5, .room = room, .user = user, .action = a});
  };
  EXPECT_EQ(action(LiveAction::kMute, users[1]), absl::StatusCode::kOk);
  // Asking for the state it already is in succeeds and writes nothing, as in the engine.
  EXPECT_EQ(action(LiveAction::kMute, users[1]), absl::StatusCode::kOk);
  EXPECT_EQ(action(LiveAction::kUnmute, users[1]), absl::StatusCode::kOk);
  EXPECT_EQ(action(LiveAction::kUnmute, users[1]), absl::StatusCode::kOk);
  EXPECT_EQ(action(LiveAction::kRaiseHand, users[1]), absl::StatusCode::kOk);
  EXPECT_EQ(action(LiveAction::kRaiseHand, users[1]), absl::StatusCode::kOk);
  EXPECT_EQ(action(LiveAction::kLowerHand, users[1]), absl::StatusCode::kOk);
  EXPECT_EQ(action(LiveAction::kMute, users[2]), absl::StatusCode::kFailedPrecondition);  // absent
  EXPECT_EQ(SqlValue(StrCat("SELECT string_agg(action::text, ',' ORDER BY \"timestamp\")"
                            " FROM audit_logs WHERE room_id = '",
                            FormatUuid(room), "' AND user_id = '", FormatUuid(users[1]),
                            "' AND action <> 'USER_JOINED'")),
            "USER_MUTED,USER_UNMUTED,HAND_RAISED,HAND_LOWERED");
  EXPECT_EQ(SqlValue(StrCat("SELECT mute_count || ' ' || hand_raise_count || ' ' || is_muted"
                            " || ' ' || hand_raised FROM room_participants WHERE room_id = '",
                            FormatUuid(room), "' AND user_id = '", FormatUuid(users[1]), "'")),
            "1 1 false false");
}

TEST_F(PgDriverTest, W6GiftMovesCoinsWithItsFeeOnce) {
  ASSERT_GE(data().funded_users.size(), 2u);
  const Uuid sender = Id(TableId::users, data().funded_users[0]);
  const Uuid receiver = Id(TableId::users, data().funded_users[1]);
  auto balance = [&](const Uuid& user) {
    return SqlInt(StrCat("SELECT posted_credits - posted_debits FROM wallets WHERE user_id = '",
                         FormatUuid(user), "'"));
  };
  auto revenue = [&] {
    return SqlInt("SELECT posted_credits FROM wallets WHERE kind = 'SYSTEM_REVENUE'");
  };
  const int64_t sender_before = balance(sender), receiver_before = balance(receiver);
  const int64_t revenue_before = revenue();
  const int64_t r9_before = Run({.op = OpId::R9, .user = sender}).rows;
  const std::string key = StrCat("pg-test-gift-", ::getpid());
  const OpRequest gift{
      .op = OpId::W6, .text = key, .user = sender, .other = receiver, .amount = 100};
  RunOk(gift);
  const std::string gift_id =
      SqlValue(StrCat("SELECT id FROM transactions WHERE idempotency_key = '", key, "'"));
  EXPECT_EQ(balance(sender), sender_before - 100);
  EXPECT_EQ(balance(receiver), receiver_before + 90);  // GIFT fee: 10%, at least 1
  EXPECT_EQ(revenue(), revenue_before + 10);
  EXPECT_EQ(SqlValue(StrCat("SELECT string_agg(t.type || ' ' || t.amount, ',' ORDER BY t.type)"
                            " FROM transactions g JOIN transactions t"
                            " ON t.id = g.id OR t.parent_id = g.id"
                            " WHERE g.idempotency_key = '",
                            key, "'")),
            "GIFT 90,FEE 10");
  EXPECT_EQ(SqlValue(StrCat("SELECT recipient_id FROM notifications WHERE kind = 'GIFT_RECEIVED'"
                            " AND payload->>'transfer_id' = '",
                            gift_id, "'")),
            FormatUuid(receiver));
  EXPECT_EQ(SqlValue(StrCat("SELECT metadata->>'fee' FROM audit_logs WHERE action = 'GIFT_SENT'"
                            " AND metadata->>'transfer_id' = '",
                            gift_id, "'")),
            "10");
  EXPECT_EQ(Run({.op = OpId::R9, .user = sender}).rows, std::min<int64_t>(50, r9_before + 2));
  // A retry with the same key writes nothing; another gift under it is refused.
  RunOk(gift);
  EXPECT_EQ(balance(sender), sender_before - 100);
  OpRequest other = gift;
  other.amount = 101;
  EXPECT_EQ(Code(other), absl::StatusCode::kAlreadyExists);
  // More than the sender has.
  EXPECT_EQ(
      Code({.op = OpId::W6, .user = sender, .other = receiver, .amount = balance(sender) + 1}),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(balance(sender), sender_before - 100);
  EXPECT_EQ(Code({.op = OpId::W6, .user = sender, .other = sender, .amount = 10}),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PgDriverTest, W7EndsARoomAndEveryoneLeaves) {
  const std::vector<Uuid> users = ActiveUsers(4, 40);
  const Uuid room = OpenRoom(users[0], "the end");
  const std::string id = FormatUuid(room);
  RunOk({.op = OpId::W3, .room = room, .user = users[1]});
  RunOk({.op = OpId::W3, .room = room, .user = users[2]});
  EXPECT_EQ(Code({.op = OpId::W7, .room = room, .user = users[1]}),
            absl::StatusCode::kPermissionDenied);
  RunOk({.op = OpId::W7, .room = room, .user = users[0]});
  EXPECT_EQ(Run({.op = OpId::R2, .room = room}).rows, 0);
  EXPECT_EQ(SqlValue(StrCat("SELECT status || ' ' || participant_count || ' '"
                            " || (ended_at IS NOT NULL) FROM rooms WHERE id = '",
                            id, "'")),
            "ENDED 0 true");
  EXPECT_EQ(SqlInt(StrCat("SELECT count(*) FROM room_participants WHERE room_id = '", id,
                          "' AND left_at IS NOT NULL AND connection_status = 'DISCONNECTED'")),
            3);
  EXPECT_EQ(SqlValue(StrCat("SELECT metadata->>'participants_left' FROM audit_logs"
                            " WHERE room_id = '",
                            id, "' AND action = 'ROOM_ENDED'")),
            "3");
  EXPECT_EQ(Code({.op = OpId::W7, .room = room, .user = users[0]}),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code({.op = OpId::W3, .room = room, .user = users[3]}),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Code({.op = OpId::W4, .room = room, .user = users[1]}),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PgDriverTest, W7EndsALoadedLiveRoomWithItsCrowd) {
  const Table& rooms = db().table(TableId::rooms);
  RowId room = kNoRow;
  for (RowId r : data().live_rooms) {
    if (IsActive(rooms.GetRef(r, rooms::owner_id))) room = r;
  }
  ASSERT_NE(room, kNoRow);
  const Uuid owner = Id(TableId::users, rooms.GetRef(room, rooms::owner_id));
  std::vector<ParticipantState> present;
  PresentParticipants(db(), room, &present);
  RunOk({.op = OpId::W7, .room = rooms.id(room), .user = owner});
  EXPECT_EQ(SqlValue(StrCat("SELECT metadata->>'participants_left' FROM audit_logs"
                            " WHERE room_id = '",
                            FormatUuid(rooms.id(room)), "' AND action = 'ROOM_ENDED'")),
            StrCat(present.size()));
  EXPECT_EQ(Run({.op = OpId::R2, .room = rooms.id(room)}).rows, 0);
}

// Opposite gifts and joins of one room from several connections at once: the
// lock order leaves no deadlock, and the counters add up.
TEST_F(PgDriverTest, ConcurrentWritesNeitherDeadlockNorLoseUpdates) {
  ASSERT_GE(data().funded_users.size(), 8u);
  const std::vector<Uuid> users = ActiveUsers(9, 60);
  const Uuid room = OpenRoom(users[0], "busy");
  constexpr int kThreads = 4, kRounds = 40;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto session = driver_->Connect();
      if (!session.ok()) {
        ++failures;
        return;
      }
      const Uuid a = Id(TableId::users, data().funded_users[2 + (t % 2)]);
      const Uuid b = Id(TableId::users, data().funded_users[3 - (t % 2)]);
      for (int i = 0; i < kRounds; ++i) {
        for (const OpRequest& q :
             {OpRequest{.op = OpId::W6, .user = a, .other = b, .amount = 2},
              OpRequest{.op = OpId::W3, .room = room, .user = users[1 + 2 * t]},
              OpRequest{.op = OpId::W5,
              .room = room,
              .user = users[1 + 2 * t],
              .action = LiveAction::kMute},
              OpRequest{.op = OpId::W3, .room = room, .user = users[2 + 2 * t]},
              OpRequest{.op = OpId::W4, .room = room, .user = users[1 + 2 * t]},
              OpRequest{.op = OpId::W4, .room = room, .user = users[2 + 2 * t]}}) {
          OpResponse r;
          if (!(*session)->Execute(q, r).ok() || !r.status.ok()) {
            ++failures;
            ADD_FAILURE() << r.status;
          }
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(SqlValue(StrCat("SELECT total_joins || ' ' || participant_count || ' '"
                            " || (peak_participants <= 9) FROM rooms WHERE id = '",
                            FormatUuid(room), "'")),
            StrCat(1 + 2 * kThreads * kRounds, " 1 true"));
  EXPECT_EQ(SqlInt("SELECT count(*) FROM wallets w WHERE posted_credits - posted_debits <>"
                   " (SELECT coalesce(sum(amount) FILTER (WHERE credit_wallet_id = w.id), 0)"
                   "  - coalesce(sum(amount) FILTER (WHERE debit_wallet_id = w.id), 0)"
                   "  FROM transactions WHERE status = 'POSTED'"
                   "  AND (credit_wallet_id = w.id OR debit_wallet_id = w.id))"),
            0);
}

}  // namespace
}  // namespace vox::bench

// `pg_driver_test --export_csv=DIR` writes the data set the tests expect
// for cluster.sh load. Without it, the tests run against VOX_PG_CONNINFO.
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (!arg.starts_with("--export_csv=")) continue;
    auto generated = vox::bench::Generate();
    absl::Status s = generated.status();
    if (s.ok()) s = vox::ExportCsv(*generated->db, std::string(arg.substr(13)), nullptr);
    if (!s.ok()) {
      std::cerr << "pg_driver_test: " << s << "\n";
      return 1;
    }
    return 0;
  }
  ::testing::InitGoogleTest(&argc, argv);
  if (std::getenv(vox::bench::kConninfoVariable) == nullptr) {
    std::cerr << "pg_driver_test: " << vox::bench::kConninfoVariable
              << " is not set. Run this test through tests/bench/pg_peer_test.sh, which starts a "
                 "private PostgreSQL cluster, loads the test's data set and sets it.\n";
    return 1;
  }
  return RUN_ALL_TESTS();
}
