"""The benchmark's scenarios, one module each; each exposes `KEY`, `TITLE`, `NEEDS` (outside
tools: "nginx", "h2load") and `async run(settings, work_dir) -> ScenarioResult`."""
