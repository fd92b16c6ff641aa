"""Pipeline stages: chunk, seeds, extract, contracts, fuse, verify, reflect, runner.

Each stage is a function ``run(inputs, progress, cancel)`` over the store; see DESIGN.md.
"""
