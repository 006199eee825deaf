"""Scheme evaluation: participation against module outcomes, and survey results.

Coordinators import module enrolments and results from the student records system (CSV); the
imports are internal events in the attendance log, so a replay rebuilds everything. Projections
keep per-student-per-module attendance counts, enrolments, results and feedback tallies; the
statistics (group means, rates, Welch's t-test, Cohen's d) are computed when a report is asked
for, from those tables.
"""
