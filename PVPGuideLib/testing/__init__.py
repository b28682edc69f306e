"""Test scenarios shared by the pytest suite and the module's self-test; imported only when a test runs."""
