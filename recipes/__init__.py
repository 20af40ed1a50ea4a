"""kerazoo.recipes: task recipes (config -> data -> model -> strategy -> trainer -> export)."""
