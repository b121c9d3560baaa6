// Compiled with the framework's include paths only, by Layering.FrameworkCannotIncludeABaseline,
// which passes when this include is not found: framework code cannot reach a baseline.
#include "baselines/sasrec/sasrec.h"
