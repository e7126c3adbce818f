// A model directory: the ONNX parts a deployment runs and its manifest, metrics.json, which says
// what variant the model is, what each part and combiner predicts, and, for a trained one, on
// what and how it was trained. `fluidedge train` and `fluidedge partition` (and the benches)
// write it; cluster.yaml's model: names one; this type is the one reader and writer.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "graph/graph.h"

namespace fluidedge::cluster {

struct ManifestPart {
  std::string file;                                   // its ONNX file, in the directory
  std::string prediction;                             // the key of what it predicts ("1", "1+2", "full")
  nlohmann::json details = nlohmann::json::object();  // the rest as written (role, params, inputs, outputs, ...)
  // Its outputs' names (details' "outputs"), in order.
  std::vector<std::string> output_names() const;
};

struct ModelManifest {
  std::string variant;                         // static, dynamic or fluid
  std::map<std::string, std::string> outputs;  // prediction key -> the full model's output name
  std::vector<ManifestPart> parts, combiners;
  // A trained model's (absent otherwise: empty, -1).
  std::string dataset;
  double train_seconds = 0;
  std::map<std::string, double> accuracy;  // per prediction key
  int64_t params = -1, macs = -1;
  // Every other field, kept as written (made_by, groups, base_model, config, stages, ...).
  nlohmann::json extra = nlohmann::json::object();

  // The epochs it was trained for (extra's config.epochs), or -1.
  int trained_epochs() const;
};

class ModelDirectory {
 public:
  explicit ModelDirectory(std::string path);
  const std::string& path() const { return path_; }
  // DIR/NAME.
  std::string file(const std::string& name) const;
  std::string manifest_path() const { return file("metrics.json"); }
  bool has_manifest() const;
  // Reads and checks the manifest; each problem (none there, not JSON, a field of the wrong
  // type) is an Error naming `who` and the file.
  ModelManifest read(const std::string& who) const;
  // Writes the manifest atomically (creating the directory).
  void write(const ModelManifest& manifest) const;
  // Makes it a Static model directory: stage_1.onnx ... (each written atomically) and the
  // manifest, the last stage predicting `output`. Returns the stage files' paths.
  std::vector<std::string> write_static(const std::vector<graph::Graph>& stages, const std::string& output,
                                        const std::string& made_by) const;

 private:
  std::string path_;
};

}  // namespace fluidedge::cluster
