"""Core types and small shared tools: CT volume, triangle mesh, the SPEC geometry (frame, angles, lengths), needles."""
