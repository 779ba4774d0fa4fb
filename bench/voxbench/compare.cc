// voxbench_compare: puts two systems' voxbench runs side by side.
//
//   voxbench_compare --runs=voxdb.jsonl,postgres.jsonl
//       [--facts=voxdb-facts.json,postgres-facts.json] [--chart=compare.svg]
//
// Prints a Markdown table per operation and client count: each system's
// throughput, p50 and p99, and the ratios (the first system over the
// second: how many times the throughput, how many times lower the p99);
// then the load/memory facts; then the targets of docs/benchmarks.md, met or
// missed by how much. --chart draws the ratios at the largest client count
// as grouped bars. A record marked "checked":false (voxbench saw a wrong
// answer) makes the comparison count for nothing: exit 1.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "schema/str.h"
#include "tools/svg_chart.h"

ABSL_FLAG(std::string, runs, "", "two voxbench --out files: the system measured, the reference");
ABSL_FLAG(std::string, facts, "",
          "JSON files of load facts (datagen --summary, cluster.sh load, ...), one object a line");
ABSL_FLAG(std::string, chart, "", "write an SVG chart of the ratios here");

namespace vox::bench {
namespace {

using Record = std::map<std::string, std::string>;

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The top-level members of a flat JSON object (nested objects skipped):
// strings unquoted (no escapes expected in voxbench's output), the rest as
// written. nullopt for anything that is not such an object.
std::optional<Record> ParseFlatObject(std::string_view s) {
  Record r;
  size_t i = 0;
  const auto skip_ws = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  };
  const auto string = [&]() -> std::optional<std::string> {
    if (i >= s.size() || s[i] != '"') return std::nullopt;
    const size_t end = s.find('"', i + 1);
    if (end == std::string_view::npos) return std::nullopt;
    std::string out(s.substr(i + 1, end - i - 1));
    i = end + 1;
    return out;
  };
  skip_ws();
  if (i >= s.size() || s[i++] != '{') return std::nullopt;
  skip_ws();
  if (i < s.size() && s[i] == '}') return r;
  while (i < s.size()) {
    skip_ws();
    auto key = string();
    if (!key) return std::nullopt;
    skip_ws();
    if (i >= s.size() || s[i++] != ':') return std::nullopt;
    skip_ws();
    if (i >= s.size()) return std::nullopt;
    if (s[i] == '"') {
      auto v = string();
      if (!v) return std::nullopt;
      r[*key] = *v;
    } else if (s[i] == '{' || s[i] == '[') {
      int depth = 0;
      bool in_string = false;
      for (; i < s.size(); ++i) {
        const char c = s[i];
        if (in_string) {
          in_string = c != '"';
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if ((c == '}' || c == ']') && --depth == 0) {
          ++i;
          break;
        }
      }
    } else {
      const size_t end = s.find_first_of(",}", i);
      if (end == std::string_view::npos) return std::nullopt;
      std::string v(s.substr(i, end - i));
      while (!v.empty() && v.back() == ' ') v.pop_back();
      r[*key] = v;
      i = end;
    }
    skip_ws();
    if (i < s.size() && s[i] == ',') {
      ++i;
      continue;
    }
    if (i < s.size() && s[i] == '}') return r;
    return std::nullopt;
  }
  return std::nullopt;
}

double Num(const Record& r, const std::string& key) {
  auto it = r.find(key);
  return it == r.end() ? 0 : std::strtod(it->second.c_str(), nullptr);
}
std::string Str(const Record& r, const std::string& key) {
  auto it = r.find(key);
  return it == r.end() ? "" : it->second;
}

// "12,345" for big counts, 3 significant digits below.
std::string Fmt(double v) {
  if (v >= 10000) {
    const std::string digits = std::to_string(static_cast<long long>(v + 0.5));
    std::string out;
    for (size_t i = 0; i < digits.size(); ++i) {
      if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
      out += digits[i];
    }
    return out;
  }
  char buf[32];
  const bool whole = v == static_cast<double>(static_cast<long long>(v));
  std::snprintf(buf, sizeof buf, v >= 100 || whole ? "%.0f" : v >= 10 ? "%.1f" : "%.2f", v);
  return buf;
}
std::string Ratio(double v) { return v > 0 ? Fmt(v) + "x" : "-"; }

const std::vector<std::string> kOrder = {"R1", "R2", "R3", "R4", "R5", "R6", "R7",
                                         "R8", "R9", "W1", "W2", "W3", "W4", "W5",
                                         "W6", "W7", "read-mostly", "write-heavy"};
int OrderOf(const std::string& op) {
  auto it = std::find(kOrder.begin(), kOrder.end(), op);
  return static_cast<int>(it - kOrder.begin());
}

struct Key {
  std::string op;
  int clients;
  bool operator<(const Key& o) const {
    return std::make_pair(OrderOf(op), clients) < std::make_pair(OrderOf(o.op), o.clients);
  }
};

int Main() {
  const std::vector<std::string> runs = Split(absl::GetFlag(FLAGS_runs), ',');
  if (runs.empty() || runs.size() > 2) {
    std::fprintf(stderr, "voxbench_compare: --runs takes one or two voxbench --out files\n");
    return 2;
  }
  std::vector<std::string> systems;
  std::map<std::string, std::map<Key, Record>> by_system;
  bool unchecked = false;
  for (const std::string& path : runs) {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "voxbench_compare: cannot read %s\n", path.c_str());
      return 2;
    }
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      ++n;
      if (line.empty()) continue;
      auto r = ParseFlatObject(line);
      if (!r || Str(*r, "system").empty() || Str(*r, "op").empty()) {
        std::fprintf(stderr, "voxbench_compare: %s:%d: not a voxbench record\n", path.c_str(), n);
        return 2;
      }
      const std::string system = Str(*r, "system");
      if (std::find(systems.begin(), systems.end(), system) == systems.end()) {
        systems.push_back(system);
      }
      if (Str(*r, "checked") != "true") unchecked = true;
      // A later record of the same cell replaces an earlier one.
      by_system[system][{Str(*r, "op"), static_cast<int>(Num(*r, "clients"))}] = *r;
    }
  }
  if (systems.empty()) {
    std::fprintf(stderr, "voxbench_compare: no records\n");
    return 2;
  }
  const bool pair = systems.size() >= 2;
  const std::string a = systems[0], b = pair ? systems[1] : "";
  std::set<Key> keys;
  for (const auto& [system, cells] : by_system) {
    for (const auto& [key, r] : cells) keys.insert(key);
  }
  const auto cell = [&](const std::string& system, const Key& k) -> const Record* {
    auto s = by_system.find(system);
    if (s == by_system.end()) return nullptr;
    auto c = s->second.find(k);
    return c == s->second.end() ? nullptr : &c->second;
  };
  double scale = 0;
  for (const auto& [key, r] : by_system[a]) scale = Num(r, "scale");

  std::printf("## %s%s%s, SF=%g, durability on\n\n", a.c_str(), pair ? " vs " : "", b.c_str(),
              scale);
  if (pair) {
    std::printf(
        "| op | clients | %s ops/s | %s ops/s | throughput | %s p50 us | %s p50 us | %s p99 us | "
        "%s p99 us | p99 lower | %s txn/fdatasync |\n",
        a.c_str(), b.c_str(), a.c_str(), b.c_str(), a.c_str(), b.c_str(), a.c_str());
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  } else {
    std::printf("| op | clients | ops/s | p50 us | p99 us | p99.9 us | txn/fdatasync |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  }
  for (const Key& k : keys) {
    const Record* x = cell(a, k);
    const Record* y = pair ? cell(b, k) : nullptr;
    const auto get = [](const Record* r, const char* f) { return r ? Num(*r, f) : 0.0; };
    const std::string tps = x && Num(*x, "txn_per_sync") > 0 ? Fmt(Num(*x, "txn_per_sync")) : "-";
    if (pair) {
      const double tr = get(y, "throughput") > 0 ? get(x, "throughput") / get(y, "throughput") : 0;
      const double pr = get(x, "p99_us") > 0 ? get(y, "p99_us") / get(x, "p99_us") : 0;
      std::printf("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", k.op.c_str(),
                  k.clients, x ? Fmt(get(x, "throughput")).c_str() : "-",
                  y ? Fmt(get(y, "throughput")).c_str() : "-", Ratio(x && y ? tr : 0).c_str(),
                  x ? Fmt(get(x, "p50_us")).c_str() : "-", y ? Fmt(get(y, "p50_us")).c_str() : "-",
                  x ? Fmt(get(x, "p99_us")).c_str() : "-", y ? Fmt(get(y, "p99_us")).c_str() : "-",
                  Ratio(x && y ? pr : 0).c_str(), tps.c_str());
    } else {
      std::printf("| %s | %d | %s | %s | %s | %s | %s |\n", k.op.c_str(), k.clients,
                  Fmt(get(x, "throughput")).c_str(), Fmt(get(x, "p50_us")).c_str(),
                  Fmt(get(x, "p99_us")).c_str(), Fmt(get(x, "p999_us")).c_str(), tps.c_str());
    }
  }

  // Facts: one object per line, each with a "system".
  std::map<std::string, Record> facts;
  for (const std::string& path : Split(absl::GetFlag(FLAGS_facts), ',')) {
    std::ifstream in(path);
    if (!in) {
      std::fprintf(stderr, "voxbench_compare: cannot read %s\n", path.c_str());
      return 2;
    }
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      auto r = ParseFlatObject(line);
      if (!r || Str(*r, "system").empty()) {
        std::fprintf(stderr, "voxbench_compare: %s: not a facts record: %s\n", path.c_str(),
                     line.c_str());
        return 2;
      }
      Record& into = facts[Str(*r, "system")];
      for (auto& [k, v] : *r) into[k] = v;
    }
  }
  if (!facts.empty()) {
    std::printf("\n| system | fact | value |\n|---|---|---:|\n");
    for (const auto& [system, r] : facts) {
      for (const auto& [k, v] : r) {
        if (k == "system") continue;
        const bool bytes = k.find("bytes") != std::string::npos;
        const double num = std::strtod(v.c_str(), nullptr);
        std::printf("| %s | %s | %s |\n", system.c_str(), k.c_str(),
                    bytes ? StrCat(Fmt(num / (1 << 20)), " MiB").c_str() : Fmt(num).c_str());
      }
    }
  }

  // The targets (docs/benchmarks.md), when the pair is VoxDB and PostgreSQL.
  if (pair) {
    std::printf("\n| target | measured | |\n|---|---|---|\n");
    const auto target = [&](const std::string& what, double measured, double goal, bool at_least,
                            const std::string& unit) {
      const bool met = at_least ? measured >= goal : measured <= goal;
      std::printf("| %s | %s%s | %s |\n", what.c_str(), Fmt(measured).c_str(), unit.c_str(),
                  met ? "met"
                      : StrCat("missed by ",
                               Fmt(at_least ? goal / std::max(measured, 1e-9) : measured / goal),
                               "x")
                            .c_str());
    };
    int most = 0;
    for (const Key& k : keys) most = std::max(most, k.clients);
    for (const Key& k : keys) {
      const Record* x = cell(a, k);
      const Record* y = cell(b, k);
      if (!x || !y || k.clients != most) continue;
      const double tr = Num(*y, "throughput") > 0 ? Num(*x, "throughput") / Num(*y, "throughput")
                                                  : 0;
      const double pr = Num(*x, "p99_us") > 0 ? Num(*y, "p99_us") / Num(*x, "p99_us") : 0;
      const std::string at = StrCat(k.op, ", ", k.clients, " clients: ");
      if (k.op[0] == 'R') {
        target(at + "throughput >= 5x", tr, 5, true, "x");
        target(at + "p99 <= a tenth", pr, 10, true, "x lower");
      } else if (k.op == "read-mostly") {
        target(at + "throughput >= 20x", tr, 20, true, "x");
      } else if (k.op == "W3" || k.op == "W4" || k.op == "W5") {
        target(at + "throughput >= 20x", tr, 20, true, "x");
        target(at + "txn per fdatasync >= 8", Num(*x, "txn_per_sync"), 8, true, "");
      }
    }
    if (const Record* one = cell(a, {"R1", 1})) {
      target("R1, 1 client: p50 <= 25 us", Num(*one, "p50_us"), 25, false, " us");
    }
    const auto fa = facts.find(a), fb = facts.find(b);
    if (fa != facts.end() && fb != facts.end() && Num(fb->second, "database_bytes") > 0) {
      const double resident = Num(fa->second, "resident_bytes_after_restore") > 0
                                  ? Num(fa->second, "resident_bytes_after_restore")
                                  : Num(fa->second, "resident_bytes_after_load");
      target("resident memory <= a third of PostgreSQL's database size",
             resident / Num(fb->second, "database_bytes"), 1.0 / 3, false, " of it");
    }
  }

  if (const std::string path = absl::GetFlag(FLAGS_chart); !path.empty() && pair) {
    int most = 0;
    for (const Key& k : keys) most = std::max(most, k.clients);
    svg::Chart chart{.title = StrCat(a, " vs ", b, ": how many times better, ", most,
                                     " clients, SF=", scale),
                     .subtitle = "throughput ratio and p99 latency ratio per operation (1 = equal)",
                     .type = svg::ChartType::kBar};
    svg::Series throughput{.name = "throughput (x)"}, p99{.name = "p99 (x lower)"};
    for (const Key& k : keys) {
      const Record* x = cell(a, k);
      const Record* y = cell(b, k);
      if (!x || !y || k.clients != most) continue;
      // Two lines for the mixes, so that neighbouring labels do not overlap.
      chart.categories.push_back(k.op == "read-mostly"   ? "read\nmostly"
                                 : k.op == "write-heavy" ? "write\nheavy"
                                                         : k.op);
      chart.buckets.push_back(static_cast<int64_t>(chart.buckets.size()));
      throughput.values.push_back(
          Num(*y, "throughput") > 0 ? Num(*x, "throughput") / Num(*y, "throughput") : 0);
      p99.values.push_back(Num(*x, "p99_us") > 0 ? Num(*y, "p99_us") / Num(*x, "p99_us") : 0);
    }
    chart.series = {throughput, p99};
    chart.x_title = "operation (WORKLOAD.md)";
    const std::string svg = svg::RenderSvg(chart);
    const std::string tmp = path + ".tmp";
    std::FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fwrite(svg.data(), 1, svg.size(), f) != svg.size() ||
        std::fclose(f) != 0 || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::fprintf(stderr, "voxbench_compare: cannot write %s\n", path.c_str());
      return 1;
    }
  }
  if (unchecked) {
    std::fprintf(stderr,
                 "voxbench_compare: a run has records with wrong answers (\"checked\": false): "
                 "the comparison counts for nothing\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace vox::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return vox::bench::Main();
}
