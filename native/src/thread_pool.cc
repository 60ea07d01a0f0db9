#include "thread_pool.h"

namespace dyn {

ThreadPool& ThreadPool::instance() {
  // never destroyed: its sleeping workers simply end with the process
  static ThreadPool* const pool = new ThreadPool();
  return *pool;
}

void ThreadPool::drain() {
  for (int i = next_.fetch_add(1); i < count_; i = next_.fetch_add(1)) {
    try {
      (*task_)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::work(int index) {
  unsigned long seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return generation_ != seen && index < helpers_; });
      seen = generation_;
    }
    drain();
    std::lock_guard<std::mutex> lock(mutex_);
    if (--running_ == 0) done_.notify_one();
  }
}

void ThreadPool::run(int n, int threads, const std::function<void(int)>& task) {
  std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
  if (threads <= 1 || n <= 1 || !busy.owns_lock()) {
    for (int i = 0; i < n; ++i) task(i);
    return;
  }
  const int helpers = (threads < n ? threads : n) - 1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    while ((int)workers_.size() < helpers) {
      const int index = (int)workers_.size();
      workers_.emplace_back([this, index] { work(index); });
    }
    task_ = &task;
    count_ = n;
    next_.store(0);
    helpers_ = helpers;
    running_ = helpers;
    error_ = nullptr;
    ++generation_;
  }
  wake_.notify_all();
  drain();
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return running_ == 0; });
    helpers_ = 0;
    task_ = nullptr;
    error = error_;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace dyn
