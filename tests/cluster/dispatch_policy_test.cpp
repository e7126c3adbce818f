// The coordinator's parts without gRPC or threads: membership, the request book, and each
// dispatch policy driven through a recording DispatchActions.
#include <gtest/gtest.h>

#include "cluster/chain_policy.h"
#include "cluster/dispatch_policy.h"
#include "cluster/fluid_policy.h"
#include "cluster/membership.h"
#include "cluster/request_book.h"

namespace fluidedge::cluster {
namespace {

using Clock = std::chrono::steady_clock;

graph::Tensor scalar(float v) {
  graph::Tensor t(graph::DType::kFloat32, {1, 1});
  t.data<float>()[0] = v;
  return t;
}

ClusterConfig config_of(Variant variant, Mode mode, int nodes = 2) {
  ClusterConfig c;
  c.variant = variant;
  c.mode = mode;
  c.window = 2;
  c.max_batch = 4;
  c.latency_target_ms = 30;
  for (int i = 1; i <= nodes; ++i) {
    NodeSpec s;
    s.name = "dev" + std::to_string(i);
    s.address = "127.0.0.1:5005" + std::to_string(i);
    s.part_file = "/models/part" + std::to_string(i) + ".onnx";
    s.key = std::to_string(i);
    s.prediction = "logits" + std::to_string(i);
    s.features = "features" + std::to_string(i);
    c.nodes.push_back(s);
  }
  c.combiners["1+2"] = "/models/combiner_1+2.onnx";
  return c;
}

// Records what a policy asks for and does what the coordinator would to the books.
struct Recorder final : DispatchActions {
  Membership& members;
  explicit Recorder(Membership& m) : members(m) {}
  std::vector<int> sent_to;
  std::vector<std::vector<std::string>> wanted;
  std::vector<runtime::TensorMap> inputs;
  std::vector<Answer> answers;
  std::vector<std::string> failures;
  std::vector<std::string> combined;  // keys
  int requeued = 0;
  std::set<int> refuse;  // members whose link is down

  bool send(Request& req, int m, const runtime::TensorMap& in, const std::vector<std::string>& w) override {
    if (refuse.count(m)) return false;
    sent_to.push_back(m);
    wanted.push_back(w);
    inputs.push_back(in);
    req.waiting.insert(m);
    members[m].in_flight++;
    return true;
  }
  void answer(Request&, Answer a) override { answers.push_back(std::move(a)); }
  void fail(Request&, const std::string& error) override { failures.push_back(error); }
  void combine(Request&, const std::string& key, const std::string&, runtime::TensorMap) override {
    combined.push_back(key);
  }
  void requeue(Request&) override { ++requeued; }
};

void make_ready(Membership& members, std::initializer_list<int> ms) {
  for (int m : ms) members.joined(m, {"input"}, Clock::now());
}

Request request_for(const DispatchPolicy& policy) {
  Request r;
  r.id = 1;
  r.inputs["input"] = scalar(0.5f);
  policy.admit(r);
  return r;
}

// A member's reply as the coordinator hands it over: it no longer holds the request.
void reply(Membership& members, Request& req, int m) {
  req.waiting.erase(m);
  members.replied(m, 1.0, 1);
}

TEST(Membership, ARejoiningMemberStartsFromTheOthersMeanAndOneSlowBatchMovesItAtMost4x) {
  auto config = config_of(Variant::kFluid, Mode::kHighThroughput, 3);
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1});
  members[0].service_ms = 2;
  members[1].service_ms = 4;
  members.went_down(2, "killed", Clock::now());
  members.joined(2, {"input"}, Clock::now());
  EXPECT_DOUBLE_EQ(members[2].service_ms, 3);
  members[0].in_flight = 1;
  members.replied(0, 1000, 1);  // one pathological batch: capped at 4x the estimate
  EXPECT_DOUBLE_EQ(members[0].service_ms, 0.8 * 2 + 0.2 * 8);
  EXPECT_EQ(members[0].in_flight, 0);
  EXPECT_EQ(members[0].answered, 1);
  ASSERT_EQ(members.events().size(), 4u);
  EXPECT_FALSE(members.events()[2].up);
  EXPECT_EQ(members.events()[2].reason, "killed");
}

TEST(RequestBook, AReplyToAnEarlierAttemptIsLateAndAnAnsweredRequestLeavesTheQueue) {
  RequestBook book;
  auto a = std::make_shared<Request>(), b = std::make_shared<Request>();
  book.add(a);
  book.add(b);
  a->attempts = 1;
  a->waiting.insert(0);
  uint64_t first = RequestBook::wire_id(*a);
  a->attempts = 2;  // re-issued
  EXPECT_EQ(book.match_reply(first, 0), nullptr);
  EXPECT_EQ(book.match_reply(RequestBook::wire_id(*a), 0), a.get());
  EXPECT_EQ(book.match_reply(RequestBook::wire_id(*a), 1), nullptr);  // not held by member 1
  EXPECT_EQ(book.late_replies(), 2);
  EXPECT_EQ(book.next_pending(), a.get());
  book.remove(a->id);
  EXPECT_EQ(book.next_pending(), b.get());
  EXPECT_EQ(book.backlog(), 1u);
}

TEST(AutoMode, SwitchesToHtOnBacklogOrLatencyAndBackOnlyWhenBothAreLow) {
  AutoMode mode(30, 4);
  EXPECT_EQ(mode.choose({0, 0}, 2), DispatchMode::kHighAccuracy);
  EXPECT_EQ(mode.choose({8, 10}, 2), DispatchMode::kHighAccuracy);  // backlog at the limit (2 x 4)
  EXPECT_EQ(mode.choose({9, 10}, 2), DispatchMode::kHighThroughput);
  EXPECT_EQ(mode.choose({1, 20}, 2), DispatchMode::kHighThroughput);  // latency not yet under half the target
  EXPECT_EQ(mode.choose({2, 5}, 2), DispatchMode::kHighThroughput);   // queue not yet empty
  EXPECT_EQ(mode.choose({1, 14}, 2), DispatchMode::kHighAccuracy);
  EXPECT_EQ(mode.choose({0, 31}, 2), DispatchMode::kHighThroughput);  // latency past the target
}

TEST(FluidPolicy, HtSendsToTheLeastLoadedMemberTiesToTheFasterAndBlocksWhenNoneHasRoom) {
  auto config = config_of(Variant::kFluid, Mode::kHighThroughput);
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1});
  members[0].service_ms = 5;
  members[1].service_ms = 2;
  FluidPolicy policy(config, members);
  Recorder act(members);
  Request r = request_for(policy);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_EQ(act.sent_to, std::vector<int>{1});  // tie on load: the faster
  EXPECT_EQ(act.wanted[0], std::vector<std::string>{"logits2"});
  EXPECT_EQ(r.attempts, 1);
  Request r2 = request_for(policy);
  ASSERT_EQ(policy.dispatch(r2, {}, act), Dispatch::kSent);
  EXPECT_EQ(act.sent_to.back(), 0);                 // the less loaded
  members[0].in_flight = members[1].in_flight = 2;  // window full everywhere
  Request r3 = request_for(policy);
  EXPECT_EQ(policy.dispatch(r3, {}, act), Dispatch::kBlocked);
  EXPECT_EQ(r3.attempts, 0);
}

TEST(FluidPolicy, HtAnswersWithTheMembersPredictionAndALostRequestGoesBackToTheQueue) {
  auto config = config_of(Variant::kFluid, Mode::kHighThroughput);
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1});
  FluidPolicy policy(config, members);
  Recorder act(members);
  Request r = request_for(policy);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  int m = act.sent_to[0];
  r.waiting.erase(m);
  policy.on_lost(r, m, act);
  EXPECT_EQ(act.requeued, 1);
  EXPECT_TRUE(act.answers.empty());
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_EQ(r.attempts, 2);
  m = act.sent_to.back();
  reply(members, r, m);
  policy.on_outputs(r, m, {{config.nodes[m].prediction, scalar(7)}}, act);
  ASSERT_EQ(act.answers.size(), 1u);
  EXPECT_EQ(act.answers[0].produced_by, config.nodes[m].key);
  EXPECT_EQ(act.answers[0].prediction.data<float>()[0], 7);
}

TEST(FluidPolicy, HaSendsToEveryLiveMemberAndCombinesWhatTheLiveSubsetReturns) {
  auto config = config_of(Variant::kFluid, Mode::kHighAccuracy);
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1});
  FluidPolicy policy(config, members);
  Recorder act(members);
  Request r = request_for(policy);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_EQ(act.sent_to, (std::vector<int>{0, 1}));
  EXPECT_EQ(act.wanted[0], (std::vector<std::string>{"logits1", "features1"}));
  reply(members, r, 1);
  policy.on_outputs(r, 1, {{"logits2", scalar(2)}, {"features2", scalar(2)}}, act);
  EXPECT_TRUE(act.combined.empty());  // member 0 still holds it
  reply(members, r, 0);
  policy.on_outputs(r, 0, {{"logits1", scalar(1)}, {"features1", scalar(1)}}, act);
  EXPECT_EQ(act.combined, std::vector<std::string>{"1+2"});

  // Member 1 dies holding the request after member 0 answered: member 0's prediction answers.
  Request s = request_for(policy);
  ASSERT_EQ(policy.dispatch(s, {}, act), Dispatch::kSent);
  reply(members, s, 0);
  policy.on_outputs(s, 0, {{"logits1", scalar(1)}, {"features1", scalar(1)}}, act);
  s.waiting.erase(1);
  policy.on_lost(s, 1, act);
  ASSERT_EQ(act.answers.size(), 1u);
  EXPECT_EQ(act.answers[0].produced_by, "1");
  EXPECT_EQ(act.requeued, 0);
}

TEST(FluidPolicy, HaWaitsUntilEveryLiveMemberHasRoomAndHasNoCombinerForAnUntrainedSubset) {
  auto config = config_of(Variant::kFluid, Mode::kHighAccuracy, 3);
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1, 2});
  FluidPolicy policy(config, members);
  Recorder act(members);
  members[2].in_flight = 2;
  Request r = request_for(policy);
  EXPECT_EQ(policy.dispatch(r, {}, act), Dispatch::kBlocked);
  EXPECT_TRUE(act.sent_to.empty());
  members[2].in_flight = 0;
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  for (int m : {0, 2}) {
    reply(members, r, m);
    policy.on_outputs(r, m, {{config.nodes[m].prediction, scalar(1)}, {config.nodes[m].features, scalar(1)}}, act);
  }
  r.waiting.erase(1);
  policy.on_lost(r, 1, act);
  ASSERT_EQ(act.failures.size(), 1u);
  EXPECT_NE(act.failures[0].find("no combiner for sub-networks 1+3"), std::string::npos) << act.failures[0];
}

TEST(ChainPolicy, StaticRunsEveryStageOnWhatTheLastProducedAndFailsNamingALostStage) {
  auto config = config_of(Variant::kStatic, Mode::kHighThroughput);
  config.nodes[0].prediction.clear();
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1});
  members.joined(1, {"cut"}, Clock::now());
  ChainPolicy policy(config, members);
  Recorder act(members);
  Request r = request_for(policy);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_EQ(r.mode, DispatchMode::kPipeline);
  EXPECT_TRUE(act.wanted[0].empty());  // mid-chain: everything
  reply(members, r, 0);
  policy.on_outputs(r, 0, {{"cut", scalar(3)}}, act);
  EXPECT_EQ(act.requeued, 1);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_EQ(act.sent_to.back(), 1);
  EXPECT_EQ(act.inputs.back().at("cut").data<float>()[0], 3);
  EXPECT_EQ(act.wanted.back(), std::vector<std::string>{"logits2"});
  r.waiting.erase(1);
  policy.on_lost(r, 1, act);
  ASSERT_EQ(act.failures.size(), 1u);
  EXPECT_NE(act.failures[0].find("node 'dev2'"), std::string::npos) << act.failures[0];
  EXPECT_NE(act.failures[0].find("needs every stage"), std::string::npos) << act.failures[0];

  members.went_down(1, "killed", Clock::now());
  EXPECT_NE(policy.cannot_serve(500).find("'dev2'"), std::string::npos);
}

TEST(ChainPolicy, DynamicAnswersFromGroupOneWhenGroupTwoIsDownAndFailsWithoutGroupOne) {
  auto config = config_of(Variant::kDynamic, Mode::kHighAccuracy);
  Membership members(config.nodes, config.window);
  make_ready(members, {0});
  members.went_down(1, "killed", Clock::now());
  ChainPolicy policy(config, members);
  Recorder act(members);
  Request r = request_for(policy);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_TRUE(policy.last_stage(r));  // group 2 down: group 1 answers, logits only
  EXPECT_EQ(act.wanted[0], std::vector<std::string>{"logits1"});
  reply(members, r, 0);
  policy.on_outputs(r, 0, {{"logits1", scalar(1)}}, act);
  ASSERT_EQ(act.answers.size(), 1u);
  EXPECT_EQ(act.answers[0].produced_by, "1");
  EXPECT_TRUE(policy.cannot_serve(500).empty());

  members.went_down(0, "killed", Clock::now());
  Request s = request_for(policy);
  EXPECT_EQ(policy.dispatch(s, {}, act), Dispatch::kDone);
  ASSERT_EQ(act.failures.size(), 1u);
  EXPECT_NE(act.failures[0].find("holding group 1 is down"), std::string::npos) << act.failures[0];
  EXPECT_NE(policy.cannot_serve(500).find("group 1"), std::string::npos);
}

TEST(ChainPolicy, DynamicInHtStopsAtGroupOne) {
  auto config = config_of(Variant::kDynamic, Mode::kHighThroughput);
  Membership members(config.nodes, config.window);
  make_ready(members, {0, 1});
  ChainPolicy policy(config, members);
  Recorder act(members);
  Request r = request_for(policy);
  ASSERT_EQ(policy.dispatch(r, {}, act), Dispatch::kSent);
  EXPECT_TRUE(policy.last_stage(r));
  reply(members, r, 0);
  policy.on_outputs(r, 0, {{"logits1", scalar(1)}, {"features1", scalar(1)}}, act);
  ASSERT_EQ(act.answers.size(), 1u);
  EXPECT_EQ(act.sent_to, std::vector<int>{0});
}

}  // namespace
}  // namespace fluidedge::cluster
