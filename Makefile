# How sam build builds each function (template.yaml: `BuildMethod: makefile`). SAM CLI runs
# `make build-<LogicalId>` with ARTIFACTS_DIR set to the function's build folder, in a copy of the
# project (or in the project itself with `sam build --build-in-source`): the copy includes
# node_modules, so run `npm install` before `sam build`. Each target runs scripts/build.ts on the
# project's Node 24 (the `node` package): the same esbuild build as `npm run build`, index.mjs plus
# the chunks/ it imports, so a plan that needs no RE2 or YAML never loads them.
#
# One target per function, its recipe `$(BUILD) <folder under functions/>`: local invoke, the
# rehearsal and the tests read which code a function runs from these lines (local/build-targets.ts).

NODE := node_modules/.bin/node
BUILD = $(if $(ARTIFACTS_DIR),,$(error ARTIFACTS_DIR is not set: sam build sets it; npm run build builds into dist/))$(if $(wildcard $(NODE)),,$(error $(NODE) is missing: run npm install first))$(NODE) scripts/build.ts --outdir "$(ARTIFACTS_DIR)"

.PHONY: build-CodeDeployHookFunction build-EcsLifecycleHookFunction build-EcsPauseGateFunction \
  build-CodeDeployWaitGateFunction build-DurableAnalysisFunction build-ProtonPipelineGuardFunction

build-CodeDeployHookFunction:
	$(BUILD) codedeploy-hook

build-EcsLifecycleHookFunction:
	$(BUILD) ecs-lifecycle-hook

build-EcsPauseGateFunction:
	$(BUILD) ecs-pause-gate

build-CodeDeployWaitGateFunction:
	$(BUILD) codedeploy-wait-gate

build-DurableAnalysisFunction:
	$(BUILD) durable-analysis

build-ProtonPipelineGuardFunction:
	$(BUILD) proton-pipeline-guard
