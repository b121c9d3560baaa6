# find_package(seqrec): the installed seqrec libraries (seqrec::seqrec_lib, the framework, with
# LibTorch as its dependency; seqrec::seqrec_baselines, the built-in models and losses, for a
# plugin that builds on one) and seqrec_add_plugin(NAME SOURCES...), which builds NAME.so, a plugin the
# installed `seqrec` loads with `--plugin PATH` (or from its bin/plugins directory).
include(CMakeFindDependencyMacro)
find_dependency(Torch)
find_dependency(nlohmann_json 3)  # seqrec/run_result.h includes it
include("${CMAKE_CURRENT_LIST_DIR}/seqrecTargets.cmake")

function(seqrec_add_plugin name)
  if(NOT ARGN)
    message(FATAL_ERROR "seqrec_add_plugin(${name}): give the plugin's source files")
  endif()
  add_library(${name} MODULE ${ARGN})
  target_link_libraries(${name} PRIVATE seqrec::seqrec_baselines)
  set_target_properties(${name} PROPERTIES PREFIX "" CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON)
endfunction()
