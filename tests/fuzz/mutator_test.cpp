// fuzz/driver/mutator.cpp and oracle.cpp: the mutator is deterministic and produces inputs that
// differ from their seed (mostly still JSON for JSON targets, so they reach the checks behind the
// parser); the oracle accepts exactly the answers docs/cli.md allows for bad input.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fuzz_target.hpp"
#include "mutator.hpp"

using namespace herd::fuzz;

namespace {

Target json_target() {
  Target t;
  t.name = "test";
  t.kind = InputKind::json;
  t.paths = {"plan.tp", "cluster.nic.bandwidth", "run.batch_schedule[].seq_len", "reliability.failures.*.rate"};
  t.dictionary = {"zero1", "400 Gbps"};
  return t;
}

}  // namespace

TEST_CASE("Rng is SplitMix64: the published first outputs for seed 0") {
  // Reference values of SplitMix64 seeded with 0 (Vigna's splitmix64.c).
  Rng rng(0);
  CHECK(rng.next() == 0xe220a8397b1dcdafULL);
  CHECK(rng.next() == 0x6e789e6aa1b965f4ULL);
  CHECK(rng.next() == 0x06c45d188009454fULL);
}

TEST_CASE("the same seed gives the same mutants, another seed gives others") {
  const Target t = json_target();
  const std::vector<std::string> corpus = {R"({"plan": {"tp": 8, "pp": 2}, "model": "llama3-8b"})"};
  Mutator a(t, 7), b(t, 7), c(t, 8);
  int differ_from_c = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string x = a.mutate(corpus[0], corpus), y = b.mutate(corpus[0], corpus), z = c.mutate(corpus[0], corpus);
    REQUIRE(x == y);
    differ_from_c += x != z;
  }
  CHECK(differ_from_c > 150);
}

TEST_CASE("JSON mutants mostly differ from the seed and mostly stay JSON") {
  const Target t = json_target();
  const std::vector<std::string> corpus = {R"({"plan": {"tp": 8, "pp": 2, "dp": 16}, "cluster": {"num_gpus": 256}})"};
  Mutator m(t, 1);
  int changed = 0, parses = 0, hostile_text = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) {
    const std::string s = m.mutate(corpus[0], corpus);
    changed += s != corpus[0];
    parses += !nlohmann::json::parse(s, nullptr, false).is_discarded();
    hostile_text += s.find("1e400") != std::string::npos || s.find("18446744073709551616") != std::string::npos;
  }
  CHECK(changed > n * 9 / 10);
  CHECK(parses > n / 2);       // 75 % of rounds are document mutations
  CHECK(hostile_text > 0);     // numbers no double holds reach the parser as text
}

TEST_CASE("declared paths are set in the document, with array elements and map keys filled in") {
  Target t = json_target();
  t.paths = {"run.batch_schedule[].seq_len"};
  Mutator m(t, 3);
  const std::vector<std::string> corpus = {R"({"run": {}})"};
  bool set_path = false;
  for (int i = 0; i < 300 && !set_path; ++i) {
    const auto doc = nlohmann::json::parse(m.mutate(corpus[0], corpus), nullptr, false);
    set_path = !doc.is_discarded() && doc.contains(nlohmann::json::json_pointer("/run/batch_schedule"));
  }
  CHECK(set_path);
}

TEST_CASE("set-line mutants are lines of path=value") {
  Target t = json_target();
  t.kind = InputKind::set_lines;
  Mutator m(t, 5);
  const std::vector<std::string> corpus = {"plan.tp=4\n"};
  int with_declared_path = 0;
  for (int i = 0; i < 500; ++i) {
    const std::string s = m.mutate(corpus[0], corpus);
    with_declared_path += s.find("cluster.nic.bandwidth=") != std::string::npos;
  }
  CHECK(with_declared_path > 0);
}

TEST_CASE("mutants are cut to the length limit, and a nesting bomb in the corpus does not recurse in the mutator") {
  const Target t = json_target();
  const std::string bomb = std::string(200000, '[') + std::string(200000, ']');
  Mutator m(t, 9, {4096});
  for (int i = 0; i < 50; ++i) CHECK(m.mutate(bomb, {bomb}).size() <= 4096);
}

TEST_CASE("the oracle: exit 0, 2 or 3, and a bad-input answer is one line naming a source") {
  const std::vector<std::string> sources = {"scenario.json"};
  CHECK(judge({0, ""}, sources).empty());
  CHECK(judge({3, "herd: the plan does not fit\n"}, sources).empty());
  CHECK(judge({2, "herd: scenario.json: /plan/tp: expected an integer\n"}, sources).empty());
  CHECK_FALSE(judge({1, "herd: bad_alloc\n"}, sources).empty());
  CHECK_FALSE(judge({134, ""}, sources).empty());
  CHECK_FALSE(judge({2, "herd: /plan/tp: expected an integer\n"}, sources).empty());           // no source
  CHECK_FALSE(judge({2, "herd: scenario.json: a\nb\n"}, sources).empty());                      // two lines
  CHECK_FALSE(judge({2, "herd: scenario.json: " + std::string(400, 'x') + "\n"}, sources).empty());  // too long
}
