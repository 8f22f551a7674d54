// Progress of long commands on stderr: silent for work that is over within a second, so quick
// runs and scripts see nothing; then a line at most twice a second, so a log stays readable.
#include <chrono>
#include <memory>
#include <ostream>

#include "commands.hpp"
#include "herd/model/units.hpp"

namespace herd::cli {

sim::Progress stderr_progress(std::ostream& err, std::string_view command) {
  using clock = std::chrono::steady_clock;
  auto start = std::make_shared<clock::time_point>(clock::now());
  auto last = std::make_shared<clock::time_point>(clock::now());
  // Each piece of work ("screening", "simulating", ...) is timed from its first report for the ETA.
  auto phase = std::make_shared<std::pair<std::string, clock::time_point>>("", clock::now());
  return [&err, command = std::string(command), start, last, phase](std::string_view what, int done, int total) {
    const auto now = clock::now();
    if (phase->first != what) *phase = {std::string(what), now};
    if (now - *start < std::chrono::seconds(1) || (now - *last < std::chrono::milliseconds(500) && done < total)) return;
    *last = now;
    err << command << ": " << what << " " << done << "/" << total;
    const double elapsed = std::chrono::duration<double>(now - phase->second).count();
    if (done > 0 && done < total && elapsed > 0.5)
      err << ", about " << model::format_time(elapsed * double(total - done) / double(done)) << " left";
    err << "\n";
  };
}

}  // namespace herd::cli
