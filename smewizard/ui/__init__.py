"""The Textual UI. `SmeWizardApp(ctx)` is the app; docs/ui.md describes how steps extend it."""
