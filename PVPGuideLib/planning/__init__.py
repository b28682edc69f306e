"""The planning steps: skin entry A, proposed B and C, SPEC section 5 safety, the plan and its attached sections."""
