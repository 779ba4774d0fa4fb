// voxctl's generic operations (tools/voxctl_schema.h), output
// (tools/voxctl_output.h) and shell word splitting (tools/voxctl_shell.h),
// without a server: operations built from words are checked by decoding
// them with the generated code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flatbuffers/flatbuffers.h"
#include "schema/str.h"
#include "schema/types.h"
#include "schema/voxdb_generated.h"
#include "tools/voxctl_output.h"
#include "tools/voxctl_schema.h"
#include "tools/voxctl_shell.h"

namespace vox::voxctl {
namespace {

constexpr char kRoom[] = "01a20134-06bf-77e3-97e2-dd4400000000";
constexpr char kUser[] = "01a20134-06a2-7089-bb42-d23600000001";

Uuid FromWire(const wire::Uuid* u) { return u == nullptr ? Uuid{} : Uuid{u->hi(), u->lo()}; }

// A verified Request holding `op` built from `args`.
class Built {
 public:
  Built(const std::string& op, const std::vector<std::string>& args) {
    const OpInfo* info = WireSchema::Get().FindOp(op);
    EXPECT_NE(info, nullptr) << op;
    absl::StatusOr<OpRequest> request = ParseOpArgs(*info, args);
    EXPECT_TRUE(request.ok()) << request.status();
    const rpc::Encoded e = request->Encode(builder_);
    builder_.Finish(wire::CreateRequest(builder_, 1, static_cast<wire::Op>(e.type),
                                        flatbuffers::Offset<void>(e.offset)));
    flatbuffers::Verifier verifier(builder_.GetBufferPointer(), builder_.GetSize());
    EXPECT_TRUE(wire::VerifyRequestBuffer(verifier));
  }
  const wire::Request& request() const { return *wire::GetRequest(builder_.GetBufferPointer()); }

 private:
  flatbuffers::FlatBufferBuilder builder_;
};

std::string Refusal(const std::string& op, const std::vector<std::string>& args) {
  absl::StatusOr<OpRequest> r = ParseOpArgs(*WireSchema::Get().FindOp(op), args);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status()));
  return std::string(r.status().message());
}

TEST(WireSchemaTest, FindsOperationsInAnySpelling) {
  const WireSchema& s = WireSchema::Get();
  ASSERT_NE(s.FindOp("JoinRoom"), nullptr);
  EXPECT_EQ(s.FindOp("join_room"), s.FindOp("JoinRoom"));
  EXPECT_EQ(s.FindOp("JOINROOM"), s.FindOp("JoinRoom"));
  EXPECT_EQ(s.FindOp("JoinRoom")->type, static_cast<uint8_t>(wire::Op::JoinRoom));
  EXPECT_EQ(s.FindOp("Hello"), nullptr);  // the client's handshake
  EXPECT_EQ(s.FindOp("NoSuchOp"), nullptr);
}

TEST(OpRequestTest, UuidsAndBools) {
  Built b("SetMuted", {StrCat("room_id=", kRoom), StrCat("actor_id=", kUser),
                       StrCat("target_id=", kUser), "muted=yes"});
  const wire::SetMuted* op = b.request().op_as_SetMuted();
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(FormatUuid(FromWire(op->room_id())), kRoom);
  EXPECT_EQ(FormatUuid(FromWire(op->target_id())), kUser);
  EXPECT_TRUE(op->muted());
  EXPECT_FALSE(op->expires_at().has_value());
}

TEST(OpRequestTest, NestedTablesListsOptionalsAndTimestamps) {
  Built b("create_and_open_room",
          {StrCat("owner_id=", kUser), "room_code=k3x9", "title=Late talk", "tags=music,a\\,b",
           "is_public=false", "settings.max_participants=50",
           "settings.scheduled_start=2026-12-01T20:00:00Z", "settings.tags="});
  const wire::CreateAndOpenRoom* op = b.request().op_as_CreateAndOpenRoom();
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->title()->str(), "Late talk");
  EXPECT_FALSE(op->is_public());  // written although the schema's default is true
  ASSERT_EQ(op->tags()->size(), 2u);
  EXPECT_EQ(op->tags()->Get(1)->str(), "a,b");
  ASSERT_NE(op->settings(), nullptr);
  EXPECT_EQ(op->settings()->max_participants(), 50);
  EXPECT_EQ(op->settings()->scheduled_start(), *ParseTimestamp("2026-12-01T20:00:00Z"));
  EXPECT_FALSE(op->settings()->is_recordable().has_value());
  ASSERT_NE(op->settings()->tags(), nullptr);  // given empty: clears the tags
  EXPECT_EQ(op->settings()->tags()->size(), 0u);
}

TEST(OpRequestTest, FieldValuesWithGuessedAndGivenKinds) {
  Built b("UpdateRow", {"table=users", StrCat("id=", kUser), "values.bio=hello",
                        "values.locale=null", "values.is_verified=true",
                        StrCat("values.ref=", kRoom), "values.username:string=12345"});
  const wire::UpdateRow* op = b.request().op_as_UpdateRow();
  ASSERT_NE(op, nullptr);
  ASSERT_EQ(op->values()->size(), 5u);
  const auto* v = op->values();
  EXPECT_EQ(v->Get(0)->column()->str(), "bio");
  EXPECT_EQ(v->Get(0)->kind(), wire::ValueKind::String);
  EXPECT_EQ(v->Get(0)->string_value()->str(), "hello");
  EXPECT_EQ(v->Get(1)->kind(), wire::ValueKind::Null);
  EXPECT_EQ(v->Get(2)->kind(), wire::ValueKind::Int);
  EXPECT_EQ(v->Get(2)->int_value(), 1);
  EXPECT_EQ(v->Get(3)->kind(), wire::ValueKind::Uuid);
  EXPECT_EQ(FormatUuid(FromWire(v->Get(3)->uuid_value())), kRoom);
  EXPECT_EQ(v->Get(4)->kind(), wire::ValueKind::String);
  EXPECT_EQ(v->Get(4)->string_value()->str(), "12345");
}

TEST(OpRequestTest, AnOpeningIdMayBeSentAbsentOnPurpose) {
  Built b("RecordLogin", {"user_id=null", "identifier=ghost", "credentials_ok=false"});
  EXPECT_EQ(b.request().op_as_RecordLogin()->user_id(), nullptr);
}

TEST(OpRequestTest, RefusalsNameTheFieldAndItsType) {
  EXPECT_EQ(Refusal("JoinRoom", {"room_id=nope", StrCat("user_id=", kUser)}),
            "JoinRoom: room_id (uuid): expected 8-4-4-4-12 hex digits; got 'nope'");
  EXPECT_EQ(Refusal("JoinRoom", {StrCat("user_id=", kUser)}),
            "JoinRoom: missing room_id (uuid), which is required (room_id=null sends it absent)");
  EXPECT_EQ(Refusal("JoinRoom", {"colour=red"}),
            "JoinRoom: no field 'colour'; its fields: room_id, user_id");
  EXPECT_EQ(Refusal("JoinRoom", {StrCat("room_id=", kRoom), StrCat("room_id=", kRoom)}),
            "JoinRoom: room_id is given twice");
  EXPECT_NE(Refusal("CreateAndOpenRoom", {StrCat("owner_id=", kUser), "max_participants=1e99"})
                .find("max_participants (int)"),
            std::string::npos);
  EXPECT_NE(Refusal("CreateAndOpenRoom", {StrCat("owner_id=", kUser), "settings.colour=1"})
                .find("settings (RoomSettings) has no field 'colour'"),
            std::string::npos);
  EXPECT_NE(Refusal("SetMuted", {"expires_at=tomorrow"}).find("expires_at (timestamp)"),
            std::string::npos);
  EXPECT_NE(Refusal("Batch", {"ops.0.op=JoinRoom"}).find("cannot be given"), std::string::npos);
  // A secret's value is never repeated.
  const std::string secret = Refusal("UpdateRow", {"values.password_hash:uuid=hunter2"});
  EXPECT_EQ(secret.find("hunter2"), std::string::npos) << secret;
}

TEST(OpsTest, ListsEveryOperationWithItsFields) {
  const std::string ops = ListOps();
  EXPECT_NE(ops.find("\nJoinRoom "), std::string::npos);
  EXPECT_NE(ops.find(" room_id:uuid user_id:uuid\n"), std::string::npos);
  EXPECT_EQ(ops.find("Hello "), std::string::npos);
  const std::string help = DescribeOp(*WireSchema::Get().FindOp("SetMuted"));
  EXPECT_NE(help.find("expires_at  timestamp  optional; microseconds, RFC 3339 or now"),
            std::string::npos)
      << help;
}

TEST(FlatJsonTest, ParsesScalarsEscapesAndKeepsNestedValuesRaw) {
  std::optional<Doc> d = ParseFlatJsonObject(
      R"( {"a":"x\"y\\z\n","b":-1.5e3,"c":true,"d":null,"e":{"k":[1,"}"]},"f":"\u00e9\ud83c\udf99"} )");
  ASSERT_TRUE(d.has_value());
  ASSERT_EQ(d->fields.size(), 6u);
  EXPECT_EQ(d->fields[0].second.text, "x\"y\\z\n");
  EXPECT_EQ(d->fields[1].second.kind, Doc::Kind::kNumber);
  EXPECT_EQ(d->fields[1].second.text, "-1.5e3");
  EXPECT_EQ(d->fields[2].second.kind, Doc::Kind::kBool);
  EXPECT_EQ(d->fields[3].second.kind, Doc::Kind::kNull);
  EXPECT_EQ(d->fields[4].second.kind, Doc::Kind::kRaw);
  EXPECT_EQ(d->fields[4].second.text, R"({"k":[1,"}"]})");
  EXPECT_EQ(d->fields[5].second.text, "\xc3\xa9\xf0\x9f\x8e\x99");
  EXPECT_FALSE(ParseFlatJsonObject(R"({"a":1} x)").has_value());
  EXPECT_FALSE(ParseFlatJsonObject(R"({"a":})").has_value());
  EXPECT_FALSE(ParseFlatJsonObject("[1]").has_value());
  EXPECT_TRUE(ParseFlatJsonObject("{}").has_value());
}

Doc Row(const std::string& name, int64_t rows) {
  Doc d{Doc::Kind::kObject};
  d.fields.emplace_back("name", Doc::Text(name));
  d.fields.emplace_back("rows", Doc::Number(std::to_string(rows)));
  return d;
}

TEST(RenderTest, ScalarsAsLinesAndListsAsAlignedTables) {
  Doc list{Doc::Kind::kArray};
  list.items = {Row("users", 1000), Row("room_participants", 7)};
  Doc result{Doc::Kind::kObject};
  result.fields.emplace_back("commits", Doc::Number("3"));
  result.fields.emplace_back("durability", Doc::Text("fsync"));
  result.fields.emplace_back("tables", list);
  EXPECT_EQ(Render(result, Format::kTable),
            "commits     3\n"
            "durability  fsync\n"
            "\n"
            "name               rows\n"
            "users              1000\n"
            "room_participants     7\n");
  EXPECT_EQ(Render(result, Format::kJson),
            R"({"commits":3,"durability":"fsync","tables":[{"name":"users","rows":1000},)"
            R"({"name":"room_participants","rows":7}]})"
            "\n");
  EXPECT_EQ(Render(result, Format::kCsv), "name,rows\nusers,1000\nroom_participants,7\n");
}

TEST(RenderTest, OneJsonRowAsKeyValueLines) {
  Doc rows{Doc::Kind::kArray};
  rows.items = {*ParseFlatJsonObject(R"({"id":"u1","bio":"two\nlines","tags":["a"]})")};
  rows.rows = true;
  Doc result{Doc::Kind::kObject};
  result.fields.emplace_back("rows", rows);
  result.fields.emplace_back("next", Doc{});
  EXPECT_EQ(Render(result, Format::kTable),
            "id    u1\n"
            "bio   two\\nlines\n"
            "tags  [\"a\"]\n");
  EXPECT_EQ(Render(result, Format::kCsv), "id,bio,tags\nu1,\"two\nlines\",\"[\"\"a\"\"]\"\n");
  EXPECT_EQ(Render(Doc{Doc::Kind::kObject}, Format::kTable), "OK\n");
}

TEST(SplitCommandLineTest, QuotesAndEscapes) {
  EXPECT_EQ(*SplitCommandLine(R"(  JoinRoom title="Late talk" bio='it''s' a\ b "q\"x" )"),
            (std::vector<std::string>{"JoinRoom", "title=Late talk", "bio=its", "a b", "q\"x"}));
  EXPECT_TRUE(SplitCommandLine("   ")->empty());
  EXPECT_FALSE(SplitCommandLine("title=\"open").has_value());
}

}  // namespace
}  // namespace vox::voxctl
