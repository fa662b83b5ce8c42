"""Test helpers shipped for plugin authors: fixtures and a ready dev server."""
