"""Small, license-clean datasets shipped inside kerazoo, each with a data card."""
