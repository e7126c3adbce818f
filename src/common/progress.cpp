#include "common/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace fluidedge {

bool ProgressBar::enabled() { return isatty(STDERR_FILENO) != 0; }

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(std::max<int64_t>(total, 1)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

ProgressBar::~ProgressBar() {
  if (!finished_ && done_ > 0 && enabled()) std::fputc('\n', stderr);
}

void ProgressBar::advance(int64_t steps, const std::string& status) {
  done_ = std::min(done_ + steps, total_);
  auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ >= std::chrono::milliseconds(100) || done_ == total_) {
    last_draw_ = now;
    draw(status);
  }
}

void ProgressBar::finish(const std::string& status) {
  done_ = total_;
  draw(status);
  if (enabled()) std::fputc('\n', stderr);
  finished_ = true;
}

void ProgressBar::draw(const std::string& status) {
  if (!enabled()) return;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(kWidth * done_ / total_);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld %.1fs %s\033[K", label_.c_str(), bar.c_str(), static_cast<long long>(done_),
               static_cast<long long>(total_), elapsed, status.c_str());
  std::fflush(stderr);
}

}  // namespace fluidedge
