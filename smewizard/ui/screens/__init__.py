"""Step views. `step.py` is the generic one; `<stepkey>.py` modules add a step's state panel."""
