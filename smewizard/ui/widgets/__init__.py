"""Widgets shared by the app shell and the step views."""
