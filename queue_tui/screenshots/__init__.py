"""The dashboard on the seeded demo hub with time frozen, for snapshots and screenshots.

It puts the dashboard (`tui`) and the demo hub (`demo`) together, which neither may do
for itself: `python -m queue_tui.screenshots [OUT_DIR] [--png]` renders `screenshots/`.
"""
