#include "experiment/trained_models.h"

#include <chrono>
#include <filesystem>
#include <iostream>

#include "cluster/model_directory.h"
#include "common/error.h"
#include "common/subprocess.h"

namespace fluidedge::experiment {

TrainingReuse ensure_trained(const std::string& tool, const std::string& models, const std::string& variant,
                             const std::string& data, int epochs, const std::string& who) {
  const std::string dir = (std::filesystem::path(models) / variant).string();
  const cluster::ModelDirectory model_dir(dir);
  if (model_dir.has_manifest()) {
    cluster::ModelManifest m;
    try {
      m = model_dir.read(who);
    } catch (const Error& e) {
      fail("{}: remove {} or pass another --models", e.what(), dir);
    }
    const int had_epochs = m.trained_epochs();
    if (m.dataset != data || had_epochs != epochs)
      fail("{}: {} holds a {} model trained {} epochs on {}, not {} epochs on {}: remove it or pass another --models",
           who, dir, variant, had_epochs, m.dataset.empty() ? "?" : m.dataset, epochs, data);
    return {true, m.train_seconds};
  }
  std::cerr << who << ": training the " << variant << " model (" << epochs << " epochs on " << data << ") into " << dir
            << std::endl;
  const auto start = std::chrono::steady_clock::now();
  int code = run_command(
      {tool, "train", "--variant", variant, "--data", data, "--epochs", std::to_string(epochs), "--out", dir},
      /*stdout_to_stderr=*/true);
  if (code != 0) fail("{}: training the {} model failed (exit {})", who, variant, code);
  return {false, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()};
}

}  // namespace fluidedge::experiment
