#pragma once
// Deterministic parallel loops: the work is cut into a FIXED set of chunks that depends only on its
// size (never on the thread count); each chunk writes its own partial result and partials are
// reduced in chunk order, so every result is bit-identical whatever `threads` is. Used by the
// simulator's row-parallel kernels (simulate/parallel.hpp) and the phase-1 fixed-point map.
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace deltacrit::core {

inline constexpr int kMaxThreads = 64;

// Throws InputError("--threads") unless 1 <= threads <= kMaxThreads: the one range check of the
// `--threads` option (the pool, the simulator's sweeps and `nn`).
void check_threads(int threads);

// Half-open range [first, second) of chunk c out of `chunks` for n items (balanced split).
std::pair<std::size_t, std::size_t> chunk_range(std::size_t n, std::size_t chunks, std::size_t c);

// A small persistent thread pool. `threads` = 1..64 (1 runs everything on the caller's thread).
// run() is not re-entrant: one loop at a time per pool.
class Parallel {
 public:
  explicit Parallel(int threads = 1);
  ~Parallel();
  Parallel(const Parallel&) = delete;
  Parallel& operator=(const Parallel&) = delete;

  int threads() const { return threads_; }

  // Calls fn(i) for every i in [0, count), each exactly once, spread over the threads; returns
  // when all calls finished. The first exception thrown by any call is rethrown here.
  void run(std::size_t count, const std::function<void(std::size_t)>& fn);

 private:
  void worker_loop();
  void drain();

  int threads_ = 1;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t count_ = 0;
  std::size_t next_ = 0;
  std::size_t finished_ = 0;
  int active_ = 0;
  unsigned long generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace deltacrit::core
