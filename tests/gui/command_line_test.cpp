#include "herd/gui/command_line.hpp"

#include <catch2/catch.hpp>

using herd::gui::parse_command_line;

TEST_CASE("command line: scenario, overrides and a screenshot") {
  const auto c = parse_command_line({"llama3-8b", "--set", "plan.tp=4", "--set=plan.pp=2", "--per-rank",
                                     "--screenshot", "timeline", "out.png", "--size", "800x600", "--trials", "20",
                                     "--range", "2:2.05"});
  CHECK(c.scenario == "llama3-8b");
  CHECK(c.sets == std::vector<std::string>{"plan.tp=4", "plan.pp=2"});
  CHECK(c.per_rank);
  CHECK(c.screenshot_view == "timeline");
  CHECK(c.screenshot_file == "out.png");
  CHECK(c.width == 800);
  CHECK(c.height == 600);
  CHECK(c.trials == 20);
  REQUIRE(c.range);
  CHECK(c.range->second == 2.05);
}

TEST_CASE("command line: step B of the step timeline") {
  const auto c = parse_command_line({"--compare-step", "plan.pp=8", "--compare-step", "plan.virtual_stages=16", "--compare",
                                     "reliability.checkpoint.mode=async"});
  CHECK(c.compare_step == std::vector<std::string>{"plan.pp=8", "plan.virtual_stages=16"});
  CHECK(c.compare == std::vector<std::string>{"reliability.checkpoint.mode=async"});
  CHECK(parse_command_line({}).compare_step.empty());
  CHECK_THROWS_WITH(parse_command_line({"--compare-step"}), "--compare-step needs a value");
}

TEST_CASE("command line: bad input is named") {
  CHECK_THROWS_WITH(parse_command_line({"--screenshot", "flames", "x.png"}),
                    "--screenshot: unknown view \"flames\" (timeline, breakdown, run, collectives, explorer, window)");
  CHECK_THROWS_WITH(parse_command_line({"--set"}), "--set needs a value");
  CHECK_THROWS_WITH(parse_command_line({"--frobnicate"}), "unknown option --frobnicate");
  CHECK_THROWS_WITH(parse_command_line({"a.json", "b.json"}), "one scenario only: a.json and b.json");
  CHECK_THROWS_WITH(parse_command_line({"--range", "3:1"}), "--range: 3:1 is not START:END in seconds with 0 <= START < END");
  CHECK_THROWS_WITH(parse_command_line({"--size", "10x10"}), "--size: 10x10 is not WIDTHxHEIGHT (at least 200x200)");
}

TEST_CASE("command line: overrides typed in one line") {
  using herd::gui::join_overrides;
  using herd::gui::split_overrides;
  CHECK(split_overrides("  reliability.checkpoint.mode=async  plan.tp=4 ") ==
        std::vector<std::string>{"reliability.checkpoint.mode=async", "plan.tp=4"});
  CHECK(split_overrides("cluster.nic.bandwidth=200 Gbps plan.tp=4") ==
        std::vector<std::string>{"cluster.nic.bandwidth=200 Gbps", "plan.tp=4"});
  CHECK(split_overrides("").empty());
  CHECK(join_overrides({"a=1", "b=2 GiB"}) == "a=1 b=2 GiB");
}

TEST_CASE("command line: --version, as herd and herd-calibrate take it") {
  CHECK(parse_command_line({"--version"}).version);
  CHECK_FALSE(parse_command_line({"llama3-8b"}).version);
}
