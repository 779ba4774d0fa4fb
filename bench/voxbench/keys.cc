#include "bench/voxbench/keys.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "schema/str.h"

namespace vox::bench {
namespace {

constexpr std::string_view kMagic = "# voxbench keys 1";

// Splits `line` at single spaces.
std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    const size_t sp = line.find(' ');
    out.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  return out;
}

}  // namespace

absl::Status WriteKeys(const std::string& path, const WorkloadKeys& keys) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return absl::UnavailableError(StrCat(tmp, ": ", std::strerror(errno)));
  std::string out;
  out.reserve(1 << 20);
  const auto flush = [&] {
    if (!out.empty() && std::fwrite(out.data(), 1, out.size(), f) != out.size()) return false;
    out.clear();
    return true;
  };
  bool ok = true;
  const auto line = [&](std::string text) {
    out += text;
    out += '\n';
    if (out.size() > (1 << 20)) ok = ok && flush();
  };
  line(std::string(kMagic));
  line(StrCat("scale ", keys.scale));
  line(StrCat("seed ", keys.seed));
  for (const auto& e : keys.emails) line(StrCat("email ", e));
  for (const auto& u : keys.users) line(StrCat("user ", FormatUuid(u)));
  for (const auto& r : keys.rooms) line(StrCat("room ", FormatUuid(r)));
  for (const auto& r : keys.live_rooms) line(StrCat("live ", FormatUuid(r)));
  for (const auto& p : keys.present) {
    line(StrCat("present ", FormatUuid(p.room), " ", FormatUuid(p.user)));
  }
  for (const auto& p : keys.banned) {
    line(StrCat("banned ", FormatUuid(p.room), " ", FormatUuid(p.user)));
  }
  for (const auto& u : keys.funded) line(StrCat("funded ", FormatUuid(u)));
  for (const auto& t : keys.tags) line(StrCat("tag ", t));
  ok = ok && flush();
  ok = (std::fflush(f) == 0) && ok;
  const int saved = errno;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return absl::UnavailableError(StrCat(tmp, ": ", std::strerror(saved)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::UnavailableError(StrCat(path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<WorkloadKeys> ReadKeys(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return absl::NotFoundError(StrCat(path, ": ", std::strerror(errno)));
  WorkloadKeys keys;
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t len;
  int line_no = 0;
  absl::Status status;
  while (status.ok() && (len = getline(&buf, &cap, f)) >= 0) {
    ++line_no;
    std::string_view line(buf, static_cast<size_t>(len));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const auto bad = [&](std::string_view why) {
      return absl::InvalidArgumentError(StrCat(path, ":", line_no, ": ", why));
    };
    if (line_no == 1) {
      if (line != kMagic) status = bad(StrCat("not a voxbench keys file (expected '", kMagic, "')"));
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const auto fields = Fields(line);
    const std::string_view kind = fields[0];
    const auto uuid = [&](size_t i) -> absl::StatusOr<Uuid> {
      if (i >= fields.size()) return bad(StrCat("'", kind, "' needs ", i, " uuid(s)"));
      auto u = ParseUuid(fields[i]);
      if (!u.ok()) return bad(StrCat("'", fields[i], "' is not a uuid"));
      return *u;
    };
    const auto pair = [&](std::vector<RoomUser>& into) {
      auto room = uuid(1);
      auto user = uuid(2);
      if (!room.ok()) return room.status();
      if (!user.ok()) return user.status();
      into.push_back({*room, *user});
      return absl::OkStatus();
    };
    const auto one = [&](std::vector<Uuid>& into) {
      auto u = uuid(1);
      if (!u.ok()) return u.status();
      into.push_back(*u);
      return absl::OkStatus();
    };
    if (fields.size() < 2) {
      status = bad(StrCat("'", kind, "' has no value"));
    } else if (kind == "scale") {
      keys.scale = std::strtod(std::string(fields[1]).c_str(), nullptr);
    } else if (kind == "seed") {
      keys.seed = std::strtoull(std::string(fields[1]).c_str(), nullptr, 10);
    } else if (kind == "email") {
      keys.emails.emplace_back(fields[1]);
    } else if (kind == "tag") {
      keys.tags.emplace_back(fields[1]);
    } else if (kind == "user") {
      status = one(keys.users);
    } else if (kind == "room") {
      status = one(keys.rooms);
    } else if (kind == "live") {
      status = one(keys.live_rooms);
    } else if (kind == "funded") {
      status = one(keys.funded);
    } else if (kind == "present") {
      status = pair(keys.present);
    } else if (kind == "banned") {
      status = pair(keys.banned);
    } else {
      status = bad(StrCat("unknown kind '", kind, "'"));
    }
  }
  std::free(buf);
  std::fclose(f);
  if (!status.ok()) return status;
  if (line_no == 0) return absl::InvalidArgumentError(StrCat(path, ": empty"));
  const auto need = [&](bool have, std::string_view kind) {
    return have ? absl::OkStatus()
                : absl::FailedPreconditionError(StrCat(path, ": no '", kind, "' keys"));
  };
  for (auto s : {need(!keys.emails.empty(), "email"), need(!keys.users.empty(), "user"),
                 need(!keys.rooms.empty(), "room"), need(!keys.live_rooms.empty(), "live"),
                 need(!keys.funded.empty(), "funded"), need(!keys.tags.empty(), "tag")}) {
    if (!s.ok()) return s;
  }
  return keys;
}

}  // namespace vox::bench
