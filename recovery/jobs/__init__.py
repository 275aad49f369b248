"""The nightly jobs: declared as data, run by `recovery scheduler`, rerunnable for any past day."""
