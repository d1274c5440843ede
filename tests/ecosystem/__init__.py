"""A freqtrade user's own environment: install, own strategy, freqtrade-native CLI."""
