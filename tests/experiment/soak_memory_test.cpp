// The soak's memory judgement: per process (a restarted node is a new one), growth after the
// first minute against the largest sample in it; processes that did not live a minute are not
// judged.
#include <gtest/gtest.h>

#include "experiment/soak_experiment.h"

namespace fluidedge::experiment {
namespace {

TEST(SoakMemory, GrowthIsJudgedPerProcessAfterItsFirstMinuteAndShortLivesAreNotJudged) {
  std::vector<MemorySample> series;
  // Process 10 grows to 100 MiB in its first minute, then to 110: +10 %.
  for (int t = 0; t <= 120; t += 10) series.push_back({double(t), t <= 60 ? 50.0 + t * 50 / 60 : 110.0, 10});
  series.push_back({121, 0, 0});  // killed: not running
  // Process 11, restarted at 130, lives 20 s and stays small: not judged.
  for (int t = 130; t <= 150; t += 10) series.push_back({double(t), 40, 11});
  MemorySummary m = summarize_memory(series);
  EXPECT_EQ(m.processes, 2u);
  EXPECT_EQ(m.lived_over_a_minute, 1);
  ASSERT_TRUE(m.worst_growth_after_first_minute_percent.has_value());
  EXPECT_NEAR(*m.worst_growth_after_first_minute_percent, 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(m.longest_life_s, 120);
  EXPECT_DOUBLE_EQ(m.peak_mib, 110);
}

TEST(SoakMemory, ASeriesOfShortLivesHasNoGrowthFigure) {
  MemorySummary m = summarize_memory({{0, 30, 5}, {10, 31, 5}, {11, 0, 0}, {12, 20, 6}});
  EXPECT_EQ(m.processes, 2u);
  EXPECT_EQ(m.lived_over_a_minute, 0);
  EXPECT_FALSE(m.worst_growth_after_first_minute_percent.has_value());
}

}  // namespace
}  // namespace fluidedge::experiment
