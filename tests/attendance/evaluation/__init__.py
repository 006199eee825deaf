"""Tests of the scheme evaluation: statistics, imports, reports, replay."""
