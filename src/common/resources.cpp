#include "common/resources.h"

#include <sys/resource.h>

#include <fstream>
#include <string>

namespace fluidedge {

double peak_rss_mb() {
  // VmHWM, not getrusage's ru_maxrss: Linux keeps ru_maxrss across execve, so a process started
  // by a big one would report its parent's peak.
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

}  // namespace fluidedge
