"""Simulated C-arm views (SPEC section 10): DRRs in the vertebra's true AP and lateral, the classic checkpoint."""

from .checkpoint import Checkpoint, classic_checkpoint
from .picture import drr_rgb
from .project import DRR, DRRError, project, view_axes

__all__ = ["DRR", "Checkpoint", "DRRError", "classic_checkpoint", "drr_rgb", "project", "view_axes"]
