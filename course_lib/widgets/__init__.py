"""Interactive helpers the chapters use (drawing in matplotlib, controls in ipywidgets)."""
from .conv_explorer import conv_explorer, draw_conv_window, window_of_output

__all__ = ["conv_explorer", "draw_conv_window", "window_of_output"]
