// What the process costs the machine: peak resident memory, for benchmark reports.
#pragma once

namespace fluidedge {

// Peak resident set size of this process so far, in MiB.
double peak_rss_mb();

}  // namespace fluidedge
