// What `fluidedge partition` says about plans: each plan's JSON summary, plan.json for the chosen
// one (its stages, cuts and links), the front as CSV and as a plot, and the names its table uses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/json_output.h"
#include "graph/graph.h"
#include "partition/plan_accuracy.h"
#include "partition/search.h"
#include "partition/system.h"

namespace fluidedge::cli {

// A plan of the front, with its accuracy under the transfer format when it was measured.
struct Evaluated {
  partition::PlanCost cost;
  std::optional<partition::PlanAccuracy> accuracy;
};

// Which constraint of system.yaml a failure reason is about ("" when none is).
std::string constraint_of(const std::string& reason);
// "dev1>dev2".
std::string device_names(const partition::SystemDescription& s, const partition::PipelinePlan& p);
// Names of the last node before each cut ("after NODE").
std::vector<std::string> cut_names(const graph::Graph& g, const partition::PipelinePlan& p);

Json accuracy_json(const partition::PlanAccuracy& a);
// One plan of front.json (`index` from 1; 0 for a dropped one).
Json plan_summary_json(const graph::Graph& g, const partition::SystemDescription& s, const Evaluated& e, int index,
                       bool chosen);
std::string front_csv(const graph::Graph& g, const partition::SystemDescription& s, const std::vector<Evaluated>& front,
                      size_t chosen);
// The front as a PNG: throughput against latency, one colour per number of stages, the chosen
// plan ringed, plans dropped by min_accuracy apart.
void draw_front(const std::string& image, const std::string& model, const partition::SystemDescription& s,
                const std::vector<Evaluated>& front, const std::vector<Evaluated>& dropped, size_t chosen,
                const std::string& chosen_by);
// plan.json: front[chosen] with its stages (the files written), cuts and links.
Json chosen_plan_json(const graph::Graph& g, const partition::SystemDescription& system, const Evaluated& plan,
                      size_t chosen, const std::vector<graph::Graph>& stages,
                      const std::vector<std::string>& stage_files, const std::string& model,
                      partition::Objective chosen_by, partition::Precision transfer);

}  // namespace fluidedge::cli
