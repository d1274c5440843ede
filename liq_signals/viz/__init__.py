"""Heatmap figures (plotly page, matplotlib PNG) and the freqtrade ``plot-dataframe`` hook."""
