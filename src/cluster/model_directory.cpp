#include "cluster/model_directory.h"

#include <algorithm>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/files.h"
#include "graph/onnx_io.h"

namespace fluidedge::cluster {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr const char* kTypedFields[] = {"variant",       "outputs",  "parts",  "combiners", "dataset",
                                        "train_seconds", "accuracy", "params", "macs"};

std::vector<ManifestPart> read_parts(const Json& j, const char* key, const std::string& where) {
  std::vector<ManifestPart> parts;
  if (!j.contains(key)) return parts;
  if (!j[key].is_array()) fail("{}: '{}' must be a list", where, key);
  for (const Json& p : j[key]) {
    if (!p.is_object() || !p.contains("file") || !p["file"].is_string())
      fail("{}: every entry of '{}' needs a 'file'", where, key);
    ManifestPart part;
    part.file = p["file"].get<std::string>();
    part.prediction = p.value("prediction", "");
    for (const auto& [field, value] : p.items())
      if (field != "file" && field != "prediction") part.details[field] = value;
    parts.push_back(std::move(part));
  }
  return parts;
}

Json write_parts(const std::vector<ManifestPart>& parts) {
  Json list = Json::array();
  for (const ManifestPart& p : parts) {
    Json j = p.details.is_object() ? p.details : Json::object();
    j["file"] = p.file;
    j["prediction"] = p.prediction;
    list.push_back(j);
  }
  return list;
}

}  // namespace

std::vector<std::string> ManifestPart::output_names() const {
  std::vector<std::string> names;
  if (details.contains("outputs") && details["outputs"].is_array())
    for (const Json& o : details["outputs"])
      if (o.is_object()) names.push_back(o.value("name", ""));
  return names;
}

int ModelManifest::trained_epochs() const {
  if (!extra.contains("config") || !extra["config"].is_object()) return -1;
  return extra["config"].value("epochs", -1);
}

ModelDirectory::ModelDirectory(std::string path) : path_(std::move(path)) {}

std::string ModelDirectory::file(const std::string& name) const {
  return (fs::path(path_) / name).lexically_normal().string();
}

bool ModelDirectory::has_manifest() const { return fs::exists(manifest_path()); }

ModelManifest ModelDirectory::read(const std::string& who) const {
  const std::string where = who + ": " + manifest_path();
  if (!has_manifest())
    fail(
        "{}: model directory '{}' has no metrics.json (train it with `fluidedge train --out`, or make Static stages "
        "with `fluidedge partition --out`)",
        who, path_);
  Json j;
  try {
    j = Json::parse(read_file(manifest_path(), "the model directory's metrics.json"));
  } catch (const Json::exception& e) {
    fail("{}: not valid JSON: {}", where, e.what());
  }
  if (!j.is_object()) fail("{}: not a model directory's manifest (a JSON object)", where);
  ModelManifest m;
  try {
    m.variant = j.value("variant", "");
    const Json outputs = j.value("outputs", Json::object()), accuracy = j.value("accuracy", Json::object());
    for (const auto& [key, value] : outputs.items()) m.outputs[key] = value.get<std::string>();
    m.parts = read_parts(j, "parts", where);
    m.combiners = read_parts(j, "combiners", where);
    m.dataset = j.value("dataset", "");
    m.train_seconds = j.value("train_seconds", 0.0);
    for (const auto& [key, value] : accuracy.items()) m.accuracy[key] = value.get<double>();
    m.params = j.value("params", int64_t{-1});
    m.macs = j.value("macs", int64_t{-1});
  } catch (const Json::exception& e) {
    fail("{}: a field of the wrong type: {}", where, e.what());
  }
  for (const auto& [field, value] : j.items())
    if (std::find(std::begin(kTypedFields), std::end(kTypedFields), field) == std::end(kTypedFields))
      m.extra[field] = value;
  return m;
}

void ModelDirectory::write(const ModelManifest& m) const {
  Json j = m.extra.is_object() ? m.extra : Json::object();
  j["variant"] = m.variant;
  j["outputs"] = Json(m.outputs);
  j["parts"] = write_parts(m.parts);
  j["combiners"] = write_parts(m.combiners);
  if (!m.dataset.empty()) j["dataset"] = m.dataset;
  if (m.train_seconds > 0) j["train_seconds"] = m.train_seconds;
  if (!m.accuracy.empty()) j["accuracy"] = Json(m.accuracy);
  if (m.params >= 0) j["params"] = m.params;
  if (m.macs >= 0) j["macs"] = m.macs;
  std::error_code ec;
  fs::create_directories(path_, ec);
  write_file_atomically(manifest_path(), "", j.dump(2) + "\n");
}

std::vector<std::string> ModelDirectory::write_static(const std::vector<graph::Graph>& stages,
                                                      const std::string& output, const std::string& made_by) const {
  std::error_code ec;
  fs::create_directories(path_, ec);
  ModelManifest manifest;
  manifest.variant = "static";
  manifest.outputs["full"] = output;
  manifest.extra["made_by"] = made_by;
  std::vector<std::string> files;
  for (size_t s = 0; s < stages.size(); ++s) {
    const std::string name = "stage_" + std::to_string(s + 1) + ".onnx";
    files.push_back((fs::path(path_) / name).string());
    write_file_atomically(files.back(), "", graph::serialize_onnx(stages[s]));
    manifest.parts.push_back({name, "full"});
  }
  write(manifest);
  return files;
}

}  // namespace fluidedge::cluster
