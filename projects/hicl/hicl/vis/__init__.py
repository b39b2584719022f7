"""Looking at point clouds: colours (colours), top-down PNG views (top_down), the paper's figures (figures), PLY files
(ply) and the self-contained HTML viewer (viewer, its page in viewer_page/). Nothing here imports the evaluation,
models or datasets packages: they pass plain arrays and palettes in."""
