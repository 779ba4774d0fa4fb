#include "tools/voxctl_shell.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "schema/str.h"
#include "tools/voxctl_schema.h"

#ifdef VOX_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace vox {
namespace {

constexpr int kHistoryLines = 1000;

constexpr char kShellHelp[] =
    "Shell commands:\n"
    "  \\table, \\json, \\csv        how results print from now on\n"
    "  quit, exit, Ctrl-D          leave\n"
    "Lines are voxctl call's words: JoinRoom room_id=... user_id=...; quote values with\n"
    "blanks: title=\"Late talk\". Tab completes operation and field names.\n";

// Whether a line gives a secret (password_hash=..., access_token=...): such
// lines stay out of the history file.
bool HasSecret(const std::vector<std::string>& words) {
  for (const std::string& w : words) {
    const size_t eq = w.find('=');
    if (eq == std::string::npos) continue;
    std::string key = w.substr(0, eq);
    if (const size_t dot = key.rfind('.'); dot != std::string::npos) key = key.substr(dot + 1);
    if (voxctl::IsSecretName(key)) return true;
  }
  return false;
}

// ---- Line input ----

class LineReader {
 public:
  virtual ~LineReader() = default;
  virtual std::optional<std::string> Read() = 0;
  virtual void Remember(const std::string& line) { (void)line; }
};

class PipeReader : public LineReader {
 public:
  std::optional<std::string> Read() override {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
};

#ifdef VOX_HAVE_LIBEDIT

// Completion candidates of the word being completed; libedit's callbacks
// are plain functions.
std::vector<std::string>& Candidates() {
  static std::vector<std::string> candidates;
  return candidates;
}

char* NextCandidate(const char* text, int state) {
  static size_t next = 0;
  if (state == 0) next = 0;
  const std::vector<std::string>& all = Candidates();
  while (next < all.size()) {
    const std::string& c = all[next++];
    if (c.starts_with(text)) return strdup(c.c_str());
  }
  return nullptr;
}

char** Complete(const char* text, int start, int /*end*/) {
  rl_attempted_completion_over = 1;  // never file names
  std::vector<std::string>& out = Candidates();
  out.clear();
  const std::vector<std::string> before = SplitCommandLine(std::string_view(rl_line_buffer, start))
                                              .value_or(std::vector<std::string>{});
  const voxctl::WireSchema& schema = voxctl::WireSchema::Get();
  rl_completion_append_character = ' ';
  if (before.empty() || (before.size() == 1 && (before[0] == "help" || before[0] == "call"))) {
    for (const voxctl::OpInfo& op : schema.ops()) out.push_back(op.name);
    if (before.empty()) {
      for (const std::string& w : CommandWords()) out.push_back(w);
      for (const char* w : {"\\table", "\\json", "\\csv", "quit", "exit"}) out.push_back(w);
    }
  } else {
    const std::string& name = before[0] == "call" && before.size() > 1 ? before[1] : before[0];
    if (const voxctl::OpInfo* op = schema.FindOp(name)) {
      for (const std::string& path : voxctl::FieldPaths(*op)) {
        out.push_back(path.ends_with(".") ? path : path + "=");
      }
      rl_completion_append_character = '\0';
    }
  }
  return rl_completion_matches(text, NextCandidate);
}

class EditLineReader : public LineReader {
 public:
  EditLineReader() {
    rl_readline_name = "voxctl";
    rl_attempted_completion_function = Complete;
    using_history();
    stifle_history(kHistoryLines);
    if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
      history_path_ = StrCat(home, "/.voxctl_history");
      read_history(history_path_.c_str());
    }
  }
  std::optional<std::string> Read() override {
    char* line = readline("voxctl> ");
    if (line == nullptr) {
      std::printf("\n");
      return std::nullopt;
    }
    std::string out(line);
    std::free(line);
    return out;
  }
  void Remember(const std::string& line) override {
    add_history(line.c_str());
    if (history_path_.empty()) return;
    write_history(history_path_.c_str());
    ::chmod(history_path_.c_str(), 0600);  // ids and emails: the user's own
  }

 private:
  std::string history_path_;
};

#endif  // VOX_HAVE_LIBEDIT

}  // namespace

std::optional<std::vector<std::string>> SplitCommandLine(std::string_view line) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\' && i + 1 < line.size()) {
      cur += line[++i];
    } else if (c == '\'') {
      const size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      cur += line.substr(i + 1, end - i - 1);
      i = end;
    } else if (c == '"') {
      for (++i;; ++i) {
        if (i >= line.size()) return std::nullopt;
        if (line[i] == '"') break;
        if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
          ++i;
        }
        cur += line[i];
      }
    } else {
      cur += c;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  return words;
}

int RunShell(const RemoteOptions& options) {
  const bool terminal = ::isatty(STDIN_FILENO) == 1;
  std::unique_ptr<LineReader> reader;
#ifdef VOX_HAVE_LIBEDIT
  if (terminal) reader = std::make_unique<EditLineReader>();
#endif
  if (reader == nullptr) reader = std::make_unique<PipeReader>();
  RemoteSession session(options);
  if (terminal) {
    std::printf("voxctl shell: help, ops, help OP, \\json, \\table, quit\n");
    session.Connect(/*announce=*/true);  // a failure is printed; commands retry
    std::fflush(stdout);
  }
  int last_failure = kExitOk;
  while (std::optional<std::string> line = reader->Read()) {
    if (const size_t start = line->find_first_not_of(" \t");
        start != std::string::npos && (*line)[start] == '\\') {
      reader->Remember(*line);
      const std::string command = line->substr(start + 1, line->find_last_not_of(" \t") - start);
      if (const std::optional<voxctl::Format> format = voxctl::ParseFormat(command)) {
        session.set_format(*format);
      } else if (command == "q") {
        break;
      } else {
        std::fprintf(stderr, "voxctl: unknown shell command '\\%s'; try \\table, \\json, \\csv\n",
                     command.c_str());
        last_failure = kExitUsage;
      }
      continue;
    }
    std::optional<std::vector<std::string>> words = SplitCommandLine(*line);
    if (!words) {
      std::fprintf(stderr, "voxctl: unterminated quote\n");
      last_failure = kExitUsage;
      continue;
    }
    if (words->empty() || (*words)[0].starts_with("#")) continue;
    if (!HasSecret(*words)) reader->Remember(*line);
    const std::string& first = (*words)[0];
    if (first == "quit" || first == "exit") break;
    const int rc = session.Execute(*words);
    if (first == "help" && words->size() == 1) std::printf("\n%s", kShellHelp);
    if (rc != kExitOk) last_failure = rc;
    std::fflush(stdout);
  }
  return last_failure;
}

}  // namespace vox
