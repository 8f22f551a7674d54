// JSON input: nesting limits before parsing, bounded echo of bad values, "-" for standard input.
// Output written piece by piece: the target replaced on commit only.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "stdin_from.hpp"

using herd::model::InputError;
using herd::model::kMaxJsonDepth;
using herd::model::parse_json;
using herd::model::show_value;

namespace {
std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }
}  // namespace

TEST_CASE("parse_json refuses nesting deeper than the limit, naming the source, line and column", "[io][errors]") {
  CHECK(parse_json(nested(kMaxJsonDepth), "f.json").is_array());
  try {
    parse_json("{\"a\":\n " + nested(100000) + "}", "f.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.source() == "f.json");
    CHECK(std::string(e.what()) == "f.json: nesting deeper than 256 at line 2, column 257");
  }
  // Brackets inside strings do not count.
  CHECK(parse_json("{\"a\": \"" + std::string(1000, '[') + "\\\"\"}", "f.json").is_object());
}

TEST_CASE("show_value cuts long values to the limit and walks only what it prints", "[io][errors]") {
  CHECK(show_value(nlohmann::json{{"a", 1}}) == "{\"a\":1}");
  CHECK(show_value(nlohmann::json("x")) == "\"x\"");
  nlohmann::json wide = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) wide.push_back(i);
  const std::string shown = show_value(wide);
  CHECK(shown.size() <= 80 + 3);
  CHECK_THAT(shown, Catch::StartsWith("[0,1,2,") && Catch::EndsWith("\u2026"));
  // A deep value built without the parser: the echo stops after the limit.
  nlohmann::json deep = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) {
    nlohmann::json outer = nlohmann::json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  CHECK(show_value(deep) == std::string(80, '[') + "\u2026");
  // Multi-byte characters are not cut in half.
  const std::string accents = show_value(nlohmann::json(std::string(100, 'a') + "\xc3\xa9"), 102);
  CHECK(accents == "\"" + std::string(100, 'a') + "\u2026");
}

TEST_CASE("parse_json reports a number no double holds as malformed input of the file", "[io][errors]") {
  try {
    parse_json("{\"plan\": {\"tp\": 1e400}}", "f.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.source() == "f.json");
    CHECK_THAT(e.what(), Catch::StartsWith("f.json: malformed JSON: ") && Catch::Contains("1e400"));
  }
}

TEST_CASE("utf8_error finds the first byte that breaks UTF-8 (RFC 3629)", "[io][errors]") {
  using herd::model::utf8_error;
  CHECK(utf8_error("").empty());
  CHECK(utf8_error("plain ASCII").empty());
  CHECK(utf8_error("2.5 \xc2\xb5s, \xe2\x82\xac, \xf0\x9f\x98\x80").empty());  // µ, €, an emoji
  CHECK(utf8_error("ab\xff") == "invalid UTF-8 at byte 2");                       // never a lead byte
  CHECK(utf8_error("a\x80") == "invalid UTF-8 at byte 1");                        // a lone continuation
  CHECK(utf8_error("a\xc2") == "invalid UTF-8 at byte 1");                        // cut short
  CHECK(utf8_error("\xc0\xaf") == "invalid UTF-8 at byte 0");                    // overlong '/'
  CHECK(utf8_error("\xed\xa0\x80") == "invalid UTF-8 at byte 0");               // a UTF-16 surrogate
  CHECK(utf8_error("\xf4\x90\x80\x80") == "invalid UTF-8 at byte 0");          // past U+10FFFF
}

TEST_CASE("an InputError is one line of at most kMaxErrorMessage characters, cut in the middle", "[io][errors]") {
  const InputError e("scenario.json", "/cluster/" + std::string(500, 'k'), "unknown key \"" + std::string(500, 'k') + "\"\nsecond line");
  const std::string what = e.what();
  CHECK(what.size() <= herd::model::kMaxErrorMessage);
  CHECK(what.find('\n') == std::string::npos);
  CHECK(what.rfind("scenario.json: /cluster/kkk", 0) == 0);
  CHECK_THAT(what, Catch::Contains("...") && Catch::EndsWith("\\nsecond line"));
  // The parts keep their whole text for code that reads them.
  CHECK(e.pointer().size() == 509);
  // A short message is untouched.
  CHECK(std::string(InputError("f.json", "/plan/tp", "expected an integer").what()) == "f.json: /plan/tp: expected an integer");
}

TEST_CASE("parse_json keeps only the end of a long token the JSON library quotes", "[io][errors]") {
  try {
    parse_json("{\"name\": \"" + std::string(5000, 'x'), "s.json");
    FAIL("accepted an unterminated string");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).size() <= herd::model::kMaxErrorMessage);
    CHECK_THAT(e.message(), Catch::Contains("last read: '...xxxx"));
  }
}

TEST_CASE("a dash (-) reads standard input, named <stdin> in messages", "[io]") {
  using herd::model::read_text_file;
  CHECK(herd::model::source_name("-") == "<stdin>");
  CHECK(herd::model::source_name("a/b.json") == "a/b.json");
  {
    StdinFrom in("{\"a\": 1}");
    CHECK(read_text_file("-", "scenario") == "{\"a\": 1}");
  }
  {
    StdinFrom in("{\"a\": }");
    try {
      herd::model::parse_json_file("-", "test file", [](const nlohmann::json& j) { return j; });
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK(e.source() == "<stdin>");
      CHECK_THAT(std::string(e.what()), Catch::StartsWith("<stdin>: malformed JSON at line 1"));
    }
  }
  {
    StdinFrom in("{\"a\": \"x\"}");
    try {
      herd::model::parse_json_file("-", "test file", [](const nlohmann::json& j) -> int {
        throw herd::model::ValueError("/a", "expected a number");
        return static_cast<int>(j.size());
      });
      FAIL("no error");
    } catch (const InputError& e) {
      CHECK(std::string(e.what()) == "<stdin>: /a: expected a number");
    }
  }
}

TEST_CASE("an AtomicFile replaces its target on commit only, and leaves no temporary file", "[io]") {
  namespace fs = std::filesystem;
  const fs::path path = fs::temp_directory_path() / "herd_atomic_file_test.txt";
  auto read = [&] { return herd::model::read_text_file(path, "test file"); };
  auto temporaries = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(path.parent_path()))
      n += e.path().filename().string().rfind("herd_atomic_file_test.txt.tmp", 0) == 0;
    return n;
  };
  herd::model::write_file_atomically(path, "before");
  {
    herd::model::AtomicFile file(path);
    file.write("half ");
    file.write("written");
    CHECK(file.size() == 12);
    CHECK(read() == "before");  // not yet
  }
  CHECK(read() == "before");  // dropped without commit
  CHECK(temporaries() == 0);
  {
    herd::model::AtomicFile file(path);
    file.write("after");
    file.commit();
  }
  CHECK(read() == "after");
  CHECK(temporaries() == 0);
  fs::remove(path);
}

TEST_CASE("a signal during an AtomicFile's writing removes its temporary file and ends the process as the signal would",
          "[io]") {
  const auto target = std::filesystem::temp_directory_path() / ("herd_io_test_signal." + std::to_string(::getpid()));
  std::filesystem::remove(target);
  for (const int sig : {SIGINT, SIGTERM}) {
    INFO(sig);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      herd::model::remove_temporary_files_on_signal();
      herd::model::AtomicFile file(target);
      file.write("half a trace");
      std::raise(sig);
      ::_exit(0);  // not reached
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    // Neither the target nor the child's FILE.tmp.PID is left.
    CHECK_FALSE(std::filesystem::exists(target));
    CHECK_FALSE(std::filesystem::exists(target.string() + ".tmp." + std::to_string(child)));
  }
}
