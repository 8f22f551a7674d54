// A pipeline's steady state repeats: after the warm-up, every stage runs the same work on the next
// micro-batches at the same relative times. At checkpoints (the first stage opening a forward)
// the executor writes down its whole state relative to that instant: the pending events in the
// order they will run, the network's activities and solver, and for every rank its position in
// its work, what is done, queued, running and awaited, with micro-batch numbers relative to the
// first stage's. Two checkpoints with equal states go on the same way for as long as the work
// ahead of every rank is the earlier work shifted by the same micro-batches, so the periods
// between them repeat exactly: they are replicated (clock, positions, breakdown, events and trace
// spans shifted) instead of simulated, and the simulation goes on from the last repetition.
#include <algorithm>
#include <bit>
#include <limits>

#include "executor.hpp"

namespace herd::sim::detail {

namespace {

constexpr std::uint64_t kMicrobatchBits = 0xFFFF'FFFFull;  // an ArrivalKey's micro-batch
// Words of checkpoint states kept (8 MiB) before they are dropped: a state that never repeats
// costs no more memory, and a period is found once the states of one period and a half fit.
constexpr std::size_t kMaxCheckpointWords = std::size_t{1} << 20;
constexpr std::uint64_t kEventsPerWord = 2;
constexpr std::uint64_t kStepStart = std::numeric_limits<std::uint64_t>::max();

std::uint64_t relative_key(ArrivalKey key, int microbatch0) {
  const auto microbatch = static_cast<std::int64_t>(key & kMicrobatchBits);
  return (key & ~kMicrobatchBits) | static_cast<std::uint32_t>(microbatch - microbatch0);
}

void put_keys(std::vector<std::uint64_t>& out, const std::vector<ArrivalKey>& keys, int microbatch0) {
  const std::size_t first = out.size();
  out.push_back(keys.size());
  for (const ArrivalKey key : keys) out.push_back(relative_key(key, microbatch0));
  std::sort(out.begin() + static_cast<std::ptrdiff_t>(first) + 1, out.end());  // a set: order is not state
}

void put_flags(std::vector<std::uint64_t>& out, const std::vector<std::uint8_t>& flags) {
  out.push_back(flags.size());
  std::uint64_t word = 0;
  for (std::size_t i = 0; i < flags.size(); ++i) {
    word |= std::uint64_t{flags[i] != 0} << (i % 64);
    if (i % 64 == 63 || i + 1 == flags.size()) {
      out.push_back(word);
      word = 0;
    }
  }
}

std::uint64_t hash_of(const std::vector<std::uint64_t>& words) {
  std::uint64_t h = 0x9E37'79B9'7F4A'7C15ull;
  for (const std::uint64_t w : words) {
    h ^= w + 0x9E37'79B9'7F4A'7C15ull + (h << 6) + (h >> 2);
    h *= 0xFF51'AFD7'ED55'8CCDull;
  }
  return h;
}

// Instance `b` runs the same work as `a`, `microbatches` later.
bool same_work(const Instance& a, const Instance& b, int microbatches) {
  return a.prog == b.prog && a.vchunk == b.vchunk && a.backward == b.backward &&
         b.microbatch == a.microbatch + microbatches;
}

}  // namespace

// The state at now(), relative to now() and to micro-batch `microbatch0`; false where it cannot
// be written (an event or activity whose callback is untagged, a rank at its step's start or end).
bool Executor::snapshot(std::vector<std::uint64_t>& out, int microbatch0) const {
  const engine::Time now = sim_.now();
  const auto events = sim_.pending_events();
  out.push_back(events.size());
  for (const auto& e : events) {
    if (e.tag == 0) return false;
    out.push_back(static_cast<std::uint64_t>(e.time));
    out.push_back(static_cast<std::uint16_t>(e.priority));
    out.push_back(e.tag);
  }
  if (!comm_.snapshot(out)) return false;
  auto time = [&out, now](engine::Time t) { out.push_back(static_cast<std::uint64_t>(now - t)); };
  auto bits = [&out](double v) { out.push_back(std::bit_cast<std::uint64_t>(v)); };
  for (const RankState& r : ranks_) {
    if (r.ended || r.cur == 0) return false;
    auto ref = [&out, &r](OpRef x) {
      out.push_back(x.inst == 0 ? kStepStart : static_cast<std::uint64_t>(r.cur - x.inst) << 32 | static_cast<std::uint32_t>(x.op));
    };
    put_flags(out, r.inst.front().done);
    out.push_back(static_cast<std::uint64_t>(r.cur - r.oldest));
    for (int x = r.oldest; x <= r.cur; ++x) {
      const Instance& in = r.inst[static_cast<std::size_t>(x)];
      out.push_back(static_cast<std::uint64_t>(in.remaining));
      if (x == r.cur || in.remaining > 0) put_flags(out, in.done);
    }
    out.push_back(static_cast<std::uint64_t>(r.next_op) << 1 | std::uint64_t{r.computing});
    if (r.computing) {
      ref(r.compute_op);
      out.push_back(static_cast<std::uint64_t>(r.compute_last));
      bits(r.compute_remaining_s);
      time(r.compute_since);
      time(r.compute_start);
      if (trace_on_) {  // the run's op whose span is open, and since when (what is still to record)
        out.push_back(static_cast<std::uint64_t>(r.sub_op));
        time(r.sub_start);
      }
    }
    bits(r.comm_sm);
    for (std::size_t slot = 0; slot < kCommStreams; ++slot) {
      out.push_back(r.streams[slot].size() << 1 | std::uint64_t{r.stream_busy[slot]});
      for (const OpRef x : r.streams[slot]) ref(x);
      if (!r.stream_busy[slot]) continue;
      time(r.stream_start[slot]);
      bits(r.stream_sm[slot]);
    }
    out.push_back(static_cast<std::uint64_t>(r.wait));
    if (r.wait != Wait::none) time(r.wait_since);
    if (r.wait == Wait::bubble) out.push_back(relative_key(r.waiting_for_arrival, microbatch0));
    put_keys(out, r.arrived, microbatch0);
    put_keys(out, r.sending, microbatch0);
  }
  return true;
}

void Executor::checkpoint() {
  // Writing and keeping a state costs ~80 instructions a word, an event ~1,300: look again only
  // after kEventsPerWord events per word of the last state, so that a state that never repeats
  // costs a few per cent more than simulating it.
  if (events() - last_checkpoint_events_ < kEventsPerWord * last_checkpoint_words_) return;
  last_checkpoint_events_ = events();
  for (RankState& r : ranks_)
    while (r.oldest < r.cur && r.inst[static_cast<std::size_t>(r.oldest)].remaining == 0) ++r.oldest;
  const RankState& first = ranks_.front();
  Checkpoint now;
  now.microbatch = first.inst[static_cast<std::size_t>(first.cur)].microbatch;
  if (!snapshot(now.state, now.microbatch)) return;
  last_checkpoint_words_ = now.state.size();
  now.time = sim_.now();
  now.events = events();
  now.spans = trace_.size();
  for (const RankState& r : ranks_) {
    now.cur.push_back(r.cur);
    now.spent.push_back(r.spent);
  }
  // Among the earlier checkpoints in the same state, the one whose repetitions skip the most.
  const std::uint64_t hash = hash_of(now.state);
  const Checkpoint* best = nullptr;
  std::int64_t best_n = 0;
  engine::Time best_skip = 0;
  if (const auto found = checkpoints_by_hash_.find(hash); found != checkpoints_by_hash_.end())
    for (const std::size_t i : found->second) {
      const Checkpoint& before = checkpoints_[i];
      if (before.state != now.state) continue;
      const std::int64_t n = repeats(before, now);
      if (n > 0 && n * (now.time - before.time) > best_skip) {
        best = &before;
        best_n = n;
        best_skip = n * (now.time - before.time);
      }
    }
  auto forget = [this] {
    checkpoints_.clear();
    checkpoints_by_hash_.clear();
    checkpoint_words_ = 0;
  };
  if (best) {
    replicate(*best, now, best_n);
    forget();  // positions and times have moved on
    return;
  }
  if (checkpoint_words_ + now.state.size() > kMaxCheckpointWords) forget();
  checkpoint_words_ += now.state.size();
  checkpoints_by_hash_[hash].push_back(checkpoints_.size());
  checkpoints_.push_back(std::move(now));
}

// How many times the period from `from` to `to` (the present, in the same state) repeats: every
// instance a rank touched in it (from its oldest live one at `from` to its current one) must be
// followed, one period's instances later, by the same work the period's micro-batches later, for
// every period skipped.
std::int64_t Executor::repeats(const Checkpoint& from, const Checkpoint& to) const {
  const int microbatches = to.microbatch - from.microbatch;
  if (microbatches <= 0 || to.time <= from.time) return 0;
  std::int64_t n = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < ranks_.size(); ++i) {
    const RankState& r = ranks_[i];
    const int shift = to.cur[i] - from.cur[i];
    if (shift <= 0) return 0;
    const int last_work = static_cast<int>(r.inst.size()) - 2;
    int x = from.cur[i] - (r.cur - r.oldest);
    while (x + shift <= last_work &&
           same_work(r.inst[static_cast<std::size_t>(x)], r.inst[static_cast<std::size_t>(x + shift)], microbatches))
      ++x;
    if (x - 1 < r.cur) return 0;
    n = std::min<std::int64_t>(n, (x - 1 - r.cur) / shift + 1);
  }
  return n;
}

void Executor::replicate(const Checkpoint& from, const Checkpoint& to, std::int64_t n) {
  const engine::Time period = to.time - from.time;
  const int microbatches = to.microbatch - from.microbatch;
  if (trace_on_) {
    trace_.reserve(trace_.size() + static_cast<std::size_t>(n) * (to.spans - from.spans));
    for (std::int64_t k = 1; k <= n; ++k)
      for (std::size_t i = from.spans; i < to.spans; ++i) {
        RecordedSpan span = trace_[i];
        span.start += k * period;
        span.end += k * period;
        if (span.microbatch >= 0) span.microbatch += static_cast<int>(k) * microbatches;
        trace_.push_back(span);
      }
  }
  const engine::Time dt = n * period;
  sim_.shift_time(dt);
  comm_.shift_time(dt);
  const auto key_shift = static_cast<ArrivalKey>(n * microbatches);
  for (std::size_t i = 0; i < ranks_.size(); ++i) {
    RankState& r = ranks_[i];
    const int shift = static_cast<int>(n) * (to.cur[i] - from.cur[i]);
    for (int x = r.cur; x >= r.oldest; --x) {  // highest first: a target may be a source still to move
      Instance& source = r.inst[static_cast<std::size_t>(x)];
      Instance& target = r.inst[static_cast<std::size_t>(x + shift)];
      target.done = std::move(source.done);
      target.remaining = source.remaining;
      source.done = {};
      source.remaining = 0;
    }
    auto move_ref = [shift](OpRef& x) {
      if (x.inst != 0) x.inst += shift;
    };
    r.cur += shift;
    r.oldest += shift;
    move_ref(r.compute_op);
    for (auto& queue : r.streams)
      for (OpRef& x : queue) move_ref(x);
    r.compute_since += dt;
    r.compute_start += dt;
    r.sub_start += dt;
    r.wait_since += dt;
    for (engine::Time& t : r.stream_start) t += dt;
    r.waiting_for_arrival += key_shift;
    for (ArrivalKey& key : r.arrived) key += key_shift;
    for (ArrivalKey& key : r.sending) key += key_shift;
    for (std::size_t part = 0; part < r.spent.size(); ++part)
      r.spent[part] += n * (to.spent[i][part] - from.spent[i][part]);
  }
  replicated_events_ += static_cast<std::uint64_t>(n) * (to.events - from.events);
  replicated_periods_ += static_cast<std::uint64_t>(n);
}

}  // namespace herd::sim::detail
