// CSV output: fields quoted as RFC 4180 says (only when they hold a comma, a quote or a line
// break, quotes doubled), numbers in full enough to read back, a row per record under a fixed
// header, and a JSON document's scalars as named figures.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "herd/model/csv.hpp"

using namespace herd::model;

TEST_CASE("csv_field quotes only fields with a comma, a quote or a line break, doubling quotes", "[csv]") {
  CHECK(csv_field("plain text") == "plain text");
  CHECK(csv_field("") == "");
  CHECK(csv_field("tp=8,pp=16") == "\"tp=8,pp=16\"");
  CHECK(csv_field("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(csv_field("two\nlines") == "\"two\nlines\"");
  CHECK(csv_field("cr\r") == "\"cr\r\"");
}

TEST_CASE("csv_number keeps 10 significant digits, whole numbers in full, and names what is not finite", "[csv]") {
  CHECK(csv_number(2048) == "2048");
  CHECK(csv_number(53830232350.0) == "53830232350");
  CHECK(csv_number(-3.0) == "-3");
  CHECK(csv_number(1e300) == "1e+300");
  CHECK(csv_number(0.123456789012) == "0.123456789");
  CHECK(csv_number(1.5e-5) == "1.5e-05");
  CHECK(csv_number(15600000000000.0) == "15600000000000");
  CHECK(std::stod(csv_number(2.769949138)) == 2.769949138);
  CHECK(csv_number(std::numeric_limits<double>::quiet_NaN()).empty());
  CHECK(csv_number(std::numeric_limits<double>::infinity()) == "inf");
  CHECK(csv_number(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("CsvTable writes the header, then one line per row, and refuses a row of another width", "[csv]") {
  CsvTable table({"layout", "step_time_s"});
  table.add_row({"tp=8,pp=2", "1.5"});
  table.add_row({"tp=4", ""});
  CHECK(table.rows() == 2);
  CHECK(table.text() == "layout,step_time_s\n\"tp=8,pp=2\",1.5\ntp=4,\n");
  CHECK_THROWS_AS(table.add_row({"only one"}), std::invalid_argument);
}

TEST_CASE("json_figures names every scalar by its path, skipping the subtrees asked", "[csv]") {
  const nlohmann::json doc = {{"step_time_s", 1.25},
                              {"breakdown", {{"compute_s", 1.0}, {"other_s", 0.25}}},
                              {"stage_finish_s", {1.0, 1.25}},
                              {"fits", true},
                              {"bottleneck", "exposed DP, comm"},
                              {"trials", 5},
                              {"missing", nullptr},
                              {"power", {{"peak_w", 3e6}, {"series", {{"cluster_w", {1, 2, 3}}}}}}};
  const auto figures = json_figures(doc, {"power.series"});
  const std::vector<std::pair<std::string, std::string>> expected = {{"bottleneck", "exposed DP, comm"},
                                                                     {"breakdown.compute_s", "1"},
                                                                     {"breakdown.other_s", "0.25"},
                                                                     {"fits", "true"},
                                                                     {"missing", ""},
                                                                     {"power.peak_w", "3000000"},
                                                                     {"stage_finish_s.0", "1"},
                                                                     {"stage_finish_s.1", "1.25"},
                                                                     {"step_time_s", "1.25"},
                                                                     {"trials", "5"}};
  CHECK(figures == expected);
}
