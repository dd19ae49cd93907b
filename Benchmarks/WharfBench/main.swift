print("wharf-bench: not built yet")
