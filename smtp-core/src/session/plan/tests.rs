//! Planner tests: see below.
