// Finding the plans worth deploying: every way of cutting a model into pipeline stages over a
// chain of devices, filtered by the constraints and reduced to its Pareto front over the chosen
// objectives. Up to four devices the search is exact (a multi-objective dynamic programme over
// cut positions, see search.cpp); beyond that, or on request, a seeded and deterministic NSGA-II.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "graph/graph.h"
#include "partition/cost_model.h"
#include "partition/plan_accuracy.h"
#include "partition/system.h"

namespace fluidedge::partition {

enum class SearchAlgorithm { kAuto, kExact, kNsga2 };
const char* search_algorithm_name(SearchAlgorithm algorithm);  // "auto", "exact", "nsga2"

struct Nsga2Options {
  int population = 100;
  int generations = 200;
  uint64_t seed = 1;
  double crossover_probability = 0.9;
};

struct SearchOptions {
  SearchAlgorithm algorithm = SearchAlgorithm::kAuto;  // auto: exact up to exact_max_devices
  std::vector<Objective> objectives;                   // empty: the system's objectives
  Precision transfer = Precision::kFp32;               // format of tensors sent over links
  bool single_tensor_cuts_only = false;                // only cuts every path goes through
  int max_stages = 0;                                  // 0: up to one per device
  int exact_max_devices = 4;
  Nsga2Options nsga2;
  // Scores the front's plans, each stage at its device's precision and the links in `transfer`
  // (not owned). The system's constraints.min_accuracy
  // is enforced on these scores: plans below it leave the front for below_min_accuracy. Without
  // one, a positive min_accuracy is measured on kDefaultAccuracySamples random inputs.
  PlanAccuracyEvaluator* accuracy = nullptr;
  std::function<void(int64_t done, int64_t total)> on_accuracy;  // after each plan scored
};

constexpr int64_t kDefaultAccuracySamples = 32;

struct SearchResult {
  std::vector<PlanCost> front;  // feasible, mutually non-dominated, fastest first
  // With an accuracy evaluator (or a positive min_accuracy): each front plan's score, and the
  // plans of the Pareto front dropped for scoring below min_accuracy, with theirs.
  std::vector<PlanAccuracy> front_accuracy;
  std::vector<PlanCost> below_min_accuracy;
  std::vector<PlanAccuracy> below_accuracy;
  SearchAlgorithm algorithm = SearchAlgorithm::kExact;  // the one that ran
  std::vector<Objective> objectives;
  int64_t space_size = 0;                  // candidate plans in the search space
  int64_t evaluated = 0;                   // plans costed (exact: partial plans, i.e. DP labels)
  double seconds = 0;                      // exploration time
  std::vector<int> missing_profile_nodes;  // per device: nodes its profile does not name
  // When the front is empty: why a few representative plans (each device alone, balanced
  // splits) fail, so the user sees which constraint to relax.
  std::vector<std::string> infeasible_examples;
};

// Searches `graph` on `system`. Never returns an infeasible plan: every constraint, min_accuracy
// included, holds for every plan of the front.
SearchResult search_plans(const graph::Graph& graph, const SystemDescription& system,
                          const SearchOptions& options = {});
// The same on a prepared evaluator (its cuts and transfer format are used as they are).
SearchResult search_plans(const PlanEvaluator& evaluator, const SearchOptions& options = {});

// The device orders a plan of `stages` stages may use: contiguous runs of the chain, forward,
// and backward where the links are bidirectional.
std::vector<std::vector<int>> device_chains(const PlanEvaluator& evaluator, int stages);

// The exact Pareto front over `objectives` of every plan with up to `max_stages` stages (0: one
// per device). `labels`, if given, receives the number of partial plans the programme costed.
std::vector<PlanCost> exact_search(const PlanEvaluator& evaluator, const std::vector<Objective>& objectives,
                                   int max_stages, int64_t* labels = nullptr);

// NSGA-II over cut positions, number of stages and placement on the chain.
std::vector<PlanCost> nsga2_search(const PlanEvaluator& evaluator, const std::vector<Objective>& objectives,
                                   int max_stages, const Nsga2Options& options, int64_t* evaluated = nullptr);

// True if `a` is no worse than `b` in every objective and better in one.
bool dominates(const PlanCost& a, const PlanCost& b, const std::vector<Objective>& objectives);

// The feasible, non-dominated plans (one per distinct objective vector), fastest first.
std::vector<PlanCost> pareto_front(std::vector<PlanCost> plans, const std::vector<Objective>& objectives);

// The plan of the front best at `objective` (throughput: ties go to the lower latency; other
// objectives: ties go to the higher throughput). An empty front is an Error.
const PlanCost& choose(const std::vector<PlanCost>& front, Objective objective = Objective::kThroughput);
// The same among the plans of exactly `stages` stages (0: any), or nullptr when there are none.
const PlanCost* best_plan(const std::vector<PlanCost>& front, Objective objective = Objective::kThroughput,
                          int stages = 0);

// How far a plan is from meeting the constraints (0 when feasible): the relative excess of
// each violated limit, summed. NSGA-II uses it to rank infeasible plans.
double constraint_violation(const PlanEvaluator& evaluator, const PlanCost& cost);

}  // namespace fluidedge::partition
