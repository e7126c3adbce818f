#include "partition/search.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <tuple>

#include <fmt/format.h>

#include "common/error.h"

namespace fluidedge::partition {

const char* search_algorithm_name(SearchAlgorithm algorithm) {
  switch (algorithm) {
    case SearchAlgorithm::kAuto:
      return "auto";
    case SearchAlgorithm::kExact:
      return "exact";
    case SearchAlgorithm::kNsga2:
      return "nsga2";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Pareto filter and choice

namespace {

bool contains(const std::vector<Objective>& objectives, Objective o) {
  return std::find(objectives.begin(), objectives.end(), o) != objectives.end();
}

// Relative tolerance for "equal" objective values: sums in different orders round differently.
bool nearly_equal(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max({1.0, std::abs(a), std::abs(b)}); }

bool same_objectives(const PlanCost& a, const PlanCost& b, const std::vector<Objective>& objectives) {
  for (Objective o : objectives)
    if (!nearly_equal(a.minimised(o), b.minimised(o))) return false;
  return true;
}

}  // namespace

bool dominates(const PlanCost& a, const PlanCost& b, const std::vector<Objective>& objectives) {
  bool better = false;
  for (Objective o : objectives) {
    double x = a.minimised(o), y = b.minimised(o);
    if (nearly_equal(x, y)) continue;
    if (x > y) return false;
    better = true;
  }
  return better;
}

std::vector<PlanCost> pareto_front(std::vector<PlanCost> plans, const std::vector<Objective>& objectives) {
  if (objectives.empty()) fail("the Pareto filter needs at least one objective");
  std::erase_if(plans, [](const PlanCost& p) { return !p.feasible; });
  // In exact lexicographic order a plan is rarely dominated by a later one, so the front stays
  // small while it is built; the tolerance in `dominates` can still make a later plan beat an
  // earlier one, hence the second erase.
  std::stable_sort(plans.begin(), plans.end(), [&](const PlanCost& a, const PlanCost& b) {
    for (Objective o : objectives)
      if (a.minimised(o) != b.minimised(o)) return a.minimised(o) < b.minimised(o);
    return false;
  });
  std::vector<PlanCost> front;
  for (auto& p : plans) {
    bool keep = true;
    for (const auto& q : front)
      if (dominates(q, p, objectives) || same_objectives(q, p, objectives)) {
        keep = false;
        break;
      }
    if (!keep) continue;
    std::erase_if(front, [&](const PlanCost& q) { return dominates(p, q, objectives); });
    front.push_back(std::move(p));
  }
  std::stable_sort(front.begin(), front.end(), [](const PlanCost& a, const PlanCost& b) {
    if (!nearly_equal(a.period_ms, b.period_ms)) return a.period_ms < b.period_ms;
    return a.latency_ms < b.latency_ms;
  });
  return front;
}

const PlanCost* best_plan(const std::vector<PlanCost>& front, Objective objective, int stages) {
  const PlanCost* best = nullptr;
  for (const auto& p : front) {
    if (stages > 0 && static_cast<int>(p.plan.positions.size()) + 1 != stages) continue;
    if (best == nullptr) {
      best = &p;
      continue;
    }
    double x = p.minimised(objective), y = best->minimised(objective);
    bool better = !nearly_equal(x, y) ? x < y
                  : objective == Objective::kThroughput
                      ? p.latency_ms < best->latency_ms && !nearly_equal(p.latency_ms, best->latency_ms)
                      : p.period_ms < best->period_ms && !nearly_equal(p.period_ms, best->period_ms);
    if (better) best = &p;
  }
  return best;
}

const PlanCost& choose(const std::vector<PlanCost>& front, Objective objective) {
  const PlanCost* best = best_plan(front, objective);
  if (best == nullptr) fail("no plan meets the constraints; relax max_memory_mb, target_fps or max_latency_ms");
  return *best;
}

double constraint_violation(const PlanEvaluator& evaluator, const PlanCost& cost) {
  double v = 0;
  for (size_t s = 0; s < cost.memory_bytes.size(); ++s) {
    double limit = evaluator.memory_limit_bytes(cost.plan.devices[s]);
    if (limit > 0) v += std::max(0.0, static_cast<double>(cost.memory_bytes[s]) / limit - 1.0);
  }
  for (double u : cost.link_utilisation) v += std::max(0.0, u - 1.0);
  double bound = evaluator.system().constraints.max_latency_ms;
  if (bound > 0) v += std::max(0.0, cost.latency_ms / bound - 1.0);
  return v;
}

std::vector<std::vector<int>> device_chains(const PlanEvaluator& evaluator, int stages) {
  std::vector<std::vector<int>> chains;
  const int n = evaluator.devices();
  if (stages < 1 || stages > n) return chains;
  for (int start = 0; start + stages <= n; ++start) {
    std::vector<int> chain(stages);
    std::iota(chain.begin(), chain.end(), start);
    chains.push_back(chain);
  }
  if (stages == 1) return chains;  // a single device has no direction
  for (int start = n - 1; start - stages + 1 >= 0; --start) {
    std::vector<int> chain(stages);
    bool usable = true;
    for (int s = 0; s < stages; ++s) {
      chain[s] = start - s;
      if (s > 0 && !evaluator.link_usable(chain[s - 1], chain[s])) usable = false;
    }
    if (usable) chains.push_back(chain);
  }
  return chains;
}

// ---------------------------------------------------------------------------------------------
// Exact search
//
// A plan on a fixed chain of k devices is a sequence of k stages; every objective is a sum
// (latency, energy, link bytes) or a maximum (period, memory) of per-stage and per-link terms,
// except energy, which also adds period * (sum of the chain's idle powers) — a constant times
// another objective. So a partial plan covering nodes [0, b) on the first s devices can be
// summarised by a label (period so far, latency so far, energy so far without the idle term,
// memory so far, bytes so far), and if one label at (s, b) is no worse than another in every
// component, every completion of the second is no better than the same completion of the
// first: the second can be dropped without losing a member of the Pareto front. The labels
// kept at each (stage, cut) are exactly the Pareto set of the partial plans ending there, so
// the front at (k, nodes) is the exact front of the chain, for the objectives chosen.
// Constraints are checked as each stage and link is added (memory and link capacity are local
// to a stage; latency only grows), so infeasible partial plans die early. When a latency bound
// is set the latency component stays in the label even if latency is not an objective, since
// two plans equal in the objectives may differ in whether they can still meet the bound.
// Components of objectives not chosen are left at zero and do not split labels.
//
// Cost: for each stage, each pair of cuts (a < b), each label at a — O(k * cuts^2 * labels),
// against O(cuts^(k-1)) for enumeration. Every cut position stays in the space (no heuristic
// thinning of multi-tensor cuts is needed): measured on EfficientNet-B0 (287 cuts) over four
// boards, about 1.2 million labels for all 12 chains instead of 2 * 3.9 million complete
// 4-stage plans alone, ~0.1 s; the paper's seven CNNs on 2, 3 and 4 boards take ~0.6 s in all.

namespace {

constexpr int kDims = 5;  // period, latency, energy (without idle), memory, link bytes

struct Label {
  std::array<double, kDims> v{};
  int parent_cut = -1;  // index into cut_positions of the previous stage's end
  int parent_label = -1;
};

bool weakly_dominates(const Label& a, const Label& b) {
  for (int i = 0; i < kDims; ++i)
    if (a.v[i] > b.v[i]) return false;
  return true;
}

// Keeps the labels no other kept label weakly dominates (the first of equal ones).
void keep_non_dominated(std::vector<Label>& labels) {
  if (labels.size() < 2) return;
  std::stable_sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.v < b.v; });
  std::vector<Label> kept;
  for (const Label& l : labels) {
    bool dominated = false;
    for (auto it = kept.rbegin(); it != kept.rend(); ++it)
      if (weakly_dominates(*it, l)) {
        dominated = true;
        break;
      }
    if (!dominated) kept.push_back(l);
  }
  labels.swap(kept);
}

struct LabelUse {
  bool period, latency, energy, memory, bytes;
};

// The exact front (as plans) of one chain with chain.size() >= 2 stages.
std::vector<PipelinePlan> exact_chain(const PlanEvaluator& ev, const std::vector<int>& chain, LabelUse use,
                                      int64_t& labels_made) {
  const int k = static_cast<int>(chain.size());
  const int n = ev.nodes();
  const std::vector<int>& cuts = ev.cut_positions();
  const int m = static_cast<int>(cuts.size());
  const auto& constraints = ev.system().constraints;
  const double fps = constraints.target_fps;
  const double max_latency = constraints.max_latency_ms;

  auto power_delta = [&](int s) {
    const DeviceSpec& d = ev.system().devices[chain[s]];
    return d.active_power_w - d.idle_power_w;
  };
  // Adds stage s = [a, b) on chain[s] to `l`; false if it breaks a constraint.
  auto add_stage = [&](Label& l, int s, double ms, double memory) {
    if (use.period) l.v[0] = std::max(l.v[0], ms);
    if (use.latency) l.v[1] += ms;
    if (use.energy) l.v[2] += power_delta(s) * ms;
    if (use.memory) l.v[3] = std::max(l.v[3], memory);
    return !(max_latency > 0 && l.v[1] > max_latency);
  };

  // Per link s (after stage s) and cut index: whether it carries the frame rate, and its terms.
  struct LinkTerms {
    bool ok;
    double busy, transfer, energy, bytes;
  };
  std::vector<std::vector<LinkTerms>> link_terms(k - 1, std::vector<LinkTerms>(m));
  for (int s = 0; s + 1 < k; ++s) {
    const LinkModel& link = ev.link(chain[s], chain[s + 1]);
    for (int c = 0; c < m; ++c) {
      int64_t bytes = ev.cut_bytes(cuts[c]);
      link_terms[s][c] = {!(fps > 0 && link.utilisation(bytes, fps) > 1.0), link.busy_ms(bytes),
                          link.transfer_ms(bytes), link.energy_mj(bytes), static_cast<double>(bytes)};
    }
  }
  auto add_link = [&](Label& l, int s, int c) {
    const LinkTerms& t = link_terms[s][c];
    if (!t.ok) return false;
    if (use.period) l.v[0] = std::max(l.v[0], t.busy);
    if (use.latency) l.v[1] += t.transfer;
    if (use.energy) l.v[2] += t.energy;
    if (use.bytes) l.v[4] += t.bytes;
    return !(max_latency > 0 && l.v[1] > max_latency);
  };
  auto fits = [&](int s, double memory) {
    double limit = ev.memory_limit_bytes(chain[s]);
    return !(limit > 0 && memory > limit);
  };

  // level[s][c]: the labels of partial plans whose stage s ends at cuts[c].
  std::vector<std::vector<std::vector<Label>>> level(k - 1, std::vector<std::vector<Label>>(m));
  for (int c = 0; c < m; ++c) {
    const int b = cuts[c];
    double memory = ev.stage_memory_bytes(chain[0], 0, b);
    if (!fits(0, memory)) continue;
    Label l;
    if (add_stage(l, 0, ev.stage_ms(chain[0], 0, b), memory) && add_link(l, 0, c)) {
      level[0][c].push_back(l);
      ++labels_made;
    }
  }
  for (int s = 1; s + 1 < k; ++s) {
    for (int c = 0; c < m; ++c) {
      const int b = cuts[c];
      std::vector<Label>& out = level[s][c];
      for (int pc = 0; pc < c; ++pc) {
        const auto& before = level[s - 1][pc];
        if (before.empty()) continue;
        const int a = cuts[pc];
        double memory = ev.stage_memory_bytes(chain[s], a, b);
        if (!fits(s, memory)) continue;
        double ms = ev.stage_ms(chain[s], a, b);
        for (int i = 0; i < static_cast<int>(before.size()); ++i) {
          Label l = before[i];
          l.parent_cut = pc;
          l.parent_label = i;
          if (add_stage(l, s, ms, memory) && add_link(l, s, c)) out.push_back(l);
        }
      }
      labels_made += static_cast<int64_t>(out.size());
      keep_non_dominated(out);
    }
  }
  std::vector<Label> last;
  for (int pc = 0; pc < m; ++pc) {
    const auto& before = level[k - 2][pc];
    if (before.empty()) continue;
    const int a = cuts[pc];
    double memory = ev.stage_memory_bytes(chain[k - 1], a, n);
    if (!fits(k - 1, memory)) continue;
    double ms = ev.stage_ms(chain[k - 1], a, n);
    for (int i = 0; i < static_cast<int>(before.size()); ++i) {
      Label l = before[i];
      l.parent_cut = pc;
      l.parent_label = i;
      if (add_stage(l, k - 1, ms, memory)) last.push_back(l);
    }
  }
  labels_made += static_cast<int64_t>(last.size());
  keep_non_dominated(last);

  std::vector<PipelinePlan> plans;
  for (const Label& final_label : last) {
    PipelinePlan plan;
    plan.devices = chain;
    plan.positions.resize(k - 1);
    int c = final_label.parent_cut, i = final_label.parent_label;
    for (int s = k - 2; s >= 0; --s) {
      plan.positions[s] = cuts[c];
      const Label& l = level[s][c][i];
      c = l.parent_cut;
      i = l.parent_label;
    }
    plans.push_back(std::move(plan));
  }
  return plans;
}

}  // namespace

std::vector<PlanCost> exact_search(const PlanEvaluator& evaluator, const std::vector<Objective>& objectives,
                                   int max_stages, int64_t* labels) {
  LabelUse use{};
  use.period = contains(objectives, Objective::kThroughput) || contains(objectives, Objective::kEnergy);
  use.latency = contains(objectives, Objective::kLatency) || evaluator.system().constraints.max_latency_ms > 0;
  use.energy = contains(objectives, Objective::kEnergy);
  use.memory = contains(objectives, Objective::kMemory);
  use.bytes = contains(objectives, Objective::kLinkBytes);
  int64_t made = 0;
  std::vector<PlanCost> plans;
  const int stages = std::min(max_stages > 0 ? max_stages : evaluator.devices(), evaluator.devices());
  for (int k = 1; k <= stages; ++k) {
    if (k - 1 > static_cast<int>(evaluator.cut_positions().size())) break;
    for (const auto& chain : device_chains(evaluator, k)) {
      if (k == 1) {
        plans.push_back(evaluator.evaluate({{}, chain}));
        ++made;
        continue;
      }
      for (const auto& plan : exact_chain(evaluator, chain, use, made)) plans.push_back(evaluator.evaluate(plan));
    }
    // Filtering as we go keeps the candidate list short.
    plans = pareto_front(std::move(plans), objectives);
  }
  if (labels) *labels = made;
  return plans;
}

// ---------------------------------------------------------------------------------------------
// NSGA-II (Deb et al. 2002) with constrained domination: a feasible plan beats an infeasible
// one, two infeasible plans compare by how far they break the constraints. The genome is the
// chain placement (first device, direction) and the sorted cut indices; the number of stages
// follows from the number of cuts, so crossover and mutation can also add or drop devices.

namespace {

// Small deterministic helpers on a 64-bit Mersenne Twister: std's distributions differ between
// standard libraries, and the search must give the same front everywhere for the same seed.
class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  int below(int n) { return n <= 1 ? 0 : static_cast<int>(engine_() % static_cast<uint64_t>(n)); }
  double unit() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return unit() < p; }

 private:
  std::mt19937_64 engine_;
};

struct Genome {
  int start = 0;
  int direction = 1;      // +1: towards higher device indices, -1: backwards
  std::vector<int> cuts;  // strictly increasing indices into cut_positions

  bool operator<(const Genome& o) const {
    return std::tie(start, direction, cuts) < std::tie(o.start, o.direction, o.cuts);
  }
};

struct Individual {
  Genome genome;
  PlanCost cost;
  double violation = 0;
  int rank = 0;
  double crowding = 0;
};

class Nsga2 {
 public:
  Nsga2(const PlanEvaluator& ev, const std::vector<Objective>& objectives, int max_stages, const Nsga2Options& options)
      : ev_(ev),
        objectives_(objectives),
        options_(options),
        random_(options.seed),
        cuts_(static_cast<int>(ev.cut_positions().size())) {
    max_stages_ = std::min(max_stages > 0 ? max_stages : ev.devices(), ev.devices());
    max_stages_ = std::min(max_stages_, cuts_ + 1);
    // Backward placements only when every link allows them, so that any start and length works.
    backward_ok_ = true;
    for (int d = 1; d < ev.devices(); ++d) backward_ok_ &= ev.link_usable(d, d - 1);
  }

  std::vector<PlanCost> run(int64_t* evaluated) {
    const int size = std::max(4, options_.population + options_.population % 2);
    std::vector<Individual> population;
    for (const Genome& g : seeds()) {
      if (static_cast<int>(population.size()) >= size) break;
      population.push_back(make(g));
    }
    while (static_cast<int>(population.size()) < size) population.push_back(make(random_genome()));
    rank(population);
    for (int gen = 0; gen < options_.generations; ++gen) {
      std::vector<Individual> next = population;
      while (static_cast<int>(next.size()) < 2 * size) {
        const Individual& a = tournament(population);
        const Individual& b = tournament(population);
        auto [x, y] = crossover(a.genome, b.genome);
        mutate(x);
        mutate(y);
        next.push_back(make(x));
        next.push_back(make(y));
      }
      rank(next);
      population = select(std::move(next), size);
    }
    if (evaluated) *evaluated = static_cast<int64_t>(cache_.size());
    // Every feasible plan ever evaluated competes for the front, not only the last generation.
    std::vector<PlanCost> all;
    for (const auto& [g, ind] : cache_)
      if (ind.cost.feasible) all.push_back(ind.cost);
    return pareto_front(std::move(all), objectives_);
  }

 private:
  int stages(const Genome& g) const { return static_cast<int>(g.cuts.size()) + 1; }

  // Puts a genome back into the space: sorted distinct cuts, a placement that fits the chain.
  void repair(Genome& g) {
    std::sort(g.cuts.begin(), g.cuts.end());
    g.cuts.erase(std::unique(g.cuts.begin(), g.cuts.end()), g.cuts.end());
    while (stages(g) > max_stages_) g.cuts.erase(g.cuts.begin() + random_.below(static_cast<int>(g.cuts.size())));
    if (!backward_ok_) g.direction = 1;
    const int k = stages(g), n = ev_.devices();
    if (k == 1) g.direction = 1;
    if (g.direction > 0)
      g.start = std::clamp(g.start, 0, n - k);
    else
      g.start = std::clamp(g.start, k - 1, n - 1);
  }

  PipelinePlan plan_of(const Genome& g) const {
    PipelinePlan p;
    for (int c : g.cuts) p.positions.push_back(ev_.cut_positions()[c]);
    for (int s = 0; s < stages(g); ++s) p.devices.push_back(g.start + s * g.direction);
    return p;
  }

  Individual make(Genome g) {
    repair(g);
    auto it = cache_.find(g);
    if (it == cache_.end()) {
      Individual ind;
      ind.genome = g;
      ind.cost = ev_.evaluate(plan_of(g));
      ind.violation = constraint_violation(ev_, ind.cost);
      it = cache_.emplace(g, std::move(ind)).first;
    }
    return it->second;
  }

  Genome random_genome() {
    Genome g;
    int k = 1 + random_.below(max_stages_);
    g.direction = random_.chance(0.5) ? 1 : -1;
    g.start = random_.below(ev_.devices());
    // k - 1 distinct cut indices (partial Fisher-Yates would need the whole range; rejection is cheap).
    while (static_cast<int>(g.cuts.size()) < k - 1) {
      int c = random_.below(cuts_);
      if (std::find(g.cuts.begin(), g.cuts.end(), c) == g.cuts.end()) g.cuts.push_back(c);
    }
    return g;
  }

  // Starting points a person would try first: each device alone, and for every placement the
  // cuts that balance the stages' compute times (ignoring the links), found by bisection on
  // the bottleneck time with a greedy fill.
  std::vector<Genome> seeds() {
    std::vector<Genome> out;
    for (int d = 0; d < ev_.devices(); ++d) out.push_back({d, 1, {}});
    const auto& positions = ev_.cut_positions();
    for (int k = 2; k <= max_stages_; ++k) {
      for (const auto& chain : device_chains(ev_, k)) {
        double lo = 0, hi = 0;
        for (int d : chain) hi = std::max(hi, ev_.stage_ms(d, 0, ev_.nodes()));
        std::vector<int> best;
        for (int iter = 0; iter < 50; ++iter) {
          double limit = (lo + hi) / 2;
          std::vector<int> chosen;
          int begin = 0;
          size_t c = 0;
          bool ok = true;
          for (int s = 0; s + 1 < k && ok; ++s) {
            // Leave one cut for each later stage; every stage gets at least one node.
            const size_t room = positions.size() - static_cast<size_t>(k - 2 - s);
            if (c >= room) {
              ok = false;
              break;
            }
            size_t last = c;
            for (size_t j = c; j < room && ev_.stage_ms(chain[s], begin, positions[j]) <= limit; ++j) last = j;
            ok = ev_.stage_ms(chain[s], begin, positions[last]) <= limit;
            chosen.push_back(static_cast<int>(last));
            begin = positions[last];
            c = last + 1;
          }
          ok = ok && ev_.stage_ms(chain[k - 1], begin, ev_.nodes()) <= limit;
          if (ok) {
            hi = limit;
            best = chosen;
          } else {
            lo = limit;
          }
        }
        if (static_cast<int>(best.size()) == k - 1) {
          int direction = chain.size() > 1 && chain[1] < chain[0] ? -1 : 1;
          out.push_back({chain[0], direction, best});
        }
      }
    }
    return out;
  }

  // Constrained domination on the chosen objectives.
  bool better(const Individual& a, const Individual& b) const {
    bool fa = a.cost.feasible, fb = b.cost.feasible;
    if (fa != fb) return fa;
    if (!fa) return a.violation < b.violation;
    return dominates(a.cost, b.cost, objectives_);
  }

  // Fast non-dominated sort and crowding distance.
  void rank(std::vector<Individual>& pop) {
    const int n = static_cast<int>(pop.size());
    std::vector<std::vector<int>> dominated(n);
    std::vector<int> count(n, 0);
    std::vector<int> front;
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j) {
        if (better(pop[i], pop[j])) {
          dominated[i].push_back(j);
          ++count[j];
        } else if (better(pop[j], pop[i])) {
          dominated[j].push_back(i);
          ++count[i];
        }
      }
    for (int i = 0; i < n; ++i)
      if (count[i] == 0) front.push_back(i);
    int r = 0;
    while (!front.empty()) {
      crowd(pop, front);
      std::vector<int> next;
      for (int i : front) {
        pop[i].rank = r;
        for (int j : dominated[i])
          if (--count[j] == 0) next.push_back(j);
      }
      front = std::move(next);
      ++r;
    }
  }

  void crowd(std::vector<Individual>& pop, std::vector<int> front) {
    for (int i : front) pop[i].crowding = 0;
    for (Objective o : objectives_) {
      std::stable_sort(front.begin(), front.end(),
                       [&](int a, int b) { return pop[a].cost.minimised(o) < pop[b].cost.minimised(o); });
      double lo = pop[front.front()].cost.minimised(o), hi = pop[front.back()].cost.minimised(o);
      pop[front.front()].crowding = pop[front.back()].crowding = INFINITY;
      if (hi <= lo) continue;
      for (size_t i = 1; i + 1 < front.size(); ++i)
        pop[front[i]].crowding +=
            (pop[front[i + 1]].cost.minimised(o) - pop[front[i - 1]].cost.minimised(o)) / (hi - lo);
    }
  }

  static bool crowded_less(const Individual& a, const Individual& b) {
    if (a.rank != b.rank) return a.rank < b.rank;
    return a.crowding > b.crowding;
  }

  const Individual& tournament(const std::vector<Individual>& pop) {
    const Individual& a = pop[random_.below(static_cast<int>(pop.size()))];
    const Individual& b = pop[random_.below(static_cast<int>(pop.size()))];
    return crowded_less(b, a) ? b : a;
  }

  std::vector<Individual> select(std::vector<Individual> pop, int size) {
    std::stable_sort(pop.begin(), pop.end(), crowded_less);
    // Duplicates of one genome would crowd out diversity; keep the first of each.
    std::vector<Individual> out;
    std::vector<const Genome*> seen;
    for (const auto& ind : pop) {
      if (static_cast<int>(out.size()) >= size) break;
      bool dup = false;
      for (const auto* g : seen)
        if (!(*g < ind.genome) && !(ind.genome < *g)) {
          dup = true;
          break;
        }
      if (!dup) {
        out.push_back(ind);
        seen.push_back(&ind.genome);
      }
    }
    for (const auto& ind : pop) {
      if (static_cast<int>(out.size()) >= size) break;
      out.push_back(ind);  // only when there are not enough distinct genomes
    }
    return out;
  }

  std::pair<Genome, Genome> crossover(const Genome& a, const Genome& b) {
    Genome x = a, y = b;
    if (!random_.chance(options_.crossover_probability)) return {x, y};
    if (a.cuts.size() == b.cuts.size()) {
      // Same number of stages: swap cut positions slot by slot, and the placement as a whole.
      for (size_t i = 0; i < a.cuts.size(); ++i)
        if (random_.chance(0.5)) std::swap(x.cuts[i], y.cuts[i]);
      if (random_.chance(0.5)) {
        std::swap(x.start, y.start);
        std::swap(x.direction, y.direction);
      }
      return {x, y};
    }
    // Different numbers of stages: each child keeps its parent's size and placement and draws
    // its cuts from the union of both parents' cuts.
    std::vector<int> pool = a.cuts;
    pool.insert(pool.end(), b.cuts.begin(), b.cuts.end());
    std::sort(pool.begin(), pool.end());
    pool.erase(std::unique(pool.begin(), pool.end()), pool.end());
    for (Genome* child : {&x, &y}) {
      std::vector<int> p = pool;
      size_t want = child->cuts.size();
      child->cuts.clear();
      while (child->cuts.size() < want && !p.empty()) {
        int i = random_.below(static_cast<int>(p.size()));
        child->cuts.push_back(p[i]);
        p.erase(p.begin() + i);
      }
    }
    return {x, y};
  }

  void mutate(Genome& g) {
    // Move each cut with probability 1/cuts: mostly a few places (fine tuning), sometimes anywhere.
    const double p = g.cuts.empty() ? 0.0 : 1.0 / static_cast<double>(g.cuts.size());
    for (int& c : g.cuts) {
      if (!random_.chance(p)) continue;
      if (random_.chance(0.7)) {
        int step = 1 + random_.below(std::max(1, cuts_ / 50));
        c = std::clamp(c + (random_.chance(0.5) ? step : -step), 0, cuts_ - 1);
      } else {
        c = random_.below(cuts_);
      }
    }
    // Structural moves: one more or one fewer device, another placement.
    if (random_.chance(0.1) && stages(g) < max_stages_) g.cuts.push_back(random_.below(cuts_));
    if (random_.chance(0.1) && !g.cuts.empty())
      g.cuts.erase(g.cuts.begin() + random_.below(static_cast<int>(g.cuts.size())));
    if (random_.chance(0.1)) g.start = random_.below(ev_.devices());
    if (random_.chance(0.05)) g.direction = -g.direction;
  }

  const PlanEvaluator& ev_;
  std::vector<Objective> objectives_;
  Nsga2Options options_;
  Random random_;
  int cuts_ = 0;
  int max_stages_ = 1;
  bool backward_ok_ = true;
  std::map<Genome, Individual> cache_;
};

}  // namespace

std::vector<PlanCost> nsga2_search(const PlanEvaluator& evaluator, const std::vector<Objective>& objectives,
                                   int max_stages, const Nsga2Options& options, int64_t* evaluated) {
  if (options.population < 2 || options.generations < 0) fail("NSGA-II needs a population of at least 2");
  if (evaluator.cut_positions().empty()) return exact_search(evaluator, objectives, 1, evaluated);
  return Nsga2(evaluator, objectives, max_stages, options).run(evaluated);
}

// ---------------------------------------------------------------------------------------------
// Entry points

namespace {

int64_t binomial(int64_t n, int64_t r) {
  if (r < 0 || r > n) return 0;
  long double v = 1;
  for (int64_t i = 1; i <= r; ++i) v = v * static_cast<long double>(n - r + i) / static_cast<long double>(i);
  return static_cast<int64_t>(std::llround(v));
}

}  // namespace

namespace {

// Scores the front with `accuracy` and moves the plans below min_accuracy out of it.
void apply_accuracy(SearchResult& r, PlanAccuracyEvaluator& accuracy, const SearchOptions& options,
                    const SystemDescription& system) {
  AccuracyFiltered f = filter_by_accuracy(r.front, accuracy, system, options.transfer, system.constraints.min_accuracy,
                                          options.on_accuracy);
  r.front = std::move(f.kept);
  r.front_accuracy = std::move(f.kept_accuracy);
  r.below_min_accuracy = std::move(f.dropped);
  r.below_accuracy = std::move(f.dropped_accuracy);
}

SearchResult explore(const PlanEvaluator& evaluator, const SearchOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  SearchResult r;
  r.objectives = options.objectives.empty() ? evaluator.system().objectives : options.objectives;
  const int stages = std::min(options.max_stages > 0 ? options.max_stages : evaluator.devices(), evaluator.devices());
  r.algorithm = options.algorithm;
  if (r.algorithm == SearchAlgorithm::kAuto)
    r.algorithm = evaluator.devices() <= options.exact_max_devices ? SearchAlgorithm::kExact : SearchAlgorithm::kNsga2;
  const int64_t cuts = static_cast<int64_t>(evaluator.cut_positions().size());
  for (int k = 1; k <= stages; ++k)
    r.space_size += static_cast<int64_t>(device_chains(evaluator, k).size()) * binomial(cuts, k - 1);
  if (r.algorithm == SearchAlgorithm::kExact)
    r.front = exact_search(evaluator, r.objectives, stages, &r.evaluated);
  else
    r.front = nsga2_search(evaluator, r.objectives, stages, options.nsga2, &r.evaluated);
  for (int d = 0; d < evaluator.devices(); ++d)
    r.missing_profile_nodes.push_back(evaluator.latencies(d).missing_from_profile);
  if (r.front.empty()) {
    for (int d = 0; d < evaluator.devices(); ++d) {
      PlanCost c = evaluator.evaluate({{}, {d}});
      r.infeasible_examples.push_back(fmt::format("'{}' alone: {}", evaluator.system().devices[d].name,
                                                  c.feasible ? "feasible" : c.infeasible_reason));
    }
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace

SearchResult search_plans(const PlanEvaluator& evaluator, const SearchOptions& options) {
  SearchResult r = explore(evaluator, options);
  const double min_accuracy = evaluator.system().constraints.min_accuracy;
  if (options.accuracy != nullptr)
    apply_accuracy(r, *options.accuracy, options, evaluator.system());
  else if (min_accuracy > 0)
    fail("{}: constraints.min_accuracy {} needs the plans scored on samples, and this search was given none",
         evaluator.system().source, min_accuracy);
  return r;
}

SearchResult search_plans(const graph::Graph& graph, const SystemDescription& system, const SearchOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Cut> cuts = options.single_tensor_cuts_only ? single_tensor_cuts(graph) : enumerate_cuts(graph);
  PlanEvaluator evaluator(graph, cuts, system, options.transfer);
  SearchResult r = explore(evaluator, options);
  // Exploration time: cutting and costing, not the accuracy runs.
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (options.accuracy != nullptr) {
    apply_accuracy(r, *options.accuracy, options, system);
  } else if (system.constraints.min_accuracy > 0) {
    PlanAccuracyEvaluator accuracy(graph, random_samples(graph, kDefaultAccuracySamples));
    apply_accuracy(r, accuracy, options, system);
  }
  return r;
}

}  // namespace fluidedge::partition
