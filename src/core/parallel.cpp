#include "deltacrit/core/parallel.hpp"

#include <string>

#include "deltacrit/core/status.hpp"

namespace deltacrit::core {

std::pair<std::size_t, std::size_t> chunk_range(std::size_t n, std::size_t chunks, std::size_t c) {
  return {n * c / chunks, n * (c + 1) / chunks};
}

void check_threads(int threads) {
  if (threads < 1 || threads > kMaxThreads) {
    throw InputError("--threads", "--threads: " + std::to_string(threads) + " is out of range (accepted: 1..64)");
  }
}

Parallel::Parallel(int threads) : threads_(threads) {
  check_threads(threads);
  for (int t = 1; t < threads; ++t) workers_.emplace_back([this] { worker_loop(); });
}

Parallel::~Parallel() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

// Takes indices until none are left. Called by the workers and by the caller's thread.
void Parallel::drain() {
  for (;;) {
    std::size_t i = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (next_ >= count_) return;
      i = next_++;
    }
    try {
      (*job_)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++finished_;
    }
  }
}

void Parallel::worker_loop() {
  unsigned long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      ++active_;
    }
    drain();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_;
    }
    done_cv_.notify_all();
  }
}

void Parallel::run(std::size_t count, const std::function<void(std::size_t)>& fn) {
  if (count == 0) return;
  if (threads_ == 1 || count == 1) {
    for (std::size_t i = 0; i < count; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    count_ = count;
    next_ = 0;
    finished_ = 0;
    error_ = nullptr;
    ++generation_;
  }
  start_cv_.notify_all();
  drain();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return finished_ == count_ && active_ == 0; });
    job_ = nullptr;
    count_ = 0;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace deltacrit::core
