"""Tests of the annual scheme report."""
