print("wharfd: not built yet")
