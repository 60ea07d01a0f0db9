// A small fixed pool for splitting one call's work (members, row ranges) over cores. The calling
// thread takes part; the workers sleep between calls. One call at a time: a second caller (another
// Node worker thread using the addon meanwhile) runs its tasks on its own thread instead of waiting.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dyn {

class ThreadPool {
 public:
  static ThreadPool& instance();

  /** task(i) for i in [0, n) on up to `threads` threads, the caller included; rethrows a task's exception */
  void run(int n, int threads, const std::function<void(int)>& task);

 private:
  ThreadPool() = default;
  void work(int index);
  void drain();

  std::mutex busy_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* task_ = nullptr;
  std::atomic<int> next_{0};
  int count_ = 0;
  int helpers_ = 0;
  int running_ = 0;
  unsigned long generation_ = 0;
  std::exception_ptr error_;
};

}  // namespace dyn
