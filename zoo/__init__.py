"""kerazoo.zoo: reference CNN, LSTM and MLP builders behind one registry, with presets."""
