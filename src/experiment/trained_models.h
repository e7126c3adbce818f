// The trained models an experiment needs, made when missing: `fluidedge train` as a child (the
// experiment layer links no libtorch), reused when a training with the same settings is there.
#pragma once

#include <string>

namespace fluidedge::experiment {

struct TrainingReuse {
  bool reused = false;
  double seconds = 0;  // the training's time (when reused: what it took then)
};

// Trains `variant` into MODELS/VARIANT with `tool` (the fluidedge binary) unless a training with
// the same data and epochs is there (its manifest), which is reused; one with other settings is
// an Error (nothing is overwritten). `who` names the experiment in the progress line and errors.
TrainingReuse ensure_trained(const std::string& tool, const std::string& models, const std::string& variant,
                             const std::string& data, int epochs, const std::string& who);

}  // namespace fluidedge::experiment
